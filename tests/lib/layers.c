/*
 * ins_layer_diff on layers made by hand, without a container (no init
 * layer left out unless asked), and ins_layer_efficiency on what no busybox
 * image reaches: a directory replaced by a file and a file by a directory.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../helpers.h"
#include "inspect/cleanup.h"
#include "inspect/diff.h"
#include "inspect/layers.h"

static char work[64], store[96];

static void setup(void)
{
	scratch_store("layerslib", work, sizeof(work), store, sizeof(store));
}

static void teardown(void)
{
	scratch_store_remove(work, store);
}

TestSuite(layerslib, .init = setup, .fini = teardown, .timeout = 60);

/* PATH below WORK: with a trailing '/' a directory (and its parents), else a file of SIZE bytes. */
static void make(const char *path, int size)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s/%s", work, path);
	for (char *p = full + strlen(work) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		cr_assert(mkdir(full, 0755) == 0 || errno == EEXIST, "%s: %m", full);
		*p = '/';
	}
	if (size >= 0) {
		_cleanup_close_ int fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

		cr_assert_geq(fd, 0, "%s: %m", full);
		for (int i = 0; i < size; i++)
			cr_assert_eq(write(fd, "x", 1), 1);
	}
}

static int open_dir(const char *name)
{
	char full[1024];
	int fd;

	snprintf(full, sizeof(full), "%s/%s", work, name);
	fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %m", full);
	return fd;
}

/* L0, then L1 replacing a directory with a file, a file with a directory, and making one opaque. */
static void make_layers(void)
{
	char opq[1024];

	make("l0/a/f1", 10);
	make("l0/a/sub/f2", 20);
	make("l0/b", 5);
	make("l0/etc/hosts", 3);
	make("l0/d/x", 7);
	make("l1/a", 4);
	make("l1/b/c", 1);
	make("l1/etc/hosts", 6);
	make("l1/d/y", 2);
	snprintf(opq, sizeof(opq), "%s/l1/d", work);
	cr_assert_eq(lsetxattr(opq, "trusted.overlay.opaque", "y", 1, 0), 0, "%m");
}

/* Layer L1's changes over L0 as "K /path SIZE[ implied]" lines. */
static char *changes(bool init_layer, struct ins_diff_change **ch, size_t *n)
{
	_cleanup_close_ int l0 = open_dir("l0"), l1 = open_dir("l1");
	struct ins_layer_diff_opts o = { .init_layer = init_layer };
	struct ins_error err;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_eq(ins_layer_diff(l1, &l0, 1, &o, ch, n, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < *n; i++)
		fprintf(out, "%c %s %lld%s\n", (*ch)[i].kind, (*ch)[i].path, (*ch)[i].size,
			(*ch)[i].implied ? " implied" : "");
	fclose(out);
	return text;
}

Test(layerslib, any_layer_against_the_layers_below)
{
	struct ins_diff_change *ch;
	size_t n;
	char *text;

	make_layers();
	/* No init layer: /etc/hosts rewritten is a change like any other. */
	text = changes(false, &ch, &n);
	cr_assert_str_eq(text, "C /a 4\nC /b 0\nA /b/c 1\nC /d 0\nD /d/x 0\nA /d/y 2\nC /etc 0 implied\nC /etc/hosts 6\n");
	free(text);
	cr_assert(S_ISREG(ch[0].mode) && S_ISDIR(ch[1].mode) && ch[4].mode == 0);
	ins_diff_free(ch, n);
	/* L0 as a container's init layer: what it holds but directories is the runtime's, never a change. */
	text = changes(true, &ch, &n);
	cr_assert_str_eq(text, "C /a 4\nC /d 0\nA /d/y 2\n");
	free(text);
	ins_diff_free(ch, n);
}

Test(layerslib, xwhiteouts_only_in_lower_layers)
{
	_cleanup_close_ int l0 = -1, l1 = -1;
	struct ins_layer_diff_opts o = { 0 };
	struct ins_diff_change *ch;
	struct ins_error err;
	char path[1024];
	size_t n;

	make("l0/x/gone", 1);
	make("l1/x/gone", 0);
	snprintf(path, sizeof(path), "%s/l1/x", work);
	cr_assert_eq(lsetxattr(path, "trusted.overlay.opaque", "x", 1, 0), 0, "%m");
	snprintf(path, sizeof(path), "%s/l1/x/gone", work);
	cr_assert_eq(lsetxattr(path, "trusted.overlay.whiteout", "", 0, 0), 0, "%m");
	l0 = open_dir("l0");
	l1 = open_dir("l1");
	/* A read-write layer's empty file is a file, whatever its marks. */
	cr_assert_eq(ins_layer_diff(l1, &l0, 1, &o, &ch, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(ch[1].kind, INS_DIFF_CHANGED);
	cr_assert_str_eq(ch[1].path, "/x/gone");
	ins_diff_free(ch, n);
	/* An image's layer: a whiteout. */
	o.lower_layer = true;
	cr_assert_eq(ins_layer_diff(l1, &l0, 1, &o, &ch, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(ch[1].kind, INS_DIFF_DELETED);
	cr_assert(ch[0].implied);
	ins_diff_free(ch, n);
}

Test(layerslib, efficiency_follows_overlayfs)
{
	struct ins_diff_change *ch[2];
	size_t n[2];
	struct ins_layer_efficiency e;
	struct ins_error err;
	_cleanup_close_ int l0 = -1;
	static const struct {
		const char *path;
		size_t copies;
		long long bytes;
	} expect[] = {
		{ "/a/sub/f2", 2, 20 }, { "/a/f1", 2, 10 }, { "/etc/hosts", 2, 9 }, { "/d/x", 2, 7 }, { "/b", 2, 5 },
	};

	make_layers();
	l0 = open_dir("l0");
	cr_assert_eq(ins_layer_diff(l0, NULL, 0, NULL, &ch[0], &n[0], &err), 0, "%s", err.msg);
	free(changes(false, &ch[1], &n[1]));
	cr_assert_eq(ins_layer_efficiency(ch, n, 2, &e, &err), 0, "%s", err.msg);
	/*
	 * /a/f1 and /a/sub/f2 under the directory replaced by the file /a, the
	 * file /b replaced by a directory, /d/x hidden by the opaque /d: each an
	 * empty copy; /etc/hosts two versions.
	 */
	cr_assert_eq(e.wasted, 51);
	cr_assert_eq(e.total, 58);
	cr_assert_float_eq(e.score, 10.0 / 58.0, 1e-12);
	cr_assert_eq(e.nfiles, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(e.files[i].path, expect[i].path);
		cr_assert_eq(e.files[i].copies, expect[i].copies, "%s", expect[i].path);
		cr_assert_eq(e.files[i].bytes, expect[i].bytes, "%s", expect[i].path);
	}
	ins_layer_efficiency_free(&e);
	/* Nothing at all is perfectly efficient. */
	cr_assert_eq(ins_layer_efficiency(ch, (size_t[]){ 0, 0 }, 2, &e, &err), 0);
	cr_assert_float_eq(e.score, 1.0, 0);
	cr_assert_eq(e.nfiles, 0);
	ins_layer_efficiency_free(&e);
	ins_diff_free(ch[0], n[0]);
	ins_diff_free(ch[1], n[1]);
}
