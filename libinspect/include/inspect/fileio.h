/* Small-file I/O shared by the modules that read /proc, /sys and state files. */
#ifndef INSPECT_FILEIO_H
#define INSPECT_FILEIO_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "inspect/error.h"

/*
 * Reads the whole file PATH (relative to DIRFD, or absolute) into a
 * malloc'd, NUL-terminated buffer; *LEN gets the byte count when LEN is not
 * NULL. Returns NULL with ERR set on failure; ERR->code is the errno.
 */
char *ins_read_file_at(int dirfd, const char *path, size_t *len, struct ins_error *err);

/* Writes STR to the existing file PATH (no O_CREAT, no truncation). */
int ins_write_file_at(int dirfd, const char *path, const char *str, struct ins_error *err);

/* True for the errno values that mean "the process went away meanwhile". */
static inline int ins_errno_is_gone(int code)
{
	return code == ENOENT || code == ESRCH;
}

#endif
