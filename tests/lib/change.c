/* Dockerfile-style --change instructions on an image config. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/image.h"

static json_t *config;

static void setup(void)
{
	config = json_pack("{s:{s:[s],s:[s]}}", "config", "Env", "PATH=/bin", "Cmd", "sh");
}

static void teardown(void)
{
	json_decref(config);
}

TestSuite(change, .init = setup, .fini = teardown);

static void apply(const char *const *changes, size_t n)
{
	struct ins_error err;

	cr_assert_eq(ins_config_apply_changes(config, changes, n, &err), 0, "%s", err.msg);
}

/* The process config's KEY as compact JSON. */
static char *get(const char *key)
{
	json_t *v = json_object_get(json_object_get(config, "config"), key);

	return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
}

#define assert_json(key, expect)                        \
	do {                                            \
		char *got_ = get(key);                  \
		cr_assert_str_eq(got_, expect, "%s", key); \
		free(got_);                             \
	} while (0)

Test(change, exec_and_shell_forms)
{
	apply((const char *[]){ "CMD [\"echo\", \"a b\"]" }, 1);
	assert_json("Cmd", "[\"echo\",\"a b\"]");
	apply((const char *[]){ "cmd echo \"$HOME\" && true  " }, 1);
	assert_json("Cmd", "[\"/bin/sh\",\"-c\",\"echo \\\"$HOME\\\" && true\"]");
	apply((const char *[]){ "ENTRYPOINT /app --flag" }, 1);
	assert_json("Entrypoint", "[\"/bin/sh\",\"-c\",\"/app --flag\"]");
}

Test(change, entrypoint_clears_an_inherited_cmd_only)
{
	apply((const char *[]){ "ENTRYPOINT [\"/bin/echo\"]" }, 1);
	assert_json("Cmd", "null");
	apply((const char *[]){ "CMD [\"hi\"]", "ENTRYPOINT [\"/bin/echo\"]" }, 2);
	assert_json("Cmd", "[\"hi\"]");
	assert_json("Entrypoint", "[\"/bin/echo\"]");
}

Test(change, env_pairs_quoting_and_the_legacy_form)
{
	apply((const char *[]){ "ENV A=1 B=\"two words\" C='$x' D=e\\ f", "ENV PATH=/usr/bin",
				"ENV LEGACY a value with spaces" },
	      3);
	assert_json("Env", "[\"PATH=/usr/bin\",\"A=1\",\"B=two words\",\"C=$x\",\"D=e f\","
			   "\"LEGACY=a value with spaces\"]");
}

Test(change, workdir_user_and_errors)
{
	struct ins_error err;
	const char *bad[] = { "RUN rm -rf /", "CMD", "CMD [1, 2]", "ENV A=\"open", "ENV =x", "ENV lonely" };

	apply((const char *[]){ "WORKDIR /srv", "WORKDIR app", "USER 1000:1000" }, 3);
	assert_json("WorkingDir", "\"/srv/app\"");
	assert_json("User", "\"1000:1000\"");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ins_config_apply_changes(config, &bad[i], 1, &err), -1, "accepted %s", bad[i]);
		cr_assert_eq(err.code, EINVAL, "%s: %s", bad[i], err.msg);
	}
	cr_assert_not_null(strstr(err.msg, "ENV lonely"), "%s", err.msg);
}
