/*
 * Linux namespaces: the eight types, a process's set, and the host-wide
 * table of every namespace (what lsns shows, plus persistent ones).
 */
#ifndef INSPECT_NS_H
#define INSPECT_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "inspect/error.h"

enum ins_ns_type {
	INS_NS_CGROUP,
	INS_NS_IPC,
	INS_NS_MNT,
	INS_NS_NET,
	INS_NS_PID,
	INS_NS_TIME,
	INS_NS_USER,
	INS_NS_UTS,
	INS_NS_NTYPES
};

#define INS_NS_BIT(t) (1u << (t))
#define INS_NS_ALL ((1u << INS_NS_NTYPES) - 1)

/* "cgroup", "ipc", ... as in /proc/PID/ns and lsns. */
const char *ins_ns_type_name(enum ins_ns_type type);
/* -1 when NAME is not a namespace type. */
int ins_ns_type_from_name(const char *name);
/* The CLONE_NEW* flag of TYPE. */
int ins_ns_type_clone_flag(enum ins_ns_type type);

/* A namespace's identity: the nsfs inode and device. */
struct ins_ns_id {
	ino_t ino;
	dev_t dev;
};

static inline bool ins_ns_id_equal(struct ins_ns_id a, struct ins_ns_id b)
{
	return a.ino == b.ino && a.dev == b.dev;
}

/* The namespaces of one process; types the kernel lacks are not in PRESENT. */
struct ins_ns_set {
	struct ins_ns_id id[INS_NS_NTYPES];
	unsigned present; /* INS_NS_BIT mask */
};

/* "/proc/PID/ns/TYPE" into BUF. */
void ins_ns_proc_path(pid_t pid, enum ins_ns_type type, char *buf, size_t size);

/* PID 0 means the calling process. */
int ins_ns_of_pid(pid_t pid, struct ins_ns_set *set, struct ins_error *err);

/*
 * The host's namespaces: those of PID 1, or, where PID 1 cannot be read (a
 * hardened init), those of kthreadd, which always runs in the initial ones.
 */
int ins_ns_host(struct ins_ns_set *set, struct ins_error *err);

/* The type of the namespace open at FD (NS_GET_NSTYPE). */
int ins_ns_fd_type(int fd, struct ins_error *err);

/* Owner (user namespace) and parent of the namespace open at FD; 0 if none or hidden. */
int ins_ns_fd_relations(int fd, ino_t *owner, ino_t *parent, struct ins_error *err);

/* One namespace of the host-wide table. */
struct ins_namespace {
	enum ins_ns_type type;
	struct ins_ns_id id;
	unsigned nprocs;
	pid_t pid; /* lowest PID in it, 0 when no process is */
	pid_t ppid;
	uid_t uid;
	char *command; /* of PID */
	char *path; /* /proc/PID/ns/TYPE, or the first nsfs mount point */
	char **nsfs; /* NULL-terminated nsfs mount points (persistent namespaces) */
	ino_t owner; /* owning user namespace (0 when unknown or hidden) */
	ino_t parent; /* parent pid/user namespace (0 otherwise) */
	bool interpolated; /* no process and no mount: known only as an owner/parent */
};

struct ins_ns_table {
	struct ins_namespace *ns; /* sorted by inode */
	size_t n;
};

struct ins_ns_table_opts {
	unsigned types; /* INS_NS_BIT mask; 0 means all */
	pid_t pid; /* only namespaces this process is in; 0 for all */
	bool relations; /* fill owner and parent (ioctls on each namespace) */
	bool interpolate; /* add owners/parents no process is in (for trees) */
};

/*
 * Scans every process in /proc (processes that vanish or cannot be read are
 * skipped, as lsns does) and every nsfs mount of our mount namespace.
 */
int ins_ns_table_read(const struct ins_ns_table_opts *opts, struct ins_ns_table *tab,
		      struct ins_error *err);
void ins_ns_table_free(struct ins_ns_table *tab);
/* The entry for INO, or NULL. */
struct ins_namespace *ins_ns_table_find(const struct ins_ns_table *tab, ino_t ino);

#endif
