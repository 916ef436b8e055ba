/*
 * Entering a process's namespaces, nsenter-style, with the hardening that
 * runc's CVE-2019-5736 and CVE-2024-21626 taught: every fd close-on-exec,
 * non-dumpable until exec, the target pinned by a pidfd, the working
 * directory checked after the root change.
 */
#ifndef INSPECT_ENTER_H
#define INSPECT_ENTER_H

#include <stdbool.h>
#include <sys/types.h>

#include "inspect/error.h"
#include "inspect/ns.h"
#include "inspect/target.h"

enum ins_enter_mechanism {
	INS_ENTER_AUTO, /* pidfd when the kernel can, else namespace files */
	INS_ENTER_PIDFD, /* one setns(pidfd, flags): atomic */
	INS_ENTER_NSFILES, /* setns on each /proc/PID/ns/TYPE, then a PID-reuse check */
};

struct ins_enter_opts {
	const struct ins_target *target; /* NULL when every namespace comes from a file */
	unsigned ns; /* INS_NS_BIT mask of namespaces to enter */
	const char *ns_file[INS_NS_NTYPES]; /* a namespace file instead of the target's */
	bool all; /* also every namespace of the target that differs from ours */
	bool tools; /* every differing namespace but mnt; cwd = the target's root (root, wd unused) */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups with set_gid (none when NULL) */
	size_t ngroups;
	bool preserve_credentials; /* no setuid(0)/setgid(0) after entering a user namespace */
	bool root; /* change root: to ROOT_DIR in the entered mount ns, else the target's root */
	const char *root_dir;
	bool wd; /* change directory: to WD_DIR below the new root, else the target's cwd */
	const char *wd_dir;
	bool no_fork; /* exec in place even after entering a PID namespace */
	bool join_cgroup; /* move into the target's cgroups first */
	enum ins_enter_mechanism mechanism;
};

/*
 * Enters what O asks for and runs ARGV (NULL: $SHELL if it exists in the
 * entered root, else /bin/sh) with ENVP (NULL: ours).
 *
 * When a PID namespace was entered (and !no_fork) the command runs in a
 * child: this returns 0 with its wait status in *WSTATUS. Otherwise the
 * command replaces the caller and this returns only on failure: -1 when
 * entering failed, INS_EXEC_FAILED (spawn.h) when the command could not be
 * executed, with the exec errno in err->code.
 */
int ins_enter_run(const struct ins_enter_opts *o, char *const argv[], char *const envp[],
		  int *wstatus, struct ins_error *err);

#endif
