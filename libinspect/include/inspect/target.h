/*
 * TARGET resolution, in one place: every tool turns its TARGET argument into
 * a struct ins_target here. A TARGET is a PID, or the name or id prefix of a
 * ctk container (its PID 1); other runtimes' ids resolve here too as they
 * arrive.
 */
#ifndef INSPECT_TARGET_H
#define INSPECT_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

#include "inspect/error.h"

struct ins_target {
	char *spec; /* the TARGET string as given */
	pid_t pid; /* the process to dissect or enter */
	unsigned long long starttime; /* the incarnation of PID that SPEC resolved to */
	int pidfd; /* pins that incarnation; -1 when the kernel has no pidfd_open */
};

#define INS_TARGET_INIT { .pidfd = -1 }

/*
 * Resolves SPEC and pins the process with a pidfd. Errors name SPEC:
 * "SPEC: no such process", "SPEC: process has exited", ...
 */
int ins_target_resolve(const char *spec, struct ins_target *t, struct ins_error *err);

/*
 * Fails with ESRCH unless the pinned process still runs and its PID was not
 * reused (checked through the pidfd and the start time).
 */
int ins_target_check(const struct ins_target *t, struct ins_error *err);

void ins_target_release(struct ins_target *t);

#endif
