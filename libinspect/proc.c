#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/cleanup.h"
#include "inspect/fileio.h"
#include "inspect/proc.h"

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

pid_t ins_parse_pid(const char *s)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

char *ins_proc_read(pid_t pid, const char *file, size_t *len, struct ins_error *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return ins_read_file_at(AT_FDCWD, path, len, err);
}

/* Reads the next space-separated unsigned number; NULL when there is none. */
static const char *next_number(const char *p, unsigned long long *out)
{
	char *end;

	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p) && *p != '-')
		return NULL;
	errno = 0;
	*out = strtoull(p, &end, 10);
	if (errno || end == p)
		return NULL;
	return end;
}

int ins_proc_stat_parse(const char *line, struct ins_proc_stat *st, struct ins_error *err)
{
	/* comm may hold spaces and parentheses: it ends at the last ')'. */
	const char *open = strchr(line, '(');
	const char *close = strrchr(line, ')');
	unsigned long long v;
	size_t len;
	const char *p;

	memset(st, 0, sizeof(*st));
	if (!open || !close || close < open)
		return ins_err(err, EINVAL, "malformed stat line: no command name");
	st->pid = (pid_t)strtol(line, NULL, 10);
	len = (size_t)(close - open - 1);
	if (len >= sizeof(st->comm))
		len = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, len);
	p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p || !isalpha((unsigned char)*p))
		return ins_err(err, EINVAL, "malformed stat line: no state");
	st->state = *p++;
	/* Fields 4 (ppid) to 22 (starttime), as numbered in proc(5). */
	for (int field = 4; field <= 22; field++) {
		p = next_number(p, &v);
		if (!p)
			return ins_err(err, EINVAL, "malformed stat line: field %d", field);
		if (field == 4)
			st->ppid = (pid_t)v;
		else if (field == 9)
			st->flags = (unsigned int)v;
		else if (field == 22)
			st->starttime = v;
	}
	return 0;
}

int ins_proc_read_stat(pid_t pid, struct ins_proc_stat *st, struct ins_error *err)
{
	_cleanup_free_ char *line = ins_proc_read(pid, "stat", NULL, err);

	if (!line)
		return -1;
	if (ins_proc_stat_parse(line, st, err) < 0)
		return ins_err_prefix(err, "/proc/%d/stat", (int)pid);
	return 0;
}

bool ins_proc_is_kthread(const struct ins_proc_stat *st)
{
	return st->flags & PF_KTHREAD;
}

char *ins_proc_command(pid_t pid, struct ins_error *err)
{
	size_t len;
	char *buf = ins_proc_read(pid, "cmdline", &len, err);

	if (!buf)
		return NULL;
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	if (len == 0) {
		struct ins_proc_stat st;

		free(buf);
		if (ins_proc_read_stat(pid, &st, err) < 0)
			return NULL;
		buf = strdup(st.comm);
		if (!buf)
			ins_err_sys(err, ENOMEM, "/proc/%d/comm", (int)pid);
		return buf;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return buf;
}

char **ins_proc_environ(pid_t pid, struct ins_error *err)
{
	size_t len, n = 0;
	_cleanup_free_ char *buf = ins_proc_read(pid, "environ", &len, err);
	_cleanup_strv_ char **env = NULL;

	if (!buf)
		return NULL;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\0';
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return ins_err_sys(err, ENOMEM, "/proc/%d/environ", (int)pid), NULL;
	n = 0;
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		if (!buf[i])
			continue;
		env[n] = strdup(buf + i);
		if (!env[n++])
			return ins_err_sys(err, ENOMEM, "/proc/%d/environ", (int)pid), NULL;
	}
	return ins_steal_ptr(env);
}

/* Parses "Uid:\treal\teffective\tsaved\tfs" style lines. */
static int parse_id_line(const char *status, const char *key, unsigned *real, unsigned *eff)
{
	const char *p = strstr(status, key);

	if (!p || (p != status && p[-1] != '\n'))
		return -1;
	return sscanf(p + strlen(key), " %u %u", real, eff) == 2 ? 0 : -1;
}

int ins_proc_read_ids(pid_t pid, struct ins_proc_ids *ids, struct ins_error *err)
{
	_cleanup_free_ char *status = ins_proc_read(pid, "status", NULL, err);
	unsigned r, e;

	if (!status)
		return -1;
	if (parse_id_line(status, "Uid:", &r, &e) < 0)
		return ins_err(err, EINVAL, "/proc/%d/status: no Uid line", (int)pid);
	ids->ruid = r;
	ids->euid = e;
	if (parse_id_line(status, "Gid:", &r, &e) < 0)
		return ins_err(err, EINVAL, "/proc/%d/status: no Gid line", (int)pid);
	ids->rgid = r;
	ids->egid = e;
	return 0;
}

int ins_idmap_to_inside(const char *map, unsigned id, unsigned *inside)
{
	for (const char *line = map; *line;) {
		unsigned long long in, out, count;

		if (sscanf(line, "%llu %llu %llu", &in, &out, &count) == 3 && id >= out &&
		    id - out < count) {
			*inside = (unsigned)(in + (id - out));
			return 0;
		}
		line = strchrnul(line, '\n');
		if (*line)
			line++;
	}
	return -1;
}

/* Maps *ID through /proc/PID/FILE (uid_map or gid_map). */
static int map_inside(pid_t pid, const char *file, unsigned *id, struct ins_error *err)
{
	_cleanup_free_ char *map = ins_proc_read(pid, file, NULL, err);

	if (!map)
		return -1;
	if (ins_idmap_to_inside(map, *id, id) < 0)
		return ins_err(err, ERANGE, "/proc/%d/%s: id %u is not mapped", (int)pid, file, *id);
	return 0;
}

int ins_proc_read_ids_inside(pid_t pid, struct ins_proc_ids *ids, struct ins_error *err)
{
	if (ins_proc_read_ids(pid, ids, err) < 0 || map_inside(pid, "uid_map", &ids->ruid, err) < 0 ||
	    map_inside(pid, "uid_map", &ids->euid, err) < 0 ||
	    map_inside(pid, "gid_map", &ids->rgid, err) < 0 ||
	    map_inside(pid, "gid_map", &ids->egid, err) < 0)
		return -1;
	return 0;
}

int ins_proc_iter_open(struct ins_proc_iter *it, struct ins_error *err)
{
	it->dir = opendir("/proc");
	if (!it->dir)
		return ins_err_sys(err, errno, "/proc");
	return 0;
}

pid_t ins_proc_iter_next(struct ins_proc_iter *it)
{
	struct dirent *d;

	while ((d = readdir(it->dir))) {
		pid_t pid = ins_parse_pid(d->d_name);

		if (pid > 0)
			return pid;
	}
	return 0;
}

void ins_proc_iter_close(struct ins_proc_iter *it)
{
	if (it->dir)
		closedir(it->dir);
	it->dir = NULL;
}

int ins_proc_iter_fd(const struct ins_proc_iter *it)
{
	return dirfd(it->dir);
}
