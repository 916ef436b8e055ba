/* ctk logs: the output of a detached container. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "inspect/container.h"

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-f] CONTAINER\n"
		"\n"
		"Print what a detached container wrote to its stdout and stderr.\n"
		"\n"
		"Options:\n"
		" -f, --follow           keep printing new output until the container exits\n"
		" -h, --help             display this help\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog);
}

/* Copies what FD holds now to stdout; -1 on a write error. */
static int drain(int fd)
{
	char buf[1 << 16];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -1;
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Whether the container still runs (reloaded: its state changes under us). */
static bool still_running(struct ins_store *s, const char *id)
{
	struct ins_container c;
	struct ins_error ignored;
	bool running;

	if (ins_container_load(s, id, &c, &ignored) < 0)
		return false;
	running = ins_container_status(&c) == INS_CONTAINER_RUNNING;
	ins_container_free(&c);
	return running;
}

int tool_logs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	struct ins_container c;
	struct ins_store s;
	struct ins_error err;
	bool follow = false;
	int opt, fd, rc;

	while ((opt = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		if (opt == 'f') {
			follow = true;
		} else if (opt == 'h') {
			usage(stdout, prog);
			return EXIT_OK;
		} else {
			return cli_usage_hint(prog);
		}
	}
	if ((rc = cli_load_container(prog, argc, argv, &s, &c)) != EXIT_OK)
		return rc;
	if ((fd = ins_container_open_log(&c, &err)) < 0) {
		ins_container_free(&c);
		ins_store_close(&s);
		return cli_fail(prog, &err);
	}
	while ((rc = drain(fd)) == 0 && follow && still_running(&s, c.id))
		usleep(100000);
	/* What it wrote while it exited. */
	if (rc == 0 && follow)
		rc = drain(fd);
	close(fd);
	ins_container_free(&c);
	ins_store_close(&s);
	if (rc < 0) {
		cli_warn(prog, "write error");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
