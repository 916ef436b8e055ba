/* libarchive, loaded on first use (see inspect/lazylib.h). Internal to libinspect. */
#ifndef INSPECT_ARCHIVELIB_H
#define INSPECT_ARCHIVELIB_H

#include <archive.h>
#include <archive_entry.h>

#include "inspect/lazylib.h"

#define LIBARCHIVE_SYMBOLS(X)                                                                  \
	X(archive_read_new) X(archive_read_free) X(archive_read_support_filter_all)            \
	X(archive_read_support_format_tar) X(archive_read_support_format_raw)                  \
	X(archive_read_open_fd) X(archive_read_open) X(archive_read_next_header)               \
	X(archive_read_data_block) X(archive_read_data_skip) X(archive_error_string)           \
	X(archive_errno) X(archive_set_error) X(archive_entry_pathname)                        \
	X(archive_entry_filetype) X(archive_entry_perm) X(archive_entry_uid)                   \
	X(archive_entry_gid) X(archive_entry_mtime) X(archive_entry_mtime_nsec)                \
	X(archive_entry_mtime_is_set) X(archive_entry_symlink) X(archive_entry_hardlink)       \
	X(archive_entry_size) X(archive_entry_size_is_set) X(archive_entry_rdevmajor)          \
	X(archive_entry_rdevminor) X(archive_entry_xattr_reset) X(archive_entry_xattr_next)     \
	X(archive_read_data) X(archive_write_new) X(archive_write_free)                         \
	X(archive_write_set_format_pax_restricted) X(archive_write_set_bytes_per_block)         \
	X(archive_write_set_bytes_in_last_block) X(archive_write_open) X(archive_write_open_fd) \
	X(archive_write_header) X(archive_write_data) X(archive_write_close)                    \
	X(archive_entry_new) X(archive_entry_free) X(archive_entry_clear)                       \
	X(archive_entry_copy_stat) X(archive_entry_set_pathname) X(archive_entry_set_symlink)   \
	X(archive_entry_set_hardlink) X(archive_entry_set_mtime) X(archive_entry_unset_atime)   \
	X(archive_entry_unset_ctime) X(archive_entry_unset_birthtime) X(archive_entry_set_size) \
	X(archive_entry_set_filetype) X(archive_entry_set_perm) X(archive_entry_xattr_add_entry)

struct libarchive {
	LIBARCHIVE_SYMBOLS(INS_LAZY_MEMBER)
};

extern struct libarchive libarchive;
int libarchive_load(struct ins_error *err);

/*
 * An image layer unpacked entry by entry, from entries a caller makes (ctk
 * commit of a container that can no longer change): what ins_unpack does
 * with each entry of a tar, but a regular file is a hardlink to the file at
 * the same path below LINK_FROM instead of data read from an archive.
 * Directory times are set by ins_unpacker_finish, once all is made.
 */
struct ins_unpacker;
struct ins_unpacker *ins_unpacker_new(int dirfd, int link_from, struct ins_error *err);
int ins_unpacker_add(struct ins_unpacker *u, struct archive_entry *e, struct ins_error *err);
int ins_unpacker_finish(struct ins_unpacker *u, struct ins_error *err);
void ins_unpacker_free(struct ins_unpacker *u);

#endif
