/*
 * ctk: the multi-call entry point. "ctk TOOL ARGS" and "ctk-TOOL ARGS" (a
 * link to this binary) run the same tool.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef CTK_VERSION
#error "CTK_VERSION must be defined by the build"
#endif

static const struct tool {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
} tools[] = {
	{ "commit", tool_commit, "make a new image of a container's changes (docker commit)" },
	{ "diff", tool_diff, "show what a container changed in its root (docker diff)" },
	{ "enter", tool_enter, "run a command inside a target's namespaces (nsenter-style)" },
	{ "exec", tool_exec, "run a command in a running container (docker exec)" },
	{ "image", tool_image, "manage images: import, ls, rm, history" },
	{ "kill", tool_kill, "send a signal to containers" },
	{ "layers", tool_layers, "show the layers of a container or image, their changes and waste" },
	{ "logs", tool_logs, "print a detached container's output" },
	{ "ns", tool_ns, "list namespaces: every one on the host, or a target's" },
	{ "ps", tool_ps, "list containers" },
	{ "rm", tool_rm, "remove containers" },
	{ "run", tool_run, "run a container from an image" },
	{ "stop", tool_stop, "stop containers: SIGTERM, then SIGKILL" },
	{ "volume", tool_volume, "manage volumes: ls, inspect, rm, prune" },
	{ "wait", tool_wait, "wait for containers to exit" },
};

static void usage(FILE *out)
{
	fputs("Usage: ctk TOOL [ARGS...]\n"
	      "   or: ctk-TOOL [ARGS...]\n"
	      "\n"
	      "Inspect and debug containers and processes.\n"
	      "\n"
	      "Tools:\n",
	      out);
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		fprintf(out, "  %-8s %s\n", tools[i].name, tools[i].summary);
	fputs("\n"
	      "Options:\n"
	      " -h, --help     display this help\n"
	      " -V, --version  display the version\n"
	      "\n"
	      "Run 'ctk TOOL --help' for a tool's options; see ctk(1) and ctk-TOOL(1).\n",
	      out);
}

static int run_tool(const char *name, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (strcmp(tools[i].name, name) == 0) {
			char prog[64];

			/* getopt and every message say "ctk TOOL". */
			snprintf(prog, sizeof(prog), "ctk %s", name);
			argv[0] = prog;
			return tools[i].main(argc, argv);
		}
	}
	fprintf(stderr, "ctk: unknown tool '%s'\nTry 'ctk --help' for the list of tools.\n", name);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	if (strncmp(base, "ctk-", 4) == 0)
		return run_tool(base + 4, argc, argv);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("ctk %s\n", CTK_VERSION);
		return EXIT_OK;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "ctk: unknown option '%s'\nTry 'ctk --help'.\n", argv[1]);
		return EXIT_USAGE;
	}
	return run_tool(argv[1], argc - 1, argv + 1);
}
