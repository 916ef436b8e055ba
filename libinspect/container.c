/* Container records (config.json, state.json) and what acts on a running container. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/fileio.h"
#include "inspect/proc.h"
#include "inspect/volume.h"

static const char *const status_names[] = {
	[INS_CONTAINER_CREATED] = "created",
	[INS_CONTAINER_RUNNING] = "running",
	[INS_CONTAINER_EXITED] = "exited",
	[INS_CONTAINER_DEAD] = "dead",
};

const char *ins_container_status_name(enum ins_container_status st)
{
	return status_names[st];
}

void ins_container_free(struct ins_container *c)
{
	free(c->dir);
	json_decref(c->config);
	json_decref(c->state);
	memset(c, 0, sizeof(*c));
}

/* Reads containers/ID; a directory without a config (one being made) is skipped: ENOENT. */
static int load_id(struct ins_store *s, const char *id, struct ins_container *c, struct ins_error *err)
{
	_cleanup_close_ int dir = openat(s->containersfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	memset(c, 0, sizeof(*c));
	if (dir < 0)
		return ins_err_sys(err, errno, "container %s", id);
	c->config = ins_read_json_at(dir, "config.json", err);
	if (!c->config)
		return ins_err_prefix(err, "container %s", id);
	/* No state yet: created but not started. */
	c->state = faccessat(dir, "state.json", F_OK, 0) == 0 ? ins_read_json_at(dir, "state.json", err)
							     : json_pack("{s:s}", "status", "created");
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (!c->state || asprintf(&c->dir, "%s/containers/%s", s->root, id) < 0) {
		c->dir = NULL;
		ins_container_free(c);
		return ins_err_prefix(err, "container %s", id);
	}
	return 0;
}

static int cmp_created(const void *a, const void *b)
{
	const struct ins_container *x = a, *y = b;
	const char *cx = json_string_value(json_object_get(x->config, "created"));
	const char *cy = json_string_value(json_object_get(y->config, "created"));
	int c = strcmp(cx ? cx : "", cy ? cy : "");

	return c ? c : strcmp(x->id, y->id);
}

int ins_container_list(struct ins_store *s, struct ins_container **cs, size_t *n,
		       struct ins_error *err)
{
	char what[4096], **names;
	size_t count;

	*cs = NULL;
	*n = 0;
	snprintf(what, sizeof(what), "%s/containers", s->root);
	if (ins_dir_names(s->containersfd, what, &names, &count, err) < 0)
		return -1;
	if (count && !(*cs = calloc(count, sizeof(**cs)))) {
		ins_names_free(names, count);
		return ins_err_sys(err, ENOMEM, "%s", what);
	}
	for (size_t i = 0; i < count; i++)
		/* A container removed or still being made meanwhile is not an error. */
		if (strlen(names[i]) == INS_CONTAINER_ID_LEN && load_id(s, names[i], &(*cs)[*n], err) == 0)
			(*n)++;
	ins_names_free(names, count);
	if (*n)
		qsort(*cs, *n, sizeof(**cs), cmp_created);
	return 0;
}

void ins_container_list_free(struct ins_container *cs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ins_container_free(&cs[i]);
	free(cs);
}

static const char *name_of(const struct ins_container *c)
{
	return json_string_value(json_object_get(c->config, "name"));
}

int ins_container_load(struct ins_store *s, const char *name, struct ins_container *c,
		       struct ins_error *err)
{
	struct ins_container *all;
	size_t n, len = strlen(name);
	ssize_t match = -1;
	bool ambiguous = false;

	memset(c, 0, sizeof(*c));
	if (ins_container_list(s, &all, &n, err) < 0)
		return -1;
	/* A name or a whole id first; then an id prefix, which must be unique. */
	for (size_t i = 0; i < n && match < 0; i++)
		if ((name_of(&all[i]) && strcmp(name_of(&all[i]), name) == 0) || strcmp(all[i].id, name) == 0)
			match = (ssize_t)i;
	for (size_t i = 0; i < n && match < 0 && len >= 1; i++)
		if (strncmp(all[i].id, name, len) == 0) {
			for (size_t j = i + 1; j < n; j++)
				ambiguous |= strncmp(all[j].id, name, len) == 0;
			match = (ssize_t)i;
		}
	if (match < 0 || ambiguous) {
		ins_container_list_free(all, n);
		return ambiguous ? ins_err(err, EINVAL, "%s: ambiguous: several container ids start so", name)
				 : ins_err(err, ENOENT, "%s: no such container", name);
	}
	*c = all[match];
	memset(&all[match], 0, sizeof(all[match]));
	ins_container_list_free(all, n);
	return 0;
}

/* The recorded PID 1 and its start time, when the state says running. */
static pid_t recorded_pid(const struct ins_container *c, unsigned long long *starttime)
{
	const char *status = json_string_value(json_object_get(c->state, "status"));

	if (!status || strcmp(status, "running") != 0)
		return 0;
	*starttime = (unsigned long long)json_integer_value(json_object_get(c->state, "starttime"));
	return (pid_t)json_integer_value(json_object_get(c->state, "pid"));
}

/* Whether PID still is the process that started at STARTTIME (not a zombie, not a successor). */
static bool same_process(pid_t pid, unsigned long long starttime)
{
	struct ins_proc_stat st;
	struct ins_error ignored;

	return pid > 0 && ins_proc_read_stat(pid, &st, &ignored) == 0 && st.starttime == starttime &&
	       st.state != 'Z' && st.state != 'X';
}

enum ins_container_status ins_container_status(const struct ins_container *c)
{
	const char *status = json_string_value(json_object_get(c->state, "status"));
	unsigned long long start = 0;
	pid_t pid = recorded_pid(c, &start);

	if (pid)
		return same_process(pid, start) ? INS_CONTAINER_RUNNING : INS_CONTAINER_DEAD;
	if (status && strcmp(status, "exited") == 0)
		return INS_CONTAINER_EXITED;
	return INS_CONTAINER_CREATED;
}

pid_t ins_container_pid(const struct ins_container *c)
{
	unsigned long long start = 0;
	pid_t pid = recorded_pid(c, &start);

	return pid && same_process(pid, start) ? pid : 0;
}

json_t *ins_container_args(const struct ins_container *c)
{
	return json_object_get(json_object_get(c->config, "process"), "args");
}

char *ins_container_command(const struct ins_container *c)
{
	json_t *args = ins_container_args(c), *v;
	size_t i, len = 1;
	char *s;

	json_array_foreach(args, i, v)
		len += strlen(json_string_value(v) ?: "") + 1;
	s = calloc(1, len);
	json_array_foreach(args, i, v)
		if (s)
			strcat(strcat(s, i ? " " : ""), json_string_value(v) ?: "");
	return s;
}

/* A pidfd on PID 1, proved to be that process and not a successor of its PID. */
static int pin_pid1(const struct ins_container *c, struct ins_error *err)
{
	unsigned long long start = 0;
	pid_t pid = recorded_pid(c, &start);
	int fd = pid ? pidfd_open(pid, 0) : -1;

	if (fd >= 0 && same_process(pid, start))
		return fd;
	if (fd >= 0)
		close(fd);
	return ins_err(err, ESRCH, "container %.12s is not running", c->id);
}

int ins_container_kill(const struct ins_container *c, int sig, struct ins_error *err)
{
	_cleanup_close_ int fd = pin_pid1(c, err);

	if (fd < 0)
		return -1;
	if (pidfd_send_signal(fd, sig, NULL, 0) < 0)
		return ins_err_sys(err, errno, "container %.12s: signal %d", c->id, sig);
	return 0;
}

/* Waits up to TIMEOUT_MS for the process of FD to end; true when it did. */
static bool wait_gone(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) > 0;
}

/* After a kill: gives its supervisor a moment to record the exit, which it writes into the directory. */
static void await_exit_record(struct ins_store *s, const char *id)
{
	for (int tries = 0; tries < 500; tries++) {
		struct ins_container now;
		struct ins_error ignored;
		enum ins_container_status st;

		if (ins_container_load(s, id, &now, &ignored) < 0)
			return;
		st = ins_container_status(&now);
		ins_container_free(&now);
		if (st == INS_CONTAINER_EXITED)
			return;
		usleep(10000);
	}
}

int ins_container_stop(struct ins_store *s, const struct ins_container *c, int timeout,
		       struct ins_error *err)
{
	_cleanup_close_ int fd = pin_pid1(c, err);

	if (fd < 0)
		return -1;
	if (pidfd_send_signal(fd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
		return ins_err_sys(err, errno, "container %.12s: SIGTERM", c->id);
	if (!wait_gone(fd, timeout * 1000)) {
		if (pidfd_send_signal(fd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
			return ins_err_sys(err, errno, "container %.12s: SIGKILL", c->id);
		if (!wait_gone(fd, 10000))
			return ins_err(err, ETIMEDOUT, "container %.12s: still running after SIGKILL", c->id);
	}
	await_exit_record(s, c->id);
	return 0;
}

int ins_container_wait(struct ins_store *s, const char *id, int *code, struct ins_error *err)
{
	for (int tries = 0;; tries++) {
		struct ins_container c;
		enum ins_container_status st;
		int fd;

		if (ins_container_load(s, id, &c, err) < 0)
			return -1;
		st = ins_container_status(&c);
		if (st == INS_CONTAINER_EXITED) {
			*code = (int)json_integer_value(json_object_get(c.state, "exit_code"));
			ins_container_free(&c);
			return 0;
		}
		if (st == INS_CONTAINER_DEAD && tries > 100) {
			ins_container_free(&c);
			return ins_err(err, ECHILD, "container %.12s: gone without an exit status (its supervisor died)", id);
		}
		/* Being started takes a moment; "created" for seconds means it never will be. */
		if (st == INS_CONTAINER_CREATED && tries > 500) {
			ins_container_free(&c);
			return ins_err(err, ECHILD, "container %.12s: created but never started", id);
		}
		/* Running: sleep until PID 1 ends, then until the supervisor has recorded it. */
		fd = st == INS_CONTAINER_RUNNING ? pin_pid1(&c, err) : -1;
		ins_container_free(&c);
		if (fd >= 0) {
			wait_gone(fd, -1);
			close(fd);
		} else {
			usleep(20000);
		}
	}
}

/* Anonymous volumes of the container, removed with it on request. */
static int remove_volumes(struct ins_store *s, const struct ins_container *c, struct ins_error *err)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(c->config, "volumes"), i, v) {
		const char *type = json_string_value(json_object_get(v, "type"));
		const char *name = json_string_value(json_object_get(v, "name"));

		if (type && name && strcmp(type, "anonymous") == 0 && ins_volume_remove(s, name, err) < 0)
			return -1;
	}
	return 0;
}

int ins_container_remove(struct ins_store *s, struct ins_container *c, bool force, bool volumes,
			 struct ins_error *err)
{
	const char *cgroup = json_string_value(json_object_get(c->config, "cgroup"));
	enum ins_container_status st = ins_container_status(c);
	int rc;

	if (st == INS_CONTAINER_RUNNING) {
		if (!force)
			return ins_err(err, EBUSY, "container %.12s is running: stop it first, or force", c->id);
		if (ins_container_stop(s, c, 0, err) < 0)
			return -1;
	}
	/* Its mounts lived in its own mount namespace and went with its last process. */
	if (cgroup && ins_cgroup_remove(cgroup, err) < 0)
		return ins_err_prefix(err, "container %.12s", c->id);
	/* A supervisor may still be writing its last record (or removing it too, with --rm). */
	for (int tries = 0; (rc = ins_remove_tree_at(s->containersfd, c->id, err)) < 0; tries++)
		if (err->code != ENOTEMPTY || tries == 20)
			return ins_err_prefix(err, "container %.12s", c->id);
		else
			usleep(10000);
	return volumes ? remove_volumes(s, c, err) : 0;
}

int ins_container_log_exec(const struct ins_container *c, char *const argv[], struct ins_error *err)
{
	json_t *args = json_array(), *entry;
	_cleanup_free_ char *line = NULL;
	char when[32], path[4096];
	time_t t = time(NULL);
	struct tm tm;
	ssize_t n;
	int fd;

	for (size_t i = 0; args && argv[i]; i++)
		json_array_append_new(args, json_string(argv[i]));
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	entry = json_pack("{s:s,s:o}", "time", when, "args", args);
	line = entry ? json_dumps(entry, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(entry);
	if (!line || !(line = realloc(line, strlen(line) + 2)))
		return ins_err_sys(err, ENOMEM, "exec log");
	strcat(line, "\n");
	snprintf(path, sizeof(path), "%s/exec.log", c->dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ins_err_sys(err, errno, "%s", path);
	/* One write of the whole line: concurrent execs never interleave. */
	n = write(fd, line, strlen(line));
	if (n != (ssize_t)strlen(line)) {
		close(fd);
		return ins_err_sys(err, n < 0 ? errno : EIO, "%s", path);
	}
	return close(fd) < 0 ? ins_err_sys(err, errno, "%s", path) : 0;
}

int ins_container_open_log(const struct ins_container *c, struct ins_error *err)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/log", c->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return ins_err(err, ENOENT, "container %.12s ran in the foreground: its output went to its terminal",
			       c->id);
	if (fd < 0)
		return ins_err_sys(err, errno, "%s", path);
	return fd;
}
