/*
 * A container's root, built by its first process inside its own mount
 * namespace: the overlay (image layers, init layer, read-write layer), the
 * volumes, /proc, /sys, a minimal /dev, then pivot_root into it. Internal
 * to libinspect (the runtime).
 */
#ifndef INSPECT_ROOTFS_H
#define INSPECT_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

#include "inspect/error.h"

struct rootfs_mount {
	const char *source; /* a host directory */
	const char *dest; /* inside the container */
	bool readonly;
};

struct rootfs_spec {
	const char *mountpoint; /* where the root is mounted before pivot_root */
	const char *upper, *work;
	const char *const *lowers; /* top first: the init layer, then the image's, newest first */
	size_t nlowers;
	const struct rootfs_mount *mounts;
	size_t nmounts;
	const char *hostname;
	bool new_net; /* a network namespace of its own: bring its loopback up */
};

/*
 * Builds the root in the calling process's (new, unshared) mount namespace
 * and pivots into it; the caller is then in "/" of the container. Every
 * mount target is resolved inside the container's root (openat2
 * RESOLVE_IN_ROOT), so symlinks in an image cannot point a mount at the host.
 */
int rootfs_enter(const struct rootfs_spec *r, struct ins_error *err);

#endif
