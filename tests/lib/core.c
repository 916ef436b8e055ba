/* libinspect's parsers and building blocks, on real and hostile input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../libinspect/u64map.h"
#include "../helpers.h"
#include "inspect/cgroup.h"
#include "inspect/error.h"
#include "inspect/ns.h"
#include "inspect/passwd.h"
#include "inspect/proc.h"
#include "inspect/target.h"

Test(core, stat_line_with_a_hostile_command_name)
{
	const char *line = "4242 (a) b (c)) S 7 4242 4242 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 "
			   "987654 1000 100 18446744073709551615\n";
	struct ins_proc_stat st;
	struct ins_error err;

	cr_assert_eq(ins_proc_stat_parse(line, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.pid, 4242);
	cr_assert_str_eq(st.comm, "a) b (c)");
	cr_assert_eq(st.state, 'S');
	cr_assert_eq(st.ppid, 7);
	cr_assert_eq(st.flags, 4194560u);
	cr_assert_eq(st.starttime, 987654ull);
}

Test(core, malformed_stat_lines_are_errors)
{
	const char *bad[] = { "", "12 no-parens S 1", "12 (x)", "12 (x) S 1 2", "12 (x) 9 1" };
	struct ins_proc_stat st;
	struct ins_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ins_proc_stat_parse(bad[i], &st, &err), -1, "accepted: %s", bad[i]);
		cr_assert_eq(err.code, EINVAL);
		cr_assert_not_null(strstr(err.msg, "malformed stat line"));
	}
}

Test(core, our_own_stat_and_ids)
{
	struct ins_proc_stat st;
	struct ins_proc_ids ids;
	struct ins_error err;

	cr_assert_eq(ins_proc_read_stat(getpid(), &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.pid, getpid());
	cr_assert_eq(st.ppid, getppid());
	cr_assert_eq(ins_proc_read_ids(getpid(), &ids, &err), 0, "%s", err.msg);
	cr_assert_eq(ids.euid, geteuid());
	cr_assert_eq(ins_proc_read_ids_inside(getpid(), &ids, &err), 0, "%s", err.msg);
	cr_assert_eq(ids.egid, getegid());
}

Test(core, id_maps)
{
	const char *map = "         0     100000      65536\n    100000          0          1\n";
	unsigned in;

	cr_assert_eq(ins_idmap_to_inside(map, 101000, &in), 0);
	cr_assert_eq(in, 1000u);
	cr_assert_eq(ins_idmap_to_inside(map, 0, &in), 0);
	cr_assert_eq(in, 100000u);
	cr_assert_eq(ins_idmap_to_inside(map, 165536, &in), -1);
	cr_assert_eq(ins_idmap_to_inside("0 0 4294967295\n", 4294967294u, &in), 0);
	cr_assert_eq(in, 4294967294u);
	cr_assert_eq(ins_idmap_to_inside("", 0, &in), -1);
}

Test(core, cgroup_files_of_v1_v2_and_hybrid_hosts)
{
	const char *hybrid = "12:pids:/ctk/a\n3:cpu,cpuacct:/x\n1:name=systemd:/init.scope\n0::/\n";
	struct ins_cgroup_set set;
	struct ins_error err;

	cr_assert_eq(ins_cgroup_parse(hybrid, &set, &err), 0, "%s", err.msg);
	cr_assert_eq(set.n, 4);
	cr_assert_eq(set.entries[0].hierarchy, 12u);
	cr_assert_str_eq(set.entries[0].controllers, "pids");
	cr_assert_str_eq(set.entries[0].path, "/ctk/a");
	cr_assert_str_eq(set.entries[1].controllers, "cpu,cpuacct");
	cr_assert_str_eq(set.entries[2].controllers, "name=systemd");
	cr_assert_eq(set.entries[3].hierarchy, 0u);
	cr_assert_str_empty(set.entries[3].controllers);
	cr_assert_str_eq(set.entries[3].path, "/");
	ins_cgroup_set_free(&set);

	cr_assert_eq(ins_cgroup_parse("0::/a:b\n", &set, &err), 0, "colons in the path are data");
	cr_assert_str_eq(set.entries[0].path, "/a:b");
	ins_cgroup_set_free(&set);

	for (const char *const *bad = (const char *const[]){ "x::/\n", "0:/\n", "1:cpu:relative\n", NULL };
	     *bad; bad++) {
		cr_assert_eq(ins_cgroup_parse(*bad, &set, &err), -1, "accepted %s", *bad);
		cr_assert_eq(err.code, EINVAL);
	}
}

Test(core, our_cgroups_resolve_to_directories_that_hold_us)
{
	struct ins_cgroup_set set;
	struct ins_error err;
	size_t found = 0;

	cr_assert_eq(ins_cgroup_of_pid(getpid(), &set, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < set.n; i++) {
		char *dir = ins_cgroup_dir(&set.entries[i], &err);
		char procs[4096];
		FILE *f;
		int pid;

		if (!dir) {
			cr_assert_eq(err.code, ENOENT, "%s", err.msg);
			continue;
		}
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		f = fopen(procs, "re");
		cr_assert_not_null(f, "%s", procs);
		while (fscanf(f, "%d", &pid) == 1)
			found += pid == getpid();
		fclose(f);
		free(dir);
	}
	cr_assert_gt(found, 0, "no hierarchy's directory lists us");
	ins_cgroup_set_free(&set);
}

Test(core, error_prefixes_keep_the_message_one_bounded_line)
{
	struct ins_error err;
	char big[2000];

	ins_err_sys(&err, ENOENT, "%s", "/proc/1/stat");
	ins_err_prefix(&err, "%d", 1);
	cr_assert_str_eq(err.msg, "1: /proc/1/stat: No such file or directory");
	cr_assert_eq(err.code, ENOENT);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ins_err(&err, EIO, "%s", big);
	ins_err_prefix(&err, "ctx");
	cr_assert_eq(strlen(err.msg), INS_ERROR_MSG_MAX - 1);
	cr_assert_eq(strncmp(err.msg, "ctx: xxx", 8), 0);
}

Test(core, namespace_types_and_our_own_set)
{
	struct ins_ns_set set;
	struct ins_error err;

	for (int t = 0; t < INS_NS_NTYPES; t++)
		cr_assert_eq(ins_ns_type_from_name(ins_ns_type_name(t)), t);
	cr_assert_eq(ins_ns_type_from_name("mount"), -1);
	cr_assert_eq(ins_ns_of_pid(0, &set, &err), 0, "%s", err.msg);
	for (int t = 0; t < INS_NS_NTYPES; t++) {
		char path[64];
		struct stat st;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", ins_ns_type_name(t));
		cr_assert_eq(stat(path, &st), 0);
		cr_assert(set.present & INS_NS_BIT(t));
		cr_assert_eq(set.id[t].ino, st.st_ino);
		cr_assert_eq(set.id[t].dev, st.st_dev);
	}
}

Test(core, targets_are_pids_that_exist)
{
	struct ins_target t;
	struct ins_error err;

	setenv("CTK_ROOT", "/nonexistent-ctk-root", 1);
	cr_assert_eq(ins_target_resolve("12abc", &t, &err), -1);
	cr_assert_str_eq(err.msg, "12abc: no such process or container");
	cr_assert_eq(access("/nonexistent-ctk-root", F_OK), -1, "looking up a name made a store");
	cr_assert_eq(ins_target_resolve("0", &t, &err), -1);
	cr_assert_eq(ins_target_resolve("-5", &t, &err), -1);
	cr_assert_eq(ins_target_resolve(pidstr(getpid()), &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t.pid, getpid());
	cr_assert_geq(t.pidfd, 0);
	cr_assert_gt(t.starttime, 0);
	cr_assert_eq(ins_target_check(&t, &err), 0);
	ins_target_release(&t);
	cr_assert_eq(t.pidfd, -1);
}

Test(core, u64map_holds_many_keys)
{
	struct u64map m = { 0 };

	for (uint64_t k = 1; k <= 20000; k++)
		cr_assert_eq(u64map_put(&m, k * 7919, (size_t)k), 0);
	cr_assert_eq(m.n, 20000);
	for (uint64_t k = 1; k <= 20000; k++) {
		size_t *v = u64map_get(&m, k * 7919);

		cr_assert_not_null(v);
		cr_assert_eq(*v, (size_t)k);
	}
	cr_assert_null(u64map_get(&m, 3));
	u64map_put(&m, 7919, 5);
	cr_assert_eq(*u64map_get(&m, 7919), 5);
	cr_assert_eq(m.n, 20000);
	u64map_free(&m);
}

Test(core, users_and_groups_of_a_container)
{
	const char *passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:100:App:/home/app:/bin/sh\n"
			     "broken-line\nnobody:x:65534:65534::/nonexistent:/bin/false\n";
	const char *group = "root:x:0:\nusers:x:100:\nwheel:x:10:app,root\ndocker:x:999:other,app\n";
	struct ins_user u;
	struct ins_error err;

	cr_assert_eq(ins_user_resolve("app", passwd, group, &u, &err), 0, "%s", err.msg);
	cr_assert_eq(u.uid, 1000);
	cr_assert_eq(u.gid, 100);
	cr_assert_str_eq(u.home, "/home/app");
	cr_assert_eq(u.ngroups, 2);
	cr_assert(u.groups[0] == 10 && u.groups[1] == 999);
	cr_assert_eq(ins_user_resolve("1000:wheel", passwd, group, &u, &err), 0, "%s", err.msg);
	cr_assert(u.uid == 1000 && u.gid == 10);
	cr_assert_eq(ins_user_resolve("4321", passwd, group, &u, &err), 0, "%s", err.msg);
	cr_assert(u.uid == 4321 && u.gid == 0 && strcmp(u.home, "/") == 0);
	cr_assert_eq(ins_user_resolve(NULL, NULL, NULL, &u, &err), 0);
	cr_assert(u.uid == 0 && u.gid == 0);
	cr_assert_eq(ins_user_resolve("ghost", passwd, group, &u, &err), -1);
	cr_assert_not_null(strstr(err.msg, "unable to find user ghost"));
	cr_assert_eq(ins_user_resolve("app:nogroup", passwd, group, &u, &err), -1);
	cr_assert_eq(ins_user_resolve("99999999999", passwd, group, &u, &err), -1, "ids beyond 32 bits are names");
}
