#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/fileio.h"
#include "inspect/volume.h"

int ins_volume_spec_parse(const char *arg, struct ins_volume_spec *v, struct ins_error *err)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *first, *second, *mode;

	memset(v, 0, sizeof(*v));
	if (!copy)
		return ins_err_sys(err, ENOMEM, "-v %s", arg);
	first = copy;
	second = strchr(first, ':');
	if (second)
		*second++ = '\0';
	mode = second ? strchr(second, ':') : NULL;
	if (mode)
		*mode++ = '\0';
	/* "/ctr", "/ctr:ro" (anonymous), "src:/ctr", "src:/ctr:ro". */
	if (second && (strcmp(second, "ro") == 0 || strcmp(second, "rw") == 0) && !mode) {
		mode = second;
		second = NULL;
	}
	if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		return ins_err(err, EINVAL, "-v %s: unknown mode '%s' (ro or rw)", arg, mode);
	v->readonly = mode && strcmp(mode, "ro") == 0;
	v->dest = strdup(second ? second : first);
	v->source = second ? strdup(first) : NULL;
	if (!v->dest || (second && !v->source)) {
		ins_volume_spec_free(v);
		return ins_err_sys(err, ENOMEM, "-v %s", arg);
	}
	if (v->dest[0] != '/' || strcmp(v->dest, "/") == 0) {
		ins_volume_spec_free(v);
		return ins_err(err, EINVAL, "-v %s: the container path must be absolute and not /", arg);
	}
	if (v->source && !*v->source) {
		ins_volume_spec_free(v);
		return ins_err(err, EINVAL, "-v %s: an empty source", arg);
	}
	return 0;
}

void ins_volume_spec_free(struct ins_volume_spec *v)
{
	free(v->source);
	free(v->dest);
	v->source = v->dest = NULL;
}

/* Docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
static bool valid_name(const char *name)
{
	if (!isalnum((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return strlen(name) < 128;
}

/* The ids of the containers whose config mounts the volume NAME. */
static int users_of(struct ins_store *s, const char *name, char ***users, struct ins_error *err)
{
	struct ins_container *cs;
	size_t n, count = 0;

	*users = NULL;
	if (ins_container_list(s, &cs, &n, err) < 0)
		return -1;
	*users = calloc(n + 1, sizeof(**users));
	for (size_t i = 0; *users && i < n; i++) {
		size_t j;
		json_t *v;

		json_array_foreach(json_object_get(cs[i].config, "volumes"), j, v) {
			const char *vname = json_string_value(json_object_get(v, "name"));

			if (vname && strcmp(vname, name) == 0) {
				(*users)[count++] = strdup(cs[i].id);
				break;
			}
		}
	}
	ins_container_list_free(cs, n);
	return *users ? 0 : ins_err_sys(err, ENOMEM, "volume %s", name);
}

void ins_volume_free(struct ins_volume *v)
{
	free(v->name);
	free(v->mountpoint);
	free(v->created);
	ins_strv_free(v->users);
	memset(v, 0, sizeof(*v));
}

int ins_volume_load(struct ins_store *s, const char *name, struct ins_volume *v, struct ins_error *err)
{
	_cleanup_close_ int dir = -1;
	json_t *meta;

	memset(v, 0, sizeof(*v));
	if (!valid_name(name))
		return ins_err(err, EINVAL, "%s: not a volume name", name);
	dir = openat(s->volumesfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dir < 0)
		return errno == ENOENT ? ins_err(err, ENOENT, "%s: no such volume", name)
				       : ins_err_sys(err, errno, "volume %s", name);
	meta = ins_read_json_at(dir, "volume.json", err);
	if (!meta)
		return ins_err_prefix(err, "volume %s", name);
	v->name = strdup(name);
	v->anonymous = json_is_true(json_object_get(meta, "anonymous"));
	v->created = strdup(json_string_value(json_object_get(meta, "created")) ?: "");
	json_decref(meta);
	if (!v->name || !v->created || asprintf(&v->mountpoint, "%s/volumes/%s/_data", s->root, name) < 0) {
		v->mountpoint = NULL;
		ins_volume_free(v);
		return ins_err_sys(err, ENOMEM, "volume %s", name);
	}
	if (users_of(s, name, &v->users, err) < 0) {
		ins_volume_free(v);
		return -1;
	}
	return 0;
}

static int random_name(char *out, size_t size, struct ins_error *err)
{
	unsigned char raw[32];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return ins_err_sys(err, errno, "getrandom");
	for (size_t i = 0; i < sizeof(raw) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

int ins_volume_create(struct ins_store *s, const char *name, struct ins_volume *v, struct ins_error *err)
{
	char id[65], created[32];
	time_t t = time(NULL);
	struct tm tm;
	_cleanup_close_ int dir = -1;
	json_t *meta;
	int rc;

	if (!name) {
		if (random_name(id, sizeof(id), err) < 0)
			return -1;
		name = id;
	} else if (!valid_name(name)) {
		return ins_err(err, EINVAL, "%s: not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)", name);
	}
	if (mkdirat(s->volumesfd, name, 0700) < 0) {
		if (errno == EEXIST)
			return ins_volume_load(s, name, v, err);
		return ins_err_sys(err, errno, "volume %s", name);
	}
	dir = openat(s->volumesfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dir < 0 || mkdirat(dir, "_data", 0755) < 0)
		return ins_err_sys(err, errno, "volume %s", name);
	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	meta = json_pack("{s:s,s:b,s:s}", "name", name, "anonymous", name == id, "created", created);
	rc = meta ? ins_write_json_at(dir, "volume.json", meta, true, err) : ins_err_sys(err, ENOMEM, "volume");
	json_decref(meta);
	return rc < 0 ? -1 : ins_volume_load(s, name, v, err);
}

int ins_volume_list(struct ins_store *s, struct ins_volume **vs, size_t *n, struct ins_error *err)
{
	char what[4096], **names;
	size_t count;

	*vs = NULL;
	*n = 0;
	snprintf(what, sizeof(what), "%s/volumes", s->root);
	if (ins_dir_names(s->volumesfd, what, &names, &count, err) < 0)
		return -1;
	if (count && !(*vs = calloc(count, sizeof(**vs)))) {
		ins_names_free(names, count);
		return ins_err_sys(err, ENOMEM, "%s", what);
	}
	for (size_t i = 0; i < count; i++)
		/* A volume being made or removed meanwhile is not an error. */
		if (names[i][0] != '.' && ins_volume_load(s, names[i], &(*vs)[*n], err) == 0)
			(*n)++;
	ins_names_free(names, count);
	return 0;
}

void ins_volume_list_free(struct ins_volume *vs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ins_volume_free(&vs[i]);
	free(vs);
}

int ins_volume_remove(struct ins_store *s, const char *name, struct ins_error *err)
{
	struct ins_volume v;
	int rc;

	if (ins_volume_load(s, name, &v, err) < 0)
		return -1;
	if (v.users[0])
		rc = ins_err(err, EBUSY, "volume %s is in use by container %.12s", name, v.users[0]);
	else
		rc = ins_remove_tree_at(s->volumesfd, name, err);
	ins_volume_free(&v);
	return rc;
}

int ins_volume_prune(struct ins_store *s, size_t *count, struct ins_error *err)
{
	struct ins_volume *vs;
	size_t n;
	int rc = 0;

	*count = 0;
	if (ins_volume_list(s, &vs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!vs[i].users[0]) {
			rc = ins_remove_tree_at(s->volumesfd, vs[i].name, err);
			*count += rc == 0;
		}
	ins_volume_list_free(vs, n);
	return rc;
}
