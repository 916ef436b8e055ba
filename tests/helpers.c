#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "inspect/container.h"
#include "inspect/fileio.h"

extern char **environ;

static void die_child(int code)
{
	_exit(code);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die_child(20);
	close(fd);
}

/* Mirrors host directory NAME into ROOT: a symlink stays a symlink, a directory is bound. */
static void mirror_host_dir(const char *root, const char *name)
{
	char host[64], dst[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(host, sizeof(host), "/%s", name);
	snprintf(dst, sizeof(dst), "%s/%s", root, name);
	n = readlink(host, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (symlink(link, dst) < 0)
			die_child(21);
		return;
	}
	if (access(host, F_OK) < 0)
		return;
	if (mkdir(dst, 0755) < 0 || mount(host, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		die_child(22);
}

/* A root of its own: tmpfs with the host's /usr (to run programs) and /data/marker. */
static void enter_rootfs(const char *dir)
{
	static const char *const dirs[] = { "usr", "bin", "sbin", "lib", "lib64" };
	char path[PATH_MAX];

	if (mount("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0)
		die_child(23);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mirror_host_dir(dir, dirs[i]);
	snprintf(path, sizeof(path), "%s/data", dir);
	if (mkdir(path, 0755) < 0)
		die_child(24);
	snprintf(path, sizeof(path), "%s/data/marker", dir);
	write_file(path, "ctk-rootfs-marker\n");
	if (chroot(dir) < 0 || chdir("/data") < 0)
		die_child(25);
}

static void target_main(const struct child_opts *o, int ready)
{
	static char *const sleep_argv[] = { "sleep", "infinity", NULL };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((o->flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die_child(30);
	if (o->mount_proc && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die_child(31);
	if (o->hostname && sethostname(o->hostname, strlen(o->hostname)) < 0)
		die_child(32);
	if (o->rootfs)
		enter_rootfs(o->rootfs);
	if (o->run_as && (setgroups(0, NULL) < 0 || setgid(o->run_as) < 0 || setuid(o->run_as) < 0))
		die_child(34);
	if (o->no_exec) {
		close(ready);
		for (;;)
			pause();
	}
	/* The ready pipe is close-on-exec: its EOF tells the parent we exec'd. */
	execve("/usr/bin/sleep", sleep_argv, o->env ? o->env : environ);
	die_child(33);
}

static void child_main(const struct child_opts *o, int ready, int report, int go, int lifeline)
{
	pid_t target;
	char byte;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(o->flags) < 0)
		die_child(10);
	if (o->map_users) {
		/* The parent writes our id maps; wait for it. */
		if (write(report, "U", 1) != 1 || read(go, &byte, 1) != 1)
			die_child(11);
	}
	if (!(o->flags & CLONE_NEWPID)) {
		target = getpid();
		if (write(report, &target, sizeof(target)) != sizeof(target))
			die_child(12);
		target_main(o, ready);
	}
	/* A new PID namespace takes effect for children: the target is our child. */
	target = fork();
	if (target < 0)
		die_child(13);
	if (target == 0)
		target_main(o, ready);
	close(ready);
	if (write(report, &target, sizeof(target)) != sizeof(target))
		die_child(14);
	/*
	 * The target is its namespace's init, which PR_SET_PDEATHSIG cannot
	 * kill: we stay alive until the test's end of the lifeline closes
	 * (the test ended, or crashed) and kill it then.
	 */
	prctl(PR_SET_PDEATHSIG, 0);
	for (char byte;;) {
		ssize_t n = read(lifeline, &byte, 1);

		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	kill(target, SIGKILL);
	while (waitpid(target, NULL, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

static int write_id_maps(pid_t pid)
{
	static const char map[] = "0 100000 65536\n";
	char path[64];
	int fd, ok = 1;

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, i ? "gid_map" : "uid_map");
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		ok &= write(fd, map, sizeof(map) - 1) == sizeof(map) - 1;
		close(fd);
	}
	return ok ? 0 : -1;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int child_start(const struct child_opts *o, struct child *c)
{
	int ready[2], report[2], go[2], lifeline[2];
	char byte, comm[32] = "";
	pid_t p;
	int rc = 0;

	c->pid = c->reap = 0;
	c->lifeline = -1;
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 ||
	    pipe2(lifeline, O_CLOEXEC) < 0)
		return -1;
	p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		close(ready[0]);
		close(report[0]);
		close(go[1]);
		close(lifeline[1]);
		child_main(o, ready[1], report[1], go[0], lifeline[0]);
	}
	c->reap = p;
	c->lifeline = lifeline[1];
	close(lifeline[0]);
	close(ready[1]);
	close(report[1]);
	close(go[0]);
	if (o->map_users) {
		if (read_full(report[0], &byte, 1) < 0 || write_id_maps(p) < 0 || write(go[1], "G", 1) != 1)
			rc = -1;
	}
	if (rc == 0 && read_full(report[0], &c->pid, sizeof(c->pid)) < 0)
		rc = -1;
	/* EOF once the target has exec'd (or, with no_exec, is about to pause). */
	for (ssize_t n; rc == 0 && (n = read(ready[0], &byte, 1)) != 0;)
		if (n > 0 || errno != EINTR)
			break;
	close(ready[0]);
	close(report[0]);
	close(go[1]);
	if (rc == 0 && !o->no_exec) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)c->pid);
		f = fopen(path, "re");
		if (!f || !fgets(comm, sizeof(comm), f) || strcmp(comm, "sleep\n") != 0)
			rc = -1;
		if (f)
			fclose(f);
	}
	if (rc < 0) {
		child_cleanup(c);
		errno = ECHILD;
	}
	return rc;
}

void child_cleanup(struct child *c)
{
	/* Only a started child has a lifeline (a zeroed struct holds fd 0). */
	if (c->reap > 0 && c->lifeline >= 0)
		close(c->lifeline);
	c->lifeline = -1;
	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	if (c->reap > 0) {
		kill(c->reap, SIGKILL);
		while (waitpid(c->reap, NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->pid = c->reap = 0;
}

static char *read_memfd(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)(size > 0 ? size : 0) + 1);

	if (buf && size > 0 && pread(fd, buf, (size_t)size, 0) != size) {
		free(buf);
		return NULL;
	}
	return buf;
}

int run_argv(struct run *r, const struct run_opts *o, char *const argv[])
{
	static const struct run_opts none = { 0 };
	int out = memfd_create("out", MFD_CLOEXEC), err = memfd_create("err", MFD_CLOEXEC);

	if (!o)
		o = &none;
	memset(r, 0, sizeof(*r));
	r->outfd = out;
	r->errfd = err;
	if (out < 0 || err < 0)
		return -1;
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (r->pid == 0) {
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);

		/* A command that hangs must not outlive a test that timed out. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (o->input) {
			in = memfd_create("in", MFD_CLOEXEC);
			if (in < 0 || write(in, o->input, strlen(o->input)) < 0 || lseek(in, 0, SEEK_SET) < 0)
				_exit(122);
		}
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		if (o->leak_fd > 2) {
			int fd = open("/etc/hostname", O_RDONLY); /* deliberately inheritable */

			if (fd < 0 || dup2(fd, o->leak_fd) < 0)
				_exit(120);
		}
		if (o->set_uid && (setgroups(0, NULL) < 0 || setgid(o->uid) < 0 || setuid(o->uid) < 0))
			_exit(121);
		execve(argv[0], argv, o->env ? o->env : environ);
		_exit(127);
	}
	return o->background ? 0 : run_wait(r);
}

int run_wait(struct run *r)
{
	int st;

	while (waitpid(r->pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = read_memfd(r->outfd);
	r->err = read_memfd(r->errfd);
	close(r->outfd);
	close(r->errfd);
	return r->out && r->err ? 0 : -1;
}

int ctk_vopts(struct run *r, const struct run_opts *o, const char *arg, va_list ap)
{
	char *argv[64];
	size_t n = 0;

	argv[n++] = (char *)ctk_path();
	for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	argv[n] = NULL;
	return run_argv(r, o, argv);
}

int ctk(struct run *r, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = ctk_vopts(r, NULL, arg, ap);
	va_end(ap);
	return rc;
}

int ctk_opts(struct run *r, const struct run_opts *o, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = ctk_vopts(r, o, arg, ap);
	va_end(ap);
	return rc;
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

const char *ctk_path(void)
{
	const char *p = getenv("CTK");

	return p && *p ? p : "build/ctk";
}

const char *src_path(const char *rel, char *buf, size_t size)
{
	const char *src = getenv("CTK_SRC");

	snprintf(buf, size, "%s/%s", src && *src ? src : ".", rel);
	return buf;
}

json_t *json_parse(const char *text)
{
	json_error_t e;

	return text ? json_loads(text, 0, &e) : NULL;
}

unsigned long long ns_inode(pid_t pid, const char *type)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, type);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", type);
	return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

const char *pidstr(pid_t pid)
{
	static char bufs[4][16];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%d", (int)pid);
	return b;
}

int private_mounts(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -1;
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static char proc_state(pid_t pid)
{
	char path[64], state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f && fscanf(f, "%*d %*s %c", &state) != 1)
		state = 0;
	if (f)
		fclose(f);
	return state;
}

pid_t zombie_start(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	for (int i = 0; pid > 0 && i < 5000 && proc_state(pid) != 'Z'; i++)
		usleep(1000);
	return pid;
}

void scratch_store(const char *name, char *work, size_t work_size, char *store, size_t store_size)
{
	snprintf(work, work_size, "/tmp/ctk-test-%s-XXXXXX", name);
	cr_assert_not_null(mkdtemp(work), "%s: %m", work);
	snprintf(store, store_size, "%s/store", work);
	cr_assert_eq(setenv("CTK_ROOT", store, 1), 0, "setenv: %m");
}

void mkimage_v(const char *format, const char *path, va_list ap)
{
	char script[4096], *argv[32];
	size_t n = 0;
	struct run r;

	argv[n++] = (char *)src_path("tests/fixtures/mkimage.sh", script, sizeof(script));
	argv[n++] = (char *)format;
	argv[n++] = (char *)path;
	for (const char *a = va_arg(ap, const char *); a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	argv[n] = NULL;
	cr_assert_eq(run_argv(&r, NULL, argv), 0);
	cr_assert_eq(r.status, 0, "mkimage %s %s: %s", format, path, r.err);
	run_free(&r);
}

void import_image_(const char *work, const char *name, ...)
{
	char tar[4096];
	struct run r;
	va_list ap;

	snprintf(tar, sizeof(tar), "%s/%s.tar", work, name);
	va_start(ap, name);
	mkimage_v("docker", tar, ap);
	va_end(ap);
	cr_assert_eq(ctk(&r, "image", "import", "--name", name, tar, NULL), 0);
	cr_assert_eq(r.status, 0, "import: %s", r.err);
	run_free(&r);
}

const char *container_dir(const char *store, const char *name)
{
	static char dir[512];
	struct ins_container c;
	struct ins_store s;
	struct ins_error err;

	cr_assert_eq(ins_store_open(store, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(ins_container_load(&s, name, &c, &err), 0, "%s", err.msg);
	snprintf(dir, sizeof(dir), "%s", c.dir);
	ins_container_free(&c);
	ins_store_close(&s);
	return dir;
}

void remove_all_containers(const char *store)
{
	struct ins_store s;
	struct ins_container *cs;
	struct ins_error err;
	size_t n;

	if (ins_store_open(store, &s, &err) < 0)
		return;
	if (ins_container_list(&s, &cs, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			ins_container_remove(&s, &cs[i], true, true, &err);
		ins_container_list_free(cs, n);
	}
	ins_store_close(&s);
}

void scratch_store_remove(char *work, const char *store)
{
	struct ins_error err;

	if (!work[0])
		return;
	remove_all_containers(store);
	ins_remove_tree_at(AT_FDCWD, work, &err);
	work[0] = '\0';
}

const char *ctk_ok_(int status, const char *tool, ...)
{
	static struct run r;
	va_list ap;
	int rc;

	run_free(&r);
	va_start(ap, tool);
	rc = ctk_vopts(&r, NULL, tool, ap);
	va_end(ap);
	cr_assert_eq(rc, 0);
	cr_assert_eq(r.status, status, "ctk %s: status %d, stderr: %s", tool, r.status, r.err);
	return status ? r.err : r.out;
}
