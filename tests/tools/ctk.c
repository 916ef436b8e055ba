/* The multi-call binary, its links, and man pages that match --help. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../helpers.h"

static char install_dest[64];

static void teardown(void)
{
	char cmd[128];

	if (install_dest[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", install_dest);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", install_dest);
		install_dest[0] = '\0';
	}
}

TestSuite(ctk, .fini = teardown, .timeout = 120);

/* The tools `ctk --help` lists ("  NAME    summary" lines). */
static size_t listed_tools(char names[][32], size_t max)
{
	struct run r;
	size_t n = 0;

	cr_assert_eq(ctk(&r, "--help", NULL), 0);
	cr_assert_eq(r.status, 0);
	for (char *save = NULL, *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "  ", 2) == 0 && line[2] >= 'a' && line[2] <= 'z' && n < max)
			sscanf(line, "%31s", names[n++]);
	run_free(&r);
	return n;
}

Test(ctk, help_version_and_unknown_tools)
{
	char names[16][32];
	regex_t re;
	struct run r;
	static const char *const expect[] = { "commit", "diff", "enter", "exec", "image", "kill", "layers", "logs",
					      "ns", "ps", "rm", "run", "stop", "volume", "wait" };

	cr_assert_eq(listed_tools(names, 16), sizeof(expect) / sizeof(expect[0]));
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		cr_assert_str_eq(names[i], expect[i]);
	ctk(&r, "--version", NULL);
	cr_assert_eq(regcomp(&re, "^ctk [0-9]+\\.[0-9]+\\.[0-9]+\n$", REG_EXTENDED), 0);
	cr_assert_eq(regexec(&re, r.out, 0, NULL, 0), 0, "%s", r.out);
	regfree(&re);
	run_free(&r);
	ctk(&r, "frobnicate", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "ctk: unknown tool 'frobnicate'"));
	run_free(&r);
	ctk(&r, NULL, NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
}

Test(ctk, links_run_the_same_tool)
{
	char names[16][32];
	size_t n = listed_tools(names, 16);

	for (size_t i = 0; i < n; i++) {
		char link[4096], *argv[] = { link, "--help", NULL };
		struct run via_link, via_ctk;

		snprintf(link, sizeof(link), "%s-%s", ctk_path(), names[i]);
		cr_assert_eq(run_argv(&via_link, NULL, argv), 0);
		cr_assert_eq(via_link.status, 0, "%s: %s", link, via_link.err);
		ctk(&via_ctk, names[i], "--help", NULL);
		cr_assert_str_eq(via_link.out, via_ctk.out);
		run_free(&via_link);
		run_free(&via_ctk);
	}
}

/* The text of man page PAGE as mandoc renders it, overstrikes removed. */
static char *rendered(const char *page)
{
	char src[4096], cmd[4200];
	char *text = NULL;
	size_t len = 0;
	FILE *f, *out;
	int c, prev = -1;

	src_path(page, src, sizeof(src));
	cr_assert_eq(access(src, R_OK), 0, "%s is missing", src);
	snprintf(cmd, sizeof(cmd), "mandoc -T ascii '%s'", src);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	out = open_memstream(&text, &len);
	while ((c = fgetc(f)) != EOF) {
		if (c == '\b') { /* "x\bx" bold, "_\bx" underline: keep the last */
			prev = -1;
			continue;
		}
		if (prev >= 0)
			fputc(prev, out);
		prev = c;
	}
	if (prev >= 0)
		fputc(prev, out);
	fclose(out);
	cr_assert_eq(pclose(f), 0, "mandoc failed on %s", src);
	return text;
}

Test(ctk, man_pages_document_every_long_option)
{
	char names[16][32];
	size_t n = listed_tools(names, 16);
	regex_t re;

	cr_assert_eq(regcomp(&re, "--[a-z][a-z-]*", REG_EXTENDED), 0);
	for (size_t i = 0; i <= n; i++) {
		char page[64];
		char *text;
		struct run r;

		if (i < n) {
			snprintf(page, sizeof(page), "man/ctk-%s.1", names[i]);
			ctk(&r, names[i], "--help", NULL);
		} else {
			snprintf(page, sizeof(page), "man/ctk.1");
			ctk(&r, "--help", NULL);
		}
		text = rendered(page);
		for (const char *p = r.out; *p;) {
			regmatch_t m;
			char opt[64];

			if (regexec(&re, p, 1, &m, 0) != 0)
				break;
			snprintf(opt, sizeof(opt), "%.*s", (int)(m.rm_eo - m.rm_so), p + m.rm_so);
			cr_expect_not_null(strstr(text, opt), "%s does not document %s", page, opt);
			p += m.rm_eo;
		}
		free(text);
		run_free(&r);
	}
	regfree(&re);
}

Test(ctk, make_install_puts_everything_in_place)
{
	static const char *const files[] = {
		"bin/ctk", "bin/ctk-ns", "bin/ctk-enter", "bin/ctk-image", "share/man/man1/ctk.1",
		"share/man/man1/ctk-ns.1", "share/man/man1/ctk-enter.1", "share/man/man1/ctk-image.1",
		"share/bash-completion/completions/ctk", "lib/libinspect.a",
		"include/inspect/ns.h", "lib/pkgconfig/libinspect.pc",
	};
	char *dest = install_dest, path[4096], src[4096], cmd[8192];
	const char *vars = getenv("CTK_MAKE_VARS");
	struct run r;

	snprintf(install_dest, sizeof(install_dest), "/tmp/ctk-test-install-XXXXXX");
	cr_assert_not_null(mkdtemp(dest));
	snprintf(cmd, sizeof(cmd), "make -s -C '%s' install DESTDIR='%s' PREFIX=/usr %s >/dev/null",
		 src_path(".", src, sizeof(src)), dest, vars ? vars : "");
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/usr/%s", dest, files[i]);
		cr_expect_eq(access(path, R_OK), 0, "%s was not installed", path);
	}
	snprintf(path, sizeof(path), "%s/usr/bin/ctk-ns", dest);
	cr_assert_eq(run_argv(&r, NULL, (char *[]){ path, "--help", NULL }), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "Usage: ctk ns"));
	run_free(&r);
	snprintf(cmd, sizeof(cmd),
		 "PKG_CONFIG_PATH='%s/usr/lib/pkgconfig' pkg-config --validate libinspect && "
		 "bash -n '%s/usr/share/bash-completion/completions/ctk'",
		 dest, dest);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}
