#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/cgroup.h"
#include "inspect/cleanup.h"
#include "mountlib.h"
#include "inspect/fileio.h"
#include "inspect/proc.h"

static int add_entry(struct ins_cgroup_set *set, unsigned hierarchy, const char *ctrl,
		     size_t ctrl_len, const char *path, size_t path_len)
{
	struct ins_cgroup_entry *n = realloc(set->entries, (set->n + 1) * sizeof(*n));

	if (!n)
		return -1;
	set->entries = n;
	n[set->n] = (struct ins_cgroup_entry){
		.hierarchy = hierarchy,
		.controllers = strndup(ctrl, ctrl_len),
		.path = strndup(path, path_len),
	};
	set->n++;
	return n[set->n - 1].controllers && n[set->n - 1].path ? 0 : -1;
}

int ins_cgroup_parse(const char *text, struct ins_cgroup_set *set, struct ins_error *err)
{
	const char *line = text;

	memset(set, 0, sizeof(*set));
	while (*line) {
		const char *end = strchrnul(line, '\n');
		const char *c1 = memchr(line, ':', (size_t)(end - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		char *num_end;
		unsigned long id;

		if (end == line) { /* blank line */
			line = *end ? end + 1 : end;
			continue;
		}
		id = strtoul(line, &num_end, 10);
		if (!c2 || num_end != c1 || c2 + 1 >= end || c2[1] != '/') {
			ins_cgroup_set_free(set);
			return ins_err(err, EINVAL, "malformed cgroup line: %.*s", (int)(end - line),
				       line);
		}
		if (add_entry(set, (unsigned)id, c1 + 1, (size_t)(c2 - c1 - 1), c2 + 1,
			      (size_t)(end - c2 - 1)) < 0) {
			ins_cgroup_set_free(set);
			return ins_err_sys(err, ENOMEM, "cgroup");
		}
		line = *end ? end + 1 : end;
	}
	return 0;
}

int ins_cgroup_of_pid(pid_t pid, struct ins_cgroup_set *set, struct ins_error *err)
{
	_cleanup_free_ char *text = ins_proc_read(pid, "cgroup", NULL, err);

	if (!text)
		return -1;
	if (ins_cgroup_parse(text, set, err) < 0)
		return ins_err_prefix(err, "/proc/%d/cgroup", (int)pid);
	return 0;
}

void ins_cgroup_set_free(struct ins_cgroup_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->entries[i].controllers);
		free(set->entries[i].path);
	}
	free(set->entries);
	set->entries = NULL;
	set->n = 0;
}

/* True when the v1 mount FS carries every controller (or name=) of CONTROLLERS. */
static bool v1_mount_matches(struct libmnt_fs *fs, const char *controllers)
{
	const char *opts = libmount.mnt_fs_get_fs_options(fs);
	_cleanup_free_ char *list = strdup(controllers);
	char *save = NULL;

	if (!opts || !list || !*list)
		return false;
	for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		char *value = NULL;
		size_t vlen = 0;

		if (strncmp(c, "name=", 5) == 0) {
			if (libmount.mnt_optstr_get_option(opts, "name", &value, &vlen) != 0 ||
			    strlen(c + 5) != vlen || strncmp(value, c + 5, vlen) != 0)
				return false;
		} else if (libmount.mnt_optstr_get_option(opts, c, &value, &vlen) != 0) {
			return false;
		}
	}
	return true;
}

/* PATH below ROOT ("/" or a prefix directory), or NULL when PATH is outside ROOT. */
static const char *below_root(const char *path, const char *root)
{
	size_t rlen = strlen(root);

	if (strcmp(root, "/") == 0)
		return path;
	if (strncmp(path, root, rlen) != 0 || (path[rlen] != '/' && path[rlen] != '\0'))
		return NULL;
	return path + rlen;
}

static char *dir_in_table(struct libmnt_table *tb, const struct ins_cgroup_entry *entry,
			  struct ins_error *err)
{
	struct libmnt_iter *itr = libmount.mnt_new_iter(MNT_ITER_FORWARD);
	bool v2 = entry->hierarchy == 0 && !*entry->controllers;
	struct libmnt_fs *fs;
	char *dir = NULL;

	if (!itr)
		return ins_err_sys(err, ENOMEM, "cgroup mounts"), NULL;
	while (!dir && libmount.mnt_table_next_fs(tb, itr, &fs) == 0) {
		const char *root, *rest;

		if (v2 ? !libmount.mnt_fs_match_fstype(fs, "cgroup2")
		       : !libmount.mnt_fs_match_fstype(fs, "cgroup") || !v1_mount_matches(fs, entry->controllers))
			continue;
		root = libmount.mnt_fs_get_root(fs);
		rest = below_root(entry->path, root ? root : "/");
		if (rest && asprintf(&dir, "%s%s", libmount.mnt_fs_get_target(fs), rest) < 0) {
			dir = NULL;
			ins_err_sys(err, ENOMEM, "cgroup mounts");
			break;
		}
	}
	libmount.mnt_free_iter(itr);
	if (!dir && !err->code)
		ins_err(err, ENOENT, "cgroup hierarchy %s is not mounted here",
			v2 ? "cgroup2" : entry->controllers);
	return dir;
}

char *ins_cgroup_dir(const struct ins_cgroup_entry *entry, struct ins_error *err)
{
	struct libmnt_table *tb = ins_mount_table("/proc/self/mountinfo", err);
	char *dir;

	if (!tb)
		return NULL;
	ins_err_clear(err);
	dir = dir_in_table(tb, entry, err);
	libmount.mnt_unref_table(tb);
	return dir;
}

int ins_cgroup_join_pid(pid_t pid, struct ins_error *err)
{
	struct ins_cgroup_set set;
	struct libmnt_table *tb;
	int rc = 0;

	if (ins_cgroup_of_pid(pid, &set, err) < 0)
		return -1;
	tb = ins_mount_table("/proc/self/mountinfo", err);
	if (!tb) {
		ins_cgroup_set_free(&set);
		return -1;
	}
	for (size_t i = 0; i < set.n && rc == 0; i++) {
		_cleanup_free_ char *dir = NULL;
		_cleanup_free_ char *procs = NULL;

		ins_err_clear(err);
		dir = dir_in_table(tb, &set.entries[i], err);
		if (!dir) {
			if (err->code == ENOENT)
				continue; /* a hierarchy we cannot see cannot be joined */
			rc = -1;
			break;
		}
		if (asprintf(&procs, "%s/cgroup.procs", dir) < 0) {
			procs = NULL;
			rc = ins_err_sys(err, ENOMEM, "cgroup");
			break;
		}
		/* "0" means the writer itself, in v1 and v2 alike. */
		rc = ins_write_file_at(AT_FDCWD, procs, "0", err);
	}
	libmount.mnt_unref_table(tb);
	ins_cgroup_set_free(&set);
	return rc;
}
