/*
 * Safe extraction of tar streams (image layers and image archives) into a
 * directory: nothing is ever written outside it, whatever the archive says.
 */
#ifndef INSPECT_UNPACK_H
#define INSPECT_UNPACK_H

#include "inspect/digest.h"
#include "inspect/error.h"

enum ins_unpack_mode {
	INS_UNPACK_PLAIN, /* every entry as it is */
	INS_UNPACK_LAYER, /* an image layer: OCI whiteouts become overlayfs ones */
};

/*
 * Reads a tar stream in any compression libarchive knows from FD and
 * recreates it under the directory DIRFD: files, directories, symlinks,
 * hardlinks, devices and fifos with their modes, owners, mtimes and xattrs.
 * Absolute paths, ".." components, and paths that would resolve outside
 * DIRFD through a symlink or hardlink are refused: the call fails with an
 * error naming the entry, and what was extracted so far stays inside DIRFD.
 * In LAYER mode ".wh.NAME" becomes an overlayfs whiteout (a 0/0 character
 * device) and ".wh..wh..opq" marks its directory opaque; overlayfs's own
 * trusted.overlay.* xattrs are never taken from an archive.
 * DIFF_ID, when not NULL, receives the sha256 of the uncompressed stream.
 */
int ins_unpack(int fd, int dirfd, enum ins_unpack_mode mode, struct ins_digest *diff_id,
	       struct ins_error *err);

#endif
