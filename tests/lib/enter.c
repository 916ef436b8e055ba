/* libinspect's enter: both mechanisms, and never entering a reused PID. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../helpers.h"
#include "inspect/enter.h"
#include "inspect/fileio.h"

static struct child target;

static void teardown(void)
{
	child_cleanup(&target);
}

TestSuite(lib_enter, .fini = teardown, .timeout = 60);

/* In a child: enter TARGET's UTS namespace with MECH and exec hostname into a pipe. */
static void hostname_via(enum ins_enter_mechanism mech, char *out, size_t size)
{
	static char *const argv[] = { "hostname", NULL };
	int p[2], st;
	ssize_t n;
	pid_t pid;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ins_target t;
		struct ins_error err;
		struct ins_enter_opts o = { .ns = INS_NS_BIT(INS_NS_UTS), .mechanism = mech };
		int ws;

		dup2(p[1], 1);
		if (ins_target_resolve(pidstr(target.pid), &t, &err) < 0)
			_exit(2);
		o.target = &t;
		ins_enter_run(&o, argv, NULL, &ws, &err);
		fprintf(stderr, "%s\n", err.msg);
		_exit(3);
	}
	close(p[1]);
	n = read(p[0], out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mechanism %d: status %d", mech, st);
}

Test(lib_enter, pidfd_and_namespace_files_enter_the_same_namespace)
{
	struct child_opts o = { .flags = CLONE_NEWUTS, .hostname = "ctk-mechanism" };
	char out[64];

	cr_assert_eq(child_start(&o, &target), 0, "%m");
	hostname_via(INS_ENTER_PIDFD, out, sizeof(out));
	cr_assert_str_eq(out, "ctk-mechanism\n");
	hostname_via(INS_ENTER_NSFILES, out, sizeof(out));
	cr_assert_str_eq(out, "ctk-mechanism\n");
}

/*
 * Inside a PID namespace of our own, where we alone allocate PIDs: resolve
 * a target, let it die, hand its PID to an impostor in another UTS
 * namespace (ns_last_pid), then try to enter. Exit codes say what happened.
 */
static int reuse_scenario(enum ins_enter_mechanism mech)
{
	static char *const argv[] = { "sh", "-c", "exit 99", NULL };
	struct ins_enter_opts o = { .ns = INS_NS_BIT(INS_NS_UTS), .mechanism = mech };
	struct ins_target t;
	struct ins_error err;
	pid_t victim, impostor;
	char last[16], byte;
	int sync[2], ws, rc;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", 0, NULL) < 0 || pipe2(sync, O_CLOEXEC) < 0)
		return 10;
	victim = fork();
	if (victim == 0)
		for (;;)
			pause();
	if (ins_target_resolve(pidstr(victim), &t, &err) < 0)
		return 11;
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	snprintf(last, sizeof(last), "%d", (int)victim - 1);
	if (ins_write_file_at(AT_FDCWD, "/proc/sys/kernel/ns_last_pid", last, &err) < 0)
		return 12;
	impostor = fork();
	if (impostor == 0) {
		if (unshare(CLONE_NEWUTS) == 0 && sethostname("impostor", 8) == 0)
			close(sync[1]);
		for (;;)
			pause();
	}
	close(sync[1]);
	if (impostor != victim || read(sync[0], &byte, 1) != 0)
		return 13; /* the PID was not reused: the scenario did not happen */
	o.target = &t;
	rc = ins_enter_run(&o, argv, NULL, &ws, &err);
	kill(impostor, SIGKILL);
	if (rc == -1 && err.code == ESRCH)
		return 0;
	return 14;
}

Test(lib_enter, never_enters_a_reused_pid)
{
	for (int mech = INS_ENTER_PIDFD; mech <= INS_ENTER_NSFILES; mech++) {
		pid_t pid = fork();
		int st;

		cr_assert_geq(pid, 0);
		if (pid == 0) {
			pid_t init;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
				_exit(1);
			init = fork(); /* PID 1 of the new namespace */
			if (init == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				_exit(reuse_scenario(mech));
			}
			waitpid(init, &st, 0);
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 2);
		}
		waitpid(pid, &st, 0);
		cr_assert(WIFEXITED(st), "mechanism %d: killed", mech);
		cr_assert_eq(WEXITSTATUS(st), 0, "mechanism %d: scenario exit %d", mech, WEXITSTATUS(st));
	}
}
