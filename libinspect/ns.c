#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "mountlib.h"
#include "inspect/fileio.h"
#include "inspect/ns.h"
#include "inspect/proc.h"
#include "u64map.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	const char *name;
	int clone_flag;
} ns_types[INS_NS_NTYPES] = {
	[INS_NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP },
	[INS_NS_IPC] = { "ipc", CLONE_NEWIPC },
	[INS_NS_MNT] = { "mnt", CLONE_NEWNS },
	[INS_NS_NET] = { "net", CLONE_NEWNET },
	[INS_NS_PID] = { "pid", CLONE_NEWPID },
	[INS_NS_TIME] = { "time", CLONE_NEWTIME },
	[INS_NS_USER] = { "user", CLONE_NEWUSER },
	[INS_NS_UTS] = { "uts", CLONE_NEWUTS },
};

const char *ins_ns_type_name(enum ins_ns_type type)
{
	return ns_types[type].name;
}

int ins_ns_type_from_name(const char *name)
{
	for (int t = 0; t < INS_NS_NTYPES; t++)
		if (strcmp(ns_types[t].name, name) == 0)
			return t;
	return -1;
}

int ins_ns_type_clone_flag(enum ins_ns_type type)
{
	return ns_types[type].clone_flag;
}

void ins_ns_proc_path(pid_t pid, enum ins_ns_type type, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/%d/ns/%s", (int)pid, ns_types[type].name);
}

int ins_ns_fd_type(int fd, struct ins_error *err)
{
	int flag = ioctl(fd, NS_GET_NSTYPE);

	if (flag < 0)
		return ins_err_sys(err, errno, "not a namespace file");
	for (int t = 0; t < INS_NS_NTYPES; t++)
		if (ns_types[t].clone_flag == flag)
			return t;
	return ins_err(err, EINVAL, "unknown namespace type %#x", flag);
}

int ins_ns_of_pid(pid_t pid, struct ins_ns_set *set, struct ins_error *err)
{
	char path[64];
	_cleanup_close_ int dfd = -1;

	memset(set, 0, sizeof(*set));
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns");
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT)
		return ins_err(err, ESRCH, "%d: no such process", (int)pid);
	if (dfd < 0)
		return ins_err_sys(err, errno, "%s", path);
	for (int t = 0; t < INS_NS_NTYPES; t++) {
		struct stat st;

		if (fstatat(dfd, ns_types[t].name, &st, 0) == 0) {
			set->id[t] = (struct ins_ns_id){ st.st_ino, st.st_dev };
			set->present |= INS_NS_BIT(t);
			continue;
		}
		if (errno != ENOENT)
			return ins_err_sys(err, errno, "%s/%s", path, ns_types[t].name);
		/*
		 * ENOENT: the kernel lacks this type, unless we have it, in
		 * which case the process has exited (a zombie has no namespaces).
		 */
		if (pid) {
			char self[64];

			snprintf(self, sizeof(self), "/proc/self/ns/%s", ns_types[t].name);
			if (faccessat(AT_FDCWD, self, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				return ins_err(err, ESRCH, "%d: process has exited", (int)pid);
		}
	}
	return 0;
}

int ins_ns_host(struct ins_ns_set *set, struct ins_error *err)
{
	struct ins_proc_stat st;
	struct ins_error first;

	if (ins_ns_of_pid(1, set, &first) == 0)
		return 0;
	/* kthreadd (PID 2 in the initial PID namespace) never leaves the initial namespaces. */
	if (ins_proc_read_stat(2, &st, err) == 0 && ins_proc_is_kthread(&st) &&
	    ins_ns_of_pid(2, set, err) == 0)
		return 0;
	*err = first;
	return ins_err_prefix(err, "cannot read the host's namespaces");
}

/* The namespace fd that ioctl REQ returns for FD, or -1 when there is none or it is hidden. */
static int related_fd(int fd, unsigned long req)
{
	return ioctl(fd, req);
}

static ino_t fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

int ins_ns_fd_relations(int fd, ino_t *owner, ino_t *parent, struct ins_error *err)
{
	_cleanup_close_ int ofd = related_fd(fd, NS_GET_USERNS);
	_cleanup_close_ int pfd = -1;
	int type = ins_ns_fd_type(fd, err);

	if (type < 0)
		return -1;
	*owner = ofd >= 0 ? fd_ino(ofd) : 0;
	*parent = 0;
	if (type == INS_NS_PID || type == INS_NS_USER) {
		pfd = related_fd(fd, NS_GET_PARENT);
		*parent = pfd >= 0 ? fd_ino(pfd) : 0;
	}
	return 0;
}

/* State of one host-wide scan. */
struct scan {
	const struct ins_ns_table_opts *opts;
	struct ins_ns_table *tab;
	size_t cap;
	struct u64map by_ino; /* inode -> index in tab->ns */
	dev_t nsfs_dev;
	unsigned types;
	struct ins_ns_set only; /* with opts->pid: the namespaces to keep */
};

static struct ins_namespace *add_ns(struct scan *s, enum ins_ns_type type, ino_t ino,
				    struct ins_error *err)
{
	struct ins_namespace *ns;

	if (s->tab->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct ins_namespace *n = realloc(s->tab->ns, ncap * sizeof(*n));

		if (!n)
			return ins_err_sys(err, ENOMEM, "namespace table"), NULL;
		s->tab->ns = n;
		s->cap = ncap;
	}
	if (u64map_put(&s->by_ino, ino, s->tab->n) < 0)
		return ins_err_sys(err, ENOMEM, "namespace table"), NULL;
	ns = &s->tab->ns[s->tab->n++];
	memset(ns, 0, sizeof(*ns));
	ns->type = type;
	ns->id = (struct ins_ns_id){ ino, s->nsfs_dev };
	return ns;
}

static struct ins_namespace *find_ns(struct scan *s, ino_t ino)
{
	size_t *idx = u64map_get(&s->by_ino, ino);

	return idx ? &s->tab->ns[*idx] : NULL;
}

static bool wanted(const struct scan *s, enum ins_ns_type t, ino_t ino)
{
	if (!(s->types & INS_NS_BIT(t)))
		return false;
	return !s->opts->pid || s->only.id[t].ino == ino;
}

/* Parses "net:[4026531840]" (a /proc/PID/ns link or an nsfs mount root). */
static int parse_ns_link(const char *s, enum ins_ns_type *type, ino_t *ino)
{
	const char *colon = strchr(s, ':');
	char name[16];
	unsigned long long v;
	int t;

	if (!colon || (size_t)(colon - s) >= sizeof(name))
		return -1;
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	t = ins_ns_type_from_name(name);
	if (t < 0 || sscanf(colon, ":[%llu]", &v) != 1)
		return -1;
	*type = t;
	*ino = (ino_t)v;
	return 0;
}

static int scan_process(struct scan *s, int procfd, pid_t pid, struct ins_error *err)
{
	char path[64], link[64];
	struct stat st;
	int plen = snprintf(path, sizeof(path), "%d", (int)pid);

	if (fstatat(procfd, path, &st, 0) < 0)
		return 0; /* vanished */
	for (int t = 0; t < INS_NS_NTYPES; t++) {
		struct ins_namespace *ns;
		enum ins_ns_type lt;
		ino_t ino;
		ssize_t n;

		if (!(s->types & INS_NS_BIT(t)))
			continue;
		/*
		 * readlink is cheaper than stat on nsfs links and carries the
		 * inode; every nsfs inode shares the one nsfs device.
		 */
		snprintf(path + plen, sizeof(path) - (size_t)plen, "/ns/%s", ns_types[t].name);
		n = readlinkat(procfd, path, link, sizeof(link) - 1);
		if (n < 0)
			continue; /* vanished (ENOENT), or not ours to read (EACCES) */
		link[n] = '\0';
		if (parse_ns_link(link, &lt, &ino) < 0 || (int)lt != t || !wanted(s, lt, ino))
			continue;
		ns = find_ns(s, ino);
		if (!ns) {
			ns = add_ns(s, lt, ino, err);
			if (!ns)
				return -1;
		}
		ns->nprocs++;
		if (!ns->pid || pid < ns->pid) {
			ns->pid = pid;
			ns->uid = st.st_uid;
		}
	}
	return 0;
}

static int scan_processes(struct scan *s, struct ins_error *err)
{
	struct ins_proc_iter it;
	pid_t pid;
	int rc = 0;

	if (ins_proc_iter_open(&it, err) < 0)
		return -1;
	while (rc == 0 && (pid = ins_proc_iter_next(&it)))
		rc = scan_process(s, ins_proc_iter_fd(&it), pid, err);
	ins_proc_iter_close(&it);
	return rc;
}

static int strv_append(char ***v, const char *s)
{
	size_t n = 0;
	char **nv;

	while (*v && (*v)[n])
		n++;
	nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (!nv)
		return -1;
	*v = nv;
	nv[n] = strdup(s);
	nv[n + 1] = NULL;
	return nv[n] ? 0 : -1;
}

/* Namespaces kept alive by nsfs bind mounts (ip netns, unshare --net=FILE). */
static int scan_nsfs_mounts(struct scan *s, struct ins_error *err)
{
	struct libmnt_table *tb = ins_mount_table("/proc/self/mountinfo", err);
	struct libmnt_iter *itr;
	struct libmnt_fs *fs;
	int rc = 0;

	if (!tb)
		return -1;
	itr = libmount.mnt_new_iter(MNT_ITER_FORWARD);
	if (!itr) {
		rc = ins_err_sys(err, ENOMEM, "mount table");
		goto out;
	}
	while (rc == 0 && libmount.mnt_table_next_fs(tb, itr, &fs) == 0) {
		const char *root = libmount.mnt_fs_get_root(fs);
		const char *target = libmount.mnt_fs_get_target(fs);
		struct ins_namespace *ns;
		enum ins_ns_type type;
		ino_t ino;

		if (!libmount.mnt_fs_match_fstype(fs, "nsfs") || !root || !target ||
		    parse_ns_link(root, &type, &ino) < 0 || !wanted(s, type, ino))
			continue;
		ns = find_ns(s, ino);
		if (!ns && s->opts->pid)
			continue;
		if (!ns && !(ns = add_ns(s, type, ino, err))) {
			rc = -1;
			break;
		}
		if (strv_append(&ns->nsfs, target) < 0)
			rc = ins_err_sys(err, ENOMEM, "nsfs mounts");
	}
out:
	libmount.mnt_free_iter(itr);
	libmount.mnt_unref_table(tb);
	return rc;
}

/* What lsns shows of a namespace's lowest PID. */
struct rep_info {
	pid_t ppid;
	char *command;
};

static int fill_representatives(struct scan *s, struct ins_error *err)
{
	struct u64map seen = { 0 };
	struct rep_info *reps = NULL;
	size_t nreps = 0;
	int rc = 0;

	reps = calloc(s->tab->n + 1, sizeof(*reps));
	if (!reps)
		return ins_err_sys(err, ENOMEM, "namespace table");
	for (size_t i = 0; i < s->tab->n && rc == 0; i++) {
		struct ins_namespace *ns = &s->tab->ns[i];
		char path[64];
		size_t *idx;

		if (ns->pid) {
			idx = u64map_get(&seen, (uint64_t)ns->pid);
			if (!idx) {
				struct rep_info *r = &reps[nreps];
				struct ins_proc_stat st;
				struct ins_error ignored;

				/* A process that exits now keeps its row, with what could be read. */
				if (ins_proc_read_stat(ns->pid, &st, &ignored) == 0)
					r->ppid = st.ppid;
				r->command = ins_proc_command(ns->pid, &ignored);
				if (u64map_put(&seen, (uint64_t)ns->pid, nreps++) < 0) {
					rc = ins_err_sys(err, ENOMEM, "namespace table");
					break;
				}
				idx = u64map_get(&seen, (uint64_t)ns->pid);
			}
			ns->ppid = reps[*idx].ppid;
			if (reps[*idx].command && !(ns->command = strdup(reps[*idx].command)))
				rc = ins_err_sys(err, ENOMEM, "namespace table");
			ins_ns_proc_path(ns->pid, ns->type, path, sizeof(path));
			ns->path = strdup(path);
		} else {
			ns->path = strdup(ns->nsfs[0]);
		}
		if (!ns->path)
			rc = ins_err_sys(err, ENOMEM, "namespace table");
	}
	for (size_t i = 0; i < nreps; i++)
		free(reps[i].command);
	free(reps);
	u64map_free(&seen);
	return rc;
}

static int resolve_relations(struct scan *s, size_t idx, int fd, int depth, struct ins_error *err);

/*
 * Records the namespace REQ leads to from FD (owner or parent) and, when
 * interpolating, adds it to the table if no process or mount showed it.
 */
static int follow(struct scan *s, size_t idx, int fd, unsigned long req, enum ins_ns_type type,
		  int depth, struct ins_error *err)
{
	_cleanup_close_ int rfd = related_fd(fd, req);
	ino_t ino;

	if (rfd < 0)
		return 0; /* none (the initial namespace) or outside our view */
	ino = fd_ino(rfd);
	if (req == NS_GET_USERNS)
		s->tab->ns[idx].owner = ino;
	else
		s->tab->ns[idx].parent = ino;
	/* Interpolation completes trees; it never adds what the filters exclude. */
	if (!s->opts->interpolate || s->opts->pid || !(s->types & INS_NS_BIT(type)) ||
	    find_ns(s, ino))
		return 0;
	if (!add_ns(s, type, ino, err))
		return -1;
	s->tab->ns[s->tab->n - 1].interpolated = true;
	return resolve_relations(s, s->tab->n - 1, rfd, depth + 1, err);
}

static int resolve_relations(struct scan *s, size_t idx, int fd, int depth, struct ins_error *err)
{
	enum ins_ns_type type = s->tab->ns[idx].type;

	/* User namespaces nest at most 32 deep; anything deeper is a loop. */
	if (depth > 64)
		return ins_err(err, ELOOP, "namespace ownership chain too deep");
	if (follow(s, idx, fd, NS_GET_USERNS, INS_NS_USER, depth, err) < 0)
		return -1;
	if (type == INS_NS_PID || type == INS_NS_USER)
		return follow(s, idx, fd, NS_GET_PARENT, type, depth, err);
	return 0;
}

static int fill_relations(struct scan *s, struct ins_error *err)
{
	size_t n = s->tab->n; /* interpolated entries are resolved as they are added */

	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int fd = -1;

		if (!s->tab->ns[i].path)
			continue;
		fd = open(s->tab->ns[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* its process exited meanwhile */
		if (resolve_relations(s, i, fd, 0, err) < 0)
			return -1;
	}
	return 0;
}

static int cmp_ns(const void *a, const void *b)
{
	ino_t x = ((const struct ins_namespace *)a)->id.ino;
	ino_t y = ((const struct ins_namespace *)b)->id.ino;

	return x < y ? -1 : x > y;
}

static int nsfs_device(dev_t *dev, struct ins_error *err)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0 && stat("/proc/self/ns/user", &st) < 0)
		return ins_err_sys(err, errno, "/proc/self/ns");
	*dev = st.st_dev;
	return 0;
}

int ins_ns_table_read(const struct ins_ns_table_opts *opts, struct ins_ns_table *tab,
		      struct ins_error *err)
{
	struct scan s = { .opts = opts, .tab = tab, .types = opts->types ? opts->types : INS_NS_ALL };
	int rc;

	memset(tab, 0, sizeof(*tab));
	if (nsfs_device(&s.nsfs_dev, err) < 0)
		return -1;
	if (opts->pid && ins_ns_of_pid(opts->pid, &s.only, err) < 0)
		return -1;
	rc = scan_processes(&s, err);
	if (rc == 0)
		rc = scan_nsfs_mounts(&s, err);
	if (rc == 0)
		rc = fill_representatives(&s, err);
	if (rc == 0 && (opts->relations || opts->interpolate))
		rc = fill_relations(&s, err);
	u64map_free(&s.by_ino);
	if (rc < 0) {
		ins_ns_table_free(tab);
		return -1;
	}
	if (tab->n)
		qsort(tab->ns, tab->n, sizeof(*tab->ns), cmp_ns);
	return 0;
}

void ins_ns_table_free(struct ins_ns_table *tab)
{
	for (size_t i = 0; i < tab->n; i++) {
		free(tab->ns[i].command);
		free(tab->ns[i].path);
		ins_strv_free(tab->ns[i].nsfs);
	}
	free(tab->ns);
	tab->ns = NULL;
	tab->n = 0;
}

struct ins_namespace *ins_ns_table_find(const struct ins_ns_table *tab, ino_t ino)
{
	struct ins_namespace key = { .id.ino = ino };

	if (!tab->n)
		return NULL;
	return bsearch(&key, tab->ns, tab->n, sizeof(*tab->ns), cmp_ns);
}
