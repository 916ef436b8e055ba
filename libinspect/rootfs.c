#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/fileio.h"
#include "rootfs.h"

/* mkdir -p of PATH inside ROOT; returns an O_PATH fd of it. */
static int make_dir_in_root(int root, const char *path, struct ins_error *err)
{
	_cleanup_free_ char *copy = strdup(path);

	if (!copy)
		return ins_err_sys(err, ENOMEM, "%s", path);
	for (char *p = copy + (copy[0] == '/');; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (*copy && strcmp(copy, "/") != 0) {
			char *slash = strrchr(copy, '/');
			_cleanup_close_ int parent = -1;

			*slash = '\0';
			parent = ins_open_in_root(root, *copy ? copy : "/", O_PATH | O_DIRECTORY, err);
			*slash = '/';
			if (parent < 0)
				return -1;
			if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST)
				return ins_err_sys(err, errno, "%s", copy);
		}
		*p = c;
		if (!c)
			break;
	}
	return ins_open_in_root(root, path, O_PATH | O_DIRECTORY, err);
}

/* Moves the detached mount MNT onto the directory DEST inside ROOT (made if absent). */
static int attach(int root, int mnt, const char *dest, struct ins_error *err)
{
	_cleanup_close_ int target = make_dir_in_root(root, dest, err);

	if (target < 0)
		return -1;
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return ins_err_sys(err, errno, "mounting on %s", dest);
	return 0;
}

/* The kernel's own words on a failed fsconfig/fsmount, read from the fs context. */
static int fs_failed(int fs, const char *what, struct ins_error *err)
{
	char msg[512];
	ssize_t n;
	int code = errno;

	n = read(fs, msg, sizeof(msg) - 1);
	if (n > 2) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		return ins_err(err, code, "%s: %s", what, msg + 2); /* "e overlay: ..." */
	}
	return ins_err_sys(err, code, "%s", what);
}

/* A new, detached mount of file system TYPE with string OPTIONS ("key=value", NULL-terminated). */
static int new_fs(const char *type, const char *const *options, unsigned attrs, struct ins_error *err)
{
	_cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
	int mnt;

	if (fs < 0)
		return ins_err_sys(err, errno, "%s", type);
	for (const char *const *o = options; o && *o; o++) {
		_cleanup_free_ char *key = strdup(*o);
		char *eq = key ? strchr(key, '=') : NULL;

		if (!key)
			return ins_err_sys(err, ENOMEM, "%s", type);
		if (eq)
			*eq = '\0';
		if (fsconfig(fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, eq ? eq + 1 : NULL, 0) < 0)
			return fs_failed(fs, type, err);
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fs_failed(fs, type, err);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		return fs_failed(fs, type, err);
	return mnt;
}

/*
 * The overlay, lowers given one by one ("lowerdir+", Linux 6.8): no limit
 * from the one-page mount options, so images of hundreds of layers mount.
 * Older kernels get the classic "lowerdir=a:b:c".
 */
static int mount_overlay(const struct rootfs_spec *r, struct ins_error *err)
{
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC), mnt = -1;
	size_t i;

	if (fs < 0)
		return ins_err_sys(err, errno, "overlay");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0)
		return fs_failed(fs, "overlay", err);
	for (i = 0; i < r->nlowers; i++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", r->lowers[i], 0) < 0)
			break;
	if (i < r->nlowers) {
		size_t len = 1;
		_cleanup_free_ char *all = NULL;

		if (i > 0 || errno != EINVAL)
			return fs_failed(fs, "overlay lowerdir+", err);
		for (i = 0; i < r->nlowers; i++)
			len += strlen(r->lowers[i]) + 1;
		all = calloc(1, len);
		for (i = 0; all && i < r->nlowers; i++)
			strcat(strcat(all, i ? ":" : ""), r->lowers[i]);
		if (!all)
			return ins_err_sys(err, ENOMEM, "overlay");
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", all, 0) < 0)
			return fs_failed(fs, "overlay lowerdir (this kernel takes a page of them at most)", err);
	}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", r->upper, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", r->work, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0)) < 0)
		return fs_failed(fs, "overlay", err);
	if (move_mount(mnt, "", AT_FDCWD, r->mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return ins_err_sys(err, errno, "mounting the overlay on %s", r->mountpoint);
	return 0;
}

/* A volume: a recursive bind of SOURCE, read-only when asked, before the container can see it. */
static int mount_volume(int root, const struct rootfs_mount *m, struct ins_error *err)
{
	_cleanup_close_ int tree = open_tree(AT_FDCWD, m->source,
					     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

	if (tree < 0)
		return ins_err_sys(err, errno, "volume %s", m->source);
	if (m->readonly && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0)
		return ins_err_sys(err, errno, "volume %s: read-only", m->source);
	if (attach(root, tree, m->dest, err) < 0)
		return ins_err_prefix(err, "volume %s", m->source);
	return 0;
}

static int mount_pseudo(int root, const char *type, const char *dest, const char *const *options,
			unsigned attrs, struct ins_error *err)
{
	_cleanup_close_ int mnt = new_fs(type, options, attrs, err);

	if (mnt < 0 || attach(root, mnt, dest, err) < 0)
		return ins_err_prefix(err, "/%s", dest);
	return 0;
}

/* A minimal /dev: the usual character devices, a devpts of its own, /dev/shm, and the fd links. */
static int populate_dev(int root, struct ins_error *err)
{
	static const struct {
		const char *name;
		unsigned major, minor;
	} devices[] = { { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
			{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } };
	static const char *const links[][2] = { { "ptmx", "pts/ptmx" },		{ "fd", "/proc/self/fd" },
						{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
						{ "stderr", "/proc/self/fd/2" } };
	static const char *const devpts[] = { "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
	static const char *const shm[] = { "mode=1777", "size=65536k", NULL };
	_cleanup_close_ int dev = ins_open_in_root(root, "/dev", O_PATH | O_DIRECTORY, err);

	if (dev < 0)
		return -1;
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		/* 0666 whatever the umask: every user of the container writes to /dev/null. */
		if (mknodat(dev, devices[i].name, S_IFCHR | 0666, makedev(devices[i].major, devices[i].minor)) < 0 ||
		    fchmodat(dev, devices[i].name, 0666, 0) < 0)
			return ins_err_sys(err, errno, "/dev/%s", devices[i].name);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][1], dev, links[i][0]) < 0)
			return ins_err_sys(err, errno, "/dev/%s", links[i][0]);
	if (mount_pseudo(root, "devpts", "/dev/pts", devpts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err) < 0)
		return -1;
	return mount_pseudo(root, "tmpfs", "/dev/shm", shm,
			    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
}

static int loopback_up(struct ins_error *err)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	_cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return ins_err_sys(err, errno, "loopback");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return ins_err_sys(err, errno, "loopback");
	return 0;
}

/* pivot_root(".", ".") and a lazy unmount of the old root: nothing of the host stays reachable. */
static int pivot(int root, struct ins_error *err)
{
	if (fchdir(root) < 0)
		return ins_err_sys(err, errno, "chdir to the root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return ins_err_sys(err, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return ins_err_sys(err, errno, "detaching the old root");
	if (chdir("/") < 0)
		return ins_err_sys(err, errno, "chdir /");
	return 0;
}

int rootfs_enter(const struct rootfs_spec *r, struct ins_error *err)
{
	static const char *const dev_opts[] = { "mode=0755", "size=65536k", NULL };
	_cleanup_close_ int root = -1;

	umask(0022);
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return ins_err_sys(err, errno, "making mounts private");
	if (mount_overlay(r, err) < 0)
		return -1;
	root = open(r->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return ins_err_sys(err, errno, "%s", r->mountpoint);
	/* Volumes first: the container must never run without them, nor see their mount points empty. */
	for (size_t i = 0; i < r->nmounts; i++)
		if (mount_volume(root, &r->mounts[i], err) < 0)
			return -1;
	if (mount_pseudo(root, "proc", "/proc", NULL,
			 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err) < 0 ||
	    mount_pseudo(root, "sysfs", "/sys", NULL,
			 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err) < 0 ||
	    mount_pseudo(root, "tmpfs", "/dev", dev_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err) < 0 ||
	    populate_dev(root, err) < 0)
		return -1;
	if (r->hostname && sethostname(r->hostname, strlen(r->hostname)) < 0)
		return ins_err_sys(err, errno, "hostname %s", r->hostname);
	if (r->new_net && loopback_up(err) < 0)
		return -1;
	return pivot(root, err);
}
