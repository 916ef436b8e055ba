#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/fileio.h"
#include "inspect/image.h"
#include "imagestore.h"

char *ins_ref_normalize(const char *name)
{
	const char *last = strrchr(name, '/');
	char *ref;

	last = last ? last + 1 : name;
	if (strchr(last, ':') || strchr(name, '@'))
		return strdup(name);
	if (asprintf(&ref, "%s:latest", name) < 0)
		return NULL;
	return ref;
}

static const char *entry_ref(json_t *entry)
{
	return json_string_value(json_object_get(json_object_get(entry, "annotations"), INS_REF_ANNOTATION));
}

/* Reads a "digest" member of DESC into D. */
static int descriptor_digest(json_t *desc, struct ins_digest *d, const char *what,
			     struct ins_error *err)
{
	const char *text = json_string_value(json_object_get(desc, "digest"));

	if (!text)
		return ins_err(err, EBADMSG, "%s: no digest", what);
	return ins_digest_parse(text, d, err);
}

static int load_layers(struct ins_image *img, json_t *manifest, struct ins_error *err)
{
	json_t *layers = json_object_get(manifest, "layers");
	json_t *diff_ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	size_t i;
	json_t *desc;

	if (!json_is_array(layers) || !json_is_array(diff_ids) ||
	    json_array_size(layers) != json_array_size(diff_ids))
		return ins_err(err, EBADMSG, "image %s: layers and diff_ids do not match", img->id.s);
	img->layers = calloc(json_array_size(layers) + 1, sizeof(*img->layers));
	if (!img->layers)
		return ins_err_sys(err, ENOMEM, "image %s", img->id.s);
	json_array_foreach(layers, i, desc) {
		struct ins_image_layer *l = &img->layers[i];
		const char *media = json_string_value(json_object_get(desc, "mediaType"));

		img->nlayers = i + 1;
		if (descriptor_digest(desc, &l->digest, "layer", err) < 0 ||
		    ins_digest_parse(json_string_value(json_array_get(diff_ids, i)) ?: "", &l->diff_id,
				     err) < 0)
			return ins_err_prefix(err, "image %s, layer %zu", img->id.s, i);
		l->media_type = strdup(media ? media : INS_MEDIA_LAYER);
		l->size = json_integer_value(json_object_get(desc, "size"));
		if (!l->media_type)
			return ins_err_sys(err, ENOMEM, "image %s", img->id.s);
	}
	return 0;
}

/* Fills IMG from the manifest blob D (REF may be NULL). */
static int load_manifest(struct ins_store *s, const struct ins_digest *d, const char *ref,
			 struct ins_image *img, struct ins_error *err)
{
	json_t *manifest = ins_store_read_json(s, d, err);
	int rc;

	memset(img, 0, sizeof(*img));
	if (!manifest)
		return -1;
	img->manifest = *d;
	rc = descriptor_digest(json_object_get(manifest, "config"), &img->id, "config", err);
	if (rc == 0 && !(img->config = ins_store_read_json(s, &img->id, err)))
		rc = -1;
	if (rc == 0)
		rc = load_layers(img, manifest, err);
	if (rc == 0 && ref && !(img->ref = strdup(ref)))
		rc = ins_err_sys(err, ENOMEM, "%s", ref);
	json_decref(manifest);
	if (rc < 0) {
		ins_image_free(img);
		return ins_err_prefix(err, "manifest %s", d->s);
	}
	return 0;
}

void ins_image_free(struct ins_image *img)
{
	for (size_t i = 0; i < img->nlayers; i++)
		free(img->layers[i].media_type);
	free(img->layers);
	free(img->ref);
	json_decref(img->config);
	memset(img, 0, sizeof(*img));
}

int ins_image_list(struct ins_store *s, struct ins_image **imgs, size_t *n, struct ins_error *err)
{
	json_t *index = ins_store_read_index(s, err);
	json_t *manifests, *entry;
	size_t i;

	*imgs = NULL;
	*n = 0;
	if (!index)
		return -1;
	manifests = json_object_get(index, "manifests");
	*imgs = calloc(json_array_size(manifests) + 1, sizeof(**imgs));
	if (!*imgs) {
		json_decref(index);
		return ins_err_sys(err, ENOMEM, "image list");
	}
	json_array_foreach(manifests, i, entry) {
		struct ins_digest d;

		if (descriptor_digest(entry, &d, "index entry", err) < 0 ||
		    load_manifest(s, &d, entry_ref(entry), &(*imgs)[*n], err) < 0) {
			ins_image_list_free(*imgs, *n);
			*imgs = NULL;
			*n = 0;
			json_decref(index);
			return -1;
		}
		(*n)++;
	}
	json_decref(index);
	return 0;
}

void ins_image_list_free(struct ins_image *imgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ins_image_free(&imgs[i]);
	free(imgs);
}

/* Whether NAME could be an image id: "sha256:<hex...>" or a bare hex prefix. */
static const char *id_hex(const char *name)
{
	const char *hex = strncmp(name, "sha256:", 7) == 0 ? name + 7 : name;
	size_t len = strlen(hex);

	if (len < 3 || len > 64 || strspn(hex, "0123456789abcdef") != len)
		return NULL;
	return hex;
}

/* Appends NAME to the comma-separated LIST. */
static void add_candidate(char *list, size_t size, const char *name)
{
	size_t len = strlen(list);

	snprintf(list + len, size - len, "%s%s", len ? ", " : "", name);
}

/* The index entry whose reference is REF, loaded; 1 when found, 0 when not, -1 on error. */
static int load_by_ref(struct ins_store *s, const char *ref, struct ins_image *img, struct ins_error *err)
{
	json_t *index = ins_store_read_index(s, err), *entry;
	size_t i;
	int rc = 0;

	if (!index)
		return -1;
	json_array_foreach(json_object_get(index, "manifests"), i, entry) {
		const char *r = entry_ref(entry);
		struct ins_digest d;

		if (!r || strcmp(r, ref) != 0)
			continue;
		rc = descriptor_digest(entry, &d, "index entry", err) == 0 &&
				     load_manifest(s, &d, ref, img, err) == 0
			     ? 1
			     : -1;
		break;
	}
	json_decref(index);
	return rc;
}

int ins_image_load(struct ins_store *s, const char *name, struct ins_image *img,
		   struct ins_error *err)
{
	_cleanup_free_ char *ref = ins_ref_normalize(name);
	const char *hex = id_hex(name);
	struct ins_image *all;
	ssize_t match = -1;
	bool ambiguous = false;
	char candidates[512] = "";
	size_t n;
	int rc;

	if (!ref)
		return ins_err_sys(err, ENOMEM, "%s", name);
	/* A reference needs one manifest read, not every image's. */
	rc = load_by_ref(s, ref, img, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!hex)
		return ins_err(err, ENOENT, "%s: no such image", name);
	/* An id, or a prefix of one (several references may share an id). */
	if (ins_image_list(s, &all, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(ins_digest_hex(&all[i].id), hex, strlen(hex)) != 0)
			continue;
		add_candidate(candidates, sizeof(candidates), all[i].ref ? all[i].ref : all[i].id.s);
		if (match < 0)
			match = (ssize_t)i;
		else if (!ins_digest_equal(&all[match].id, &all[i].id))
			ambiguous = true;
	}
	rc = 0;
	if (ambiguous)
		rc = ins_err(err, EINVAL, "%s: ambiguous, it could be %s", name, candidates);
	else if (match < 0)
		rc = ins_err(err, ENOENT, "%s: no such image", name);
	else {
		*img = all[match];
		memset(&all[match], 0, sizeof(all[match]));
	}
	ins_image_list_free(all, n);
	return rc;
}

int hexset_add(struct hexset *set, const struct ins_digest *d)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		char **v = realloc(set->v, cap * sizeof(*v));

		if (!v)
			return -1;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n] = strdup(ins_digest_hex(d));
	return set->v[set->n++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void hexset_sort(struct hexset *set)
{
	/* qsort wants a real array, even of nothing. */
	if (set->n)
		qsort(set->v, set->n, sizeof(*set->v), cmp_str);
}

bool hexset_has(const struct hexset *set, const char *hex)
{
	return set->n && bsearch(&hex, set->v, set->n, sizeof(*set->v), cmp_str);
}

void hexset_free(struct hexset *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* The unpacked layers containers run on: kept, whatever happens to their images. */
int image_container_layers(struct ins_store *s, struct hexset *layers, struct ins_error *err)
{
	struct ins_container *cs;
	size_t n;
	int rc = 0;

	if (ins_container_list(s, &cs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t j;
		json_t *v;

		json_array_foreach(json_object_get(json_object_get(cs[i].config, "image"), "layers"), j, v) {
			struct ins_digest d;

			if (json_string_value(v) &&
			    snprintf(d.s, sizeof(d.s), "sha256:%s", json_string_value(v)) == INS_DIGEST_LEN)
				rc |= hexset_add(layers, &d);
		}
	}
	ins_container_list_free(cs, n);
	return rc ? ins_err_sys(err, ENOMEM, "container layers") : 0;
}

/* What the images of the index use (their blobs, their unpacked layers), and the layers of containers. */
static int collect_used(struct ins_store *s, struct hexset *blobs, struct hexset *layers,
			struct ins_error *err)
{
	struct ins_image *imgs;
	size_t n;
	int rc = 0;

	if (ins_image_list(s, &imgs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc |= hexset_add(blobs, &imgs[i].manifest) | hexset_add(blobs, &imgs[i].id);
		for (size_t l = 0; l < imgs[i].nlayers; l++)
			rc |= hexset_add(blobs, &imgs[i].layers[l].digest) |
			      hexset_add(layers, &imgs[i].layers[l].diff_id);
	}
	ins_image_list_free(imgs, n);
	if (rc)
		return ins_err_sys(err, ENOMEM, "image references");
	if (image_container_layers(s, layers, err) < 0)
		return -1;
	hexset_sort(blobs);
	hexset_sort(layers);
	return 0;
}

int image_sweep(int dirfd, const struct hexset *used, struct ins_error *err)
{
	char **names;
	size_t n;
	int rc = 0;

	if (ins_dir_names(dirfd, "sweep", &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (names[i][0] != '.' && !hexset_has(used, names[i]))
			rc = ins_remove_tree_at(dirfd, names[i], err);
	ins_names_free(names, n);
	return rc;
}

/* Drops every blob and unpacked layer that no image of the index uses. */
int ins_image_gc(struct ins_store *s, struct ins_error *err)
{
	struct hexset blobs = { 0 }, layers = { 0 };
	int rc = collect_used(s, &blobs, &layers, err);

	if (rc == 0)
		rc = image_sweep(s->blobsfd, &blobs, err);
	if (rc == 0)
		rc = image_sweep(s->layersfd, &layers, err);
	hexset_free(&blobs);
	hexset_free(&layers);
	return rc;
}

/* Whether a container was made from IMG (then ERR says which). */
static bool used_by_container(struct ins_store *s, const struct ins_image *img, struct ins_error *err)
{
	struct ins_container *cs;
	size_t n;
	bool used = false;

	if (ins_container_list(s, &cs, &n, err) < 0)
		return true;
	for (size_t i = 0; i < n && !used; i++) {
		const char *id = json_string_value(json_object_get(json_object_get(cs[i].config, "image"), "id"));

		if (id && strcmp(id, img->id.s) == 0) {
			used = true;
			ins_err(err, EBUSY, "%s: used by container %.12s (remove it first)",
				img->ref ? img->ref : img->id.s, cs[i].id);
		}
	}
	ins_container_list_free(cs, n);
	return used;
}

int ins_image_remove(struct ins_store *s, const char *name, struct ins_error *err)
{
	struct ins_image img;
	json_t *index, *kept, *entry;
	bool by_ref;
	size_t i;
	int rc;

	if (ins_store_lock(s, err) < 0 || ins_image_load(s, name, &img, err) < 0)
		return -1;
	if (used_by_container(s, &img, err)) {
		ins_image_free(&img);
		return -1;
	}
	/* A name that is the image's reference drops that reference; an id drops them all. */
	{
		_cleanup_free_ char *ref = ins_ref_normalize(name);

		by_ref = img.ref && ref && strcmp(img.ref, ref) == 0;
	}
	index = ins_store_read_index(s, err);
	kept = json_array();
	if (!index || !kept) {
		json_decref(index);
		json_decref(kept);
		ins_image_free(&img);
		return index ? ins_err_sys(err, ENOMEM, "index") : -1;
	}
	json_array_foreach(json_object_get(index, "manifests"), i, entry) {
		const char *ref = entry_ref(entry);
		struct ins_image other;
		struct ins_digest d;
		bool drop;

		if (by_ref) {
			drop = ref && strcmp(ref, img.ref) == 0;
		} else {
			/* ERR may hold an earlier, tolerated failure: what was loaded is told by the return. */
			bool loaded = descriptor_digest(entry, &d, "index entry", err) == 0 &&
				      load_manifest(s, &d, NULL, &other, err) == 0;

			drop = loaded && ins_digest_equal(&other.id, &img.id);
			if (loaded)
				ins_image_free(&other);
		}
		if (!drop)
			json_array_append(kept, entry);
	}
	json_object_set_new(index, "manifests", kept);
	rc = ins_store_write_index(s, index, err);
	json_decref(index);
	ins_image_free(&img);
	if (rc == 0)
		rc = ins_image_gc(s, err);
	return rc;
}

int ins_image_history(const struct ins_image *img, struct ins_history **rows, size_t *n,
		      struct ins_error *err)
{
	json_t *history = json_object_get(img->config, "history");
	size_t i, layer = 0, count = 0;
	json_t *h;

	*rows = calloc(json_array_size(history) + img->nlayers + 1, sizeof(**rows));
	if (!*rows)
		return ins_err_sys(err, ENOMEM, "history");
	json_array_foreach(history, i, h) {
		struct ins_history *r = &(*rows)[count++];

		r->created = json_string_value(json_object_get(h, "created"));
		r->created_by = json_string_value(json_object_get(h, "created_by"));
		r->comment = json_string_value(json_object_get(h, "comment"));
		r->author = json_string_value(json_object_get(h, "author"));
		if (!json_is_true(json_object_get(h, "empty_layer")) && layer < img->nlayers)
			r->layer = &img->layers[layer++];
	}
	while (layer < img->nlayers)
		(*rows)[count++].layer = &img->layers[layer++];
	*n = count;
	return 0;
}
