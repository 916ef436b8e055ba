/* The layer unpacker on real and hostile archives: nothing may land outside its directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../helpers.h"
#include "../tarball.h"
#include "inspect/cleanup.h"
#include "inspect/fileio.h"
#include "inspect/unpack.h"

/* BASE/dest is where archives go; BASE/outside must stay empty whatever they say. */
static char base[64];
static char tarpath[128], dest[128], outside[128];

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/ctk-test-unpack-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(tarpath, sizeof(tarpath), "%s/layer.tar", base);
	snprintf(dest, sizeof(dest), "%s/dest", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	cr_assert_eq(mkdir(dest, 0755), 0);
	cr_assert_eq(mkdir(outside, 0755), 0);
}

static void teardown(void)
{
	struct ins_error err;

	if (base[0])
		ins_remove_tree_at(AT_FDCWD, base, &err);
	base[0] = '\0';
}

TestSuite(unpack, .init = setup, .fini = teardown, .timeout = 60);

/* Unpacks the archive at TARPATH into DEST; returns ins_unpack's result with ERR. */
static int unpack(enum ins_unpack_mode mode, struct ins_digest *diff_id, struct ins_error *err)
{
	int fd = open(tarpath, O_RDONLY | O_CLOEXEC);
	int dir = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	cr_assert(fd >= 0 && dir >= 0);
	rc = ins_unpack(fd, dir, mode, diff_id, err);
	close(fd);
	close(dir);
	return rc;
}

static size_t entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d, "%s", dir);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static struct stat lstat_in(const char *rel)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dest, rel);
	cr_assert_eq(lstat(path, &st), 0, "%s: %m", path);
	return st;
}

static char *read_in(const char *rel)
{
	char path[256];
	struct ins_error err;
	char *text;

	snprintf(path, sizeof(path), "%s/%s", dest, rel);
	text = ins_read_file_at(AT_FDCWD, path, NULL, &err);
	cr_assert_not_null(text, "%s", err.msg);
	return text;
}

Test(unpack, restores_every_kind_of_entry_with_its_metadata)
{
	const struct tar_entry entries[] = {
		{ .name = "./", .type = TAR_DIR, .mode = 0751, .mtime = 1000 },
		{ .name = "bin/", .type = TAR_DIR, .mtime = 2000 },
		{ .name = "bin/tool", .type = TAR_FILE, .mode = 04755, .uid = 1000, .gid = 100,
		  .content = "#!/bin/sh\n", .mtime = 3000 },
		{ .name = "bin/alias", .type = TAR_SYMLINK, .link = "tool", .uid = 7 },
		{ .name = "bin/same", .type = TAR_HARDLINK, .link = "bin/tool" },
		{ .name = "dev/null", .type = TAR_CHR, .mode = 0666, .major = 1, .minor = 3 },
		{ .name = "run/fifo", .type = TAR_FIFO, .mode = 0600 },
		{ .name = "etc/tagged", .type = TAR_FILE, .content = "x", .xattr = "user.ctk",
		  .xattr_value = "yes" },
		{ 0 },
	};
	struct ins_error err;
	struct stat st;
	char value[8] = "";
	_cleanup_free_ char *text = NULL;

	tar_write(tarpath, false, entries);
	cr_assert_eq(unpack(INS_UNPACK_PLAIN, NULL, &err), 0, "%s", err.msg);
	st = lstat_in("bin/tool");
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 04755, "the set-uid bit survives the chown");
	cr_assert_eq(st.st_uid, 1000);
	cr_assert_eq(st.st_gid, 100);
	cr_assert_eq(st.st_mtime, 3000);
	cr_assert_eq(st.st_nlink, 2);
	cr_assert_eq(lstat_in("bin/same").st_ino, st.st_ino);
	text = read_in("bin/tool");
	cr_assert_str_eq(text, "#!/bin/sh\n");
	st = lstat_in("bin/alias");
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_eq(st.st_uid, 7);
	st = lstat_in("dev/null");
	cr_assert(S_ISCHR(st.st_mode));
	cr_assert_eq(st.st_rdev, makedev(1, 3));
	cr_assert(S_ISFIFO(lstat_in("run/fifo").st_mode));
	cr_assert_eq(lstat_in("bin").st_mtime, 2000, "directory mtimes are set after their entries");
	st = lstat_in("");
	cr_assert_eq(st.st_mode & 07777, 0751, "the root entry sets the root's mode");
	cr_assert_eq(st.st_mtime, 1000);
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/etc/tagged", dest);
		cr_assert_eq(getxattr(path, "user.ctk", value, sizeof(value)), 3, "%m");
		cr_assert_eq(memcmp(value, "yes", 3), 0);
	}
}

Test(unpack, oci_whiteouts_become_overlayfs_whiteouts_in_layers_only)
{
	const struct tar_entry entries[] = {
		{ .name = ".wh.gone", .type = TAR_FILE },
		{ .name = "dir/", .type = TAR_DIR },
		{ .name = "dir/.wh..wh..opq", .type = TAR_FILE },
		{ .name = "dir/kept", .type = TAR_FILE, .content = "k" },
		{ 0 },
	};
	struct ins_error err;
	struct stat st;
	char path[256], value[4] = "";

	tar_write(tarpath, false, entries);
	cr_assert_eq(unpack(INS_UNPACK_LAYER, NULL, &err), 0, "%s", err.msg);
	st = lstat_in("gone");
	cr_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0), "a 0/0 character device");
	snprintf(path, sizeof(path), "%s/dir", dest);
	cr_assert_eq(getxattr(path, "trusted.overlay.opaque", value, sizeof(value)), 1, "%m");
	cr_assert_eq(value[0], 'y');
	cr_assert_eq(entries_in(path), 1, "the marker itself is not a file");
	/* Plain archives keep such names as they are. */
	teardown();
	setup();
	tar_write(tarpath, false, entries);
	cr_assert_eq(unpack(INS_UNPACK_PLAIN, NULL, &err), 0, "%s", err.msg);
	cr_assert(S_ISREG(lstat_in(".wh.gone").st_mode));
	cr_assert(S_ISREG(lstat_in("dir/.wh..wh..opq").st_mode));
}

/* Unpacking ENTRIES fails with CODE and a message naming BAD; OUTSIDE stays empty. */
static void refused(const struct tar_entry *entries, int code, const char *bad)
{
	struct ins_error err;

	tar_write(tarpath, false, entries);
	cr_assert_eq(unpack(INS_UNPACK_LAYER, NULL, &err), -1, "accepted an archive with %s", bad);
	cr_assert_eq(err.code, code, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, bad), "'%s' does not name %s", err.msg, bad);
	cr_assert_eq(entries_in(outside), 0, "something was written outside");
	cr_assert_eq(access("/etc/ctk-test-escape", F_OK), -1, "something was written to /etc");
}

Test(unpack, refuses_dotdot_and_absolute_paths)
{
	refused((const struct tar_entry[]){ { .name = "../outside/evil", .content = "x" }, { 0 } }, EPERM,
		"../outside/evil");
	refused((const struct tar_entry[]){ { .name = "a/../../outside/evil", .content = "x" }, { 0 } },
		EPERM, "'..'");
	refused((const struct tar_entry[]){ { .name = "/etc/ctk-test-escape", .content = "x" }, { 0 } },
		EPERM, "absolute path");
	refused((const struct tar_entry[]){ { .name = ".wh...", .type = TAR_FILE }, { 0 } }, EPERM,
		"whiteout of an invalid name");
}

Test(unpack, refuses_writes_through_symlinks_that_leave)
{
	char absolute[160];

	snprintf(absolute, sizeof(absolute), "%s", outside);
	refused((const struct tar_entry[]){ { .name = "escape", .type = TAR_SYMLINK, .link = absolute },
					    { .name = "escape/evil", .content = "x" },
					    { 0 } },
		EXDEV, "escape");
	teardown();
	setup();
	refused((const struct tar_entry[]){ { .name = "up", .type = TAR_SYMLINK, .link = "../outside" },
					    { .name = "up/evil", .content = "x" },
					    { 0 } },
		EXDEV, "up");
	teardown();
	setup();
	/* A symlink that stays inside is followed. */
	{
		struct ins_error err;
		_cleanup_free_ char *text = NULL;

		tar_write(tarpath, false,
			  (const struct tar_entry[]){ { .name = "real/", .type = TAR_DIR },
						      { .name = "alias", .type = TAR_SYMLINK, .link = "real" },
						      { .name = "alias/file", .content = "in" },
						      { 0 } });
		cr_assert_eq(unpack(INS_UNPACK_LAYER, NULL, &err), 0, "%s", err.msg);
		text = read_in("real/file");
		cr_assert_str_eq(text, "in");
	}
}

Test(unpack, refuses_hardlinks_that_leave_and_symlink_loops)
{
	char secret[160];
	int fd;

	snprintf(secret, sizeof(secret), "%s/secret", outside);
	refused((const struct tar_entry[]){ { .name = "link", .type = TAR_HARDLINK, .link = "../outside/secret" },
					    { 0 } },
		EPERM, "link");
	teardown();
	setup();
	snprintf(secret, sizeof(secret), "%s/secret", outside);
	fd = open(secret, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	{
		struct ins_error err;
		char target[200];

		snprintf(target, sizeof(target), "%s", outside);
		tar_write(tarpath, false,
			  (const struct tar_entry[]){ { .name = "out", .type = TAR_SYMLINK, .link = target },
						      { .name = "link", .type = TAR_HARDLINK, .link = "out/secret" },
						      { 0 } });
		cr_assert_eq(unpack(INS_UNPACK_LAYER, NULL, &err), -1, "a hardlink reached outside");
		cr_assert_eq(err.code, EXDEV, "%s", err.msg);
		cr_assert_eq(entries_in(outside), 1);
		cr_assert_eq(access("/tmp", F_OK), 0);
	}
	teardown();
	setup();
	refused((const struct tar_entry[]){ { .name = "a", .type = TAR_SYMLINK, .link = "b" },
					    { .name = "b", .type = TAR_SYMLINK, .link = "a" },
					    { .name = "a/file", .content = "x" },
					    { 0 } },
		ELOOP, "a");
}

Test(unpack, never_takes_overlayfs_xattrs_from_an_archive)
{
	const struct tar_entry entries[] = {
		{ .name = "dir/", .type = TAR_DIR, .xattr = "trusted.overlay.redirect", .xattr_value = "/etc" },
		{ .name = "file", .content = "x", .xattr = "trusted.overlay.metacopy", .xattr_value = "" },
		{ 0 },
	};
	struct ins_error err;
	char path[256], list[256];

	tar_write(tarpath, false, entries);
	cr_assert_eq(unpack(INS_UNPACK_LAYER, NULL, &err), 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/dir", dest);
	cr_assert_eq(listxattr(path, list, sizeof(list)), 0);
	snprintf(path, sizeof(path), "%s/file", dest);
	cr_assert_eq(listxattr(path, list, sizeof(list)), 0);
}

Test(unpack, diff_id_is_the_digest_of_the_uncompressed_stream)
{
	const struct tar_entry entries[] = { { .name = "a", .content = "hello" }, { 0 } };
	struct ins_digest plain, gz, expect;
	struct ins_error err;
	char cmd[512];
	int fd;

	tar_write(tarpath, false, entries);
	fd = open(tarpath, O_RDONLY | O_CLOEXEC);
	cr_assert_eq(ins_digest_fd(fd, &expect, NULL, &err), 0, "%s", err.msg);
	close(fd);
	cr_assert_eq(unpack(INS_UNPACK_LAYER, &plain, &err), 0, "%s", err.msg);
	cr_assert_str_eq(plain.s, expect.s);
	snprintf(cmd, sizeof(cmd), "gzip -n '%s' && mv '%s.gz' '%s'", tarpath, tarpath, tarpath);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(unpack(INS_UNPACK_LAYER, &gz, &err), 0, "%s", err.msg);
	cr_assert_str_eq(gz.s, expect.s, "the same tar, compressed, has the same diff-id");
	/* Cut short, the stream is an error, not a partial success. */
	cr_assert_eq(truncate(tarpath, 20), 0);
	cr_assert_eq(unpack(INS_UNPACK_LAYER, &gz, &err), -1);
}
