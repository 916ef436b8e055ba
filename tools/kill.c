/* ctk kill: a signal to a container's PID 1. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "inspect/container.h"

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-s SIGNAL] CONTAINER...\n"
		"\n"
		"Send a signal to the PID 1 of containers.\n"
		"\n"
		"Options:\n"
		" -s, --signal SIGNAL    a name (TERM, SIGTERM) or a number (default KILL)\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 when a container could not be signalled, 2 usage error.\n",
		prog);
}

/* "TERM", "SIGTERM", "15": the signal number, or 0. */
static int parse_signal(const char *arg)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = { { "HUP", SIGHUP },   { "INT", SIGINT },	  { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		      { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },	  { "TERM", SIGTERM }, { "STOP", SIGSTOP },
		      { "CONT", SIGCONT }, { "WINCH", SIGWINCH }, { "ALRM", SIGALRM }, { "ABRT", SIGABRT },
		      { "PIPE", SIGPIPE } };
	char *end;
	long n = strtol(arg, &end, 10);

	if (!*end && end != arg)
		return n > 0 && n < NSIG ? (int)n : 0;
	if (strncasecmp(arg, "SIG", 3) == 0)
		arg += 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(arg, names[i].name) == 0)
			return names[i].sig;
	return 0;
}

static int kill_one(struct ins_store *s, struct ins_container *c, void *sig, struct ins_error *err)
{
	(void)s;
	return ins_container_kill(c, *(int *)sig, err);
}

int tool_kill(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "signal", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	int opt, sig = SIGKILL;

	while ((opt = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		if (opt == 's') {
			if (!(sig = parse_signal(optarg)))
				return cli_usage_error(prog, "-s %s: not a signal", optarg);
		} else if (opt == 'h') {
			usage(stdout, prog);
			return EXIT_OK;
		} else {
			return cli_usage_hint(prog);
		}
	}
	return cli_each_container(prog, argc, argv, kill_one, &sig);
}
