/*
 * A layer's changes against the layers below it: a container's read-write
 * layer ("upper") against its init layer and its image's, or any layer of an
 * image against the image's layers below it (ctk layers).
 *
 * The walk goes through the layer one directory at a time, carrying the layers
 * whose directories overlayfs merges under it (its lower stack), so that
 * "was this path in the image" is answered as the kernel answered it for
 * the container: the topmost layer holding a name decides, a whiteout hides
 * it in every layer below, a file ends the stack, an opaque directory hides
 * what the layers below it hold. Stat'ing the path in each layer would call
 * a file that a newer layer deleted "changed" when the container recreates it.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/diff.h"
#include "inspect/digest.h"
#include "inspect/fileio.h"

/* The lower layers are numbered top first, as ctk run stacks them: 0 is a container's init layer. */
#define INIT_LAYER 0

/* One layer's directory among those merged under a directory of the walk. */
struct lower_dir {
	size_t layer;
	bool xwhiteouts; /* marked overlay.opaque=x: its empty files may be whiteouts */
};

/* What the layers below hold at one path, looked up as overlayfs does. */
struct lower {
	bool exists;
	struct stat st; /* the topmost entry: what the container saw there */
	size_t layer; /* the layer that holds it */
	struct lower_dir *dirs; /* a directory: the layers' directories merged into it, top first */
	size_t ndirs;
};

struct differ {
	const int *roots; /* the lower layers' root directories, top first */
	char (*labels)[80]; /* and their names in messages */
	size_t nroots;
	bool init_layer; /* roots[INIT_LAYER] is a container's init layer */
	bool lower_layer; /* the walked layer is an overlay's lower layer: its xwhiteouts count */
	dev_t dev; /* the walked layer's file system, never left */
	struct ins_diff_change *items;
	size_t n, cap;
};

/* A directory of the read-write layer being walked. */
struct walkdir {
	int up;
	const char *rel; /* "" for the root, else "a/b" */
	const struct lower_dir *lower; /* its lower stack */
	size_t nlower;
	int *fds; /* the lower stack's directories, open while its entries are looked up */
	bool covered; /* the layers below are hidden in it: it or a parent is opaque */
	bool xwhiteouts; /* marked overlay.opaque=x in a lower layer: its empty files may be whiteouts */
	char **names; /* its entries, sorted */
	size_t nnames;
};

/* A subdirectory, walked once its parent's entries are done. */
struct subdir {
	const char *name;
	struct lower low;
	bool covered;
	bool listed; /* a change by itself (A or C) */
};

static const struct ins_diff_noise_rule noise_rules[] = {
	{ "/tmp/**", "temporary files" },
	{ "/var/tmp/**", "temporary files" },
	{ "/run/**", "runtime state" },
	{ "/var/run/**", "runtime state" },
	{ "/var/log/**", "logs" },
	{ "/var/cache/apt/**", "package cache (apt)" },
	{ "/var/lib/apt/lists/**", "package lists (apt)" },
	{ "/var/cache/apk/**", "package cache (apk)" },
	{ "/var/cache/dnf/**", "package cache (dnf)" },
	{ "/var/cache/yum/**", "package cache (yum)" },
	{ "/root/.cache/**", "user cache" },
	{ "/home/*/.cache/**", "user cache" },
	{ "/root/.npm/**", "npm cache" },
	{ "/home/*/.npm/**", "npm cache" },
	{ "/root/.*_history", "command history" },
	{ "/home/*/.*_history", "command history" },
	{ "*.pyc", "Python bytecode" },
	{ "__pycache__/**", "Python bytecode" },
};

const struct ins_diff_noise_rule *ins_diff_noise_rules(size_t *n)
{
	*n = sizeof(noise_rules) / sizeof(noise_rules[0]);
	return noise_rules;
}

/* REL/NAME, or NAME at the root; NULL when out of memory. */
static char *join(const char *rel, const char *name)
{
	char *p;

	return asprintf(&p, "%s%s%s", rel, *rel ? "/" : "", name) < 0 ? NULL : p;
}

/* Adds the change KIND of REL (relative to the root), an entry of MODE in the walked layer (D: 0). */
static int record(struct differ *d, enum ins_diff_kind kind, const char *rel, long long size, unsigned mode,
		  bool implied, struct ins_error *err)
{
	struct ins_diff_change *it;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct ins_diff_change *more = realloc(d->items, cap * sizeof(*more));

		if (!more)
			return ins_err_sys(err, ENOMEM, "/%s", rel);
		d->items = more;
		d->cap = cap;
	}
	it = &d->items[d->n];
	*it = (struct ins_diff_change){ .kind = kind, .size = size, .mode = mode, .implied = implied };
	if (asprintf(&it->path, "/%s", rel) < 0)
		return ins_err_sys(err, ENOMEM, "/%s", rel);
	d->n++;
	return 0;
}

/*
 * The value of trusted.overlay.KEY on NAME in DIR ("" for DIR itself) when
 * it is one character, as the kernel reads "opaque"; '?' for another value
 * (a whiteout's is empty), 0 when unset. Never user.overlay.*: ctk mounts
 * its overlays without userxattr, where the kernel ignores those (images
 * and containers can set them), so honouring them would misreport.
 */
static char overlay_xattr(int dir, const char *name, const char *key)
{
	char path[64 + NAME_MAX], attr[64], v[2];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir, name);
	snprintf(attr, sizeof(attr), "trusted.overlay.%s", key);
	/* DIR itself through its fd: lgetxattr of /proc/self/fd/N would read the magic link's own (none). */
	n = *name ? lgetxattr(path, attr, v, sizeof(v)) : fgetxattr(dir, attr, v, sizeof(v));
	if (n == 1)
		return v[0];
	return n >= 0 || errno == ERANGE ? '?' : 0;
}

/*
 * Whether ST (NAME in DIR) is a whiteout: a 0/0 character device, or, in a
 * directory marked for them, an empty file with overlay.whiteout (the
 * "xwhiteouts" of Linux 6.7, cheap to check: only there).
 */
static bool is_whiteout(int dir, const char *name, const struct stat *st, bool xwhiteouts)
{
	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
		return true;
	return xwhiteouts && S_ISREG(st->st_mode) && st->st_size == 0 && overlay_xattr(dir, name, "whiteout");
}

/* Looks NAME up in W's lower stack, as overlayfs does. */
static int lookup(const struct differ *d, const struct walkdir *w, const char *name, struct lower *out,
		  struct ins_error *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < w->nlower; i++) {
		struct stat st;
		char opaque;

		if (fstatat(w->fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return ins_err_sys(err, errno, "%s: '%s/%s'", d->labels[w->lower[i].layer], w->rel, name);
		}
		/* A whiteout hides the name in every layer below. */
		if (is_whiteout(w->fds[i], name, &st, w->lower[i].xwhiteouts))
			break;
		if (!out->exists) {
			out->exists = true;
			out->st = st;
			out->layer = w->lower[i].layer;
		}
		/* A file is what the path is; under a directory it is not seen, nor anything below. */
		if (!S_ISDIR(st.st_mode))
			break;
		if (!out->dirs && !(out->dirs = calloc(w->nlower, sizeof(*out->dirs))))
			return ins_err_sys(err, ENOMEM, "'%s'", name);
		opaque = overlay_xattr(w->fds[i], name, "opaque");
		out->dirs[out->ndirs++] = (struct lower_dir){ w->lower[i].layer, opaque == 'x' };
		if (opaque == 'y')
			break;
	}
	return 0;
}

/* The runtime's own files (hosts, hostname, resolv.conf) are never the container's change. */
static bool init_file(const struct differ *d, size_t layer, const struct stat *st)
{
	return d->init_layer && layer == INIT_LAYER && !S_ISDIR(st->st_mode);
}

/* A file, symlink, device or whiteout of the layer at REL; EXISTS: the layers below show something there. */
static int classify_file(struct differ *d, const struct walkdir *w, const char *name, const char *rel,
			 const struct stat *st, bool exists, struct ins_error *err)
{
	/* A whiteout of nothing deleted nothing. */
	if (is_whiteout(w->up, name, st, w->xwhiteouts))
		return exists ? record(d, INS_DIFF_DELETED, rel, 0, 0, false, err) : 0;
	return record(d, exists ? INS_DIFF_CHANGED : INS_DIFF_ADDED, rel,
		      S_ISREG(st->st_mode) ? (long long)st->st_size : 0, st->st_mode, false, err);
}

/*
 * Classifies the entry NAME of W. A directory is a change by itself when it
 * is new, opaque (it replaced one), or differs from the one below in type,
 * mode or owner; its mtime and size say only that entries came and went,
 * which its entries report. It goes into *SUB (*IS_SUB set) to be walked.
 */
static int classify(struct differ *d, const struct walkdir *w, const char *name, struct subdir *sub,
		    bool *is_sub, struct ins_error *err)
{
	_cleanup_free_ char *rel = join(w->rel, name);
	struct lower low;
	struct stat st;
	enum ins_diff_kind kind = 0;
	bool opaque, runtime;

	*is_sub = false;
	if (!rel)
		return ins_err_sys(err, ENOMEM, "%s", name);
	/* Gone meanwhile: the container may be running. */
	if (fstatat(w->up, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ins_err_sys(err, errno, "/%s", rel);
	if (lookup(d, w, name, &low, err) < 0) {
		free(low.dirs);
		return -1;
	}
	runtime = low.exists && init_file(d, low.layer, &low.st);
	if (runtime || !S_ISDIR(st.st_mode)) {
		free(low.dirs);
		return runtime ? 0 : classify_file(d, w, name, rel, &st, low.exists, err);
	}
	opaque = overlay_xattr(w->up, name, "opaque") == 'y';
	if (!low.exists)
		kind = INS_DIFF_ADDED;
	else if (opaque || !S_ISDIR(low.st.st_mode) || st.st_mode != low.st.st_mode ||
		 st.st_uid != low.st.st_uid || st.st_gid != low.st.st_gid)
		kind = INS_DIFF_CHANGED;
	if (kind && record(d, kind, rel, 0, st.st_mode, false, err) < 0) {
		free(low.dirs);
		return -1;
	}
	*sub = (struct subdir){ .name = name, .low = low, .covered = w->covered || opaque, .listed = kind != 0 };
	*is_sub = true;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether NAME is among the sorted NAMES (as ins_dir_names sorts them). */
static bool listed(char *const *names, size_t n, const char *name)
{
	return n && bsearch(&name, names, n, sizeof(*names), cmp_names);
}

/* Records NAME of layer I of W as deleted unless the layers above it or upper decided on it already. */
static int record_hidden_name(struct differ *d, const struct walkdir *w, size_t i, char ***lists,
			      const size_t *lens, const char *name, struct ins_error *err)
{
	_cleanup_free_ char *rel = NULL;
	struct stat st;

	if (listed(w->names, w->nnames, name))
		return 0;
	for (size_t j = 0; j < i; j++)
		if (listed(lists[j], lens[j], name))
			return 0;
	if (fstatat(w->fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ins_err_sys(err, errno, "%s: '%s/%s'", d->labels[w->lower[i].layer], w->rel, name);
	if (is_whiteout(w->fds[i], name, &st, w->lower[i].xwhiteouts) || init_file(d, w->lower[i].layer, &st))
		return 0;
	if (!(rel = join(w->rel, name)))
		return ins_err_sys(err, ENOMEM, "%s", name);
	return record(d, INS_DIFF_DELETED, rel, 0, 0, false, err);
}

/*
 * In a covered directory, what the layers below show and upper lacks is
 * gone: the topmost layer holding a name decides, as in lookup().
 */
static int record_hidden(struct differ *d, const struct walkdir *w, struct ins_error *err)
{
	char ***lists = calloc(w->nlower + 1, sizeof(*lists));
	size_t *lens = calloc(w->nlower + 1, sizeof(*lens));
	int rc = lists && lens ? 0 : ins_err_sys(err, ENOMEM, "/%s", w->rel);

	for (size_t i = 0; rc == 0 && i < w->nlower; i++) {
		rc = ins_dir_names(w->fds[i], d->labels[w->lower[i].layer], &lists[i], &lens[i], err);
		for (size_t k = 0; rc == 0 && k < lens[i]; k++)
			rc = record_hidden_name(d, w, i, lists, lens, lists[i][k], err);
	}
	for (size_t i = 0; lists && lens && i < w->nlower; i++)
		ins_names_free(lists[i], lens[i]);
	free(lists);
	free(lens);
	return rc;
}

/* Opens W's lower stack: the directory at W->rel in each of its layers. */
static int open_lowers(const struct differ *d, struct walkdir *w, struct ins_error *err)
{
	if (w->nlower && !(w->fds = malloc(w->nlower * sizeof(*w->fds))))
		return ins_err_sys(err, ENOMEM, "/%s", w->rel);
	for (size_t i = 0; i < w->nlower; i++)
		w->fds[i] = -1;
	for (size_t i = 0; i < w->nlower; i++) {
		w->fds[i] = ins_open_beneath(d->roots[w->lower[i].layer], w->rel,
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW, err);
		if (w->fds[i] < 0)
			return ins_err_prefix(err, "%s", d->labels[w->lower[i].layer]);
	}
	return 0;
}

static void close_lowers(struct walkdir *w)
{
	for (size_t i = 0; w->fds && i < w->nlower; i++)
		ins_closep(&w->fds[i]);
	free(w->fds);
	w->fds = NULL;
}

static ssize_t walk(struct differ *d, int up, const char *rel, const struct lower_dir *lower, size_t nlower,
		    bool covered, struct ins_error *err);

/*
 * Walks SUB of the directory UP (at REL). Docker's rule: a directory
 * holding changes is changed too, as a layer of them has to carry it.
 */
static int descend(struct differ *d, int up, const char *rel, const struct subdir *sub, struct ins_error *err)
{
	_cleanup_free_ char *path = join(rel, sub->name);
	_cleanup_close_ int fd = -1;
	struct stat st;
	ssize_t below;

	if (!path)
		return ins_err_sys(err, ENOMEM, "%s", sub->name);
	fd = openat(up, sub->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* Removed or replaced meanwhile: nothing left to walk. */
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : ins_err_sys(err, errno, "/%s", path);
	if (fstat(fd, &st) < 0)
		return ins_err_sys(err, errno, "/%s", path);
	/* Something mounted on it is no part of the layer. */
	if (st.st_dev != d->dev)
		return 0;
	below = walk(d, fd, path, sub->low.dirs, sub->low.ndirs, sub->covered, err);
	if (below < 0)
		return -1;
	return below > 0 && !sub->listed ? record(d, INS_DIFF_CHANGED, path, 0, st.st_mode, true, err) : 0;
}

/*
 * Records the changes in the directory UP of the read-write layer (at REL;
 * its lower stack LOWER) and below; returns how many, or -1. Only one
 * directory's lower stack is open at a time, however deep the walk goes.
 */
static ssize_t walk(struct differ *d, int up, const char *rel, const struct lower_dir *lower, size_t nlower,
		    bool covered, struct ins_error *err)
{
	struct walkdir w = { .up = up, .rel = rel, .lower = lower, .nlower = nlower, .covered = covered };
	struct subdir *subs = NULL;
	size_t nsubs = 0, before = d->n;
	int rc = open_lowers(d, &w, err);

	/* The kernel honours xwhiteouts in lower layers only: a read-write layer's empty files are files. */
	w.xwhiteouts = d->lower_layer && overlay_xattr(up, "", "opaque") == 'x';

	if (rc == 0)
		rc = ins_dir_names(up, *rel ? rel : "/", &w.names, &w.nnames, err);
	if (rc == 0 && w.nnames && !(subs = calloc(w.nnames, sizeof(*subs))))
		rc = ins_err_sys(err, ENOMEM, "/%s", rel);
	for (size_t i = 0; rc == 0 && i < w.nnames; i++) {
		bool is_sub;

		rc = classify(d, &w, w.names[i], &subs[nsubs], &is_sub, err);
		nsubs += rc == 0 && is_sub;
	}
	if (rc == 0 && covered)
		rc = record_hidden(d, &w, err);
	close_lowers(&w);
	for (size_t i = 0; i < nsubs; i++) {
		if (rc == 0)
			rc = descend(d, up, rel, &subs[i], err);
		free(subs[i].low.dirs);
	}
	free(subs);
	ins_names_free(w.names, w.nnames);
	return rc < 0 ? -1 : (ssize_t)(d->n - before);
}

/* A container's lower layers, open, with their names in messages. */
struct stack {
	int *fds;
	char **labels;
	size_t n;
};

static void close_stack(struct stack *l)
{
	for (size_t i = 0; i < l->n; i++) {
		ins_closep(&l->fds[i]);
		free(l->labels[i]);
	}
	free(l->fds);
	free(l->labels);
}

/* Opens the next layer of L: NAME in DIR, called LABEL in messages. */
static int push_layer(struct stack *l, int dir, const char *name, char *label, struct ins_error *err)
{
	if (!label)
		return ins_err_sys(err, ENOMEM, "layers");
	l->labels[l->n] = label;
	l->fds[l->n] = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (l->fds[l->n++] < 0)
		return ins_err_sys(err, errno, "%s", label);
	return 0;
}

/* The lower layers of container C as ctk run stacks them: the init layer, then the image's, newest first. */
static int open_stack(struct ins_store *s, const struct ins_container *c, int dir, struct stack *l,
		      struct ins_error *err)
{
	json_t *layers = json_object_get(json_object_get(c->config, "image"), "layers");
	size_t nlayers = json_array_size(layers);

	l->fds = calloc(nlayers + 1, sizeof(*l->fds));
	l->labels = calloc(nlayers + 1, sizeof(*l->labels));
	if (!l->fds || !l->labels)
		return ins_err_sys(err, ENOMEM, "layers");
	if (push_layer(l, dir, "init", strdup("init layer"), err) < 0)
		return -1;
	for (size_t i = 0; i < nlayers; i++) {
		const char *hex = json_string_value(json_array_get(layers, nlayers - 1 - i));
		struct ins_digest digest;
		char text[96], *label;

		/* A layer is named by its digest: nothing else may reach outside layers/. */
		snprintf(text, sizeof(text), "sha256:%s", hex ? hex : "");
		if (ins_digest_parse(text, &digest, err) < 0)
			return ins_err_prefix(err, "image layer %zu", nlayers - i);
		if (push_layer(l, s->layersfd, hex, asprintf(&label, "layer %.12s", hex) < 0 ? NULL : label, err) < 0)
			return -1;
	}
	return 0;
}

/* The rank of a path's byte in docker's order: '/' before any other, so a directory's entries follow it. */
static int path_rank(char c)
{
	return c == '/' ? 1 : c ? (unsigned char)c + 1 : 0;
}

static int cmp_items(const void *a, const void *b)
{
	const char *x = ((const struct ins_diff_change *)a)->path, *y = ((const struct ins_diff_change *)b)->path;

	while (*x && *x == *y)
		x++, y++;
	return path_rank(*x) - path_rank(*y);
}

bool ins_path_glob_matches(const char *pattern, const char *path)
{
	size_t names = 1;

	if (*pattern != '/') {
		const char *p = path + strlen(path);

		for (const char *q = pattern; *q; q++)
			names += *q == '/';
		while (names && p > path)
			names -= *--p == '/';
		if (names)
			return false;
		path = p + 1;
	}
	return fnmatch(pattern, path, FNM_PATHNAME) == 0;
}

/*
 * Whether RULE matches PATH. A rule DIR followed by a slash and two stars
 * matches what is below DIR, and DIR itself when the container ADDED it.
 */
static bool rule_matches(const char *rule, const char *path, bool added)
{
	size_t len = strlen(rule);
	_cleanup_free_ char *up = NULL;
	char dir[64];

	if (len < 4 || strcmp(rule + len - 3, "/**") != 0)
		return ins_path_glob_matches(rule, path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(len - 3), rule);
	if (added && ins_path_glob_matches(dir, path))
		return true;
	if (!(up = strdup(path)))
		return false;
	for (char *slash; (slash = strrchr(up, '/')) && slash != up;) {
		*slash = '\0';
		if (ins_path_glob_matches(dir, up))
			return true;
	}
	return false;
}

/* The common reason of the changes below directory I when every one is noise, else NULL. */
static const char *noise_below(const struct ins_diff_change *items, size_t n, size_t i)
{
	const char *dir = items[i].path, *reason = NULL;
	size_t len = strlen(dir);

	for (size_t j = i + 1; j < n && strncmp(items[j].path, dir, len) == 0 && items[j].path[len] == '/'; j++) {
		if (!items[j].noise)
			return NULL;
		if (!reason)
			reason = items[j].noise;
		else if (strcmp(reason, items[j].noise) != 0)
			reason = INS_DIFF_NOISE_MIXED;
	}
	return reason;
}

/*
 * Marks noise on the sorted ITEMS: what a rule matches, then (children
 * first) each directory listed only for its changes when all are noise.
 */
static void mark_noise(struct ins_diff_change *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < sizeof(noise_rules) / sizeof(noise_rules[0]) && !items[i].noise; r++)
			if (rule_matches(noise_rules[r].pattern, items[i].path, items[i].kind == INS_DIFF_ADDED))
				items[i].noise = noise_rules[r].reason;
	for (size_t i = n; i-- > 0;)
		if (items[i].implied && !items[i].noise)
			items[i].noise = noise_below(items, n, i);
}

static void differ_free(struct differ *d)
{
	free(d->labels);
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].path);
	free(d->items);
}

/* Sorts and marks the changes, and hands them out. */
static void finish(struct differ *d, struct ins_diff_change **changes, size_t *n)
{
	if (d->n == 0)
		return;
	qsort(d->items, d->n, sizeof(*d->items), cmp_items);
	mark_noise(d->items, d->n);
	*changes = ins_steal_ptr(d->items);
	*n = d->n;
	d->n = 0;
}

int ins_layer_diff(int layer, const int *lowers, size_t nlowers, const struct ins_layer_diff_opts *o,
		   struct ins_diff_change **changes, size_t *n, struct ins_error *err)
{
	struct differ d = { .roots = lowers, .nroots = nlowers, .init_layer = o && o->init_layer && nlowers > 0,
			    .lower_layer = o && o->lower_layer };
	_cleanup_free_ struct lower_dir *stack = calloc(nlowers + 1, sizeof(*stack));
	struct stat st;
	int rc = 0;

	*changes = NULL;
	*n = 0;
	if (fstat(layer, &st) < 0)
		return ins_err_sys(err, errno, "layer");
	d.dev = st.st_dev;
	if (!stack || !(d.labels = calloc(nlowers + 1, sizeof(*d.labels))))
		rc = ins_err_sys(err, ENOMEM, "layers");
	/* The root merges every layer: overlayfs honours no opaque mark on a layer's root. */
	for (size_t i = 0; rc == 0 && i < nlowers; i++) {
		if (o && o->labels)
			snprintf(d.labels[i], sizeof(d.labels[i]), "%s", o->labels[i]);
		else
			snprintf(d.labels[i], sizeof(d.labels[i]), "lower layer %zu", i);
		stack[i] = (struct lower_dir){ i, overlay_xattr(lowers[i], "", "opaque") == 'x' };
	}
	if (rc == 0 && walk(&d, layer, "", stack, nlowers, false, err) < 0)
		rc = -1;
	if (rc == 0)
		finish(&d, changes, n);
	differ_free(&d);
	return rc;
}

int ins_container_diff(struct ins_store *s, const struct ins_container *c,
		       struct ins_diff_change **changes, size_t *n, struct ins_error *err)
{
	_cleanup_close_ int dir = openat(s->containersfd, c->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int up = -1;
	struct stack l = { 0 };
	int rc;

	*changes = NULL;
	*n = 0;
	if (dir < 0)
		return ins_err_sys(err, errno, "container %.12s", c->id);
	up = openat(dir, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (up < 0)
		return ins_err_sys(err, errno, "container %.12s: its read-write layer", c->id);
	rc = open_stack(s, c, dir, &l, err);
	if (rc == 0)
		rc = ins_layer_diff(up, l.fds, l.n,
				    &(struct ins_layer_diff_opts){ .init_layer = true, .labels = (const char *const *)l.labels },
				    changes, n, err);
	close_stack(&l);
	return rc < 0 ? ins_err_prefix(err, "container %.12s", c->id) : 0;
}

void ins_diff_free(struct ins_diff_change *changes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(changes[i].path);
	free(changes);
}
