/*
 * ctk image fsck: the store checked against what it claims. Every blob's
 * content against its name, every image's manifest, config and layer blobs
 * present and sound, every image's unpacked layers present; blobs and
 * layers that nothing uses, and files that are no part of the layout, are
 * leftovers of interrupted writes. With repair: leftovers and unused blobs
 * and layers go, missing unpacked layers are unpacked again from their
 * blobs, and images that cannot be read any more leave the index.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imagestore.h"
#include "inspect/cleanup.h"
#include "inspect/fileio.h"
#include "inspect/image.h"

struct fsck {
	struct ins_store *s;
	bool repair;
	ins_fsck_report *report;
	void *arg;
	struct hexset good; /* blobs whose content is their name */
	struct hexset blobs, layers; /* what images and containers use */
	int remaining;
};

/* Reports a problem; FIXED says whether the repair removed it. */
__attribute__((format(printf, 3, 4))) static void problem(struct fsck *f, bool fixed, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->remaining += !fixed;
	f->report(f->arg, msg, fixed);
}

/* Removes NAME of DIR when repairing; whether it is gone. */
static bool remove_it(struct fsck *f, int dir, const char *name)
{
	struct ins_error ignored;

	return f->repair && ins_remove_tree_at(dir, name, &ignored) == 0;
}

/* What a directory of the layout holds beyond the names it should. */
static int check_extra(struct fsck *f, int dir, const char *what, const char *const *expected, struct ins_error *err)
{
	char **names;
	size_t n;

	if (ins_dir_names(dir, what, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (const char *const *e = expected; *e; e++)
			known |= strcmp(names[i], *e) == 0;
		if (!known)
			problem(f, remove_it(f, dir, names[i]), "%s/%s: no part of the image layout", what, names[i]);
	}
	ins_names_free(names, n);
	return 0;
}

/* Whether NAME is 64 lower-case hex digits (a digest's); D gets the digest. */
static bool hex_name(const char *name, struct ins_digest *d)
{
	struct ins_error ignored;
	char text[96];

	snprintf(text, sizeof(text), "sha256:%s", name);
	return ins_digest_parse(text, d, &ignored) == 0;
}

/* Every blob's content against its name. */
static int check_blobs(struct fsck *f, struct ins_error *err)
{
	char **names;
	size_t n;
	int rc = 0;

	if (ins_dir_names(f->s->blobsfd, "blobs/sha256", &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		_cleanup_close_ int fd = -1;
		struct ins_digest name, got;

		/* Other names are check_unused's. */
		if (!hex_name(names[i], &name))
			continue;
		fd = ins_store_open_blob(f->s, &name, err);
		if (fd < 0 || ins_digest_fd(fd, &got, NULL, err) < 0)
			rc = ins_err_prefix(err, "blob %s", name.s);
		/* A corrupt blob is reported by what uses it, or as unused. */
		else if (!ins_digest_equal(&name, &got))
			continue;
		else if (hexset_add(&f->good, &name) < 0)
			rc = ins_err_sys(err, ENOMEM, "blobs");
	}
	ins_names_free(names, n);
	hexset_sort(&f->good);
	return rc;
}

/* A JSON blob of an image, present and sound; NULL (reported as WHY) if not. */
static json_t *sound_json(struct fsck *f, const struct ins_digest *d, char *why, size_t size)
{
	struct ins_error err;
	json_t *doc;

	if (!hexset_has(&f->good, ins_digest_hex(d))) {
		snprintf(why, size, "blob %s is %s", d->s, ins_store_has_blob(f->s, d) ? "corrupt" : "missing");
		return NULL;
	}
	if (!(doc = ins_store_read_json(f->s, d, &err)))
		snprintf(why, size, "%.400s", err.msg);
	return doc;
}

/* Adds the blob DESC (a descriptor) names to the used ones; false (WHY set) when it is missing or unsound. */
static bool use_blob(struct fsck *f, json_t *desc, const char *what, struct ins_digest *d, char *why, size_t size)
{
	struct ins_error err;
	const char *text = json_string_value(json_object_get(desc, "digest"));

	if (!text || ins_digest_parse(text, d, &err) < 0) {
		snprintf(why, size, "%s: no valid digest", what);
		return false;
	}
	hexset_add(&f->blobs, d);
	if (!hexset_has(&f->good, ins_digest_hex(d))) {
		snprintf(why, size, "%s blob %s is %s", what, d->s, ins_store_has_blob(f->s, d) ? "corrupt" : "missing");
		return false;
	}
	return true;
}

/* The unpacked layer DIFF_ID of the layer blob BLOB: present, or unpacked again. */
static void check_unpacked(struct fsck *f, const char *image, const struct ins_digest *blob,
			   const struct ins_digest *diff_id)
{
	struct ins_digest got;
	struct ins_error err;

	if (faccessat(f->s->layersfd, ins_digest_hex(diff_id), F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return;
	if (f->repair && layer_unpack(f->s, blob, diff_id, &got, &err) == 0)
		problem(f, true, "image %s: layer %s was not unpacked: unpacked again", image, diff_id->s);
	else
		problem(f, false, "image %s: layer %s is not unpacked%s%s", image, diff_id->s, f->repair ? ": " : "",
			f->repair ? err.msg : "");
}

/* Checks the image of index entry ENTRY; false (WHY set) when it cannot be read. */
static bool check_image(struct fsck *f, json_t *entry, const char *name, char *why, size_t size)
{
	struct ins_digest mdigest, cdigest;
	json_auto_t *manifest = NULL, *config = NULL;
	json_t *layers, *diff_ids, *desc;
	size_t i;

	if (!use_blob(f, entry, "manifest", &mdigest, why, size) || !(manifest = sound_json(f, &mdigest, why, size)))
		return false;
	if (!use_blob(f, json_object_get(manifest, "config"), "config", &cdigest, why, size) ||
	    !(config = sound_json(f, &cdigest, why, size)))
		return false;
	layers = json_object_get(manifest, "layers");
	diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	if (json_array_size(layers) != json_array_size(diff_ids)) {
		snprintf(why, size, "its manifest has %zu layers, its config %zu diff_ids", json_array_size(layers),
			 json_array_size(diff_ids));
		return false;
	}
	/* Its unpacked layers are in use even if a blob of it is not sound: only a repair drops the image. */
	json_array_foreach(diff_ids, i, desc) {
		struct ins_digest diff_id;
		struct ins_error err;

		if (ins_digest_parse(json_string_value(desc) ?: "", &diff_id, &err) < 0) {
			snprintf(why, size, "diff_id %zu: %.400s", i + 1, err.msg);
			return false;
		}
		hexset_add(&f->layers, &diff_id);
	}
	json_array_foreach(layers, i, desc) {
		struct ins_digest blob, diff_id;
		struct ins_error err;

		if (!use_blob(f, desc, "layer", &blob, why, size))
			return false;
		ins_digest_parse(json_string_value(json_array_get(diff_ids, i)), &diff_id, &err);
		check_unpacked(f, name, &blob, &diff_id);
	}
	return true;
}

/* Every image of the index; those that cannot be read leave it when repairing (*DROPPED set). */
static int check_index(struct fsck *f, bool *dropped, struct ins_error *err)
{
	json_auto_t *index = ins_store_read_index(f->s, err);
	json_t *kept = json_array(), *entry;
	size_t i;

	if (!index || !kept) {
		json_decref(kept);
		return index ? ins_err_sys(err, ENOMEM, "index") : -1;
	}
	json_array_foreach(json_object_get(index, "manifests"), i, entry) {
		const char *ref = json_string_value(
			json_object_get(json_object_get(entry, "annotations"), INS_REF_ANNOTATION));
		const char *digest = json_string_value(json_object_get(entry, "digest"));
		char why[INS_ERROR_MSG_MAX + 128], name[300];

		snprintf(name, sizeof(name), "%s", ref ? ref : digest ? digest : "(no digest)");
		if (check_image(f, entry, name, why, sizeof(why))) {
			json_array_append(kept, entry);
			continue;
		}
		problem(f, f->repair, "image %s: %s%s", name, why, f->repair ? ": removed from the index" : "");
		*dropped |= f->repair;
		if (!f->repair)
			json_array_append(kept, entry);
	}
	json_object_set_new(index, "manifests", kept);
	return *dropped ? ins_store_write_index(f->s, index, err) : 0;
}

/* Entries of DIR (blobs or layers) that USED lacks. */
static int check_unused(struct fsck *f, int dir, const char *what, const struct hexset *used, struct ins_error *err)
{
	char **names;
	size_t n;

	if (ins_dir_names(dir, what, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct ins_digest d;

		if (!hex_name(names[i], &d))
			problem(f, remove_it(f, dir, names[i]), "%s/%s: not a digest", what, names[i]);
		else if (!hexset_has(used, names[i]))
			problem(f, remove_it(f, dir, names[i]), "%s %s: unused, a leftover%s%s", what, d.s,
				dir == f->s->blobsfd && !hexset_has(&f->good, names[i]) ? " (and corrupt)" : "",
				f->repair ? ": removed" : "");
	}
	ins_names_free(names, n);
	return 0;
}

int ins_store_fsck(struct ins_store *s, bool repair, ins_fsck_report *report, void *arg, struct ins_error *err)
{
	static const char *const images[] = { "oci-layout", "index.json", "blobs", NULL };
	static const char *const blobs[] = { "sha256", NULL };
	struct fsck f = { .s = s, .repair = repair, .report = report, .arg = arg };
	_cleanup_close_ int blobsdir = -1;
	bool dropped = false;
	int rc = ins_store_lock(s, err);

	if (rc == 0)
		rc = check_extra(&f, s->imagesfd, "images", images, err);
	if (rc == 0 && (blobsdir = openat(s->imagesfd, "blobs", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = ins_err_sys(err, errno, "images/blobs");
	if (rc == 0)
		rc = check_extra(&f, blobsdir, "images/blobs", blobs, err);
	if (rc == 0)
		rc = check_blobs(&f, err);
	if (rc == 0)
		rc = check_index(&f, &dropped, err);
	/* What the dropped images used is unused now, unless the others use it too: count again. */
	if (rc == 0 && dropped) {
		hexset_free(&f.blobs);
		hexset_free(&f.layers);
		dropped = false;
		rc = check_index(&f, &dropped, err);
	}
	if (rc == 0)
		rc = image_container_layers(s, &f.layers, err);
	hexset_sort(&f.blobs);
	hexset_sort(&f.layers);
	/* An index that cannot be read leaves no way to tell what is used: nothing goes then. */
	if (rc == 0)
		rc = check_unused(&f, s->blobsfd, "blob", &f.blobs, err);
	if (rc == 0)
		rc = check_unused(&f, s->layersfd, "layer", &f.layers, err);
	ins_store_unlock(s);
	hexset_free(&f.good);
	hexset_free(&f.blobs);
	hexset_free(&f.layers);
	return rc < 0 ? -1 : f.remaining;
}
