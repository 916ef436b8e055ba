/*
 * Test helpers: real target processes in new namespaces, runs of the ctk
 * binary with captured output, and JSON parsing. Everything a helper creates
 * is undone by its *_cleanup function, which tests call from .fini so it runs
 * even when an assertion fails; children also die with the test process
 * (PR_SET_PDEATHSIG). The steps at the end (scratch_store, mkimage_v, ctk_ok)
 * assert themselves (criterion) and so fail the calling test.
 */
#ifndef CTK_TEST_HELPERS_H
#define CTK_TEST_HELPERS_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

/* A process in new namespaces that waits until it is killed. */
struct child {
	pid_t pid; /* the target: PID 1 of its PID namespace when one was made */
	pid_t reap; /* our direct child (the target, or its parent in our PID namespace) */
	int lifeline; /* closing it (or our death) makes that parent kill the target */
};

struct child_opts {
	int flags; /* CLONE_NEW* */
	const char *hostname; /* with CLONE_NEWUTS */
	bool map_users; /* with CLONE_NEWUSER: 0-65535 inside = 100000-165535 outside */
	bool mount_proc; /* with CLONE_NEWNS|CLONE_NEWPID: a /proc of its own */
	const char *rootfs; /* with CLONE_NEWNS: chroot into a tmpfs mounted on this dir,
			       holding /usr (bound from the host), /data/marker and cwd /data */
	unsigned run_as; /* with map_users: setuid/setgid to this id inside before exec */
	bool no_exec; /* stay the test binary (pause) instead of exec'ing sleep */
	char *const *env; /* environment for the exec'd sleep */
};

/* Starts the child and waits until it is set up. Returns 0, or -1 with errno. */
int child_start(const struct child_opts *o, struct child *c);
/* Kills and reaps it; safe to call twice or on a child that never started. */
void child_cleanup(struct child *c);

/* The result of one command run. */
struct run {
	pid_t pid; /* the process that ran (ctk, before it exec'd or forked anything) */
	int status; /* exit code, or 128 + signal */
	char *out;
	char *err;
	int outfd, errfd; /* where the output is collected */
};

struct run_opts {
	uid_t uid; /* run as this uid/gid when set_uid */
	bool set_uid;
	int leak_fd; /* when > 2: an fd left open without close-on-exec, to see if it leaks */
	char *const *env; /* the environment (NULL: ours) */
	bool background; /* return at once with r->pid running; finish with run_wait */
	const char *input; /* its standard input (NULL: /dev/null) */
};

/* Waits for a background run and captures its output. */
int run_wait(struct run *r);

/* Runs ARGV (a NULL-terminated vector) and captures its output. */
int run_argv(struct run *r, const struct run_opts *o, char *const argv[]);
/* Runs the ctk binary under test with the NULL-terminated arguments that follow. */
int ctk(struct run *r, const char *arg, ...) __attribute__((sentinel));
int ctk_opts(struct run *r, const struct run_opts *o, const char *arg, ...)
	__attribute__((sentinel));
int ctk_vopts(struct run *r, const struct run_opts *o, const char *arg, va_list ap);
void run_free(struct run *r);

/* The path of the ctk binary under test ($CTK, else build/ctk). */
const char *ctk_path(void);
/* The source tree ($CTK_SRC, else "."). */
const char *src_path(const char *rel, char *buf, size_t size);

/* Parses JSON text; NULL on error. */
json_t *json_parse(const char *text);

/* The inode of /proc/PID/ns/TYPE (PID 0: ours); 0 on error. */
unsigned long long ns_inode(pid_t pid, const char *type);

/* "%d" of PID in a static buffer rotated among 4 calls, for argument lists. */
const char *pidstr(pid_t pid);

/* Forks a child that exits at once and is left unreaped: a zombie. Reap it with waitpid. */
pid_t zombie_start(void);

/* Makes our mount namespace private, so mounts made by the test die with it. */
int private_mounts(void);

/*
 * Makes the scratch directory /tmp/ctk-test-NAME-XXXXXX, its path in WORK
 * (WORK_SIZE bytes), and points CTK_ROOT at its store/, whose path goes in
 * STORE (STORE_SIZE bytes); asserts that it could.
 */
void scratch_store(const char *name, char *work, size_t work_size, char *store, size_t store_size);

/*
 * Runs tests/fixtures/mkimage.sh FORMAT PATH ARGS..., ARGS being the rest of
 * AP up to a NULL, and asserts that it succeeded.
 */
void mkimage_v(const char *format, const char *path, va_list ap);

/*
 * Makes a busybox image with mkimage.sh docker ARGS... (up to a NULL) in
 * WORK and imports it as NAME into CTK_ROOT's store; asserts that it could.
 */
void import_image_(const char *work, const char *name, ...) __attribute__((sentinel));

/* The directory of container NAME of the store STORE on the host (valid until the next call); asserts it exists. */
const char *container_dir(const char *store, const char *name);

/* Removes every container of the store STORE, whatever its state, with its anonymous volumes. */
void remove_all_containers(const char *store);

/*
 * Undoes scratch_store (for .fini): every container of STORE goes, then
 * WORK with everything in it; WORK is emptied, so a second call does nothing.
 */
void scratch_store_remove(char *work, const char *store);

/*
 * Runs "ctk TOOL ARGS..." and asserts that it exits with STATUS; returns its
 * stdout, or its stderr when STATUS is not 0 (valid until the next call).
 */
const char *ctk_ok_(int status, const char *tool, ...) __attribute__((sentinel));
#define ctk_ok(status, ...) ctk_ok_(status, __VA_ARGS__, NULL)

#endif
