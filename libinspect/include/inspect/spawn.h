/*
 * Running a command from a process that has prepared its namespaces,
 * credentials and root: fd hygiene before exec, and a supervising parent
 * when a fork is needed.
 */
#ifndef INSPECT_SPAWN_H
#define INSPECT_SPAWN_H

#include <signal.h>
#include <sys/types.h>

#include "inspect/error.h"

/* Returned (instead of -1) when everything worked but the command could not be executed. */
#define INS_EXEC_FAILED (-2)

/*
 * Marks every fd >= 3 close-on-exec (close_range) and execs ARGV with ENVP
 * (NULL: our environment), searching the PATH of that environment. Returns
 * only on failure: INS_EXEC_FAILED with err->code the exec errno (ENOENT:
 * command not found), or -1 when fd hygiene could not be ensured.
 */
int ins_exec(char *const argv[], char *const envp[], struct ins_error *err);

/*
 * Spawns ARGV with ENVP in a child that inherits no fd >= 3. Forwards SIGTERM,
 * SIGHUP, SIGUSR1, SIGUSR2 and process-sent SIGINT/SIGQUIT to the child
 * (terminal-generated ones reach it directly), mirrors job-control stops,
 * and returns 0 with the child's wait status in *WSTATUS. A failed exec
 * returns INS_EXEC_FAILED (err->code the exec errno).
 */
int ins_spawn_wait(char *const argv[], char *const envp[], int *wstatus,
		       struct ins_error *err);

/*
 * A parent that supervises a child: between ins_relay_begin and
 * ins_relay_end, SIGCHLD and the relayed signals (SIGTERM, SIGHUP, SIGUSR1,
 * SIGUSR2, and SIGINT/SIGQUIT sent by processes; the terminal's reach the
 * child directly) are blocked and read from a signalfd. A child made in
 * between must restore OLD as its signal mask.
 */
struct ins_relay {
	sigset_t old;
	int sfd;
};

int ins_relay_begin(struct ins_relay *r, struct ins_error *err);
/* Waits for CHILD to end, relaying signals and mirroring job-control stops. */
int ins_relay_wait(struct ins_relay *r, pid_t child, int *wstatus, struct ins_error *err);
void ins_relay_end(struct ins_relay *r);

/* The conventional shell exit code for a failed exec: 127 not found, else 126. */
int ins_exec_failure_status(int code);

#endif
