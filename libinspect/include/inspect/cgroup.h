/* Control groups on cgroup v1, v2 and hybrid hosts. */
#ifndef INSPECT_CGROUP_H
#define INSPECT_CGROUP_H

#include <stdbool.h>
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

/* A cgroup hierarchy mounted in our mount namespace. */
struct ins_cgroup_hier {
	char *mount; /* its mount point */
	char *root; /* the cgroup at the top of that mount ("/" unless bind-mounted or namespaced) */
	bool v2;
	char *controllers; /* v1: its controllers and name=, sorted, comma-separated;
			      v2: those its top offers (cgroup.controllers), comma-separated */
};

struct ins_cgroup_hiers {
	struct ins_cgroup_hier *h;
	size_t n;
};

/* Every hierarchy mounted here (each once, however many times it is mounted). */
int ins_cgroup_hiers_read(struct ins_cgroup_hiers *hs, struct ins_error *err);
void ins_cgroup_hiers_free(struct ins_cgroup_hiers *hs);
/* Whether H carries CONTROLLER ("cpu", "memory", ...). */
bool ins_cgroup_hier_has(const struct ins_cgroup_hier *h, const char *controller);
/* The hierarchy of a /proc/PID/cgroup entry, or NULL when it is not mounted here. */
const struct ins_cgroup_hier *ins_cgroup_hier_of(const struct ins_cgroup_hiers *hs,
						 const struct ins_cgroup_entry *e);
/* The directory of cgroup PATH in H (malloc'd); NULL (ENOENT) when PATH is outside its mount. */
char *ins_cgroup_hier_dir(const struct ins_cgroup_hier *h, const char *path, struct ins_error *err);

/*
 * The directory of ENTRY's cgroup in our mount namespace (the hierarchy's
 * mount point joined with the path below the mount's root), malloc'd.
 * ENOENT when the hierarchy is not mounted here.
 */
char *ins_cgroup_dir(const struct ins_cgroup_entry *entry, struct ins_error *err);

/*
 * Moves the calling process, which must be single-threaded, into PID's
 * cgroups, on every hierarchy mounted here (v1 controllers, named v1
 * hierarchies, cgroup2).
 */
int ins_cgroup_join_pid(pid_t pid, struct ins_error *err);

/* Resource limits of a container; 0 means none. */
struct ins_cgroup_limits {
	long long cpu_quota_us; /* CPU time per 100 ms period: --cpus 1.5 is 150000 */
	long long memory_bytes; /* memory (and, with swap, memory+swap) */
	long long pids_max;
};

#define INS_CGROUP_CPU_PERIOD_US 100000

/*
 * Makes the cgroup PATH ("/ctk/<id>") in the hierarchies of HS (those
 * mounted here, from ins_cgroup_hiers_read) that matter to a container:
 * cgroup2 and the v1 ones of cpu, cpuacct, memory, pids and blkio; and
 * applies L where each controller lives: cpu.max, memory.max, pids.max on
 * cgroup v2; cpu.cfs_quota_us, memory.limit_in_bytes, pids.max on v1; on a
 * hybrid host each limit goes to the hierarchy that has its controller.
 * A limit whose controller is nowhere is an error. On failure nothing made
 * is left.
 */
int ins_cgroup_create(const struct ins_cgroup_hiers *hs, const char *path,
		      const struct ins_cgroup_limits *l, struct ins_error *err);
/*
 * An O_CLOEXEC directory fd of PATH in the cgroup2 hierarchy of HS, for
 * clone3's CLONE_INTO_CGROUP (a child born in its cgroup costs no
 * migration); ENOENT when HS has no cgroup2 hierarchy.
 */
int ins_cgroup_open_v2(const struct ins_cgroup_hiers *hs, const char *path, struct ins_error *err);
/*
 * Moves the calling process, which must be single-threaded, into PATH in
 * the hierarchies ins_cgroup_create uses; with V1_ONLY, not into cgroup2
 * (where CLONE_INTO_CGROUP put it already).
 */
int ins_cgroup_enter(const struct ins_cgroup_hiers *hs, const char *path, bool v1_only,
		     struct ins_error *err);
/* Removes PATH from every hierarchy mounted here, waiting a little for exiting members. */
int ins_cgroup_remove(const char *path, struct ins_error *err);
/* The same, in the hierarchies of HS. */
int ins_cgroup_remove_in(const struct ins_cgroup_hiers *hs, const char *path, struct ins_error *err);

#endif
