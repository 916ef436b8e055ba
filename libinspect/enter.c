#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "inspect/cgroup.h"
#include "inspect/cleanup.h"
#include "inspect/enter.h"
#include "inspect/spawn.h"

/* Order of entry: the mount namespace last among the others, the user namespace apart. */
static const enum ins_ns_type entry_order[] = {
	INS_NS_CGROUP, INS_NS_IPC, INS_NS_UTS, INS_NS_NET,
	INS_NS_PID, INS_NS_TIME, INS_NS_MNT, INS_NS_USER,
};

/* What one entry needs, gathered while we still see the host's /proc. */
struct plan {
	const struct ins_enter_opts *o;
	unsigned mask; /* every namespace to enter */
	unsigned from_target; /* those taken from the target rather than a file */
	bool use_pidfd;
	int fds[INS_NS_NTYPES]; /* per-type namespace fds (files, or the target's ns files) */
	int root_fd; /* the target's root, for -r without DIR and for --tools */
	int cwd_fd; /* the target's cwd, for -w without DIR */
	bool via_proc; /* something was opened through /proc/PID */
};

static void plan_release(struct plan *p)
{
	for (int t = 0; t < INS_NS_NTYPES; t++)
		ins_closep(&p->fds[t]);
	ins_closep(&p->root_fd);
	ins_closep(&p->cwd_fd);
}

static const char *target_name(const struct plan *p)
{
	return p->o->target ? p->o->target->spec : "namespace files";
}

/* The types present in both sets whose namespaces differ. */
static unsigned differing(const struct ins_ns_set *a, const struct ins_ns_set *b)
{
	unsigned mask = 0;

	for (int t = 0; t < INS_NS_NTYPES; t++)
		if ((a->present & b->present & INS_NS_BIT(t)) && !ins_ns_id_equal(a->id[t], b->id[t]))
			mask |= INS_NS_BIT(t);
	return mask;
}

static int compute_mask(struct plan *p, struct ins_error *err)
{
	const struct ins_enter_opts *o = p->o;
	const struct ins_target *t = o->target;
	struct ins_ns_set ours, theirs;
	unsigned files = 0;

	if (!t && (o->all || o->tools || o->join_cgroup || (o->root && !o->root_dir) ||
		   (o->wd && !o->wd_dir)))
		return ins_err(err, EINVAL, "entering needs a target for what was asked");
	if (ins_ns_of_pid(0, &ours, err) < 0)
		return -1;
	p->mask = o->ns;
	if (o->all || o->tools) {
		if (ins_ns_of_pid(t->pid, &theirs, err) < 0)
			return ins_err_prefix(err, "%s", t->spec);
		p->mask |= differing(&ours, &theirs);
	}
	if (o->tools)
		p->mask &= ~INS_NS_BIT(INS_NS_MNT);
	for (int type = 0; type < INS_NS_NTYPES; type++) {
		if (!(p->mask & INS_NS_BIT(type)))
			continue;
		if (!(ours.present & INS_NS_BIT(type)))
			return ins_err(err, EOPNOTSUPP, "this kernel has no %s namespaces",
				       ins_ns_type_name(type));
		if (o->ns_file[type])
			files |= INS_NS_BIT(type);
	}
	p->from_target = p->mask & ~files;
	if (p->from_target && !t)
		return ins_err(err, EINVAL, "the %s namespace needs a target or a file",
			       ins_ns_type_name(__builtin_ctz(p->from_target)));
	/* Re-entering our own user namespace is refused by the kernel and changes nothing. */
	if (p->from_target & INS_NS_BIT(INS_NS_USER)) {
		if (!(o->all || o->tools) && ins_ns_of_pid(t->pid, &theirs, err) < 0)
			return ins_err_prefix(err, "%s", t->spec);
		if (!(differing(&ours, &theirs) & INS_NS_BIT(INS_NS_USER))) {
			p->mask &= ~INS_NS_BIT(INS_NS_USER);
			p->from_target &= ~INS_NS_BIT(INS_NS_USER);
		}
	}
	return 0;
}

static int open_ns_files(struct plan *p, struct ins_error *err)
{
	for (int t = 0; t < INS_NS_NTYPES; t++) {
		const char *file = p->o->ns_file[t];
		int type;

		if (!file || !(p->mask & INS_NS_BIT(t)))
			continue;
		p->fds[t] = open(file, O_RDONLY | O_CLOEXEC);
		if (p->fds[t] < 0)
			return ins_err_sys(err, errno, "%s", file);
		type = ins_ns_fd_type(p->fds[t], err);
		if (type < 0)
			return ins_err_prefix(err, "%s", file);
		if (type != t)
			return ins_err(err, EINVAL, "%s: is a %s namespace, not %s", file,
				       ins_ns_type_name(type), ins_ns_type_name(t));
	}
	return 0;
}

/* setns(pidfd, ...) arrived in Linux 5.8. */
static bool kernel_has_pidfd_setns(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 5 || (major == 5 && minor >= 8);
}

static int open_target_path(struct plan *p, const char *what, int flags, int *fd,
			    struct ins_error *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)p->o->target->pid, what);
	p->via_proc = true;
	*fd = open(path, flags | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT)
			return ins_err(err, ESRCH, "%s: process has exited", target_name(p));
		return ins_err_sys(err, errno, "%s: %s", target_name(p), path);
	}
	return 0;
}

static int open_target_fds(struct plan *p, struct ins_error *err)
{
	const struct ins_enter_opts *o = p->o;
	const struct ins_target *t = o->target;
	bool pidfd_ok = t && t->pidfd >= 0 && kernel_has_pidfd_setns();

	if (o->mechanism == INS_ENTER_PIDFD && p->from_target && !pidfd_ok)
		return ins_err(err, EOPNOTSUPP, "%s: this kernel cannot setns() through a pidfd",
			       target_name(p));
	p->use_pidfd = p->from_target && pidfd_ok && o->mechanism != INS_ENTER_NSFILES;
	if (!t)
		return 0;
	for (int type = 0; type < INS_NS_NTYPES && !p->use_pidfd; type++) {
		char what[16];

		if (!(p->from_target & INS_NS_BIT(type)))
			continue;
		snprintf(what, sizeof(what), "ns/%s", ins_ns_type_name(type));
		if (open_target_path(p, what, O_RDONLY, &p->fds[type], err) < 0)
			return -1;
	}
	if (((o->root && !o->root_dir) || o->tools) &&
	    open_target_path(p, "root", O_PATH | O_DIRECTORY, &p->root_fd, err) < 0)
		return -1;
	if (o->wd && !o->wd_dir &&
	    open_target_path(p, "cwd", O_PATH | O_DIRECTORY, &p->cwd_fd, err) < 0)
		return -1;
	/* What we opened through /proc/PID belongs to the process we resolved, not a successor. */
	return p->via_proc ? ins_target_check(t, err) : 0;
}

/* A namespace fd to setns() and the CLONE_NEW* flags it stands for. */
struct entry {
	int fd;
	int flags;
	const char *what;
};

static int setns_failed(const struct plan *p, const struct entry *e, int code,
			struct ins_error *err)
{
	if (code == ESRCH)
		return ins_err(err, ESRCH, "%s: process exited during entry", target_name(p));
	return ins_err_sys(err, code, "%s: cannot enter %s", target_name(p), e->what);
}

static size_t collect_entries(const struct plan *p, struct entry *e)
{
	size_t n = 0;

	if (p->use_pidfd) {
		int flags = 0;

		for (int t = 0; t < INS_NS_NTYPES; t++)
			if (p->from_target & INS_NS_BIT(t))
				flags |= ins_ns_type_clone_flag(t);
		e[n++] = (struct entry){ p->o->target->pidfd, flags, "its namespaces" };
	}
	for (size_t i = 0; i < sizeof(entry_order) / sizeof(entry_order[0]); i++) {
		enum ins_ns_type t = entry_order[i];

		if (p->fds[t] >= 0)
			e[n++] = (struct entry){ p->fds[t], ins_ns_type_clone_flag(t),
						 ins_ns_type_name(t) };
	}
	return n;
}

/*
 * Enters every namespace. Entries that do not involve a user namespace go
 * first, while we still hold our capabilities; a user namespace then; last,
 * retries of what our capabilities did not allow (an entry into a more
 * privileged container needs its user namespace first).
 */
static int enter_namespaces(const struct plan *p, struct ins_error *err)
{
	struct entry e[INS_NS_NTYPES + 1];
	bool done[INS_NS_NTYPES + 1] = { false };
	size_t n = collect_entries(p, e);

	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < n; i++) {
			bool user = e[i].flags & CLONE_NEWUSER;

			if (done[i] || (pass == 0 && user) || (pass == 1 && !user))
				continue;
			if (setns(e[i].fd, e[i].flags) == 0) {
				done[i] = true;
				continue;
			}
			if (pass == 0 && errno == EPERM)
				continue;
			return setns_failed(p, &e[i], errno, err);
		}
	}
	return 0;
}

static int change_root(const struct plan *p, struct ins_error *err)
{
	const struct ins_enter_opts *o = p->o;

	if (!o->root)
		return 0;
	if (o->root_dir ? chdir(o->root_dir) : fchdir(p->root_fd))
		return ins_err_sys(err, errno, "root directory %s",
				   o->root_dir ? o->root_dir : "of the target");
	if (chroot(".") < 0)
		return ins_err_sys(err, errno, "chroot");
	return 0;
}

static bool same_dir(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/*
 * Sets the working directory and proves it lies inside the root: a cwd left
 * outside (an fd or a directory from the host) is how CVE-2024-21626 escaped.
 */
static int change_cwd(const struct plan *p, struct ins_error *err)
{
	const struct ins_enter_opts *o = p->o;
	char cwd[PATH_MAX];
	int rc = 0;

	if (o->tools)
		rc = fchdir(p->root_fd);
	else if (o->wd)
		rc = o->wd_dir ? chdir(o->wd_dir) : fchdir(p->cwd_fd);
	else if (o->root || (p->mask & INS_NS_BIT(INS_NS_MNT)))
		rc = chdir("/");
	if (rc < 0)
		return ins_err_sys(err, errno, "working directory %s",
				   o->wd_dir ? o->wd_dir : "of the target");
	if (o->tools) {
		/* The target's root is outside our mount tree by design: compare identities. */
		if (!same_dir(p->root_fd, "."))
			return ins_err(err, EXDEV, "working directory is not the target's root");
		return 0;
	}
	/*
	 * The raw syscall: the kernel prefixes "(unreachable)" to a cwd outside
	 * the root, which glibc's getcwd would paper over by walking "..".
	 */
	if (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0 || cwd[0] != '/')
		return ins_err(err, EXDEV, "working directory is outside the root");
	return 0;
}

static int set_credentials(const struct plan *p, struct ins_error *err)
{
	const struct ins_enter_opts *o = p->o;
	bool entered_user = p->mask & INS_NS_BIT(INS_NS_USER);
	bool defaults = entered_user && !o->preserve_credentials;

	if (o->set_gid || defaults) {
		gid_t gid = o->set_gid ? o->gid : 0;

		/* A user namespace may deny setgroups (after "deny" in /proc/PID/setgroups). */
		if (setgroups(o->groups ? o->ngroups : 0, o->groups) < 0 && errno != EPERM)
			return ins_err_sys(err, errno, "setgroups");
		if (setgid(gid) < 0)
			return ins_err_sys(err, errno, "setgid %u", (unsigned)gid);
	}
	if (o->set_uid || defaults) {
		uid_t uid = o->set_uid ? o->uid : 0;

		if (setuid(uid) < 0)
			return ins_err_sys(err, errno, "setuid %u", (unsigned)uid);
	}
	return 0;
}

int ins_enter_run(const struct ins_enter_opts *o, char *const argv[], char *const envp[],
		  int *wstatus, struct ins_error *err)
{
	struct plan p = { .o = o, .root_fd = -1, .cwd_fd = -1 };
	const char *shell = getenv("SHELL");
	char *shell_argv[2];
	int rc;

	for (int t = 0; t < INS_NS_NTYPES; t++)
		p.fds[t] = -1;
	/* Reads /proc/self/ns, which non-dumpable would make root's alone. */
	rc = compute_mask(&p, err);
	/*
	 * From here on nothing of the target may ptrace us or open our
	 * /proc/PID/exe (CVE-2019-5736); exec makes the command dumpable again.
	 */
	if (rc == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		rc = ins_err_sys(err, errno, "prctl(PR_SET_DUMPABLE)");
	if (rc == 0)
		rc = open_ns_files(&p, err);
	if (rc == 0)
		rc = open_target_fds(&p, err);
	/*
	 * Cgroups are joined through the host's cgroupfs, before that view is
	 * gone, and proved to be the resolved process's (not a PID successor's)
	 * before anything runs in them.
	 */
	if (rc == 0 && o->join_cgroup &&
	    (ins_cgroup_join_pid(o->target->pid, err) < 0 || ins_target_check(o->target, err) < 0))
		rc = ins_err_prefix(err, "%s: joining its cgroups", target_name(&p));
	if (rc == 0)
		rc = enter_namespaces(&p, err);
	if (rc == 0)
		rc = change_root(&p, err);
	if (rc == 0)
		rc = change_cwd(&p, err);
	if (rc == 0)
		rc = set_credentials(&p, err);
	plan_release(&p);
	if (rc < 0)
		return -1;
	if (!argv) {
		shell_argv[0] = (char *)(shell && access(shell, X_OK) == 0 ? shell : "/bin/sh");
		shell_argv[1] = NULL;
		argv = shell_argv;
	}
	if ((p.mask & INS_NS_BIT(INS_NS_PID)) && !o->no_fork)
		return ins_spawn_wait(argv, envp, wstatus, err);
	return ins_exec(argv, envp, err);
}
