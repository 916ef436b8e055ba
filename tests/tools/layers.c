/*
 * ctk layers, on images made by mkimage.sh (whose layers' contents are
 * known to the byte) and real containers made from them: rows, change
 * trees, dive's efficiency and CI rules, errors.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../helpers.h"
#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/fileio.h"
#include "inspect/image.h"

/* Layer 1's etc/passwd and etc/group (tests/fixtures/mkimage.sh). */
#define PASSWD_SIZE 82
#define GROUP_SIZE 27
/* --waste N in these tests. */
#define WASTE 1000000LL
#define RUN_CMD "echo hi > /new; echo more >> /etc/passwd; rm /opq/new; mkdir /d"

static char work[64], store[96];
static json_t *doc;

static void setup(void)
{
	scratch_store("layers", work, sizeof(work), store, sizeof(store));
}

static void teardown(void)
{
	json_decref(doc);
	doc = NULL;
	scratch_store_remove(work, store);
}

TestSuite(layers, .init = setup, .fini = teardown, .timeout = 120);

#define image(...) import_image_(work, __VA_ARGS__, NULL)

/* What layer 1 (the busybox root) holds: *BYTES of regular files, and its number of entries. */
static long long busybox_layer(long long *bytes)
{
	struct stat st;
	char line[256];
	long long entries = 8 + 2 + 1; /* bin dev proc sys etc var root tmp; passwd, group; busybox */
	FILE *list = popen("/bin/busybox --list", "r");

	cr_assert_eq(stat("/bin/busybox", &st), 0);
	*bytes = st.st_size + PASSWD_SIZE + GROUP_SIZE;
	cr_assert_not_null(list);
	/* A symlink for each applet, as mkimage.sh makes them. */
	while (fgets(line, sizeof(line), list)) {
		line[strcspn(line, "\n")] = '\0';
		entries += *line && strcmp(line, "busybox") != 0 && !strchr(line, '/') && strcmp(line, ".") != 0 &&
			   strcmp(line, "..") != 0;
	}
	cr_assert_eq(pclose(list), 0);
	return entries;
}

/* The diff-id hex of layer I of image NAME. */
static const char *layer_hex(const char *name, size_t i)
{
	static char hex[8][72];
	struct ins_store s;
	struct ins_image img;
	struct ins_error err;

	cr_assert_eq(ins_store_open(store, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(ins_image_load(&s, name, &img, &err), 0, "%s", err.msg);
	cr_assert_lt(i, img.nlayers);
	snprintf(hex[i % 8], sizeof(hex[0]), "%s", ins_digest_hex(&img.layers[i].diff_id));
	ins_image_free(&img);
	ins_store_close(&s);
	return hex[i % 8];
}

/* The raw row "INDEX KIND ID SIZE FILES ADDED MODIFIED REMOVED" of an image layer. */
static char *image_row(char *buf, size_t size, const char *name, size_t i, long long bytes, long long files,
		       int added, int modified, int removed)
{
	snprintf(buf, size, "%zu image %.12s %lld %lld %d %d %d\n", i, layer_hex(name, i), bytes, files, added,
		 modified, removed);
	return buf;
}

#define COUNTS "INDEX,KIND,ID,SIZE,FILES,ADDED,MODIFIED,REMOVED"

/* The rows of "three" (--layers 3), bottom to top; the base of the other images. */
static char *three_rows(const char *name, char *out, size_t size)
{
	long long bytes, files = busybox_layer(&bytes);
	char row[3][256];

	snprintf(out, size, "%s%s%s", image_row(row[0], sizeof(row[0]), name, 0, bytes, files, (int)files, 0, 0),
		 /* /layer-2 "2\n", /opq, /opq/old "old\n" */
		 image_row(row[1], sizeof(row[1]), name, 1, 6, 3, 3, 0, 0),
		 /* /layer-2 whited out, /layer-3 "3\n", /opq made opaque (hiding /opq/old), /opq/new "new\n" */
		 image_row(row[2], sizeof(row[2]), name, 2, 6, 4, 2, 1, 2));
	return out;
}

/* The JSON member KEY of DOC's row I of ARRAY. */
static json_t *cell(const char *array, size_t i, const char *key)
{
	return json_object_get(json_array_get(json_object_get(doc, array), i), key);
}

static void expect_waste(size_t i, const char *path, json_int_t count, json_int_t bytes)
{
	cr_assert_str_eq(json_string_value(cell("inefficient", i, "path")), path);
	cr_assert_eq(json_integer_value(cell("inefficient", i, "count")), count, "%s", path);
	cr_assert_eq(json_integer_value(cell("inefficient", i, "bytes")), bytes, "%s", path);
}

Test(layers, an_images_layers_bottom_to_top)
{
	long long base;
	char expect[1024], path[512];
	const char *out;

	busybox_layer(&base);
	image("three", "--layers", "3");
	cr_assert_str_eq(ctk_ok(0, "layers", "-r", "-n", "-o", COUNTS, "three"),
			 three_rows("three", expect, sizeof(expect)));
	/* The table, then dive's summary: 6 bytes of /layer-2 and /opq/old, both gone. */
	out = ctk_ok(0, "layers", "three");
	cr_assert_not_null(strstr(out, "INDEX KIND"), "%s", out);
	cr_assert_not_null(strstr(out, "\nefficiency: 99.9%  wasted: 6 B\n"), "%s", out);
	doc = json_parse(ctk_ok(0, "layers", "--json", "three"));
	cr_assert_eq(json_array_size(json_object_get(doc, "layers")), 3);
	for (size_t i = 0; i < 3; i++) {
		static const char *const made_by[] = {
			"mkimage: busybox root",
			"mkimage: add /layer-2 and /opq/old",
			"mkimage: add /layer-3, delete /layer-2, make /opq opaque, add /opq/new",
		};
		char id[80];

		snprintf(id, sizeof(id), "sha256:%s", layer_hex("three", i));
		snprintf(path, sizeof(path), "%s/layers/%s", store, layer_hex("three", i));
		cr_assert_eq(json_integer_value(cell("layers", i, "index")), (json_int_t)i);
		cr_assert_str_eq(json_string_value(cell("layers", i, "kind")), "image");
		cr_assert_str_eq(json_string_value(cell("layers", i, "id")), id, "a full id in JSON");
		cr_assert_str_eq(json_string_value(cell("layers", i, "created-by")), made_by[i]);
		cr_assert_str_eq(json_string_value(cell("layers", i, "path")), path);
	}
	/* No container: no root, no volumes. */
	cr_assert_null(json_object_get(doc, "root"));
	cr_assert_null(json_object_get(doc, "volumes"));
	cr_assert_eq(json_integer_value(json_object_get(doc, "wasted")), 6);
	cr_assert_eq(json_integer_value(json_object_get(doc, "total")), base + 12);
	cr_assert_float_eq(json_real_value(json_object_get(doc, "efficiency")), (double)(base + 6) / (double)(base + 12),
			   1e-11);
	cr_assert_eq(json_array_size(json_object_get(doc, "inefficient")), 2);
	expect_waste(0, "/opq/old", 2, 4);
	expect_waste(1, "/layer-2", 2, 2);
	/* An oci image's layers are gzip'd: the digest is the blob's, the id the diff-id. */
	json_decref(doc);
	doc = json_parse(ctk_ok(0, "layers", "--json", "-o", "ID,DIGEST", "three"));
	cr_assert_str_eq(json_string_value(cell("layers", 0, "digest")), json_string_value(cell("layers", 0, "id")),
			 "a docker save archive's blobs are the tars themselves");
}

/* The efficiency of "waste" (--layers 3 --waste WASTE), as dive computes it. */
static double waste_efficiency(long long base)
{
	long long total = base + 12 + 3 * WASTE + WASTE / 2;

	/* Each path's smallest copy: /waste/twice's second, nothing of the removed files. */
	return (double)(total - 3 * WASTE - 6) / (double)total;
}

Test(layers, waste_is_measured_as_dive_does)
{
	long long base;
	char expect[2048], row[2][256];
	size_t len;

	busybox_layer(&base);
	image("waste", "--layers", "3", "--waste", "1000000");
	three_rows("waste", expect, sizeof(expect));
	len = strlen(expect);
	/* /waste, gone, twice, dir, dir/f; then /waste/twice again, whiteouts of gone and dir. */
	snprintf(expect + len, sizeof(expect) - len, "%s%s", image_row(row[0], sizeof(row[0]), "waste", 3, 3 * WASTE, 5, 5, 0, 0),
		 image_row(row[1], sizeof(row[1]), "waste", 4, WASTE / 2, 4, 0, 1, 2));
	cr_assert_str_eq(ctk_ok(0, "layers", "-r", "-n", "-o", COUNTS, "waste"), expect);
	doc = json_parse(ctk_ok(0, "layers", "-J", "waste"));
	/* Every copy of every path with two: 1.5 N for twice, N for gone, N for dir/f (a deleted directory's file). */
	cr_assert_eq(json_integer_value(json_object_get(doc, "wasted")), 3 * WASTE + WASTE / 2 + 6);
	cr_assert_eq(json_integer_value(json_object_get(doc, "total")), base + 12 + 3 * WASTE + WASTE / 2);
	cr_assert_float_eq(json_real_value(json_object_get(doc, "efficiency")), waste_efficiency(base), 1e-11);
	cr_assert_eq(json_array_size(json_object_get(doc, "inefficient")), 5);
	expect_waste(0, "/waste/twice", 2, WASTE + WASTE / 2);
	expect_waste(1, "/waste/dir/f", 2, WASTE);
	expect_waste(2, "/waste/gone", 2, WASTE);
	expect_waste(3, "/opq/old", 2, 4);
	expect_waste(4, "/layer-2", 2, 2);
	snprintf(expect, sizeof(expect), "\nefficiency: %.1f%%  wasted: 3.5 MB (%lld bytes)\n",
		 (double)(long long)(waste_efficiency(base) * 1000) / 10, 3 * WASTE + WASTE / 2 + 6);
	cr_assert_not_null(strstr(ctk_ok(0, "layers", "waste"), expect), "%s", expect);
	cr_assert_str_eq(ctk_ok(0, "layers", "-f", "waste"),
			 "CHANGE PATH      SIZE\n"
			 "       /waste       0\n"
			 "D      |-dir        0\n"
			 "D      |-gone       0\n"
			 "M      `-twice 500000\n");
}

/* The full id of container NAME, and its directory. */
static const char *container_id(const char *name, char *dir, size_t size)
{
	static char id[80];
	struct ins_container c;
	struct ins_store s;
	struct ins_error err;

	cr_assert_eq(ins_store_open(store, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(ins_container_load(&s, name, &c, &err), 0, "%s", err.msg);
	snprintf(id, sizeof(id), "%s", c.id);
	if (dir)
		snprintf(dir, size, "%s", c.dir);
	ins_container_free(&c);
	ins_store_close(&s);
	return id;
}

Test(layers, a_containers_init_and_read_write_layers)
{
	char expect[2048], dir[512], hosts[256], path[600];
	const char *id;
	struct stat resolv;
	long long base;
	size_t len;

	busybox_layer(&base);
	image("three", "--layers", "3");
	ctk_ok(0, "run", "--name", "c", "three", "sh", "-c", RUN_CMD);
	id = container_id("c", dir, sizeof(dir));
	cr_assert_eq(stat("/etc/resolv.conf", &resolv), 0);
	snprintf(hosts, sizeof(hosts), "127.0.0.1\tlocalhost %.12s\n::1\tlocalhost ip6-localhost ip6-loopback\n", id);
	three_rows("three", expect, sizeof(expect));
	len = strlen(expect);
	/*
	 * init: etc, proc, sys, dev and its three files, all added (etc, proc,
	 * sys and dev are the image's already). rw: /new "hi\n", /etc/passwd
	 * with "more\n" (in etc), /opq/new whited out (in opq), /d.
	 */
	snprintf(expect + len, sizeof(expect) - len,
		 "3 init %.12s %lld 7 3 0 0\n"
		 "4 rw %.12s %d 6 2 1 1\n",
		 id, (long long)strlen(hosts) + 13 + (long long)resolv.st_size, id, 3 + PASSWD_SIZE + 5);
	cr_assert_str_eq(ctk_ok(0, "layers", "-r", "-n", "-o", COUNTS, "c"), expect);
	doc = json_parse(ctk_ok(0, "layers", "-J", "c"));
	cr_assert_str_eq(json_string_value(cell("layers", 3, "id")), id);
	cr_assert(json_is_null(cell("layers", 3, "created-by")));
	snprintf(path, sizeof(path), "%s/init", dir);
	cr_assert_str_eq(json_string_value(cell("layers", 3, "path")), path);
	cr_assert_str_eq(json_string_value(cell("layers", 4, "created-by")), "sh -c " RUN_CMD);
	snprintf(path, sizeof(path), "%s/upper", dir);
	cr_assert_str_eq(json_string_value(cell("layers", 4, "path")), path);
	/* Not running: no root, and no volumes were asked for. */
	cr_assert(json_is_null(json_object_get(doc, "root")));
	cr_assert(json_is_null(json_object_get(doc, "pid")));
	cr_assert_eq(json_array_size(json_object_get(doc, "volumes")), 0);
	cr_assert(json_is_array(json_object_get(doc, "volumes")));
	/* /etc/passwd twice (82 + 87 bytes), /opq/new written and removed, and the image's 6. */
	cr_assert_eq(json_integer_value(json_object_get(doc, "wasted")), 6 + PASSWD_SIZE + PASSWD_SIZE + 5 + 4);
	cr_assert_eq(json_integer_value(json_object_get(doc, "total")),
		     base + 12 + (long long)strlen(hosts) + 13 + resolv.st_size + 3 + PASSWD_SIZE + 5);
	/* The rw layer's changes are ctk diff's, the runtime's files left out. */
	cr_assert_str_eq(ctk_ok(0, "layers", "--files", "rw", "c"),
			 "CHANGE PATH     SIZE\n"
			 "A      /d          0\n"
			 "       /etc        0\n"
			 "M      `-passwd   87\n"
			 "A      /new        3\n"
			 "       /opq        0\n"
			 "D      `-new       0\n");
	cr_assert_str_eq(ctk_ok(0, "layers", "-r", "-n", "-o", "CHANGE,PATH", "--files=init", "c"),
			 " /etc\nA /etc/hostname\nA /etc/hosts\nA /etc/resolv.conf\n");
}

Test(layers, a_running_container_shows_its_root_and_volumes)
{
	char expect[1024], line[512];
	const char *out, *id;
	json_int_t pid;

	image("three", "--layers", "3");
	ctk_ok(0, "run", "-d", "--name", "live", "-v", "/data", "-v", "named:/n:ro", "three", "sleep", "100");
	id = container_id("live", NULL, 0);
	doc = json_parse(ctk_ok(0, "layers", "-J", "live"));
	pid = json_integer_value(json_object_get(doc, "pid"));
	cr_assert_gt(pid, 0);
	snprintf(expect, sizeof(expect), "/proc/%lld/root", (long long)pid);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "root")), expect);
	cr_assert_eq(json_array_size(json_object_get(doc, "volumes")), 2);
	cr_assert_str_eq(json_string_value(cell("volumes", 0, "destination")), "/data");
	cr_assert_str_eq(json_string_value(cell("volumes", 0, "type")), "anonymous");
	cr_assert(json_is_false(cell("volumes", 0, "readonly")));
	snprintf(line, sizeof(line), "%s/volumes/named/_data", store);
	cr_assert_str_eq(json_string_value(cell("volumes", 1, "source")), line);
	cr_assert(json_is_true(cell("volumes", 1, "readonly")));
	/* In text, after the table: the root, then each volume. */
	out = ctk_ok(0, "layers", "live");
	snprintf(expect, sizeof(expect), "\nroot: /proc/%lld/root\nvolume: /data: %s (anonymous)\n"
					 "volume: /n: %s (named, read-only)\nefficiency: ",
		 (long long)pid, json_string_value(cell("volumes", 0, "source")), line);
	cr_assert_not_null(strstr(out, expect), "%s", out);
	/* The mount points are the read-write layer's, what the volumes hold is not. */
	ctk_ok(0, "exec", "live", "sh", "-c", "echo x > /data/x");
	cr_assert_str_eq(ctk_ok(0, "layers", "-f", "live"), "CHANGE PATH  SIZE\nA      /data    0\nA      /n       0\n");
	snprintf(expect, sizeof(expect), "4 rw %.12s 0 2 2 0 0\n", id);
	cr_assert_not_null(strstr(ctk_ok(0, "layers", "-r", "-n", "-o", COUNTS, "live"), expect));
	ctk_ok(0, "rm", "-f", "live");
}

Test(layers, files_of_a_layer_as_a_tree)
{
	const char *two = "CHANGE PATH     SIZE\n"
			  "D      /layer-2    0\n"
			  "A      /layer-3    2\n"
			  "M      /opq        0\n"
			  "A      |-new       4\n"
			  "D      `-old       0\n";
	char arg[80];
	json_t *opq;

	image("three", "--layers", "3");
	/* The top layer by default; a LAYER by index, by digest prefix, attached or not. */
	cr_assert_str_eq(ctk_ok(0, "layers", "--files", "three"), two);
	cr_assert_str_eq(ctk_ok(0, "layers", "--files", "2", "three"), two);
	cr_assert_str_eq(ctk_ok(0, "layers", "three", "--files", "2"), two);
	cr_assert_str_eq(ctk_ok(0, "layers", "-f2", "three"), two);
	snprintf(arg, sizeof(arg), "--files=sha256:%.8s", layer_hex("three", 2));
	cr_assert_str_eq(ctk_ok(0, "layers", arg, "three"), two);
	snprintf(arg, sizeof(arg), "%.5s", layer_hex("three", 2));
	cr_assert_str_eq(ctk_ok(0, "layers", "-f", arg, "three"), two);
	cr_assert_str_eq(ctk_ok(0, "layers", "-f", "1", "three"),
			 "CHANGE PATH     SIZE\nA      /layer-2    2\nA      /opq        0\nA      `-old       4\n");
	/* JSON nests a directory's changes under it, whole paths; raw lists them. */
	doc = json_parse(ctk_ok(0, "layers", "--files", "-J", "three"));
	cr_assert_eq(json_array_size(json_object_get(doc, "files")), 3);
	opq = json_array_get(json_object_get(doc, "files"), 2);
	cr_assert_str_eq(json_string_value(json_object_get(opq, "path")), "/opq");
	cr_assert_str_eq(json_string_value(json_object_get(opq, "change")), "M");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(opq, "children"), 1), "path")),
			 "/opq/old");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(opq, "children"), 0), "size")), 4);
	cr_assert_str_eq(ctk_ok(0, "layers", "-f", "-r", "-n", "three"),
			 "D /layer-2 0\nA /layer-3 2\nM /opq 0\nA /opq/new 4\nD /opq/old 0\n");
	/* A directory that is there only to hold changes has no letter: null in JSON. */
	image("waste", "--waste", "10");
	json_decref(doc);
	doc = json_parse(ctk_ok(0, "layers", "-f", "-J", "waste"));
	cr_assert(json_is_null(cell("files", 0, "change")));
	cr_assert_str_eq(ctk_ok(0, "layers", "--files", "-o", "PATH", "--list-columns", "-r", "-n"),
			 "CHANGE change A\\x20added,\\x20M\\x20modified,\\x20D\\x20removed;\\x20empty:\\x20a\\x20directory\\x20holding\\x20changes\n"
			 "PATH path the\\x20path\\x20(its\\x20name\\x20under\\x20its\\x20directory\\x20in\\x20trees)\n"
			 "SIZE size bytes\\x20of\\x20a\\x20regular\\x20file\\x20in\\x20the\\x20layer\n");
}

/* Runs "ctk layers --ci ARGS..." (up to a NULL), asserts that it exits with STATUS and prints nothing on stderr; returns its stdout. */
static const char *ci_(int status, ...)
{
	static struct run r;
	va_list ap;
	int rc;

	run_free(&r);
	va_start(ap, status);
	rc = ctk_vopts(&r, NULL, "layers", ap);
	va_end(ap);
	cr_assert_eq(rc, 0);
	cr_assert_eq(r.status, status, "exit %d: %s%s", r.status, r.out, r.err);
	cr_assert_str_eq(r.err, "");
	return r.out;
}
#define ci(status, ...) ci_(status, "--ci", __VA_ARGS__, NULL)

Test(layers, ci_rules_pass_and_fail)
{
	long long base;
	double eff;
	char expect[2048], lowest[32];
	json_t *rule;

	busybox_layer(&base);
	image("three", "--layers", "3");
	image("waste", "--layers", "3", "--waste", "1000000");
	eff = waste_efficiency(base);
	/* dive's defaults: lowest-efficiency 0.9, highest-wasted-bytes disabled. */
	snprintf(expect, sizeof(expect),
		 "efficiency: 99.9%%  wasted: 6 B\n"
		 "inefficient files:\n"
		 "  COUNT         BYTES  PATH\n"
		 "      2             4  /opq/old\n"
		 "      2             2  /layer-2\n"
		 "rules:\n"
		 "  PASS: lowest-efficiency: efficiency %.6g >= 0.9\n"
		 "  SKIP: highest-wasted-bytes: disabled\n"
		 "result: PASS\n",
		 (double)(base + 6) / (double)(base + 12));
	cr_assert_str_eq(ci(0, "three"), expect);
	snprintf(expect, sizeof(expect),
		 "efficiency: %.1f%%  wasted: 3.5 MB (3500006 bytes)\n"
		 "inefficient files:\n"
		 "  COUNT         BYTES  PATH\n"
		 "      2       1500000  /waste/twice\n"
		 "      2       1000000  /waste/dir/f\n"
		 "      2       1000000  /waste/gone\n"
		 "      2             4  /opq/old\n"
		 "      2             2  /layer-2\n"
		 "rules:\n"
		 "  FAIL: lowest-efficiency: efficiency %.6g < 0.9\n"
		 "  SKIP: highest-wasted-bytes: disabled\n"
		 "result: FAIL\n",
		 (double)(long long)(eff * 1000) / 10, eff);
	/* A failed rule is exit status 1, with the report on stdout. */
	cr_assert_str_eq(ci(1, "waste"), expect);
	/* The threshold is wasted bytes at most: 3500006 passes, 3500005 fails; k, M, G are dive's powers of 1000. */
	snprintf(lowest, sizeof(lowest), "%.4f", eff - 0.001);
	cr_assert_not_null(strstr(ci(0, "--lowest-efficiency", lowest, "--highest-wasted-bytes", "3500006", "waste"),
				  "  PASS: highest-wasted-bytes: 3500006 bytes wasted <= 3500006\nresult: PASS\n"));
	cr_assert_not_null(strstr(ci(1, "--lowest-efficiency", "disabled", "--highest-wasted-bytes", "3500005", "waste"),
				  "  SKIP: lowest-efficiency: disabled\n"
				  "  FAIL: highest-wasted-bytes: 3500006 bytes wasted > 3500005\nresult: FAIL\n"));
	ci(1, "--lowest-efficiency", "0", "--highest-wasted-bytes", "3.5M", "waste");
	ci(0, "--lowest-efficiency", "0", "--highest-wasted-bytes", "3.5MiB", "waste");
	ci(0, "--lowest-efficiency", "0", "--highest-wasted-bytes", "4MB", "waste");
	ci(1, "--lowest-efficiency", "0", "--highest-wasted-bytes", "3418k", "waste");
	ci(0, "--lowest-efficiency", "0", "--highest-wasted-bytes", "3418KiB", "waste");
	/* JSON: the numbers, each rule, the result; the exit status still says it. */
	doc = json_parse(ci(1, "-J", "--highest-wasted-bytes", "1G", "waste"));
	cr_assert_str_eq(json_string_value(json_object_get(doc, "result")), "fail");
	cr_assert_eq(json_integer_value(json_object_get(doc, "wasted")), 3500006);
	rule = json_array_get(json_object_get(doc, "rules"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(rule, "rule")), "lowest-efficiency");
	cr_assert_str_eq(json_string_value(json_object_get(rule, "status")), "fail");
	cr_assert_float_eq(json_real_value(json_object_get(rule, "threshold")), 0.9, 1e-12);
	rule = json_array_get(json_object_get(doc, "rules"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(rule, "status")), "pass");
	cr_assert_eq(json_integer_value(json_object_get(rule, "threshold")), 1000000000);
	cr_assert_eq(json_integer_value(json_object_get(rule, "value")), 3500006);
}

Test(layers, a_name_of_a_container_and_an_image_is_the_containers)
{
	image("three", "--layers", "3");
	ctk_ok(0, "run", "--name", "three", "three", "true");
	cr_assert_str_eq(ctk_ok(0, "layers", "-r", "-n", "-o", "KIND", "three"), "image\nimage\nimage\ninit\nrw\n");
	/* The image is still reached by its id. */
	doc = json_parse(ctk_ok(0, "image", "ls", "--json", "-o", "ID"));
	cr_assert_str_eq(ctk_ok(0, "layers", "-r", "-n", "-o", "KIND",
				json_string_value(json_object_get(json_array_get(json_object_get(doc, "images"), 0), "id"))),
			 "image\nimage\nimage\n");
}

Test(layers, errors_and_usage)
{
	struct run r;
	char pid[16];

	image("three", "--layers", "3");
	cr_assert_str_eq(ctk_ok(1, "layers", "nosuch"), "ctk layers: nosuch: not a ctk container or image\n");
	/* A process is no stack of ctk's (other runtimes and processes come later). */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	cr_assert_eq(ctk(&r, "layers", pid, NULL), 0);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, ": not a ctk container or image\n"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	run_free(&r);
	cr_assert_str_eq(ctk_ok(1, "layers", "-f", "9", "three"),
			 "ctk layers: 9: no such layer in three:latest (0..2 or a digest prefix)\n");
	cr_assert_str_eq(ctk_ok(1, "layers", "-f", "rw", "three"),
			 "ctk layers: rw: no such layer in three:latest (0..2 or a digest prefix)\n");
	ctk_ok(2, "layers");
	ctk_ok(2, "layers", "a", "b");
	ctk_ok(2, "layers", "--bogus", "three");
	ctk_ok(2, "layers", "--ci", "--files", "three");
	ctk_ok(2, "layers", "--lowest-efficiency", "0.5", "three");
	ctk_ok(2, "layers", "--ci", "--lowest-efficiency", "1.5", "three");
	ctk_ok(2, "layers", "--ci", "--highest-wasted-bytes", "12X", "three");
	ctk_ok(2, "layers", "-o", "NOPE", "three");
	cr_assert_not_null(strstr(ctk_ok(0, "layers", "--help"), "Usage: ctk layers"));
}

Test(layers, the_man_page_describes_every_column)
{
	char path[4096], col[64];
	struct ins_error err;
	_cleanup_free_ char *page =
		ins_read_file_at(AT_FDCWD, src_path("man/ctk-layers.1", path, sizeof(path)), NULL, &err);
	struct run r;

	cr_assert_not_null(page, "%s", err.msg);
	for (int files = 0; files < 2; files++) {
		cr_assert_eq(files ? ctk(&r, "layers", "-f", "--list-columns", "-n", "-r", NULL)
				   : ctk(&r, "layers", "--list-columns", "-n", "-r", NULL),
			     0);
		for (char *save = NULL, *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char name[32];

			cr_assert_eq(sscanf(line, "%31s", name), 1);
			snprintf(col, sizeof(col), ".It Cm %s\n", name);
			cr_expect_not_null(strstr(page, col), "man/ctk-layers.1 lacks the column %s", name);
		}
		run_free(&r);
	}
}
