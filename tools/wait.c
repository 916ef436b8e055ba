/* ctk wait: block until containers exit; print their exit codes. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "inspect/container.h"

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s CONTAINER...\n"
		"\n"
		"Wait until each container has exited and print its exit code\n"
		"(128+N when its PID 1 was killed by signal N).\n"
		"\n"
		"Options:\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog);
}

int tool_wait(int argc, char **argv)
{
	const char *prog = argv[0];
	struct ins_store s;
	int rc = cli_parse_plain(argc, argv, usage);

	if (rc != EXIT_OK)
		return rc;
	if (optind >= argc)
		return cli_usage_error(prog, "wait takes one or more CONTAINERs");
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	for (int i = optind; i < argc; i++) {
		struct ins_error err;
		int code;

		if (ins_container_wait(&s, argv[i], &code, &err) < 0)
			rc = cli_fail(prog, &err);
		else
			printf("%d\n", code);
	}
	ins_store_close(&s);
	return rc;
}
