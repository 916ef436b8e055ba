/*
 * ctk image: the image store (CTK_ROOT/images, an OCI image layout):
 * import, export, ls, rm, history, fsck.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "inspect/image.h"
#include "inspect/store.h"

enum { OPT_NAME = 0x2000, OPT_FORMAT, OPT_REPAIR };

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s import [--name REF] [-c INSTRUCTION]... [--json] SRC\n"
		"       %s export [--format docker|oci] [-f] REF FILE\n"
		"       %s ls [options]\n"
		"       %s rm REF...\n"
		"       %s history [options] REF\n"
		"       %s fsck [--repair]\n"
		"\n"
		"Manage the images in CTK_ROOT (default /var/lib/ctk), an OCI image layout.\n"
		"\n"
		"import: SRC is a `docker save` archive, an OCI layout directory, an\n"
		"oci-archive, or a rootfs tarball (like `docker import`); prints the image id.\n"
		"     --name REF         the image's name (default: the one SRC carries)\n"
		" -c, --change INSTR     apply a Dockerfile instruction to the config: CMD,\n"
		"                        ENTRYPOINT, ENV, WORKDIR or USER; repeatable\n"
		"     --json             print the image as JSON instead of its id\n"
		"\n"
		"export: writes REF as an archive to FILE (- for standard output).\n"
		"     --format FORMAT    docker: a `docker save` archive (the default);\n"
		"                        oci: an oci-archive\n"
		" -f, --force            replace FILE if it exists\n"
		"\n"
		"ls and history take the table options:\n"
		CLI_TABLE_USAGE
		"\n"
		"fsck: check every blob against its digest, every image's manifest, config,\n"
		"layers and unpacked layers, and find what nothing uses; a line per problem,\n"
		"exit status 1 while any remains.\n"
		"     --repair           remove what nothing uses and what is no part of the\n"
		"                        layout, unpack missing layers again, drop images that\n"
		"                        cannot be read from the index\n"
		"\n"
		"A REF is a name (busybox, busybox:1.35), an image id, or a prefix of one.\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog, prog, prog, prog, prog, prog);
}

/* Parses the table options of ls and history; returns EXIT_OK or a usage code. */
static int parse_table_args(const char *prog, int argc, char **argv, struct cli_table *t)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		CLI_TABLE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "h" CLI_TABLE_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_table_opt(t, opt, optarg))
			continue;
		if (opt == 'h') {
			usage(stdout, prog);
			exit(EXIT_OK);
		}
		return cli_usage_hint(prog);
	}
	return EXIT_OK;
}

static json_t *image_json(const struct ins_image *img)
{
	json_t *layers = json_array();

	for (size_t i = 0; layers && i < img->nlayers; i++)
		json_array_append_new(layers, json_pack("{s:s,s:s,s:s,s:I}", "digest",
							img->layers[i].digest.s, "diff_id",
							img->layers[i].diff_id.s, "media_type",
							img->layers[i].media_type, "size",
							(json_int_t)img->layers[i].size));
	return json_pack("{s:s?,s:s,s:s,s:o}", "ref", img->ref, "id", img->id.s, "manifest",
			 img->manifest.s, "layers", layers);
}

static int cmd_import(const char *prog, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "change", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ins_import_opts o = { 0 };
	const char **changes = calloc((size_t)argc + 1, sizeof(*changes));
	struct ins_store s;
	struct ins_image img;
	struct ins_error err;
	bool json = false;
	int opt, rc;

	if (!changes)
		return EXIT_ERROR;
	while ((opt = getopt_long(argc, argv, "c:Jh", longopts, NULL)) != -1) {
		if (opt == OPT_NAME) {
			o.name = optarg;
		} else if (opt == 'c') {
			changes[o.nchanges++] = optarg;
		} else if (opt == 'J') {
			json = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			exit(EXIT_OK);
		} else {
			free(changes);
			return cli_usage_hint(prog);
		}
	}
	o.changes = changes;
	if (optind != argc - 1) {
		free(changes);
		return cli_usage_error(prog, "import takes one SRC");
	}
	rc = cli_open_store(prog, &s);
	if (rc == EXIT_OK && ins_image_import(&s, argv[optind], &o, &img, &err) < 0)
		rc = cli_fail(prog, &err);
	if (rc == EXIT_OK) {
		if (json) {
			json_t *doc = image_json(&img);

			json_dumpf(doc, stdout, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(doc);
		} else {
			printf("%s\n", img.id.s);
		}
		ins_image_free(&img);
	}
	if (s.root)
		ins_store_close(&s);
	free(changes);
	return rc;
}

static int parse_format(const char *arg, enum ins_export_format *format)
{
	if (strcmp(arg, "docker") == 0 || strcmp(arg, "docker-archive") == 0)
		*format = INS_EXPORT_DOCKER;
	else if (strcmp(arg, "oci") == 0 || strcmp(arg, "oci-archive") == 0)
		*format = INS_EXPORT_OCI;
	else
		return -1;
	return 0;
}

static int cmd_export(const char *prog, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum ins_export_format format = INS_EXPORT_DOCKER;
	const char *file;
	struct ins_store s;
	struct ins_error err;
	bool force = false;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		if (opt == OPT_FORMAT) {
			if (parse_format(optarg, &format) < 0)
				return cli_usage_error(prog, "--format: %s: not docker or oci", optarg);
		} else if (opt == 'f') {
			force = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			exit(EXIT_OK);
		} else {
			return cli_usage_hint(prog);
		}
	}
	if (optind != argc - 2)
		return cli_usage_error(prog, "export takes a REF and a FILE");
	file = argv[optind + 1];
	if (strcmp(file, "-") == 0 && isatty(STDOUT_FILENO))
		return cli_usage_error(prog, "refusing to write an archive to a terminal (redirect it)");
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	if ((strcmp(file, "-") == 0 ? ins_image_export_fd(&s, argv[optind], format, STDOUT_FILENO, &err)
				    : ins_image_export(&s, argv[optind], format, file, force, &err)) < 0) {
		if (err.code == EEXIST)
			cli_warn(prog, "%s (--force replaces it)", err.msg);
		rc = err.code == EEXIST ? EXIT_ERROR : cli_fail(prog, &err);
	}
	ins_store_close(&s);
	return rc;
}

enum { LS_NAME, LS_ID, LS_CREATED, LS_LAYERS, LS_SIZE, LS_ARCH, LS_DIGEST };

static const struct cli_column ls_columns[] = {
	[LS_NAME] = { "NAME", 0, 0, SCOLS_JSON_STRING, "the image's reference (empty for an unnamed image)" },
	[LS_ID] = { "ID", 0, 0, SCOLS_JSON_STRING, "the image id (its config's digest), shortened in tables" },
	[LS_CREATED] = { "CREATED", 0, 0, SCOLS_JSON_STRING, "when the image was made (RFC 3339)" },
	[LS_LAYERS] = { "LAYERS", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "number of layers" },
	[LS_SIZE] = { "SIZE", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "bytes of its layer blobs, as stored" },
	[LS_ARCH] = { "ARCH", 0, 0, SCOLS_JSON_STRING, "os/architecture" },
	[LS_DIGEST] = { "DIGEST", 0, 0, SCOLS_JSON_STRING, "the manifest's digest" },
};
static const int ls_defaults[] = { LS_NAME, LS_ID, LS_CREATED, LS_LAYERS, LS_SIZE };

static int ls_line(const struct cli_table *t, struct libscols_line *ln, const struct ins_image *img)
{
	json_t *c = img->config;
	long long size = 0;
	char buf[128];
	int rc = 0;

	for (size_t l = 0; l < img->nlayers; l++)
		size += img->layers[l].size;
	for (size_t i = 0; i < t->ncols && rc == 0; i++) {
		const char *v = NULL;

		switch (t->cols[i]) {
		case LS_NAME:
			v = img->ref;
			break;
		case LS_ID:
			snprintf(buf, sizeof(buf), "%.*s", t->json ? 71 : 12,
				 t->json ? img->id.s : ins_digest_hex(&img->id));
			v = buf;
			break;
		case LS_CREATED:
			v = json_string_value(json_object_get(c, "created"));
			break;
		case LS_LAYERS:
			snprintf(buf, sizeof(buf), "%zu", img->nlayers);
			v = buf;
			break;
		case LS_SIZE:
			snprintf(buf, sizeof(buf), "%lld", size);
			v = buf;
			break;
		case LS_ARCH:
			snprintf(buf, sizeof(buf), "%s/%s",
				 json_string_value(json_object_get(c, "os")) ?: "?",
				 json_string_value(json_object_get(c, "architecture")) ?: "?");
			v = buf;
			break;
		case LS_DIGEST:
			v = img->manifest.s;
			break;
		}
		rc = smartcols.scols_line_set_data(ln, i, v);
	}
	return rc;
}

static int cmd_ls(const char *prog, int argc, char **argv)
{
	struct cli_table t = { 0 };
	struct libscols_table *tb;
	struct ins_image *imgs = NULL;
	struct ins_store s;
	struct ins_error err;
	size_t n = 0;
	int rc = parse_table_args(prog, argc, argv, &t);

	if (rc != EXIT_OK)
		return rc;
	if (optind != argc)
		return cli_usage_error(prog, "ls takes no arguments");
	if (cli_table_setup(&t, prog, CLI_ARRAY(ls_columns), CLI_ARRAY(ls_defaults), &rc))
		return rc;
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	if (ins_image_list(&s, &imgs, &n, &err) < 0 || !(tb = cli_table_new(&t, ls_columns, "images", &err))) {
		ins_image_list_free(imgs, n);
		ins_store_close(&s);
		return cli_fail(prog, &err);
	}
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		struct libscols_line *ln = smartcols.scols_table_new_line(tb, NULL);

		if (!ln || ls_line(&t, ln, &imgs[i]) < 0)
			rc = EXIT_ERROR;
	}
	ins_image_list_free(imgs, n);
	ins_store_close(&s);
	return cli_table_end(tb, prog, rc);
}

static int cmd_rm(const char *prog, int argc, char **argv)
{
	struct ins_store s;
	struct ins_error err;
	int rc;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt != 'h')
			return cli_usage_hint(prog);
		usage(stdout, prog);
		exit(EXIT_OK);
	}
	if (optind >= argc)
		return cli_usage_error(prog, "rm takes one or more REFs");
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	for (int i = optind; i < argc; i++)
		if (ins_image_remove(&s, argv[i], &err) < 0)
			rc = cli_fail(prog, &err);
	ins_store_close(&s);
	return rc;
}

enum { H_CREATED, H_CREATED_BY, H_SIZE, H_LAYER, H_COMMENT, H_AUTHOR };

static const struct cli_column history_columns[] = {
	[H_CREATED] = { "CREATED", 0, 0, SCOLS_JSON_STRING, "when the step ran (RFC 3339)" },
	[H_CREATED_BY] = { "CREATED-BY", 0, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "what made the layer or the change" },
	[H_SIZE] = { "SIZE", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "bytes of the layer blob (0: no layer)" },
	[H_LAYER] = { "LAYER", 0, 0, SCOLS_JSON_STRING, "the layer's digest (empty: a change without a layer)" },
	[H_COMMENT] = { "COMMENT", 0, 0, SCOLS_JSON_STRING, "the step's comment" },
	[H_AUTHOR] = { "AUTHOR", 0, 0, SCOLS_JSON_STRING, "who made the step" },
};
static const int history_defaults[] = { H_CREATED, H_SIZE, H_LAYER, H_CREATED_BY };

static int history_line(const struct cli_table *t, struct libscols_line *ln, const struct ins_history *h)
{
	char size[32];
	int rc = 0;

	snprintf(size, sizeof(size), "%lld", h->layer ? h->layer->size : 0);
	for (size_t i = 0; i < t->ncols && rc == 0; i++) {
		const char *v[] = {
			[H_CREATED] = h->created,
			[H_CREATED_BY] = h->created_by,
			[H_SIZE] = size,
			[H_LAYER] = h->layer ? h->layer->digest.s : NULL,
			[H_COMMENT] = h->comment,
			[H_AUTHOR] = h->author,
		};

		rc = smartcols.scols_line_set_data(ln, i, v[t->cols[i]]);
	}
	return rc;
}

static int cmd_history(const char *prog, int argc, char **argv)
{
	struct cli_table t = { 0 };
	struct libscols_table *tb = NULL;
	struct ins_history *rows = NULL;
	struct ins_image img = { 0 };
	struct ins_store s;
	struct ins_error err;
	size_t n = 0;
	int rc = parse_table_args(prog, argc, argv, &t);

	if (rc != EXIT_OK)
		return rc;
	if (cli_table_setup(&t, prog, CLI_ARRAY(history_columns), CLI_ARRAY(history_defaults), &rc))
		return rc;
	if (optind != argc - 1)
		return cli_usage_error(prog, "history takes one REF");
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	if (ins_image_load(&s, argv[optind], &img, &err) < 0 || ins_image_history(&img, &rows, &n, &err) < 0 ||
	    !(tb = cli_table_new(&t, history_columns, "history", &err)))
		rc = cli_fail(prog, &err);
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		struct libscols_line *ln = smartcols.scols_table_new_line(tb, NULL);

		if (!ln || history_line(&t, ln, &rows[i]) < 0)
			rc = EXIT_ERROR;
	}
	if (rc == EXIT_OK)
		rc = cli_table_print(tb, prog);
	else if (tb)
		smartcols.scols_unref_table(tb);
	free(rows);
	ins_image_free(&img);
	ins_store_close(&s);
	return rc;
}

static void print_problem(void *arg, const char *problem, bool repaired)
{
	size_t *repairs = arg;

	*repairs += repaired;
	printf("%s\n", problem);
}

static int cmd_fsck(const char *prog, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repair", no_argument, NULL, OPT_REPAIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ins_store s;
	struct ins_error err;
	bool repair = false;
	size_t repairs = 0;
	int opt, rc, left;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == OPT_REPAIR) {
			repair = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			exit(EXIT_OK);
		} else {
			return cli_usage_hint(prog);
		}
	}
	if (optind != argc)
		return cli_usage_error(prog, "fsck takes no arguments");
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	left = ins_store_fsck(&s, repair, print_problem, &repairs, &err);
	ins_store_close(&s);
	if (fflush(stdout) != 0)
		rc = EXIT_ERROR;
	if (left < 0)
		return cli_fail(prog, &err);
	if (left > 0 || repairs)
		cli_warn(prog, "%d problem%s left, %zu repaired", left, left == 1 ? "" : "s", repairs);
	return left > 0 ? EXIT_ERROR : rc;
}

int tool_image(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const char *prog, int argc, char **argv);
	} cmds[] = { { "import", cmd_import }, { "export", cmd_export }, { "ls", cmd_ls },
		     { "rm", cmd_rm }, { "history", cmd_history }, { "fsck", cmd_fsck } };
	const char *prog = argv[0];

	if (argc < 2)
		return cli_usage_error(prog, "a command is needed: import, export, ls, rm, history or fsck");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout, prog);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(prog, argc - 1, argv + 1);
	return cli_usage_error(prog, "unknown command: %s", argv[1]);
}
