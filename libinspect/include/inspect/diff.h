/*
 * What a container changed in its root, as docker diff reports it: read
 * from its read-write layer (CTK_ROOT/containers/<id>/upper) against the
 * layers below it (the init layer, then the image's), with overlayfs's own
 * rules for whiteouts and opaque directories. See ctk-diff(1) for every rule.
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

/*
 * Whether PATTERN (fnmatch, '*' within a name) matches the absolute PATH:
 * all of it when PATTERN starts with '/', else as many of its last names
 * as PATTERN has ("*.pyc" the last one, "cache/f*" the last two).
 */
bool ins_path_glob_matches(const char *pattern, const char *path);

#endif
