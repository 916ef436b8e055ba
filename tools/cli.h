/*
 * What every ctk tool shares: exit codes, messages, and the column-table
 * flags (-J, -r, -n, -o, --list-columns) on top of libsmartcols.
 */
#ifndef CTK_CLI_H
#define CTK_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "inspect/error.h"
#include "smartcols.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

/* Each tool's entry point: argv[0] is "ctk TOOL". Returns the exit code. */
int tool_ns(int argc, char **argv);
int tool_enter(int argc, char **argv);
int tool_image(int argc, char **argv);
int tool_run(int argc, char **argv);
int tool_ps(int argc, char **argv);
int tool_logs(int argc, char **argv);
int tool_stop(int argc, char **argv);
int tool_kill(int argc, char **argv);
int tool_wait(int argc, char **argv);
int tool_rm(int argc, char **argv);
int tool_exec(int argc, char **argv);
int tool_volume(int argc, char **argv);
int tool_diff(int argc, char **argv);
int tool_commit(int argc, char **argv);
int tool_layers(int argc, char **argv);

/* "ctk TOOL: message" on stderr. */
void cli_warn(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints ERR's message; returns EXIT_ERROR. */
int cli_fail(const char *prog, const struct ins_error *err);
/* The hint to --help after getopt's own message; returns EXIT_USAGE. */
int cli_usage_hint(const char *prog);
/* "ctk TOOL: message" plus a hint to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The exit code that reproduces a child's WSTATUS. A child killed by a
 * signal is mirrored by raising that signal here, so this does not return.
 */
int cli_status_of(int wstatus);

struct ins_store;
/* Opens the store in CTK_ROOT; prints why not and returns EXIT_ERROR when it cannot. */
int cli_open_store(const char *prog, struct ins_store *s);

struct ins_container;
struct ins_error;
/* What a tool does to one container; -1 with ERR set when it cannot. */
typedef int cli_container_fn(struct ins_store *s, struct ins_container *c, void *arg,
			     struct ins_error *err);
/*
 * For the tools that act on CONTAINER... (argv from optind on): opens the
 * store and calls ACT on each, printing its name when done and why not
 * when it fails. Returns the exit code: EXIT_ERROR if any failed.
 */
int cli_each_container(const char *prog, int argc, char **argv, cli_container_fn *act, void *arg);

/*
 * For the tools that act on one CONTAINER (argv[optind], the last
 * argument): opens the store into *S and loads the container into *C;
 * otherwise says why and returns the exit code (S and C left closed).
 */
int cli_load_container(const char *prog, int argc, char **argv, struct ins_store *s, struct ins_container *c);

/*
 * Parses argv for a tool whose only option is -h (its own usage); returns
 * EXIT_OK with optind at the first argument, or a usage code.
 */
int cli_parse_plain(int argc, char **argv, void (*usage)(FILE *, const char *));

/* One column a tool can show. */
struct cli_column {
	const char *name; /* header; lower-cased it is the JSON key */
	double whint;
	int flags; /* SCOLS_FL_* */
	int json_type; /* SCOLS_JSON_* */
	const char *help;
};

#define CLI_MAX_COLUMNS 64

struct cli_table {
	bool json, raw, noheadings, list_columns;
	const char *output; /* -o argument */
	int cols[CLI_MAX_COLUMNS]; /* selected column ids, in output order */
	size_t ncols;
};

enum { CLI_OPT_LIST_COLUMNS = 0x1000 };

#define CLI_TABLE_SHORTOPTS "Jrno:"
#define CLI_TABLE_LONGOPTS                                              \
	{ "json", no_argument, NULL, 'J' },                             \
	{ "raw", no_argument, NULL, 'r' },                              \
	{ "noheadings", no_argument, NULL, 'n' },                       \
	{ "output", required_argument, NULL, 'o' },                     \
	{ "list-columns", no_argument, NULL, CLI_OPT_LIST_COLUMNS }

#define CLI_TABLE_USAGE                                                          \
	" -J, --json             use JSON output format\n"                        \
	" -r, --raw              use the raw output format\n"                     \
	" -n, --noheadings       don't print headings\n"                          \
	" -o, --output COLS      the columns to show (+COLS adds to the defaults)\n" \
	"     --list-columns     list the columns that can be shown\n"

/* Handles a table option; returns true when C was one. */
bool cli_table_opt(struct cli_table *t, int c, const char *arg);

/* An array and its length, for the column and defaults arguments below. */
#define CLI_ARRAY(a) (a), (sizeof(a) / sizeof((a)[0]))
/*
 * The step every table tool takes after its options: prints COLUMNS and
 * their descriptions for --list-columns (honouring -J/-r/-n), else resolves
 * -o against them (DEFAULTS when absent; "+LIST" appends to them). Returns
 * true when the tool is done, with the exit code it returns in *RC
 * (untouched otherwise).
 */
bool cli_table_setup(struct cli_table *t, const char *prog, const struct cli_column *columns,
		     size_t ncolumns, const int *defaults, size_t ndefaults, int *rc);

/*
 * A libsmartcols table with T's format and selected COLUMNS; NAME is the
 * JSON array key. Loads libsmartcols: call it before any other scols call.
 */
struct libscols_table *cli_table_new(const struct cli_table *t, const struct cli_column *columns,
				     const char *name, struct ins_error *err);

/* True when the column COL is among the selected ones. */
bool cli_table_has(const struct cli_table *t, int col);

/* Prints TB to stdout and frees it; returns an exit code. */
int cli_table_print(struct libscols_table *tb, const char *prog);
/*
 * The end of a tool that filled TB row by row: with RC EXIT_OK prints it,
 * else frees it and says that memory ran out (the one way a row cannot be
 * made). Returns the exit code.
 */
int cli_table_end(struct libscols_table *tb, const char *prog, int rc);

#endif
