/* ctk enter against real namespaces, cgroups and roots made by the tests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../helpers.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static struct child target;
static char tmpdir[64];
static char nsfs_file[64];
static char cgroup_dirs[2][256];

static void teardown(void)
{
	child_cleanup(&target);
	if (nsfs_file[0]) {
		umount2(nsfs_file, MNT_DETACH);
		unlink(nsfs_file);
		nsfs_file[0] = '\0';
	}
	if (tmpdir[0]) {
		rmdir(tmpdir);
		tmpdir[0] = '\0';
	}
	for (int i = 0; i < 2; i++) {
		/* A cgroup can be removed once its last process is reaped. */
		for (int tries = 0; cgroup_dirs[i][0] && rmdir(cgroup_dirs[i]) < 0 && errno == EBUSY &&
				    tries < 100;
		     tries++)
			usleep(10000);
		cgroup_dirs[i][0] = '\0';
	}
}

TestSuite(enter, .fini = teardown, .timeout = 60);

static void start(const struct child_opts *o)
{
	cr_assert_eq(child_start(o, &target), 0, "cannot start the target: %m");
}

/* Runs "ctk enter ARGS...", expects status STATUS and returns stdout (stderr when STATUS is not 0). */
#define enter_ok(status, ...) ctk_ok(status, "enter", __VA_ARGS__)

Test(enter, uts_and_net_show_the_targets_hostname_and_devices)
{
	struct child_opts o = { .flags = CLONE_NEWUTS | CLONE_NEWNET, .hostname = "ctk-enter-uts" };
	char expect[64];

	start(&o);
	cr_assert_str_eq(enter_ok(0, "-t", pidstr(target.pid), "-n", "-u", "hostname"), "ctk-enter-uts\n");
	/* A new network namespace has only a loopback device, and it is down. */
	cr_assert_str_eq(enter_ok(0, "-n", "-u", pidstr(target.pid), "--", "sh", "-c",
				  "tail -n +3 /proc/self/net/dev | cut -d: -f1 | tr -d ' '"),
			 "lo\n");
	snprintf(expect, sizeof(expect), "net:[%llu]\n", ns_inode(target.pid, "net"));
	cr_assert_str_eq(enter_ok(0, "--net", "-t", pidstr(target.pid), "readlink", "/proc/self/ns/net"),
			 expect);
}

Test(enter, pid_namespace_runs_the_command_inside_it)
{
	struct child_opts o = { .flags = CLONE_NEWPID | CLONE_NEWNS, .mount_proc = true };
	struct run r;
	char expect[32];

	start(&o);
	/* The target is PID 1 there; the first process to join it is PID 2. */
	cr_assert_str_eq(enter_ok(0, "-t", pidstr(target.pid), "-p", "-m", "sh", "-c", "echo $$"), "2\n");
	/* Its /proc shows the namespace's PIDs: the target, and the shell (which globs itself). */
	cr_assert_str_eq(enter_ok(0, "-t", pidstr(target.pid), "-p", "-m", "sh", "-c",
				  "cat /proc/1/comm; set -- /proc/[0-9]*; echo $# $1"),
			 "sleep\n2 /proc/1\n");
	/* -F: no fork, so the command is not in the PID namespace (only its children would be). */
	cr_assert_eq(ctk(&r, "enter", "-F", "-p", "-t", pidstr(target.pid), "sh", "-c", "echo $$", NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(expect, sizeof(expect), "%d\n", (int)r.pid);
	cr_assert_str_eq(r.out, expect);
	run_free(&r);
}

Test(enter, all_enters_every_namespace_that_differs)
{
	static const char *const types[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };
	struct child_opts o = {
		.flags = CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWPID |
			 CLONE_NEWCGROUP,
		.mount_proc = true,
	};
	char expect[1024] = "";

	start(&o);
	for (size_t i = 0; i < 8; i++)
		snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), "%s:[%llu]\n",
			 types[i], ns_inode(target.pid, types[i]));
	cr_assert_str_eq(enter_ok(0, "-a", "-t", pidstr(target.pid), "sh", "-c",
				  "for t in cgroup ipc mnt net pid time user uts; do readlink /proc/self/ns/$t; done"),
			 expect);
	/* No namespace option at all means --all. */
	cr_assert_str_eq(enter_ok(0, pidstr(target.pid), "sh", "-c",
				  "for t in cgroup ipc mnt net pid time user uts; do readlink /proc/self/ns/$t; done"),
			 expect);
}

Test(enter, no_fd_of_the_caller_reaches_the_command)
{
	struct child_opts o = { .flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS, .mount_proc = true };
	struct run_opts leak = { .leak_fd = 42 };
	const char *modes[][2] = { { "-u", "-u" }, { "-p", "-m" } }; /* exec in place; fork */
	struct run r;

	start(&o);
	for (size_t m = 0; m < 2; m++) {
		cr_assert_eq(ctk_opts(&r, &leak, "enter", modes[m][0], modes[m][1], "-t",
				      pidstr(target.pid), "ls", "/proc/self/fd", NULL),
			     0);
		cr_assert_eq(r.status, 0, "%s", r.err);
		/* 0-2, and the directory ls itself reads: nothing of ours. */
		cr_assert_str_eq(r.out, "0\n1\n2\n3\n", "mode %zu", m);
		run_free(&r);
	}
}

/* Drops CAP from our bounding, permitted, effective and inheritable sets. */
static void drop_capability(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	cr_assert_eq(prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), 0, "%m");
	cr_assert_eq(syscall(SYS_capget, &h, d), 0, "%m");
	for (int i = 0; i < 2; i++) {
		d[i].effective &= ~(i == cap / 32 ? 1u << (cap % 32) : 0);
		d[i].permitted &= ~(i == cap / 32 ? 1u << (cap % 32) : 0);
		d[i].inheritable &= ~(i == cap / 32 ? 1u << (cap % 32) : 0);
	}
	cr_assert_eq(syscall(SYS_capset, &h, d), 0, "%m");
}

static pid_t first_child_of(pid_t pid)
{
	char path[64];
	long child = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	f = fopen(path, "re");
	if (f && fscanf(f, "%ld", &child) != 1)
		child = 0;
	if (f)
		fclose(f);
	return (pid_t)child;
}

Test(enter, stays_non_dumpable_until_exec)
{
	struct child_opts o = { .flags = CLONE_NEWPID | CLONE_NEWNS, .mount_proc = true };
	struct run_opts bg = { .background = true };
	char path[64], link[256];
	pid_t cmd = 0;
	struct run r;

	/*
	 * Without CAP_SYS_PTRACE anywhere, a process of the same uid and
	 * capabilities can read a dumpable process's /proc/PID/exe but not a
	 * non-dumpable one's: exactly what a container process could try on
	 * ctk (CVE-2019-5736).
	 */
	drop_capability(CAP_SYS_PTRACE);
	start(&o);
	cr_assert_eq(ctk_opts(&r, &bg, "enter", "-p", "-m", "-t", pidstr(target.pid), "sleep", "30", NULL), 0);
	for (int i = 0; i < 5000 && !cmd; i++) {
		cmd = first_child_of(r.pid);
		usleep(1000);
	}
	cr_assert_gt(cmd, 0, "the command never started");
	for (int i = 0; i < 5000; i++) { /* until the command has exec'd sleep */
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)cmd);
		ssize_t n = readlink(path, link, sizeof(link) - 1);

		if (n > 0 && (link[n] = '\0', strstr(link, "sleep")))
			break;
		usleep(1000);
	}
	cr_assert_not_null(strstr(link, "sleep"), "the command is readable once it runs: %s", link);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)r.pid);
	cr_assert_lt(readlink(path, link, sizeof(link)), 0, "ctk's exe is readable while it waits");
	cr_assert(errno == EACCES || errno == EPERM, "%m");
	kill(r.pid, SIGTERM); /* relayed to the command */
	run_wait(&r);
	cr_assert_eq(r.status, 128 + SIGTERM, "%s", r.err);
	run_free(&r);
}

Test(enter, exit_status_is_the_commands)
{
	struct child_opts o = { .flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS, .mount_proc = true };
	char expect[128];
	struct run r;

	/* A directory cannot be executed: EACCES, 126. */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctk-test-dir-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	start(&o);
	enter_ok(7, "-u", "-t", pidstr(target.pid), "sh", "-c", "exit 7");
	enter_ok(7, "-p", "-m", "-t", pidstr(target.pid), "sh", "-c", "exit 7");
	enter_ok(128 + SIGKILL, "-u", "-t", pidstr(target.pid), "sh", "-c", "kill -KILL $$");
	enter_ok(128 + SIGKILL, "-p", "-m", "-t", pidstr(target.pid), "sh", "-c", "kill -KILL $$");
	for (int fork_mode = 0; fork_mode < 2; fork_mode++) {
		ctk(&r, "enter", fork_mode ? "-p" : "-u", "-t", pidstr(target.pid), "no-such-command", NULL);
		cr_assert_eq(r.status, 127);
		cr_assert_str_eq(r.err, "ctk enter: no-such-command: No such file or directory\n");
		run_free(&r);
		ctk(&r, "enter", fork_mode ? "-p" : "-u", "-t", pidstr(target.pid), tmpdir, NULL);
		cr_assert_eq(r.status, 126);
		snprintf(expect, sizeof(expect), "ctk enter: %s: Permission denied\n", tmpdir);
		cr_assert_str_eq(r.err, expect);
		run_free(&r);
	}
}

Test(enter, bad_targets_give_one_line_and_status_1)
{
	struct run_opts nobody = { .set_uid = true, .uid = 65534 };
	struct child_opts o = { .flags = CLONE_NEWUTS };
	pid_t zombie;
	char expect[128];
	struct run r;

	ctk(&r, "enter", "-t", "999999999", "true", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "ctk enter: 999999999: no such process\n");
	run_free(&r);

	zombie = zombie_start();
	cr_assert_gt(zombie, 0);
	ctk(&r, "enter", "-u", "-t", pidstr(zombie), "true", NULL);
	waitpid(zombie, NULL, 0);
	snprintf(expect, sizeof(expect), "ctk enter: %d: process has exited\n", (int)zombie);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, expect);
	run_free(&r);

	start(&o);
	ctk_opts(&r, &nobody, "enter", "-u", "-t", pidstr(target.pid), "true", NULL);
	snprintf(expect, sizeof(expect), "ctk enter: %d: cannot enter its namespaces: Operation not permitted\n",
		 (int)target.pid);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, expect);
	run_free(&r);
}

Test(enter, usage_errors_exit_2)
{
	static const char *const cases[][4] = {
		{ "-n" }, /* no target */
		{ "--tools", "-m", "1" },
		{ "--bogus" },
		{ "-S", "x", "1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;

		ctk(&r, "enter", cases[i][0], cases[i][1], cases[i][2], NULL);
		cr_assert_eq(r.status, 2, "case %zu: %s", i, r.err);
		cr_assert_not_null(strstr(r.err, "Try 'ctk enter --help'"), "%s", r.err);
		run_free(&r);
	}
}

/* The cgroup2 mount point: /sys/fs/cgroup itself (v2) or its unified/ (hybrid). */
static const char *cgroup2_mount(void)
{
	struct statfs s;

	if (statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup";
	if (statfs("/sys/fs/cgroup/unified", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup/unified";
	return NULL;
}

/* Our cgroup path in the hierarchy whose /proc/self/cgroup controller field is CONTROLLERS. */
static void own_cgroup(const char *controllers, char *path, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");

	cr_assert_not_null(f);
	path[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2 || (size_t)(c2 - c1 - 1) != strlen(controllers) ||
		    strncmp(c1 + 1, controllers, strlen(controllers)) != 0)
			continue;
		c2[strcspn(c2, "\n")] = '\0';
		snprintf(path, size, "%s", strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1);
	}
	fclose(f);
}

/*
 * Makes cgroup NAME below our own in the hierarchy mounted at MOUNT (so the
 * suite's leftover check sees whatever lands in it) and moves the target in.
 * Returns its path as /proc/PID/cgroup shows it.
 */
static const char *make_cgroup(int i, const char *mount, const char *controllers, const char *name)
{
	static char shown[2][160];
	char procs[256], mine[128];
	FILE *f;

	own_cgroup(controllers, mine, sizeof(mine));
	snprintf(shown[i], sizeof(shown[i]), "%s/%s", mine, name);
	snprintf(cgroup_dirs[i], sizeof(cgroup_dirs[i]), "%s%s", mount, shown[i]);
	cr_assert_eq(mkdir(cgroup_dirs[i], 0755), 0, "%s: %m", cgroup_dirs[i]);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup_dirs[i]);
	f = fopen(procs, "we");
	cr_assert_not_null(f, "%s: %m", procs);
	fprintf(f, "%d\n", (int)target.pid);
	cr_assert_eq(fclose(f), 0, "%s: %m", procs);
	return shown[i];
}

Test(enter, join_cgroup_lands_in_the_targets_cgroups)
{
	struct child_opts o = { .flags = CLONE_NEWUTS };
	const char *v2 = cgroup2_mount(), *v1_path = NULL, *v2_path = NULL, *out;
	bool v1 = access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) == 0;
	char name[64], line[256];

	cr_assert(v1 || v2, "no cgroup hierarchy to test with");
	start(&o);
	snprintf(name, sizeof(name), "ctk-test-%d", (int)getpid());
	if (v1)
		v1_path = make_cgroup(0, "/sys/fs/cgroup/pids", "pids", name);
	if (v2)
		v2_path = make_cgroup(1, v2, "", name);
	out = enter_ok(0, "-u", "--join-cgroup", "-t", pidstr(target.pid), "cat", "/proc/self/cgroup");
	if (v1) {
		snprintf(line, sizeof(line), ":pids:%s\n", v1_path);
		cr_assert_not_null(strstr(out, line), "v1: %s not in %s", line, out);
	}
	if (v2) {
		snprintf(line, sizeof(line), "0::%s\n", v2_path);
		cr_assert_not_null(strstr(out, line), "v2: %s not in %s", line, out);
	}
	/* Without the flag, the command stays in ours. */
	out = enter_ok(0, "-u", "-t", pidstr(target.pid), "cat", "/proc/self/cgroup");
	cr_assert_null(strstr(out, name), "%s", out);
}

Test(enter, tools_runs_host_programs_on_the_targets_files)
{
	struct child_opts o = { .flags = CLONE_NEWNS | CLONE_NEWUTS, .hostname = "distroless" };
	char expect[64];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctk-test-root-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	o.rootfs = tmpdir;
	o.no_exec = true; /* the target's root has no sleep of its own to run... */
	start(&o);
	/* ...yet the host's sh, cat and hostname work on its files, in its namespaces. */
	cr_assert_str_eq(enter_ok(0, "--tools", "-t", pidstr(target.pid), "sh", "-c",
				  "cat data/marker; hostname"),
			 "ctk-rootfs-marker\ndistroless\n");
	/* ...from our own mount namespace. */
	snprintf(expect, sizeof(expect), "mnt:[%llu]\n", ns_inode(0, "mnt"));
	cr_assert_str_eq(enter_ok(0, "--tools", pidstr(target.pid), "readlink", "/proc/self/ns/mnt"), expect);
}

Test(enter, root_and_wd_follow_the_target_and_stay_inside)
{
	struct child_opts o = { .flags = CLONE_NEWNS | CLONE_NEWUTS };
	char arg[96];
	struct run r;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctk-test-root-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	o.rootfs = tmpdir;
	start(&o);
	cr_assert_str_eq(enter_ok(0, "-m", "-r", "-w", "-t", pidstr(target.pid), "pwd"), "/data\n");
	cr_assert_str_eq(enter_ok(0, "-m", "--root", "-t", pidstr(target.pid), "cat", "/data/marker"),
			 "ctk-rootfs-marker\n");
	/* -r DIR is a path in the entered mount namespace, where the target's root is TMPDIR. */
	snprintf(arg, sizeof(arg), "--root=%s", tmpdir);
	cr_assert_str_eq(enter_ok(0, "-m", arg, "--wd=/data", "-t", pidstr(target.pid), "cat", "marker"),
			 "ctk-rootfs-marker\n");
	/* Entering the mount namespace alone starts at its root, not at the target's root. */
	cr_assert_str_eq(enter_ok(0, "-m", "-t", pidstr(target.pid), "pwd"), "/\n");
	enter_ok(1, "-m", "-t", pidstr(target.pid), "test", "-e", "/data/marker");
	/* In its mount namespace, the target's cwd is reachable from that namespace's root... */
	cr_assert_str_eq(enter_ok(0, "-w", "-m", "-t", pidstr(target.pid), "cat", "marker"),
			 "ctk-rootfs-marker\n");
	/* ...from ours it is not: refused, as runc refuses it since CVE-2024-21626. */
	cr_assert_eq(ctk(&r, "enter", "-w", "-u", "-t", pidstr(target.pid), "true", NULL), 0);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.err, "ctk enter: working directory is outside the root\n");
	run_free(&r);
}

Test(enter, env_copies_the_targets_environment)
{
	static char *const env[] = { "CTK_MARK=hello", "PATH=/usr/bin:/bin", NULL };
	struct child_opts o = { .flags = CLONE_NEWUTS, .env = env };

	start(&o);
	cr_assert_str_eq(enter_ok(0, "-e", "-t", pidstr(target.pid), "env"),
			 "CTK_MARK=hello\nPATH=/usr/bin:/bin\n");
}

Test(enter, user_namespace_credentials)
{
	struct child_opts o = {
		.flags = CLONE_NEWUSER | CLONE_NEWUTS, .map_users = true, .run_as = 1000,
	};
	const char *ids = "echo $(id -u) $(id -g)";

	start(&o);
	cr_assert_str_eq(enter_ok(0, "-U", "-u", "-t", pidstr(target.pid), "sh", "-c", ids), "0 0\n");
	cr_assert_str_eq(enter_ok(0, "-U", "-S", "5", "-G", "7", "-t", pidstr(target.pid), "sh", "-c", ids),
			 "5 7\n");
	cr_assert_str_eq(enter_ok(0, "-U", "--setuid=follow", "--setgid=follow", "-t", pidstr(target.pid),
				  "sh", "-c", ids),
			 "1000 1000\n");
	/* Our uid 0 has no mapping in there: the kernel shows the overflow id. */
	cr_assert_str_eq(enter_ok(0, "-U", "--preserve-credentials", "-t", pidstr(target.pid), "sh", "-c",
				  ids),
			 "65534 65534\n");
}

Test(enter, namespace_files_need_no_target)
{
	struct child_opts o = { .flags = CLONE_NEWNET | CLONE_NEWUTS, .no_exec = true };
	char expect[160], arg[96];
	unsigned long long ino;
	struct run r;
	int fd;

	cr_assert_eq(private_mounts(), 0, "%m");
	start(&o);
	ino = ns_inode(target.pid, "net");
	snprintf(nsfs_file, sizeof(nsfs_file), "/tmp/ctk-test-netns-XXXXXX");
	fd = mkstemp(nsfs_file);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(arg, sizeof(arg), "/proc/%d/ns/net", (int)target.pid);
	cr_assert_eq(mount(arg, nsfs_file, NULL, MS_BIND, NULL), 0, "%m");
	child_cleanup(&target); /* only the mount keeps it now */
	snprintf(expect, sizeof(expect), "net:[%llu]\n", ino);
	snprintf(arg, sizeof(arg), "--net=%s", nsfs_file);
	cr_assert_str_eq(enter_ok(0, arg, "readlink", "/proc/self/ns/net"), expect);
	snprintf(arg, sizeof(arg), "-n%s", nsfs_file);
	cr_assert_str_eq(enter_ok(0, arg, "readlink", "/proc/self/ns/net"), expect);
	snprintf(arg, sizeof(arg), "--uts=%s", nsfs_file);
	ctk(&r, "enter", arg, "true", NULL);
	snprintf(expect, sizeof(expect), "ctk enter: %s: is a net namespace, not uts\n", nsfs_file);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, expect);
	run_free(&r);
}
