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

struct rm_opts {
	bool force, volumes;
};

static int remove_one(struct ins_store *s, struct ins_container *c, void *opts, struct ins_error *err)
{
	const struct rm_opts *o = opts;

	return ins_container_remove(s, c, o->force, o->volumes, err);
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
	struct rm_opts o = { 0 };
	int opt;

	while ((opt = getopt_long(argc, argv, "fvh", longopts, NULL)) != -1) {
		if (opt == 'f') {
			o.force = true;
		} else if (opt == 'v') {
			o.volumes = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			return EXIT_OK;
		} else {
			return cli_usage_hint(prog);
		}
	}
	return cli_each_container(prog, argc, argv, remove_one, &o);
}
