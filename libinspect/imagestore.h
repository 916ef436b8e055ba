/*
 * What import, commit, removal and fsck share about the store's images:
 * sets of digests, the sweep of unused blobs and layers, storing an image's
 * config, manifest and index entry, and installing unpacked layers.
 * Internal to libinspect.
 */
#ifndef INSPECT_IMAGESTORE_H
#define INSPECT_IMAGESTORE_H

#include <jansson.h>
#include <stdbool.h>

#include "inspect/digest.h"
#include "inspect/error.h"
#include "inspect/image.h"
#include "inspect/store.h"

/* A set of digest hex strings; sort it (hexset_sort) before asking it. */
struct hexset {
	char **v;
	size_t n, cap;
};

int hexset_add(struct hexset *set, const struct ins_digest *d);
void hexset_sort(struct hexset *set);
bool hexset_has(const struct hexset *set, const char *hex);
void hexset_free(struct hexset *set);

/* Adds the unpacked layers that containers run on to LAYERS. */
int image_container_layers(struct ins_store *s, struct hexset *layers, struct ins_error *err);

/* Removes every entry of DIRFD that USED does not name. */
int image_sweep(int dirfd, const struct hexset *used, struct ins_error *err);

/*
 * Stores an image: CONFIG as a blob (unless CONFIG_DIGEST, of CONFIG_SIZE
 * bytes, names it stored already), a manifest of CONFIG and LAYERS (layer
 * descriptors), and the index entry, named NAME when not NULL (an image
 * losing its name to it stays, unnamed). IMG receives the image.
 */
int image_put(struct ins_store *s, json_t *config, const struct ins_digest *config_digest,
	      long long config_size, json_t *layers, const char *name, struct ins_image *img,
	      struct ins_error *err);

/*
 * Gives the layer unpacked in tmp/TMP its name, layers/<DIFF_ID hex>; when
 * that exists already (the same content), TMP goes instead.
 */
int layer_install(struct ins_store *s, const char *tmp, const struct ins_digest *diff_id,
		  struct ins_error *err);

/*
 * Unpacks the stored layer blob LAYER into layers/<diff-id> unless it is
 * there already. With EXPECT the content must have that diff-id; DIFF_ID
 * receives the one it has.
 */
int layer_unpack(struct ins_store *s, const struct ins_digest *layer, const struct ins_digest *expect,
		 struct ins_digest *diff_id, struct ins_error *err);

#endif
