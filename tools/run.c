/*
 * ctk run: a container from an image in the store, with Docker's rules for
 * ENTRYPOINT and CMD, an init layer, volumes and cgroup limits.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "inspect/container.h"
#include "inspect/spawn.h"

enum {
	OPT_RM = 0x2000,
	OPT_NAME,
	OPT_HOSTNAME,
	OPT_ENTRYPOINT,
	OPT_NETWORK,
	OPT_CPUS,
	OPT_MEMORY,
	OPT_PIDS,
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options] IMAGE [ARG...]\n"
		"\n"
		"Run a container from IMAGE: its layers read-only, an init layer and a\n"
		"read-write layer over them, new namespaces, and the application as PID 1.\n"
		"ARGs replace the image's CMD.\n"
		"\n"
		"Options:\n"
		" -d, --detach           run in the background and print the container's id\n"
		"     --rm               remove the container when it exits\n"
		"     --name NAME        name the container (default: its short id)\n"
		" -e, --env K=V          set an environment variable (K alone: take ours); repeatable\n"
		" -v, --volume [SRC:]DST[:ro]\n"
		"                        mount a volume at DST: anonymous without SRC, a named\n"
		"                        volume when SRC is a name, a host directory when SRC is\n"
		"                        an absolute path; repeatable\n"
		" -w, --workdir DIR      the working directory (made if missing)\n"
		" -u, --user USER[:GROUP]\n"
		"                        run as USER (a name from the image's /etc/passwd, or an id)\n"
		"     --hostname NAME    the container's hostname (default: its short id)\n"
		"     --entrypoint CMD   replace the image's ENTRYPOINT (and clear its CMD)\n"
		"     --network MODE     none (default: only a loopback) or host\n"
		"     --cpus N           CPU time limit in CPUs (e.g. 0.5)\n"
		"     --memory SIZE      memory limit (bytes, or with k, m, g)\n"
		"     --pids-limit N     at most N processes\n"
		" -h, --help             display this help\n"
		"\n"
		"State lives in CTK_ROOT (default /var/lib/ctk).\n"
		"Exit status: the container's, or 125 when ctk cannot run it,\n"
		"126 when its command cannot be executed, 127 when it is not found,\n"
		"2 on a usage error.\n",
		prog);
}

/* "1.5" CPUs: CPU time per 100 ms period. */
static int parse_cpus(const char *arg, long long *quota)
{
	char *end;
	double cpus;

	errno = 0;
	cpus = strtod(arg, &end);
	if (errno || *end || !(cpus > 0) || cpus > 4096)
		return -1;
	*quota = (long long)(cpus * INS_CGROUP_CPU_PERIOD_US + 0.5);
	return *quota >= 1000 ? 0 : -1;
}

/* "512m", "1g", "65536": bytes. */
static int parse_size(const char *arg, long long *bytes)
{
	char *end;
	long long v;
	int shift = 0;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || v <= 0)
		return -1;
	switch (*end) {
	case 'g': case 'G': shift = 30; break;
	case 'm': case 'M': shift = 20; break;
	case 'k': case 'K': shift = 10; break;
	case 'b': case 'B': case '\0': break;
	default: return -1;
	}
	/* One unit, optionally followed by a b: 64m, 64mb, 64b, 64. */
	if (*end && end[1] && (shift == 0 || !((end[1] == 'b' || end[1] == 'B') && !end[2])))
		return -1;
	if (v > (LLONG_MAX >> shift))
		return -1;
	*bytes = v << shift;
	return 0;
}

struct run_cmd {
	const char *prog;
	struct ins_run_spec spec;
	const char **env;
	struct ins_volume_spec *volumes;
};

static int parse_opt(struct run_cmd *c, int opt, const char *arg)
{
	struct ins_run_spec *s = &c->spec;
	struct ins_error err;
	char *end;

	switch (opt) {
	case 'd':
		s->detach = true;
		return EXIT_OK;
	case OPT_RM:
		s->remove = true;
		return EXIT_OK;
	case OPT_NAME:
		s->name = arg;
		return EXIT_OK;
	case 'e':
		c->env[s->nenv++] = arg;
		return EXIT_OK;
	case 'v':
		if (ins_volume_spec_parse(arg, &c->volumes[s->nvolumes], &err) < 0)
			return cli_usage_error(c->prog, "%s", err.msg);
		s->nvolumes++;
		return EXIT_OK;
	case 'w':
		if (arg[0] != '/')
			return cli_usage_error(c->prog, "-w %s: the working directory must be absolute", arg);
		s->workdir = arg;
		return EXIT_OK;
	case 'u':
		s->user = arg;
		return EXIT_OK;
	case OPT_HOSTNAME:
		s->hostname = arg;
		return EXIT_OK;
	case OPT_ENTRYPOINT:
		s->entrypoint = arg;
		return EXIT_OK;
	case OPT_NETWORK:
		if (strcmp(arg, "host") != 0 && strcmp(arg, "none") != 0)
			return cli_usage_error(c->prog, "--network %s: none or host", arg);
		s->host_network = strcmp(arg, "host") == 0;
		return EXIT_OK;
	case OPT_CPUS:
		if (parse_cpus(arg, &s->limits.cpu_quota_us) < 0)
			return cli_usage_error(c->prog, "--cpus %s: a number of CPUs, at least 0.01", arg);
		return EXIT_OK;
	case OPT_MEMORY:
		if (parse_size(arg, &s->limits.memory_bytes) < 0)
			return cli_usage_error(c->prog, "--memory %s: a size such as 64m", arg);
		return EXIT_OK;
	case OPT_PIDS:
		s->limits.pids_max = strtoll(arg, &end, 10);
		if (*end || end == arg || s->limits.pids_max < 1)
			return cli_usage_error(c->prog, "--pids-limit %s: a positive number", arg);
		return EXIT_OK;
	case 'h':
		usage(stdout, c->prog);
		exit(EXIT_OK);
	}
	return cli_usage_hint(c->prog);
}

static int parse_args(struct run_cmd *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "env", required_argument, NULL, 'e' },
		{ "volume", required_argument, NULL, 'v' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "pids-limit", required_argument, NULL, OPT_PIDS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	/* '+': options end at IMAGE; what follows is the container's command. */
	while ((opt = getopt_long(argc, argv, "+de:v:w:u:h", longopts, NULL)) != -1)
		if ((rc = parse_opt(c, opt, optarg)) != EXIT_OK)
			return rc;
	if (optind >= argc)
		return cli_usage_error(c->prog, "no image given");
	c->spec.image = argv[optind++];
	c->spec.args = (const char *const *)argv + optind;
	c->spec.nargs = (size_t)(argc - optind);
	c->spec.env = c->env;
	c->spec.volumes = c->volumes;
	return EXIT_OK;
}

int tool_run(int argc, char **argv)
{
	struct run_cmd c = { .prog = argv[0] };
	char id[INS_CONTAINER_ID_LEN + 1];
	struct ins_store store;
	struct ins_error err;
	int wstatus = 0, rc;

	c.env = calloc((size_t)argc + 1, sizeof(*c.env));
	c.volumes = calloc((size_t)argc + 1, sizeof(*c.volumes));
	if (!c.env || !c.volumes)
		return 125;
	rc = parse_args(&c, argc, argv);
	if (rc == EXIT_OK && ins_store_open(NULL, &store, &err) < 0) {
		cli_fail(c.prog, &err);
		rc = 125;
	}
	if (rc == EXIT_OK) {
		rc = ins_container_run(&store, &c.spec, id, &wstatus, &err);
		ins_store_close(&store);
		if (rc == INS_EXEC_FAILED) {
			cli_fail(c.prog, &err);
			rc = ins_exec_failure_status(err.code);
		} else if (rc < 0) {
			cli_fail(c.prog, &err);
			rc = 125;
		} else if (c.spec.detach) {
			printf("%s\n", id);
		} else {
			rc = -1;
		}
	}
	for (size_t i = 0; i < c.spec.nvolumes; i++)
		ins_volume_spec_free(&c.volumes[i]);
	free(c.volumes);
	free(c.env);
	return rc == -1 ? cli_status_of(wstatus) : rc;
}
