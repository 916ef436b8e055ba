/*
 * Layer stacks (ctk layers): where they come from, what each layer holds
 * and changes, and how much of the stack is wasted, as dive measures it.
 */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/image.h"
#include "inspect/layers.h"

static const char *const kind_names[] = {
	[INS_LAYER_IMAGE] = "image",
	[INS_LAYER_INIT] = "init",
	[INS_LAYER_RW] = "rw",
};

const char *ins_layer_kind_name(enum ins_layer_kind kind)
{
	return kind_names[kind];
}

static void layer_free(struct ins_layer *l)
{
	free(l->id);
	free(l->digest);
	free(l->path);
	free(l->created_by);
}

void ins_layer_stack_free(struct ins_layer_stack *st)
{
	for (size_t i = 0; i < st->n; i++)
		layer_free(&st->layers[i]);
	free(st->layers);
	for (size_t i = 0; i < st->nvolumes; i++) {
		free(st->volumes[i].destination);
		free(st->volumes[i].source);
		free(st->volumes[i].type);
	}
	free(st->volumes);
	free(st->name);
	free(st->id);
	free(st->root);
	memset(st, 0, sizeof(*st));
}

/* strdup that keeps NULL. */
static char *dup_or_null(const char *s, bool *nomem)
{
	char *d = s ? strdup(s) : NULL;

	*nomem |= s && !d;
	return d;
}

/* Appends a layer to ST (room for it was made); PATH is taken over. */
static int add_layer(struct ins_layer_stack *st, enum ins_layer_kind kind, const char *id, const char *digest,
		     char *path, const char *created_by, struct ins_error *err)
{
	struct ins_layer *l = &st->layers[st->n++];
	bool nomem = !path;

	*l = (struct ins_layer){ .kind = kind, .path = path };
	l->id = dup_or_null(id, &nomem);
	l->digest = dup_or_null(digest, &nomem);
	l->created_by = dup_or_null(created_by, &nomem);
	return nomem ? ins_err_sys(err, ENOMEM, "layers") : 0;
}

/* What made layer L of IMG, from the rows of its history: NULL when it does not say. */
static const char *made_by(const struct ins_history *rows, size_t nrows, const struct ins_image_layer *l)
{
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].layer == l)
			return rows[i].created_by;
	return NULL;
}

/*
 * Appends the image layers of diff-ids HEXES (bottom first) to ST, kept in
 * the store's layers/; IMG, when known, gives their blobs' digests and the
 * history entries that made them (empty_layer entries are no layer's).
 */
static int add_image_layers(struct ins_store *s, struct ins_layer_stack *st, const char *const *hexes, size_t n,
			    const struct ins_image *img, struct ins_error *err)
{
	_cleanup_free_ struct ins_history *rows = NULL;
	size_t nrows = 0;

	if (img && ins_image_history(img, &rows, &nrows, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct ins_image_layer *l = NULL;
		struct ins_digest diff_id;
		char text[96], *path;

		/* A layer is named by its digest: nothing else may reach outside layers/. */
		snprintf(text, sizeof(text), "sha256:%s", hexes[i] ? hexes[i] : "");
		if (ins_digest_parse(text, &diff_id, err) < 0)
			return ins_err_prefix(err, "image layer %zu", i);
		if (img && i < img->nlayers && ins_digest_equal(&img->layers[i].diff_id, &diff_id))
			l = &img->layers[i];
		if (asprintf(&path, "%s/layers/%s", s->root, hexes[i]) < 0)
			path = NULL;
		if (add_layer(st, INS_LAYER_IMAGE, diff_id.s, l ? l->digest.s : NULL, path,
			      l ? made_by(rows, nrows, l) : NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* The volumes of container C's config. */
static int add_volumes(struct ins_layer_stack *st, const struct ins_container *c, struct ins_error *err)
{
	json_t *vols = json_object_get(c->config, "volumes"), *v;
	bool nomem = false;
	size_t i;

	if (!json_array_size(vols))
		return 0;
	if (!(st->volumes = calloc(json_array_size(vols), sizeof(*st->volumes))))
		return ins_err_sys(err, ENOMEM, "volumes");
	json_array_foreach(vols, i, v) {
		struct ins_layer_volume *m = &st->volumes[st->nvolumes++];

		m->destination = dup_or_null(json_string_value(json_object_get(v, "destination")) ?: "", &nomem);
		m->source = dup_or_null(json_string_value(json_object_get(v, "source")) ?: "", &nomem);
		m->type = dup_or_null(json_string_value(json_object_get(v, "type")) ?: "", &nomem);
		m->readonly = json_is_true(json_object_get(v, "readonly"));
	}
	return nomem ? ins_err_sys(err, ENOMEM, "volumes") : 0;
}

/* The container C's stack: its image's layers, its init layer, its read-write layer. */
static int container_stack(struct ins_store *s, const struct ins_container *c, struct ins_layer_stack *st,
			   struct ins_error *err)
{
	json_t *image = json_object_get(c->config, "image"), *layers = json_object_get(image, "layers");
	const char *image_id = json_string_value(json_object_get(image, "id"));
	size_t n = json_array_size(layers);
	_cleanup_free_ const char **hexes = calloc(n + 1, sizeof(*hexes));
	_cleanup_free_ char *command = ins_container_command(c);
	struct ins_image img = { 0 };
	struct ins_error ignored;
	char *init, *upper;
	bool known;
	int rc;

	st->container = true;
	st->pid = ins_container_pid(c);
	st->name = strdup(json_string_value(json_object_get(c->config, "name")) ?: c->id);
	st->id = strdup(c->id);
	st->layers = calloc(n + 2, sizeof(*st->layers));
	if (!hexes || !command || !st->name || !st->id || !st->layers ||
	    (st->pid && asprintf(&st->root, "/proc/%d/root", (int)st->pid) < 0))
		return ins_err_sys(err, ENOMEM, "container %.12s", c->id);
	for (size_t i = 0; i < n; i++)
		hexes[i] = json_string_value(json_array_get(layers, i));
	/* The image may be gone (its layers stay while containers use them): then only the ids are known. */
	known = image_id && ins_image_load(s, image_id, &img, &ignored) == 0;
	rc = add_image_layers(s, st, hexes, n, known ? &img : NULL, err);
	if (known)
		ins_image_free(&img);
	if (rc < 0)
		return ins_err_prefix(err, "container %.12s", c->id);
	if (asprintf(&init, "%s/init", c->dir) < 0)
		init = NULL;
	if (add_layer(st, INS_LAYER_INIT, c->id, NULL, init, NULL, err) < 0)
		return -1;
	if (asprintf(&upper, "%s/upper", c->dir) < 0)
		upper = NULL;
	if (add_layer(st, INS_LAYER_RW, c->id, NULL, upper, command, err) < 0)
		return -1;
	return add_volumes(st, c, err);
}

/*
 * A source of stacks: 1 when NAME is one of its (*ST filled), 0 when it
 * is not (ERR set, to be ignored), -1 on error.
 */
typedef int stack_source_fn(struct ins_store *s, const char *name, struct ins_layer_stack *st,
			    struct ins_error *err);

static int from_container(struct ins_store *s, const char *name, struct ins_layer_stack *st,
			  struct ins_error *err)
{
	struct ins_container c;
	int rc;

	if (ins_container_load(s, name, &c, err) < 0)
		return err->code == ENOENT ? 0 : -1;
	rc = container_stack(s, &c, st, err);
	ins_container_free(&c);
	return rc < 0 ? -1 : 1;
}

static int from_image(struct ins_store *s, const char *name, struct ins_layer_stack *st, struct ins_error *err)
{
	_cleanup_free_ const char **hexes = NULL;
	struct ins_image img;
	int rc = 0;

	if (ins_image_load(s, name, &img, err) < 0)
		return err->code == ENOENT ? 0 : -1;
	st->name = strdup(img.ref ? img.ref : img.id.s);
	st->id = strdup(img.id.s);
	st->layers = calloc(img.nlayers + 1, sizeof(*st->layers));
	hexes = calloc(img.nlayers + 1, sizeof(*hexes));
	if (!st->name || !st->id || !st->layers || !hexes)
		rc = ins_err_sys(err, ENOMEM, "image %s", name);
	for (size_t i = 0; rc == 0 && i < img.nlayers; i++)
		hexes[i] = ins_digest_hex(&img.layers[i].diff_id);
	if (rc == 0 && add_image_layers(s, st, hexes, img.nlayers, &img, err) < 0)
		rc = ins_err_prefix(err, "image %s", st->name);
	ins_image_free(&img);
	return rc < 0 ? -1 : 1;
}

/*
 * Where stacks come from, in the order NAME is tried: containers first, so
 * a name that is a container's and an image's is the container. Other
 * runtimes' containers (docker, podman, a PID) are sources to add here.
 */
static const struct {
	const char *name;
	stack_source_fn *load;
} sources[] = {
	{ "ctk container", from_container },
	{ "ctk image", from_image },
};

int ins_layer_stack_load(struct ins_store *s, const char *name, struct ins_layer_stack *st,
			 struct ins_error *err)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		int rc = sources[i].load(s, name, st, err);

		if (rc != 0) {
			if (rc < 0)
				ins_layer_stack_free(st);
			else
				st->source = sources[i].name;
			return rc < 0 ? -1 : 0;
		}
		ins_layer_stack_free(st);
	}
	return ins_err(err, ENOENT, "%s: not a ctk container or image", name);
}

/* Whether SPEC starts the digest D ("sha256:<hex>"), with or without its algorithm. */
static bool digest_prefix(const char *d, const char *spec)
{
	const char *hex = strncmp(spec, "sha256:", 7) == 0 ? spec + 7 : spec;
	size_t len = strlen(hex);

	return d && len >= 3 && strspn(hex, "0123456789abcdef") == len && strncmp(d + 7, hex, len) == 0;
}

/* Whether layer I of ST is what SPEC names by kind or digest. */
static bool layer_matches(const struct ins_layer_stack *st, size_t i, const char *spec)
{
	const struct ins_layer *l = &st->layers[i];

	if (l->kind != INS_LAYER_IMAGE)
		return strcmp(spec, ins_layer_kind_name(l->kind)) == 0;
	return digest_prefix(l->id, spec) || digest_prefix(l->digest, spec);
}

ssize_t ins_layer_find(const struct ins_layer_stack *st, const char *spec, struct ins_error *err)
{
	size_t len = strlen(spec);
	ssize_t match = -1;

	/* A number is an index before it is a digest prefix. */
	if (len && len < 8 && strspn(spec, "0123456789") == len && (size_t)atoi(spec) < st->n)
		return atoi(spec);
	for (size_t i = 0; i < st->n; i++) {
		if (!layer_matches(st, i, spec))
			continue;
		if (match >= 0)
			return ins_err(err, EINVAL, "%s: ambiguous: layers %zd and %zu of %s", spec, match, i,
				       st->name),
			       -1;
		match = (ssize_t)i;
	}
	if (match < 0)
		return ins_err(err, ENOENT, "%s: no such layer in %s (0..%zu%s or a digest prefix)", spec, st->name,
			       st->n ? st->n - 1 : 0, st->container ? ", init, rw" : ""),
		       -1;
	return match;
}

/* The layer's name in messages: "layer 56f44cb49701", "init layer", "read-write layer". */
static void layer_label(const struct ins_layer *l, char *buf, size_t size)
{
	if (l->kind == INS_LAYER_IMAGE)
		snprintf(buf, size, "layer %.12s", l->id + 7);
	else
		snprintf(buf, size, "%s", l->kind == INS_LAYER_INIT ? "init layer" : "read-write layer");
}

static int open_layer(const struct ins_layer *l, struct ins_error *err)
{
	int fd = open(l->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? ins_err_sys(err, errno, "%s", l->path) : fd;
}

int ins_layer_stack_diff(const struct ins_layer_stack *st, size_t i, struct ins_diff_change **changes,
			 size_t *n, struct ins_error *err)
{
	_cleanup_close_ int top = open_layer(&st->layers[i], err);
	int *fds = calloc(i + 1, sizeof(*fds));
	char (*names)[32] = calloc(i + 1, sizeof(*names));
	const char **labels = calloc(i + 1, sizeof(*labels));
	struct ins_layer_diff_opts o = { .labels = labels };
	size_t opened = 0;
	char self[32];
	int rc = top < 0 ? -1 : 0;

	*changes = NULL;
	*n = 0;
	if (rc == 0 && (!fds || !names || !labels))
		rc = ins_err_sys(err, ENOMEM, "layers");
	/* The layers below, top first, as overlayfs stacks them. */
	for (size_t j = 0; rc == 0 && j < i; j++, opened++) {
		const struct ins_layer *l = &st->layers[i - 1 - j];

		layer_label(l, names[j], sizeof(names[j]));
		labels[j] = names[j];
		if ((fds[j] = open_layer(l, err)) < 0)
			rc = -1;
	}
	o.init_layer = st->layers[i].kind == INS_LAYER_RW && i > 0 && st->layers[i - 1].kind == INS_LAYER_INIT;
	o.lower_layer = st->layers[i].kind != INS_LAYER_RW;
	if (rc == 0)
		rc = ins_layer_diff(top, fds, i, &o, changes, n, err);
	for (size_t j = 0; j < opened; j++)
		ins_closep(&fds[j]);
	free(fds);
	free(names);
	free(labels);
	layer_label(&st->layers[i], self, sizeof(self));
	return rc < 0 ? ins_err_prefix(err, "%s: %s", st->name, self) : 0;
}

int ins_layer_usage(const struct ins_layer *l, struct ins_layer_usage *u, struct ins_error *err)
{
	char *const paths[] = { l->path, NULL };
	FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	FTSENT *e;
	int rc = 0;

	memset(u, 0, sizeof(*u));
	if (!fts)
		return ins_err_sys(err, errno, "%s", l->path);
	while (rc == 0) {
		errno = 0;
		if (!(e = fts_read(fts))) {
			rc = errno ? ins_err_sys(err, errno, "%s", l->path) : 0;
			break;
		}
		/* A running container's entries may go while they are counted. */
		if (e->fts_info == FTS_NS || e->fts_info == FTS_DNR || e->fts_info == FTS_ERR)
			rc = e->fts_errno == ENOENT ? 0 : ins_err_sys(err, e->fts_errno, "%s", e->fts_path);
		else if (e->fts_level > 0 && e->fts_info != FTS_DP) {
			u->entries++;
			if (S_ISREG(e->fts_statp->st_mode))
				u->bytes += e->fts_statp->st_size;
		}
	}
	fts_close(fts);
	return rc;
}

/*
 * Efficiency. dive (github.com/wagoodman/dive, dive/filetree/efficiency.go
 * and dive/image/analysis.go) visits every file of every layer: each is a
 * copy of its path, of its size, and a whiteout is one of 0 bytes (of the
 * sizes below it, for a directory); a path with two copies or more is an
 * "inefficient file", and its bytes, every copy's, are wasted; the score is
 * the sum of each path's smallest copy over the sum of all. We follow that,
 * with overlayfs's rules for what a layer hides: a removed or replaced
 * directory gives each file that was visible below it an empty copy (dive
 * gives the directory's path one copy of their total, which is never
 * wasted on its own), and an opaque directory removes what it hides (dive
 * ignores opaque markers). Directories are no copies.
 */
#define NONE SIZE_MAX

enum seen { SEEN_NOTHING, SEEN_FILE, SEEN_DIR };

struct node {
	char *path;
	size_t first_child, next_sibling;
	enum seen seen; /* what the layers so far show at the path */
	size_t copies;
	long long bytes, min;
};

struct tree {
	struct node *v;
	size_t n, cap;
	struct hsearch_data index; /* path -> node */
};

/* The node of PATH ("/a/b"; "" the root), made with its parents when new; NONE when out of memory. */
static size_t node_at(struct tree *t, const char *path)
{
	ENTRY want = { .key = (char *)path }, *found = NULL;
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *parent = NULL;
	size_t up = NONE, i;

	if (hsearch_r(want, FIND, &found, &t->index) && found)
		return (size_t)(uintptr_t)found->data;
	if (*path && !(parent = strndup(path, (size_t)(slash ? slash - path : 0))))
		return NONE;
	if (*path && (up = node_at(t, parent)) == NONE)
		return NONE;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct node *more = realloc(t->v, cap * sizeof(*more));

		if (!more)
			return NONE;
		t->v = more;
		t->cap = cap;
	}
	i = t->n;
	t->v[i] = (struct node){ .path = strdup(path), .first_child = NONE, .next_sibling = NONE };
	want = (ENTRY){ .key = t->v[i].path, .data = (void *)(uintptr_t)i };
	if (!t->v[i].path || !hsearch_r(want, ENTER, &found, &t->index)) {
		free(t->v[i].path);
		return NONE;
	}
	t->n++;
	if (up != NONE) {
		t->v[i].next_sibling = t->v[up].first_child;
		t->v[up].first_child = i;
	}
	return i;
}

static void add_copy(struct node *x, long long size)
{
	x->bytes += size;
	if (x->copies++ == 0 || size < x->min)
		x->min = size;
}

/* What a layer removes or replaces at node I: an empty copy of each file it showed there. */
static void hide(struct tree *t, size_t i)
{
	if (t->v[i].seen == SEEN_FILE)
		add_copy(&t->v[i], 0);
	else if (t->v[i].seen == SEEN_DIR)
		for (size_t c = t->v[i].first_child; c != NONE; c = t->v[c].next_sibling)
			hide(t, c);
	t->v[i].seen = SEEN_NOTHING;
}

/* Stacks change C of the next layer on the layers below, as overlayfs would show it. */
static int apply(struct tree *t, const struct ins_diff_change *c, struct ins_error *err)
{
	size_t i = node_at(t, c->path);

	if (i == NONE)
		return ins_err_sys(err, ENOMEM, "%s", c->path);
	if (c->kind == INS_DIFF_DELETED) {
		hide(t, i);
	} else if (S_ISDIR(c->mode)) {
		if (t->v[i].seen == SEEN_FILE)
			hide(t, i);
		t->v[i].seen = SEEN_DIR;
	} else {
		if (t->v[i].seen == SEEN_DIR)
			hide(t, i);
		add_copy(&t->v[i], c->size);
		t->v[i].seen = SEEN_FILE;
	}
	return 0;
}

static int cmp_waste(const void *a, const void *b)
{
	const struct ins_layer_waste *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->path, y->path);
}

/* The score, the waste and the inefficient files of the stacked tree T. */
static int score(struct tree *t, struct ins_layer_efficiency *e, struct ins_error *err)
{
	long long smallest = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct node *x = &t->v[i];

		e->total += x->bytes;
		smallest += x->min;
		if (x->copies < 2)
			continue;
		if (!e->files && !(e->files = calloc(t->n, sizeof(*e->files))))
			return ins_err_sys(err, ENOMEM, "efficiency");
		/* The path goes to the list: the index is not searched any more. */
		e->files[e->nfiles++] = (struct ins_layer_waste){ .path = ins_steal_ptr(x->path),
								  .copies = x->copies, .bytes = x->bytes };
		e->wasted += e->files[e->nfiles - 1].bytes;
	}
	e->score = e->total ? (double)smallest / (double)e->total : 1.0;
	if (e->nfiles)
		qsort(e->files, e->nfiles, sizeof(*e->files), cmp_waste);
	return 0;
}

int ins_layer_efficiency(struct ins_diff_change *const *changes, const size_t *nchanges, size_t n,
			 struct ins_layer_efficiency *e, struct ins_error *err)
{
	struct tree t = { 0 };
	size_t all = 0;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	for (size_t l = 0; l < n; l++)
		all += nchanges[l];
	/* Each path is a change somewhere, its parents too: twice that leaves the table room. */
	if (!hcreate_r(2 * all + 64, &t.index))
		return ins_err_sys(err, errno, "efficiency");
	if (node_at(&t, "") == NONE)
		rc = ins_err_sys(err, ENOMEM, "efficiency");
	else
		t.v[0].seen = SEEN_DIR;
	for (size_t l = 0; rc == 0 && l < n; l++)
		for (size_t k = 0; rc == 0 && k < nchanges[l]; k++)
			rc = apply(&t, &changes[l][k], err);
	if (rc == 0)
		rc = score(&t, e, err);
	hdestroy_r(&t.index);
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i].path);
	free(t.v);
	if (rc < 0)
		ins_layer_efficiency_free(e);
	return rc;
}

void ins_layer_efficiency_free(struct ins_layer_efficiency *e)
{
	for (size_t i = 0; i < e->nfiles; i++)
		free(e->files[i].path);
	free(e->files);
	memset(e, 0, sizeof(*e));
}
