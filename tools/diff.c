/* ctk diff: what a container changed in its root, as docker diff shows it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect/container.h"
#include "inspect/diff.h"

enum { COL_KIND, COL_PATH, COL_SIZE, COL_NOISE };

static const struct cli_column columns[] = {
	[COL_KIND] = { "KIND", 0, 0, SCOLS_JSON_STRING, "A added, C changed, D deleted" },
	[COL_PATH] = { "PATH", 0, 0, SCOLS_JSON_STRING, "the path in the container" },
	[COL_SIZE] = { "SIZE", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "bytes of a file in the read-write layer" },
	[COL_NOISE] = { "NOISE", 0, 0, SCOLS_JSON_STRING, "why it is volatile noise" },
};

enum { OPT_NOISE = 0x100 };

struct diff_opts {
	bool size, noise, json;
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options] CONTAINER\n"
		"\n"
		"Show what a container changed in its root, as docker diff does: a line\n"
		"per path, A added, C changed, D deleted, sorted. The init layer's files\n"
		"(/etc/hosts, /etc/hostname, /etc/resolv.conf) and what volumes hold are\n"
		"no changes; a volume's mount point is.\n"
		"\n"
		"Options:\n"
		" -s, --size             append the size in bytes of each file in the read-write layer\n"
		"     --noise            mark volatile noise (caches, logs, history, /tmp) with its\n"
		"                        reason, and sum it up on stderr\n"
		" -J, --json             use JSON output format\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog);
}

/* Docker's lines, with the size and the noise when asked for. */
static int print_lines(const struct ins_diff_change *ch, size_t n, const struct diff_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		printf("%c %s", ch[i].kind, ch[i].path);
		if (o->size)
			printf(" %lld", ch[i].size);
		if (o->noise && ch[i].noise)
			printf("  # noise: %s", ch[i].noise);
		putchar('\n');
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_ERROR;
}

static int fill(struct libscols_line *ln, const struct cli_table *t, const struct ins_diff_change *c)
{
	char kind[2] = { (char)c->kind, '\0' }, size[32];
	const char *data[] = { [COL_KIND] = kind, [COL_PATH] = c->path, [COL_SIZE] = size, [COL_NOISE] = c->noise };

	snprintf(size, sizeof(size), "%lld", c->size);
	for (size_t i = 0; i < t->ncols; i++)
		if (smartcols.scols_line_set_data(ln, i, data[t->cols[i]]) < 0)
			return -1;
	return 0;
}

/* {"changes": [...]}, as the other tools' JSON: a member per option-selected column. */
static int print_json(const char *prog, const struct ins_diff_change *ch, size_t n, const struct diff_opts *o)
{
	struct cli_table t = { .json = true, .cols = { COL_KIND, COL_PATH }, .ncols = 2 };
	struct libscols_table *tb;
	struct ins_error err;
	int rc = EXIT_OK;

	if (o->size)
		t.cols[t.ncols++] = COL_SIZE;
	if (o->noise)
		t.cols[t.ncols++] = COL_NOISE;
	if (!(tb = cli_table_new(&t, columns, "changes", &err)))
		return cli_fail(prog, &err);
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		struct libscols_line *ln = smartcols.scols_table_new_line(tb, NULL);

		if (!ln || fill(ln, &t, &ch[i]) < 0)
			rc = EXIT_ERROR;
	}
	return cli_table_end(tb, prog, rc);
}

/* Counts the changes of reason REASON (all noise: NULL) into *COUNT and their bytes into *BYTES. */
static void count_noise(const struct ins_diff_change *ch, size_t n, const char *reason, size_t *count,
			long long *bytes)
{
	*count = 0;
	*bytes = 0;
	for (size_t i = 0; i < n; i++)
		if (ch[i].noise && (!reason || strcmp(ch[i].noise, reason) == 0)) {
			(*count)++;
			*bytes += ch[i].size;
		}
}

/* Whether rule R gives a reason that an earlier rule gave already. */
static bool reason_seen(const struct ins_diff_noise_rule *rules, size_t r)
{
	for (size_t i = 0; i < r; i++)
		if (strcmp(rules[i].reason, rules[r].reason) == 0)
			return true;
	return false;
}

/* "ctk diff: 3 of 7 changes are noise, 120 bytes: temporary files 2, logs 1" on stderr. */
static void noise_summary(const char *prog, const struct ins_diff_change *ch, size_t n)
{
	size_t nrules, total, count;
	const struct ins_diff_noise_rule *rules = ins_diff_noise_rules(&nrules);
	long long bytes, ignored;
	const char *sep = ":";
	char line[2048];
	int len;

	count_noise(ch, n, NULL, &total, &bytes);
	if (total == 0) {
		cli_warn(prog, "no noise among %zu changes", n);
		return;
	}
	len = snprintf(line, sizeof(line), "%zu of %zu changes are noise, %lld bytes", total, n, bytes);
	/* Reasons in the order of the rules, each once; the mixed one last. */
	for (size_t r = 0; r <= nrules; r++) {
		const char *reason = r < nrules ? rules[r].reason : INS_DIFF_NOISE_MIXED;

		if (r < nrules && reason_seen(rules, r))
			continue;
		count_noise(ch, n, reason, &count, &ignored);
		if (count && (size_t)len < sizeof(line))
			len += snprintf(line + len, sizeof(line) - (size_t)len, "%s %s %zu", sep, reason, count);
		sep = count ? "," : sep;
	}
	cli_warn(prog, "%s", line);
}

int tool_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", no_argument, NULL, 's' },
		{ "noise", no_argument, NULL, OPT_NOISE },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	struct diff_opts o = { 0 };
	struct ins_diff_change *ch = NULL;
	struct ins_container c;
	struct ins_store s;
	struct ins_error err;
	size_t n = 0;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "sJh", longopts, NULL)) != -1) {
		if (opt == 's') {
			o.size = true;
		} else if (opt == OPT_NOISE) {
			o.noise = true;
		} else if (opt == 'J') {
			o.json = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			return EXIT_OK;
		} else {
			return cli_usage_hint(prog);
		}
	}
	if ((rc = cli_load_container(prog, argc, argv, &s, &c)) != EXIT_OK)
		return rc;
	if (ins_container_diff(&s, &c, &ch, &n, &err) < 0) {
		ins_container_free(&c);
		ins_store_close(&s);
		return cli_fail(prog, &err);
	}
	if (o.json) {
		rc = print_json(prog, ch, n, &o);
	} else if ((rc = print_lines(ch, n, &o)) != EXIT_OK) {
		cli_warn(prog, "write error");
	} else if (o.noise) {
		noise_summary(prog, ch, n);
	}
	ins_diff_free(ch, n);
	ins_container_free(&c);
	ins_store_close(&s);
	return rc;
}
