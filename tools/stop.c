/* ctk stop: SIGTERM to a container's PID 1, SIGKILL after a grace period. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "inspect/container.h"

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-t SECONDS] CONTAINER...\n"
		"\n"
		"Stop containers: SIGTERM to PID 1, then SIGKILL after the grace period.\n"
		"\n"
		"Options:\n"
		" -t, --time SECONDS     the grace period (default 10)\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 when a container could not be stopped, 2 usage error.\n",
		prog);
}

static int stop_one(struct ins_store *s, struct ins_container *c, void *timeout, struct ins_error *err)
{
	return ins_container_stop(s, c, *(int *)timeout, err);
}

int tool_stop(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	int opt, timeout = 10;
	char *end;

	while ((opt = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
		if (opt == 't') {
			timeout = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || timeout < 0)
				return cli_usage_error(prog, "-t %s: a number of seconds", optarg);
		} else if (opt == 'h') {
			usage(stdout, prog);
			return EXIT_OK;
		} else {
			return cli_usage_hint(prog);
		}
	}
	return cli_each_container(prog, argc, argv, stop_one, &timeout);
}
