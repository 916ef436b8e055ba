/* ctk ns against real namespaces made by the tests, and against lsns(8). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../helpers.h"

static const char *const types[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };

static struct child target;
static char nsfs_file[64];
static json_t *doc;
static pid_t churner;

static void teardown(void)
{
	if (churner > 0) {
		kill(churner, SIGKILL);
		waitpid(churner, NULL, 0);
		churner = 0;
	}
	child_cleanup(&target);
	if (nsfs_file[0]) {
		umount2(nsfs_file, MNT_DETACH);
		unlink(nsfs_file);
		nsfs_file[0] = '\0';
	}
	json_decref(doc);
	doc = NULL;
}

TestSuite(ns, .fini = teardown, .timeout = 60);

/* Runs ctk with the given arguments, expects success, returns the "namespaces" array. */
#define ctk_json(...)                                                                 \
	({                                                                             \
		struct run r_;                                                         \
		cr_assert_eq(ctk(&r_, __VA_ARGS__, NULL), 0);                          \
		cr_assert_eq(r_.status, 0, "ctk failed (%d): %s", r_.status, r_.err); \
		json_decref(doc);                                                      \
		doc = json_parse(r_.out);                                              \
		cr_assert_not_null(doc, "not JSON: %s", r_.out);                       \
		run_free(&r_);                                                         \
		json_object_get(doc, "namespaces");                                    \
	})

static json_t *row_with_ns(json_t *rows, unsigned long long ino)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row)
		if ((unsigned long long)json_integer_value(json_object_get(row, "ns")) == ino)
			return row;
	return NULL;
}

static const char *str(json_t *row, const char *key)
{
	return json_string_value(json_object_get(row, key));
}

static long long num(json_t *row, const char *key)
{
	return json_integer_value(json_object_get(row, key));
}

static void start(const struct child_opts *o)
{
	cr_assert_eq(child_start(o, &target), 0, "cannot start the target: %m");
}

/* The host's namespace of TYPE, by the rule ctk documents: PID 1's, else kthreadd's. */
static unsigned long long host_inode(const char *type)
{
	unsigned long long ino = ns_inode(1, type);

	return ino ? ino : ns_inode(2, type);
}

Test(ns, target_view_reports_its_eight_namespaces_exactly)
{
	struct child_opts o = {
		.flags = CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWPID |
			 CLONE_NEWCGROUP,
		.mount_proc = true,
		.hostname = "ctk-ns-test",
	};
	json_t *rows;

	start(&o);
	rows = ctk_json("ns", "--json", pidstr(target.pid));
	cr_assert_eq(json_array_size(rows), 8);
	for (size_t i = 0; i < 8; i++) {
		json_t *row = json_array_get(rows, i);
		char path[64];
		unsigned long long ino = ns_inode(target.pid, types[i]);

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)target.pid, types[i]);
		cr_assert_str_eq(str(row, "type"), types[i]);
		cr_assert_eq((unsigned long long)num(row, "ns"), ino, "%s", types[i]);
		cr_assert_str_eq(str(row, "path"), path);
		cr_assert_eq(json_is_true(json_object_get(row, "shared")), ino == host_inode(types[i]),
			     "shared of %s", types[i]);
	}
	/* What the child unshared is not the host's; what it kept is. */
	cr_assert(json_is_false(json_object_get(json_array_get(rows, 7), "shared")));
	cr_assert(json_is_true(json_object_get(json_array_get(rows, 6), "shared")));
}

Test(ns, host_view_counts_processes_and_names_the_lowest)
{
	struct child_opts o = { .flags = CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWIPC };
	const char *mine[] = { "uts", "net", "ipc" };
	json_t *rows;

	start(&o);
	rows = ctk_json("ns", "--json", "-o", "NS,TYPE,NPROCS,PID,PPID,COMMAND,UID,USER,PATH");
	for (size_t i = 0; i < 3; i++) {
		json_t *row = row_with_ns(rows, ns_inode(target.pid, mine[i]));
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)target.pid, mine[i]);
		cr_assert_not_null(row, "%s namespace of the child not listed", mine[i]);
		cr_assert_str_eq(str(row, "type"), mine[i]);
		cr_assert_eq(num(row, "nprocs"), 1);
		cr_assert_eq(num(row, "pid"), target.pid);
		cr_assert_eq(num(row, "ppid"), getpid());
		cr_assert_str_eq(str(row, "command"), "sleep infinity");
		cr_assert_eq(num(row, "uid"), 0);
		cr_assert_str_eq(str(row, "user"), "root");
		cr_assert_str_eq(str(row, "path"), path);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Adds the "ns" values of ROWS and their nested "children" to SET. */
static void collect_inodes(json_t *rows, bool live_only, uint64_t *set, size_t *n, size_t max)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row) {
		if (!live_only || num(row, "nprocs") > 0) {
			cr_assert_lt(*n, max);
			set[(*n)++] = (uint64_t)num(row, "ns");
		}
		collect_inodes(json_object_get(row, "children"), live_only, set, n, max);
	}
}

/*
 * The sorted set of namespaces in ROWS (only those with processes when
 * LIVE_ONLY). lsns --json nests a namespace under another when its first
 * process is a child of the other's, so children count too.
 */
static size_t inode_set(json_t *rows, bool live_only, uint64_t *set, size_t max)
{
	size_t n = 0;

	collect_inodes(rows, live_only, set, &n, max);
	qsort(set, n, sizeof(*set), cmp_u64);
	return n;
}

/* lsns's set, or -1 when lsns failed: it gives up when a process vanishes under it. */
static ssize_t lsns_set(uint64_t *set, size_t max)
{
	static char *const argv[] = { "/usr/bin/lsns", "--json", NULL };
	struct run r;
	json_t *d;
	ssize_t n = -1;

	cr_assert_eq(run_argv(&r, NULL, argv), 0);
	d = r.status == 0 ? json_parse(r.out) : NULL;
	if (d)
		n = (ssize_t)inode_set(json_object_get(d, "namespaces"), false, set, max);
	json_decref(d);
	run_free(&r);
	return n;
}

/* The first place two sorted sets differ, as a message; NULL when equal. */
static const char *set_diff(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	static char msg[160];

	for (size_t i = 0; i < na || i < nb; i++)
		if (i >= na || i >= nb || a[i] != b[i]) {
			snprintf(msg, sizeof(msg), "ctk has %zu namespaces, lsns %zu; first difference: %llu vs %llu",
				 na, nb, i < na ? (unsigned long long)a[i] : 0ull,
				 i < nb ? (unsigned long long)b[i] : 0ull);
			return msg;
		}
	return NULL;
}

Test(ns, lists_the_same_namespaces_as_lsns_on_the_host)
{
	enum { MAX = 8192 };
	static uint64_t before[MAX], ours[MAX], after[MAX];
	const char *diff = "lsns never succeeded";

	/*
	 * "The same moment" on a busy host (other tests make and drop
	 * namespaces all the time): a ctk run bracketed by two lsns runs that
	 * all three agree. A real discrepancy never agrees; a transient one
	 * soon does. lsns 2.38 omits persistent namespaces (NPROCS 0 in ctk's).
	 */
	for (int attempt = 0; attempt < 200; attempt++) {
		ssize_t nb = lsns_set(before, MAX);
		size_t no = inode_set(ctk_json("ns", "--json"), true, ours, MAX);
		ssize_t na = lsns_set(after, MAX);

		if (nb < 0 || na < 0 || set_diff(before, (size_t)nb, after, (size_t)na))
			continue;
		diff = set_diff(ours, no, before, (size_t)nb);
		if (!diff)
			return;
	}
	cr_assert_fail("%s", diff);
}

/* In a PID namespace of its own: processes in new namespaces, then lsns and ctk, output to OUT. */
static int isolated_scenario(int lsns_out, int ctk_out)
{
	static char *const lsns_argv[] = { "/usr/bin/lsns", "--json", NULL };
	static const int flags[] = { CLONE_NEWUTS | CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWPID | CLONE_NEWNS };
	char *ctk_argv[] = { (char *)ctk_path(), "ns", "--json", NULL };
	pid_t kids[3];
	struct run l, c;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", 0, NULL) < 0)
		return 10;
	for (int i = 0; i < 3; i++) {
		int p[2];
		char byte;

		if (pipe(p) < 0 || (kids[i] = fork()) < 0)
			return 11;
		if (kids[i] == 0) {
			if (unshare(flags[i]) < 0)
				_exit(1);
			close(p[1]); /* set up */
			if ((flags[i] & CLONE_NEWPID) && fork() == 0)
				pause(); /* PID 1 of a nested PID namespace */
			pause();
			_exit(0);
		}
		close(p[1]);
		if (read(p[0], &byte, 1) != 0)
			return 12;
		close(p[0]);
	}
	usleep(100000); /* the nested PID namespace's first process */
	if (run_argv(&l, NULL, lsns_argv) < 0 || run_argv(&c, NULL, ctk_argv) < 0)
		return 13;
	if (write(lsns_out, l.out, strlen(l.out)) < 0 || write(ctk_out, c.out, strlen(c.out)) < 0)
		return 14;
	return l.status || c.status ? 15 : 0;
}

Test(ns, lists_the_same_namespaces_as_lsns_in_a_quiet_pid_namespace)
{
	enum { MAX = 256 };
	uint64_t theirs[MAX], ours[MAX];
	int lsns_out = memfd_create("lsns", 0), ctk_out = memfd_create("ctk", 0), st;
	char lbuf[65536] = "", cbuf[65536] = "";
	size_t nl, no;
	json_t *l, *c;
	pid_t pid;

	/* Here nothing but this test makes processes: the comparison is exact. */
	cr_assert_geq(lsns_out, 0);
	cr_assert_geq(ctk_out, 0);
	pid = fork();
	if (pid == 0) {
		pid_t init;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
			_exit(1);
		init = fork();
		if (init == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(isolated_scenario(lsns_out, ctk_out));
		}
		waitpid(init, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 2);
	}
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "scenario failed: %d", st);
	cr_assert_gt(pread(lsns_out, lbuf, sizeof(lbuf) - 1, 0), 0);
	cr_assert_gt(pread(ctk_out, cbuf, sizeof(cbuf) - 1, 0), 0);
	l = json_parse(lbuf);
	c = json_parse(cbuf);
	cr_assert(l && c);
	nl = inode_set(json_object_get(l, "namespaces"), false, theirs, MAX);
	no = inode_set(json_object_get(c, "namespaces"), true, ours, MAX);
	/* Ours: 8 of the init + 2 + 1 + (pid, mnt): at least 13. */
	cr_assert_geq(no, 13, "%s", cbuf);
	cr_assert_null(set_diff(ours, no, theirs, nl), "%s", set_diff(ours, no, theirs, nl));
	json_decref(l);
	json_decref(c);
	close(lsns_out);
	close(ctk_out);
}

/* Keeps the namespace TYPE of the target alive through a bind mount, then kills the target. */
static unsigned long long persist(const char *type)
{
	char src[64];
	unsigned long long ino = ns_inode(target.pid, type);
	int fd;

	snprintf(nsfs_file, sizeof(nsfs_file), "/tmp/ctk-test-nsfs-XXXXXX");
	fd = mkstemp(nsfs_file);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(src, sizeof(src), "/proc/%d/ns/%s", (int)target.pid, type);
	cr_assert_eq(mount(src, nsfs_file, NULL, MS_BIND, NULL), 0, "bind %s: %m", src);
	child_cleanup(&target);
	return ino;
}

Test(ns, lists_persistent_namespaces_held_by_nsfs_mounts)
{
	struct child_opts o = { .flags = CLONE_NEWNET, .no_exec = true };
	unsigned long long ino;
	json_t *row;

	cr_assert_eq(private_mounts(), 0, "%m");
	start(&o);
	ino = persist("net");
	row = row_with_ns(ctk_json("ns", "--json", "-t", "net", "-o", "NS,TYPE,NPROCS,PID,PATH,NSFS"), ino);
	cr_assert_not_null(row, "the persistent namespace is not listed");
	cr_assert_eq(num(row, "nprocs"), 0);
	cr_assert(json_is_null(json_object_get(row, "pid")));
	cr_assert_str_eq(str(row, "path"), nsfs_file);
	cr_assert_str_eq(str(row, "nsfs"), nsfs_file);
}

static json_t *child_with_ns(json_t *node, unsigned long long ino)
{
	return row_with_ns(json_object_get(node, "children"), ino);
}

Test(ns, tree_shows_owners_and_completes_them)
{
	struct child_opts o = {
		.flags = CLONE_NEWUSER | CLONE_NEWUTS, .map_users = true, .no_exec = true,
	};
	unsigned long long user, uts;
	json_t *root, *owner, *leaf;

	cr_assert_eq(private_mounts(), 0, "%m");
	start(&o);
	user = ns_inode(target.pid, "user");
	/* Only the UTS namespace stays (by mount); its user namespace lives on as its owner. */
	uts = persist("uts");
	root = row_with_ns(ctk_json("ns", "--json", "--tree", "-t", "user,uts"), host_inode("user"));
	cr_assert_not_null(root, "the initial user namespace is not a root of the tree");
	owner = child_with_ns(root, user);
	cr_assert_not_null(owner, "the owning user namespace is missing from the tree");
	cr_assert_eq(num(owner, "nprocs"), 0);
	leaf = child_with_ns(owner, uts);
	cr_assert_not_null(leaf, "the UTS namespace is not under its owner");
	cr_assert_str_eq(str(leaf, "type"), "uts");
	/* The flat listing, like lsns's, shows only what processes or mounts hold. */
	cr_assert_null(row_with_ns(ctk_json("ns", "--json", "-t", "user"), user));
	/* ONS and PNS name the owner and the parent. */
	leaf = row_with_ns(ctk_json("ns", "--json", "-t", "uts", "-o", "NS,ONS,PNS"), uts);
	cr_assert_eq((unsigned long long)num(leaf, "ons"), user);
	cr_assert_eq(num(leaf, "pns"), 0);
}

Test(ns, filters_by_type_and_by_process)
{
	struct child_opts o = { .flags = CLONE_NEWUTS | CLONE_NEWNET };
	size_t i;
	json_t *row, *rows;

	start(&o);
	rows = ctk_json("ns", "--json", "-t", "net", "--type", "uts");
	cr_assert_gt(json_array_size(rows), 1);
	json_array_foreach(rows, i, row)
		cr_assert(strcmp(str(row, "type"), "net") == 0 || strcmp(str(row, "type"), "uts") == 0);
	rows = ctk_json("ns", "--json", "-p", pidstr(target.pid));
	cr_assert_eq(json_array_size(rows), 8);
	for (size_t t = 0; t < 8; t++)
		cr_assert_not_null(row_with_ns(rows, ns_inode(target.pid, types[t])), "%s", types[t]);
}

Test(ns, output_format_options)
{
	struct child_opts o = { .flags = CLONE_NEWUTS };
	char expect[256];
	struct run r;
	regex_t re;

	start(&o);
	ctk(&r, "ns", "-n", "-r", "-o", "NS,TYPE", "-t", "uts", pidstr(target.pid), NULL);
	snprintf(expect, sizeof(expect), "%llu uts\n", ns_inode(target.pid, "uts"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, expect);
	run_free(&r);

	ctk(&r, "ns", "-o", "+PATH,SHARED", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strncmp(r.out + strspn(r.out, " "), "NS TYPE", 7) == 0, "%s", r.out);
	cr_assert_eq(regcomp(&re, "COMMAND +PATH +SHARED$", REG_EXTENDED | REG_NEWLINE), 0);
	cr_assert_eq(regexec(&re, r.out, 0, NULL, 0), 0, "%s", r.out);
	regfree(&re);
	run_free(&r);

	ctk(&r, "ns", "--list-columns", "-r", "-n", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "NSFS nsfs "), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "CONTAINER container "), "%s", r.out);
	run_free(&r);
}

Test(ns, bad_input_gives_one_line_and_the_documented_status)
{
	static const struct {
		const char *args[4];
		int status;
		const char *err;
	} cases[] = {
		{ { "999999999" }, 1, "ctk ns: 999999999: no such process\n" },
		{ { "nope" }, 1, "ctk ns: nope: no such process or container\n" },
		{ { "-t", "bogus" }, 2, "ctk ns: unknown namespace type: bogus\n" },
		{ { "-o", "BOGUS" }, 2, "ctk ns: unknown column: BOGUS\n" },
		{ { "-T", "1" }, 2, NULL },
		{ { "1", "2" }, 2, "ctk ns: unexpected argument: 2\n" },
		{ { "--tree=sideways" }, 2, "ctk ns: unknown tree relation: sideways\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;

		ctk(&r, "ns", cases[i].args[0], cases[i].args[1], cases[i].args[2], NULL);
		cr_assert_eq(r.status, cases[i].status, "case %zu: %s", i, r.err);
		if (cases[i].err && cases[i].status == 1)
			cr_assert_str_eq(r.err, cases[i].err);
		else if (cases[i].err)
			cr_assert_eq(strncmp(r.err, cases[i].err, strlen(cases[i].err)), 0, "%s", r.err);
		cr_assert_str_empty(r.out);
		run_free(&r);
	}
}

Test(ns, an_exited_process_is_an_error)
{
	pid_t zombie = zombie_start();
	char expect[128];
	struct run r;

	cr_assert_gt(zombie, 0);
	ctk(&r, "ns", pidstr(zombie), NULL);
	snprintf(expect, sizeof(expect), "ctk ns: %d: process has exited\n", (int)zombie);
	waitpid(zombie, NULL, 0);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, expect);
	run_free(&r);
}

Test(ns, processes_that_vanish_mid_scan_are_not_errors)
{
	/* Short-lived processes in namespaces of their own, as fast as we can make them. */
	churner = fork();
	cr_assert_geq(churner, 0);
	if (churner == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			pid_t p = fork();

			if (p == 0)
				_exit(unshare(CLONE_NEWUTS | CLONE_NEWIPC) == 0 ? 0 : 1);
			if (p > 0)
				waitpid(p, NULL, 0);
		}
	}
	for (int i = 0; i < 30; i++) {
		struct run r;

		ctk(&r, "ns", "--json", "-o", "NS,TYPE,NPROCS,PID,PPID,COMMAND,USER,ONS", NULL);
		cr_assert_eq(r.status, 0, "run %d: %s", i, r.err);
		json_decref(doc);
		doc = json_parse(r.out);
		cr_assert_not_null(doc, "run %d: not JSON", i);
		run_free(&r);
	}
}
