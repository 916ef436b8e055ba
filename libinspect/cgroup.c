#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect/cgroup.h"
#include "inspect/cleanup.h"
#include "mountlib.h"
#include "inspect/fileio.h"
#include "inspect/proc.h"

static int add_entry(struct ins_cgroup_set *set, unsigned hierarchy, const char *ctrl,
		     size_t ctrl_len, const char *path, size_t path_len)
{
	struct ins_cgroup_entry *n = realloc(set->entries, (set->n + 1) * sizeof(*n));

	if (!n)
		return -1;
	set->entries = n;
	n[set->n] = (struct ins_cgroup_entry){
		.hierarchy = hierarchy,
		.controllers = strndup(ctrl, ctrl_len),
		.path = strndup(path, path_len),
	};
	set->n++;
	return n[set->n - 1].controllers && n[set->n - 1].path ? 0 : -1;
}

int ins_cgroup_parse(const char *text, struct ins_cgroup_set *set, struct ins_error *err)
{
	const char *line = text;

	memset(set, 0, sizeof(*set));
	while (*line) {
		const char *end = strchrnul(line, '\n');
		const char *c1 = memchr(line, ':', (size_t)(end - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		char *num_end;
		unsigned long id;

		if (end == line) { /* blank line */
			line = *end ? end + 1 : end;
			continue;
		}
		id = strtoul(line, &num_end, 10);
		if (!c2 || num_end != c1 || c2 + 1 >= end || c2[1] != '/') {
			ins_cgroup_set_free(set);
			return ins_err(err, EINVAL, "malformed cgroup line: %.*s", (int)(end - line),
				       line);
		}
		if (add_entry(set, (unsigned)id, c1 + 1, (size_t)(c2 - c1 - 1), c2 + 1,
			      (size_t)(end - c2 - 1)) < 0) {
			ins_cgroup_set_free(set);
			return ins_err_sys(err, ENOMEM, "cgroup");
		}
		line = *end ? end + 1 : end;
	}
	return 0;
}

int ins_cgroup_of_pid(pid_t pid, struct ins_cgroup_set *set, struct ins_error *err)
{
	_cleanup_free_ char *text = ins_proc_read(pid, "cgroup", NULL, err);

	if (!text)
		return -1;
	if (ins_cgroup_parse(text, set, err) < 0)
		return ins_err_prefix(err, "/proc/%d/cgroup", (int)pid);
	return 0;
}

void ins_cgroup_set_free(struct ins_cgroup_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->entries[i].controllers);
		free(set->entries[i].path);
	}
	free(set->entries);
	set->entries = NULL;
	set->n = 0;
}

/* The controllers the kernel has for cgroup v1, from /proc/cgroups' first column. */
static bool is_v1_controller(const char *name, const char *proc_cgroups)
{
	size_t len = strlen(name);

	for (const char *line = proc_cgroups; *line;) {
		if (strncmp(line, name, len) == 0 && (line[len] == '\t' || line[len] == ' '))
			return true;
		line = strchrnul(line, '\n');
		if (*line)
			line++;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* LIST (separated by SEPS) as a sorted, comma-separated string, keeping what KEEP accepts. */
static char *normalize_list(const char *list, const char *seps, bool (*keep)(const char *, const void *),
			    const void *arg)
{
	_cleanup_free_ char *copy = strdup(list ? list : "");
	char *items[64], *save = NULL, *out;
	size_t n = 0, len = 1;

	if (!copy)
		return NULL;
	for (char *t = strtok_r(copy, seps, &save); t && n < 64; t = strtok_r(NULL, seps, &save))
		if (!keep || keep(t, arg))
			items[n++] = t, len += strlen(t) + 1;
	qsort(items, n, sizeof(*items), cmp_str);
	out = calloc(1, len);
	for (size_t i = 0; out && i < n; i++)
		strcat(strcat(out, i ? "," : ""), items[i]);
	return out;
}

static bool keep_v1_option(const char *opt, const void *proc_cgroups)
{
	return strncmp(opt, "name=", 5) == 0 || is_v1_controller(opt, proc_cgroups);
}

static int add_hier(struct ins_cgroup_hiers *hs, struct libmnt_fs *fs, bool v2, const char *proc_cgroups,
		    struct ins_error *err)
{
	const char *mount = libmount.mnt_fs_get_target(fs), *root = libmount.mnt_fs_get_root(fs);
	struct ins_cgroup_hier h = { .v2 = v2 };
	struct ins_cgroup_hier *n;

	if (v2) {
		char path[4096];
		_cleanup_free_ char *text = NULL;

		snprintf(path, sizeof(path), "%s/cgroup.controllers", mount);
		text = ins_read_file_at(AT_FDCWD, path, NULL, err);
		h.controllers = normalize_list(text, " \n", NULL, NULL);
	} else {
		h.controllers = normalize_list(libmount.mnt_fs_get_fs_options(fs), ",", keep_v1_option,
					       proc_cgroups);
	}
	/* The same hierarchy mounted twice is one hierarchy. */
	for (size_t i = 0; h.controllers && i < hs->n; i++)
		if (hs->h[i].v2 == v2 && (v2 || strcmp(hs->h[i].controllers, h.controllers) == 0)) {
			free(h.controllers);
			return 0;
		}
	h.mount = strdup(mount);
	h.root = strdup(root ? root : "/");
	n = realloc(hs->h, (hs->n + 1) * sizeof(*n));
	if (!h.controllers || !h.mount || !h.root || !n) {
		free(h.controllers);
		free(h.mount);
		free(h.root);
		if (n)
			hs->h = n;
		return ins_err_sys(err, ENOMEM, "cgroup hierarchies");
	}
	hs->h = n;
	hs->h[hs->n++] = h;
	return 0;
}

int ins_cgroup_hiers_read(struct ins_cgroup_hiers *hs, struct ins_error *err)
{
	_cleanup_free_ char *proc_cgroups = ins_read_file_at(AT_FDCWD, "/proc/cgroups", NULL, err);
	struct libmnt_table *tb;
	struct libmnt_iter *itr;
	struct libmnt_fs *fs;
	int rc = 0;

	memset(hs, 0, sizeof(*hs));
	if (!proc_cgroups)
		return -1;
	tb = ins_mount_table("/proc/self/mountinfo", err);
	if (!tb)
		return -1;
	itr = libmount.mnt_new_iter(MNT_ITER_FORWARD);
	while (rc == 0 && itr && libmount.mnt_table_next_fs(tb, itr, &fs) == 0) {
		bool v2 = libmount.mnt_fs_match_fstype(fs, "cgroup2");

		if (v2 || libmount.mnt_fs_match_fstype(fs, "cgroup"))
			rc = add_hier(hs, fs, v2, proc_cgroups, err);
	}
	if (!itr)
		rc = ins_err_sys(err, ENOMEM, "cgroup hierarchies");
	libmount.mnt_free_iter(itr);
	libmount.mnt_unref_table(tb);
	if (rc < 0)
		ins_cgroup_hiers_free(hs);
	return rc;
}

void ins_cgroup_hiers_free(struct ins_cgroup_hiers *hs)
{
	for (size_t i = 0; i < hs->n; i++) {
		free(hs->h[i].mount);
		free(hs->h[i].root);
		free(hs->h[i].controllers);
	}
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

bool ins_cgroup_hier_has(const struct ins_cgroup_hier *h, const char *controller)
{
	size_t len = strlen(controller);

	for (const char *p = h->controllers; (p = strstr(p, controller)); p += len)
		if ((p == h->controllers || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

const struct ins_cgroup_hier *ins_cgroup_hier_of(const struct ins_cgroup_hiers *hs,
						 const struct ins_cgroup_entry *e)
{
	bool v2 = e->hierarchy == 0 && !*e->controllers;
	_cleanup_free_ char *want = v2 ? NULL : normalize_list(e->controllers, ",", NULL, NULL);

	for (size_t i = 0; i < hs->n; i++)
		if (hs->h[i].v2 == v2 && (v2 || (want && strcmp(hs->h[i].controllers, want) == 0)))
			return &hs->h[i];
	return NULL;
}

/* PATH below ROOT ("/" or a prefix directory), or NULL when PATH is outside ROOT. */
static const char *below_root(const char *path, const char *root)
{
	size_t rlen = strlen(root);

	if (strcmp(root, "/") == 0)
		return path;
	if (strncmp(path, root, rlen) != 0 || (path[rlen] != '/' && path[rlen] != '\0'))
		return NULL;
	return path + rlen;
}

char *ins_cgroup_hier_dir(const struct ins_cgroup_hier *h, const char *path, struct ins_error *err)
{
	const char *rest = below_root(path, h->root);
	char *dir;

	if (!rest)
		return ins_err(err, ENOENT, "cgroup %s is outside the mount of %s", path, h->mount), NULL;
	if (asprintf(&dir, "%s%s", h->mount, strcmp(rest, "/") == 0 ? "" : rest) < 0)
		return ins_err_sys(err, ENOMEM, "cgroup"), NULL;
	return dir;
}

char *ins_cgroup_dir(const struct ins_cgroup_entry *entry, struct ins_error *err)
{
	struct ins_cgroup_hiers hs;
	const struct ins_cgroup_hier *h;
	char *dir = NULL;

	if (ins_cgroup_hiers_read(&hs, err) < 0)
		return NULL;
	h = ins_cgroup_hier_of(&hs, entry);
	if (h)
		dir = ins_cgroup_hier_dir(h, entry->path, err);
	else
		ins_err(err, ENOENT, "cgroup hierarchy %s is not mounted here",
			*entry->controllers ? entry->controllers : "cgroup2");
	ins_cgroup_hiers_free(&hs);
	return dir;
}

/* Writes TEXT to FILE in DIR. */
static int write_in(const char *dir, const char *file, const char *text, struct ins_error *err)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return ins_write_file_at(AT_FDCWD, path, text, err);
}

/*
 * The file through which the calling process, single-threaded, joins a
 * cgroup of H. On v1 it is tasks: moving one thread (itself, "0") spares
 * the global lock that moving a whole process through cgroup.procs takes,
 * and taking that lock waits for an RCU grace period, milliseconds on a
 * busy host. v2 takes processes only (but see CLONE_INTO_CGROUP).
 */
static const char *self_join_file(const struct ins_cgroup_hier *h)
{
	return h->v2 ? "cgroup.procs" : "tasks";
}

int ins_cgroup_join_pid(pid_t pid, struct ins_error *err)
{
	struct ins_cgroup_set set;
	struct ins_cgroup_hiers hs;
	int rc = 0;

	if (ins_cgroup_of_pid(pid, &set, err) < 0)
		return -1;
	if (ins_cgroup_hiers_read(&hs, err) < 0) {
		ins_cgroup_set_free(&set);
		return -1;
	}
	for (size_t i = 0; i < set.n && rc == 0; i++) {
		const struct ins_cgroup_hier *h = ins_cgroup_hier_of(&hs, &set.entries[i]);
		_cleanup_free_ char *dir = NULL;

		if (!h)
			continue; /* a hierarchy we cannot see cannot be joined */
		dir = ins_cgroup_hier_dir(h, set.entries[i].path, err);
		/* "0" means the writer itself, in v1 and v2 alike. */
		rc = dir ? write_in(dir, self_join_file(h), "0", err) : -1;
	}
	ins_cgroup_hiers_free(&hs);
	ins_cgroup_set_free(&set);
	return rc;
}

/* v1 cpusets start empty and accept no process: give a new one its parent's CPUs and nodes. */
static int init_cpuset(const char *dir, struct ins_error *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

	for (size_t i = 0; i < 2; i++) {
		char path[4096];
		_cleanup_free_ char *mine = NULL, *parents = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		mine = ins_read_file_at(AT_FDCWD, path, NULL, err);
		if (!mine)
			return -1;
		if (mine[0] != '\n' && mine[0] != '\0')
			continue;
		snprintf(path, sizeof(path), "%s/../%s", dir, files[i]);
		parents = ins_read_file_at(AT_FDCWD, path, NULL, err);
		if (!parents || write_in(dir, files[i], parents, err) < 0)
			return -1;
	}
	return 0;
}

/* On cgroup v2, lets DIR's children use the controllers we set limits and read stats with. */
static int enable_controllers(const char *dir, struct ins_error *err)
{
	static const char *const wanted[] = { "cpu", "memory", "pids", "io" };
	char path[4096], change[64] = "";
	_cleanup_free_ char *offered = NULL;
	struct ins_cgroup_hier here = { 0 };

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	offered = ins_read_file_at(AT_FDCWD, path, NULL, err);
	if (!offered)
		return -1;
	here.controllers = normalize_list(offered, " \n", NULL, NULL);
	for (size_t i = 0; here.controllers && i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (ins_cgroup_hier_has(&here, wanted[i]))
			snprintf(change + strlen(change), sizeof(change) - strlen(change), "%s+%s",
				 change[0] ? " " : "", wanted[i]);
	free(here.controllers);
	return change[0] ? write_in(dir, "cgroup.subtree_control", change, err) : 0;
}

/* mkdir -p of PATH below the hierarchy's mount, preparing each level it makes. */
static int make_dirs(const struct ins_cgroup_hier *h, const char *path, struct ins_error *err)
{
	_cleanup_free_ char *dir = ins_cgroup_hier_dir(h, path, err);
	bool cpuset = !h->v2 && ins_cgroup_hier_has(h, "cpuset");

	if (!dir)
		return -1;
	for (char *p = dir + strlen(h->mount) + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		/* On v2 a level's parent must hand its controllers down before the level can use them. */
		*strrchr(dir, '/') = '\0';
		if (h->v2 && enable_controllers(dir, err) < 0)
			return ins_err_prefix(err, "cgroup %s", path);
		dir[strlen(dir)] = '/';
		if (mkdir(dir, 0755) == 0) {
			if (cpuset && init_cpuset(dir, err) < 0)
				return ins_err_prefix(err, "cgroup %s", path);
		} else if (errno != EEXIST) {
			return ins_err_sys(err, errno, "%s", dir);
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/* Formats V into BUF and writes it to FILE of PATH in hierarchy H. */
static int write_limit(const struct ins_cgroup_hier *h, const char *path, const char *file,
		       const char *text, struct ins_error *err)
{
	_cleanup_free_ char *dir = ins_cgroup_hier_dir(h, path, err);

	if (!dir || write_in(dir, file, text, err) < 0)
		return ins_err_prefix(err, "cgroup %s", path);
	return 0;
}

/* The hierarchy that has CONTROLLER, v1 before v2 (on a hybrid host v2 lacks it anyway). */
static const struct ins_cgroup_hier *owner_of(const struct ins_cgroup_hiers *hs, const char *controller)
{
	for (int v2 = 0; v2 < 2; v2++)
		for (size_t i = 0; i < hs->n; i++)
			if (hs->h[i].v2 == v2 && ins_cgroup_hier_has(&hs->h[i], controller))
				return &hs->h[i];
	return NULL;
}

static int file_exists(const struct ins_cgroup_hier *h, const char *path, const char *file)
{
	char full[4096];
	struct ins_error ignored;
	_cleanup_free_ char *dir = ins_cgroup_hier_dir(h, path, &ignored);

	if (!dir)
		return false;
	snprintf(full, sizeof(full), "%s/%s", dir, file);
	return access(full, F_OK) == 0;
}

static int apply_limits(const struct ins_cgroup_hiers *hs, const char *path,
			const struct ins_cgroup_limits *l, struct ins_error *err)
{
	const struct ins_cgroup_hier *cpu = owner_of(hs, "cpu"), *mem = owner_of(hs, "memory"),
				     *pids = owner_of(hs, "pids");
	char v[64];

	if ((l->cpu_quota_us && !cpu) || (l->memory_bytes && !mem) || (l->pids_max && !pids))
		return ins_err(err, ENOTSUP, "no %s controller is mounted: cannot set its limit",
			       l->cpu_quota_us && !cpu ? "cpu" : l->memory_bytes && !mem ? "memory" : "pids");
	if (l->cpu_quota_us && cpu->v2) {
		snprintf(v, sizeof(v), "%lld %d", l->cpu_quota_us, INS_CGROUP_CPU_PERIOD_US);
		if (write_limit(cpu, path, "cpu.max", v, err) < 0)
			return -1;
	} else if (l->cpu_quota_us) {
		snprintf(v, sizeof(v), "%d", INS_CGROUP_CPU_PERIOD_US);
		if (write_limit(cpu, path, "cpu.cfs_period_us", v, err) < 0)
			return -1;
		snprintf(v, sizeof(v), "%lld", l->cpu_quota_us);
		if (write_limit(cpu, path, "cpu.cfs_quota_us", v, err) < 0)
			return -1;
	}
	if (l->memory_bytes) {
		snprintf(v, sizeof(v), "%lld", l->memory_bytes);
		if (write_limit(mem, path, mem->v2 ? "memory.max" : "memory.limit_in_bytes", v, err) < 0)
			return -1;
		/* No swap beyond the limit: memory+swap equals memory (v1), swap is 0 (v2). */
		if (!mem->v2 && file_exists(mem, path, "memory.memsw.limit_in_bytes") &&
		    write_limit(mem, path, "memory.memsw.limit_in_bytes", v, err) < 0)
			return -1;
		if (mem->v2 && file_exists(mem, path, "memory.swap.max") &&
		    write_limit(mem, path, "memory.swap.max", "0", err) < 0)
			return -1;
	}
	if (l->pids_max) {
		snprintf(v, sizeof(v), "%lld", l->pids_max);
		if (write_limit(pids, path, "pids.max", v, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * The hierarchies a container gets a cgroup in: cgroup2, and the v1 ones of
 * the controllers ctk limits or reads (cpu, cpuacct, memory, pids, blkio).
 * Others (devices, freezer, cpuset, named ones) would only cost a directory
 * and a migration per container.
 */
static bool relevant(const struct ins_cgroup_hier *h)
{
	static const char *const used[] = { "cpu", "cpuacct", "memory", "pids", "blkio" };

	if (h->v2)
		return true;
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++)
		if (ins_cgroup_hier_has(h, used[i]))
			return true;
	return false;
}

int ins_cgroup_create(const struct ins_cgroup_hiers *hs, const char *path,
		      const struct ins_cgroup_limits *l, struct ins_error *err)
{
	struct ins_error ignored;
	int rc = 0;

	for (size_t i = 0; i < hs->n && rc == 0; i++)
		if (relevant(&hs->h[i]))
			rc = make_dirs(&hs->h[i], path, err);
	if (rc == 0)
		rc = apply_limits(hs, path, l, err);
	if (rc < 0)
		ins_cgroup_remove_in(hs, path, &ignored);
	return rc;
}

int ins_cgroup_open_v2(const struct ins_cgroup_hiers *hs, const char *path, struct ins_error *err)
{
	for (size_t i = 0; i < hs->n; i++) {
		_cleanup_free_ char *dir = NULL;
		int fd;

		if (!hs->h[i].v2)
			continue;
		dir = ins_cgroup_hier_dir(&hs->h[i], path, err);
		if (!dir)
			return -1;
		/* O_PATH would not do: CLONE_INTO_CGROUP wants an open directory. */
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd >= 0 ? fd : ins_err_sys(err, errno, "%s", dir);
	}
	return ins_err(err, ENOENT, "no cgroup2 hierarchy is mounted");
}

int ins_cgroup_enter(const struct ins_cgroup_hiers *hs, const char *path, bool v1_only,
		     struct ins_error *err)
{
	for (size_t i = 0; i < hs->n; i++) {
		const struct ins_cgroup_hier *h = &hs->h[i];

		if (relevant(h) && !(v1_only && h->v2) && write_limit(h, path, self_join_file(h), "0", err) < 0)
			return -1;
	}
	return 0;
}

int ins_cgroup_remove(const char *path, struct ins_error *err)
{
	struct ins_cgroup_hiers hs;
	int rc;

	if (ins_cgroup_hiers_read(&hs, err) < 0)
		return -1;
	rc = ins_cgroup_remove_in(&hs, path, err);
	ins_cgroup_hiers_free(&hs);
	return rc;
}

int ins_cgroup_remove_in(const struct ins_cgroup_hiers *hs, const char *path, struct ins_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < hs->n && rc == 0; i++) {
		_cleanup_free_ char *dir = ins_cgroup_hier_dir(&hs->h[i], path, err);

		if (!dir) {
			rc = -1;
			break;
		}
		/* Members that were killed leave the cgroup only once they are reaped. */
		for (int tries = 0; rmdir(dir) < 0; tries++) {
			if (errno == ENOENT)
				break;
			if (errno != EBUSY || tries == 200) {
				rc = ins_err_sys(err, errno, "%s", dir);
				break;
			}
			usleep(10000);
		}
	}
	return rc;
}
