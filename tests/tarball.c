#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>

#include "tarball.h"

struct archive *tar_create(const char *path, bool gzip)
{
	struct archive *a = archive_write_new();

	cr_assert_not_null(a);
	cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	if (gzip)
		cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK, "%s: %s", path,
		     archive_error_string(a));
	return a;
}

static unsigned file_type(enum tar_type t)
{
	static const unsigned types[] = {
		[TAR_FILE] = AE_IFREG, [TAR_DIR] = AE_IFDIR, [TAR_SYMLINK] = AE_IFLNK,
		[TAR_HARDLINK] = AE_IFREG, [TAR_CHR] = AE_IFCHR, [TAR_FIFO] = AE_IFIFO,
	};

	return types[t];
}

void tar_add(struct archive *a, const struct tar_entry *e)
{
	struct archive_entry *ae = archive_entry_new();
	size_t len = e->type == TAR_FILE && e->content ? strlen(e->content) : 0;

	archive_entry_set_pathname(ae, e->name);
	archive_entry_set_filetype(ae, file_type(e->type));
	archive_entry_set_perm(ae, e->mode ? e->mode : e->type == TAR_DIR ? 0755 : 0644);
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	archive_entry_set_mtime(ae, e->mtime, 0);
	archive_entry_set_size(ae, (la_int64_t)len);
	if (e->type == TAR_SYMLINK)
		archive_entry_set_symlink(ae, e->link);
	if (e->type == TAR_HARDLINK) {
		archive_entry_set_hardlink(ae, e->link);
		archive_entry_set_size(ae, 0);
	}
	if (e->type == TAR_CHR) {
		archive_entry_set_rdevmajor(ae, e->major);
		archive_entry_set_rdevminor(ae, e->minor);
	}
	if (e->xattr)
		archive_entry_xattr_add_entry(ae, e->xattr, e->xattr_value, strlen(e->xattr_value));
	cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK, "%s: %s", e->name, archive_error_string(a));
	if (len)
		cr_assert_eq(archive_write_data(a, e->content, len), (la_ssize_t)len);
	archive_entry_free(ae);
}

void tar_finish(struct archive *a)
{
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

void tar_write(const char *path, bool gzip, const struct tar_entry *entries)
{
	struct archive *a = tar_create(path, gzip);

	for (const struct tar_entry *e = entries; e->name; e++)
		tar_add(a, e);
	tar_finish(a);
}
