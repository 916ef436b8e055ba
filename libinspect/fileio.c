#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/fileio.h"

char *ins_read_fd(int fd, size_t *len, struct ins_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, cap = 0;

	for (;;) {
		ssize_t n;

		/* /proc files report size 0, so grow as we go. */
		if (cap - size < 1024) {
			char *nbuf;

			cap = cap ? cap * 2 : 4096;
			nbuf = realloc(buf, cap);
			if (!nbuf)
				return ins_err_sys(err, ENOMEM, "reading"), NULL;
			buf = nbuf;
		}
		n = read(fd, buf + size, cap - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ins_err_sys(err, errno, "reading"), NULL;
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

char *ins_read_file_at(int dirfd, const char *path, size_t *len, struct ins_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *buf;

	if (fd < 0)
		return ins_err_sys(err, errno, "%s", path), NULL;
	buf = ins_read_fd(fd, len, err);
	if (!buf)
		ins_err_prefix(err, "%s", path);
	return buf;
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

int ins_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ins_write_file_atomic(int dirfd, const char *name, const void *buf, size_t len, bool durable,
			  struct ins_error *err)
{
	char tmp[256];
	_cleanup_close_ int fd = -1;

	snprintf(tmp, sizeof(tmp), ".tmp-%s-%d", name, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return ins_err_sys(err, errno, "%s", tmp);
	if (ins_write_all(fd, buf, len) < 0 || (durable && fsync(fd) < 0) ||
	    renameat(dirfd, tmp, dirfd, name) < 0) {
		int code = errno;

		unlinkat(dirfd, tmp, 0);
		return ins_err_sys(err, code, "%s", name);
	}
	if (durable && fsync(dirfd) < 0 && errno != EBADF && errno != EINVAL)
		return ins_err_sys(err, errno, "%s: fsync of its directory", name);
	return 0;
}

static int remove_tree(int parent, const char *name, dev_t dev, struct ins_error *err)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int fd, rc = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ins_err_sys(err, errno, "%s", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return ins_err_sys(err, errno, "%s", name);
		return 0;
	}
	if (st.st_dev != dev)
		return ins_err(err, EBUSY, "%s: a mount point, not removed", name);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ins_err_sys(err, errno, "%s", name);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ins_err_sys(err, errno, "%s", name);
	}
	while (rc == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rc = remove_tree(dirfd(d), e->d_name, dev, err);
	closedir(d);
	if (rc < 0)
		return ins_err_prefix(err, "%s", name);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return ins_err_sys(err, errno, "%s", name);
	return 0;
}

int ins_remove_tree_at(int dirfd, const char *name, struct ins_error *err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ins_err_sys(err, errno, "%s", name);
	return remove_tree(dirfd, name, st.st_dev, err);
}

int ins_open_beneath(int root, const char *path, int flags, struct ins_error *err)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));

	if (fd >= 0)
		return fd;
	if (errno == EXDEV)
		return ins_err(err, EXDEV, "'%s': resolves outside its directory (through a symlink)",
			       path);
	if (errno == ELOOP)
		return ins_err(err, ELOOP, "'%s': too many symlinks", path);
	return ins_err_sys(err, errno, "'%s'", path);
}

int ins_open_in_root(int root, const char *path, int flags, struct ins_error *err)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));

	if (fd < 0)
		return ins_err_sys(err, errno, "%s", path);
	return fd;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ins_dir_names(int dirfd, const char *what, char ***names, size_t *n, struct ins_error *err)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return ins_err_sys(err, errno, "%s", what);
	}
	/* The dup shares its offset with DIRFD: start from the top, whoever read it before. */
	rewinddir(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			char **more = realloc(*names, (cap = cap ? cap * 2 : 16) * sizeof(*more));

			if (!more)
				break;
			*names = more;
		}
		if (!((*names)[*n] = strdup(e->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (e) {
		ins_names_free(*names, *n);
		*names = NULL;
		*n = 0;
		return ins_err_sys(err, ENOMEM, "%s", what);
	}
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

void ins_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
