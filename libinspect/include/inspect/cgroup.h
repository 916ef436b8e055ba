/* Control groups on cgroup v1, v2 and hybrid hosts. */
#ifndef INSPECT_CGROUP_H
#define INSPECT_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "inspect/error.h"

/* One line of /proc/PID/cgroup: a hierarchy and the process's cgroup in it. */
struct ins_cgroup_entry {
	unsigned hierarchy; /* 0 for the cgroup2 (unified) hierarchy */
	char *controllers; /* "cpu,cpuacct", "name=systemd", "" for cgroup2 */
	char *path; /* relative to the reader's cgroup namespace root */
};

struct ins_cgroup_set {
	struct ins_cgroup_entry *entries;
	size_t n;
};

/* Parses the text of a /proc/PID/cgroup file. */
int ins_cgroup_parse(const char *text, struct ins_cgroup_set *set, struct ins_error *err);
int ins_cgroup_of_pid(pid_t pid, struct ins_cgroup_set *set, struct ins_error *err);
void ins_cgroup_set_free(struct ins_cgroup_set *set);

/*
 * The directory of ENTRY's cgroup in our mount namespace (the hierarchy's
 * mount point joined with the path below the mount's root), malloc'd.
 * ENOENT when the hierarchy is not mounted here.
 */
char *ins_cgroup_dir(const struct ins_cgroup_entry *entry, struct ins_error *err);

/*
 * Moves the calling process into PID's cgroups, on every hierarchy mounted
 * here (v1 controllers, named v1 hierarchies, cgroup2).
 */
int ins_cgroup_join_pid(pid_t pid, struct ins_error *err);

#endif
