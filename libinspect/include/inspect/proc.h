/* Readers for /proc/PID: the only place that knows /proc's file formats. */
#ifndef INSPECT_PROC_H
#define INSPECT_PROC_H

#include <dirent.h>
#include <stdbool.h>
#include <sys/types.h>

#include "inspect/error.h"

/* The fields of /proc/PID/stat that ctk uses. */
struct ins_proc_stat {
	pid_t pid;
	char comm[64];
	char state; /* R, S, D, Z, ... */
	pid_t ppid;
	unsigned int flags; /* PF_* */
	unsigned long long starttime; /* clock ticks after boot: identifies a PID's incarnation */
};

/* Real and effective ids from /proc/PID/status. */
struct ins_proc_ids {
	uid_t ruid, euid;
	gid_t rgid, egid;
};

/* The whole of /proc/PID/FILE, malloc'd and NUL-terminated; *LEN its size when LEN is set. */
char *ins_proc_read(pid_t pid, const char *file, size_t *len, struct ins_error *err);

/* Parses one /proc/PID/stat line. Returns -1 on malformed input. */
int ins_proc_stat_parse(const char *line, struct ins_proc_stat *st, struct ins_error *err);

int ins_proc_read_stat(pid_t pid, struct ins_proc_stat *st, struct ins_error *err);

/* True when the stat says the task is a kernel thread (PF_KTHREAD). */
bool ins_proc_is_kthread(const struct ins_proc_stat *st);

/*
 * The command line joined with spaces, or the comm name when the command
 * line is empty (kernel threads, zombies). malloc'd.
 */
char *ins_proc_command(pid_t pid, struct ins_error *err);

/* The environment at exec time as a NULL-terminated, malloc'd vector. */
char **ins_proc_environ(pid_t pid, struct ins_error *err);

/* PID's ids as our user namespace sees them. */
int ins_proc_read_ids(pid_t pid, struct ins_proc_ids *ids, struct ins_error *err);

/* PID's ids as its own user namespace sees them (through its uid_map and gid_map). */
int ins_proc_read_ids_inside(pid_t pid, struct ins_proc_ids *ids, struct ins_error *err);

/*
 * Maps ID, as seen from the reader's user namespace, through the text of a
 * uid_map or gid_map ("inside outside count" lines) to the inside id.
 */
int ins_idmap_to_inside(const char *map, unsigned id, unsigned *inside);

/* Iteration over the PIDs in /proc (processes, not threads). */
struct ins_proc_iter {
	DIR *dir;
};

int ins_proc_iter_open(struct ins_proc_iter *it, struct ins_error *err);
/* The next PID, or 0 at the end. */
pid_t ins_proc_iter_next(struct ins_proc_iter *it);
void ins_proc_iter_close(struct ins_proc_iter *it);
/* The /proc directory fd of an open iterator, for *at() calls. */
int ins_proc_iter_fd(const struct ins_proc_iter *it);

/* Parses a decimal PID (> 0). Returns 0 when S is not one. */
pid_t ins_parse_pid(const char *s);

#endif
