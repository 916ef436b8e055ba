/* ctk commit: a container's changes as a new image (docker commit). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect/commit.h"
#include "inspect/container.h"
#include "inspect/store.h"

enum { OPT_EXCLUDE = 0x100 };

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options] CONTAINER [REF]\n"
		"\n"
		"Make a new image of a container's changes: its read-write layer becomes one\n"
		"new layer on top of its image's (files added and changed with all their\n"
		"metadata, a .wh. entry for each deletion), its process the image's command.\n"
		"The init layer's files and what volumes hold are left out; a volume's mount\n"
		"point stays, empty. Prints the new image's id; REF names it.\n"
		"\n"
		"Options:\n"
		" -m, --message MSG      the history entry's comment\n"
		" -a, --author AUTHOR    the image's author (\"Name <email>\")\n"
		" -c, --change INSTR     apply a Dockerfile instruction to the config: CMD,\n"
		"                        ENTRYPOINT, ENV, WORKDIR or USER; repeatable\n"
		"     --exclude GLOB     leave out what GLOB matches, and what is below it: a\n"
		"                        path from / (/var/cache/*) or its last names (*.log);\n"
		"                        repeatable\n"
		" -h, --help             display this help\n"
		"\n"
		"The history entry says how the layer came to be: PID 1's command line, every\n"
		"command ctk exec ran in the container, and how many paths were added, changed\n"
		"and deleted (ctk image history REF).\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog);
}

/* A name docker would take: a lower-case repository, an optional tag; nothing that reads as an id. */
static bool valid_ref(const char *ref)
{
	const char *slash = strrchr(ref, '/'), *colon = strrchr(slash ? slash : ref, ':');
	size_t repo = colon ? (size_t)(colon - ref) : strlen(ref);

	if (!isalnum((unsigned char)ref[0]) || strncmp(ref, "sha256:", 7) == 0 || (colon && !colon[1]))
		return false;
	for (size_t i = 0; i < repo; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-/:", ref[i]))
			return false;
	for (const char *p = colon ? colon + 1 : ""; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

int tool_commit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "author", required_argument, NULL, 'a' },
		{ "change", required_argument, NULL, 'c' },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argv[0];
	const char **changes = calloc((size_t)argc + 1, sizeof(*changes));
	const char **excludes = calloc((size_t)argc + 1, sizeof(*excludes));
	struct ins_commit_opts o = { .changes = changes, .excludes = excludes };
	struct ins_container c;
	struct ins_image img;
	struct ins_store s;
	struct ins_error err;
	int opt, rc = EXIT_OK;

	if (!changes || !excludes) {
		free(changes);
		free(excludes);
		return EXIT_ERROR;
	}
	while (rc == EXIT_OK && (opt = getopt_long(argc, argv, "m:a:c:h", longopts, NULL)) != -1) {
		if (opt == 'm') {
			o.message = optarg;
		} else if (opt == 'a') {
			o.author = optarg;
		} else if (opt == 'c') {
			changes[o.nchanges++] = optarg;
		} else if (opt == OPT_EXCLUDE) {
			excludes[o.nexcludes++] = optarg;
		} else if (opt == 'h') {
			usage(stdout, prog);
			rc = -1;
		} else {
			rc = cli_usage_hint(prog);
		}
	}
	if (rc == EXIT_OK && (argc - optind < 1 || argc - optind > 2))
		rc = cli_usage_error(prog, "commit takes a CONTAINER and an optional REF");
	if (rc == EXIT_OK && argc - optind == 2 && !valid_ref(o.ref = argv[optind + 1]))
		rc = cli_usage_error(prog, "%s: not an image name (lower-case [a-z0-9._/-], then an optional :TAG)",
				     o.ref);
	/* CONTAINER is the last argument cli_load_container looks at. */
	if (rc == EXIT_OK && (rc = cli_load_container(prog, optind + 1, argv, &s, &c)) == EXIT_OK) {
		if (ins_container_commit(&s, &c, &o, &img, NULL, &err) < 0) {
			rc = cli_fail(prog, &err);
		} else {
			printf("%s\n", img.id.s);
			ins_image_free(&img);
		}
		ins_container_free(&c);
		ins_store_close(&s);
	}
	free(changes);
	free(excludes);
	return rc < 0 ? EXIT_OK : rc;
}
