/* ctk exec: docker exec for ctk's containers, built on libinspect's enter. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "inspect/container.h"
#include "inspect/spawn.h"

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options] CONTAINER CMD [ARG...]\n"
		"\n"
		"Run a command in a running container: all its namespaces and cgroups, its\n"
		"environment, working directory and user, with ctk enter's hardening.\n"
		"The command is logged in the container's exec log.\n"
		"\n"
		"Options:\n"
		" -e, --env K=V          set an environment variable (K alone: take ours); repeatable\n"
		" -w, --workdir DIR      the working directory (default: the container's)\n"
		" -u, --user USER[:GROUP]\n"
		"                        run as USER (a name from the container's /etc/passwd, or an id)\n"
		" -i, --interactive      keep stdin (without it the command reads /dev/null)\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: the command's; 1 when ctk cannot exec it in the container,\n"
		"126 when it cannot be executed, 127 when it is not found, 2 on a usage error.\n",
		prog);
}

int tool_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	const char **env = calloc((size_t)argc + 1, sizeof(*env));
	struct ins_exec_spec x = { .env = env };
	struct ins_store s;
	struct ins_error err;
	bool interactive = false;
	int opt, rc, wstatus = 0;

	if (!env)
		return EXIT_ERROR;
	/* '+': options end at CONTAINER; the command's own options stay its. */
	while ((opt = getopt_long(argc, argv, "+e:w:u:ih", longopts, NULL)) != -1) {
		if (opt == 'e') {
			env[x.nenv++] = optarg;
		} else if (opt == 'w') {
			x.workdir = optarg;
		} else if (opt == 'u') {
			x.user = optarg;
		} else if (opt == 'i') {
			interactive = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			free(env);
			return EXIT_OK;
		} else {
			free(env);
			return cli_usage_hint(prog);
		}
	}
	if (argc - optind < 2) {
		free(env);
		return cli_usage_error(prog, "exec takes a CONTAINER and a CMD");
	}
	x.argv = argv + optind + 1;
	if (!interactive) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, 0) < 0) {
			free(env);
			return EXIT_ERROR;
		}
		close(null);
	}
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK) {
		free(env);
		return rc;
	}
	rc = ins_container_exec(&s, argv[optind], &x, &wstatus, &err);
	ins_store_close(&s);
	free(env);
	/* As ctk enter: no atexit handlers once namespaces were entered. */
	if (rc == INS_EXEC_FAILED) {
		cli_fail(prog, &err);
		_exit(ins_exec_failure_status(err.code));
	}
	if (rc < 0)
		_exit(cli_fail(prog, &err));
	_exit(cli_status_of(wstatus));
}
