/*
 * Running a command from a process that has prepared its namespaces,
 * credentials and root: fd hygiene before exec, and a supervising parent
 * when a fork is needed.
 */
#ifndef INSPECT_SPAWN_H
#define INSPECT_SPAWN_H

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

/* The conventional shell exit code for a failed exec: 127 not found, else 126. */
int ins_exec_failure_status(int code);

#endif
