/* Dockerfile-style instructions applied to an image config (import --change, commit --change). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inspect/cleanup.h"
#include "inspect/image.h"

/* The "config" object of an image config, created when missing. */
static json_t *process_config(json_t *config)
{
	json_t *c = json_object_get(config, "config");

	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(config, "config", c);
	}
	return c;
}

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* A JSON array of strings (exec form), or NULL when TEXT is not one. */
static json_t *exec_form(const char *text)
{
	json_t *a = json_loads(text, 0, NULL);
	size_t i;
	json_t *v;

	if (!json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	json_array_foreach(a, i, v)
		if (!json_is_string(v)) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* CMD and ENTRYPOINT: exec form as given, shell form under /bin/sh -c. */
static int set_command(json_t *c, const char *key, const char *args, struct ins_error *err)
{
	json_t *v = *args == '[' ? exec_form(args) : NULL;

	if (*args == '[' && !v)
		return ins_err(err, EINVAL, "%s %s: not a JSON array of strings", key, args);
	if (!v)
		v = json_pack("[sss]", "/bin/sh", "-c", args);
	if (!v || json_object_set_new(c, key, v) < 0)
		return ins_err_sys(err, ENOMEM, "%s", key);
	return 0;
}

/*
 * The next word of an ENV line, with "..." and '...' quoting and backslash
 * escapes as the Dockerfile has them. *P advances past it.
 */
static char *next_word(const char **p, struct ins_error *err)
{
	const char *s = skip_space(*p);
	char *out = malloc(strlen(s) + 1), *o = out;
	char quote = 0;

	if (!out)
		return ins_err_sys(err, ENOMEM, "ENV"), NULL;
	for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
		if (quote && *s == quote)
			quote = 0;
		else if (!quote && (*s == '"' || *s == '\''))
			quote = *s;
		else if (*s == '\\' && s[1] && quote != '\'')
			*o++ = *++s;
		else
			*o++ = *s;
	}
	*o = '\0';
	if (quote) {
		free(out);
		return ins_err(err, EINVAL, "ENV: unterminated quote"), NULL;
	}
	*p = s;
	return out;
}

/* Sets KEY=VALUE in the Env array, replacing an earlier value of KEY. */
static int set_env(json_t *c, const char *key, const char *value, struct ins_error *err)
{
	json_t *env = json_object_get(c, "Env");
	size_t klen = strlen(key), i;
	_cleanup_free_ char *pair = NULL;
	json_t *v;

	if (!*key || strchr(key, '='))
		return ins_err(err, EINVAL, "ENV: invalid name '%s'", key);
	if (asprintf(&pair, "%s=%s", key, value) < 0)
		return ins_err_sys(err, ENOMEM, "ENV");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(c, "Env", env);
	}
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);

		if (s && strncmp(s, key, klen) == 0 && s[klen] == '=')
			break;
	}
	if ((i < json_array_size(env) ? json_array_set_new(env, i, json_string(pair))
				      : json_array_append_new(env, json_string(pair))) < 0)
		return ins_err_sys(err, ENOMEM, "ENV");
	return 0;
}

/* "ENV K=V K2=V2" (quoting allowed), or the legacy "ENV K value with spaces". */
static int apply_env(json_t *c, const char *args, struct ins_error *err)
{
	size_t name_len = strcspn(args, "= \t");

	if (args[name_len] != '=') {
		_cleanup_free_ char *key = strndup(args, name_len);

		if (!key)
			return ins_err_sys(err, ENOMEM, "ENV");
		if (!*skip_space(args + name_len))
			return ins_err(err, EINVAL, "ENV %s: no value", key);
		return set_env(c, key, skip_space(args + name_len), err);
	}
	for (const char *p = args; *skip_space(p);) {
		_cleanup_free_ char *word = next_word(&p, err);
		char *eq;

		if (!word)
			return -1;
		eq = strchr(word, '=');
		if (!eq)
			return ins_err(err, EINVAL, "ENV: '%s' is not NAME=VALUE", word);
		*eq = '\0';
		if (set_env(c, word, eq + 1, err) < 0)
			return -1;
	}
	return 0;
}

/* WORKDIR: a relative path continues the previous one, as in a Dockerfile. */
static int apply_workdir(json_t *c, const char *args, struct ins_error *err)
{
	const char *prev = json_string_value(json_object_get(c, "WorkingDir"));
	_cleanup_free_ char *dir = NULL;

	if (args[0] == '/' || !prev || !*prev)
		dir = strdup(args[0] == '/' ? args : "/");
	if (args[0] != '/' && asprintf(&dir, "%s%s%s", prev && *prev ? prev : "",
				       prev && *prev && prev[strlen(prev) - 1] == '/' ? "" : "/", args) < 0)
		dir = NULL;
	if (!dir)
		return ins_err_sys(err, ENOMEM, "WORKDIR");
	if (json_object_set_new(c, "WorkingDir", json_string(dir)) < 0)
		return ins_err_sys(err, ENOMEM, "WORKDIR");
	return 0;
}

/* Trailing white space of an argument is not part of it. */
static char *trimmed(const char *s)
{
	size_t len = strlen(s);

	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return strndup(s, len);
}

int ins_config_apply_changes(json_t *config, const char *const *changes, size_t n,
			     struct ins_error *err)
{
	json_t *c = process_config(config);
	bool cmd_set = false;

	for (size_t i = 0; i < n; i++) {
		const char *line = skip_space(changes[i]);
		size_t kw_len = strcspn(line, " \t");
		_cleanup_free_ char *args = trimmed(skip_space(line + kw_len));
		int rc;

		if (!args)
			return ins_err_sys(err, ENOMEM, "change");
		if (!*args)
			return ins_err(err, EINVAL, "'%s': no arguments", changes[i]);
		if (kw_len == 3 && strncasecmp(line, "CMD", 3) == 0) {
			rc = set_command(c, "Cmd", args, err);
			cmd_set = true;
		} else if (kw_len == 10 && strncasecmp(line, "ENTRYPOINT", 10) == 0) {
			rc = set_command(c, "Entrypoint", args, err);
			if (!cmd_set)
				json_object_del(c, "Cmd");
		} else if (kw_len == 3 && strncasecmp(line, "ENV", 3) == 0) {
			rc = apply_env(c, args, err);
		} else if (kw_len == 7 && strncasecmp(line, "WORKDIR", 7) == 0) {
			rc = apply_workdir(c, args, err);
		} else if (kw_len == 4 && strncasecmp(line, "USER", 4) == 0) {
			rc = json_object_set_new(c, "User", json_string(args)) < 0
				     ? ins_err_sys(err, ENOMEM, "USER")
				     : 0;
		} else {
			return ins_err(err, EINVAL,
				       "'%.*s': unsupported instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER are)",
				       (int)kw_len, line);
		}
		if (rc < 0)
			return ins_err_prefix(err, "--change '%s'", changes[i]);
	}
	return 0;
}
