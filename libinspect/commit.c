/*
 * A container's read-write layer as a new image layer.
 *
 * One pass over the change list (ins_container_diff: overlayfs's lookup
 * rules, init-layer files left out) writes the layer's tar into the blob
 * (hashed as it goes: uncompressed, its digest is the diff-id) and makes
 * the directory layers/<diff-id> that ctk run stacks, with the code imports
 * unpack layers with:
 *
 * - A running container may change its files meanwhile, so the unpacked
 *   layer is made of the tar itself: each block of it goes into the blob
 *   and through a pipe to a thread that unpacks it. The layer is read once,
 *   the blob and the unpacked layer are the same bytes, and the two writers
 *   run side by side.
 * - A container that has exited never changes again (ctk starts no
 *   container twice), so each entry written to the tar is made in the
 *   unpacked layer at once, its regular files as hardlinks to the
 *   container's own: no second copy of the data.
 *
 * Everything is made in tmp/ under the store's lock and given its name only
 * when complete (blob: fsync'd, then renamed; layer: renamed; index.json
 * last, replaced atomically): a commit killed at any point leaves a valid
 * store, at worst with unreferenced blobs that ctk image fsck reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "archivelib.h"
#include "imagestore.h"
#include "inspect/cleanup.h"
#include "inspect/commit.h"
#include "inspect/diff.h"
#include "inspect/fileio.h"
#include "inspect/unpack.h"
#include "u64map.h"

#define WHITEOUT_PREFIX ".wh."
/* Writes below this size (tar headers, small files) are gathered into one; larger ones go straight through. */
#define DIRECT_WRITE (64 * 1024)
#define GATHER_SIZE (1 << 20)
#define DATA_CHUNK (1 << 20)
#define XATTR_BUF (64 * 1024)

/*
 * The tar on its way out: into the blob and (a running container's) into
 * the pipe to the unpacker. (A thread of its own to hash and write it out
 * measured slower here, not faster: this thread does it.)
 */
struct out {
	struct ins_blob_writer blob;
	int pipe;
	char *gather;
	size_t gathered;
	struct ins_error err; /* why a write failed */
};

/* What one commit holds while it writes the layer. */
struct committer {
	struct ins_diff_change *ch;
	size_t n;
	bool *keep; /* per change: it goes into the layer */
	int upper;
	struct archive *tar;
	struct archive_entry *e;
	struct out out;
	struct u64map links; /* inode of a file with several links -> the change that wrote it first */
	char *parent; /* the directory of the last entry, relative to upper, and its O_PATH fd */
	int parentfd;
	char *buf; /* file data, and xattr lists and values */
	time_t now;
	struct ins_unpacker *linker; /* an exited container's: each entry made in the unpacked layer as written */
};

/* The unpacking thread's work: the read end of the pipe into the directory DIR. */
struct unpacker {
	int fd, dir;
	struct ins_digest diff_id; /* of what it read: the blob's digest, or something went wrong */
	int rc;
	struct ins_error err;
};

static int out_emit(struct out *o, const void *buf, size_t len)
{
	if (ins_blob_write(&o->blob, buf, len, &o->err) < 0)
		return -1;
	if (o->pipe >= 0 && ins_write_all(o->pipe, buf, len) < 0)
		return ins_err_sys(&o->err, errno, "layer: handing it to the unpacker");
	return 0;
}

static int out_flush(struct out *o)
{
	size_t len = o->gathered;

	o->gathered = 0;
	return len ? out_emit(o, o->gather, len) : 0;
}

/* libarchive's writer callback (unblocked: it gets each header and data block as written). */
static la_ssize_t tar_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct out *o = data;
	int rc = 0;

	if (len >= DIRECT_WRITE) {
		rc = out_flush(o);
		if (rc == 0)
			rc = out_emit(o, buf, len);
	} else {
		if (o->gathered + len > GATHER_SIZE)
			rc = out_flush(o);
		memcpy(o->gather + o->gathered, buf, len);
		o->gathered += len;
	}
	if (rc < 0) {
		libarchive.archive_set_error(a, o->err.code, "%s", o->err.msg);
		return -1;
	}
	return (la_ssize_t)len;
}

static void *unpack_main(void *arg)
{
	struct unpacker *u = arg;
	char buf[1 << 16];
	ssize_t n;

	u->rc = ins_unpack(u->fd, u->dir, INS_UNPACK_LAYER, &u->diff_id, &u->err);
	/* Whatever it left unread: the writer must never wait on a reader that gave up. */
	while ((n = read(u->fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	return NULL;
}

/* The error of the tar writer, named after PATH. */
static int tar_error(struct committer *k, const char *path, struct ins_error *err)
{
	if (k->out.err.code)
		return ins_err(err, k->out.err.code, "%s: %s", path, k->out.err.msg);
	return ins_err(err, EIO, "%s: %s", path, libarchive.archive_error_string(k->tar));
}

/* Writes the header of the entry in K->e, and makes the entry in the unpacked layer when linking. */
static int write_header(struct committer *k, const char *path, struct ins_error *err)
{
	if (libarchive.archive_write_header(k->tar, k->e) != ARCHIVE_OK)
		return tar_error(k, path, err);
	if (k->linker && ins_unpacker_add(k->linker, k->e, err) < 0)
		return ins_err_prefix(err, "unpacking the layer");
	return 0;
}

/*
 * Makes the directory REL of upper (a "dir/name" prefix) the current parent;
 * 1 when it is gone (a running container removed it meanwhile).
 */
static int enter_parent(struct committer *k, const char *rel, size_t len, struct ins_error *err)
{
	_cleanup_free_ char *dir = strndup(rel, len);
	int fd;

	if (!dir)
		return ins_err_sys(err, ENOMEM, "/%s", rel);
	if (k->parent && strcmp(k->parent, dir) == 0)
		return 0;
	/* Beneath upper, whatever the container made of its own directories meanwhile. */
	fd = ins_open_beneath(k->upper, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW, err);
	if (fd < 0)
		return err->code == ENOENT || err->code == ENOTDIR ? 1 : ins_err_prefix(err, "read-write layer");
	ins_closep(&k->parentfd);
	free(k->parent);
	k->parentfd = fd;
	k->parent = ins_steal_ptr(dir);
	return 0;
}

/* The xattrs of NAME in the current parent, but overlayfs's own (never part of a layer). */
static int add_xattrs(struct committer *k, const char *name, struct ins_error *err)
{
	char path[64 + NAME_MAX], *list = k->buf, *value = k->buf + XATTR_BUF;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", k->parentfd, name);
	len = llistxattr(path, list, XATTR_BUF);
	if (len < 0)
		return errno == ENOTSUP || errno == ENOENT ? 0 : ins_err_sys(err, errno, "xattrs");
	for (char *key = list; key < list + len; key += strlen(key) + 1) {
		ssize_t vlen;

		if (strncmp(key, "trusted.overlay.", 16) == 0)
			continue;
		vlen = lgetxattr(path, key, value, XATTR_BUF);
		if (vlen < 0 && errno == ENODATA)
			continue;
		if (vlen < 0)
			return ins_err_sys(err, errno, "xattr %s", key);
		libarchive.archive_entry_xattr_add_entry(k->e, key, value, (size_t)vlen);
	}
	return 0;
}

/* Copies SIZE bytes of FD into the tar (fewer when the file shrank meanwhile: the tar pads). */
static int add_data(struct committer *k, int fd, long long size, const char *path, struct ins_error *err)
{
	while (size > 0) {
		ssize_t n = read(fd, k->buf, size < DATA_CHUNK ? (size_t)size : DATA_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ins_err_sys(err, errno, "%s", path);
		if (n == 0)
			break;
		if (libarchive.archive_write_data(k->tar, k->buf, (size_t)n) != n)
			return tar_error(k, path, err);
		size -= n;
	}
	return 0;
}

/* The entry of change I (A or C): the file in upper with all its metadata. */
static int add_file(struct committer *k, size_t i, struct ins_error *err)
{
	const char *path = k->ch[i].path, *rel = path + 1, *slash = strrchr(rel, '/');
	const char *name = slash ? slash + 1 : rel;
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t *first;
	int rc = enter_parent(k, rel, slash ? (size_t)(slash - rel) : 0, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (fstatat(k->parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ins_err_sys(err, errno, "%s", path);
	/* A socket is no file a layer can hold (nor tar). */
	if (S_ISSOCK(st.st_mode))
		return 0;
	if (S_ISREG(st.st_mode)) {
		fd = openat(k->parentfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 || fstat(fd, &st) < 0)
			return errno == ENOENT || errno == ELOOP ? 0 : ins_err_sys(err, errno, "%s", path);
	}
	libarchive.archive_entry_clear(k->e);
	libarchive.archive_entry_copy_stat(k->e, &st);
	libarchive.archive_entry_set_pathname(k->e, rel);
	/* Whole seconds and no atime or ctime, as docker writes layers: no pax header per entry. */
	libarchive.archive_entry_set_mtime(k->e, st.st_mtim.tv_sec, 0);
	libarchive.archive_entry_unset_atime(k->e);
	libarchive.archive_entry_unset_ctime(k->e);
	libarchive.archive_entry_unset_birthtime(k->e);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t len = readlinkat(k->parentfd, name, target, sizeof(target) - 1);

		if (len < 0)
			return errno == ENOENT || errno == EINVAL ? 0 : ins_err_sys(err, errno, "%s", path);
		target[len] = '\0';
		libarchive.archive_entry_set_symlink(k->e, target);
	}
	/* Another name of a file already in the layer is a hardlink to it. */
	first = S_ISREG(st.st_mode) && st.st_nlink > 1 ? u64map_get(&k->links, st.st_ino) : NULL;
	if (first) {
		libarchive.archive_entry_set_hardlink(k->e, k->ch[*first].path + 1);
		libarchive.archive_entry_set_size(k->e, 0);
	}
	if (add_xattrs(k, name, err) < 0)
		return ins_err_prefix(err, "%s", path);
	if (write_header(k, path, err) < 0)
		return -1;
	if (S_ISREG(st.st_mode) && st.st_nlink > 1 && !first && u64map_put(&k->links, st.st_ino, i) < 0)
		return ins_err_sys(err, ENOMEM, "%s", path);
	return fd >= 0 && !first ? add_data(k, fd, st.st_size, path, err) : 0;
}

/* The entry of a deletion (D): an empty ".wh.NAME" beside where NAME was. */
static int add_whiteout(struct committer *k, size_t i, struct ins_error *err)
{
	const char *path = k->ch[i].path, *slash = strrchr(path, '/');
	int dirlen = (int)(slash - path);
	_cleanup_free_ char *name = NULL;

	/* "/a/b" -> "a/.wh.b", "/x" -> ".wh.x" */
	if (asprintf(&name, "%.*s%s" WHITEOUT_PREFIX "%s", dirlen ? dirlen - 1 : 0, path + 1, dirlen ? "/" : "",
		     slash + 1) < 0) {
		name = NULL;
		return ins_err_sys(err, ENOMEM, "%s", path);
	}
	libarchive.archive_entry_clear(k->e);
	libarchive.archive_entry_set_pathname(k->e, name);
	libarchive.archive_entry_set_filetype(k->e, AE_IFREG);
	libarchive.archive_entry_set_perm(k->e, 0);
	libarchive.archive_entry_set_size(k->e, 0);
	libarchive.archive_entry_set_mtime(k->e, k->now, 0);
	return write_header(k, path, err);
}

/* Whether PATH lies strictly below the directory DIR ("/data/x" below "/data"). */
static bool below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	while (len && dir[len - 1] == '/')
		len--;
	return strncmp(path, dir, len) == 0 && path[len] == '/' && path[len + 1];
}

/* Whether an --exclude glob matches PATH or a directory above it. */
static bool excluded(const struct ins_commit_opts *o, const char *path)
{
	_cleanup_free_ char *p = o->nexcludes ? strdup(path) : NULL;
	char *slash;

	while (p) {
		for (size_t i = 0; i < o->nexcludes; i++)
			if (ins_path_glob_matches(o->excludes[i], p))
				return true;
		slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = '\0';
	}
	return false;
}

/* Chooses what goes into the layer: not what volumes hold (their mount points stay), not what --exclude names. */
static int choose(struct committer *k, const struct ins_container *c, const struct ins_commit_opts *o,
		  struct ins_commit_summary *sum, struct ins_error *err)
{
	json_t *vols = json_object_get(c->config, "volumes");

	if (k->n && !(k->keep = calloc(k->n, sizeof(*k->keep))))
		return ins_err_sys(err, ENOMEM, "changes");
	for (size_t i = 0; i < k->n; i++) {
		const struct ins_diff_change *ch = &k->ch[i];
		bool keep = !excluded(o, ch->path);
		size_t v;
		json_t *vol;

		json_array_foreach(vols, v, vol)
			keep &= !below(ch->path, json_string_value(json_object_get(vol, "destination")) ?: "");
		k->keep[i] = keep;
		if (!keep)
			continue;
		if (ch->kind == INS_DIFF_ADDED) {
			sum->added++;
			sum->added_bytes += ch->size;
		} else if (ch->kind == INS_DIFF_CHANGED) {
			sum->changed++;
			sum->changed_bytes += ch->size;
		} else {
			sum->deleted++;
		}
	}
	return 0;
}

/* Writes the chosen changes as the layer's tar, closed at the end. */
static int write_layer(struct committer *k, struct ins_error *err)
{
	k->tar = libarchive.archive_write_new();
	k->e = libarchive.archive_entry_new();
	if (!k->tar || !k->e)
		return ins_err_sys(err, ENOMEM, "layer");
	/* pax where ustar cannot say it (long names, xattrs), ustar otherwise; unblocked. */
	if (libarchive.archive_write_set_format_pax_restricted(k->tar) != ARCHIVE_OK ||
	    libarchive.archive_write_set_bytes_per_block(k->tar, 0) != ARCHIVE_OK ||
	    libarchive.archive_write_open(k->tar, &k->out, NULL, tar_write, NULL) != ARCHIVE_OK)
		return ins_err(err, EIO, "layer: %s", libarchive.archive_error_string(k->tar));
	for (size_t i = 0; i < k->n; i++) {
		int rc = !k->keep[i] ? 0
			 : k->ch[i].kind == INS_DIFF_DELETED ? add_whiteout(k, i, err)
							      : add_file(k, i, err);

		if (rc < 0)
			return -1;
	}
	if (libarchive.archive_write_close(k->tar) != ARCHIVE_OK)
		return tar_error(k, "layer", err);
	if (out_flush(&k->out) < 0)
		return ins_err(err, k->out.err.code, "layer: %s", k->out.err.msg);
	return 0;
}

static void committer_free(struct committer *k)
{
	if (k->tar)
		libarchive.archive_write_free(k->tar);
	if (k->e)
		libarchive.archive_entry_free(k->e);
	u64map_free(&k->links);
	ins_unpacker_free(k->linker);
	ins_closep(&k->parentfd);
	ins_closep(&k->upper);
	free(k->parent);
	free(k->buf);
	free(k->out.gather);
	free(k->keep);
	ins_diff_free(k->ch, k->n);
}

/*
 * Makes the layer of a running container: the blob and, from the same
 * stream, the unpacked layer in DIR. The blob is committed only when both
 * hashed the stream alike.
 */
static int make_streamed(struct committer *k, int dir, struct ins_digest *diff_id, struct ins_error *err)
{
	struct unpacker u = { .fd = -1, .dir = dir };
	int pipefd[2], rc;
	pthread_t thread;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return ins_err_sys(err, errno, "pipe");
	/* A bigger pipe: fewer switches between writer and unpacker (the default is fine too). */
	fcntl(pipefd[1], F_SETPIPE_SZ, 1 << 20);
	u.fd = pipefd[0];
	k->out.pipe = pipefd[1];
	if ((rc = pthread_create(&thread, NULL, unpack_main, &u)) != 0) {
		rc = ins_err_sys(err, rc, "unpacker thread");
	} else {
		rc = write_layer(k, err);
		/* The end of the stream ends the unpacker, whether the layer was written or not. */
		ins_closep(&pipefd[1]);
		pipefd[1] = -1;
		pthread_join(thread, NULL);
		if (rc == 0 && u.rc < 0)
			rc = ins_err(err, u.err.code, "unpacking the layer: %s", u.err.msg);
	}
	ins_closep(&pipefd[0]);
	ins_closep(&pipefd[1]);
	k->out.pipe = -1;
	if (rc < 0) {
		ins_blob_abort(&k->out.blob);
		return -1;
	}
	return ins_blob_commit(&k->out.blob, &u.diff_id, "layer", diff_id, NULL, err);
}

/* Makes the layer of a container that can no longer change: the blob, and each entry in DIR as written. */
static int make_linked(struct committer *k, int dir, struct ins_digest *diff_id, struct ins_error *err)
{
	int rc;

	if (!(k->linker = ins_unpacker_new(dir, k->upper, err))) {
		ins_blob_abort(&k->out.blob);
		return -1;
	}
	rc = write_layer(k, err);
	if (rc == 0)
		rc = ins_unpacker_finish(k->linker, err);
	if (rc < 0) {
		ins_blob_abort(&k->out.blob);
		return -1;
	}
	return ins_blob_commit(&k->out.blob, NULL, "layer", diff_id, NULL, err);
}

/*
 * Makes the layer: the blob (committed, its digest in *DIFF_ID) and its
 * unpacked form in the directory *TMP of tmp/. LINKED: the container can no
 * longer change. On failure nothing of it is left but what tmp/ holds.
 */
static int make_layer(struct ins_store *s, struct committer *k, bool linked, char **tmp, struct ins_digest *diff_id,
		      struct ins_error *err)
{
	_cleanup_close_ int dir = -1;

	if (ins_blob_begin(s, &k->out.blob, err) < 0)
		return -1;
	dir = ins_store_mktemp_dir(s, tmp, err);
	/* The layer's root, which the tar has no entry for, as imports make it. */
	if (dir < 0 || fchmod(dir, 0755) < 0) {
		ins_blob_abort(&k->out.blob);
		return dir < 0 ? -1 : ins_err_sys(err, errno, "layer");
	}
	return linked ? make_linked(k, dir, diff_id, err) : make_streamed(k, dir, diff_id, err);
}

/* WORD quoted for a shell when it needs it ('...' with ' as '\''), appended to *LINE. */
static int append_word(char **line, const char *word)
{
	bool plain = *word && strspn(word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
					   "_./:=@%+,-") == strlen(word);
	size_t len = *line ? strlen(*line) : 0;
	char *more = realloc(*line, len + 4 * strlen(word) + 4), *o;

	if (!more)
		return -1;
	*line = more;
	o = more + len;
	if (len)
		*o++ = ' ';
	if (!plain)
		*o++ = '\'';
	for (const char *p = word; *p; p++) {
		if (*p == '\'' && !plain) {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	if (!plain)
		*o++ = '\'';
	*o = '\0';
	return 0;
}

static int append_text(char **line, const char *text)
{
	size_t len = *line ? strlen(*line) : 0;
	char *more = realloc(*line, len + strlen(text) + 1);

	if (!more)
		return -1;
	strcpy(more + len, text);
	*line = more;
	return 0;
}

static int append_args(char **line, json_t *args)
{
	size_t i;
	json_t *v;
	int rc = 0;

	json_array_foreach(args, i, v)
		rc |= append_word(line, json_string_value(v) ?: "");
	return rc;
}

/*
 * How the layer came to be: PID 1's command line, every command ctk exec ran
 * in the container (its exec.log), and what the layer holds, as a comment:
 * "sh -c 'make install'; ctk exec rm -rf /tmp/build  # A 12 (3401 bytes), C 2 (120 bytes), D 1".
 */
static char *created_by(const struct ins_container *c, const struct ins_commit_summary *sum)
{
	_cleanup_free_ char *log = NULL;
	char path[4096], tail[256];
	char *line = NULL;
	struct ins_error ignored;
	int rc;

	snprintf(path, sizeof(path), "%s/exec.log", c->dir);
	log = ins_read_file_at(AT_FDCWD, path, NULL, &ignored);
	rc = append_args(&line, ins_container_args(c));
	for (char *l = log, *next; rc == 0 && l && *l; l = next) {
		json_t *entry;

		next = strchr(l, '\n');
		next = next ? (*next = '\0', next + 1) : l + strlen(l);
		entry = json_loads(l, 0, NULL);
		if (json_is_array(json_object_get(entry, "args")))
			rc = append_text(&line, "; ctk exec") || append_args(&line, json_object_get(entry, "args"));
		json_decref(entry);
	}
	snprintf(tail, sizeof(tail), "  # A %zu (%lld bytes), C %zu (%lld bytes), D %zu", sum->added,
		 sum->added_bytes, sum->changed, sum->changed_bytes, sum->deleted);
	if (rc || append_text(&line, tail)) {
		free(line);
		return NULL;
	}
	return line;
}

/* Whether the array PREFIX is where ARGS starts. */
static bool starts_with(json_t *args, json_t *prefix)
{
	size_t i;
	json_t *v;

	if (json_array_size(prefix) > json_array_size(args))
		return false;
	json_array_foreach(prefix, i, v)
		if (!json_equal(v, json_array_get(args, i)))
			return false;
	return true;
}

/*
 * As docker commit: the container's process becomes the image's. Its
 * environment but the HOSTNAME the runtime set, its working directory and
 * user, and its command line split at the image's ENTRYPOINT when it starts
 * with it (else all of it is CMD).
 */
static int take_process(json_t *cfg, const struct ins_container *c)
{
	json_t *process = json_object_get(c->config, "process");
	json_t *args = json_object_get(process, "args"), *env = json_array(), *cmd = json_array(), *v;
	const char *cwd = json_string_value(json_object_get(process, "cwd"));
	const char *user = json_string_value(json_object_get(process, "user"));
	size_t i, skip = 0;
	int rc = 0;

	if (!env || !cmd) {
		json_decref(env);
		json_decref(cmd);
		return -1;
	}
	json_array_foreach(json_object_get(process, "env"), i, v)
		if (strncmp(json_string_value(v) ?: "", "HOSTNAME=", 9) != 0)
			rc |= json_array_append(env, v);
	rc |= json_object_set_new(cfg, "Env", env);
	if (starts_with(args, json_object_get(cfg, "Entrypoint")))
		skip = json_array_size(json_object_get(cfg, "Entrypoint"));
	else
		json_object_del(cfg, "Entrypoint");
	json_array_foreach(args, i, v)
		if (i >= skip)
			rc |= json_array_append(cmd, v);
	if (json_array_size(cmd))
		rc |= json_object_set_new(cfg, "Cmd", cmd);
	else {
		json_object_del(cfg, "Cmd");
		json_decref(cmd);
	}
	if (cwd && (strcmp(cwd, "/") != 0 || json_object_get(cfg, "WorkingDir")))
		rc |= json_object_set_new(cfg, "WorkingDir", json_string(cwd));
	if (user && *user)
		rc |= json_object_set_new(cfg, "User", json_string(user));
	return rc ? -1 : 0;
}

/* Appends the commit's history entry, after entries for base layers the history lacks (history pairs with layers in order). */
static int add_history(json_t *config, size_t nlayers, json_t *entry)
{
	json_t *history = json_object_get(config, "history"), *h;
	size_t i, layers = 0;

	if (!json_is_array(history)) {
		history = json_array();
		if (json_object_set_new(config, "history", history) < 0)
			return -1;
	}
	json_array_foreach(history, i, h)
		layers += !json_is_true(json_object_get(h, "empty_layer"));
	for (; layers < nlayers; layers++)
		if (json_array_append_new(history, json_pack("{s:s}", "created_by", "")) < 0)
			return -1;
	return json_array_append_new(history, entry);
}

/* The new image's config: the base image's, the container's process, the new layer, its history, the changes. */
static json_t *new_config(const struct ins_image *base, const struct ins_container *c, const struct ins_commit_opts *o,
			  const struct ins_digest *diff_id, const struct ins_commit_summary *sum,
			  struct ins_error *err)
{
	json_auto_t *config = json_deep_copy(base->config);
	_cleanup_free_ char *by = created_by(c, sum);
	json_t *cfg, *rootfs, *entry;
	char created[32];
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!config || !by)
		return ins_err_sys(err, ENOMEM, "config"), NULL;
	if (!json_is_object(cfg = json_object_get(config, "config")))
		json_object_set_new(config, "config", cfg = json_object());
	if (!json_is_object(rootfs = json_object_get(config, "rootfs")))
		json_object_set_new(config, "rootfs", rootfs = json_pack("{s:s,s:[]}", "type", "layers", "diff_ids"));
	entry = json_pack("{s:s,s:s}", "created", created, "created_by", by);
	if (!cfg || !rootfs || !entry || take_process(cfg, c) < 0 ||
	    json_array_append_new(json_object_get(rootfs, "diff_ids"), json_string(diff_id->s)) < 0 ||
	    json_object_set_new(config, "created", json_string(created)) < 0 ||
	    (o->author && (json_object_set_new(config, "author", json_string(o->author)) < 0 ||
			   json_object_set_new(entry, "author", json_string(o->author)) < 0)) ||
	    (o->message && json_object_set_new(entry, "comment", json_string(o->message)) < 0) ||
	    add_history(config, base->nlayers, entry) < 0)
		return ins_err_sys(err, ENOMEM, "config"), NULL;
	if (ins_config_apply_changes(config, o->changes, o->nchanges, err) < 0)
		return NULL;
	return ins_steal_ptr(config);
}

/* The manifest's layers: the base image's, then the new one. */
static json_t *layer_descriptors(const struct ins_image *base, const struct ins_digest *layer, long long size)
{
	json_t *layers = json_array();

	for (size_t i = 0; layers && i <= base->nlayers; i++) {
		const struct ins_image_layer *l = i < base->nlayers ? &base->layers[i] : NULL;

		if (json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType",
							    l ? l->media_type : INS_MEDIA_LAYER, "digest",
							    l ? l->digest.s : layer->s,
							    "size", (json_int_t)(l ? l->size : size))) < 0) {
			json_decref(layers);
			return NULL;
		}
	}
	return layers;
}

/* Everything but the reading of the container: under the store's lock. */
static int commit_locked(struct ins_store *s, struct committer *k, const struct ins_image *base,
			 const struct ins_container *c, const struct ins_commit_opts *o, struct ins_image *img,
			 struct ins_commit_summary *sum, struct ins_error *err)
{
	enum ins_container_status status = ins_container_status(c);
	struct stat up, store;
	/* Links need the container's files and the layers on one file system (a mount inside CTK_ROOT may part them). */
	bool linked = (status == INS_CONTAINER_EXITED || status == INS_CONTAINER_DEAD) && fstat(k->upper, &up) == 0 &&
		      fstat(s->tmpfd, &store) == 0 && up.st_dev == store.st_dev;
	_cleanup_free_ char *tmp = NULL;
	json_auto_t *config = NULL, *layers = NULL;
	struct ins_digest diff_id;
	struct ins_error ignored;
	int rc = make_layer(s, k, linked, &tmp, &diff_id, err);

	sum->layer_size = k->out.blob.size;
	if (rc == 0)
		rc = layer_install(s, tmp, &diff_id, err);
	if (rc == 0 && !(config = new_config(base, c, o, &diff_id, sum, err)))
		rc = -1;
	if (rc == 0 && !(layers = layer_descriptors(base, &diff_id, sum->layer_size)))
		rc = ins_err_sys(err, ENOMEM, "manifest");
	if (rc == 0)
		rc = image_put(s, config, NULL, 0, layers, o->ref, img, err);
	/* What a failed commit stored is referenced by no image: drop it. */
	if (rc < 0) {
		if (tmp)
			ins_remove_tree_at(s->tmpfd, tmp, &ignored);
		ins_image_gc(s, &ignored);
		return ins_err_prefix(err, "container %.12s", c->id);
	}
	return 0;
}

int ins_container_commit(struct ins_store *s, const struct ins_container *c, const struct ins_commit_opts *o,
			 struct ins_image *img, struct ins_commit_summary *summary, struct ins_error *err)
{
	const char *id = json_string_value(json_object_get(json_object_get(c->config, "image"), "id"));
	struct committer k = { .upper = -1, .parentfd = -1, .out = { .pipe = -1 }, .now = time(NULL) };
	struct ins_commit_summary sum = { 0 };
	struct ins_image base = { 0 };
	char upper[128];
	int rc;

	memset(img, 0, sizeof(*img));
	if (libarchive_load(err) < 0)
		return -1;
	if (!id)
		return ins_err(err, EBADMSG, "container %.12s: its config names no image", c->id);
	/* Its image stays while it exists (ctk image rm refuses), by id whatever became of its name. */
	if (ins_image_load(s, id, &base, err) < 0)
		return ins_err_prefix(err, "container %.12s", c->id);
	snprintf(upper, sizeof(upper), "%s/upper", c->id);
	k.upper = openat(s->containersfd, upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	k.buf = malloc(DATA_CHUNK > 2 * XATTR_BUF ? DATA_CHUNK : 2 * XATTR_BUF);
	k.out.gather = malloc(GATHER_SIZE);
	if (k.upper < 0)
		rc = ins_err_sys(err, errno, "container %.12s: its read-write layer", c->id);
	else if (!k.buf || !k.out.gather)
		rc = ins_err_sys(err, ENOMEM, "container %.12s", c->id);
	else
		rc = ins_container_diff(s, c, &k.ch, &k.n, err);
	if (rc == 0)
		rc = choose(&k, c, o, &sum, err);
	if (rc == 0)
		rc = ins_store_lock(s, err);
	if (rc == 0) {
		rc = commit_locked(s, &k, &base, c, o, img, &sum, err);
		ins_store_unlock(s);
	}
	if (rc == 0 && summary)
		*summary = sum;
	committer_free(&k);
	ins_image_free(&base);
	return rc;
}
