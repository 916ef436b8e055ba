/*
 * ctk's own containers: made from an image in the store, run with an
 * overlay root (image layers, an init layer, a read-write layer), their own
 * namespaces and cgroups, and kept under CTK_ROOT/containers/<id>/ (the
 * root is mounted over that directory in the container's own mount
 * namespace only, so the host never sees it):
 *
 *   config.json   what was asked for: image, process, volumes, limits
 *   state.json    what happened: status, PID 1, exit code, times
 *   init/         the init layer (etc/hosts, etc/hostname, etc/resolv.conf)
 *   upper/, work/ the read-write layer and the overlay's work directory
 *   log           stdout and stderr of a detached container
 *   exec.log      every command run in it with ctk exec, one JSON line each
 */
#ifndef INSPECT_CONTAINER_H
#define INSPECT_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "inspect/cgroup.h"
#include "inspect/error.h"
#include "inspect/store.h"

#define INS_CONTAINER_ID_LEN 64

/* A -v argument: "/ctr" (anonymous), "name:/ctr" (named), "/host:/ctr" (bind), ":ro" suffix. */
struct ins_volume_spec {
	char *source; /* NULL: anonymous; no '/' in it: a named volume; else a host path */
	char *dest;
	bool readonly;
};

/* Parses a -v argument. */
int ins_volume_spec_parse(const char *arg, struct ins_volume_spec *v, struct ins_error *err);
void ins_volume_spec_free(struct ins_volume_spec *v);

struct ins_run_spec {
	const char *image;
	const char *name; /* NULL: the short id */
	const char *const *env; /* -e K=V (or K: taken from our environment) */
	size_t nenv;
	const struct ins_volume_spec *volumes;
	size_t nvolumes;
	const char *workdir; /* NULL: the image's */
	const char *user; /* "UID[:GID]" or names from the container's /etc/passwd; NULL: the image's */
	const char *hostname; /* NULL: the short id */
	const char *entrypoint; /* non-NULL: replaces the image's ENTRYPOINT and clears its CMD */
	const char *const *args; /* replace the image's CMD when given */
	size_t nargs;
	bool host_network; /* --network host; else a network namespace with only lo */
	struct ins_cgroup_limits limits;
	bool detach; /* leave a supervisor behind; output to the log */
	bool remove; /* --rm: remove it once it exits */
};

/* A container's records. */
struct ins_container {
	char id[INS_CONTAINER_ID_LEN + 1];
	char *dir; /* CTK_ROOT/containers/<id> */
	json_t *config;
	json_t *state;
};

enum ins_container_status {
	INS_CONTAINER_CREATED,
	INS_CONTAINER_RUNNING,
	INS_CONTAINER_EXITED,
	INS_CONTAINER_DEAD, /* recorded as running, but its PID 1 is gone and nobody saw it exit */
};

/*
 * Creates the container and starts it. In the foreground it returns once
 * the container has exited, with its wait status in *WSTATUS, signals sent
 * to us relayed to PID 1. Detached, it returns once PID 1 runs, a
 * supervisor left behind to reap it. ID receives the container's id.
 */
int ins_container_run(struct ins_store *s, const struct ins_run_spec *spec,
		      char id[INS_CONTAINER_ID_LEN + 1], int *wstatus, struct ins_error *err);

/* Finds a container by name, id, or unique id prefix. */
int ins_container_load(struct ins_store *s, const char *name, struct ins_container *c,
		       struct ins_error *err);
void ins_container_free(struct ins_container *c);
/* Every container, oldest first. */
int ins_container_list(struct ins_store *s, struct ins_container **cs, size_t *n,
		       struct ins_error *err);
void ins_container_list_free(struct ins_container *cs, size_t n);

/* The status, checked against the kernel: a recorded PID 1 must still be that process. */
enum ins_container_status ins_container_status(const struct ins_container *c);
const char *ins_container_status_name(enum ins_container_status st);
/* PID 1 of a running container (as the host sees it), or 0. */
pid_t ins_container_pid(const struct ins_container *c);
/* The process line: entrypoint and command, as PID 1 runs them. */
json_t *ins_container_args(const struct ins_container *c);
/* The same, words joined with spaces (malloc'd; NULL when out of memory). */
char *ins_container_command(const struct ins_container *c);

/* Sends SIG to PID 1 (through a pidfd: never to a successor of its PID). */
int ins_container_kill(const struct ins_container *c, int sig, struct ins_error *err);
/*
 * SIGTERM, then SIGKILL after TIMEOUT seconds; returns once PID 1 is gone
 * and (within a few seconds) its supervisor has recorded the exit.
 */
int ins_container_stop(struct ins_store *s, const struct ins_container *c, int timeout,
		       struct ins_error *err);
/* Waits until the container has exited and its exit is recorded; *CODE gets its exit code. */
int ins_container_wait(struct ins_store *s, const char *id, int *code, struct ins_error *err);
/*
 * Removes a container that is not running (with FORCE, kills it first):
 * its cgroups, its directory, and with VOLUMES its anonymous volumes.
 */
int ins_container_remove(struct ins_store *s, struct ins_container *c, bool force, bool volumes,
			 struct ins_error *err);

/* What ctk exec runs in a container, and how. */
struct ins_exec_spec {
	char *const *argv;
	const char *const *env; /* -e K=V on top of the container's environment */
	size_t nenv;
	const char *workdir; /* NULL: the container's */
	const char *user; /* NULL: the container's; names from its /etc/passwd */
};

/*
 * Runs a command in the running container NAME, as docker exec does: every
 * namespace of its PID 1, its cgroups, its environment, working directory
 * and user, with ctk enter's hardening; logged in its exec.log. Returns 0
 * with the command's wait status, INS_EXEC_FAILED when it cannot run.
 */
int ins_container_exec(struct ins_store *s, const char *name, const struct ins_exec_spec *x, int *wstatus,
		       struct ins_error *err);

/* The log of a detached container, open for reading (ENOENT: it ran in the foreground). */
int ins_container_open_log(const struct ins_container *c, struct ins_error *err);

/* Appends ARGV to the container's exec.log (what ctk exec ran in it). */
int ins_container_log_exec(const struct ins_container *c, char *const argv[], struct ins_error *err);

#endif
