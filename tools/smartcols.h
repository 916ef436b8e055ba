/* libsmartcols, loaded on first use (see inspect/lazylib.h): only tools that print tables pay for it. */
#ifndef CTK_SMARTCOLS_H
#define CTK_SMARTCOLS_H

#include <libsmartcols.h>

#include "inspect/lazylib.h"

#define SMARTCOLS_SYMBOLS(X)                                                                   \
	X(scols_new_table) X(scols_unref_table) X(scols_table_enable_json)                     \
	X(scols_table_enable_raw) X(scols_table_enable_noheadings) X(scols_table_set_name)     \
	X(scols_table_new_column) X(scols_table_get_column) X(scols_column_set_json_type)      \
	X(scols_column_set_flags) X(scols_column_get_flags) X(scols_table_new_line)            \
	X(scols_line_set_data) X(scols_line_refer_data) X(scols_print_table)                  \
	X(scols_print_table_to_string)

struct smartcols {
	SMARTCOLS_SYMBOLS(INS_LAZY_MEMBER)
};

extern struct smartcols smartcols;
int smartcols_load(struct ins_error *err);

#endif
