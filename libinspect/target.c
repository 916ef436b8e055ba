#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "inspect/container.h"
#include "inspect/proc.h"
#include "inspect/target.h"

/* Reads PID's stat, turning "gone" into a message that names SPEC. */
static int read_alive_stat(const char *spec, pid_t pid, struct ins_proc_stat *st,
			   struct ins_error *err)
{
	if (ins_proc_read_stat(pid, st, err) < 0) {
		if (err->code == ENOENT || err->code == ESRCH)
			return ins_err(err, ESRCH, "%s: no such process", spec);
		return ins_err_prefix(err, "%s", spec);
	}
	if (st->state == 'Z' || st->state == 'X')
		return ins_err(err, ESRCH, "%s: process has exited", spec);
	return 0;
}

/* PID 1 of the ctk container named (or id-prefixed) SPEC in the default store. */
static pid_t container_pid(const char *spec, struct ins_error *err)
{
	struct ins_store s;
	struct ins_container c;
	char containers[4096];
	pid_t pid;

	/* No store, no containers: looking for one must not create it. */
	snprintf(containers, sizeof(containers), "%s/containers", ins_store_default_root());
	if (access(containers, F_OK) < 0)
		return ins_err(err, ESRCH, "%s: no such process or container", spec), 0;
	if (ins_store_open(NULL, &s, err) < 0)
		return 0;
	if (ins_container_load(&s, spec, &c, err) < 0) {
		ins_store_close(&s);
		if (err->code == ENOENT)
			ins_err(err, ESRCH, "%s: no such process or container", spec);
		return 0;
	}
	pid = ins_container_pid(&c);
	if (!pid)
		ins_err(err, ESRCH, "%s: container %.12s is not running", spec, c.id);
	ins_container_free(&c);
	ins_store_close(&s);
	return pid;
}

int ins_target_resolve(const char *spec, struct ins_target *t, struct ins_error *err)
{
	struct ins_proc_stat st;
	pid_t pid = ins_parse_pid(spec);

	*t = (struct ins_target)INS_TARGET_INIT;
	/* Digits that are no live PID may still start a container id. */
	if (pid && kill(pid, 0) < 0 && errno == ESRCH) {
		struct ins_error not_container;
		pid_t cpid = container_pid(spec, &not_container);

		pid = cpid ? cpid : pid;
	}
	if (!pid && !(pid = container_pid(spec, err)))
		return -1;
	t->pidfd = pidfd_open(pid, 0); /* always close-on-exec */
	if (t->pidfd < 0 && errno == ESRCH)
		return ins_err(err, ESRCH, "%s: no such process", spec);
	if (t->pidfd < 0 && errno != ENOSYS)
		return ins_err_sys(err, errno, "%s: pidfd_open", spec);
	t->spec = strdup(spec);
	if (!t->spec) {
		ins_target_release(t);
		return ins_err_sys(err, ENOMEM, "%s", spec);
	}
	t->pid = pid;
	/*
	 * The start time names the incarnation the pidfd pins, provided that
	 * process still lives after we read it: a PID is not reused while its
	 * process runs.
	 */
	if (read_alive_stat(spec, pid, &st, err) < 0 ||
	    (t->pidfd >= 0 && pidfd_send_signal(t->pidfd, 0, NULL, 0) < 0 && errno == ESRCH &&
	     ins_err(err, ESRCH, "%s: process has exited", spec))) {
		ins_target_release(t);
		return -1;
	}
	t->starttime = st.starttime;
	return 0;
}

int ins_target_check(const struct ins_target *t, struct ins_error *err)
{
	struct ins_proc_stat st;

	if (t->pidfd >= 0 && pidfd_send_signal(t->pidfd, 0, NULL, 0) < 0 && errno == ESRCH)
		return ins_err(err, ESRCH, "%s: process has exited", t->spec);
	if (read_alive_stat(t->spec, t->pid, &st, err) < 0)
		return -1;
	if (st.starttime != t->starttime)
		return ins_err(err, ESRCH, "%s: process has exited", t->spec);
	return 0;
}

void ins_target_release(struct ins_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	free(t->spec);
	*t = (struct ins_target)INS_TARGET_INIT;
}
