#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/spawn.h"

extern char **environ;

int ins_exec_failure_status(int code)
{
	return code == ENOENT ? 127 : 126;
}

int ins_exec(char *const argv[], char *const envp[], struct ins_error *err)
{
	/* execvp searches the PATH of environ: make it the command's environment. */
	if (envp)
		environ = (char **)envp;
	/*
	 * No fd of ours may reach the command (runc CVE-2019-5736, -2024-21626).
	 * Close-on-exec rather than close: exec drops them all at once, and a
	 * caller's error pipe keeps working until then.
	 */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return ins_err_sys(err, errno, "close_range");
	execvp(argv[0], argv);
	ins_err_sys(err, errno, "%s", argv[0]);
	return INS_EXEC_FAILED;
}

/* Relays the signal read from the signalfd to CHILD. */
static void relay(pid_t child, const struct signalfd_siginfo *si)
{
	/* The terminal sends SIGINT/SIGQUIT to our whole process group, child included. */
	if ((si->ssi_signo == SIGINT || si->ssi_signo == SIGQUIT) && si->ssi_code != SI_USER)
		return;
	kill(child, (int)si->ssi_signo);
}

int ins_relay_begin(struct ins_relay *r, struct ins_error *err)
{
	sigset_t relayed;

	sigemptyset(&relayed);
	for (int s = 0, sigs[] = { SIGCHLD, SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 };
	     s < (int)(sizeof(sigs) / sizeof(sigs[0])); s++)
		sigaddset(&relayed, sigs[s]);
	/* An inherited SIG_IGN for SIGCHLD would reap the child behind our back. */
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_BLOCK, &relayed, &r->old);
	r->sfd = signalfd(-1, &relayed, SFD_CLOEXEC);
	if (r->sfd < 0) {
		int code = errno;

		sigprocmask(SIG_SETMASK, &r->old, NULL);
		return ins_err_sys(err, code, "signalfd");
	}
	return 0;
}

int ins_relay_wait(struct ins_relay *r, pid_t child, int *wstatus, struct ins_error *err)
{
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(r->sfd, &si, sizeof(si));
		pid_t w;

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(si))
			return ins_err_sys(err, errno, "signalfd");
		if (si.ssi_signo != SIGCHLD) {
			relay(child, &si);
			continue;
		}
		/* Job control: when the child stops, so do we (a shell sees it); continued, we continue it. */
		while ((w = waitpid(child, wstatus, WNOHANG | WUNTRACED)) == child) {
			if (!WIFSTOPPED(*wstatus))
				return 0;
			kill(getpid(), SIGSTOP);
			kill(child, SIGCONT);
		}
		if (w < 0 && errno != EINTR)
			return ins_err_sys(err, errno, "waitpid");
	}
}

void ins_relay_end(struct ins_relay *r)
{
	if (r->sfd >= 0)
		close(r->sfd);
	r->sfd = -1;
	sigprocmask(SIG_SETMASK, &r->old, NULL);
}

int ins_spawn_wait(char *const argv[], char *const envp[], int *wstatus, struct ins_error *err)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t actions;
	struct ins_relay r;
	pid_t child;
	int rc;

	if (ins_relay_begin(&r, err) < 0)
		return -1;
	/*
	 * posix_spawn: a vfork-style child that closes every fd >= 3, restores
	 * the signal mask and execs, with exec errors reported back to us.
	 */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigmask(&attr, &r.old);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addclosefrom_np(&actions, 3);
	if (envp)
		environ = (char **)envp; /* posix_spawnp searches this environment's PATH */
	rc = posix_spawnp(&child, argv[0], &actions, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		ins_relay_end(&r);
		ins_err_sys(err, rc, "%s", argv[0]);
		return INS_EXEC_FAILED;
	}
	rc = ins_relay_wait(&r, child, wstatus, err);
	ins_relay_end(&r);
	return rc;
}
