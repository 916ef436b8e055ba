/*
 * ctk ns: namespaces, lsns-style. Without TARGET every namespace on the host
 * (one row each, persistent ones included); with TARGET its eight namespaces
 * and whether each is the host's.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect/cleanup.h"
#include "inspect/ns.h"
#include "inspect/proc.h"
#include "inspect/target.h"

enum {
	COL_NS,
	COL_TYPE,
	COL_PATH,
	COL_NPROCS,
	COL_PID,
	COL_PPID,
	COL_COMMAND,
	COL_UID,
	COL_USER,
	COL_NSFS,
	COL_PNS,
	COL_ONS,
	COL_SHARED,
	COL_CONTAINER,
};

/* Names, JSON types and meanings follow lsns(8) where lsns has the column. */
static const struct cli_column columns[] = {
	[COL_NS] = { "NS", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "namespace identifier (inode number)" },
	[COL_TYPE] = { "TYPE", 5, 0, SCOLS_JSON_STRING, "kind of namespace" },
	[COL_PATH] = { "PATH", 0, 0, SCOLS_JSON_STRING, "path to the namespace" },
	[COL_NPROCS] = { "NPROCS", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "number of processes in the namespace" },
	[COL_PID] = { "PID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "lowest PID in the namespace" },
	[COL_PPID] = { "PPID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "PPID of the PID" },
	[COL_COMMAND] = { "COMMAND", 0, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "command line of the PID" },
	[COL_UID] = { "UID", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "UID of the PID" },
	[COL_USER] = { "USER", 0, 0, SCOLS_JSON_STRING, "username of the PID" },
	[COL_NSFS] = { "NSFS", 0, 0, SCOLS_JSON_STRING, "nsfs mount points (persistent namespaces), comma-separated" },
	[COL_PNS] = { "PNS", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "parent namespace identifier (pid and user namespaces)" },
	[COL_ONS] = { "ONS", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "owner namespace identifier (a user namespace)" },
	[COL_SHARED] = { "SHARED", 0, 0, SCOLS_JSON_BOOLEAN, "whether it is the host's namespace (PID 1's)" },
	[COL_CONTAINER] = { "CONTAINER", 0, 0, SCOLS_JSON_STRING, "the container the namespace belongs to" },
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static const int host_defaults[] = { COL_NS, COL_TYPE, COL_NPROCS, COL_PID, COL_PPID, COL_USER,
				     COL_CONTAINER, COL_COMMAND };
static const int target_defaults[] = { COL_TYPE, COL_NS, COL_PATH, COL_SHARED };

enum tree_rel { TREE_NONE, TREE_OWNER, TREE_PARENT };

struct ns_cmd {
	const char *prog;
	struct cli_table table;
	unsigned types; /* -t */
	const char *task; /* -p */
	enum tree_rel tree; /* -T */
	const char *target;
	struct ins_ns_set host; /* for SHARED */
	bool have_host;
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options] [TARGET]\n"
		"\n"
		"List namespaces: without TARGET every namespace on the host, one row each\n"
		"(persistent ones held by nsfs mounts included); with TARGET, its eight\n"
		"namespaces and whether each is the host's.\n"
		"\n"
		"Options:\n"
		" -t, --type TYPE        only namespaces of TYPE (cgroup, ipc, mnt, net, pid,\n"
		"                        time, user, uts); repeatable, or a comma list\n"
		" -p, --task PID         only the namespaces PID is in\n"
		" -T, --tree[=REL]       show a tree by REL: owner (default) or parent\n"
		CLI_TABLE_USAGE
		" -h, --help             display this help\n"
		"\n"
		"TARGET is a PID, or the name or id (prefix) of a ctk container.\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog);
}

static int parse_types(struct ns_cmd *c, const char *arg)
{
	_cleanup_free_ char *list = strdup(arg);
	char *save = NULL;

	if (!list)
		return -1;
	for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int t = ins_ns_type_from_name(name);

		if (t < 0) {
			cli_usage_error(c->prog, "unknown namespace type: %s", name);
			return -1;
		}
		c->types |= INS_NS_BIT(t);
	}
	return 0;
}

static int parse_args(struct ns_cmd *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "task", required_argument, NULL, 'p' },
		{ "tree", optional_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		CLI_TABLE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "t:p:T::h" CLI_TABLE_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_table_opt(&c->table, opt, optarg))
			continue;
		switch (opt) {
		case 't':
			if (parse_types(c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'p':
			c->task = optarg;
			break;
		case 'T': {
			const char *rel = optarg && *optarg == '=' ? optarg + 1 : optarg;

			if (!rel || strcmp(rel, "owner") == 0)
				c->tree = TREE_OWNER;
			else if (strcmp(rel, "parent") == 0)
				c->tree = TREE_PARENT;
			else
				return cli_usage_error(c->prog, "unknown tree relation: %s", rel);
			break;
		}
		case 'h':
			usage(stdout, c->prog);
			exit(EXIT_OK);
		default:
			return cli_usage_hint(c->prog);
		}
	}
	if (optind < argc)
		c->target = argv[optind++];
	if (optind < argc)
		return cli_usage_error(c->prog, "unexpected argument: %s", argv[optind]);
	if (c->target && (c->tree || c->task))
		return cli_usage_error(c->prog, "--tree and --task list host-wide namespaces: drop TARGET");
	return EXIT_OK;
}

/* User names are looked up once per UID. */
static const char *user_name(uid_t uid)
{
	static struct {
		uid_t uid;
		char name[64];
	} cache[64];
	static size_t n;
	struct passwd *pw;

	for (size_t i = 0; i < n; i++)
		if (cache[i].uid == uid)
			return cache[i].name;
	pw = getpwuid(uid);
	if (!pw)
		return NULL;
	if (n == sizeof(cache) / sizeof(cache[0]))
		n = 0;
	cache[n].uid = uid;
	snprintf(cache[n].name, sizeof(cache[n].name), "%s", pw->pw_name);
	return cache[n++].name;
}

static char *join_strv(char **v)
{
	size_t len = 1;
	char *s, *p;

	for (char **i = v; i && *i; i++)
		len += strlen(*i) + 1;
	s = p = calloc(1, len);
	for (char **i = v; s && i && *i; i++)
		p += sprintf(p, "%s%s", p == s ? "" : ",", *i);
	return s;
}

/* Sets cell I of LN to a printf-formatted string. */
static int set_fmt(struct libscols_line *ln, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_fmt(struct libscols_line *ln, size_t i, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return smartcols.scols_line_refer_data(ln, i, s);
}

/* Fills LN with NS's data; PATH overrides the namespace path (the target view). */
static int fill_line(const struct ns_cmd *c, struct libscols_line *ln, const struct ins_namespace *ns,
		     enum ins_ns_type type, struct ins_ns_id id, const char *path)
{
	int rc = 0;

	for (size_t i = 0; i < c->table.ncols && rc == 0; i++) {
		switch (c->table.cols[i]) {
		case COL_NS:
			rc = set_fmt(ln, i, "%llu", (unsigned long long)id.ino);
			break;
		case COL_TYPE:
			rc = smartcols.scols_line_set_data(ln, i, ins_ns_type_name(type));
			break;
		case COL_PATH:
			rc = smartcols.scols_line_set_data(ln, i, path ? path : ns ? ns->path : NULL);
			break;
		case COL_NPROCS:
			if (ns)
				rc = set_fmt(ln, i, "%u", ns->nprocs);
			break;
		case COL_PID:
			if (ns && ns->pid)
				rc = set_fmt(ln, i, "%d", (int)ns->pid);
			break;
		case COL_PPID:
			if (ns && ns->pid)
				rc = set_fmt(ln, i, "%d", (int)ns->ppid);
			break;
		case COL_COMMAND:
			rc = smartcols.scols_line_set_data(ln, i, ns ? ns->command : NULL);
			break;
		case COL_UID:
			if (ns && ns->pid)
				rc = set_fmt(ln, i, "%u", (unsigned)ns->uid);
			break;
		case COL_USER:
			if (ns && ns->pid)
				rc = smartcols.scols_line_set_data(ln, i, user_name(ns->uid));
			break;
		case COL_NSFS:
			if (ns && ns->nsfs)
				rc = smartcols.scols_line_refer_data(ln, i, join_strv(ns->nsfs));
			break;
		case COL_PNS:
			if (ns)
				rc = set_fmt(ln, i, "%llu", (unsigned long long)ns->parent);
			break;
		case COL_ONS:
			if (ns)
				rc = set_fmt(ln, i, "%llu", (unsigned long long)ns->owner);
			break;
		case COL_SHARED:
			if (c->have_host)
				rc = smartcols.scols_line_set_data(ln, i,
							 ins_ns_id_equal(c->host.id[type], id) ? "yes" : "no");
			break;
		case COL_CONTAINER:
			/* Filled once container discovery exists (ps -A). */
			break;
		}
	}
	return rc;
}

static bool wants_relations(const struct ns_cmd *c)
{
	return c->tree || cli_table_has(&c->table, COL_PNS) || cli_table_has(&c->table, COL_ONS);
}

/* Adds the line of TAB->ns[I] under its tree parent's line, creating parents first. */
static struct libscols_line *tree_line(const struct ns_cmd *c, struct libscols_table *tb,
				       const struct ins_ns_table *tab, struct libscols_line **lines,
				       size_t i, unsigned depth)
{
	const struct ins_namespace *ns = &tab->ns[i];
	struct libscols_line *parent = NULL;
	ino_t up = c->tree == TREE_OWNER ? ns->owner : ns->parent;

	if (lines[i])
		return lines[i];
	if (up && depth < 64) {
		const struct ins_namespace *pns = ins_ns_table_find(tab, up);

		if (pns && pns != ns)
			parent = tree_line(c, tb, tab, lines, (size_t)(pns - tab->ns), depth + 1);
	}
	lines[i] = smartcols.scols_table_new_line(tb, parent);
	if (lines[i] && fill_line(c, lines[i], ns, ns->type, ns->id, NULL) < 0)
		return NULL;
	return lines[i];
}

static int list_host(struct ns_cmd *c, struct libscols_table *tb)
{
	struct ins_ns_table_opts opts = {
		.types = c->types,
		.relations = wants_relations(c),
		.interpolate = c->tree != TREE_NONE,
	};
	struct ins_target task = INS_TARGET_INIT;
	struct ins_ns_table tab;
	struct libscols_line **lines;
	struct ins_error err;
	int rc = 0;

	if (c->task) {
		if (ins_target_resolve(c->task, &task, &err) < 0)
			return cli_fail(c->prog, &err);
		opts.pid = task.pid;
	}
	rc = ins_ns_table_read(&opts, &tab, &err);
	ins_target_release(&task);
	if (rc < 0)
		return cli_fail(c->prog, &err);
	lines = calloc(tab.n + 1, sizeof(*lines));
	for (size_t i = 0; lines && i < tab.n && rc == 0; i++) {
		if (c->tree)
			rc = tree_line(c, tb, &tab, lines, i, 0) ? 0 : -1;
		else if (!(lines[i] = smartcols.scols_table_new_line(tb, NULL)))
			rc = -1;
		else
			rc = fill_line(c, lines[i], &tab.ns[i], tab.ns[i].type, tab.ns[i].id, NULL);
	}
	if (!lines)
		rc = -1;
	free(lines);
	ins_ns_table_free(&tab);
	if (rc < 0) {
		cli_warn(c->prog, "out of memory");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* Whether the target view needs host-wide facts (NPROCS, COMMAND, ...). */
static bool wants_host_table(const struct ns_cmd *c)
{
	for (size_t i = 0; i < c->table.ncols; i++) {
		int col = c->table.cols[i];

		if (col != COL_NS && col != COL_TYPE && col != COL_PATH && col != COL_SHARED &&
		    col != COL_CONTAINER)
			return true;
	}
	return false;
}

static int list_target(struct ns_cmd *c, struct libscols_table *tb)
{
	struct ins_target target;
	struct ins_ns_set set;
	struct ins_ns_table tab = { 0 };
	struct ins_error err;
	int rc = EXIT_OK;

	if (ins_target_resolve(c->target, &target, &err) < 0)
		return cli_fail(c->prog, &err);
	if (ins_ns_of_pid(target.pid, &set, &err) < 0) {
		ins_target_release(&target);
		return cli_fail(c->prog, &err);
	}
	if (wants_host_table(c)) {
		struct ins_ns_table_opts opts = { .pid = target.pid, .relations = wants_relations(c) };

		if (ins_ns_table_read(&opts, &tab, &err) < 0) {
			ins_target_release(&target);
			return cli_fail(c->prog, &err);
		}
	}
	for (int t = 0; t < INS_NS_NTYPES && rc == EXIT_OK; t++) {
		struct libscols_line *ln;
		char path[64];

		if (!(set.present & INS_NS_BIT(t)) || (c->types && !(c->types & INS_NS_BIT(t))))
			continue;
		ins_ns_proc_path(target.pid, t, path, sizeof(path));
		ln = smartcols.scols_table_new_line(tb, NULL);
		if (!ln || fill_line(c, ln, ins_ns_table_find(&tab, set.id[t].ino), t, set.id[t], path) < 0) {
			cli_warn(c->prog, "out of memory");
			rc = EXIT_ERROR;
		}
	}
	ins_ns_table_free(&tab);
	ins_target_release(&target);
	return rc;
}

int tool_ns(int argc, char **argv)
{
	struct ns_cmd c = { .prog = argv[0] };
	struct libscols_table *tb;
	struct ins_error err;
	int rc = parse_args(&c, argc, argv);

	if (rc != EXIT_OK)
		return rc;
	if (c.target ? cli_table_setup(&c.table, c.prog, columns, NCOLUMNS, CLI_ARRAY(target_defaults), &rc)
		     : cli_table_setup(&c.table, c.prog, columns, NCOLUMNS, CLI_ARRAY(host_defaults), &rc))
		return rc;
	if (cli_table_has(&c.table, COL_SHARED)) {
		if (ins_ns_host(&c.host, &err) < 0)
			return cli_fail(c.prog, &err);
		c.have_host = true;
	}
	tb = cli_table_new(&c.table, columns, "namespaces", &err);
	if (!tb)
		return cli_fail(c.prog, &err);
	if (c.tree)
		smartcols.scols_column_set_flags(smartcols.scols_table_get_column(tb, 0),
				       smartcols.scols_column_get_flags(smartcols.scols_table_get_column(tb, 0)) | SCOLS_FL_TREE);
	rc = c.target ? list_target(&c, tb) : list_host(&c, tb);
	if (rc != EXIT_OK) {
		smartcols.scols_unref_table(tb);
		return rc;
	}
	return cli_table_print(tb, c.prog);
}
