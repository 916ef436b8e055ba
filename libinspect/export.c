/*
 * Image export, the inverse of import: an image of the store becomes a
 * `docker save` archive or an oci-archive. Every blob is streamed from the
 * store into the tar; nothing larger than a buffer is held in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archivelib.h"
#include "inspect/cleanup.h"
#include "inspect/image.h"

#define COPY_BUF (1 << 16)

/*
 * An image with its blobs open: a `ctk image rm` running meanwhile may
 * unlink them, the open files stay readable until the export is done.
 */
struct pinned {
	struct ins_image img;
	const char *ref; /* the name the archive gives the image, or NULL */
	int manifest, config;
	int *layers; /* one per img.layers */
};

static void unpin(struct pinned *p)
{
	ins_closep(&p->manifest);
	ins_closep(&p->config);
	for (size_t i = 0; p->layers && i < p->img.nlayers; i++)
		ins_closep(&p->layers[i]);
	free(p->layers);
	ins_image_free(&p->img);
}

static int pin(struct ins_store *s, const char *name, struct pinned *p, struct ins_error *err)
{
	_cleanup_free_ char *ref = ins_ref_normalize(name);
	int rc;

	*p = (struct pinned){ .manifest = -1, .config = -1 };
	if (!ref)
		return ins_err_sys(err, ENOMEM, "%s", name);
	/* Under the lock no rm can take a blob between the image's lookup and the opening of its blobs. */
	if (ins_store_lock(s, err) < 0)
		return -1;
	rc = ins_image_load(s, name, &p->img, err);
	if (rc == 0 && !(p->layers = malloc((p->img.nlayers + 1) * sizeof(*p->layers))))
		rc = ins_err_sys(err, ENOMEM, "%s", name);
	for (size_t i = 0; rc == 0 && i < p->img.nlayers; i++)
		p->layers[i] = -1;
	if (rc == 0 && ((p->manifest = ins_store_open_blob(s, &p->img.manifest, err)) < 0 ||
			(p->config = ins_store_open_blob(s, &p->img.id, err)) < 0))
		rc = -1;
	for (size_t i = 0; rc == 0 && i < p->img.nlayers; i++)
		if ((p->layers[i] = ins_store_open_blob(s, &p->img.layers[i].digest, err)) < 0)
			rc = ins_err_prefix(err, "%s, layer %zu", name, i + 1);
	ins_store_unlock(s);
	if (rc < 0) {
		unpin(p);
		return -1;
	}
	/* As with docker save, a name names the image in the archive, an id does not. */
	p->ref = p->img.ref && strcmp(p->img.ref, ref) == 0 ? p->img.ref : NULL;
	return 0;
}

/* The tag of REF ("latest" of "busybox:latest"), or NULL for a reference by digest. */
static const char *ref_tag(const char *ref)
{
	const char *last = strrchr(ref, '/'), *colon;

	colon = strrchr(last ? last : ref, ':');
	return colon && !strchr(ref, '@') ? colon + 1 : NULL;
}

/* The tar being written. */
struct tar {
	struct archive *a;
	struct archive_entry *e;
};

/* libarchive's reason ("Write error"), with the errno behind it ("No space left on device"). */
static int tar_fail(struct tar *t, const char *path, struct ins_error *err)
{
	int code = libarchive.archive_errno(t->a);
	const char *why = libarchive.archive_error_string(t->a);

	if (code > 0)
		return ins_err_sys(err, code, "%s: %s", path, why ? why : "cannot write");
	return ins_err(err, EIO, "%s: %s", path, why ? why : "cannot write");
}

static int tar_open(struct tar *t, int fd, struct ins_error *err)
{
	t->a = libarchive.archive_write_new();
	t->e = libarchive.archive_entry_new();
	if (!t->a || !t->e)
		return ins_err_sys(err, ENOMEM, "archive");
	/*
	 * ustar headers, and pax ones only for what ustar cannot hold (a layer
	 * over 8 GiB); no padding of the last block, which libarchive would add
	 * on a pipe only: the same bytes wherever they go.
	 */
	if (libarchive.archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    libarchive.archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    libarchive.archive_write_open_fd(t->a, fd) != ARCHIVE_OK)
		return tar_fail(t, "archive", err);
	return 0;
}

/* Finishes the archive: its end blocks, and the error of the last buffered write if any. */
static int tar_close(struct tar *t, int rc, struct ins_error *err)
{
	if (rc == 0 && libarchive.archive_write_close(t->a) != ARCHIVE_OK)
		rc = tar_fail(t, "end of archive", err);
	if (t->a)
		libarchive.archive_write_free(t->a);
	if (t->e)
		libarchive.archive_entry_free(t->e);
	return rc;
}

/*
 * Starts the entry PATH: a directory, or a file of SIZE bytes. Every entry
 * is root's and from 1970, so one image always gives the same archive.
 */
static int tar_entry(struct tar *t, const char *path, bool dir, long long size, struct ins_error *err)
{
	libarchive.archive_entry_clear(t->e);
	libarchive.archive_entry_set_pathname(t->e, path);
	libarchive.archive_entry_set_filetype(t->e, dir ? AE_IFDIR : AE_IFREG);
	libarchive.archive_entry_set_perm(t->e, dir ? 0755 : 0644);
	libarchive.archive_entry_set_size(t->e, dir ? 0 : size);
	libarchive.archive_entry_set_mtime(t->e, 0, 0);
	if (libarchive.archive_write_header(t->a, t->e) != ARCHIVE_OK)
		return tar_fail(t, path, err);
	return 0;
}

static int tar_data(struct tar *t, const char *path, const void *buf, size_t len, struct ins_error *err)
{
	const char *p = buf;

	while (len) {
		la_ssize_t n = libarchive.archive_write_data(t->a, p, len);

		/* More than the header's size is refused, and 0 returned. */
		if (n <= 0)
			return tar_fail(t, path, err);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int tar_file(struct tar *t, const char *path, const void *buf, size_t len, struct ins_error *err)
{
	if (tar_entry(t, path, false, (long long)len, err) < 0)
		return -1;
	return tar_data(t, path, buf, len, err);
}

static int tar_json(struct tar *t, const char *path, json_t *doc, struct ins_error *err)
{
	_cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (!text)
		return ins_err_sys(err, ENOMEM, "%s", path);
	return tar_file(t, path, text, strlen(text), err);
}

/* The whole file FD (a blob: its bytes as stored) as the entry PATH. */
static int tar_blob(struct tar *t, const char *path, int fd, struct ins_error *err)
{
	char buf[COPY_BUF];
	struct stat st;
	off_t off = 0;

	if (fstat(fd, &st) < 0)
		return ins_err_sys(err, errno, "%s", path);
	if (tar_entry(t, path, false, st.st_size, err) < 0)
		return -1;
	while (off < st.st_size) {
		size_t want = st.st_size - off < COPY_BUF ? (size_t)(st.st_size - off) : COPY_BUF;
		ssize_t n = pread(fd, buf, want, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ins_err_sys(err, errno, "%s", path);
		/* The header has promised the size: a blob that shrank cannot be padded over. */
		if (n == 0)
			return ins_err(err, EIO, "%s: the blob shrank while it was read", path);
		if (tar_data(t, path, buf, (size_t)n, err) < 0)
			return -1;
		off += n;
	}
	return 0;
}

typedef int sink_fn(void *arg, const void *buf, size_t len, struct ins_error *err);

/* Feeds the uncompressed content of the layer blob FD (gzip'd, zstd'd...) to SINK. */
static int uncompress(int fd, const char *what, sink_fn *sink, void *arg, struct ins_error *err)
{
	struct archive *a = libarchive.archive_read_new();
	struct archive_entry *e;
	char buf[COPY_BUF];
	la_ssize_t n = 0;
	int rc = 0;

	if (!a)
		return ins_err_sys(err, ENOMEM, "%s", what);
	libarchive.archive_read_support_filter_all(a);
	libarchive.archive_read_support_format_raw(a);
	if (lseek(fd, 0, SEEK_SET) < 0)
		rc = ins_err_sys(err, errno, "%s", what);
	else if (libarchive.archive_read_open_fd(a, fd, COPY_BUF) != ARCHIVE_OK ||
		 libarchive.archive_read_next_header(a, &e) != ARCHIVE_OK)
		rc = ins_err(err, EBADMSG, "%s: %s", what, libarchive.archive_error_string(a));
	while (rc == 0 && (n = libarchive.archive_read_data(a, buf, sizeof(buf))) > 0)
		rc = sink(arg, buf, (size_t)n, err);
	if (rc == 0 && n < 0)
		rc = ins_err(err, EBADMSG, "%s: %s", what, libarchive.archive_error_string(a));
	libarchive.archive_read_free(a);
	return rc;
}

static int count_bytes(void *arg, const void *buf, size_t len, struct ins_error *err)
{
	(void)buf;
	(void)err;
	*(long long *)arg += (long long)len;
	return 0;
}

/* An entry being filled with LEFT more bytes. */
struct entry_sink {
	struct tar *t;
	const char *path;
	long long left;
};

static int write_bytes(void *arg, const void *buf, size_t len, struct ins_error *err)
{
	struct entry_sink *s = arg;

	if ((long long)len > s->left)
		return ins_err(err, EIO, "%s: longer the second time it was decompressed", s->path);
	s->left -= (long long)len;
	return tar_data(s->t, s->path, buf, len, err);
}

/*
 * The layer L (blob FD) as docker save has it: an uncompressed tar, whose
 * digest is its diff-id (docker load checks that it is).
 */
static int tar_layer(struct tar *t, const char *path, const struct ins_image_layer *l, int fd,
		     struct ins_error *err)
{
	struct entry_sink sink = { .t = t, .path = path };
	long long size = 0;

	if (strcmp(l->media_type, INS_MEDIA_LAYER) == 0)
		return tar_blob(t, path, fd, err);
	/*
	 * A tar header comes before the data and holds its size, known only
	 * once decompressed: one pass counts, the second writes. (Decompressing
	 * twice costs less than a temporary copy the size of the layer.)
	 */
	if (uncompress(fd, l->digest.s, count_bytes, &size, err) < 0 ||
	    tar_entry(t, path, false, size, err) < 0)
		return -1;
	sink.left = size;
	if (uncompress(fd, l->digest.s, write_bytes, &sink, err) < 0)
		return -1;
	if (sink.left)
		return ins_err(err, EIO, "%s: shorter the second time it was decompressed", path);
	return 0;
}

/*
 * OCI's chain id of a layer: its diff-id for the first, else the digest of
 * "<chain id below> <diff-id>". It names docker save's layer directories
 * here: unique per position even when two layers have the same content.
 */
static int chain_id(const struct ins_digest *below, const struct ins_digest *diff_id,
		    struct ins_digest *out, struct ins_error *err)
{
	char text[2 * INS_DIGEST_LEN + 2];

	if (!below) {
		*out = *diff_id;
		return 0;
	}
	snprintf(text, sizeof(text), "%s %s", below->s, diff_id->s);
	return ins_digest_buffer(text, strlen(text), out, err);
}

/* One layer directory of docker save's: VERSION, json (its v1 id and parent's) and layer.tar. */
static int docker_layer(struct tar *t, const struct pinned *p, size_t i, const struct ins_digest *below,
			const struct ins_digest *chain, json_t *paths, struct ins_error *err)
{
	const char *hex = ins_digest_hex(chain);
	char path[INS_DIGEST_LEN + 16];
	json_auto_t *v1 = json_pack("{s:s}", "id", hex);

	if (!v1 || (below && json_object_set_new(v1, "parent", json_string(ins_digest_hex(below))) < 0))
		return ins_err_sys(err, ENOMEM, "layer %zu", i + 1);
	snprintf(path, sizeof(path), "%s/", hex);
	if (tar_entry(t, path, true, 0, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/VERSION", hex);
	if (tar_file(t, path, "1.0", 3, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/json", hex);
	if (tar_json(t, path, v1, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/layer.tar", hex);
	if (tar_layer(t, path, &p->img.layers[i], p->layers[i], err) < 0)
		return -1;
	return json_array_append_new(paths, json_string(path)) < 0 ? ins_err_sys(err, ENOMEM, "manifest.json") : 0;
}

/*
 * A `docker save` archive in the layout docker wrote before version 25,
 * which every docker load and podman load reads: the layer directories,
 * <config hex>.json (the config as stored: the image id stays), manifest.json
 * and repositories.
 */
static int write_docker(struct tar *t, const struct pinned *p, struct ins_error *err)
{
	const char *tag = p->ref ? ref_tag(p->ref) : NULL;
	json_auto_t *paths = json_array(), *manifest = NULL;
	struct ins_digest chain, below;
	char config[INS_DIGEST_LEN + 8];

	if (!paths)
		return ins_err_sys(err, ENOMEM, "manifest.json");
	for (size_t i = 0; i < p->img.nlayers; i++) {
		if (i)
			below = chain;
		if (chain_id(i ? &below : NULL, &p->img.layers[i].diff_id, &chain, err) < 0 ||
		    docker_layer(t, p, i, i ? &below : NULL, &chain, paths, err) < 0)
			return -1;
	}
	snprintf(config, sizeof(config), "%s.json", ins_digest_hex(&p->img.id));
	if (tar_blob(t, config, p->config, err) < 0)
		return -1;
	/* docker names an image by tag only; one named by digest goes unnamed (RepoTags null). */
	manifest = json_pack("[{s:s,s:o,s:O}]", "Config", config, "RepoTags",
			     tag ? json_pack("[s]", p->ref) : json_null(), "Layers", paths);
	if (tar_json(t, "manifest.json", manifest, err) < 0)
		return -1;
	if (!tag || !p->img.nlayers)
		return 0;
	{
		_cleanup_free_ char *repo = strndup(p->ref, (size_t)(tag - 1 - p->ref));
		json_auto_t *repositories =
			repo ? json_pack("{s:{s:s}}", repo, tag, ins_digest_hex(&chain)) : NULL;

		return tar_json(t, "repositories", repositories, err);
	}
}

/* The blob D (open at FD) under blobs/sha256/. */
static int oci_blob(struct tar *t, const struct ins_digest *d, int fd, struct ins_error *err)
{
	char path[INS_DIGEST_LEN + 16];

	snprintf(path, sizeof(path), "blobs/sha256/%s", ins_digest_hex(d));
	return tar_blob(t, path, fd, err);
}

/* index.json of the archive: the manifest's descriptor, with the image's name. */
static json_t *oci_index(const struct pinned *p, struct ins_error *err)
{
	const char *tag = p->ref ? ref_tag(p->ref) : NULL;
	json_t *desc, *ann;
	struct stat st;

	if (fstat(p->manifest, &st) < 0)
		return ins_err_sys(err, errno, "manifest %s", p->img.manifest.s), NULL;
	desc = json_pack("{s:s,s:s,s:I}", "mediaType", INS_MEDIA_MANIFEST, "digest", p->img.manifest.s,
			 "size", (json_int_t)st.st_size);
	/*
	 * ref.name holds the tag, as the OCI spec and skopeo have it; the full
	 * name goes where containerd writes it and podman load and ctk import
	 * look first.
	 */
	ann = p->ref ? json_pack("{s:s}", "io.containerd.image.name", p->ref) : NULL;
	if (ann && tag)
		json_object_set_new(ann, INS_REF_ANNOTATION, json_string(tag));
	if (desc && ann)
		json_object_set_new(desc, "annotations", ann);
	if (!desc || (p->ref && !ann)) {
		json_decref(desc);
		return ins_err_sys(err, ENOMEM, "index.json"), NULL;
	}
	return json_pack("{s:i,s:s,s:[o]}", "schemaVersion", 2, "mediaType", INS_MEDIA_INDEX, "manifests",
			 desc);
}

/* An oci-archive: an OCI image layout (oci-layout, index.json, blobs/sha256/) as a tar. */
static int write_oci(struct tar *t, const struct pinned *p, struct ins_error *err)
{
	json_auto_t *index = oci_index(p, err);

	if (!index || tar_file(t, "oci-layout", INS_OCI_LAYOUT, strlen(INS_OCI_LAYOUT), err) < 0 ||
	    tar_json(t, "index.json", index, err) < 0 || tar_entry(t, "blobs/", true, 0, err) < 0 ||
	    tar_entry(t, "blobs/sha256/", true, 0, err) < 0 ||
	    oci_blob(t, &p->img.manifest, p->manifest, err) < 0 ||
	    oci_blob(t, &p->img.id, p->config, err) < 0)
		return -1;
	for (size_t i = 0; i < p->img.nlayers; i++) {
		bool seen = false;

		/* Two layers with one blob: the blob goes in once. */
		for (size_t j = 0; j < i && !seen; j++)
			seen = ins_digest_equal(&p->img.layers[i].digest, &p->img.layers[j].digest);
		if (!seen && oci_blob(t, &p->img.layers[i].digest, p->layers[i], err) < 0)
			return -1;
	}
	return 0;
}

static int write_archive(const struct pinned *p, enum ins_export_format format, int fd,
			 struct ins_error *err)
{
	struct tar t = { 0 };
	int rc = tar_open(&t, fd, err);

	if (rc == 0)
		rc = format == INS_EXPORT_OCI ? write_oci(&t, p, err) : write_docker(&t, p, err);
	return tar_close(&t, rc, err);
}

int ins_image_export_fd(struct ins_store *s, const char *name, enum ins_export_format format,
			int fd, struct ins_error *err)
{
	struct pinned p;
	int rc;

	if (libarchive_load(err) < 0 || pin(s, name, &p, err) < 0)
		return -1;
	rc = write_archive(&p, format, fd, err);
	unpin(&p);
	return rc;
}

/*
 * The file an export goes to: unnamed (O_TMPFILE) until complete, or, on a
 * file system without unnamed files, a temporary name in the same directory.
 */
struct out {
	const char *path;
	char *base; /* PATH's last component */
	int dir, fd;
	char tmp[64]; /* the temporary name, "" while there is none */
};

static void out_close(struct out *o)
{
	if (o->tmp[0])
		unlinkat(o->dir, o->tmp, 0);
	ins_closep(&o->fd);
	ins_closep(&o->dir);
	free(o->base);
}

static int create_temp(struct out *o)
{
	o->fd = openat(o->dir, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
	return o->fd < 0 ? -1 : 0;
}

static int link_temp(struct out *o)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	return linkat(AT_FDCWD, proc, o->dir, o->tmp, AT_SYMLINK_FOLLOW);
}

/* Gives the output a temporary name in its directory: MAKE creates it, retried while a name is taken. */
static int name_temp(struct out *o, int (*make)(struct out *), struct ins_error *err)
{
	static unsigned counter;

	for (;;) {
		snprintf(o->tmp, sizeof(o->tmp), ".ctk-export-%d-%u", (int)getpid(), counter++);
		if (make(o) == 0)
			return 0;
		if (errno != EEXIST) {
			o->tmp[0] = '\0';
			return ins_err_sys(err, errno, "%s: a temporary file beside it", o->path);
		}
	}
}

static int out_open(struct out *o, const char *path, bool force, struct ins_error *err)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	const char *base = slash ? slash + 1 : dir;

	*o = (struct out){ .path = path, .dir = -1, .fd = -1 };
	if (!dir || !(o->base = strdup(base)))
		return ins_err_sys(err, ENOMEM, "%s", path);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return ins_err(err, EISDIR, "%s: not a file name", path);
	if (slash)
		slash[slash == dir] = '\0'; /* "/x" is in "/" */
	o->dir = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dir < 0)
		return ins_err_sys(err, errno, "%s", slash ? dir : ".");
	/* Said before the archive is written (the link at the end checks again, without a race). */
	if (!force && faccessat(o->dir, o->base, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return ins_err(err, EEXIST, "%s: already exists", path);
	/* Mode 0666 less the umask, as a file made by docker save -o or cp. */
	o->fd = openat(o->dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
	if (o->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR))
		return name_temp(o, create_temp, err);
	if (o->fd < 0)
		return ins_err_sys(err, errno, "%s", path);
	return 0;
}

/* Gives the complete file its name: links it (never replacing a file) or, with FORCE, renames it over. */
static int out_commit(struct out *o, bool force, struct ins_error *err)
{
	char proc[64];
	int r = 0;

	if (fsync(o->fd) < 0)
		return ins_err_sys(err, errno, "%s", o->path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	if (!o->tmp[0] && !force)
		r = linkat(AT_FDCWD, proc, o->dir, o->base, AT_SYMLINK_FOLLOW);
	else if (!o->tmp[0] && name_temp(o, link_temp, err) < 0)
		return -1;
	if (o->tmp[0])
		r = force ? renameat(o->dir, o->tmp, o->dir, o->base)
			  : linkat(o->dir, o->tmp, o->dir, o->base, 0);
	if (r < 0)
		return ins_err_sys(err, errno, "%s", o->path);
	/* A renamed temporary name is gone; a linked one out_close removes. */
	if (force)
		o->tmp[0] = '\0';
	if (fsync(o->dir) < 0)
		return ins_err_sys(err, errno, "%s: fsync of its directory", o->path);
	return 0;
}

int ins_image_export(struct ins_store *s, const char *name, enum ins_export_format format,
		     const char *path, bool force, struct ins_error *err)
{
	struct pinned p;
	struct out o;
	int rc;

	if (libarchive_load(err) < 0 || pin(s, name, &p, err) < 0)
		return -1;
	rc = out_open(&o, path, force, err);
	if (rc == 0 && write_archive(&p, format, o.fd, err) < 0)
		rc = ins_err_prefix(err, "%s", path);
	if (rc == 0)
		rc = out_commit(&o, force, err);
	out_close(&o);
	unpin(&p);
	return rc;
}
