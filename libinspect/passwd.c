#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/cleanup.h"
#include "inspect/passwd.h"

/* Parses a decimal id; false unless S is one whole. */
static bool parse_id(const char *s, size_t len, unsigned *id)
{
	unsigned long v = 0;

	if (!len || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 0xfffffffeUL)
		return false;
	*id = (unsigned)v;
	return true;
}

/* Field N (0-based, ':'-separated) of LINE, up to END; *LEN gets its length. */
static const char *field(const char *line, const char *end, int n, size_t *len)
{
	for (; n > 0 && line < end; n--) {
		line = memchr(line, ':', (size_t)(end - line));
		if (!line)
			return NULL;
		line++;
	}
	if (n > 0 || line > end)
		return NULL;
	*len = strcspn(line, ":\n");
	if (line + *len > end)
		*len = (size_t)(end - line);
	return line;
}

/*
 * Finds the line of FILE whose name (field 0) is KEY, or whose id (field 2)
 * is KEY when BY_ID; returns it with END set to its end.
 */
static const char *find_entry(const char *file, const char *key, size_t klen, bool by_id,
			      const char **end)
{
	for (const char *line = file; line && *line;) {
		const char *e = strchrnul(line, '\n'), *f;
		size_t len;

		f = field(line, e, by_id ? 2 : 0, &len);
		if (f && len == klen && memcmp(f, key, klen) == 0) {
			*end = e;
			return line;
		}
		line = *e ? e + 1 : NULL;
	}
	return NULL;
}

/* Whether NAME is in the comma-separated member list (field 3) of the group line LINE..END. */
static bool is_member(const char *line, const char *end, const char *name, size_t nlen)
{
	size_t len;
	const char *m = field(line, end, 3, &len);

	while (m && len) {
		size_t one = strcspn(m, ",\n");

		if (one > len)
			one = len;
		if (one == nlen && memcmp(m, name, nlen) == 0)
			return true;
		if (one == len)
			break;
		m += one + 1;
		len -= one + 1;
	}
	return false;
}

static void add_groups(struct ins_user *u, const char *group, const char *name, size_t nlen)
{
	for (const char *line = group; line && *line;) {
		const char *e = strchrnul(line, '\n');
		size_t len;
		const char *gid = field(line, e, 2, &len);
		unsigned id;

		if (gid && parse_id(gid, len, &id) && is_member(line, e, name, nlen) &&
		    u->ngroups < sizeof(u->groups) / sizeof(u->groups[0]))
			u->groups[u->ngroups++] = id;
		line = *e ? e + 1 : NULL;
	}
}

static int resolve_user(const char *spec, size_t len, const char *passwd, const char *group,
			struct ins_user *u, struct ins_error *err)
{
	unsigned id;
	bool numeric = parse_id(spec, len, &id);
	const char *end = NULL, *line = passwd ? find_entry(passwd, spec, len, numeric, &end) : NULL;
	size_t flen;
	const char *f;

	if (!line && !numeric)
		return ins_err(err, ENOENT, "unable to find user %.*s: no matching entry in passwd file",
			       (int)len, spec);
	u->uid = numeric ? id : 0;
	u->gid = 0;
	snprintf(u->home, sizeof(u->home), "/");
	if (!line)
		return 0;
	if ((f = field(line, end, 2, &flen)) && parse_id(f, flen, &id))
		u->uid = id;
	if ((f = field(line, end, 3, &flen)) && parse_id(f, flen, &id))
		u->gid = id;
	if ((f = field(line, end, 5, &flen)) && flen)
		snprintf(u->home, sizeof(u->home), "%.*s", (int)flen, f);
	if (group && (f = field(line, end, 0, &flen)))
		add_groups(u, group, f, flen);
	return 0;
}

static int resolve_group(const char *spec, const char *group, struct ins_user *u, struct ins_error *err)
{
	unsigned id;
	size_t len = strlen(spec), flen;
	const char *end, *line, *f;

	if (parse_id(spec, len, &id)) {
		u->gid = id;
		return 0;
	}
	line = group ? find_entry(group, spec, len, false, &end) : NULL;
	if (!line || !(f = field(line, end, 2, &flen)) || !parse_id(f, flen, &id))
		return ins_err(err, ENOENT, "unable to find group %s: no matching entry in group file", spec);
	u->gid = id;
	return 0;
}

int ins_user_resolve(const char *spec, const char *passwd, const char *group, struct ins_user *u,
		     struct ins_error *err)
{
	const char *colon;

	memset(u, 0, sizeof(*u));
	if (!spec || !*spec)
		spec = "0";
	colon = strchr(spec, ':');
	if (resolve_user(spec, colon ? (size_t)(colon - spec) : strlen(spec), passwd, group, u, err) < 0)
		return -1;
	return colon ? resolve_group(colon + 1, group, u, err) : 0;
}
