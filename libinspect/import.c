/*
 * Image import: `docker save` archives, OCI layouts (directory or archive)
 * and plain rootfs tarballs all become an OCI image in the store, every
 * blob verified against its digest and every layer unpacked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "archivelib.h"
#include "inspect/cleanup.h"
#include "inspect/fileio.h"
#include "inspect/image.h"
#include "inspect/unpack.h"
#include "imagestore.h"

enum src_kind { SRC_DOCKER, SRC_OCI, SRC_ROOTFS };

/* What an import gathers before it stores the result. */
struct import {
	struct ins_store *store;
	const struct ins_import_opts *opts;
	const char *src;
	json_t *config; /* the image config */
	struct ins_digest config_digest; /* of the source's config, stored as it is */
	long long config_size;
	json_t *layers; /* the manifest's layer descriptors */
	char *ref; /* the source's own name for the image, if any */
};

/* "2026-11-28T02:39:03Z" for now. */
static void now_rfc3339(char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The OCI name of this machine's architecture. */
static const char *oci_arch(void)
{
	static const struct {
		const char *uname, *oci;
	} map[] = { { "x86_64", "amd64" },   { "aarch64", "arm64" }, { "armv7l", "arm" },
		    { "i686", "386" },       { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		    { "riscv64", "riscv64" } };
	static struct utsname u;

	if (uname(&u) == 0)
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strcmp(u.machine, map[i].uname) == 0)
				return map[i].oci;
	return u.machine;
}

/* Sorts the archive SRC by the names it holds (headers only: no data is read). */
static int classify_archive(const char *src, int fd, enum src_kind *kind, struct ins_error *err)
{
	struct archive *a = libarchive.archive_read_new();
	struct archive_entry *e;
	bool manifest = false, layout = false, index = false;
	int r;

	if (!a)
		return ins_err_sys(err, ENOMEM, "%s", src);
	libarchive.archive_read_support_filter_all(a);
	libarchive.archive_read_support_format_tar(a);
	r = libarchive.archive_read_open_fd(a, fd, 1 << 16);
	while (r == ARCHIVE_OK && (r = libarchive.archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = libarchive.archive_entry_pathname(e);

		name += name && strncmp(name, "./", 2) == 0 ? 2 : 0;
		manifest |= name && strcmp(name, "manifest.json") == 0;
		layout |= name && strcmp(name, "oci-layout") == 0;
		index |= name && strcmp(name, "index.json") == 0;
	}
	if (r != ARCHIVE_EOF)
		ins_err(err, EINVAL, "%s: not a tar archive: %s", src, libarchive.archive_error_string(a));
	libarchive.archive_read_free(a);
	if (r != ARCHIVE_EOF)
		return -1;
	*kind = layout && index ? SRC_OCI : manifest ? SRC_DOCKER : SRC_ROOTFS;
	return 0;
}

/* Reads the JSON file PATH below DIR; DIGEST (if set) gets the digest of its bytes. */
static json_t *read_json_beneath(int dir, const char *path, struct ins_digest *digest,
				 struct ins_error *err)
{
	_cleanup_close_ int fd = ins_open_beneath(dir, path, O_RDONLY, err);
	_cleanup_free_ char *text = NULL;
	json_error_t je;
	size_t len;
	json_t *doc;

	if (fd < 0)
		return NULL;
	text = ins_read_fd(fd, &len, err);
	if (!text)
		return ins_err_prefix(err, "%s", path), NULL;
	if (digest && ins_digest_buffer(text, len, digest, err) < 0)
		return NULL;
	doc = json_loadb(text, len, 0, &je);
	if (!doc)
		ins_err(err, EBADMSG, "%s: not JSON: %s (line %d)", path, je.text, je.line);
	return doc;
}

/* The media type of a layer blob, from its first bytes: a tar, gzip'd, zstd'd or not at all. */
static int layer_media_type(int fd, const char **type, struct ins_error *err)
{
	unsigned char head[512] = { 0 };
	ssize_t n = pread(fd, head, sizeof(head), 0);
	static const unsigned char zero[512];

	if (n < 0)
		return ins_err_sys(err, errno, "layer");
	if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
		*type = INS_MEDIA_LAYER_GZIP;
	else if (n >= 4 && memcmp(head, "\x28\xb5\x2f\xfd", 4) == 0)
		*type = INS_MEDIA_LAYER "+zstd";
	/* A plain tar: "ustar" at offset 257, or an empty archive's zero block. */
	else if (n == 512 && (memcmp(head + 257, "ustar", 5) == 0 || memcmp(head, zero, 512) == 0))
		*type = INS_MEDIA_LAYER;
	else
		return ins_err(err, ENOTSUP,
			       "not a tar, a gzip'd tar or a zstd'd tar (the compressions OCI layers have)");
	return 0;
}

int layer_install(struct ins_store *s, const char *tmp, const struct ins_digest *diff_id,
		  struct ins_error *err)
{
	struct ins_error ignored;

	if (renameat(s->tmpfd, tmp, s->layersfd, ins_digest_hex(diff_id)) < 0) {
		/* Already unpacked (the same content under another blob): ours goes. */
		if (errno != ENOTEMPTY && errno != EEXIST)
			return ins_err_sys(err, errno, "layer %s", diff_id->s);
		ins_remove_tree_at(s->tmpfd, tmp, &ignored);
		return 0;
	}
	if (fsync(s->layersfd) < 0)
		return ins_err_sys(err, errno, "layers");
	return 0;
}

int layer_unpack(struct ins_store *s, const struct ins_digest *layer, const struct ins_digest *expect,
		 struct ins_digest *diff_id, struct ins_error *err)
{
	_cleanup_close_ int blob = -1, dir = -1;
	_cleanup_free_ char *tmp = NULL;
	struct ins_error ignored;
	struct ins_digest got;
	int rc = 0;

	if (expect && faccessat(s->layersfd, ins_digest_hex(expect), F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		*diff_id = *expect;
		return 0;
	}
	blob = ins_store_open_blob(s, layer, err);
	if (blob < 0 || (dir = ins_store_mktemp_dir(s, &tmp, err)) < 0)
		return -1;
	/* A layer without a root entry still needs a root others can enter. */
	if (fchmod(dir, 0755) < 0)
		rc = ins_err_sys(err, errno, "layer %s", layer->s);
	else if (ins_unpack(blob, dir, INS_UNPACK_LAYER, &got, err) < 0)
		rc = ins_err_prefix(err, "layer %s", layer->s);
	else if (expect && !ins_digest_equal(expect, &got))
		rc = ins_err(err, EBADMSG, "layer %s: its content is %s, the config says %s", layer->s,
			     got.s, expect->s);
	else
		rc = layer_install(s, tmp, &got, err);
	if (rc < 0) {
		/* A refused layer leaves nothing behind, not even in tmp/. */
		ins_remove_tree_at(s->tmpfd, tmp, &ignored);
		return -1;
	}
	*diff_id = got;
	return 0;
}

/* Copies the blob at PATH below DIR into the store, checked against EXPECT when given. */
static int copy_blob(struct ins_store *s, int dir, const char *path, const struct ins_digest *expect,
		     const char *what, struct ins_digest *out, long long *size, struct ins_error *err)
{
	_cleanup_close_ int fd = ins_open_beneath(dir, path, O_RDONLY, err);
	struct ins_blob_writer w;

	if (fd < 0 || ins_blob_begin(s, &w, err) < 0)
		return fd < 0 ? ins_err_prefix(err, "%s", what) : -1;
	if (ins_blob_copy_fd(&w, fd, err) < 0) {
		ins_blob_abort(&w);
		return ins_err_prefix(err, "%s", what);
	}
	return ins_blob_commit(&w, expect, what, out, size, err);
}

/* Appends a layer descriptor to the manifest being built. */
static int add_layer(struct import *im, const char *type, const struct ins_digest *d,
		     long long size, struct ins_error *err)
{
	json_t *desc = json_pack("{s:s,s:s,s:I}", "mediaType", type, "digest", d->s, "size",
				 (json_int_t)size);

	if (!desc || json_array_append_new(im->layers, desc) < 0)
		return ins_err_sys(err, ENOMEM, "manifest");
	return 0;
}

/*
 * Stores the layer blob at PATH below DIR (its digest BLOB when known) and
 * unpacks it; its uncompressed content must be DIFF_ID.
 */
static int import_layer(struct import *im, int dir, const char *path, const struct ins_digest *blob,
			const struct ins_digest *diff_id, size_t index, struct ins_error *err)
{
	char what[300];
	struct ins_digest d, got;
	struct ins_blob_writer w;
	long long size;
	const char *type;
	_cleanup_close_ int fd = ins_open_beneath(dir, path, O_RDONLY, err);

	snprintf(what, sizeof(what), "layer %zu (%s)", index + 1, path);
	if (fd < 0 || layer_media_type(fd, &type, err) < 0)
		return ins_err_prefix(err, "%s", what);
	/* An uncompressed layer is its own diff-id: check it before it gets a name. */
	if (!blob && strcmp(type, INS_MEDIA_LAYER) == 0)
		blob = diff_id;
	if (ins_blob_begin(im->store, &w, err) < 0)
		return -1;
	if (ins_blob_copy_fd(&w, fd, err) < 0) {
		ins_blob_abort(&w);
		return ins_err_prefix(err, "%s", what);
	}
	if (ins_blob_commit(&w, blob, what, &d, &size, err) < 0)
		return -1;
	if (layer_unpack(im->store, &d, diff_id, &got, err) < 0)
		return ins_err_prefix(err, "%s", what);
	return add_layer(im, type, &d, size, err);
}

/* Stores the source's config (at PATH below DIR) as it is, and parses it. */
static int import_config(struct import *im, int dir, const char *path,
			 const struct ins_digest *expect, struct ins_error *err)
{
	if (copy_blob(im->store, dir, path, expect, "config", &im->config_digest, &im->config_size,
		      err) < 0)
		return -1;
	im->config = ins_store_read_json(im->store, &im->config_digest, err);
	return im->config ? 0 : -1;
}

/* The descriptor's digest, validated. */
static int desc_digest(json_t *desc, struct ins_digest *d, const char *what, struct ins_error *err)
{
	const char *text = json_string_value(json_object_get(desc, "digest"));

	if (!text)
		return ins_err(err, EBADMSG, "%s: a descriptor without a digest", what);
	if (ins_digest_parse(text, d, err) < 0)
		return ins_err_prefix(err, "%s", what);
	return 0;
}

/* Reads and verifies the JSON blob DESC points to in the OCI layout DIR. */
static json_t *oci_json(int dir, json_t *desc, const char *what, struct ins_error *err)
{
	struct ins_digest want, got;
	char path[96];
	json_t *doc;

	if (desc_digest(desc, &want, what, err) < 0)
		return NULL;
	snprintf(path, sizeof(path), "blobs/sha256/%s", ins_digest_hex(&want));
	doc = read_json_beneath(dir, path, &got, err);
	if (doc && !ins_digest_equal(&want, &got)) {
		json_decref(doc);
		return ins_err(err, EBADMSG, "%s %s: content is %s, not its digest", what, want.s,
			       got.s), NULL;
	}
	return doc;
}

static bool platform_matches(json_t *desc)
{
	json_t *p = json_object_get(desc, "platform");
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	const char *os = json_string_value(json_object_get(p, "os"));

	return !p || ((!os || strcmp(os, "linux") == 0) && (!arch || strcmp(arch, oci_arch()) == 0));
}

static bool is_media(json_t *desc, const char *type)
{
	const char *t = json_string_value(json_object_get(desc, "mediaType"));

	return t && strcmp(t, type) == 0;
}

/* The source's name for the image from an index entry's annotations, when it has a repository. */
static void take_ref(struct import *im, json_t *desc)
{
	json_t *ann = json_object_get(desc, "annotations");
	const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
	const char *tag = json_string_value(json_object_get(ann, INS_REF_ANNOTATION));

	/* A bare tag ("latest", as skopeo writes it) names no repository. */
	if (!im->ref && (name || (tag && (strchr(tag, ':') || strchr(tag, '/')))))
		im->ref = strdup(name ? name : tag);
}

/*
 * The manifest an index points to: its only one, or the one for this
 * platform, descending into nested indexes (multi-platform images).
 */
static json_t *oci_manifest(struct import *im, int dir, json_t *index, int depth,
			    struct ins_error *err)
{
	json_t *manifests = json_object_get(index, "manifests"), *desc, *chosen = NULL;
	size_t i;

	if (depth > 4)
		return ins_err(err, ELOOP, "%s: indexes nested too deep", im->src), NULL;
	json_array_foreach(manifests, i, desc)
		if (!chosen && (json_array_size(manifests) == 1 || platform_matches(desc)))
			chosen = desc;
	if (!chosen)
		return ins_err(err, ENOENT, "%s: no image for linux/%s", im->src, oci_arch()), NULL;
	take_ref(im, chosen);
	if (is_media(chosen, INS_MEDIA_INDEX)) {
		json_auto_t *nested = oci_json(dir, chosen, "index", err);

		return nested ? oci_manifest(im, dir, nested, depth + 1, err) : NULL;
	}
	return oci_json(dir, chosen, "manifest", err);
}

static int import_oci(struct import *im, int dir, struct ins_error *err)
{
	json_auto_t *index = read_json_beneath(dir, "index.json", NULL, err);
	json_auto_t *manifest = index ? oci_manifest(im, dir, index, 0, err) : NULL;
	json_t *diff_ids, *desc;
	size_t i;

	struct ins_digest config;
	char config_path[96];

	if (!manifest || desc_digest(json_object_get(manifest, "config"), &config, "config", err) < 0)
		return -1;
	snprintf(config_path, sizeof(config_path), "blobs/sha256/%s", ins_digest_hex(&config));
	if (import_config(im, dir, config_path, &config, err) < 0)
		return -1;
	diff_ids = json_object_get(json_object_get(im->config, "rootfs"), "diff_ids");
	if (json_array_size(diff_ids) != json_array_size(json_object_get(manifest, "layers")))
		return ins_err(err, EBADMSG, "%s: the manifest's layers and the config's diff_ids differ",
			       im->src);
	json_array_foreach(json_object_get(manifest, "layers"), i, desc) {
		struct ins_digest blob, diff_id;
		char path[96];

		if (desc_digest(desc, &blob, "layer", err) < 0 ||
		    ins_digest_parse(json_string_value(json_array_get(diff_ids, i)) ?: "", &diff_id, err) < 0)
			return ins_err_prefix(err, "%s: layer %zu", im->src, i + 1);
		snprintf(path, sizeof(path), "blobs/sha256/%s", ins_digest_hex(&blob));
		if (import_layer(im, dir, path, &blob, &diff_id, i, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * A `docker save` archive: manifest.json names the config file (whose name
 * is its digest) and the layer tars, whose digests the config's diff_ids give.
 */
static int import_docker(struct import *im, int dir, struct ins_error *err)
{
	json_auto_t *manifest = read_json_beneath(dir, "manifest.json", NULL, err);
	json_t *image = json_array_get(manifest, 0), *diff_ids, *path;
	const char *config_path = json_string_value(json_object_get(image, "Config"));
	size_t i;

	if (!manifest)
		return -1;
	if (!config_path || !json_is_array(json_object_get(image, "Layers")))
		return ins_err(err, EBADMSG, "%s: manifest.json names no config or layers", im->src);
	if (!im->ref && json_string_value(json_array_get(json_object_get(image, "RepoTags"), 0)))
		im->ref = strdup(json_string_value(json_array_get(json_object_get(image, "RepoTags"), 0)));
	if (import_config(im, dir, config_path, NULL, err) < 0)
		return -1;
	/* The config's file name is its digest ("<hex>.json", or "blobs/sha256/<hex>"). */
	if (!strstr(config_path, ins_digest_hex(&im->config_digest)))
		return ins_err(err, EBADMSG, "config %s: content is %s, not the digest of its name",
			       config_path, im->config_digest.s);
	diff_ids = json_object_get(json_object_get(im->config, "rootfs"), "diff_ids");
	if (json_array_size(diff_ids) != json_array_size(json_object_get(image, "Layers")))
		return ins_err(err, EBADMSG, "%s: manifest.json's layers and the config's diff_ids differ",
			       im->src);
	json_array_foreach(json_object_get(image, "Layers"), i, path) {
		struct ins_digest diff_id;

		if (!json_is_string(path) ||
		    ins_digest_parse(json_string_value(json_array_get(diff_ids, i)) ?: "", &diff_id, err) < 0)
			return ins_err_prefix(err, "%s: layer %zu", im->src, i + 1);
		/* docker save writes layers uncompressed: the blob's digest is its diff-id. */
		if (import_layer(im, dir, json_string_value(path), NULL, &diff_id, i, err) < 0)
			return -1;
	}
	return 0;
}

/* A plain rootfs tarball (like `docker import`): one layer, a config made here. */
static int import_rootfs(struct import *im, int fd, struct ins_error *err)
{
	struct ins_blob_writer w;
	struct ins_digest blob, diff_id;
	long long size;
	const char *type;
	char created[32], by[4096];
	_cleanup_close_ int stored = -1;

	if (ins_blob_begin(im->store, &w, err) < 0)
		return -1;
	if (ins_blob_copy_fd(&w, fd, err) < 0) {
		ins_blob_abort(&w);
		return ins_err_prefix(err, "%s", im->src);
	}
	if (ins_blob_commit(&w, NULL, im->src, &blob, &size, err) < 0)
		return -1;
	stored = ins_store_open_blob(im->store, &blob, err);
	if (stored < 0 || layer_media_type(stored, &type, err) < 0 ||
	    layer_unpack(im->store, &blob, NULL, &diff_id, err) < 0)
		return ins_err_prefix(err, "%s", im->src);
	now_rfc3339(created, sizeof(created));
	snprintf(by, sizeof(by), "ctk image import %s", im->src);
	im->config = json_pack("{s:s,s:s,s:s,s:{},s:{s:s,s:[s]},s:[{s:s,s:s}]}", "created", created,
			       "architecture", oci_arch(), "os", "linux", "config", "rootfs", "type",
			       "layers", "diff_ids", diff_id.s, "history", "created", created,
			       "created_by", by);
	if (!im->config)
		return ins_err_sys(err, ENOMEM, "config");
	return add_layer(im, type, &blob, size, err);
}

/* Records the import's --change instructions in the config and its history. */
static int apply_changes(struct import *im, struct ins_error *err)
{
	const struct ins_import_opts *o = im->opts;
	json_t *history = json_object_get(im->config, "history");
	char created[32];
	_cleanup_free_ char *by = strdup("ctk image import");

	if (!o->nchanges)
		return 0;
	if (ins_config_apply_changes(im->config, o->changes, o->nchanges, err) < 0)
		return -1;
	for (size_t i = 0; by && i < o->nchanges; i++) {
		char *more;

		if (asprintf(&more, "%s --change '%s'", by, o->changes[i]) < 0)
			more = NULL;
		free(by);
		by = more;
	}
	now_rfc3339(created, sizeof(created));
	if (!json_is_array(history)) {
		history = json_array();
		json_object_set_new(im->config, "history", history);
	}
	if (!by || json_array_append_new(history, json_pack("{s:s,s:s,s:b}", "created", created,
							    "created_by", by, "empty_layer", 1)) < 0)
		return ins_err_sys(err, ENOMEM, "config");
	im->config_size = 0; /* no longer the source's config */
	return 0;
}

/*
 * Points REF at the manifest DESC in the index; an image that loses its name
 * stays, unnamed. Without REF, a manifest the index has already is not added
 * again.
 */
static int update_index(struct ins_store *s, json_t *desc, const char *ref, struct ins_error *err)
{
	json_auto_t *index = ins_store_read_index(s, err);
	json_t *kept = json_array(), *entry;
	bool present = false;
	size_t i;

	if (!index || !kept) {
		json_decref(kept);
		return index ? ins_err_sys(err, ENOMEM, "index") : -1;
	}
	json_array_foreach(json_object_get(index, "manifests"), i, entry) {
		json_t *ann = json_object_get(entry, "annotations");
		const char *name = json_string_value(json_object_get(ann, INS_REF_ANNOTATION));
		bool same = json_equal(json_object_get(entry, "digest"), json_object_get(desc, "digest"));

		if (ref && name && strcmp(name, ref) == 0) {
			if (same)
				continue; /* re-added below */
			json_object_del(ann, INS_REF_ANNOTATION);
		}
		/* An unnamed entry for the manifest we add is the same image. */
		if (same && !json_object_get(ann, INS_REF_ANNOTATION))
			continue;
		present |= same;
		json_array_append(kept, entry);
	}
	if (ref || !present)
		json_array_append(kept, desc);
	json_object_set_new(index, "manifests", kept);
	return ins_store_write_index(s, index, err);
}

int image_put(struct ins_store *s, json_t *config, const struct ins_digest *config_digest,
	      long long config_size, json_t *layers, const char *name, struct ins_image *img,
	      struct ins_error *err)
{
	json_auto_t *manifest = NULL, *desc = NULL;
	_cleanup_free_ char *ref = NULL;
	struct ins_digest cdigest, mdigest;
	long long msize;

	if (config_digest) {
		cdigest = *config_digest;
	} else if (ins_store_put_json(s, config, &cdigest, &config_size, err) < 0) {
		return -1;
	}
	manifest = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:O}", "schemaVersion", 2, "mediaType",
			     INS_MEDIA_MANIFEST, "config", "mediaType", INS_MEDIA_CONFIG, "digest",
			     cdigest.s, "size", (json_int_t)config_size, "layers", layers);
	if (!manifest || ins_store_put_json(s, manifest, &mdigest, &msize, err) < 0)
		return manifest ? -1 : ins_err_sys(err, ENOMEM, "manifest");
	if (name && !(ref = ins_ref_normalize(name)))
		return ins_err_sys(err, ENOMEM, "%s", name);
	desc = json_pack("{s:s,s:s,s:I}", "mediaType", INS_MEDIA_MANIFEST, "digest", mdigest.s, "size",
			 (json_int_t)msize);
	if (!desc || (ref && json_object_set_new(desc, "annotations",
						  json_pack("{s:s}", INS_REF_ANNOTATION, ref)) < 0))
		return ins_err_sys(err, ENOMEM, "index");
	if (update_index(s, desc, ref, err) < 0)
		return -1;
	return ins_image_load(s, ref ? ref : cdigest.s, img, err);
}

/* Applies the --change instructions and stores the image (the source's config as it is when unchanged). */
static int store_image(struct import *im, struct ins_image *img, struct ins_error *err)
{
	if (apply_changes(im, err) < 0)
		return -1;
	return image_put(im->store, im->config, im->config_size ? &im->config_digest : NULL, im->config_size,
			 im->layers, im->opts->name ? im->opts->name : im->ref, img, err);
}

/* An OCI layout or an unpacked `docker save` directory, open at DIR. */
static int import_dir(struct import *im, int dir, struct ins_error *err)
{
	if (faccessat(dir, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return import_oci(im, dir, err);
	if (faccessat(dir, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return import_docker(im, dir, err);
	return ins_err(err, EINVAL, "%s: neither an OCI layout nor a docker save directory", im->src);
}

/* An archive: a rootfs tarball is the layer; an image archive is unpacked and read as a directory. */
static int import_archive(struct import *im, int fd, struct ins_error *err)
{
	_cleanup_close_ int dir = -1;
	_cleanup_free_ char *tmp = NULL;
	enum src_kind kind = SRC_ROOTFS;
	struct ins_error ignored;
	int rc;

	if (classify_archive(im->src, fd, &kind, err) < 0)
		return -1;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return ins_err_sys(err, errno, "%s", im->src);
	if (kind == SRC_ROOTFS)
		return import_rootfs(im, fd, err);
	dir = ins_store_mktemp_dir(im->store, &tmp, err);
	if (dir < 0)
		return -1;
	rc = ins_unpack(fd, dir, INS_UNPACK_PLAIN, NULL, err) < 0 ? ins_err_prefix(err, "%s", im->src)
	     : kind == SRC_OCI					   ? import_oci(im, dir, err)
								   : import_docker(im, dir, err);
	/* The archive's copy has served (tmp/ is emptied at every lock in any case). */
	ins_remove_tree_at(im->store->tmpfd, tmp, &ignored);
	return rc;
}

int ins_image_import(struct ins_store *s, const char *src, const struct ins_import_opts *o,
		     struct ins_image *img, struct ins_error *err)
{
	struct import im = { .store = s, .opts = o, .src = src, .layers = json_array() };
	_cleanup_close_ int fd = -1;
	struct ins_error ignored;
	struct stat st;
	int rc = 0;

	if (!im.layers)
		return ins_err_sys(err, ENOMEM, "import");
	if (libarchive_load(err) < 0 || ins_store_lock(s, err) < 0)
		rc = -1;
	if (rc == 0 && ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0))
		rc = ins_err_sys(err, errno, "%s", src);
	if (rc == 0)
		rc = S_ISDIR(st.st_mode) ? import_dir(&im, fd, err) : import_archive(&im, fd, err);
	if (rc == 0)
		rc = store_image(&im, img, err);
	/* Whatever a failed import stored is referenced by no image: drop it. */
	if (rc < 0 && s->lockfd >= 0)
		ins_image_gc(s, &ignored);
	json_decref(im.config);
	json_decref(im.layers);
	free(im.ref);
	return rc;
}
