/*
 * ctk layers: the layers of a ctk container or image, bottom to top, what
 * each one adds, modifies and removes, and how much of the stack is
 * wasted (dive's efficiency), with dive's CI rules.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "inspect/cleanup.h"
#include "inspect/layers.h"

enum { COL_INDEX, COL_KIND, COL_ID, COL_SIZE, COL_FILES, COL_ADDED, COL_MODIFIED, COL_REMOVED, COL_CREATED_BY,
       COL_PATH, COL_DIGEST };

static const struct cli_column columns[] = {
	[COL_INDEX] = { "INDEX", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "the layer's place, 0 the bottom" },
	[COL_KIND] = { "KIND", 0, 0, SCOLS_JSON_STRING, "image, init (the runtime's files) or rw (read-write)" },
	[COL_ID] = { "ID", 0, 0, SCOLS_JSON_STRING, "an image layer's diff-id, the container's id (shortened in tables)" },
	[COL_SIZE] = { "SIZE", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "bytes of the regular files in its directory" },
	[COL_FILES] = { "FILES", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "entries in its directory" },
	[COL_ADDED] = { "ADDED", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "paths it adds" },
	[COL_MODIFIED] = { "MODIFIED", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "paths it modifies" },
	[COL_REMOVED] = { "REMOVED", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "paths it removes (whiteouts, opaque directories)" },
	[COL_CREATED_BY] = { "CREATED-BY", 0, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "what made it: the image's history, the container's command" },
	[COL_PATH] = { "PATH", 0, 0, SCOLS_JSON_STRING, "its directory on the host" },
	[COL_DIGEST] = { "DIGEST", 0, 0, SCOLS_JSON_STRING, "an image layer's blob digest, when the image is known" },
};
static const int defaults[] = { COL_INDEX, COL_KIND, COL_ID, COL_SIZE, COL_FILES, COL_ADDED, COL_MODIFIED,
				COL_REMOVED, COL_CREATED_BY, COL_PATH };

enum { FCOL_CHANGE, FCOL_PATH, FCOL_SIZE };

static const struct cli_column file_columns[] = {
	[FCOL_CHANGE] = { "CHANGE", 0, 0, SCOLS_JSON_STRING, "A added, M modified, D removed; empty: a directory holding changes" },
	[FCOL_PATH] = { "PATH", 0, SCOLS_FL_TREE | SCOLS_FL_NOEXTREMES, SCOLS_JSON_STRING, "the path (its name under its directory in trees)" },
	[FCOL_SIZE] = { "SIZE", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "bytes of a regular file in the layer" },
};
static const int file_defaults[] = { FCOL_CHANGE, FCOL_PATH, FCOL_SIZE };

enum { OPT_CI = 0x100, OPT_LOWEST, OPT_HIGHEST };

/* A CI rule's threshold; dive's defaults: lowest-efficiency 0.9, highest-wasted-bytes disabled. */
struct rule {
	bool enabled;
	double value;
};

struct layers_cmd {
	const char *prog;
	struct cli_table t;
	bool files;
	const char *layer; /* --files's LAYER, NULL: the top */
	bool layer_is_word; /* LAYER was the word after --files, which may be TARGET instead */
	bool ci, rules_given;
	struct rule lowest, highest;
	const char *target;
};

/* The stack with every layer's changes, and their efficiency. */
struct analysis {
	struct ins_layer_stack st;
	struct ins_diff_change **changes;
	size_t *nchanges;
	struct ins_layer_efficiency eff;
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options] TARGET|IMAGE\n"
		"\n"
		"Show the layers of a ctk container or image, bottom to top: what each one\n"
		"adds, modifies and removes, its size and directory, and how much of the\n"
		"stack is wasted on files that a later layer overwrites or removes (dive's\n"
		"image efficiency). A name that is a container's and an image's is the\n"
		"container.\n"
		"\n"
		"Options:\n"
		" -f, --files[=LAYER]    the changes of one layer as a tree (A, M, D); LAYER is\n"
		"                        an index (0 the bottom), rw, init or a digest prefix;\n"
		"                        the top layer by default\n"
		"     --ci               check the efficiency rules, as dive --ci does; exit 1\n"
		"                        when one fails\n"
		"     --lowest-efficiency RATIO\n"
		"                        fail below this efficiency, 0..1 (default 0.9)\n"
		"     --highest-wasted-bytes SIZE\n"
		"                        fail above these wasted bytes (k, M, G: powers of\n"
		"                        1000; Ki, Mi, Gi: of 1024; default disabled)\n"
		CLI_TABLE_USAGE
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 failure or a failed CI rule, 2 usage error.\n",
		prog);
}

/* "0.95" or "disabled" into R; false when it is neither. */
static bool parse_ratio(const char *arg, struct rule *r)
{
	char *end;

	if (strcmp(arg, "disabled") == 0) {
		r->enabled = false;
		return true;
	}
	errno = 0;
	r->value = strtod(arg, &end);
	r->enabled = true;
	return !errno && end != arg && !*end && r->value >= 0 && r->value <= 1;
}

/*
 * "4M", "1.5GB", "512KiB", "1000" or "disabled" into R, as dive reads its
 * highestWastedBytes (go-humanize's ParseBytes): k, M, G, T are powers of
 * 1000, Ki, Mi, Gi, Ti of 1024, case aside, with an optional B.
 */
static bool parse_bytes(const char *arg, struct rule *r)
{
	static const struct {
		const char *unit;
		double factor;
	} units[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1e3 }, { "kb", 1e3 }, { "ki", 1024.0 }, { "kib", 1024.0 },
		{ "m", 1e6 }, { "mb", 1e6 }, { "mi", 1048576.0 }, { "mib", 1048576.0 },
		{ "g", 1e9 }, { "gb", 1e9 }, { "gi", 1073741824.0 }, { "gib", 1073741824.0 },
		{ "t", 1e12 }, { "tb", 1e12 }, { "ti", 1099511627776.0 }, { "tib", 1099511627776.0 },
	};
	char *end;
	double v;

	if (strcmp(arg, "disabled") == 0) {
		r->enabled = false;
		return true;
	}
	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || !(v >= 0) || !isdigit((unsigned char)*arg))
		return false;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(end, units[i].unit) == 0 && v * units[i].factor < 9.2e18) {
			r->enabled = true;
			r->value = (double)(long long)(v * units[i].factor);
			return true;
		}
	return false;
}

/*
 * The word after --files is its LAYER unless it is an option; it may turn
 * out to be TARGET (see positional()).
 */
static void files_arg(struct layers_cmd *c, int argc, char **argv)
{
	c->files = true;
	if (optarg) {
		c->layer = optarg;
	} else if (optind < argc && argv[optind][0] != '-') {
		c->layer = argv[optind++];
		c->layer_is_word = true;
	}
}

/* TARGET, and LAYER when the word after --files was TARGET itself. */
static int positional(struct layers_cmd *c, int argc, char **argv)
{
	if (optind == argc && c->layer_is_word) {
		c->target = c->layer;
		c->layer = NULL;
	} else if (optind != argc - 1) {
		return cli_usage_error(c->prog, "exactly one TARGET or IMAGE is needed");
	} else {
		c->target = argv[optind];
	}
	if (c->ci && c->files)
		return cli_usage_error(c->prog, "--ci and --files do not go together");
	if (c->rules_given && !c->ci)
		return cli_usage_error(c->prog, "--lowest-efficiency and --highest-wasted-bytes need --ci");
	return EXIT_OK;
}

static int parse(struct layers_cmd *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "files", optional_argument, NULL, 'f' },
		{ "ci", no_argument, NULL, OPT_CI },
		{ "lowest-efficiency", required_argument, NULL, OPT_LOWEST },
		{ "highest-wasted-bytes", required_argument, NULL, OPT_HIGHEST },
		{ "help", no_argument, NULL, 'h' },
		CLI_TABLE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	c->lowest = (struct rule){ true, 0.9 };
	while ((opt = getopt_long(argc, argv, "f::h" CLI_TABLE_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_table_opt(&c->t, opt, optarg))
			continue;
		if (opt == 'f') {
			files_arg(c, argc, argv);
		} else if (opt == OPT_CI) {
			c->ci = true;
		} else if (opt == OPT_LOWEST) {
			if (!parse_ratio(optarg, &c->lowest))
				return cli_usage_error(c->prog, "--lowest-efficiency %s: a ratio 0..1, or disabled", optarg);
			c->rules_given = true;
		} else if (opt == OPT_HIGHEST) {
			if (!parse_bytes(optarg, &c->highest))
				return cli_usage_error(c->prog, "--highest-wasted-bytes %s: a size such as 20MB, or disabled",
						       optarg);
			c->rules_given = true;
		} else if (opt == 'h') {
			usage(stdout, c->prog);
			exit(EXIT_OK);
		} else {
			return cli_usage_hint(c->prog);
		}
	}
	if (c->t.list_columns)
		return EXIT_OK;
	return positional(c, argc, argv);
}

static void analysis_free(struct analysis *a)
{
	for (size_t i = 0; a->changes && i < a->st.n; i++)
		ins_diff_free(a->changes[i], a->nchanges[i]);
	free(a->changes);
	free(a->nchanges);
	ins_layer_efficiency_free(&a->eff);
	ins_layer_stack_free(&a->st);
}

/* Every layer's changes, and the efficiency of them all. */
static int analyse(struct analysis *a, struct ins_error *err)
{
	a->changes = calloc(a->st.n + 1, sizeof(*a->changes));
	a->nchanges = calloc(a->st.n + 1, sizeof(*a->nchanges));
	if (!a->changes || !a->nchanges)
		return ins_err_sys(err, ENOMEM, "layers");
	for (size_t i = 0; i < a->st.n; i++)
		if (ins_layer_stack_diff(&a->st, i, &a->changes[i], &a->nchanges[i], err) < 0)
			return -1;
	return ins_layer_efficiency(a->changes, a->nchanges, a->st.n, &a->eff, err);
}

/* Sizes as dive shows them (go-humanize's Bytes): "999 B", "1.5 kB", "12 MB". */
static void human(long long bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)bytes;
	size_t e = 0;

	if (bytes < 10) {
		snprintf(buf, size, "%lld B", bytes);
		return;
	}
	while (v >= 1000 && e + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		e++;
	}
	v = (double)(long long)(v * 10 + 0.5) / 10;
	snprintf(buf, size, v < 10 ? "%.1f %s" : "%.0f %s", v, units[e]);
}

/* "efficiency: 97.3%  wasted: 1.2 MB (1234567 bytes)": never 100% unless nothing is wasted. */
static void print_summary(const struct ins_layer_efficiency *e)
{
	char h[32];

	human(e->wasted, h, sizeof(h));
	printf("efficiency: %.1f%%  wasted: %s", (double)(long long)(e->score * 1000) / 10, h);
	if (e->wasted >= 1000)
		printf(" (%lld bytes)", e->wasted);
	putchar('\n');
}

/* The counts of change kinds in CH: ADDED, MODIFIED (a directory listed only for its changes is not), REMOVED. */
static void count_changes(const struct ins_diff_change *ch, size_t n, long long counts[3])
{
	counts[0] = counts[1] = counts[2] = 0;
	for (size_t i = 0; i < n; i++)
		if (ch[i].kind == INS_DIFF_ADDED)
			counts[0]++;
		else if (ch[i].kind == INS_DIFF_CHANGED && !ch[i].implied)
			counts[1]++;
		else if (ch[i].kind == INS_DIFF_DELETED)
			counts[2]++;
}

/* An id in a table: 12 hex digits; in JSON all of it. */
static const char *shown_id(const struct cli_table *t, const char *id, char *buf, size_t size)
{
	if (!id || t->json)
		return id;
	snprintf(buf, size, "%.12s", strncmp(id, "sha256:", 7) == 0 ? id + 7 : id);
	return buf;
}

static int layer_line(const struct cli_table *t, struct libscols_line *ln, const struct analysis *a, size_t i,
		      struct ins_error *err)
{
	const struct ins_layer *l = &a->st.layers[i];
	struct ins_layer_usage u = { 0 };
	long long counts[3];
	char nums[6][32], id[16], digest[16];
	int rc = 0;

	if ((cli_table_has(t, COL_SIZE) || cli_table_has(t, COL_FILES)) && ins_layer_usage(l, &u, err) < 0)
		return -1;
	count_changes(a->changes[i], a->nchanges[i], counts);
	snprintf(nums[0], sizeof(nums[0]), "%zu", i);
	snprintf(nums[1], sizeof(nums[1]), "%lld", u.bytes);
	snprintf(nums[2], sizeof(nums[2]), "%lld", u.entries);
	for (int k = 0; k < 3; k++)
		snprintf(nums[3 + k], sizeof(nums[3 + k]), "%lld", counts[k]);
	for (size_t c = 0; c < t->ncols && rc == 0; c++) {
		const char *v[] = {
			[COL_INDEX] = nums[0],
			[COL_KIND] = ins_layer_kind_name(l->kind),
			[COL_ID] = shown_id(t, l->id, id, sizeof(id)),
			[COL_SIZE] = nums[1],
			[COL_FILES] = nums[2],
			[COL_ADDED] = nums[3],
			[COL_MODIFIED] = nums[4],
			[COL_REMOVED] = nums[5],
			[COL_CREATED_BY] = l->created_by,
			[COL_PATH] = l->path,
			[COL_DIGEST] = shown_id(t, l->digest, digest, sizeof(digest)),
		};

		rc = smartcols.scols_line_set_data(ln, c, v[t->cols[c]]);
	}
	return rc < 0 ? ins_err_sys(err, ENOMEM, "table") : 0;
}

/* The table of layers, bottom first; NULL with ERR set when it cannot be made. */
static struct libscols_table *layer_table(const struct cli_table *t, const struct analysis *a, struct ins_error *err)
{
	struct libscols_table *tb = cli_table_new(t, columns, "layers", err);

	for (size_t i = 0; tb && i < a->st.n; i++) {
		struct libscols_line *ln = smartcols.scols_table_new_line(tb, NULL);

		if (!ln || layer_line(t, ln, a, i, err) < 0) {
			if (!ln)
				ins_err_sys(err, ENOMEM, "table");
			smartcols.scols_unref_table(tb);
			return NULL;
		}
	}
	return tb;
}

/* A running container's root and volumes, beside its stack. */
static void print_mounts(const struct ins_layer_stack *st)
{
	if (!st->root)
		return;
	printf("root: %s\n", st->root);
	for (size_t i = 0; i < st->nvolumes; i++)
		printf("volume: %s: %s (%s%s)\n", st->volumes[i].destination, st->volumes[i].source,
		       st->volumes[i].type, st->volumes[i].readonly ? ", read-only" : "");
}

/* The efficiency members of the JSON documents: efficiency, wasted, total, inefficient. */
static int add_efficiency(json_t *doc, const struct ins_layer_efficiency *e)
{
	json_t *files = json_array();
	int rc = files ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < e->nfiles; i++)
		rc = json_array_append_new(files, json_pack("{s:s,s:I,s:I}", "path", e->files[i].path, "count",
							    (json_int_t)e->files[i].copies, "bytes",
							    (json_int_t)e->files[i].bytes));
	rc |= json_object_set_new(doc, "efficiency", json_real(e->score));
	rc |= json_object_set_new(doc, "wasted", json_integer(e->wasted));
	rc |= json_object_set_new(doc, "total", json_integer(e->total));
	rc |= json_object_set_new(doc, "inefficient", files);
	return rc ? -1 : 0;
}

/* A container's members: pid, root, volumes. */
static int add_mounts(json_t *doc, const struct ins_layer_stack *st)
{
	json_t *vols = json_array();
	int rc = vols ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < st->nvolumes; i++)
		rc = json_array_append_new(vols, json_pack("{s:s,s:s,s:s,s:b}", "destination",
							   st->volumes[i].destination, "source", st->volumes[i].source,
							   "type", st->volumes[i].type, "readonly",
							   st->volumes[i].readonly));
	rc |= json_object_set_new(doc, "pid", st->pid ? json_integer(st->pid) : json_null());
	rc |= json_object_set_new(doc, "root", st->root ? json_string(st->root) : json_null());
	rc |= json_object_set_new(doc, "volumes", vols);
	return rc ? -1 : 0;
}

static int print_json(const char *prog, json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_INDENT(3) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));

	json_decref(doc);
	if (rc < 0 || putchar('\n') == EOF || fflush(stdout) != 0) {
		cli_warn(prog, "write error");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* {"layers": [...], the container's members, the efficiency's}: libsmartcols' table, then the rest. */
static int print_layers_json(const char *prog, struct libscols_table *tb, const struct analysis *a)
{
	_cleanup_free_ char *text = NULL;
	json_error_t jerr;
	json_t *doc;

	if (smartcols.scols_print_table_to_string(tb, &text) != 0)
		text = NULL;
	smartcols.scols_unref_table(tb);
	doc = text ? json_loads(text, 0, &jerr) : NULL;
	if (!doc || (a->st.container && add_mounts(doc, &a->st) < 0) || add_efficiency(doc, &a->eff) < 0) {
		json_decref(doc);
		cli_warn(prog, "out of memory");
		return EXIT_ERROR;
	}
	return print_json(prog, doc);
}

static int show_layers(const struct layers_cmd *c, const struct analysis *a)
{
	struct ins_error err;
	struct libscols_table *tb = layer_table(&c->t, a, &err);
	int rc;

	if (!tb)
		return cli_fail(c->prog, &err);
	if (c->t.json)
		return print_layers_json(c->prog, tb, a);
	/* Raw output is the rows alone, for scripts; JSON has the rest. */
	if ((rc = cli_table_print(tb, c->prog)) != EXIT_OK || c->t.raw)
		return rc;
	print_mounts(&a->st);
	print_summary(&a->eff);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
}

enum status { PASS, FAIL, SKIP };

static const char *const status_names[][2] = {
	[PASS] = { "pass", "PASS" },
	[FAIL] = { "fail", "FAIL" },
	[SKIP] = { "skip", "SKIP" },
};

/* A CI rule's outcome, as dive reports it. */
struct verdict {
	const char *rule;
	enum status status;
	char detail[96];
	double threshold, value;
};

static void judge(const struct layers_cmd *c, const struct ins_layer_efficiency *e, struct verdict v[2])
{
	v[0] = (struct verdict){ .rule = "lowest-efficiency", .threshold = c->lowest.value, .value = e->score };
	v[1] = (struct verdict){ .rule = "highest-wasted-bytes", .threshold = c->highest.value,
				 .value = (double)e->wasted };
	/* dive: an efficiency below the threshold fails, and wasted bytes above it. */
	v[0].status = !c->lowest.enabled ? SKIP : e->score < c->lowest.value ? FAIL : PASS;
	v[1].status = !c->highest.enabled ? SKIP : (double)e->wasted > c->highest.value ? FAIL : PASS;
	snprintf(v[0].detail, sizeof(v[0].detail), "efficiency %.6g %s %g", e->score,
		 v[0].status == FAIL ? "<" : ">=", c->lowest.value);
	snprintf(v[1].detail, sizeof(v[1].detail), "%lld bytes wasted %s %.0f", e->wasted,
		 v[1].status == FAIL ? ">" : "<=", c->highest.value);
	for (int i = 0; i < 2; i++)
		if (v[i].status == SKIP)
			snprintf(v[i].detail, sizeof(v[i].detail), "disabled");
}

/* A rule's number: a ratio, or a count of bytes. */
static json_t *number(double v, bool bytes)
{
	return bytes ? json_integer((json_int_t)v) : json_real(v);
}

static int ci_json(const char *prog, const struct ins_layer_efficiency *e, const struct verdict v[2], bool failed)
{
	json_t *doc = json_object(), *rules = json_array();
	int rc = doc && rules && add_efficiency(doc, e) == 0 ? 0 : -1;

	for (int i = 0; rc == 0 && i < 2; i++)
		rc = json_array_append_new(rules, json_pack("{s:s,s:s,s:o,s:o}", "rule", v[i].rule, "status",
							    status_names[v[i].status][0], "threshold",
							    v[i].status == SKIP ? json_null() : number(v[i].threshold, i == 1),
							    "value", number(v[i].value, i == 1)));
	if (rc == 0)
		rc = json_object_set_new(doc, "rules", json_incref(rules)) |
		     json_object_set_new(doc, "result", json_string(failed ? "fail" : "pass"));
	json_decref(rules);
	if (rc < 0) {
		json_decref(doc);
		cli_warn(prog, "out of memory");
		return EXIT_ERROR;
	}
	return print_json(prog, doc);
}

static void ci_text(const struct ins_layer_efficiency *e, const struct verdict v[2], bool failed)
{
	print_summary(e);
	if (e->nfiles == 0)
		printf("inefficient files: none\n");
	else
		printf("inefficient files:\n  %5s  %12s  %s\n", "COUNT", "BYTES", "PATH");
	for (size_t i = 0; i < e->nfiles; i++)
		printf("  %5zu  %12lld  %s\n", e->files[i].copies, e->files[i].bytes, e->files[i].path);
	printf("rules:\n");
	for (int i = 0; i < 2; i++)
		printf("  %s: %s: %s\n", status_names[v[i].status][1], v[i].rule, v[i].detail);
	printf("result: %s\n", failed ? "FAIL" : "PASS");
}

/* dive --ci: each rule passes, fails or is skipped; one failure fails the run (exit 1). */
static int show_ci(const struct layers_cmd *c, const struct analysis *a)
{
	struct verdict v[2];
	bool failed;
	int rc;

	judge(c, &a->eff, v);
	failed = v[0].status == FAIL || v[1].status == FAIL;
	if (c->t.json) {
		rc = ci_json(c->prog, &a->eff, v, failed);
	} else {
		ci_text(&a->eff, v, failed);
		rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
	}
	return rc == EXIT_OK && failed ? EXIT_ERROR : rc;
}

static char change_letter(const struct ins_diff_change *ch)
{
	if (ch->implied)
		return 0;
	return ch->kind == INS_DIFF_CHANGED ? 'M' : (char)ch->kind;
}

static int file_line(const struct cli_table *t, struct libscols_line *ln, const struct ins_diff_change *ch,
		     const char *name)
{
	char change[2] = { change_letter(ch), '\0' }, size[32];
	int rc = 0;

	snprintf(size, sizeof(size), "%lld", ch->size);
	for (size_t c = 0; c < t->ncols && rc == 0; c++) {
		const char *v[] = { [FCOL_CHANGE] = change, [FCOL_PATH] = name, [FCOL_SIZE] = size };

		rc = smartcols.scols_line_set_data(ln, c, v[t->cols[c]]);
	}
	return rc;
}

/* Whether PATH is below the directory DIR. */
static bool below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && path[len] == '/';
}

/*
 * The changes as a tree: CH is in docker's order, a directory's entries
 * right after it, so the open directories form a stack. A tree shows each
 * path's name under its directory, JSON the whole path; raw output is a
 * list of whole paths, with no tree drawn into its fields.
 */
static int file_tree(const struct cli_table *t, struct libscols_table *tb, const struct ins_diff_change *ch,
		     size_t n)
{
	_cleanup_free_ struct libscols_line **lines = calloc(n + 1, sizeof(*lines));
	_cleanup_free_ size_t *open = calloc(n + 1, sizeof(*open));
	size_t depth = 0;

	if (!lines || !open)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p = ch[i].path;

		/* Close the directories that P is not below. */
		while (depth && !below(p, ch[open[depth - 1]].path))
			depth--;
		if (t->raw)
			depth = 0;
		lines[i] = smartcols.scols_table_new_line(tb, depth ? lines[open[depth - 1]] : NULL);
		if (!lines[i] || file_line(t, lines[i], &ch[i], t->json || !depth ? p : p + strlen(ch[open[depth - 1]].path) + 1) < 0)
			return -1;
		if (S_ISDIR(ch[i].mode))
			open[depth++] = i;
	}
	return 0;
}

static int show_files(const struct layers_cmd *c, struct ins_layer_stack *st)
{
	struct ins_diff_change *ch = NULL;
	struct libscols_table *tb;
	struct ins_error err;
	size_t n = 0;
	ssize_t i = c->layer ? ins_layer_find(st, c->layer, &err) : (ssize_t)st->n - 1;
	int rc;

	if (i < 0)
		return st->n ? cli_fail(c->prog, &err) : (cli_warn(c->prog, "%s has no layers", st->name), EXIT_ERROR);
	if (ins_layer_stack_diff(st, (size_t)i, &ch, &n, &err) < 0 || !(tb = cli_table_new(&c->t, file_columns, "files", &err)))
		rc = cli_fail(c->prog, &err);
	else
		rc = cli_table_end(tb, c->prog, file_tree(&c->t, tb, ch, n) < 0 ? EXIT_ERROR : EXIT_OK);
	ins_diff_free(ch, n);
	return rc;
}

int tool_layers(int argc, char **argv)
{
	struct layers_cmd c = { .prog = argv[0] };
	struct analysis a = { 0 };
	struct ins_store s;
	struct ins_error err;
	int rc = parse(&c, argc, argv);

	if (rc != EXIT_OK)
		return rc;
	/* -o and --list-columns are about the table shown: the changes of --files, else the layers. */
	if (c.files ? cli_table_setup(&c.t, c.prog, CLI_ARRAY(file_columns), CLI_ARRAY(file_defaults), &rc)
		    : cli_table_setup(&c.t, c.prog, CLI_ARRAY(columns), CLI_ARRAY(defaults), &rc))
		return rc;
	if ((rc = cli_open_store(c.prog, &s)) != EXIT_OK)
		return rc;
	if (ins_layer_stack_load(&s, c.target, &a.st, &err) < 0)
		rc = cli_fail(c.prog, &err);
	else if (c.files)
		rc = show_files(&c, &a.st);
	else if (analyse(&a, &err) < 0)
		rc = cli_fail(c.prog, &err);
	else
		rc = c.ci ? show_ci(&c, &a) : show_layers(&c, &a);
	analysis_free(&a);
	ins_store_close(&s);
	return rc;
}
