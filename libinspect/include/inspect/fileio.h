/* Small-file I/O shared by the modules that read /proc, /sys and state files. */
#ifndef INSPECT_FILEIO_H
#define INSPECT_FILEIO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "inspect/error.h"

/*
 * Reads the whole file PATH (relative to DIRFD, or absolute) into a
 * malloc'd, NUL-terminated buffer; *LEN gets the byte count when LEN is not
 * NULL. Returns NULL with ERR set on failure; ERR->code is the errno.
 */
char *ins_read_file_at(int dirfd, const char *path, size_t *len, struct ins_error *err);
/* The same from an open FD, from its current offset. */
char *ins_read_fd(int fd, size_t *len, struct ins_error *err);

/* Writes STR to the existing file PATH (no O_CREAT, no truncation). */
int ins_write_file_at(int dirfd, const char *path, const char *str, struct ins_error *err);

/* Writes all LEN bytes of BUF to FD (retrying short writes and EINTR); -1 with errno on failure. */
int ins_write_all(int fd, const void *buf, size_t len);

/*
 * Writes LEN bytes of BUF to NAME in DIRFD atomically: a temp file in the
 * same directory renamed over NAME, so readers see the old content or the
 * new, never a mix, even if the writer dies. DURABLE adds the fsyncs (of
 * the file, then the directory) that make it survive a crash of the machine
 * too; records of running containers, which do not, skip their cost.
 */
int ins_write_file_atomic(int dirfd, const char *name, const void *buf, size_t len, bool durable,
			  struct ins_error *err);

/*
 * Removes NAME in DIRFD and, for a directory, everything below it. Never
 * crosses into another file system: a mount point inside fails with EBUSY
 * (so a bind-mounted host directory is never emptied by accident).
 */
int ins_remove_tree_at(int dirfd, const char *name, struct ins_error *err);

/*
 * The names in the directory DIRFD but "." and "..", sorted, in a malloc'd
 * array of malloc'd strings (free with ins_names_free); WHAT names the
 * directory in errors. DIRFD itself is left as it was.
 */
int ins_dir_names(int dirfd, const char *what, char ***names, size_t *n, struct ins_error *err);
void ins_names_free(char **names, size_t n);

/*
 * Opens PATH ("" for ROOT itself) below the directory ROOT, failing rather
 * than leaving it through "..", an absolute or escaping symlink, or a /proc
 * magic link (openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS).
 */
int ins_open_beneath(int root, const char *path, int flags, struct ins_error *err);

/*
 * Opens PATH inside the directory ROOT as a process chrooted there would:
 * "/", ".." and absolute symlinks all stop at ROOT (openat2
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
 */
int ins_open_in_root(int root, const char *path, int flags, struct ins_error *err);

/* True for the errno values that mean "the process went away meanwhile". */
static inline int ins_errno_is_gone(int code)
{
	return code == ENOENT || code == ESRCH;
}

#endif
