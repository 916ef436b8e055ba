/* ctk run and the container lifecycle, with real busybox containers. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../helpers.h"
#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/fileio.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static char work[64], store[96];
static json_t *doc;

static void setup(void)
{
	scratch_store("run", work, sizeof(work), store, sizeof(store));
}

static void teardown(void)
{
	json_decref(doc);
	doc = NULL;
	scratch_store_remove(work, store);
}

TestSuite(run, .init = setup, .fini = teardown, .timeout = 120);

/* Makes and imports a busybox image (mkimage.sh docker ARGS...) as NAME. */
#define image(...) import_image_(work, __VA_ARGS__, NULL)

/* A detached container's full id (the line ctk run -d prints). */
static const char *detach(const char *out)
{
	static char id[80];

	snprintf(id, sizeof(id), "%s", out);
	id[strcspn(id, "\n")] = '\0';
	cr_assert_eq(strlen(id), 64, "not an id: %s", out);
	return id;
}

/* A container's record, reloaded. */
static struct ins_container load(const char *id)
{
	struct ins_store s;
	struct ins_container c;
	struct ins_error err;

	cr_assert_eq(ins_store_open(store, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(ins_container_load(&s, id, &c, &err), 0, "%s", err.msg);
	ins_store_close(&s);
	return c;
}

static pid_t pid1(const char *id)
{
	struct ins_container c = load(id);
	pid_t pid = ins_container_pid(&c);

	ins_container_free(&c);
	cr_assert_gt(pid, 0, "container %s is not running", id);
	return pid;
}

static char *read_host(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *read_host(const char *fmt, ...)
{
	char path[4096];
	struct ins_error err;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	text = ins_read_file_at(AT_FDCWD, path, NULL, &err);
	cr_assert_not_null(text, "%s", err.msg);
	return text;
}

Test(run, exec_form_and_shell_form_follow_dockers_rules)
{
	image("ep", "--entrypoint", "[\"/bin/echo\",\"ep\"]", "--cmd", "[\"default\"]");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "ep"), "ep default\n", "ENTRYPOINT then CMD");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "ep", "x", "y"), "ep x y\n", "ARGs replace CMD");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "--entrypoint", "/bin/echo", "ep"), "\n",
			 "--entrypoint replaces ENTRYPOINT and clears CMD");
	/* Exec form: PID 1 is the command itself. */
	cr_assert_eq(memcmp(ctk_ok(0, "run", "--rm", "--entrypoint", "cat", "ep", "/proc/1/cmdline"),
			    "cat\0/proc/1/cmdline\0", 20),
		     0);
}

Test(run, a_shell_form_cmd_runs_under_bin_sh_c_as_pid_1)
{
	struct run r;
	char tar[160];

	image("base");
	snprintf(tar, sizeof(tar), "%s/base.tar", work);
	ctk_ok(0, "image", "import", "--name", "shell", "-c", "CMD cat /proc/1/cmdline; true", tar);
	cr_assert_eq(ctk(&r, "run", "--rm", "shell", NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(memcmp(r.out, "/bin/sh\0-c\0cat /proc/1/cmdline; true\0", 37), 0);
	run_free(&r);
}

Test(run, exit_status_signals_and_exec_failures)
{
	struct run_opts bg = { .background = true };
	struct run r;

	image("bb");
	ctk_ok(7, "run", "--rm", "bb", "sh", "-c", "exit 7");
	cr_assert_not_null(strstr(ctk_ok(127, "run", "--rm", "bb", "no-such-command"),
				  "no-such-command: No such file or directory"));
	ctk_ok(126, "run", "--rm", "bb", "/etc/passwd");
	ctk_ok(2, "run", "--rm");
	cr_assert_not_null(strstr(ctk_ok(125, "run", "--rm", "nosuchimage"), "nosuchimage: no such image"));
	/* SIGTERM to ctk run reaches PID 1, whose handler decides the status. */
	cr_assert_eq(ctk_opts(&r, &bg, "run", "--rm", "bb", "sh", "-c",
			      "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done", NULL),
		     0);
	for (int i = 0; i < 200; i++) {
		char buf[16] = "";

		if (pread(r.outfd, buf, sizeof(buf) - 1, 0) > 0 && strstr(buf, "ready"))
			break;
		usleep(20000);
	}
	kill(r.pid, SIGTERM);
	run_wait(&r);
	cr_assert_eq(r.status, 42, "%s", r.err);
	run_free(&r);
}

Test(run, init_layer_hostname_and_network)
{
	const char *id;
	char upper[512];
	struct stat st;
	_cleanup_free_ char *host_dev = read_host("/proc/self/net/dev");
	size_t host_lines = 0;

	image("bb");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "--hostname", "box", "bb", "sh", "-c",
				"hostname; cat /etc/hostname; grep -c box /etc/hosts"),
			 "box\nbox\n1\n");
	/* Network none: a loopback alone, and up. */
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "bb", "sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"),
			 "lo\n");
	for (const char *p = host_dev; *p; p++)
		host_lines += *p == '\n';
	{
		const char *out = ctk_ok(0, "run", "--rm", "--network", "host", "bb", "cat", "/proc/net/dev");
		size_t lines = 0;

		for (const char *p = out; *p; p++)
			lines += *p == '\n';
		cr_assert_eq(lines, host_lines, "--network host sees the host's devices");
	}
	/* The init layer's files are no change of the container's. */
	id = detach(ctk_ok(0, "run", "-d", "bb", "sh", "-c", "cat /etc/hosts > /dev/null; sleep 100"));
	snprintf(upper, sizeof(upper), "%s/containers/%s/upper/etc", store, id);
	cr_assert_eq(stat(upper, &st), -1, "etc/ reached the read-write layer");
	snprintf(upper, sizeof(upper), "%s/containers/%s/init/etc/hostname", store, id);
	cr_assert_eq(stat(upper, &st), 0);
	ctk_ok(0, "rm", "-f", id);
}

/* Whether some mount of ours (the host's view) is on a path ending in SUFFIX. */
static bool host_mounts_end_with(const char *suffix)
{
	_cleanup_free_ char *mi = read_host("/proc/self/mountinfo");
	char needle[256];

	snprintf(needle, sizeof(needle), "%s ", suffix);
	return strstr(mi, needle) != NULL;
}

Test(run, volumes_are_mounted_inside_only_and_their_data_stays)
{
	char hostdir[160], path[512];
	const char *id, *out;
	json_t *rows;
	size_t i;
	json_t *row;
	const char *anon = NULL;
	struct stat st;

	image("bb");
	snprintf(hostdir, sizeof(hostdir), "%s/hostdir", work);
	cr_assert_eq(mkdir(hostdir, 0755), 0);
	id = detach(ctk_ok(0, "run", "-d", "--name", "vol", "-v", "/test", "-v", "named:/n",
			   "-v", (snprintf(path, sizeof(path), "%s:/h:ro", hostdir), path), "bb", "sleep", "100"));
	ctk_ok(0, "exec", "vol", "sh", "-c", "echo anon > /test/a; echo named > /n/b");
	out = ctk_ok(1, "exec", "vol", "touch", "/h/x");
	cr_assert_not_null(strstr(out, "Read-only file system"), "%s", out);
	/* The host's mount table knows nothing of them. */
	cr_assert(!host_mounts_end_with("/test") && !host_mounts_end_with("/h") && !host_mounts_end_with("/n"));
	/* The mount points are empty directories in the read-write layer. */
	snprintf(path, sizeof(path), "%s/containers/%s/upper/test", store, id);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(rmdir(path), 0, "the mount point holds nothing on the host side");
	cr_assert_eq(mkdir(path, st.st_mode & 07777), 0);
	json_decref(doc);
	doc = json_parse(ctk_ok(0, "volume", "ls", "--json", "-o", "NAME,MOUNTPOINT,CONTAINERS,ANONYMOUS"));
	rows = json_object_get(doc, "volumes");
	cr_assert_eq(json_array_size(rows), 2);
	json_array_foreach(rows, i, row) {
		char expect[32];

		snprintf(expect, sizeof(expect), "%.12s", id);
		cr_assert_str_eq(json_string_value(json_object_get(row, "containers")), expect);
		if (json_is_true(json_object_get(row, "anonymous")))
			anon = json_string_value(json_object_get(row, "mountpoint"));
	}
	cr_assert_not_null(anon);
	snprintf(path, sizeof(path), "%s/a", anon);
	{
		_cleanup_free_ char *data = read_host("%s", path);

		cr_assert_str_eq(data, "anon\n");
	}
	{
		_cleanup_free_ char *data = read_host("%s/volumes/named/_data/b", store);

		cr_assert_str_eq(data, "named\n");
	}
	cr_assert_not_null(strstr(ctk_ok(1, "volume", "rm", "named"), "in use by container"));
	ctk_ok(0, "rm", "-f", "-v", "vol");
	json_decref(doc);
	doc = json_parse(ctk_ok(0, "volume", "ls", "--json"));
	rows = json_object_get(doc, "volumes");
	cr_assert_eq(json_array_size(rows), 1, "-v removed the anonymous volume, kept the named one");
	cr_assert_str_eq(ctk_ok(0, "volume", "prune"), "1 volume removed\n");
}

/* A cgroup file of the container in whichever hierarchy has FILE. */
static char *cgroup_file(const char *id, const char *v1_ctrl, const char *file)
{
	char path[512];
	struct statfs sf;
	const char *v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC
				 ? "/sys/fs/cgroup"
				 : "/sys/fs/cgroup/unified";

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/ctk/%s/%s", v1_ctrl, id, file);
	if (access(path, F_OK) < 0)
		snprintf(path, sizeof(path), "%s/ctk/%s/%s", v2, id, file);
	return read_host("%s", path);
}

Test(run, limits_land_in_the_cgroup_files)
{
	const char *id;
	_cleanup_free_ char *cg = NULL;
	char path[256], line[160];

	image("bb");
	id = detach(ctk_ok(0, "run", "-d", "--cpus", "0.5", "--memory", "32m", "--pids-limit", "20", "bb",
			   "sleep", "100"));
	{
		_cleanup_free_ char *pids = cgroup_file(id, "pids", "pids.max");

		cr_assert_str_eq(pids, "20\n");
	}
	if (access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", F_OK) == 0) {
		_cleanup_free_ char *quota = cgroup_file(id, "cpu", "cpu.cfs_quota_us");
		_cleanup_free_ char *period = cgroup_file(id, "cpu", "cpu.cfs_period_us");
		_cleanup_free_ char *mem = cgroup_file(id, "memory", "memory.limit_in_bytes");

		cr_assert_str_eq(quota, "50000\n");
		cr_assert_str_eq(period, "100000\n");
		cr_assert_str_eq(mem, "33554432\n");
	} else {
		_cleanup_free_ char *cpu = cgroup_file(id, "cpu", "cpu.max");
		_cleanup_free_ char *mem = cgroup_file(id, "memory", "memory.max");

		cr_assert_str_eq(cpu, "50000 100000\n");
		cr_assert_str_eq(mem, "33554432\n");
	}
	/* PID 1 is in /ctk/<id> on the hierarchies of its limits, and on cgroup2. */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid1(id));
	cg = read_host("%s", path);
	for (const char *const *h = (const char *const[]){ ":pids:", ":memory:", "0::", NULL }; *h; h++) {
		char *at = strstr(cg, *h);

		if (!at && strcmp(*h, "0::") != 0)
			continue; /* v2-only hosts list their controllers on the 0:: line */
		cr_assert_not_null(at, "%s", cg);
		snprintf(line, sizeof(line), "%s/ctk/%s\n", *h, id);
		cr_assert_eq(strncmp(at, line, strlen(line)), 0, "%s", cg);
	}
	ctk_ok(0, "rm", "-f", id);
	snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/ctk/%s", id);
	cr_assert_eq(access(path, F_OK), -1, "rm leaves no cgroup");
}

Test(run, a_memory_hog_is_oom_killed)
{
	const char *oom;
	_cleanup_free_ char *events = NULL;

	image("bb");
	/* tail buffers /dev/zero's one endless line: memory grows until the limit. */
	ctk_ok(137, "run", "--name", "hog", "--memory", "16m", "bb", "tail", "/dev/zero");
	{
		struct ins_container c = load("hog");

		events = access("/sys/fs/cgroup/memory/memory.oom_control", F_OK) == 0
				 ? cgroup_file(c.id, "memory", "memory.oom_control")
				 : cgroup_file(c.id, "memory", "memory.events");
		ins_container_free(&c);
	}
	oom = strstr(events, "oom_kill ");
	cr_assert_not_null(oom, "%s", events);
	cr_assert_gt(atoi(oom + 9), 0, "%s", events);
}

Test(run, detached_lifecycle_ps_logs_stop_wait_rm)
{
	const char *id;
	char dir[256];
	json_t *row;

	image("bb");
	id = detach(ctk_ok(0, "run", "-d", "--name", "web", "bb", "sh", "-c", "echo hello; echo oops >&2; sleep 100"));
	json_decref(doc);
	doc = json_parse(ctk_ok(0, "ps", "--json", "-o", "ID,NAME,IMAGE,COMMAND,STATUS,PID"));
	row = json_array_get(json_object_get(doc, "containers"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(row, "id")), id);
	cr_assert_str_eq(json_string_value(json_object_get(row, "name")), "web");
	cr_assert_str_eq(json_string_value(json_object_get(row, "image")), "bb:latest");
	cr_assert_str_eq(json_string_value(json_object_get(row, "command")), "sh -c echo hello; echo oops >&2; sleep 100");
	cr_assert_str_eq(json_string_value(json_object_get(row, "status")), "running");
	cr_assert_eq(json_integer_value(json_object_get(row, "pid")), pid1(id));
	for (int i = 0; i < 200 && !strstr(ctk_ok(0, "logs", "web"), "oops"); i++)
		usleep(10000);
	cr_assert_str_eq(ctk_ok(0, "logs", "web"), "hello\noops\n");
	cr_assert_not_null(strstr(ctk_ok(125, "run", "-d", "--name", "web", "bb", "true"), "in use"));
	cr_assert_str_eq(ctk_ok(0, "stop", "-t", "1", "web"), "web\n");
	cr_assert_str_eq(ctk_ok(0, "wait", "web"), "137\n", "sleep as PID 1 ignores SIGTERM: killed");
	cr_assert_str_eq(ctk_ok(0, "ps", "-n", "-r", "-o", "NAME"), "");
	cr_assert_str_eq(ctk_ok(0, "ps", "-a", "-n", "-r", "-o", "NAME,STATUS,EXIT"), "web exited 137\n");
	cr_assert_not_null(strstr(ctk_ok(1, "kill", "web"), "is not running"));
	ctk_ok(0, "rm", "web");
	snprintf(dir, sizeof(dir), "%s/containers/%s", store, id);
	cr_assert_eq(access(dir, F_OK), -1, "rm left the directory");
	cr_assert_str_eq(ctk_ok(0, "ps", "-a", "-n"), "");
	cr_assert_not_null(strstr(ctk_ok(1, "rm", "web"), "web: no such container"));
}

Test(run, a_killed_ctk_leaves_a_container_that_ps_shows_and_rm_f_cleans)
{
	struct run_opts bg = { .background = true };
	struct ins_container c;
	char dir[256], cg[256];
	struct run r;
	pid_t pid = 0;

	image("bb");
	cr_assert_eq(ctk_opts(&r, &bg, "run", "--name", "orphan", "bb", "sleep", "100", NULL), 0);
	for (int i = 0; i < 500 && !pid; i++) {
		struct ins_store s;
		struct ins_error err;

		if (ins_store_open(store, &s, &err) == 0) {
			if (ins_container_load(&s, "orphan", &c, &err) == 0) {
				pid = ins_container_pid(&c);
				ins_container_free(&c);
			}
			ins_store_close(&s);
		}
		usleep(10000);
	}
	cr_assert_gt(pid, 0, "the container never ran");
	kill(r.pid, SIGKILL);
	run_wait(&r);
	run_free(&r);
	/* Its supervisor is gone; the container runs on, and ps says so. */
	cr_assert_str_eq(ctk_ok(0, "ps", "-n", "-r", "-o", "NAME,STATUS"), "orphan running\n");
	kill(pid, SIGKILL);
	for (int i = 0; i < 500 && kill(pid, 0) == 0; i++)
		usleep(10000);
	cr_assert_str_eq(ctk_ok(0, "ps", "-a", "-n", "-r", "-o", "NAME,STATUS"), "orphan dead\n");
	c = load("orphan");
	snprintf(dir, sizeof(dir), "%s", c.dir);
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/pids/ctk/%s", c.id);
	ins_container_free(&c);
	ctk_ok(0, "rm", "-f", "orphan");
	cr_assert_eq(access(dir, F_OK), -1);
	cr_assert_eq(access(cg, F_OK), -1);
}

Test(run, names_and_ids_are_targets_for_ns_and_enter)
{
	const char *id;
	char prefix[16], expect[64];

	image("bb");
	id = detach(ctk_ok(0, "run", "-d", "--name", "box", "--hostname", "boxhost", "bb", "sleep", "100"));
	snprintf(prefix, sizeof(prefix), "%.6s", id);
	snprintf(expect, sizeof(expect), "mnt:[%llu]\n", ns_inode(pid1(id), "mnt"));
	cr_assert_str_eq(ctk_ok(0, "enter", "box", "hostname"), "boxhost\n");
	cr_assert_str_eq(ctk_ok(0, "enter", "-t", prefix, "readlink", "/proc/self/ns/mnt"), expect);
	json_decref(doc);
	doc = json_parse(ctk_ok(0, "ns", "--json", "box"));
	cr_assert_eq(json_array_size(json_object_get(doc, "namespaces")), 8);
	ctk_ok(0, "stop", "-t", "0", "box");
	cr_assert_not_null(strstr(ctk_ok(1, "ns", "box"), "box: container"));
	cr_assert_not_null(strstr(ctk_ok(1, "ns", "box"), "is not running"));
}

Test(run, exec_takes_the_containers_environment_user_and_directory)
{
	const char *id;
	_cleanup_free_ char *log = NULL;

	image("bb", "--env", "FROM_IMAGE=1");
	id = detach(ctk_ok(0, "run", "-d", "-e", "FROM_RUN=2", "-w", "/srv", "-u", "nobody", "bb", "sleep", "100"));
	cr_assert_str_eq(ctk_ok(0, "exec", id, "sh", "-c", "echo $FROM_IMAGE $FROM_RUN $HOME; pwd; id -u"),
			 "1 2 /nonexistent\n/srv\n65534\n");
	cr_assert_str_eq(ctk_ok(0, "exec", "-u", "0", "-w", "/", "-e", "X=3", id, "sh", "-c", "echo $X; pwd; id -u"),
			 "3\n/\n0\n");
	ctk_ok(5, "exec", id, "sh", "-c", "exit 5");
	ctk_ok(127, "exec", id, "no-such-command");
	/* Every exec is in the container's log, the failed one too. */
	log = read_host("%s/containers/%s/exec.log", store, id);
	cr_assert_not_null(strstr(log, "\"args\":[\"sh\",\"-c\",\"exit 5\"]"), "%s", log);
	cr_assert_not_null(strstr(log, "no-such-command"), "%s", log);
	ctk_ok(0, "stop", "-t", "0", id);
	cr_assert_not_null(strstr(ctk_ok(1, "exec", id, "true"), "is not running"));
}

Test(run, users_and_bad_arguments)
{
	char bind[200];

	image("bb");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "-u", "1234:5678", "bb", "sh", "-c", "id -u; id -g"), "1234\n5678\n");
	cr_assert_not_null(strstr(ctk_ok(125, "run", "--rm", "-u", "ghost", "bb", "true"), "unable to find user ghost"));
	ctk_ok(2, "run", "--rm", "-v", "relative:dir", "bb", "true");
	ctk_ok(2, "run", "--rm", "--memory", "lots", "bb", "true");
	ctk_ok(2, "run", "--rm", "--cpus", "0", "bb", "true");
	ctk_ok(2, "run", "--rm", "--network", "bridge", "bb", "true");
	snprintf(bind, sizeof(bind), "%s/missing:/m", work);
	cr_assert_not_null(strstr(ctk_ok(125, "run", "--rm", "-v", bind, "bb", "true"), "No such file or directory"));
	ctk_ok(125, "run", "--rm", "--name", "bad name", "bb", "true");
	/* None of the refused runs left a container behind. */
	cr_assert_str_eq(ctk_ok(0, "ps", "-a", "-n"), "");
}

Test(run, an_image_of_200_layers_runs, .timeout = 240)
{
	_cleanup_free_ char *mi = NULL;
	const char *id;

	image("tall", "--layers", "200");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "tall", "sh", "-c", "cat /layer-200 /layer-3; ls /opq; test -e /layer-2 || echo gone"),
			 "200\n3\nnew\ngone\n");
	id = detach(ctk_ok(0, "run", "-d", "tall", "sleep", "100"));
	{
		char path[64];
		int lowers = 0;

		snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid1(id));
		mi = read_host("%s", path);
		for (const char *p = mi; (p = strstr(p, "lowerdir")); p++)
			lowers++;
		cr_assert_geq(lowers, 201, "200 image layers and the init layer");
	}
}

Test(run, exec_stdin_kill_signals_and_follow_logs)
{
	struct run_opts bg = { .background = true }, piped = { .input = "piped\n" };
	const char *id;
	struct run r;

	image("bb");
	id = detach(ctk_ok(0, "run", "-d", "bb", "sh", "-c", "trap 'echo got-usr1' USR1; while :; do sleep 0.1; done"));
	/* Without -i the command reads /dev/null; with it, ours. */
	cr_assert_eq(ctk_opts(&r, &piped, "exec", id, "cat", NULL), 0);
	cr_assert_str_eq(r.out, "", "%s", r.err);
	run_free(&r);
	cr_assert_eq(ctk_opts(&r, &piped, "exec", "-i", id, "cat", NULL), 0);
	cr_assert_str_eq(r.out, "piped\n", "%s", r.err);
	run_free(&r);
	/* logs -f follows until the container exits. */
	cr_assert_eq(ctk_opts(&r, &bg, "logs", "-f", id, NULL), 0);
	ctk_ok(0, "kill", "-s", "SIGUSR1", id);
	ctk_ok(2, "kill", "-s", "NOPE", id);
	for (int i = 0; i < 300; i++) {
		char buf[64] = "";

		if (pread(r.outfd, buf, sizeof(buf) - 1, 0) > 0 && strstr(buf, "got-usr1"))
			break;
		usleep(10000);
	}
	ctk_ok(0, "kill", "-s", "kill", id);
	run_wait(&r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "got-usr1\n");
	run_free(&r);
}

/* How many entries the store's directory REL holds. */
static size_t store_entries(const char *rel)
{
	char path[256];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", store, rel);
	d = opendir(path);
	cr_assert_not_null(d, "%s", path);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(run, devices_are_for_every_user_and_images_in_use_stay)
{
	char hostname[16];
	size_t layers;
	const char *id;

	image("bb");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "-u", "1000", "bb", "sh", "-c",
				"echo x > /dev/null && head -c 1 /dev/zero | wc -c"),
			 "1\n");
	cr_assert_not_null(strstr(ctk_ok(127, "run", "-d", "bb", "no-such-command"), "No such file or directory"),
			   "a detached run reports its exec failure like a foreground one");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "--entrypoint", "", "bb", "echo", "cleared"), "cleared\n");
	ctk_ok(2, "run", "--rm", "--memory", "64bb", "bb", "true");
	id = detach(ctk_ok(0, "run", "-d", "bb", "sleep", "100"));
	layers = store_entries("layers");
	cr_assert_not_null(strstr(ctk_ok(1, "image", "rm", "bb"), "used by container"));
	cr_assert_eq(store_entries("layers"), layers);
	snprintf(hostname, sizeof(hostname), "%.12s\n", id);
	cr_assert_str_eq(ctk_ok(0, "exec", id, "cat", "/etc/hostname"), hostname);
	ctk_ok(0, "rm", "-f", id);
	/* The run whose command was not found left a container too, as docker's does. */
	cr_assert_str_eq(ctk_ok(0, "ps", "-a", "-n", "-r", "-o", "STATUS,EXIT"), "exited 127\n");
	remove_all_containers(store);
	ctk_ok(0, "image", "rm", "bb");
	cr_assert_eq(store_entries("layers"), 0);
}
