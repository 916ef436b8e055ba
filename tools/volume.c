/* ctk volume: the volumes in CTK_ROOT/volumes: ls, inspect, rm, prune. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect/volume.h"

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s ls [options]\n"
		"       %s inspect NAME...\n"
		"       %s rm NAME...\n"
		"       %s prune\n"
		"\n"
		"Manage volumes: anonymous ones (run -v /path) and named ones (run -v NAME:/path),\n"
		"each a directory CTK_ROOT/volumes/NAME/_data on the host.\n"
		"\n"
		"ls takes the table options:\n"
		CLI_TABLE_USAGE
		"inspect prints each volume as JSON; rm refuses a volume a container uses;\n"
		"prune removes every volume no container uses.\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog, prog, prog, prog);
}

enum { COL_DRIVER, COL_NAME, COL_MOUNTPOINT, COL_CONTAINERS, COL_ANONYMOUS, COL_CREATED };

static const struct cli_column columns[] = {
	[COL_DRIVER] = { "DRIVER", 0, 0, SCOLS_JSON_STRING, "the volume driver (always local)" },
	[COL_NAME] = { "NAME", 0, 0, SCOLS_JSON_STRING, "the volume's name (a random id when anonymous)" },
	[COL_MOUNTPOINT] = { "MOUNTPOINT", 0, 0, SCOLS_JSON_STRING, "its data directory on the host" },
	[COL_CONTAINERS] = { "CONTAINERS", 0, 0, SCOLS_JSON_STRING, "the containers that use it (short ids), comma-separated" },
	[COL_ANONYMOUS] = { "ANONYMOUS", 0, 0, SCOLS_JSON_BOOLEAN, "whether it was made without a name" },
	[COL_CREATED] = { "CREATED", 0, 0, SCOLS_JSON_STRING, "when it was made (RFC 3339)" },
};
static const int defaults[] = { COL_DRIVER, COL_NAME, COL_MOUNTPOINT, COL_CONTAINERS };

static char *users_list(const struct ins_volume *v)
{
	size_t n = 0;
	char *s;

	while (v->users[n])
		n++;
	s = calloc(1, n * 14 + 1);
	for (size_t i = 0; s && i < n; i++)
		sprintf(s + strlen(s), "%s%.12s", i ? "," : "", v->users[i]);
	return s;
}

static int fill(const struct cli_table *t, struct libscols_line *ln, const struct ins_volume *v)
{
	int rc = 0;

	for (size_t i = 0; i < t->ncols && rc == 0; i++) {
		switch (t->cols[i]) {
		case COL_DRIVER:
			rc = smartcols.scols_line_set_data(ln, i, "local");
			break;
		case COL_NAME:
			rc = smartcols.scols_line_set_data(ln, i, v->name);
			break;
		case COL_MOUNTPOINT:
			rc = smartcols.scols_line_set_data(ln, i, v->mountpoint);
			break;
		case COL_CONTAINERS:
			rc = smartcols.scols_line_refer_data(ln, i, users_list(v));
			break;
		case COL_ANONYMOUS:
			rc = smartcols.scols_line_set_data(ln, i, v->anonymous ? "yes" : "no");
			break;
		case COL_CREATED:
			rc = smartcols.scols_line_set_data(ln, i, v->created);
			break;
		}
	}
	return rc;
}

static int cmd_ls(const char *prog, int argc, char **argv, struct ins_store *s)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		CLI_TABLE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_table t = { 0 };
	struct libscols_table *tb;
	struct ins_volume *vs = NULL;
	struct ins_error err;
	size_t n = 0;
	int opt, rc = EXIT_OK;

	while ((opt = getopt_long(argc, argv, "h" CLI_TABLE_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_table_opt(&t, opt, optarg))
			continue;
		if (opt == 'h') {
			usage(stdout, prog);
			return EXIT_OK;
		}
		return cli_usage_hint(prog);
	}
	if (optind < argc)
		return cli_usage_error(prog, "ls takes no arguments");
	if (cli_table_setup(&t, prog, CLI_ARRAY(columns), CLI_ARRAY(defaults), &rc))
		return rc;
	if (ins_volume_list(s, &vs, &n, &err) < 0 || !(tb = cli_table_new(&t, columns, "volumes", &err))) {
		ins_volume_list_free(vs, n);
		return cli_fail(prog, &err);
	}
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		struct libscols_line *ln = smartcols.scols_table_new_line(tb, NULL);

		if (!ln || fill(&t, ln, &vs[i]) < 0)
			rc = EXIT_ERROR;
	}
	ins_volume_list_free(vs, n);
	return cli_table_end(tb, prog, rc);
}

static int cmd_inspect(const char *prog, int argc, char **argv, struct ins_store *s)
{
	json_t *all = json_array();
	int rc = EXIT_OK;

	for (int i = 1; all && i < argc; i++) {
		struct ins_volume v;
		struct ins_error err;
		json_t *users = json_array();

		if (ins_volume_load(s, argv[i], &v, &err) < 0) {
			json_decref(users);
			rc = cli_fail(prog, &err);
			continue;
		}
		for (size_t u = 0; users && v.users[u]; u++)
			json_array_append_new(users, json_string(v.users[u]));
		json_array_append_new(all, json_pack("{s:s,s:s,s:s,s:s,s:b,s:o}", "name", v.name, "driver", "local",
						     "mountpoint", v.mountpoint, "created", v.created, "anonymous",
						     v.anonymous, "containers", users));
		ins_volume_free(&v);
	}
	if (!all)
		return EXIT_ERROR;
	json_dumpf(all, stdout, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(all);
	return rc;
}

static int cmd_rm(const char *prog, int argc, char **argv, struct ins_store *s)
{
	int rc = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		struct ins_error err;

		if (ins_volume_remove(s, argv[i], &err) < 0)
			rc = cli_fail(prog, &err);
		else
			printf("%s\n", argv[i]);
	}
	return rc;
}

static int cmd_prune(const char *prog, int argc, char **argv, struct ins_store *s)
{
	struct ins_error err;
	size_t count;

	(void)argv;
	if (argc > 1)
		return cli_usage_error(prog, "prune takes no arguments");
	if (ins_volume_prune(s, &count, &err) < 0)
		return cli_fail(prog, &err);
	printf("%zu volume%s removed\n", count, count == 1 ? "" : "s");
	return EXIT_OK;
}

int tool_volume(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const char *prog, int argc, char **argv, struct ins_store *s);
		bool needs_args;
	} cmds[] = { { "ls", cmd_ls, false }, { "inspect", cmd_inspect, true },
		     { "rm", cmd_rm, true }, { "prune", cmd_prune, false } };
	const char *prog = argv[0];
	struct ins_store s;
	int rc;

	if (argc < 2)
		return cli_usage_error(prog, "a command is needed: ls, inspect, rm or prune");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout, prog);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (cmds[i].needs_args && argc < 3)
			return cli_usage_error(prog, "%s takes one or more NAMEs", argv[1]);
		if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
			return rc;
		rc = cmds[i].run(prog, argc - 1, argv + 1, &s);
		ins_store_close(&s);
		return rc;
	}
	return cli_usage_error(prog, "unknown command: %s", argv[1]);
}
