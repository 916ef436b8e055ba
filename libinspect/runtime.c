/*
 * ctk run: a container from an image. The calling process (or, detached, a
 * supervisor it forks) prepares the container and its cgroups, clones its
 * first process into new namespaces, which joins the cgroups, builds its
 * root and execs the application as PID 1, then reaps it and records its
 * exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/fileio.h"
#include "inspect/image.h"
#include "inspect/passwd.h"
#include "inspect/proc.h"
#include "inspect/spawn.h"
#include "inspect/volume.h"
#include "rootfs.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Everything the container's first process needs, prepared before it is cloned. */
struct launch {
	struct ins_store *store;
	const struct ins_run_spec *spec;
	char id[INS_CONTAINER_ID_LEN + 1];
	int dirfd; /* containers/<id> */
	json_t *config;
	char cgroup[96];
	struct ins_cgroup_hiers hiers; /* read once: making, joining and removing the cgroups */
	char *paths; /* one allocation for the mount point, upper, work and the lowers */
	const char **lowers;
	struct rootfs_mount *mounts;
	struct rootfs_spec root;
	char **argv, **envp;
	int cgroup_fd; /* its cgroup2 directory, for CLONE_INTO_CGROUP; -1 without cgroup2 */
	int report[2]; /* child -> supervisor: why it failed (EOF: it exec'd) */
};

/* What the first process reports when it cannot exec. */
struct failure {
	int code;
	bool exec; /* the application itself could not be executed */
	char msg[INS_ERROR_MSG_MAX];
};

static void now_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, size - len, ".%09ldZ", ts.tv_nsec);
}

static int random_id(char out[INS_CONTAINER_ID_LEN + 1], struct ins_error *err)
{
	unsigned char raw[INS_CONTAINER_ID_LEN / 2];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return ins_err_sys(err, errno, "getrandom");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* Docker's rule for container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
static bool valid_name(const char *name)
{
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9')))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       strlen(name) &&
	       strlen(name) < 128;
}

/*
 * Docker's rules: arguments replace CMD; --entrypoint replaces ENTRYPOINT
 * and clears CMD; the process is ENTRYPOINT followed by CMD.
 */
static json_t *process_args(const struct ins_run_spec *spec, json_t *image_config, struct ins_error *err)
{
	json_t *c = json_object_get(image_config, "config");
	json_t *args = json_array(), *v;
	json_t *entrypoint = spec->entrypoint ? NULL : json_object_get(c, "Entrypoint");
	json_t *cmd = spec->nargs || spec->entrypoint ? NULL : json_object_get(c, "Cmd");
	size_t i;

	if (!args)
		return ins_err_sys(err, ENOMEM, "process"), NULL;
	/* --entrypoint "" clears the image's ENTRYPOINT (and CMD) without a new one. */
	if (spec->entrypoint && *spec->entrypoint)
		json_array_append_new(args, json_string(spec->entrypoint));
	json_array_foreach(entrypoint, i, v)
		json_array_append(args, v);
	for (i = 0; i < spec->nargs; i++)
		json_array_append_new(args, json_string(spec->args[i]));
	json_array_foreach(cmd, i, v)
		json_array_append(args, v);
	if (json_array_size(args) == 0) {
		json_decref(args);
		return ins_err(err, EINVAL, "%s: no command: the image has no ENTRYPOINT or CMD and none was given",
			       spec->image), NULL;
	}
	return args;
}

/* Sets KEY=VALUE in ENV (a JSON array of strings), replacing an earlier KEY. */
static void env_set(json_t *env, const char *pair)
{
	size_t klen = strcspn(pair, "="), i;
	json_t *v;

	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);

		if (s && strncmp(s, pair, klen) == 0 && s[klen] == '=') {
			json_array_set_new(env, i, json_string(pair));
			return;
		}
	}
	json_array_append_new(env, json_string(pair));
}

/* The image's environment, PATH if it has none, HOSTNAME, then -e (K=V, or K from ours). */
static json_t *process_env(const struct ins_run_spec *spec, json_t *image_config, const char *hostname)
{
	json_t *env = json_deep_copy(json_object_get(json_object_get(image_config, "config"), "Env"));
	char buf[512];
	size_t i;
	json_t *v;
	bool has_path = false;

	if (!json_is_array(env)) {
		json_decref(env);
		env = json_array();
	}
	json_array_foreach(env, i, v)
		has_path |= strncmp(json_string_value(v) ?: "", "PATH=", 5) == 0;
	if (!has_path)
		env_set(env, "PATH=" DEFAULT_PATH);
	snprintf(buf, sizeof(buf), "HOSTNAME=%s", hostname);
	env_set(env, buf);
	for (i = 0; i < spec->nenv; i++) {
		const char *e = spec->env[i];

		if (strchr(e, '='))
			env_set(env, e);
		else if (getenv(e) && snprintf(buf, sizeof(buf), "%s=%s", e, getenv(e)) < (int)sizeof(buf))
			env_set(env, buf);
	}
	return env;
}

/* Removes the anonymous volumes of VOLS (config entries) that a failed run made. */
static void drop_anonymous(struct ins_store *s, json_t *vols)
{
	struct ins_error ignored;
	size_t i;
	json_t *v;

	json_array_foreach(vols, i, v)
		if (strcmp(json_string_value(json_object_get(v, "type")) ?: "", "anonymous") == 0)
			ins_volume_remove(s, json_string_value(json_object_get(v, "name")), &ignored);
	json_decref(vols);
}

/* -v specs into config entries, making anonymous and named volumes as needed. */
static json_t *resolve_volumes(struct ins_store *s, const struct ins_run_spec *spec, struct ins_error *err)
{
	json_t *vols = json_array();

	for (size_t i = 0; vols && i < spec->nvolumes; i++) {
		const struct ins_volume_spec *vs = &spec->volumes[i];
		bool bind = vs->source && strchr(vs->source, '/');
		struct ins_volume v = { 0 };
		struct stat st;
		json_t *entry;

		if (bind && (vs->source[0] != '/' || stat(vs->source, &st) < 0)) {
			if (vs->source[0] != '/')
				ins_err(err, EINVAL, "-v %s: a host path must be absolute", vs->source);
			else
				ins_err_sys(err, errno, "-v %s", vs->source);
			drop_anonymous(s, vols);
			return NULL;
		}
		if (!bind && ins_volume_create(s, vs->source, &v, err) < 0) {
			drop_anonymous(s, vols);
			return NULL;
		}
		entry = json_pack("{s:s,s:s?,s:s,s:s,s:b}", "type",
				  bind ? "bind" : vs->source ? "named" : "anonymous", "name", v.name, "source",
				  bind ? vs->source : v.mountpoint, "destination", vs->dest, "readonly",
				  vs->readonly);
		ins_volume_free(&v);
		if (!entry || json_array_append_new(vols, entry) < 0) {
			drop_anonymous(s, vols);
			return ins_err_sys(err, ENOMEM, "volumes"), NULL;
		}
	}
	return vols;
}

/* A string of the image config's "config" object (Cmd, WorkingDir, User...), or NULL. */
static const char *image_setting(const struct ins_image *img, const char *key)
{
	return json_string_value(json_object_get(json_object_get(img->config, "config"), key));
}

static json_t *build_config(struct launch *L, const struct ins_image *img, struct ins_error *err)
{
	const struct ins_run_spec *spec = L->spec;
	char created[48], short_id[13];
	const char *hostname, *cwd, *user;
	json_t *layers = json_array(), *args = NULL, *env = NULL, *vols = NULL, *config;

	snprintf(short_id, sizeof(short_id), "%.12s", L->id);
	hostname = spec->hostname ? spec->hostname : short_id;
	cwd = spec->workdir ? spec->workdir : image_setting(img, "WorkingDir");
	user = spec->user ? spec->user : image_setting(img, "User");
	now_rfc3339(created, sizeof(created));
	for (size_t i = 0; layers && i < img->nlayers; i++)
		json_array_append_new(layers, json_string(ins_digest_hex(&img->layers[i].diff_id)));
	if (!layers || !(env = process_env(spec, img->config, hostname))) {
		json_decref(layers);
		return ins_err_sys(err, ENOMEM, "config"), NULL;
	}
	if (!(args = process_args(spec, img->config, err)) || !(vols = resolve_volumes(L->store, spec, err))) {
		json_decref(layers);
		json_decref(env);
		json_decref(args);
		return NULL;
	}
	/* "o" hands the arrays over, even when packing fails. */
	config = json_pack("{s:s,s:s,s:s,s:{s:s?,s:s,s:o},s:{s:o,s:o,s:s,s:s},s:s,s:s,s:o,"
			   "s:{s:I,s:I,s:I},s:s,s:b,s:b}",
			   "id", L->id, "name", spec->name ? spec->name : short_id, "created", created,
			   "image", "ref", img->ref, "id", img->id.s, "layers", layers,
			   "process", "args", args, "env", env, "cwd", cwd && *cwd ? cwd : "/", "user",
			   user ? user : "",
			   "hostname", hostname, "network", spec->host_network ? "host" : "none",
			   "volumes", vols,
			   "limits", "cpu_quota_us", (json_int_t)spec->limits.cpu_quota_us, "memory_bytes",
			   (json_int_t)spec->limits.memory_bytes, "pids_max", (json_int_t)spec->limits.pids_max,
			   "cgroup", L->cgroup, "rm", spec->remove, "detach", spec->detach);
	if (!config)
		ins_err_sys(err, ENOMEM, "config");
	return config;
}

/* Writes TEXT to PATH below DIR (made with its parents: this is our own fresh directory). */
static int write_init_file(int dir, const char *path, const char *text, struct ins_error *err)
{
	_cleanup_close_ int fd = openat(dir, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return ins_err_sys(err, errno, "init layer: %s", path);
	return 0;
}

/*
 * The init layer, between the image and the read-write layer: the files a
 * container gets from its runtime (hosts, hostname, resolv.conf) and the
 * mount points of /proc, /sys and /dev. Being a layer of its own, none of
 * it is the image's or the container's changes.
 */
static int make_init_layer(struct launch *L, struct ins_error *err)
{
	static const char *const dirs[] = { "init", "init/etc", "init/proc", "init/sys", "init/dev",
					    "upper", "work" };
	const char *hostname = json_string_value(json_object_get(L->config, "hostname"));
	_cleanup_free_ char *resolv = ins_read_file_at(AT_FDCWD, "/etc/resolv.conf", NULL, err);
	_cleanup_free_ char *hosts = NULL, *name_line = NULL;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdirat(L->dirfd, dirs[i], 0755) < 0)
			return ins_err_sys(err, errno, "%s", dirs[i]);
	if (L->spec->host_network)
		hosts = ins_read_file_at(AT_FDCWD, "/etc/hosts", NULL, err);
	else if (asprintf(&hosts, "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
			  hostname) < 0)
		hosts = NULL;
	if (!hosts || asprintf(&name_line, "%s\n", hostname) < 0)
		return ins_err_sys(err, ENOMEM, "init layer");
	if (write_init_file(L->dirfd, "init/etc/hosts", hosts, err) < 0 ||
	    write_init_file(L->dirfd, "init/etc/hostname", name_line, err) < 0 ||
	    write_init_file(L->dirfd, "init/etc/resolv.conf", resolv ? resolv : "", err) < 0)
		return -1;
	return 0;
}

/* Fills the rootfs spec and argv/envp from the config: the child must not allocate much. */
static int prepare_launch(struct launch *L, struct ins_error *err)
{
	json_t *layers = json_object_get(json_object_get(L->config, "image"), "layers");
	json_t *vols = json_object_get(L->config, "volumes");
	json_t *process = json_object_get(L->config, "process");
	size_t nlayers = json_array_size(layers), i;
	char dir[4096];
	json_t *v;

	snprintf(dir, sizeof(dir), "%s/containers/%s", L->store->root, L->id);
	L->lowers = calloc(nlayers + 2, sizeof(*L->lowers));
	L->mounts = calloc(json_array_size(vols) + 1, sizeof(*L->mounts));
	L->argv = calloc(json_array_size(json_object_get(process, "args")) + 1, sizeof(char *));
	L->envp = calloc(json_array_size(json_object_get(process, "env")) + 1, sizeof(char *));
	if (!L->lowers || !L->mounts || !L->argv || !L->envp ||
	    asprintf(&L->paths, "%s%c%s/upper%c%s/work%c%s/init", dir, 0, dir, 0, dir, 0, dir) < 0)
		return ins_err_sys(err, ENOMEM, "container");
	/* The container's own directory: covered by the root only where the container is. */
	L->root.mountpoint = L->paths;
	L->root.upper = L->root.mountpoint + strlen(L->root.mountpoint) + 1;
	L->root.work = L->root.upper + strlen(L->root.upper) + 1;
	/* Top first: the init layer, then the image's, newest first. */
	L->lowers[0] = L->root.work + strlen(L->root.work) + 1;
	for (i = 0; i < nlayers; i++) {
		char *p;

		if (asprintf(&p, "%s/layers/%s", L->store->root,
			     json_string_value(json_array_get(layers, nlayers - 1 - i))) < 0)
			return ins_err_sys(err, ENOMEM, "container");
		L->lowers[i + 1] = p;
	}
	L->root.lowers = L->lowers;
	L->root.nlowers = nlayers + 1;
	json_array_foreach(vols, i, v)
		L->mounts[i] = (struct rootfs_mount){
			.source = json_string_value(json_object_get(v, "source")),
			.dest = json_string_value(json_object_get(v, "destination")),
			.readonly = json_is_true(json_object_get(v, "readonly")),
		};
	L->root.mounts = L->mounts;
	L->root.nmounts = json_array_size(vols);
	L->root.hostname = json_string_value(json_object_get(L->config, "hostname"));
	L->root.new_net = !L->spec->host_network;
	json_array_foreach(json_object_get(process, "args"), i, v)
		L->argv[i] = (char *)json_string_value(v);
	json_array_foreach(json_object_get(process, "env"), i, v)
		L->envp[i] = (char *)json_string_value(v);
	return 0;
}

static void launch_free(struct launch *L)
{
	for (size_t i = 1; L->lowers && i < L->root.nlowers; i++)
		free((char *)L->lowers[i]);
	free(L->lowers);
	free(L->mounts);
	free(L->argv);
	free(L->envp);
	free(L->paths);
	json_decref(L->config);
	ins_cgroup_hiers_free(&L->hiers);
	ins_closep(&L->dirfd);
	ins_closep(&L->cgroup_fd);
	for (int i = 0; i < 2; i++)
		ins_closep(&L->report[i]);
}

/* In the child: tells the supervisor why it could not start, and dies. */
static __attribute__((noreturn)) void child_fail(struct launch *L, const struct ins_error *err, bool exec)
{
	struct failure f = { .code = err->code, .exec = exec };

	snprintf(f.msg, sizeof(f.msg), "%s", err->msg);
	if (write(L->report[1], &f, sizeof(f)) != sizeof(f))
		_exit(126);
	_exit(exec ? ins_exec_failure_status(err->code) : 125);
}

/* Reads a file of the container's root, or NULL when it has none. */
static char *read_optional(const char *path)
{
	struct ins_error ignored;

	return ins_read_file_at(AT_FDCWD, path, NULL, &ignored);
}

/* The working directory, made if the image lacks it (as docker does), entered as root. */
static int enter_cwd(const char *cwd, struct ins_error *err)
{
	_cleanup_free_ char *copy = strdup(cwd);

	if (!copy)
		return ins_err_sys(err, ENOMEM, "%s", cwd);
	for (char *p = copy + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return ins_err_sys(err, errno, "working directory %s", copy);
		if (!(*p = c))
			break;
	}
	if (chdir(cwd) < 0)
		return ins_err_sys(err, errno, "working directory %s", cwd);
	return 0;
}

/* HOME from the user's passwd entry, unless the environment has one. */
static char **with_home(char **envp, const char *home)
{
	size_t n = 0;
	char **out;

	for (; envp[n]; n++)
		if (strncmp(envp[n], "HOME=", 5) == 0)
			return envp;
	out = calloc(n + 2, sizeof(*out));
	if (!out || asprintf(&out[n], "HOME=%s", home) < 0)
		return envp;
	memcpy(out, envp, n * sizeof(*out));
	return out;
}

static int become_user(const char *spec, struct ins_user *u, struct ins_error *err)
{
	_cleanup_free_ char *passwd = read_optional("/etc/passwd");
	_cleanup_free_ char *group = read_optional("/etc/group");

	if (ins_user_resolve(spec, passwd, group, u, err) < 0)
		return -1;
	if (setgroups(u->ngroups, u->groups) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		return ins_err_sys(err, errno, "user %s", spec && *spec ? spec : "0");
	return 0;
}

/*
 * The container's first process: joins its cgroups (cgroup2 it was born
 * in) and takes a cgroup namespace rooted there, builds its root and
 * becomes the application, PID 1. What it mounts is charged to the
 * container, and nothing of the image runs outside its cgroups.
 */
static __attribute__((noreturn)) void container_main(struct launch *L)
{
	json_t *process = json_object_get(L->config, "process");
	struct ins_error err;
	struct ins_user u;

	close(L->report[0]);
	/* Joining ourselves, single-threaded, is the cheap way in on v1 (see ins_cgroup_enter). */
	if (ins_cgroup_enter(&L->hiers, L->cgroup, L->cgroup_fd >= 0, &err) < 0)
		child_fail(L, &err, false);
	if (unshare(CLONE_NEWCGROUP) < 0)
		ins_err_sys(&err, errno, "cgroup namespace"), child_fail(L, &err, false);
	if (rootfs_enter(&L->root, &err) < 0)
		child_fail(L, &err, false);
	if (enter_cwd(json_string_value(json_object_get(process, "cwd")), &err) < 0 ||
	    become_user(json_string_value(json_object_get(process, "user")), &u, &err) < 0)
		child_fail(L, &err, false);
	if (ins_exec(L->argv, with_home(L->envp, u.home), &err) == INS_EXEC_FAILED)
		child_fail(L, &err, true);
	child_fail(L, &err, false);
}

/* The container's cgroups, with its limits, and the fd its first process is cloned into. */
static int make_cgroups(struct launch *L, struct ins_error *err)
{
	if (ins_cgroup_hiers_read(&L->hiers, err) < 0 ||
	    ins_cgroup_create(&L->hiers, L->cgroup, &L->spec->limits, err) < 0)
		return -1;
	L->cgroup_fd = ins_cgroup_open_v2(&L->hiers, L->cgroup, err);
	return L->cgroup_fd >= 0 || err->code == ENOENT ? 0 : -1;
}

/* clone3 into new namespaces; the child never returns. */
static pid_t clone_container(struct launch *L, const struct ins_relay *relay, struct ins_error *err)
{
	struct clone_args args = {
		.flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID |
			 (L->spec->host_network ? 0 : CLONE_NEWNET),
		.exit_signal = SIGCHLD,
	};
	pid_t pid;

	if (L->cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (__u64)L->cgroup_fd;
	}
	if (pipe2(L->report, O_CLOEXEC) < 0)
		return ins_err_sys(err, errno, "pipe");
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return ins_err_sys(err, errno, "clone3");
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &relay->old, NULL);
		container_main(L);
	}
	ins_closep(&L->report[1]);
	return pid;
}

static int write_state(struct launch *L, json_t *state, struct ins_error *err)
{
	int rc = state ? ins_write_json_at(L->dirfd, "state.json", state, false, err)
		       : ins_err_sys(err, ENOMEM, "state");

	json_decref(state);
	return rc;
}

static int record_running(struct launch *L, pid_t pid, struct ins_error *err)
{
	struct ins_proc_stat st;
	char started[48];

	if (ins_proc_read_stat(pid, &st, err) < 0)
		return -1;
	now_rfc3339(started, sizeof(started));
	return write_state(L, json_pack("{s:s,s:i,s:I,s:i,s:s}", "status", "running", "pid", (int)pid,
					"starttime", (json_int_t)st.starttime, "supervisor", (int)getpid(),
					"started", started),
			   err);
}

static int record_exit(struct launch *L, pid_t pid, int wstatus, struct ins_error *err)
{
	json_t *old = ins_read_json_at(L->dirfd, "state.json", err);
	char finished[48];
	int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);

	int rc;

	now_rfc3339(finished, sizeof(finished));
	rc = write_state(L, json_pack("{s:s,s:i,s:i,s:i,s:s?,s:s}", "status", "exited", "pid", (int)pid,
				      "exit_code", code, "signal", WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0,
				      "started", json_string_value(json_object_get(old, "started")),
				      "finished", finished),
			 err);
	json_decref(old);
	return rc;
}

/* Reads the first process's report: nothing (EOF) means it exec'd the application. */
static int read_report(struct launch *L, struct failure *f)
{
	ssize_t n;

	do
		n = read(L->report[0], f, sizeof(*f));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*f) ? -1 : 0;
}

/* Tells a waiting `ctk run -d` how the start went: RC as supervise returns it, and ERR. */
static void notify(int fd, int rc, const struct ins_error *err)
{
	struct failure f = { .code = rc == 0 ? 0 : err->code, .exec = rc == INS_EXEC_FAILED };

	if (fd < 0)
		return;
	if (rc != 0)
		snprintf(f.msg, sizeof(f.msg), "%s", err->msg);
	if (write(fd, &f, sizeof(f)) == sizeof(f))
		close(fd);
}

/*
 * Clones the container into its cgroups, waits for the outcome of
 * its start and, once the application runs, supervises it to the end:
 * relayed signals, recorded exit. Its cgroups stay until the container is
 * removed, so that what happened to it (an OOM kill, its peak memory) can
 * still be read. READY (a detached run's pipe, or -1) learns how the start
 * went.
 */
static int supervise(struct launch *L, int ready, int *wstatus, struct ins_error *err)
{
	struct ins_relay relay;
	struct failure f;
	bool child_failed;
	pid_t pid;
	int rc;

	if (ins_relay_begin(&relay, err) < 0)
		return -1;
	pid = clone_container(L, &relay, err);
	if (pid < 0) {
		ins_relay_end(&relay);
		return -1;
	}
	child_failed = read_report(L, &f) < 0;
	if (child_failed) {
		ins_err(err, f.code, "%s", f.msg);
		rc = f.exec ? INS_EXEC_FAILED : -1;
	} else {
		rc = record_running(L, pid, err);
	}
	notify(ready, rc, err);
	if (rc == 0) {
		rc = ins_relay_wait(&relay, pid, wstatus, err);
	} else {
		/*
		 * A child that failed exits by itself, with its status (127,
		 * 126, 125); an application we could not record is killed.
		 */
		if (!child_failed)
			kill(pid, SIGKILL);
		while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
			;
	}
	ins_relay_end(&relay);
	/* Whatever happened, the container has ended: the record says so. */
	{
		struct ins_error ignored;

		if (record_exit(L, pid, *wstatus, rc == 0 ? err : &ignored) < 0 && rc == 0)
			rc = -1;
	}
	return rc;
}

/* Removes what a container that never ran or has ended leaves: cgroups, directory, anonymous volumes. */
static void remove_container(struct launch *L)
{
	struct ins_error ignored;

	ins_cgroup_remove_in(&L->hiers, L->cgroup, &ignored);
	ins_remove_tree_at(L->store->containersfd, L->id, &ignored);
	if (L->config)
		drop_anonymous(L->store, json_incref(json_object_get(L->config, "volumes")));
}

/* stdin from /dev/null, stdout and stderr to the container's log. */
static int redirect_to_log(struct launch *L, struct ins_error *err)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log = openat(L->dirfd, "log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		return ins_err_sys(err, errno, "container log");
	close(null);
	close(log);
	return 0;
}

/* The supervisor of a detached container: its own session, output to the log, gone when it is. */
static __attribute__((noreturn)) void detached_supervisor(struct launch *L, int ready)
{
	struct ins_error err;
	int wstatus = 0;

	/* Nothing of the caller's: not its session, not its output, not its working directory. */
	if ((setsid() < 0 && ins_err_sys(&err, errno, "setsid")) || redirect_to_log(L, &err) < 0 ||
	    (chdir("/") < 0 && ins_err_sys(&err, errno, "chdir /"))) {
		notify(ready, -1, &err);
		_exit(1);
	}
	supervise(L, ready, &wstatus, &err);
	if (L->spec->remove)
		remove_container(L);
	_exit(0);
}

/*
 * Forks the supervisor (twice, so that it is nobody's child and init reaps
 * it) and returns once it reports that PID 1 runs, or why it does not.
 */
static int start_detached(struct launch *L, struct ins_error *err)
{
	struct failure f;
	int ready[2];
	ssize_t n;
	pid_t middle;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return ins_err_sys(err, errno, "pipe");
	middle = fork();
	if (middle < 0) {
		close(ready[0]);
		close(ready[1]);
		return ins_err_sys(err, errno, "fork");
	}
	if (middle == 0) {
		close(ready[0]);
		if (fork() == 0)
			detached_supervisor(L, ready[1]);
		_exit(0);
	}
	close(ready[1]);
	while (waitpid(middle, NULL, 0) < 0 && errno == EINTR)
		;
	do
		n = read(ready[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n != (ssize_t)sizeof(f))
		return ins_err(err, ECHILD, "container %.12s: its supervisor died before it started", L->id);
	if (f.code) {
		ins_err(err, f.code, "%s", f.msg);
		return f.exec ? INS_EXEC_FAILED : -1;
	}
	return 0;
}

/* Makes the container's directory, config, init layer and cgroups; nothing is left on failure. */
static int create_container(struct launch *L, struct ins_error *err)
{
	struct ins_image img;
	int rc;

	if (ins_image_load(L->store, L->spec->image, &img, err) < 0)
		return -1;
	if (random_id(L->id, err) < 0) {
		ins_image_free(&img);
		return -1;
	}
	snprintf(L->cgroup, sizeof(L->cgroup), "/ctk/%s", L->id);
	if (mkdirat(L->store->containersfd, L->id, 0700) < 0 ||
	    (L->dirfd = openat(L->store->containersfd, L->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		ins_image_free(&img);
		return ins_err_sys(err, errno, "container %.12s", L->id);
	}
	L->config = build_config(L, &img, err);
	ins_image_free(&img);
	rc = L->config ? make_init_layer(L, err) : -1;
	if (rc == 0)
		rc = prepare_launch(L, err);
	if (rc == 0)
		rc = ins_write_json_at(L->dirfd, "config.json", L->config, false, err);
	if (rc == 0)
		rc = make_cgroups(L, err);
	if (rc < 0)
		remove_container(L);
	return rc;
}

/* A name must be valid and unused. */
static int check_name(struct ins_store *s, const char *name, struct ins_error *err)
{
	struct ins_container other;
	struct ins_error ignored;
	int rc = 0;

	if (!valid_name(name))
		return ins_err(err, EINVAL, "%s: not a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)", name);
	if (ins_container_load(s, name, &other, &ignored) == 0) {
		const char *theirs = json_string_value(json_object_get(other.config, "name"));

		if (theirs && strcmp(theirs, name) == 0)
			rc = ins_err(err, EEXIST, "the name %s is in use by container %.12s", name, other.id);
		ins_container_free(&other);
	}
	return rc;
}

int ins_container_run(struct ins_store *s, const struct ins_run_spec *spec,
		      char id[INS_CONTAINER_ID_LEN + 1], int *wstatus, struct ins_error *err)
{
	struct launch L = { .store = s, .spec = spec, .dirfd = -1, .cgroup_fd = -1, .report = { -1, -1 } };
	int rc;

	/* Under the store's lock: two runs cannot both take a name. */
	if (ins_store_lock(s, err) < 0)
		return -1;
	if ((spec->name && check_name(s, spec->name, err) < 0) || create_container(&L, err) < 0) {
		ins_store_unlock(s);
		launch_free(&L);
		return -1;
	}
	ins_store_unlock(s);
	memcpy(id, L.id, sizeof(L.id));
	if (spec->detach) {
		rc = start_detached(&L, err);
		/* A supervisor that never ran leaves nobody to record or clean up. */
		if (rc < 0 && err->code == ECHILD)
			remove_container(&L);
	} else {
		rc = supervise(&L, -1, wstatus, err);
		if (spec->remove)
			remove_container(&L);
	}
	launch_free(&L);
	return rc;
}
