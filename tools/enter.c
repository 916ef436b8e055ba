/*
 * ctk enter: run a command inside a target's namespaces, with nsenter's
 * flags, entered through a pidfd, and hardened like a container runtime's
 * exec (no fd of ours reaches the command, the cwd is checked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect/cleanup.h"
#include "inspect/enter.h"
#include "inspect/proc.h"
#include "inspect/spawn.h"

enum {
	OPT_PRESERVE = 0x2000,
	OPT_TOOLS,
};

/* An -S/-G value: a number, or "follow" (the target's effective id). */
struct id_arg {
	bool set, follow;
	unsigned id;
};

struct enter_cmd {
	const char *prog;
	struct ins_enter_opts o;
	const char *target_spec; /* -t, or the first argument */
	bool needs_target;
	bool copy_env;
	struct id_arg uid, gid;
	char **cmd; /* NULL: the default shell */
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options] [-t] TARGET [--] [CMD [ARG...]]\n"
		"\n"
		"Run CMD (default: $SHELL, else /bin/sh) inside TARGET's namespaces.\n"
		"Without a namespace option, --all is implied.\n"
		"\n"
		"Options:\n"
		" -a, --all              enter every namespace of TARGET that differs from ours\n"
		" -t, --target PID       the target (instead of the first argument)\n"
		" -m, --mount[=FILE]     enter the mount namespace\n"
		" -u, --uts[=FILE]       enter the UTS namespace (hostname)\n"
		" -i, --ipc[=FILE]       enter the IPC namespace\n"
		" -n, --net[=FILE]       enter the network namespace\n"
		" -p, --pid[=FILE]       enter the PID namespace (CMD runs in a child)\n"
		" -U, --user[=FILE]      enter the user namespace\n"
		" -C, --cgroup[=FILE]    enter the cgroup namespace\n"
		" -T, --time[=FILE]      enter the time namespace\n"
		"                        FILE: a namespace file or bind mount to enter instead\n"
		" -S, --setuid UID       run CMD as UID (a number, or 'follow': the target's)\n"
		" -G, --setgid GID       run CMD as GID (a number, or 'follow': the target's)\n"
		"     --preserve-credentials\n"
		"                        keep our UID and GID in an entered user namespace\n"
		" -r, --root[=DIR]       change root to DIR in the entered mount namespace\n"
		"                        (default: the target's root)\n"
		" -w, --wd[=DIR]         change directory to DIR below the new root\n"
		"                        (default: the target's working directory)\n"
		" -e, --env              give CMD the target's environment\n"
		" -F, --no-fork          do not fork after entering a PID namespace\n"
		" -c, --join-cgroup      move into the target's cgroups (v1 and v2) first\n"
		"     --tools            enter every differing namespace but mnt and start in\n"
		"                        the target's root: the host's tools on its files\n"
		" -h, --help             display this help\n"
		"\n"
		"TARGET is a PID, or the name or id (prefix) of a ctk container.\n"
		"Exit status: CMD's; 1 when entering fails, 2 on a usage error,\n"
		"126 when CMD cannot run, 127 when it is not found.\n",
		prog);
}

static int parse_id(struct enter_cmd *c, struct id_arg *id, const char *arg, const char *what)
{
	char *end;
	unsigned long v;

	id->set = true;
	if (strcmp(arg, "follow") == 0) {
		id->follow = true;
		c->needs_target = true;
		return 0;
	}
	v = strtoul(arg, &end, 10);
	if (!*arg || *end || v > 0xfffffffeUL)
		return cli_usage_error(c->prog, "not a %s: %s", what, arg);
	id->id = (unsigned)v;
	return 0;
}

/* A namespace flag, with an optional FILE ("-nFILE", "-n=FILE", "--net=FILE"). */
static void ns_flag(struct enter_cmd *c, enum ins_ns_type type, const char *arg)
{
	c->o.ns |= INS_NS_BIT(type);
	if (arg && *arg == '=')
		arg++;
	if (arg && *arg)
		c->o.ns_file[type] = arg;
	else
		c->needs_target = true;
}

static const char *dir_arg(const char *arg)
{
	if (arg && *arg == '=')
		arg++;
	return arg && *arg ? arg : NULL;
}

static int parse_opt(struct enter_cmd *c, int opt, const char *arg)
{
	static const char ns_letters[INS_NS_NTYPES] = {
		[INS_NS_CGROUP] = 'C', [INS_NS_IPC] = 'i', [INS_NS_MNT] = 'm', [INS_NS_NET] = 'n',
		[INS_NS_PID] = 'p', [INS_NS_TIME] = 'T', [INS_NS_USER] = 'U', [INS_NS_UTS] = 'u',
	};

	for (int t = 0; t < INS_NS_NTYPES; t++)
		if (opt == ns_letters[t]) {
			ns_flag(c, t, arg);
			return EXIT_OK;
		}
	switch (opt) {
	case 'a':
		c->o.all = c->needs_target = true;
		return EXIT_OK;
	case 't':
		c->target_spec = arg;
		return EXIT_OK;
	case 'S':
		return parse_id(c, &c->uid, arg, "UID");
	case 'G':
		return parse_id(c, &c->gid, arg, "GID");
	case OPT_PRESERVE:
		c->o.preserve_credentials = true;
		return EXIT_OK;
	case 'r':
		c->o.root = true;
		c->o.root_dir = dir_arg(arg);
		c->needs_target |= !c->o.root_dir;
		return EXIT_OK;
	case 'w':
		c->o.wd = true;
		c->o.wd_dir = dir_arg(arg);
		c->needs_target |= !c->o.wd_dir;
		return EXIT_OK;
	case 'e':
		c->copy_env = c->needs_target = true;
		return EXIT_OK;
	case 'F':
		c->o.no_fork = true;
		return EXIT_OK;
	case 'c':
		c->o.join_cgroup = c->needs_target = true;
		return EXIT_OK;
	case OPT_TOOLS:
		c->o.tools = c->needs_target = true;
		return EXIT_OK;
	case 'h':
		usage(stdout, c->prog);
		exit(EXIT_OK);
	}
	return cli_usage_hint(c->prog); /* getopt has said what was wrong */
}

static int parse_args(struct enter_cmd *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "target", required_argument, NULL, 't' },
		{ "mount", optional_argument, NULL, 'm' },
		{ "uts", optional_argument, NULL, 'u' },
		{ "ipc", optional_argument, NULL, 'i' },
		{ "net", optional_argument, NULL, 'n' },
		{ "pid", optional_argument, NULL, 'p' },
		{ "user", optional_argument, NULL, 'U' },
		{ "cgroup", optional_argument, NULL, 'C' },
		{ "time", optional_argument, NULL, 'T' },
		{ "setuid", required_argument, NULL, 'S' },
		{ "setgid", required_argument, NULL, 'G' },
		{ "preserve-credentials", no_argument, NULL, OPT_PRESERVE },
		{ "root", optional_argument, NULL, 'r' },
		{ "wd", optional_argument, NULL, 'w' },
		{ "env", no_argument, NULL, 'e' },
		{ "no-fork", no_argument, NULL, 'F' },
		{ "join-cgroup", no_argument, NULL, 'c' },
		{ "tools", no_argument, NULL, OPT_TOOLS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	/* '+': options end at the first argument, so CMD's own options stay CMD's. */
	while ((opt = getopt_long(argc, argv, "+at:m::u::i::n::p::U::C::T::S:G:r::w::eFch", longopts,
				  NULL)) != -1)
		if ((rc = parse_opt(c, opt, optarg)) != EXIT_OK)
			return rc;
	if (!c->o.ns && !c->o.tools) {
		c->o.all = true; /* no namespace named: all of them */
		c->needs_target = true;
	}
	if (c->o.tools && (c->o.ns & INS_NS_BIT(INS_NS_MNT) || c->o.root || c->o.wd))
		return cli_usage_error(c->prog, "--tools stays in our mount namespace: drop -m, -r and -w");
	if (!c->target_spec && c->needs_target) {
		if (optind >= argc)
			return cli_usage_error(c->prog, "no target given");
		c->target_spec = argv[optind++];
	}
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	c->cmd = optind < argc ? argv + optind : NULL;
	return EXIT_OK;
}

/* Resolves "follow" ids and the environment, which come from the target. */
static int gather_from_target(struct enter_cmd *c, const struct ins_target *t, char ***env,
			      struct ins_error *err)
{
	if (c->uid.follow || c->gid.follow) {
		struct ins_proc_ids ids;

		if (ins_proc_read_ids_inside(t->pid, &ids, err) < 0)
			return ins_err_prefix(err, "%s", t->spec);
		if (c->uid.follow)
			c->uid.id = ids.euid;
		if (c->gid.follow)
			c->gid.id = ids.egid;
	}
	c->o.set_uid = c->uid.set;
	c->o.uid = c->uid.id;
	c->o.set_gid = c->gid.set;
	c->o.gid = c->gid.id;
	if (c->copy_env && !(*env = ins_proc_environ(t->pid, err)))
		return ins_err_prefix(err, "%s", t->spec);
	return 0;
}

/*
 * Once entering has begun we leave without atexit handlers: our children
 * may be born in the target's PID namespace, where a handler that starts a
 * helper to inspect us (LeakSanitizer's does) could never see us and would
 * wait forever. Nothing of ours is buffered: messages go to stderr.
 */
static __attribute__((noreturn)) void leave(int code)
{
	_exit(code);
}

int tool_enter(int argc, char **argv)
{
	struct enter_cmd c = { .prog = argv[0] };
	struct ins_target target = INS_TARGET_INIT;
	_cleanup_strv_ char **env = NULL;
	struct ins_error err;
	int rc = parse_args(&c, argc, argv), wstatus = 0;

	if (rc != EXIT_OK)
		return rc;
	if (c.target_spec) {
		if (ins_target_resolve(c.target_spec, &target, &err) < 0)
			return cli_fail(c.prog, &err);
		c.o.target = &target;
	}
	if (gather_from_target(&c, &target, &env, &err) < 0) {
		ins_target_release(&target);
		return cli_fail(c.prog, &err);
	}
	rc = ins_enter_run(&c.o, c.cmd, env, &wstatus, &err);
	ins_target_release(&target);
	if (rc == INS_EXEC_FAILED) {
		/* The command itself could not start: the shells' 126/127 convention. */
		cli_fail(c.prog, &err);
		leave(ins_exec_failure_status(err.code));
	}
	if (rc < 0)
		leave(cli_fail(c.prog, &err));
	leave(cli_status_of(wstatus));
}
