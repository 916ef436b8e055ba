/* ctk ps: ctk's containers, running ones or (-a) all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect/container.h"

enum { COL_ID, COL_NAME, COL_IMAGE, COL_COMMAND, COL_STATUS, COL_PID, COL_CREATED, COL_EXIT, COL_CGROUP };

static const struct cli_column columns[] = {
	[COL_ID] = { "ID", 0, 0, SCOLS_JSON_STRING, "the container id (shortened in tables)" },
	[COL_NAME] = { "NAME", 0, 0, SCOLS_JSON_STRING, "the container's name" },
	[COL_IMAGE] = { "IMAGE", 0, 0, SCOLS_JSON_STRING, "the image it was made from" },
	[COL_COMMAND] = { "COMMAND", 0, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "PID 1's command line: entrypoint and command" },
	[COL_STATUS] = { "STATUS", 0, 0, SCOLS_JSON_STRING, "created, running, exited or dead (gone unseen)" },
	[COL_PID] = { "PID", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "PID 1 as the host sees it, while running" },
	[COL_CREATED] = { "CREATED", 0, 0, SCOLS_JSON_STRING, "when it was made (RFC 3339)" },
	[COL_EXIT] = { "EXIT", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "the exit code, once exited (128+N: killed by signal N)" },
	[COL_CGROUP] = { "CGROUP", 0, 0, SCOLS_JSON_STRING, "its cgroup path" },
};
static const int defaults[] = { COL_ID, COL_NAME, COL_IMAGE, COL_COMMAND, COL_STATUS, COL_PID, COL_CREATED };

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options]\n"
		"\n"
		"List ctk's containers (CTK_ROOT, default /var/lib/ctk): the running ones,\n"
		"or with -a all of them.\n"
		"\n"
		"Options:\n"
		" -a, --all              also containers that are not running\n"
		CLI_TABLE_USAGE
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog);
}

static int fill(const struct cli_table *t, struct libscols_line *ln, const struct ins_container *c)
{
	enum ins_container_status st = ins_container_status(c);
	json_t *image = json_object_get(c->config, "image");
	char buf[80];
	int rc = 0;

	for (size_t i = 0; i < t->ncols && rc == 0; i++) {
		switch (t->cols[i]) {
		case COL_ID:
			snprintf(buf, sizeof(buf), "%.*s", t->json ? 64 : 12, c->id);
			rc = smartcols.scols_line_set_data(ln, i, buf);
			break;
		case COL_NAME:
			rc = smartcols.scols_line_set_data(ln, i, json_string_value(json_object_get(c->config, "name")));
			break;
		case COL_IMAGE:
			rc = smartcols.scols_line_set_data(ln, i, json_string_value(json_object_get(image, "ref")) ?:
									     json_string_value(json_object_get(image, "id")));
			break;
		case COL_COMMAND:
			rc = smartcols.scols_line_refer_data(ln, i, ins_container_command(c));
			break;
		case COL_STATUS:
			rc = smartcols.scols_line_set_data(ln, i, ins_container_status_name(st));
			break;
		case COL_PID:
			if (st == INS_CONTAINER_RUNNING) {
				snprintf(buf, sizeof(buf), "%d", (int)ins_container_pid(c));
				rc = smartcols.scols_line_set_data(ln, i, buf);
			}
			break;
		case COL_CREATED:
			rc = smartcols.scols_line_set_data(ln, i, json_string_value(json_object_get(c->config, "created")));
			break;
		case COL_EXIT:
			if (st == INS_CONTAINER_EXITED) {
				snprintf(buf, sizeof(buf), "%lld", json_integer_value(json_object_get(c->state, "exit_code")));
				rc = smartcols.scols_line_set_data(ln, i, buf);
			}
			break;
		case COL_CGROUP:
			rc = smartcols.scols_line_set_data(ln, i, json_string_value(json_object_get(c->config, "cgroup")));
			break;
		}
	}
	return rc;
}

int tool_ps(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		CLI_TABLE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	struct cli_table t = { 0 };
	struct ins_container *cs = NULL;
	struct libscols_table *tb;
	struct ins_store s;
	struct ins_error err;
	bool all = false;
	size_t n = 0;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "ah" CLI_TABLE_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_table_opt(&t, opt, optarg))
			continue;
		if (opt == 'a') {
			all = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			return EXIT_OK;
		} else {
			return cli_usage_hint(prog);
		}
	}
	if (optind < argc)
		return cli_usage_error(prog, "unexpected argument: %s", argv[optind]);
	if (cli_table_setup(&t, prog, CLI_ARRAY(columns), CLI_ARRAY(defaults), &rc))
		return rc;
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	if (ins_container_list(&s, &cs, &n, &err) < 0 || !(tb = cli_table_new(&t, columns, "containers", &err))) {
		ins_container_list_free(cs, n);
		ins_store_close(&s);
		return cli_fail(prog, &err);
	}
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		struct libscols_line *ln;

		if (!all && ins_container_status(&cs[i]) != INS_CONTAINER_RUNNING)
			continue;
		ln = smartcols.scols_table_new_line(tb, NULL);
		if (!ln || fill(&t, ln, &cs[i]) < 0)
			rc = EXIT_ERROR;
	}
	ins_container_list_free(cs, n);
	ins_store_close(&s);
	return cli_table_end(tb, prog, rc);
}
