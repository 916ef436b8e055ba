/*
 * ins_container_diff on layers made by hand: the overlayfs rules that no
 * busybox image reaches (xwhiteouts, a file between two directories,
 * user.overlay.* xattrs, mounts in the read-write layer), and the noise rules.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../helpers.h"
#include "inspect/container.h"
#include "inspect/diff.h"
#include "inspect/fileio.h"

#define HEX(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	       c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define L1 HEX("1")
#define L2 HEX("2")
#define L3 HEX("3")
#define ID HEX("c")

static char work[64], store[96], mnt[256];

static void setup(void)
{
	scratch_store("difflib", work, sizeof(work), store, sizeof(store));
	cr_assert_eq(mkdir(store, 0755), 0);
}

static void teardown(void)
{
	/* A mount point would keep the scratch directory (its mount dies with the test's namespace). */
	if (mnt[0])
		umount2(mnt, MNT_DETACH);
	scratch_store_remove(work, store);
}

TestSuite(difflib, .init = setup, .fini = teardown, .timeout = 60);

/* PATH below the store: with a trailing '/' a directory (and its parents), else a file holding TEXT. */
static void make(const char *path, const char *text)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s/%s", store, path);
	for (char *p = full + strlen(store) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		cr_assert(mkdir(full, 0755) == 0 || errno == EEXIST, "%s: %m", full);
		cr_assert_eq(chmod(full, 0755), 0);
		*p = '/';
	}
	if (text) {
		int fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

		cr_assert_geq(fd, 0, "%s: %m", full);
		cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
		close(fd);
	}
}

/* An overlayfs whiteout at PATH below the store. */
static void whiteout(const char *path)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s/%s", store, path);
	cr_assert_eq(mknod(full, S_IFCHR | 0000, makedev(0, 0)), 0, "%s: %m", full);
}

static void xattr(const char *path, const char *key, const char *value)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s/%s", store, path);
	cr_assert_eq(lsetxattr(full, key, value, strlen(value), 0), 0, "%s: %s: %m", full, key);
}

/* Container ID on the image layers L1 (bottom), L2, L3, with an init layer holding etc/hosts. */
static void make_container(void)
{
	make("containers/" ID "/config.json",
	     "{\"id\":\"" ID "\",\"image\":{\"layers\":[\"" L1 "\",\"" L2 "\",\"" L3 "\"]}}");
	make("containers/" ID "/init/etc/hosts", "127.0.0.1 localhost\n");
	make("containers/" ID "/upper/", NULL);
}

/* The diff of container ID, as "K /path SIZE [noise]" lines. */
static char *diff_lines(void)
{
	struct ins_diff_change *ch;
	struct ins_container c;
	struct ins_store s;
	struct ins_error err;
	char *text = NULL;
	size_t n, len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_eq(ins_store_open(store, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(ins_container_load(&s, ID, &c, &err), 0, "%s", err.msg);
	cr_assert_eq(ins_container_diff(&s, &c, &ch, &n, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%c %s %lld%s%s\n", ch[i].kind, ch[i].path, ch[i].size, ch[i].noise ? " " : "",
			ch[i].noise ?: "");
	fclose(out);
	ins_diff_free(ch, n);
	ins_container_free(&c);
	ins_store_close(&s);
	return text;
}

Test(difflib, overlayfs_rules_beyond_whiteouts_and_opaque_directories)
{
	char *text;

	/* L1 the base; L2 deletes a/f1 with an xwhiteout and puts a file on y; L3 a directory on y again. */
	make("layers/" L1 "/a/f1", "1");
	make("layers/" L1 "/a/f2", "2");
	make("layers/" L1 "/b", "b");
	make("layers/" L1 "/m/keep", "k");
	make("layers/" L1 "/y/new", "n");
	make("layers/" L2 "/a/f1", "");
	xattr("layers/" L2 "/a", "trusted.overlay.opaque", "x");
	xattr("layers/" L2 "/a/f1", "trusted.overlay.whiteout", "");
	make("layers/" L2 "/y", "file");
	make("layers/" L3 "/y/", NULL);
	make_container();
	/* The container: writes the deleted a/f1 and y/new (hidden by L2's file), deletes b and what never was. */
	make("containers/" ID "/upper/a/f1", "new");
	whiteout("containers/" ID "/upper/b");
	whiteout("containers/" ID "/upper/ghost");
	make("containers/" ID "/upper/y/new", "n");
	/* The runtime's file, written: no change. */
	make("containers/" ID "/upper/etc/hosts", "10.0.0.1 db\n");
	/* user.overlay.* means nothing to an overlay mounted without userxattr. */
	make("containers/" ID "/upper/m/", NULL);
	xattr("containers/" ID "/upper/m", "user.overlay.opaque", "y");
	/* What is mounted in the read-write layer is not part of it. */
	make("containers/" ID "/upper/mnt/", NULL);
	snprintf(mnt, sizeof(mnt), "%s/containers/%s/upper/mnt", store, ID);
	cr_assert_eq(private_mounts(), 0, "%m");
	cr_assert_eq(mount("tmpfs", mnt, "tmpfs", 0, NULL), 0, "%m");
	make("containers/" ID "/upper/mnt/inside", "x");
	text = diff_lines();
	cr_assert_str_eq(text, "C /a 0\nA /a/f1 3\nD /b 0\nA /mnt 0\nC /y 0\nA /y/new 1\n");
	free(text);
}

Test(difflib, noise_rules_and_directories_holding_only_noise)
{
	char *text;

	make("layers/" L1 "/var/cache/", NULL);
	make("layers/" L1 "/var/log/", NULL);
	make("layers/" L1 "/var/tmp/", NULL);
	make("layers/" L1 "/srv/", NULL);
	make("layers/" L2 "/x", "x");
	make("layers/" L3 "/x", "x");
	make_container();
	make("containers/" ID "/upper/home/u/.cache/pip/wheel", "w");
	make("containers/" ID "/upper/home/u/.bash_history", "ls\n");
	make("containers/" ID "/upper/srv/app/__pycache__/m.cpython-311.pyc", "pyc");
	make("containers/" ID "/upper/var/cache/apt/archives/p.deb", "deb");
	make("containers/" ID "/upper/var/log/x", "log");
	make("containers/" ID "/upper/var/tmp/y", "tmp");
	text = diff_lines();
	/*
	 * An added directory that a rule names is noise, an added parent of it
	 * is not; a directory listed only for its changes, all noise, is.
	 */
	cr_assert_str_eq(text, "A /home 0\n"
			       "A /home/u 0\n"
			       "A /home/u/.bash_history 3 command history\n"
			       "A /home/u/.cache 0 user cache\n"
			       "A /home/u/.cache/pip 0 user cache\n"
			       "A /home/u/.cache/pip/wheel 1 user cache\n"
			       "C /srv 0\n"
			       "A /srv/app 0\n"
			       "A /srv/app/__pycache__ 0 Python bytecode\n"
			       "A /srv/app/__pycache__/m.cpython-311.pyc 3 Python bytecode\n"
			       "C /var 0 " INS_DIFF_NOISE_MIXED "\n"
			       "C /var/cache 0 package cache (apt)\n"
			       "A /var/cache/apt 0 package cache (apt)\n"
			       "A /var/cache/apt/archives 0 package cache (apt)\n"
			       "A /var/cache/apt/archives/p.deb 3 package cache (apt)\n"
			       "C /var/log 0 logs\n"
			       "A /var/log/x 3 logs\n"
			       "C /var/tmp 0 temporary files\n"
			       "A /var/tmp/y 3 temporary files\n");
	free(text);
}
