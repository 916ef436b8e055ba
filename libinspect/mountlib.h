/* libmount, loaded on first use (see inspect/lazylib.h). Internal to libinspect. */
#ifndef INSPECT_MOUNTLIB_H
#define INSPECT_MOUNTLIB_H

#include <libmount.h>

#include "inspect/lazylib.h"

#define LIBMOUNT_SYMBOLS(X)                                                                    \
	X(mnt_new_table_from_file) X(mnt_unref_table) X(mnt_new_iter) X(mnt_free_iter)         \
	X(mnt_table_next_fs) X(mnt_fs_get_root) X(mnt_fs_get_target) X(mnt_fs_match_fstype)    \
	X(mnt_fs_get_fs_options) X(mnt_optstr_get_option)

struct libmount {
	LIBMOUNT_SYMBOLS(INS_LAZY_MEMBER)
};

extern struct libmount libmount;
int libmount_load(struct ins_error *err);

/* The mount table of PATH (a mountinfo file), parsed by libmount; NULL with ERR set. */
struct libmnt_table *ins_mount_table(const char *path, struct ins_error *err);

#endif
