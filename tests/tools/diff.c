/* ctk diff, on real busybox containers: docker's lines, overlayfs's rules, the runtime's files left out. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "../helpers.h"
#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/diff.h"
#include "inspect/fileio.h"

/* The image's /etc/passwd (tests/fixtures/mkimage.sh). */
#define IMAGE_PASSWD "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"

static char work[64], store[96];
static json_t *doc;

static void setup(void)
{
	scratch_store("diff", work, sizeof(work), store, sizeof(store));
}

static void teardown(void)
{
	json_decref(doc);
	doc = NULL;
	scratch_store_remove(work, store);
}

TestSuite(diff, .init = setup, .fini = teardown, .timeout = 120);

#define image(...) import_image_(work, __VA_ARGS__, NULL)

Test(diff, additions_changes_and_deletions_in_dockers_order)
{
	char expect[512];

	image("bb");
	ctk_ok(0, "run", "--name", "c", "bb", "sh", "-c",
	       "echo new > /root/added && echo more >> /etc/passwd && rm /etc/group && echo > /etc-old && "
	       "mkdir -p /srv/app && echo 12345 > /srv/app/f && ln -s /etc/passwd /srv/link");
	/* A directory's entries follow it ("/etc/passwd" before "/etc-old"); parents of changes are C. */
	cr_assert_str_eq(ctk_ok(0, "diff", "c"),
			 "C /etc\nD /etc/group\nC /etc/passwd\nA /etc-old\nC /root\nA /root/added\n"
			 "A /srv\nA /srv/app\nA /srv/app/f\nA /srv/link\n");
	snprintf(expect, sizeof(expect),
		 "C /etc 0\nD /etc/group 0\nC /etc/passwd %zu\nA /etc-old 1\nC /root 0\nA /root/added 4\n"
		 "A /srv 0\nA /srv/app 0\nA /srv/app/f 6\nA /srv/link 0\n",
		 strlen(IMAGE_PASSWD "more\n"));
	cr_assert_str_eq(ctk_ok(0, "diff", "--size", "c"), expect);
	cr_assert_str_eq(ctk_ok(0, "diff", "-s", "c"), expect);
	/* A container that changed nothing. */
	ctk_ok(0, "run", "--name", "clean", "bb", "true");
	cr_assert_str_eq(ctk_ok(0, "diff", "clean"), "");
}

Test(diff, the_init_layer_and_volume_contents_are_no_changes)
{
	char path[1024];
	const char *dir;
	struct stat st;
	json_t *vols;

	image("bb");
	cr_assert_str_eq(ctk_ok(0, "run", "--name", "v", "-v", "/data", "bb", "sh", "-c",
				"echo 10.0.0.1 db >> /etc/hosts && sed -i s/./x/ /etc/hostname && "
				"rm /etc/resolv.conf && echo x > /data/file && cat /data/file"),
			 "x\n");
	/* The mount point is the container's; what the volume holds is not in its root's layer. */
	cr_assert_str_eq(ctk_ok(0, "diff", "v"), "A /data\n");
	/* Not for want of writing: the file is in the volume, and the init files were copied up. */
	doc = json_parse(ctk_ok(0, "volume", "ls", "--json", "-o", "MOUNTPOINT"));
	vols = json_object_get(doc, "volumes");
	cr_assert_eq(json_array_size(vols), 1);
	snprintf(path, sizeof(path), "%s/file",
		 json_string_value(json_object_get(json_array_get(vols, 0), "mountpoint")));
	{
		struct ins_error err;
		_cleanup_free_ char *data = ins_read_file_at(AT_FDCWD, path, NULL, &err);

		cr_assert_not_null(data, "%s", err.msg);
		cr_assert_str_eq(data, "x\n");
	}
	dir = container_dir(store, "v");
	for (const char *const *f = (const char *const[]){ "etc/hosts", "etc/hostname", "etc/resolv.conf", NULL }; *f; f++) {
		snprintf(path, sizeof(path), "%s/upper/%s", dir, *f);
		cr_assert_eq(lstat(path, &st), 0, "%s did not reach the read-write layer", *f);
	}
}

Test(diff, a_directory_deleted_and_made_again_is_opaque)
{
	char path[1024], value[4] = "";

	image("bb");
	ctk_ok(0, "run", "--name", "o", "bb", "sh", "-c",
	       "rm -rf /etc && mkdir /etc && echo root:x:0:0::/root:/bin/sh > /etc/passwd");
	snprintf(path, sizeof(path), "%s/upper/etc", container_dir(store, "o"));
	cr_assert_eq(getxattr(path, "trusted.overlay.opaque", value, sizeof(value) - 1), 1);
	cr_assert_str_eq(value, "y");
	/* What the image had there and the new /etc lacks is deleted; the init layer's files are not. */
	cr_assert_str_eq(ctk_ok(0, "diff", "o"), "C /etc\nD /etc/group\nC /etc/passwd\n");
}

Test(diff, lower_layers_are_looked_up_as_overlayfs_does)
{
	/* Layer 3 deletes /layer-2 and makes /opq opaque, hiding /opq/old of layer 2. */
	image("three", "--layers", "3");
	ctk_ok(0, "run", "--name", "w", "three", "sh", "-c",
	       "echo again > /layer-2 && echo again > /opq/old && echo 3 >> /layer-3");
	cr_assert_str_eq(ctk_ok(0, "diff", "w"), "A /layer-2\nC /layer-3\nC /opq\nA /opq/old\n");
	/* Only what the image showed can be deleted: /opq/old was hidden already. */
	ctk_ok(0, "run", "--name", "r", "three", "sh", "-c", "rm -rf /opq && mkdir /opq && touch /opq/x");
	cr_assert_str_eq(ctk_ok(0, "diff", "r"), "C /opq\nD /opq/new\nA /opq/x\n");
}

Test(diff, a_running_container)
{
	image("bb");
	ctk_ok(0, "run", "-d", "--name", "live", "bb", "sleep", "100");
	cr_assert_str_eq(ctk_ok(0, "diff", "live"), "");
	ctk_ok(0, "exec", "live", "sh", "-c", "echo x > /x");
	cr_assert_str_eq(ctk_ok(0, "diff", "live"), "A /x\n");
	ctk_ok(0, "rm", "-f", "live");
}

/* Runs the noisy container: history, a temporary file and one real change, in /root. */
static void noisy(void)
{
	image("bb");
	ctk_ok(0, "run", "--name", "n", "bb", "sh", "-c",
	       "echo ls > /root/.ash_history && echo t > /tmp/t && echo keep > /root/keep");
}

Test(diff, noise_is_marked_and_summed_up)
{
	struct run r;

	noisy();
	cr_assert_str_eq(ctk_ok(0, "diff", "n"), "C /root\nA /root/.ash_history\nA /root/keep\nC /tmp\nA /tmp/t\n",
			 "no marks without --noise");
	cr_assert_eq(ctk(&r, "diff", "--noise", "n", NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* /tmp is listed only for what it holds, all noise; /root holds a real change too. */
	cr_assert_str_eq(r.out, "C /root\n"
				"A /root/.ash_history  # noise: command history\n"
				"A /root/keep\n"
				"C /tmp  # noise: temporary files\n"
				"A /tmp/t  # noise: temporary files\n");
	cr_assert_str_eq(r.err, "ctk diff: 3 of 5 changes are noise, 5 bytes: temporary files 2, command history 1\n");
	run_free(&r);
	cr_assert_eq(ctk(&r, "diff", "--noise", "-s", "n", NULL), 0);
	cr_assert_not_null(strstr(r.out, "\nA /tmp/t 2  # noise: temporary files\n"), "%s", r.out);
	run_free(&r);
}

/* The change {"kind": KIND, "path": PATH}, with "size" when SIZE >= 0 and "noise" when NOISE ("null": null). */
static json_t *change(const char *kind, const char *path, json_int_t size, const char *noise)
{
	json_t *c = json_pack("{s:s,s:s}", "kind", kind, "path", path);

	if (size >= 0)
		json_object_set_new(c, "size", json_integer(size));
	if (noise)
		json_object_set_new(c, "noise", strcmp(noise, "null") == 0 ? json_null() : json_string(noise));
	return c;
}

Test(diff, json_has_a_member_per_option)
{
	json_t *expect;
	struct run r;

	noisy();
	doc = json_parse(ctk_ok(0, "diff", "--json", "n"));
	expect = json_pack("{s:[o,o,o,o,o]}", "changes", change("C", "/root", -1, NULL),
			   change("A", "/root/.ash_history", -1, NULL), change("A", "/root/keep", -1, NULL),
			   change("C", "/tmp", -1, NULL), change("A", "/tmp/t", -1, NULL));
	cr_assert(json_equal(doc, expect), "%s", ctk_ok(0, "diff", "--json", "n"));
	json_decref(expect);
	json_decref(doc);
	cr_assert_eq(ctk(&r, "diff", "-J", "--size", "--noise", "n", NULL), 0);
	cr_assert_str_eq(r.err, "", "no summary: the JSON has it all");
	doc = json_parse(r.out);
	expect = json_pack("{s:[o,o,o,o,o]}", "changes", change("C", "/root", 0, "null"),
			   change("A", "/root/.ash_history", 3, "command history"), change("A", "/root/keep", 5, "null"),
			   change("C", "/tmp", 0, "temporary files"), change("A", "/tmp/t", 2, "temporary files"));
	cr_assert(json_equal(doc, expect), "%s", r.out);
	json_decref(expect);
	run_free(&r);
	/* An empty diff is an empty array. */
	ctk_ok(0, "run", "--name", "e", "bb", "true");
	json_decref(doc);
	doc = json_parse(ctk_ok(0, "diff", "--json", "e"));
	cr_assert_eq(json_array_size(json_object_get(doc, "changes")), 0);
	cr_assert(json_is_array(json_object_get(doc, "changes")));
}

Test(diff, errors_and_usage)
{
	struct run r;

	cr_assert_eq(ctk(&r, "diff", "nosuch", NULL), 0);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "ctk diff: nosuch: no such container\n");
	cr_assert_str_eq(r.out, "");
	run_free(&r);
	ctk_ok(2, "diff");
	ctk_ok(2, "diff", "a", "b");
	ctk_ok(2, "diff", "--bogus", "a");
	cr_assert_not_null(strstr(ctk_ok(0, "diff", "--help"), "Usage: ctk diff"));
}

Test(diff, the_man_page_lists_every_noise_rule)
{
	char path[4096];
	size_t n;
	struct ins_error err;
	const struct ins_diff_noise_rule *rules = ins_diff_noise_rules(&n);
	_cleanup_free_ char *page = ins_read_file_at(AT_FDCWD, src_path("man/ctk-diff.1", path, sizeof(path)), NULL, &err);

	cr_assert_not_null(page, "%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		char line[256];

		snprintf(line, sizeof(line), ".It Pa %s\n%s\n", rules[i].pattern, rules[i].reason);
		cr_expect_not_null(strstr(page, line), "man/ctk-diff.1 lacks the rule %s (%s)", rules[i].pattern,
				   rules[i].reason);
	}
}
