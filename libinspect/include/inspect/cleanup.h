/* Scope-bound cleanup helpers (__attribute__((cleanup))) instead of goto chains. */
#ifndef INSPECT_CLEANUP_H
#define INSPECT_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void ins_freep(void *p)
{
	free(*(void **)p);
}

static inline void ins_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void ins_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void ins_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Frees a NULL-terminated array of strings and the array itself. */
static inline void ins_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static inline void ins_strv_freep(char ***v)
{
	ins_strv_free(*v);
}

#define _cleanup_free_ __attribute__((cleanup(ins_freep)))
#define _cleanup_close_ __attribute__((cleanup(ins_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(ins_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(ins_closedirp)))
#define _cleanup_strv_ __attribute__((cleanup(ins_strv_freep)))

/* Hand ownership out of a cleanup-managed variable. */
#define ins_steal_ptr(p)                      \
	({                                    \
		__typeof__(p) _stolen_ = (p); \
		(p) = NULL;                   \
		_stolen_;                     \
	})

static inline int ins_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#endif
