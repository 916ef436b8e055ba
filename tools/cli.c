#include <ctype.h>
#include <signal.h>
#include <sys/wait.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "inspect/container.h"
#include "inspect/store.h"

INS_LAZYLIB_DEFINE(smartcols, "libsmartcols.so.1", SMARTCOLS_SYMBOLS)

static void vwarn_prog(const char *prog, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_warn(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_prog(prog, fmt, ap);
	va_end(ap);
}

int cli_fail(const char *prog, const struct ins_error *err)
{
	cli_warn(prog, "%s", err->msg);
	return EXIT_ERROR;
}

int cli_usage_hint(const char *prog)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_prog(prog, fmt, ap);
	va_end(ap);
	return cli_usage_hint(prog);
}

bool cli_table_opt(struct cli_table *t, int c, const char *arg)
{
	switch (c) {
	case 'J':
		t->json = true;
		return true;
	case 'r':
		t->raw = true;
		return true;
	case 'n':
		t->noheadings = true;
		return true;
	case 'o':
		t->output = arg;
		return true;
	case CLI_OPT_LIST_COLUMNS:
		t->list_columns = true;
		return true;
	}
	return false;
}

static int column_id(const struct cli_column *columns, size_t ncolumns, const char *name,
		     size_t len)
{
	for (size_t i = 0; i < ncolumns; i++)
		if (strlen(columns[i].name) == len && strncasecmp(columns[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static int add_column(struct cli_table *t, const char *prog, int id)
{
	if (t->ncols == CLI_MAX_COLUMNS) {
		cli_usage_error(prog, "too many columns");
		return -1;
	}
	t->cols[t->ncols++] = id;
	return 0;
}

static int cli_table_columns(struct cli_table *t, const char *prog, const struct cli_column *columns,
			     size_t ncolumns, const int *defaults, size_t ndefaults)
{
	const char *list = t->output;

	t->ncols = 0;
	if (!list || *list == '+') {
		for (size_t i = 0; i < ndefaults; i++)
			if (add_column(t, prog, defaults[i]) < 0)
				return -1;
		if (!list)
			return 0;
		list++;
	}
	while (*list) {
		size_t len = strcspn(list, ",");
		int id = column_id(columns, ncolumns, list, len);

		if (id < 0) {
			cli_usage_error(prog, "unknown column: %.*s", (int)len, list);
			return -1;
		}
		if (add_column(t, prog, id) < 0)
			return -1;
		list += len;
		if (*list == ',')
			list++;
	}
	if (t->ncols == 0) {
		cli_usage_error(prog, "no columns selected");
		return -1;
	}
	return 0;
}

static void apply_format(const struct cli_table *t, struct libscols_table *tb)
{
	smartcols.scols_table_enable_json(tb, t->json);
	smartcols.scols_table_enable_raw(tb, t->raw);
	smartcols.scols_table_enable_noheadings(tb, t->noheadings);
}

static char *json_key(const char *name)
{
	char *key = strdup(name);

	for (char *p = key; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return key;
}

struct libscols_table *cli_table_new(const struct cli_table *t, const struct cli_column *columns,
				     const char *name, struct ins_error *err)
{
	struct libscols_table *tb;

	if (smartcols_load(err) < 0)
		return NULL;
	tb = smartcols.scols_new_table();
	if (!tb)
		return ins_err_sys(err, ENOMEM, "table"), NULL;
	apply_format(t, tb);
	smartcols.scols_table_set_name(tb, name);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct cli_column *c = &columns[t->cols[i]];
		struct libscols_column *cl = smartcols.scols_table_new_column(tb, c->name, c->whint, c->flags);

		if (!cl) {
			smartcols.scols_unref_table(tb);
			return ins_err_sys(err, ENOMEM, "table"), NULL;
		}
		smartcols.scols_column_set_json_type(cl, c->json_type);
	}
	return tb;
}

bool cli_table_has(const struct cli_table *t, int col)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (t->cols[i] == col)
			return true;
	return false;
}

int cli_table_print(struct libscols_table *tb, const char *prog)
{
	int rc = smartcols.scols_print_table(tb);

	smartcols.scols_unref_table(tb);
	if (rc != 0 || fflush(stdout) != 0) {
		cli_warn(prog, "write error");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int cli_table_end(struct libscols_table *tb, const char *prog, int rc)
{
	if (rc == EXIT_OK)
		return cli_table_print(tb, prog);
	smartcols.scols_unref_table(tb);
	cli_warn(prog, "out of memory");
	return rc;
}

static int cli_table_list_columns(const struct cli_table *t, const char *prog,
				  const struct cli_column *columns, size_t ncolumns)
{
	struct libscols_table *tb;
	struct ins_error err;

	if (smartcols_load(&err) < 0)
		return cli_fail(prog, &err);
	tb = smartcols.scols_new_table();
	if (!tb)
		return EXIT_ERROR;
	apply_format(t, tb);
	smartcols.scols_table_set_name(tb, "columns");
	smartcols.scols_table_new_column(tb, "NAME", 0, 0);
	smartcols.scols_table_new_column(tb, "KEY", 0, 0);
	smartcols.scols_table_new_column(tb, "DESCRIPTION", 0, 0);
	for (size_t i = 0; i < ncolumns; i++) {
		struct libscols_line *ln = smartcols.scols_table_new_line(tb, NULL);
		char *key = json_key(columns[i].name);

		if (!ln || !key) {
			free(key);
			smartcols.scols_unref_table(tb);
			return EXIT_ERROR;
		}
		smartcols.scols_line_set_data(ln, 0, columns[i].name);
		smartcols.scols_line_refer_data(ln, 1, key);
		smartcols.scols_line_set_data(ln, 2, columns[i].help);
	}
	return cli_table_print(tb, prog);
}

bool cli_table_setup(struct cli_table *t, const char *prog, const struct cli_column *columns,
		     size_t ncolumns, const int *defaults, size_t ndefaults, int *rc)
{
	if (t->list_columns)
		*rc = cli_table_list_columns(t, prog, columns, ncolumns);
	else if (cli_table_columns(t, prog, columns, ncolumns, defaults, ndefaults) < 0)
		*rc = EXIT_USAGE;
	else
		return false;
	return true;
}

int cli_open_store(const char *prog, struct ins_store *s)
{
	struct ins_error err;

	if (ins_store_open(NULL, s, &err) < 0)
		return cli_fail(prog, &err);
	return EXIT_OK;
}

int cli_each_container(const char *prog, int argc, char **argv, cli_container_fn *act, void *arg)
{
	struct ins_store s;
	int rc;

	if (optind >= argc)
		return cli_usage_error(prog, "one or more CONTAINERs are needed");
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	for (int i = optind; i < argc; i++) {
		struct ins_container c;
		struct ins_error err;

		if (ins_container_load(&s, argv[i], &c, &err) < 0 || act(&s, &c, arg, &err) < 0)
			rc = cli_fail(prog, &err);
		else
			printf("%s\n", argv[i]);
		ins_container_free(&c);
	}
	ins_store_close(&s);
	return rc;
}

int cli_load_container(const char *prog, int argc, char **argv, struct ins_store *s, struct ins_container *c)
{
	struct ins_error err;
	int rc;

	if (optind != argc - 1)
		return cli_usage_error(prog, "exactly one CONTAINER is needed");
	if ((rc = cli_open_store(prog, s)) != EXIT_OK)
		return rc;
	if (ins_container_load(s, argv[optind], c, &err) < 0) {
		ins_store_close(s);
		return cli_fail(prog, &err);
	}
	return EXIT_OK;
}

int cli_parse_plain(int argc, char **argv, void (*usage)(FILE *, const char *))
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (opt != 'h')
			return cli_usage_hint(argv[0]);
		usage(stdout, argv[0]);
		exit(EXIT_OK);
	}
	return EXIT_OK;
}

int cli_status_of(int wstatus)
{
	if (WIFSIGNALED(wstatus)) {
		signal(WTERMSIG(wstatus), SIG_DFL);
		raise(WTERMSIG(wstatus));
		return 128 + WTERMSIG(wstatus); /* a signal whose default is to be ignored */
	}
	return WEXITSTATUS(wstatus);
}
