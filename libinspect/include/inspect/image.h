/* Images in the store: OCI manifests and configs, import, listing, removal. */
#ifndef INSPECT_IMAGE_H
#define INSPECT_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "inspect/digest.h"
#include "inspect/error.h"
#include "inspect/store.h"

#define INS_MEDIA_INDEX "application/vnd.oci.image.index.v1+json"
#define INS_MEDIA_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define INS_MEDIA_CONFIG "application/vnd.oci.image.config.v1+json"
#define INS_MEDIA_LAYER "application/vnd.oci.image.layer.v1.tar"
#define INS_MEDIA_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define INS_REF_ANNOTATION "org.opencontainers.image.ref.name"

struct ins_image_layer {
	struct ins_digest digest; /* the blob, as stored */
	struct ins_digest diff_id; /* the uncompressed tar: names layers/<hex> */
	char *media_type;
	long long size; /* of the blob */
};

struct ins_image {
	char *ref; /* "busybox:latest", or NULL for an unnamed image */
	struct ins_digest manifest;
	struct ins_digest id; /* the config's digest, as docker names images */
	json_t *config;
	struct ins_image_layer *layers;
	size_t nlayers;
};

/* "name" becomes "name:latest"; a name with a tag or a digest stays. malloc'd. */
char *ins_ref_normalize(const char *name);

/*
 * Finds NAME: a reference ("busybox", "busybox:1.35"), the full image id
 * ("sha256:..."), or a unique prefix of its hex. Ambiguity is an error
 * listing the candidates.
 */
int ins_image_load(struct ins_store *s, const char *name, struct ins_image *img,
		   struct ins_error *err);
void ins_image_free(struct ins_image *img);

/* Every image of the index, in index order. */
int ins_image_list(struct ins_store *s, struct ins_image **imgs, size_t *n, struct ins_error *err);
void ins_image_list_free(struct ins_image *imgs, size_t n);

/*
 * Removes NAME's reference (or, given an id, every reference to it) and
 * then every blob and unpacked layer no remaining image uses.
 */
int ins_image_remove(struct ins_store *s, const char *name, struct ins_error *err);

/* Drops every blob and unpacked layer that no image of the index uses (caller holds the lock). */
int ins_image_gc(struct ins_store *s, struct ins_error *err);

/* A problem ins_store_fsck found (one line), and whether the repair removed it. */
typedef void ins_fsck_report(void *arg, const char *problem, bool repaired);

/*
 * Checks the store under its lock: files that are no part of the layout,
 * every blob's content against its name, every image's manifest, config
 * and layer blobs, its unpacked layers, and blobs and layers that no image
 * (nor container, for layers) uses. Each problem goes to REPORT. With
 * REPAIR: what is no part of the layout and what nothing uses is removed,
 * missing unpacked layers are unpacked again from their blobs, and images
 * that cannot be read leave the index. Returns how many problems remain
 * (0: the store is sound), or -1 when it could not check.
 */
int ins_store_fsck(struct ins_store *s, bool repair, ins_fsck_report *report, void *arg, struct ins_error *err);

/* One row of an image's history: what made a layer, or a change that made none. */
struct ins_history {
	const char *created;
	const char *created_by;
	const char *comment;
	const char *author;
	const struct ins_image_layer *layer; /* NULL for an empty_layer entry */
};

/*
 * The image's history, oldest first, with each non-empty entry paired with
 * its layer; layers the config's history does not describe get rows of
 * their own. Free *ROWS with free().
 */
int ins_image_history(const struct ins_image *img, struct ins_history **rows, size_t *n,
		      struct ins_error *err);

/*
 * Applies Dockerfile-style instructions to an image config, in order: CMD,
 * ENTRYPOINT (JSON array: exec form; anything else: shell form, stored as
 * ["/bin/sh","-c",...]), ENV, WORKDIR, USER. As in a Dockerfile, ENTRYPOINT
 * clears a CMD that the same batch did not set.
 */
int ins_config_apply_changes(json_t *config, const char *const *changes, size_t n,
			     struct ins_error *err);

struct ins_import_opts {
	const char *name; /* the reference to give the image; NULL: the source's own */
	const char *const *changes; /* Dockerfile instructions (CMD, ENTRYPOINT, ENV, WORKDIR, USER) */
	size_t nchanges;
};

/*
 * Imports SRC: a `docker save` archive, an OCI layout directory, an
 * oci-archive, or a plain rootfs tarball (compressed or not). Every blob is
 * verified against its digest, every layer unpacked below layers/.
 * IMG receives the imported image.
 */
int ins_image_import(struct ins_store *s, const char *src, const struct ins_import_opts *o,
		     struct ins_image *img, struct ins_error *err);

/* The archive formats an image is exported in. */
enum ins_export_format {
	INS_EXPORT_DOCKER, /* a `docker save` archive: manifest.json, <id>.json, <chain-id>/layer.tar */
	INS_EXPORT_OCI, /* an oci-archive: a tar of an OCI image layout */
};

/*
 * Writes the image NAME (as ins_image_load finds it) to FD as an archive
 * in FORMAT, sequentially (FD may be a pipe). Blobs are streamed, never held
 * in memory; docker's format gets every layer uncompressed, as `docker save`
 * writes it. The archive names the image when NAME is a reference.
 */
int ins_image_export_fd(struct ins_store *s, const char *name, enum ins_export_format format,
			int fd, struct ins_error *err);

/*
 * The same into the file PATH, written atomically: an unnamed file in PATH's
 * directory that gets PATH only once complete, so a failed or killed export
 * leaves nothing behind. An existing PATH is an error (EEXIST) unless FORCE,
 * with which it is replaced (a symlink itself, not its target).
 */
int ins_image_export(struct ins_store *s, const char *name, enum ins_export_format format,
		     const char *path, bool force, struct ins_error *err);

#endif
