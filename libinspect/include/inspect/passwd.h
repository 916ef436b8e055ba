/* Users and groups as a container's own /etc/passwd and /etc/group define them. */
#ifndef INSPECT_PASSWD_H
#define INSPECT_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

#include "inspect/error.h"

struct ins_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[64]; /* supplementary groups, from the group file's member lists */
	size_t ngroups;
	char home[256];
};

/*
 * Resolves SPEC, docker's -u syntax ("name", "uid", "name:group",
 * "uid:gid"; NULL or "" for root), against the texts of a passwd and a group
 * file (either may be NULL: the image has none). A numeric uid needs no
 * entry (its group is then 0, its home "/"); a name must have one.
 */
int ins_user_resolve(const char *spec, const char *passwd, const char *group, struct ins_user *u,
		     struct ins_error *err);

#endif
