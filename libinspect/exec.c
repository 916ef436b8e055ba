/* ctk exec: a command in a running container, on top of libinspect's enter. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/enter.h"
#include "inspect/fileio.h"
#include "inspect/passwd.h"

/* FILE of the container's root, read as the container would (symlinks stay inside); NULL if absent. */
static char *read_in_container(pid_t pid, const char *file)
{
	char root[64];
	struct ins_error ignored;
	_cleanup_close_ int rootfd = -1, fd = -1;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || (fd = ins_open_in_root(rootfd, file, O_RDONLY, &ignored)) < 0)
		return NULL;
	return ins_read_fd(fd, NULL, &ignored);
}

/* Sets PAIR ("K=V") in the COUNT entries of ENV, replacing an earlier K; returns the new count. */
static size_t env_put(char **env, size_t count, char *pair)
{
	size_t klen = strcspn(pair, "=") + 1;

	for (size_t i = 0; i < count; i++)
		if (env[i] && strncmp(env[i], pair, klen) == 0) {
			free(env[i]);
			env[i] = pair;
			return count;
		}
	env[count] = pair;
	return count + 1;
}

/* The container's environment, then -e (K=V, or K from ours), then HOME unless one was set. */
static char **exec_env(const struct ins_container *c, const struct ins_exec_spec *x, const char *home)
{
	json_t *env = json_object_get(json_object_get(c->config, "process"), "env"), *v;
	char **out = calloc(json_array_size(env) + x->nenv + 2, sizeof(*out));
	size_t i, count = 0;
	char *pair;

	if (!out)
		return NULL;
	json_array_foreach(env, i, v)
		if ((pair = strdup(json_string_value(v) ?: "")))
			count = env_put(out, count, pair);
	for (i = 0; i < x->nenv; i++) {
		const char *e = x->env[i];

		if (strchr(e, '='))
			pair = strdup(e);
		else if (!getenv(e) || asprintf(&pair, "%s=%s", e, getenv(e)) < 0)
			continue;
		if (pair)
			count = env_put(out, count, pair);
	}
	for (i = 0; i < count; i++)
		if (strncmp(out[i], "HOME=", 5) == 0)
			return out;
	if (asprintf(&pair, "HOME=%s", home) >= 0)
		env_put(out, count, pair);
	return out;
}

int ins_container_exec(struct ins_store *s, const char *name, const struct ins_exec_spec *x, int *wstatus,
		       struct ins_error *err)
{
	struct ins_container c;
	struct ins_target t;
	struct ins_user u;
	json_t *process;
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	_cleanup_strv_ char **envp = NULL;
	struct ins_enter_opts o = { .all = true, .join_cgroup = true, .wd = true, .set_uid = true, .set_gid = true };
	int rc;

	if (ins_container_load(s, name, &c, err) < 0)
		return -1;
	if (ins_container_status(&c) != INS_CONTAINER_RUNNING) {
		rc = ins_err(err, ESRCH, "container %.12s is not running", c.id);
		ins_container_free(&c);
		return rc;
	}
	process = json_object_get(c.config, "process");
	rc = ins_target_resolve(c.id, &t, err);
	if (rc == 0) {
		passwd = read_in_container(t.pid, "/etc/passwd");
		group = read_in_container(t.pid, "/etc/group");
		rc = ins_user_resolve(x->user ? x->user : json_string_value(json_object_get(process, "user")),
				      passwd, group, &u, err);
	}
	if (rc == 0 && !(envp = exec_env(&c, x, u.home)))
		rc = ins_err_sys(err, ENOMEM, "exec");
	if (rc == 0)
		rc = ins_container_log_exec(&c, x->argv, err);
	if (rc == 0) {
		o.target = &t;
		o.wd_dir = x->workdir ? x->workdir : json_string_value(json_object_get(process, "cwd"));
		o.uid = u.uid;
		o.gid = u.gid;
		o.groups = u.groups;
		o.ngroups = u.ngroups;
		rc = ins_enter_run(&o, x->argv, envp, wstatus, err);
	}
	if (t.spec)
		ins_target_release(&t);
	ins_container_free(&c);
	return rc;
}
