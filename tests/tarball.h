/* Tar archives built entry by entry for the tests, hostile ones included (libarchive). */
#ifndef CTK_TEST_TARBALL_H
#define CTK_TEST_TARBALL_H

#include <stdbool.h>
#include <sys/types.h>

struct archive;

enum tar_type { TAR_FILE, TAR_DIR, TAR_SYMLINK, TAR_HARDLINK, TAR_CHR, TAR_FIFO };

struct tar_entry {
	const char *name;
	enum tar_type type;
	mode_t mode; /* permission bits; 0 means 0644 (0755 for directories) */
	const char *content; /* TAR_FILE */
	const char *link; /* TAR_SYMLINK target, TAR_HARDLINK target */
	uid_t uid;
	gid_t gid;
	long long mtime;
	unsigned major, minor; /* TAR_CHR */
	const char *xattr, *xattr_value; /* one xattr, when set */
};

/* A pax tar at PATH, gzip-compressed when GZIP. */
struct archive *tar_create(const char *path, bool gzip);
void tar_add(struct archive *a, const struct tar_entry *e);
void tar_finish(struct archive *a);

/* A whole archive in one call: ENTRIES ends with a zeroed entry. */
void tar_write(const char *path, bool gzip, const struct tar_entry *entries);

#endif
