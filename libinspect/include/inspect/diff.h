/*
 * What a container changed in its root, as docker diff reports it: read
 * from its read-write layer (CTK_ROOT/containers/<id>/upper) against the
 * layers below it (the init layer, then the image's), with overlayfs's own
 * rules for whiteouts and opaque directories. See ctk-diff(1) for every rule.
 * The same walk gives any layer's changes against the layers below it
 * (ins_layer_diff), as ctk layers shows them for an image's layers.
 */
#ifndef INSPECT_DIFF_H
#define INSPECT_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "inspect/container.h"
#include "inspect/error.h"
#include "inspect/store.h"

enum ins_diff_kind {
	INS_DIFF_ADDED = 'A', /* not in the layers below */
	INS_DIFF_CHANGED = 'C', /* in the layers below, and written, replaced or holding changes */
	INS_DIFF_DELETED = 'D', /* in the layers below, gone from the container's root */
};

struct ins_diff_change {
	enum ins_diff_kind kind;
	char *path; /* absolute, as the container sees it: "/etc/passwd" */
	long long size; /* bytes of a regular file in the read-write layer (A, C); 0 otherwise */
	const char *noise; /* why it is volatile noise (a static string), or NULL */
	unsigned mode; /* the entry's st_mode in the walked layer (A, C); 0 for D */
	bool implied; /* a directory listed (C) only because it holds changes, not for itself */
};

/* A rule of noise: a path glob and the reason it gives. */
struct ins_diff_noise_rule {
	const char *pattern;
	const char *reason;
};

/* The reason of a directory whose changes below are noise of several reasons. */
#define INS_DIFF_NOISE_MIXED "only noise below"

/* The fixed rules of noise, in the order they are tried; *N gets how many. */
const struct ins_diff_noise_rule *ins_diff_noise_rules(size_t *n);

/*
 * The changes of container C, sorted by path with a directory's entries
 * right after it (docker's order), in *CHANGES (free with ins_diff_free).
 * It may be running: what changes meanwhile is seen or not, never an error.
 */
int ins_container_diff(struct ins_store *s, const struct ins_container *c,
		       struct ins_diff_change **changes, size_t *n, struct ins_error *err);
void ins_diff_free(struct ins_diff_change *changes, size_t n);

struct ins_layer_diff_opts {
	/*
	 * LOWERS[0] is a container's init layer: what it holds besides
	 * directories is the runtime's (hosts, hostname, resolv.conf), and
	 * never a change when the walked layer writes or deletes it.
	 */
	bool init_layer;
	/*
	 * LAYER is an overlay's lower layer (an image's), not a read-write
	 * layer: the empty files with overlay.whiteout in its directories
	 * marked overlay.opaque=x are whiteouts (D), as the kernel reads them.
	 */
	bool lower_layer;
	/* The lower layers' names in messages, top first; NULL: "lower layer N". */
	const char *const *labels;
};

/*
 * The changes of the layer directory LAYER against the NLOWERS layer
 * directories LOWERS below it (top first), looked up as overlayfs merges
 * them, in ins_container_diff's form and order; O may be NULL. Errors name
 * the path and the layer, not LAYER itself: callers prefix that.
 */
int ins_layer_diff(int layer, const int *lowers, size_t nlowers, const struct ins_layer_diff_opts *o,
		   struct ins_diff_change **changes, size_t *n, struct ins_error *err);

/*
 * Whether PATTERN (fnmatch, '*' within a name) matches the absolute PATH:
 * all of it when PATTERN starts with '/', else as many of its last names
 * as PATTERN has ("*.pyc" the last one, "cache/f*" the last two).
 */
bool ins_path_glob_matches(const char *pattern, const char *path);

#endif
