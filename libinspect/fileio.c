#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/fileio.h"

char *ins_read_file_at(int dirfd, const char *path, size_t *len, struct ins_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, cap = 0;

	if (fd < 0)
		return ins_err_sys(err, errno, "%s", path), NULL;
	for (;;) {
		ssize_t n;

		/* /proc files report size 0, so grow as we go. */
		if (cap - size < 1024) {
			char *nbuf;

			cap = cap ? cap * 2 : 4096;
			nbuf = realloc(buf, cap);
			if (!nbuf)
				return ins_err_sys(err, ENOMEM, "%s", path), NULL;
			buf = nbuf;
		}
		n = read(fd, buf + size, cap - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ins_err_sys(err, errno, "%s", path), NULL;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	buf[size] = '\0';
	if (len)
		*len = size;
	return ins_steal_ptr(buf);
}

int ins_write_file_at(int dirfd, const char *path, const char *str, struct ins_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = strlen(str);
	ssize_t n;

	if (fd < 0)
		return ins_err_sys(err, errno, "%s", path);
	do
		n = write(fd, str, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ins_err_sys(err, errno, "%s", path);
	if ((size_t)n != len)
		return ins_err(err, EIO, "%s: short write", path);
	return 0;
}
