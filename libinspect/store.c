#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/fileio.h"
#include "inspect/store.h"

#define BLOB_FLUSH_CHUNK (8LL << 20)
static const char empty_index[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	"\"manifests\":[]}";

const char *ins_store_default_root(void)
{
	const char *root = getenv("CTK_ROOT");

	return root && *root ? root : INS_STORE_DEFAULT_ROOT;
}

/* mkdir -p: ROOT itself may need its parents. */
static int mkdir_p(const char *path, mode_t mode, struct ins_error *err)
{
	_cleanup_free_ char *copy = strdup(path);

	if (!copy)
		return ins_err_sys(err, ENOMEM, "%s", path);
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return ins_err_sys(err, errno, "%s", copy);
		if (!(*p = c))
			break;
	}
	return 0;
}

static int open_subdir(int dirfd, const char *name, int *fd, struct ins_error *err)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return ins_err_sys(err, errno, "%s", name);
	*fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return ins_err_sys(err, errno, "%s", name);
	return 0;
}

/* Writes NAME with TEXT unless it exists already. */
static int ensure_file(int dirfd, const char *name, const char *text, struct ins_error *err)
{
	if (faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	return ins_write_file_atomic(dirfd, name, text, strlen(text), true, err);
}

static int clear_tmp(struct ins_store *s, struct ins_error *err)
{
	char what[4096], **names;
	size_t n;
	int rc = 0;

	snprintf(what, sizeof(what), "%s/tmp", s->root);
	if (ins_dir_names(s->tmpfd, what, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = ins_remove_tree_at(s->tmpfd, names[i], err);
	ins_names_free(names, n);
	return rc;
}

/*
 * A writer killed in the middle of its work leaves it in tmp/: the first
 * open after it clears that, unless a writer holds the lock (then the work
 * there is its own, and its lock clears the rest).
 */
static void clear_stale_tmp(struct ins_store *s)
{
	struct ins_error ignored;
	char **names;
	size_t n;
	int fd;

	if (ins_dir_names(s->tmpfd, "tmp", &names, &n, &ignored) < 0)
		return;
	ins_names_free(names, n);
	if (n == 0)
		return;
	fd = openat(s->rootfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		clear_tmp(s, &ignored);
	close(fd);
}

int ins_store_open(const char *root, struct ins_store *s, struct ins_error *err)
{
	int blobs_parent = -1, rc;

	*s = (struct ins_store){ .rootfd = -1, .blobsfd = -1, .imagesfd = -1, .layersfd = -1,
				 .containersfd = -1, .volumesfd = -1, .tmpfd = -1, .lockfd = -1 };
	root = root ? root : ins_store_default_root();
	s->root = strdup(root);
	if (!s->root)
		return ins_err_sys(err, ENOMEM, "%s", root);
	rc = mkdir_p(root, 0711, err);
	if (rc == 0 && (s->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = ins_err_sys(err, errno, "%s", root);
	if (rc == 0)
		rc = open_subdir(s->rootfd, "images", &s->imagesfd, err);
	if (rc == 0)
		rc = open_subdir(s->imagesfd, "blobs", &blobs_parent, err);
	if (rc == 0)
		rc = open_subdir(blobs_parent, "sha256", &s->blobsfd, err);
	if (blobs_parent >= 0)
		close(blobs_parent);
	if (rc == 0)
		rc = open_subdir(s->rootfd, "layers", &s->layersfd, err);
	if (rc == 0)
		rc = open_subdir(s->rootfd, "containers", &s->containersfd, err);
	if (rc == 0)
		rc = open_subdir(s->rootfd, "volumes", &s->volumesfd, err);
	if (rc == 0)
		rc = open_subdir(s->rootfd, "tmp", &s->tmpfd, err);
	if (rc == 0)
		rc = ensure_file(s->imagesfd, "oci-layout", INS_OCI_LAYOUT, err);
	if (rc == 0)
		rc = ensure_file(s->imagesfd, "index.json", empty_index, err);
	if (rc == 0)
		clear_stale_tmp(s);
	if (rc < 0) {
		ins_err_prefix(err, "store %s", root);
		ins_store_close(s);
	}
	return rc;
}

void ins_store_close(struct ins_store *s)
{
	ins_closep(&s->rootfd);
	ins_closep(&s->blobsfd);
	ins_closep(&s->imagesfd);
	ins_closep(&s->layersfd);
	ins_closep(&s->containersfd);
	ins_closep(&s->volumesfd);
	ins_closep(&s->tmpfd);
	ins_closep(&s->lockfd);
	free(s->root);
	s->root = NULL;
	s->rootfd = s->blobsfd = s->imagesfd = s->layersfd = s->tmpfd = s->lockfd = -1;
	s->containersfd = s->volumesfd = -1;
}

int ins_store_lock(struct ins_store *s, struct ins_error *err)
{
	if (s->lockfd >= 0)
		return 0;
	s->lockfd = openat(s->rootfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lockfd < 0)
		return ins_err_sys(err, errno, "%s/lock", s->root);
	while (flock(s->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return ins_err_sys(err, errno, "%s/lock", s->root);
	return clear_tmp(s, err);
}

void ins_store_unlock(struct ins_store *s)
{
	ins_closep(&s->lockfd);
	s->lockfd = -1;
}

int ins_blob_begin(struct ins_store *s, struct ins_blob_writer *w, struct ins_error *err)
{
	static unsigned counter;

	*w = (struct ins_blob_writer){ .store = s, .fd = -1 };
	w->hash = ins_hasher_new(err);
	if (!w->hash)
		return -1;
	snprintf(w->tmp, sizeof(w->tmp), "blob-%d-%u", (int)getpid(), counter++);
	w->fd = openat(s->tmpfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (w->fd < 0) {
		ins_hasher_free(w->hash);
		return ins_err_sys(err, errno, "%s/tmp/%s", s->root, w->tmp);
	}
	return 0;
}

int ins_blob_write(struct ins_blob_writer *w, const void *buf, size_t len, struct ins_error *err)
{
	ins_hasher_update(w->hash, buf, len);
	w->size += (long long)len;
	if (ins_write_all(w->fd, buf, len) < 0)
		return ins_err_sys(err, errno, "writing a blob");
	/*
	 * A big blob starts going to disk while it is being written, so that
	 * the fsync at its commit has little left to wait for.
	 */
	if (w->size - w->flushed >= BLOB_FLUSH_CHUNK) {
		sync_file_range(w->fd, w->flushed, w->size - w->flushed, SYNC_FILE_RANGE_WRITE);
		w->flushed = w->size;
	}
	return 0;
}

int ins_blob_copy_fd(struct ins_blob_writer *w, int fd, struct ins_error *err)
{
	char buf[1 << 16];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ins_err_sys(err, errno, "reading");
		if (ins_blob_write(w, buf, (size_t)n, err) < 0)
			return -1;
	}
	return 0;
}

int ins_blob_commit(struct ins_blob_writer *w, const struct ins_digest *expect, const char *what,
		    struct ins_digest *out, long long *size, struct ins_error *err)
{
	struct ins_digest d;
	int rc = 0;

	ins_hasher_final(w->hash, &d);
	if (expect && !ins_digest_equal(expect, &d))
		rc = ins_err(err, EBADMSG, "%s: content is %s, not its digest %s", what, d.s, expect->s);
	else if (fsync(w->fd) < 0)
		rc = ins_err_sys(err, errno, "%s", what);
	else if (renameat(w->store->tmpfd, w->tmp, w->store->blobsfd, ins_digest_hex(&d)) < 0)
		rc = ins_err_sys(err, errno, "%s", what);
	else if (fsync(w->store->blobsfd) < 0)
		rc = ins_err_sys(err, errno, "%s: fsync of the blobs directory", what);
	if (rc == 0) {
		if (out)
			*out = d;
		if (size)
			*size = w->size;
		w->tmp[0] = '\0'; /* renamed: nothing left to remove */
	}
	ins_blob_abort(w);
	return rc;
}

void ins_blob_abort(struct ins_blob_writer *w)
{
	if (w->tmp[0])
		unlinkat(w->store->tmpfd, w->tmp, 0);
	w->tmp[0] = '\0';
	ins_closep(&w->fd);
	w->fd = -1;
	ins_hasher_free(w->hash);
	w->hash = NULL;
}

int ins_store_put(struct ins_store *s, const void *buf, size_t len, struct ins_digest *out,
		  struct ins_error *err)
{
	struct ins_blob_writer w;

	if (ins_blob_begin(s, &w, err) < 0)
		return -1;
	if (ins_blob_write(&w, buf, len, err) < 0) {
		ins_blob_abort(&w);
		return -1;
	}
	return ins_blob_commit(&w, NULL, "blob", out, NULL, err);
}

bool ins_store_has_blob(struct ins_store *s, const struct ins_digest *d)
{
	return faccessat(s->blobsfd, ins_digest_hex(d), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int ins_store_open_blob(struct ins_store *s, const struct ins_digest *d, struct ins_error *err)
{
	int fd = openat(s->blobsfd, ins_digest_hex(d), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return ins_err_sys(err, errno, "blob %s", d->s);
	return fd;
}

json_t *ins_store_read_json(struct ins_store *s, const struct ins_digest *d, struct ins_error *err)
{
	size_t len;
	_cleanup_free_ char *text = ins_read_file_at(s->blobsfd, ins_digest_hex(d), &len, err);
	json_error_t je;
	json_t *doc;

	if (!text)
		return ins_err_prefix(err, "blob %s", d->s), NULL;
	doc = json_loadb(text, len, 0, &je);
	if (!doc)
		ins_err(err, EBADMSG, "blob %s: not JSON: %s", d->s, je.text);
	return doc;
}

int ins_store_put_json(struct ins_store *s, json_t *doc, struct ins_digest *out, long long *size,
		       struct ins_error *err)
{
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (!text)
		return ins_err_sys(err, ENOMEM, "JSON document");
	if (size)
		*size = (long long)strlen(text);
	return ins_store_put(s, text, strlen(text), out, err);
}

json_t *ins_read_json_at(int dirfd, const char *path, struct ins_error *err)
{
	size_t len;
	_cleanup_free_ char *text = ins_read_file_at(dirfd, path, &len, err);
	json_error_t je;
	json_t *doc;

	if (!text)
		return NULL;
	doc = json_loadb(text, len, 0, &je);
	if (!doc)
		ins_err(err, EBADMSG, "%s: not JSON: %s", path, je.text);
	return doc;
}

int ins_write_json_at(int dirfd, const char *name, json_t *doc, bool durable, struct ins_error *err)
{
	_cleanup_free_ char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (!text)
		return ins_err_sys(err, ENOMEM, "%s", name);
	return ins_write_file_atomic(dirfd, name, text, strlen(text), durable, err);
}

json_t *ins_store_read_index(struct ins_store *s, struct ins_error *err)
{
	json_t *index = ins_read_json_at(s->imagesfd, "index.json", err);

	if (!index)
		return ins_err_prefix(err, "%s/images", s->root), NULL;
	if (!json_is_array(json_object_get(index, "manifests"))) {
		json_decref(index);
		return ins_err(err, EBADMSG, "%s/images/index.json: not an OCI index", s->root), NULL;
	}
	return index;
}

/*
 * The new index is written in tmp/ (where a writer killed before the rename
 * leaves nothing that the next store open does not clear), fsync'd, renamed
 * over images/index.json, and images/ fsync'd.
 */
int ins_store_write_index(struct ins_store *s, json_t *index, struct ins_error *err)
{
	_cleanup_free_ char *text = json_dumps(index, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char tmp[64];

	if (!text)
		return ins_err_sys(err, ENOMEM, "index.json");
	snprintf(tmp, sizeof(tmp), "index-%d.json", (int)getpid());
	if (ins_write_file_atomic(s->tmpfd, tmp, text, strlen(text), true, err) < 0)
		return ins_err_prefix(err, "%s/tmp", s->root);
	if (renameat(s->tmpfd, tmp, s->imagesfd, "index.json") < 0) {
		int code = errno;

		unlinkat(s->tmpfd, tmp, 0);
		return ins_err_sys(err, code, "%s/images/index.json", s->root);
	}
	if (fsync(s->imagesfd) < 0)
		return ins_err_sys(err, errno, "%s/images: fsync", s->root);
	return 0;
}

int ins_store_mktemp_dir(struct ins_store *s, char **name, struct ins_error *err)
{
	static unsigned counter;
	char buf[64];
	int fd;

	for (;;) {
		snprintf(buf, sizeof(buf), "dir-%d-%u", (int)getpid(), counter++);
		if (mkdirat(s->tmpfd, buf, 0700) == 0)
			break;
		if (errno != EEXIST)
			return ins_err_sys(err, errno, "%s/tmp/%s", s->root, buf);
	}
	fd = openat(s->tmpfd, buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ins_err_sys(err, errno, "%s/tmp/%s", s->root, buf);
	*name = strdup(buf);
	if (!*name) {
		close(fd);
		return ins_err_sys(err, ENOMEM, "%s", buf);
	}
	return fd;
}
