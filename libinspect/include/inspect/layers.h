/*
 * Layer stacks: the layers a root is merged from, bottom first, each with
 * its kind, its id, its directory on the host and what made it. A stack
 * comes from a source: ctk's containers (image layers, init layer,
 * read-write layer) and ctk's images for now; other runtimes' containers
 * plug in as further sources (see ins_layer_stack_load). Then, per layer,
 * its changes against the layers below it (ins_layer_diff's rules) and its
 * size; and for the stack, dive's image efficiency.
 */
#ifndef INSPECT_LAYERS_H
#define INSPECT_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "inspect/diff.h"
#include "inspect/error.h"
#include "inspect/store.h"

enum ins_layer_kind {
	INS_LAYER_IMAGE, /* a layer of the image */
	INS_LAYER_INIT, /* a container's init layer: the runtime's files */
	INS_LAYER_RW, /* a container's read-write layer */
};

/* "image", "init", "rw". */
const char *ins_layer_kind_name(enum ins_layer_kind kind);

struct ins_layer {
	enum ins_layer_kind kind;
	char *id; /* image: its diff-id ("sha256:<hex>"); init, rw: the container's id */
	char *digest; /* image: its blob's digest, when the image is known; else NULL */
	char *path; /* the directory on the host */
	char *created_by; /* image: its history entry; rw: the container's command; else NULL */
};

/* A volume of a container: where it is mounted, and what. */
struct ins_layer_volume {
	char *destination; /* in the container */
	char *source; /* on the host */
	char *type; /* "anonymous", "named", "bind" */
	bool readonly;
};

struct ins_layer_stack {
	const char *source; /* the source that found it: "ctk container", "ctk image" (static) */
	char *name; /* the container's name, the image's reference (its id when unnamed) */
	char *id; /* the container's id, the image's id */
	struct ins_layer *layers; /* bottom first */
	size_t n;
	/* A container's, beside the stack (source "ctk container" only): */
	bool container;
	pid_t pid; /* PID 1 while running, else 0 */
	char *root; /* where the host reaches its merged root while running (/proc/PID/root), else NULL */
	struct ins_layer_volume *volumes;
	size_t nvolumes;
};

/*
 * The stack NAME names: a ctk container (name, id or unique id prefix),
 * else an image of the store (reference, id or unique id prefix), tried in
 * that order, so a name that is both is the container. Nothing: ENOENT,
 * "NAME: not a ctk container or image".
 */
int ins_layer_stack_load(struct ins_store *s, const char *name, struct ins_layer_stack *st,
			 struct ins_error *err);
void ins_layer_stack_free(struct ins_layer_stack *st);

/*
 * The layer of ST that SPEC names: its index (0 the bottom), its kind ("rw",
 * "init"), or a unique prefix of its id or digest (with or without
 * "sha256:"). Returns the index, or -1.
 */
ssize_t ins_layer_find(const struct ins_layer_stack *st, const char *spec, struct ins_error *err);

/*
 * The changes of layer I of ST against the layers below it, as
 * ins_layer_diff gives them. A read-write layer over an init layer leaves
 * the runtime's files out, as ins_container_diff does.
 */
int ins_layer_stack_diff(const struct ins_layer_stack *st, size_t i, struct ins_diff_change **changes,
			 size_t *n, struct ins_error *err);

struct ins_layer_usage {
	long long bytes; /* of its regular files (apparent sizes, each name counted) */
	long long entries; /* files, directories, links, devices and whiteouts in it */
};

/* What layer L's directory holds; file systems mounted in it are left out. */
int ins_layer_usage(const struct ins_layer *l, struct ins_layer_usage *u, struct ins_error *err);

/* A path whose file the stack holds more than one copy of (dive's "inefficient file"). */
struct ins_layer_waste {
	char *path;
	size_t copies; /* versions, removals included (dive's count) */
	long long bytes; /* of them all */
};

/* Image efficiency, as dive defines it (see ins_layer_efficiency). */
struct ins_layer_efficiency {
	double score; /* 0..1 */
	long long wasted; /* bytes */
	long long total; /* bytes of every copy of every file in every layer */
	struct ins_layer_waste *files; /* most bytes first */
	size_t nfiles;
};

/*
 * Dive's efficiency of the N layers whose changes (bottom first) are
 * CHANGES[i] (NCHANGES[i] of them). Each path has copies: a version of a
 * file (its size) in each layer that adds or changes it, and an empty copy
 * (0 bytes) in each layer that removes it, by a whiteout, an opaque
 * directory or a replacement by a directory, whatever directory it was
 * in. wasted = the bytes of every path with two copies or more (all of
 * them); score = the sum of each path's smallest copy / the sum of all
 * copies (1 when there are no bytes).
 */
int ins_layer_efficiency(struct ins_diff_change *const *changes, const size_t *nchanges, size_t n,
			 struct ins_layer_efficiency *e, struct ins_error *err);
void ins_layer_efficiency_free(struct ins_layer_efficiency *e);

#endif
