/*
 * ctk commit: a container's read-write layer made into one new layer on top
 * of its image's, stored as a new image (docker commit). What goes in is
 * what ins_container_diff reports, less volume contents and what --exclude
 * names; deletions become ".wh.NAME" entries. See ctk-commit(1).
 */
#ifndef INSPECT_COMMIT_H
#define INSPECT_COMMIT_H

#include <stddef.h>

#include "inspect/container.h"
#include "inspect/error.h"
#include "inspect/image.h"
#include "inspect/store.h"

struct ins_commit_opts {
	const char *ref; /* the new image's name; NULL: an unnamed image */
	const char *author; /* the config's and the history entry's "author" */
	const char *message; /* the history entry's "comment" */
	const char *const *changes; /* Dockerfile instructions applied to the config */
	size_t nchanges;
	const char *const *excludes; /* globs (as ctk diff's noise rules) of paths left out, with what is below them */
	size_t nexcludes;
};

/* What the new layer holds: docker diff's kinds, counted, and the bytes of files added and changed. */
struct ins_commit_summary {
	size_t added, changed, deleted;
	long long added_bytes, changed_bytes;
	long long layer_size; /* of the layer's tar */
};

/*
 * Commits container C (running or not; a running one is not paused, so
 * what it changes meanwhile may or may not be in the layer). IMG receives
 * the new image, SUMMARY (may be NULL) what its layer holds.
 */
int ins_container_commit(struct ins_store *s, const struct ins_container *c, const struct ins_commit_opts *o,
			 struct ins_image *img, struct ins_commit_summary *summary, struct ins_error *err);

#endif
