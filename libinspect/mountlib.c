#include <errno.h>

#include "mountlib.h"

INS_LAZYLIB_DEFINE(libmount, "libmount.so.1", LIBMOUNT_SYMBOLS)

struct libmnt_table *ins_mount_table(const char *path, struct ins_error *err)
{
	struct libmnt_table *tb;

	if (libmount_load(err) < 0)
		return NULL;
	tb = libmount.mnt_new_table_from_file(path);
	if (!tb)
		ins_err(err, EIO, "%s: cannot parse", path);
	return tb;
}
