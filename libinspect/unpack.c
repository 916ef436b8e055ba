#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archivelib.h"
#include "inspect/cleanup.h"
#include "inspect/fileio.h"
#include "inspect/unpack.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER ".wh..wh..opq"

/* A directory whose mtime is set once everything inside it exists. */
struct dir_time {
	char *path;
	struct timespec mtime;
};

struct ins_unpacker {
	int root;
	enum ins_unpack_mode mode;
	int link_from; /* >= 0: regular files are linked from this directory, not read */
	struct dir_time *dirs;
	size_t ndirs, dircap;
};

/* Decompresses the input and hashes the uncompressed stream on its way to the tar reader. */
struct feed {
	struct archive *raw;
	struct ins_hasher *hash;
};

static la_ssize_t feed_read(struct archive *a, void *data, const void **buf)
{
	struct feed *f = data;
	size_t size;
	la_int64_t offset;
	int r = libarchive.archive_read_data_block(f->raw, buf, &size, &offset);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK) {
		libarchive.archive_set_error(a, libarchive.archive_errno(f->raw), "%s",
					     libarchive.archive_error_string(f->raw));
		return -1;
	}
	if (f->hash)
		ins_hasher_update(f->hash, *buf, size);
	return (la_ssize_t)size;
}

/*
 * ENTRY as a clean relative path ("" for the root): "./" prefixes and
 * trailing slashes dropped, absolute paths and ".." components refused.
 */
static char *clean_path(const char *entry, struct ins_error *err)
{
	_cleanup_free_ char *copy = strdup(entry);
	char *out, *o, *save = NULL;

	if (!copy)
		return ins_err_sys(err, ENOMEM, "%s", entry), NULL;
	if (entry[0] == '/')
		return ins_err(err, EPERM, "'%s': absolute path", entry), NULL;
	out = o = calloc(1, strlen(entry) + 1);
	if (!out)
		return ins_err_sys(err, ENOMEM, "%s", entry), NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			free(out);
			return ins_err(err, EPERM, "'%s': '..' in the path", entry), NULL;
		}
		o += sprintf(o, "%s%s", o == out ? "" : "/", c);
	}
	return out;
}

/* The last '/' of PATH splits it into a parent ("" for the root) and a name. */
static const char *split(char *path)
{
	char *slash = strrchr(path, '/');

	if (!slash)
		return path;
	*slash = '\0';
	return slash + 1;
}

/* The directory PATH below ROOT (O_PATH), made with its missing parents when absent. */
static int open_dir_beneath(int root, const char *path, struct ins_error *err)
{
	int fd = ins_open_beneath(root, path, O_PATH | O_DIRECTORY, err);

	if (fd >= 0 || err->code != ENOENT)
		return fd;
	/* Make each missing component, resolving from ROOT every time. */
	for (const char *end = path;; end++) {
		if (*end != '/' && *end != '\0')
			continue;
		_cleanup_free_ char *prefix = strndup(path, (size_t)(end - path));
		const char *name;
		int parent;

		if (!prefix)
			return ins_err_sys(err, ENOMEM, "'%s'", path);
		name = split(prefix);
		parent = ins_open_beneath(root, name == prefix ? "" : prefix, O_PATH | O_DIRECTORY, err);
		if (parent < 0)
			return -1;
		if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
			close(parent);
			return ins_err_sys(err, errno, "'%s'", path);
		}
		close(parent);
		if (*end == '\0')
			break;
	}
	return ins_open_beneath(root, path, O_PATH | O_DIRECTORY, err);
}

/* Makes room for a new entry NAME: whatever is there goes, unless both are directories. */
static int clear_slot(int parent, const char *name, bool want_dir, struct ins_error *err)
{
	struct stat st;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ins_err_sys(err, errno, "'%s'", name);
	if (want_dir && S_ISDIR(st.st_mode))
		return 0;
	return ins_remove_tree_at(parent, name, err);
}

static bool is_overlay_xattr(const char *name)
{
	return strncmp(name, "trusted.overlay.", 16) == 0;
}

/* Applies the entry's xattrs to NAME in PARENT (the "/proc/self/fd" path never follows NAME). */
static int set_xattrs(struct archive_entry *e, int parent, const char *name, struct ins_error *err)
{
	const char *key;
	const void *value;
	size_t size;
	char path[64 + 256];

	libarchive.archive_entry_xattr_reset(e);
	while (libarchive.archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
		if (is_overlay_xattr(key))
			continue; /* only our own whiteout handling may speak to overlayfs */
		snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", parent, name);
		if (lsetxattr(path, key, value, size, 0) < 0)
			return ins_err_sys(err, errno, "'%s': xattr %s", name, key);
	}
	return 0;
}

/* Owner, mode, xattrs and mtime of NAME in PARENT, in the order that keeps set-id bits and capabilities. */
static int set_metadata(struct archive_entry *e, int parent, const char *name, bool symlink,
			struct ins_error *err)
{
	struct timespec times[2] = {
		{ .tv_nsec = UTIME_OMIT },
		{ .tv_sec = libarchive.archive_entry_mtime(e),
		  .tv_nsec = libarchive.archive_entry_mtime_nsec(e) },
	};

	if (fchownat(parent, name, (uid_t)libarchive.archive_entry_uid(e),
		     (gid_t)libarchive.archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return ins_err_sys(err, errno, "'%s': chown", name);
	if (!symlink && fchmodat(parent, name, libarchive.archive_entry_perm(e), 0) < 0)
		return ins_err_sys(err, errno, "'%s': chmod", name);
	if (set_xattrs(e, parent, name, err) < 0)
		return -1;
	if (!libarchive.archive_entry_mtime_is_set(e))
		times[1].tv_nsec = UTIME_OMIT;
	if (utimensat(parent, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return ins_err_sys(err, errno, "'%s': mtime", name);
	return 0;
}

static int write_data(struct archive *a, int fd, struct archive_entry *e, const char *name,
		      struct ins_error *err)
{
	const void *buf;
	size_t size;
	la_int64_t offset;
	int r;

	while ((r = libarchive.archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK) {
		const char *p = buf;

		while (size) {
			ssize_t n = pwrite(fd, p, size, offset);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return ins_err_sys(err, errno, "'%s'", name);
			p += n;
			offset += n;
			size -= (size_t)n;
		}
	}
	if (r != ARCHIVE_EOF)
		return ins_err(err, EIO, "'%s': %s", name, libarchive.archive_error_string(a));
	/* A sparse file's tail is a hole: the size comes from the header. */
	if (libarchive.archive_entry_size_is_set(e) &&
	    ftruncate(fd, libarchive.archive_entry_size(e)) < 0)
		return ins_err_sys(err, errno, "'%s'", name);
	return 0;
}

static int extract_file(struct archive *a, struct archive_entry *e, int parent, const char *name,
			struct ins_error *err)
{
	_cleanup_close_ int fd = -1;

	if (clear_slot(parent, name, false, err) < 0)
		return -1;
	fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ins_err_sys(err, errno, "'%s'", name);
	return write_data(a, fd, e, name, err);
}

/*
 * The file NAME in PARENT as a link to the one at the same path (DIR/NAME)
 * in the link_from directory: its data and metadata are that file's.
 */
static int link_file(struct ins_unpacker *u, const char *dir, int parent, const char *name, struct ins_error *err)
{
	_cleanup_close_ int from = ins_open_beneath(u->link_from, dir, O_PATH | O_DIRECTORY, err);

	if (from < 0 || clear_slot(parent, name, false, err) < 0)
		return -1;
	if (linkat(from, name, parent, name, 0) < 0)
		return ins_err_sys(err, errno, "'%s/%s': link", dir, name);
	return 0;
}

static int extract_hardlink(struct ins_unpacker *u, const char *target, int parent, const char *name,
			    struct ins_error *err)
{
	_cleanup_free_ char *clean = clean_path(target, err);
	_cleanup_close_ int tparent = -1;
	const char *tname;

	if (!clean)
		return ins_err_prefix(err, "hardlink '%s'", name);
	if (!*clean)
		return ins_err(err, EPERM, "hardlink '%s': to the root directory", name);
	tname = split(clean);
	tparent = ins_open_beneath(u->root, tname == clean ? "" : clean, O_PATH | O_DIRECTORY, err);
	if (tparent < 0)
		return ins_err_prefix(err, "hardlink '%s'", name);
	if (clear_slot(parent, name, false, err) < 0)
		return -1;
	/* Without AT_SYMLINK_FOLLOW a symlink target is linked itself, never followed. */
	if (linkat(tparent, tname, parent, name, 0) < 0)
		return ins_err_sys(err, errno, "hardlink '%s' to '%s'", name, target);
	return 0;
}

static int remember_dir(struct ins_unpacker *u, const char *path, struct archive_entry *e,
			struct ins_error *err)
{
	if (!libarchive.archive_entry_mtime_is_set(e))
		return 0;
	if (u->ndirs == u->dircap) {
		size_t cap = u->dircap ? u->dircap * 2 : 64;
		struct dir_time *n = realloc(u->dirs, cap * sizeof(*n));

		if (!n)
			return ins_err_sys(err, ENOMEM, "'%s'", path);
		u->dirs = n;
		u->dircap = cap;
	}
	u->dirs[u->ndirs].path = strdup(path);
	u->dirs[u->ndirs].mtime = (struct timespec){ libarchive.archive_entry_mtime(e),
						     libarchive.archive_entry_mtime_nsec(e) };
	if (!u->dirs[u->ndirs].path)
		return ins_err_sys(err, ENOMEM, "'%s'", path);
	u->ndirs++;
	return 0;
}

/* Turns the OCI whiteout NAME (".wh.X" or the opaque marker) into overlayfs's form. */
static int extract_whiteout(struct ins_unpacker *u, const char *dir, int parent, const char *name,
			    struct ins_error *err)
{
	if (strcmp(name, OPAQUE_MARKER) == 0) {
		_cleanup_close_ int fd = ins_open_beneath(u->root, dir, O_RDONLY | O_DIRECTORY, err);

		if (fd < 0)
			return -1;
		if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return ins_err_sys(err, errno, "'%s': marking it opaque", dir);
		return 0;
	}
	name += strlen(WHITEOUT_PREFIX);
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return ins_err(err, EPERM, "'%s/%s%s': whiteout of an invalid name", dir,
			       WHITEOUT_PREFIX, name);
	if (clear_slot(parent, name, false, err) < 0)
		return -1;
	if (mknodat(parent, name, S_IFCHR | 0000, makedev(0, 0)) < 0)
		return ins_err_sys(err, errno, "'%s': whiteout", name);
	return 0;
}

/* Creates one entry; PATH is its clean path, split here into its directory and name. */
static int extract_entry(struct ins_unpacker *u, struct archive *a, struct archive_entry *e, char *path,
			 struct ins_error *err)
{
	unsigned type = libarchive.archive_entry_filetype(e);
	const char *hardlink = libarchive.archive_entry_hardlink(e);
	const char *name = split(path);
	const char *dir = name == path ? "" : path;
	_cleanup_close_ int parent = open_dir_beneath(u->root, dir, err);
	int rc;

	if (parent < 0)
		return -1;
	if (u->mode == INS_UNPACK_LAYER && strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
		return extract_whiteout(u, dir, parent, name, err);
	if (hardlink)
		return extract_hardlink(u, hardlink, parent, name, err);
	if (type == AE_IFREG && u->link_from >= 0)
		return link_file(u, dir, parent, name, err);
	switch (type) {
	case AE_IFREG:
		rc = extract_file(a, e, parent, name, err);
		break;
	case AE_IFDIR:
		rc = clear_slot(parent, name, true, err);
		if (rc == 0 && mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
			rc = ins_err_sys(err, errno, "'%s'", name);
		break;
	case AE_IFLNK:
		rc = clear_slot(parent, name, false, err);
		if (rc == 0 && symlinkat(libarchive.archive_entry_symlink(e), parent, name) < 0)
			rc = ins_err_sys(err, errno, "'%s'", name);
		break;
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		rc = clear_slot(parent, name, false, err);
		if (rc == 0 && mknodat(parent, name, type | 0600,
				       makedev(libarchive.archive_entry_rdevmajor(e),
					       libarchive.archive_entry_rdevminor(e))) < 0)
			rc = ins_err_sys(err, errno, "'%s'", name);
		break;
	default:
		return 0; /* sockets and unknown types have nothing to restore */
	}
	if (rc == 0)
		rc = set_metadata(e, parent, name, type == AE_IFLNK, err);
	if (rc == 0 && type == AE_IFDIR) {
		char full[4096];

		snprintf(full, sizeof(full), "%s%s%s", dir, *dir ? "/" : "", name);
		rc = remember_dir(u, full, e, err);
	}
	return rc;
}

/* The root entry ("./") carries the root directory's own metadata. */
static int extract_root(struct ins_unpacker *u, struct archive_entry *e, struct ins_error *err)
{
	if (libarchive.archive_entry_filetype(e) != AE_IFDIR)
		return ins_err(err, EPERM, "the root entry is not a directory");
	if (fchown(u->root, (uid_t)libarchive.archive_entry_uid(e),
		   (gid_t)libarchive.archive_entry_gid(e)) < 0 ||
	    fchmod(u->root, libarchive.archive_entry_perm(e)) < 0)
		return ins_err_sys(err, errno, "the root directory");
	return remember_dir(u, "", e, err);
}

/* Directory mtimes last: creating their entries changed them. */
static int restore_dir_times(struct ins_unpacker *u, struct ins_error *err)
{
	for (size_t i = u->ndirs; i-- > 0;) {
		struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, u->dirs[i].mtime };
		_cleanup_close_ int fd = ins_open_beneath(u->root, u->dirs[i].path, O_RDONLY | O_DIRECTORY, err);

		if (fd < 0 || futimens(fd, times) < 0)
			return fd < 0 ? -1 : ins_err_sys(err, errno, "'%s': mtime", u->dirs[i].path);
	}
	return 0;
}

/* Creates the entry E (its data read from A). */
static int extract_one(struct ins_unpacker *u, struct archive *a, struct archive_entry *e, struct ins_error *err)
{
	const char *entry = libarchive.archive_entry_pathname(e);
	_cleanup_free_ char *path = entry ? clean_path(entry, err) : NULL;

	if (!entry)
		return ins_err(err, EINVAL, "an entry without a name");
	if (!path)
		return -1;
	return *path ? extract_entry(u, a, e, path, err) : extract_root(u, e, err);
}

static int extract_all(struct ins_unpacker *u, struct archive *a, struct ins_error *err)
{
	struct archive_entry *e;
	int r;

	while ((r = libarchive.archive_read_next_header(a, &e)) == ARCHIVE_OK)
		if (extract_one(u, a, e, err) < 0)
			return -1;
	if (r != ARCHIVE_EOF)
		return ins_err(err, EIO, "%s", libarchive.archive_error_string(a));
	return restore_dir_times(u, err);
}

/* Opens the raw (decompressing) reader on FD and the tar reader fed by it. */
static int open_readers(int fd, struct feed *f, struct archive **tar, struct ins_error *err)
{
	struct archive_entry *e;

	f->raw = libarchive.archive_read_new();
	*tar = libarchive.archive_read_new();
	if (!f->raw || !*tar)
		return ins_err_sys(err, ENOMEM, "archive reader");
	libarchive.archive_read_support_filter_all(f->raw);
	libarchive.archive_read_support_format_raw(f->raw);
	libarchive.archive_read_support_format_tar(*tar);
	if (libarchive.archive_read_open_fd(f->raw, fd, 1 << 16) != ARCHIVE_OK ||
	    libarchive.archive_read_next_header(f->raw, &e) != ARCHIVE_OK)
		return ins_err(err, EIO, "%s", libarchive.archive_error_string(f->raw));
	if (libarchive.archive_read_open(*tar, f, NULL, feed_read, NULL) != ARCHIVE_OK)
		return ins_err(err, EIO, "%s", libarchive.archive_error_string(*tar));
	return 0;
}

/* Hashes what follows the tar's end marker (padding), which is part of the diff-id too. */
static int drain(struct feed *f, struct ins_error *err)
{
	const void *buf;
	size_t size;
	la_int64_t offset;
	int r;

	while ((r = libarchive.archive_read_data_block(f->raw, &buf, &size, &offset)) == ARCHIVE_OK)
		if (f->hash)
			ins_hasher_update(f->hash, buf, size);
	if (r != ARCHIVE_EOF)
		return ins_err(err, EIO, "%s", libarchive.archive_error_string(f->raw));
	return 0;
}

int ins_unpack(int fd, int dirfd, enum ins_unpack_mode mode, struct ins_digest *diff_id,
	       struct ins_error *err)
{
	struct ins_unpacker u = { .root = dirfd, .mode = mode, .link_from = -1 };
	struct feed f = { 0 };
	struct archive *tar = NULL;
	int rc;

	if (libarchive_load(err) < 0)
		return -1;
	if (diff_id && !(f.hash = ins_hasher_new(err)))
		return -1;
	rc = open_readers(fd, &f, &tar, err);
	if (rc == 0)
		rc = extract_all(&u, tar, err);
	if (rc == 0)
		rc = drain(&f, err);
	if (rc == 0 && diff_id)
		ins_hasher_final(f.hash, diff_id);
	for (size_t i = 0; i < u.ndirs; i++)
		free(u.dirs[i].path);
	free(u.dirs);
	if (tar)
		libarchive.archive_read_free(tar);
	if (f.raw)
		libarchive.archive_read_free(f.raw);
	ins_hasher_free(f.hash);
	return rc;
}

struct ins_unpacker *ins_unpacker_new(int dirfd, int link_from, struct ins_error *err)
{
	struct ins_unpacker *u = calloc(1, sizeof(*u));

	if (!u)
		return ins_err_sys(err, ENOMEM, "unpacker"), NULL;
	*u = (struct ins_unpacker){ .root = dirfd, .mode = INS_UNPACK_LAYER, .link_from = link_from };
	return u;
}

int ins_unpacker_add(struct ins_unpacker *u, struct archive_entry *e, struct ins_error *err)
{
	return extract_one(u, NULL, e, err);
}

int ins_unpacker_finish(struct ins_unpacker *u, struct ins_error *err)
{
	return restore_dir_times(u, err);
}

void ins_unpacker_free(struct ins_unpacker *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
	free(u);
}
