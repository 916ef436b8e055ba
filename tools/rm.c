/* ctk rm: remove containers, leaving no mount, cgroup, process or directory. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "inspect/container.h"

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-f] [-v] CONTAINER...\n"
		"\n"
		"Remove containers: their cgroups and their directory in CTK_ROOT.\n"
		"\n"
		"Options:\n"
		" -f, --force            kill a running container first\n"
		" -v, --volumes          also remove its anonymous volumes\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 when a container could not be removed, 2 usage error.\n",
		prog);
}

int tool_rm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	bool force = false, volumes = false;
	struct ins_store s;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "fvh", longopts, NULL)) != -1) {
		if (opt == 'f') {
			force = true;
		} else if (opt == 'v') {
			volumes = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			return EXIT_OK;
		} else {
			return cli_usage_hint(prog);
		}
	}
	if (optind >= argc)
		return cli_usage_error(prog, "rm takes one or more CONTAINERs");
	if ((rc = cli_open_store(prog, &s)) != EXIT_OK)
		return rc;
	for (int i = optind; i < argc; i++) {
		struct ins_container c;
		struct ins_error err;

		if (ins_container_load(&s, argv[i], &c, &err) < 0 ||
		    ins_container_remove(&s, &c, force, volumes, &err) < 0)
			rc = cli_fail(prog, &err);
		else
			printf("%s\n", argv[i]);
		ins_container_free(&c);
	}
	ins_store_close(&s);
	return rc;
}
