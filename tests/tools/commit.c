/*
 * ctk commit and ctk image fsck, on real busybox containers: Docker's model
 * end to end (the layer's tar, the committed image run), the config and
 * history, --exclude, a commit killed at many points, fsck's checks and
 * repairs.
 */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../helpers.h"
#include "inspect/cleanup.h"
#include "inspect/container.h"
#include "inspect/fileio.h"
#include "inspect/image.h"
#include "inspect/store.h"

static char work[64], store[96];
static json_t *doc, *tar;

static void setup(void)
{
	scratch_store("commit", work, sizeof(work), store, sizeof(store));
}

static void teardown(void)
{
	json_decref(doc);
	json_decref(tar);
	doc = tar = NULL;
	scratch_store_remove(work, store);
}

TestSuite(commit, .init = setup, .fini = teardown, .timeout = 300);

#define image(...) import_image_(work, __VA_ARGS__, NULL)

/* The last row of `ctk image history --json REF`: the commit's. */
static json_t *last_history(const char *ref)
{
	json_t *rows;

	json_decref(doc);
	doc = json_parse(ctk_ok(0, "image", "history", "--json", "-o", "LAYER,SIZE,CREATED-BY,COMMENT,AUTHOR", ref));
	rows = json_object_get(doc, "history");
	cr_assert_gt(json_array_size(rows), 0);
	return json_array_get(rows, json_array_size(rows) - 1);
}

/*
 * The tar of REF's newest layer as {name: {"type", "size", "data", "link",
 * "hardlink", "mode", "xattrs": {...}}}, in TAR.
 */
static void read_layer(const char *ref)
{
	const char *digest = json_string_value(json_object_get(last_history(ref), "layer"));
	char path[512];
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	cr_assert_not_null(digest);
	snprintf(path, sizeof(path), "%s/images/blobs/sha256/%s", store, digest + 7);
	json_decref(tar);
	tar = json_object();
	archive_read_support_format_tar(a);
	cr_assert_eq(archive_read_open_filename(a, path, 1 << 16), ARCHIVE_OK, "%s", archive_error_string(a));
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char data[256] = "", type[2] = "?";
		const char *key;
		const void *value;
		size_t size;
		json_t *xattrs = json_object();

		switch (archive_entry_filetype(e)) {
		case AE_IFREG: type[0] = archive_entry_hardlink(e) ? 'h' : 'f'; break;
		case AE_IFDIR: type[0] = 'd'; break;
		case AE_IFLNK: type[0] = 'l'; break;
		case AE_IFCHR: type[0] = 'c'; break;
		}
		archive_read_data(a, data, sizeof(data) - 1);
		archive_entry_xattr_reset(e);
		while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK)
			json_object_set_new(xattrs, key, json_stringn(value, size));
		json_object_set_new(tar, archive_entry_pathname(e),
				    json_pack("{s:s,s:I,s:s,s:s?,s:s?,s:i,s:o}", "type", type, "size",
					      (json_int_t)archive_entry_size(e), "data", data, "link",
					      archive_entry_symlink(e), "hardlink", archive_entry_hardlink(e), "mode",
					      (int)archive_entry_perm(e), "xattrs", xattrs));
	}
	archive_read_free(a);
}

static const char *entry_str(const char *name, const char *key)
{
	json_t *e = json_object_get(tar, name);

	cr_assert_not_null(e, "%s is not in the layer: %s", name, json_dumps(tar, JSON_COMPACT));
	return json_string_value(json_object_get(e, key));
}

Test(commit, dockers_model_end_to_end)
{
	char path[1024];
	json_t *h;
	const char *by, *id;

	image("bb");
	ctk_ok(0, "run", "-d", "--name", "c", "-v", "/test", "bb", "sleep", "1000");
	ctk_ok(0, "exec", "c", "sh", "-c",
	       "echo in-volume > /test/vol && echo new > /new && echo more >> /etc/passwd && rm /etc/group && "
	       "echo 10.0.0.1 db >> /etc/hosts && mkdir -p /srv/a && echo data > /srv/a/f && ln /srv/a/f /srv/a/g && "
	       "ln -s ../etc/passwd /srv/link && mknod /srv/null c 1 3 && chmod 4755 /srv/a/f");
	ctk_ok(0, "exec", "c", "rm", "/bin/vi");
	/* An xattr, and overlayfs's own, which no layer may carry. */
	snprintf(path, sizeof(path), "%s/upper/new", container_dir(store, "c"));
	cr_assert_eq(setxattr(path, "user.origin", "test", 4, 0), 0, "%m");
	cr_assert_eq(setxattr(path, "trusted.overlay.origin", "x", 1, 0), 0, "%m");
	id = ctk_ok(0, "commit", "c", "bb:committed");
	cr_assert_eq(strncmp(id, "sha256:", 7), 0, "%s", id);
	cr_assert_eq(strlen(id), 72, "the image id and a newline: %s", id);

	read_layer("bb:committed");
	cr_assert_str_eq(entry_str("new", "type"), "f");
	cr_assert_str_eq(entry_str("new", "data"), "new\n");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(tar, "new"), "xattrs"),
							    "user.origin")), "test");
	cr_assert_eq(json_object_size(json_object_get(json_object_get(tar, "new"), "xattrs")), 1,
		     "no trusted.overlay.* in a layer");
	cr_assert_not_null(strstr(entry_str("etc/passwd", "data"), "more\n"));
	cr_assert_str_eq(entry_str("etc/.wh.group", "type"), "f");
	cr_assert_str_eq(entry_str("bin/.wh.vi", "type"), "f");
	/* The volume's mount point, empty; what the volume holds and the init layer's files, nowhere. */
	cr_assert_str_eq(entry_str("test/", "type"), "d");
	cr_assert_null(json_object_get(tar, "test/vol"));
	cr_assert_null(json_object_get(tar, "etc/hosts"));
	cr_assert_null(json_object_get(tar, "etc/hostname"));
	cr_assert_null(json_object_get(tar, "etc/resolv.conf"));
	cr_assert_str_eq(entry_str("srv/a/f", "data"), "data\n");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(tar, "srv/a/f"), "mode")), 04755);
	cr_assert_str_eq(entry_str("srv/a/g", "hardlink"), "srv/a/f");
	cr_assert_str_eq(entry_str("srv/link", "link"), "../etc/passwd");
	cr_assert_str_eq(entry_str("srv/null", "type"), "c");
	cr_assert_eq(json_object_size(tar), 13, "%s", json_dumps(tar, JSON_COMPACT));

	/* How the layer came to be. */
	h = last_history("bb:committed");
	by = json_string_value(json_object_get(h, "created-by"));
	cr_assert_not_null(by);
	cr_assert_eq(strncmp(by, "sleep 1000; ctk exec sh -c 'echo in-volume > /test/vol && ", 58), 0, "%s", by);
	cr_assert_not_null(strstr(by, "; ctk exec rm /bin/vi  # A 8 (14 bytes), C 3 ("), "%s", by);
	cr_assert_not_null(strstr(by, "), D 2"), "%s", by);

	/* The committed image runs with the changes, its command the container's. */
	ctk_ok(0, "rm", "-f", "c");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "bb:committed", "sh", "-c",
				"cat /new /srv/a/g; tail -n 1 /etc/passwd; ls /test; ls /etc/group /bin/vi 2>&1 | wc -l; "
				"stat -c %a /srv/a/f; readlink /srv/link"),
			 "new\ndata\nmore\n2\n4755\n../etc/passwd\n");
	ctk_ok(0, "run", "-d", "--name", "again", "bb:committed");
	cr_assert_not_null(strstr(ctk_ok(0, "ps", "-a", "-o", "COMMAND"), "sleep 1000"));
	ctk_ok(0, "rm", "-f", "again");
	cr_assert_str_eq(ctk_ok(0, "image", "fsck"), "");
}

Test(commit, the_config_and_history_follow_docker)
{
	json_t *h, *config;
	_cleanup_free_ char *id = NULL;
	char path[512];
	struct ins_error err;

	image("bb", "--entrypoint", "[\"/bin/sh\",\"-c\"]", "--cmd", "[\"true\"]");
	ctk_ok(0, "run", "--name", "c", "-e", "GREETING=hello", "-w", "/srv", "bb", "echo x > /srv/f");
	id = strndup(ctk_ok(0, "commit", "-m", "the message", "-a", "Jane <jane@example.com>", "-c", "ENV MORE=1",
			    "-c", "USER nobody", "c"), 71);
	/* No REF: an unnamed image, by its id. */
	snprintf(path, sizeof(path), "blobs/sha256/%.64s", id + 7);
	{
		_cleanup_close_ int images = -1;
		char dir[512];

		snprintf(dir, sizeof(dir), "%s/images", store);
		images = open(dir, O_RDONLY | O_DIRECTORY);
		config = ins_read_json_at(images, path, &err);
		cr_assert_not_null(config, "%s", err.msg);
	}
	h = json_object_get(config, "config");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(h, "Entrypoint"), 0)), "/bin/sh");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(h, "Cmd"), 0)), "echo x > /srv/f");
	cr_assert_eq(json_array_size(json_object_get(h, "Cmd")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(h, "WorkingDir")), "/srv");
	cr_assert_str_eq(json_string_value(json_object_get(h, "User")), "nobody");
	{
		_cleanup_free_ char *env = json_dumps(json_object_get(h, "Env"), JSON_COMPACT);

		cr_assert_not_null(strstr(env, "\"GREETING=hello\""), "%s", env);
		cr_assert_not_null(strstr(env, "\"MORE=1\""), "%s", env);
		cr_assert_null(strstr(env, "HOSTNAME="), "%s", env);
	}
	cr_assert_str_eq(json_string_value(json_object_get(config, "author")), "Jane <jane@example.com>");
	json_decref(config);
	h = last_history(id);
	cr_assert_str_eq(json_string_value(json_object_get(h, "comment")), "the message");
	cr_assert_str_eq(json_string_value(json_object_get(h, "author")), "Jane <jane@example.com>");
	cr_assert_str_eq(json_string_value(json_object_get(h, "created-by")),
			 "/bin/sh -c 'echo x > /srv/f'  # A 2 (2 bytes), C 0 (0 bytes), D 0");
	/* The container has exited: the unpacked layer's files are its own, linked, not copied. */
	{
		struct stat in_layer, in_upper;
		char file[1024];

		snprintf(file, sizeof(file), "%s/upper/srv/f", container_dir(store, "c"));
		cr_assert_eq(stat(file, &in_upper), 0, "%s: %m", file);
		json_decref(doc);
		doc = json_parse(ctk_ok(0, "image", "history", "--json", "-o", "LAYER", id));
		snprintf(file, sizeof(file), "%s/layers/%s/srv/f", store,
			 json_string_value(json_object_get(json_array_get(json_object_get(doc, "history"), 1), "layer")) + 7);
		cr_assert_eq(stat(file, &in_layer), 0, "%s: %m", file);
		cr_assert_eq(in_layer.st_ino, in_upper.st_ino);
	}
	/* Listed without a name, and runnable by its id at once. */
	cr_assert_not_null(strstr(ctk_ok(0, "image", "ls", "-r", "-n", "-o", "NAME,ID"), "\n"));
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "-u", "root", "--entrypoint", "cat", id, "/srv/f"), "x\n");
}

Test(commit, excluded_paths_stay_out)
{
	image("bb");
	ctk_ok(0, "run", "--name", "c", "bb", "sh", "-c",
	       "mkdir -p /app/cache /app/src && echo 1 > /app/src/main.c && echo 2 > /app/build.log && "
	       "echo 3 > /app/cache/blob && echo 4 > /app/src/debug.log && rm /etc/group");
	ctk_ok(0, "commit", "--exclude", "*.log", "--exclude", "/app/cache", "--exclude", "/etc/group", "c", "x");
	read_layer("x");
	cr_assert_not_null(json_object_get(tar, "app/src/main.c"));
	cr_assert_null(json_object_get(tar, "app/build.log"));
	cr_assert_null(json_object_get(tar, "app/src/debug.log"));
	cr_assert_null(json_object_get(tar, "app/cache/"));
	cr_assert_null(json_object_get(tar, "app/cache/blob"));
	cr_assert_null(json_object_get(tar, "etc/.wh.group"));
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "x", "sh", "-c", "ls -R /app; cat /etc/group | wc -l"),
			 "/app:\nsrc\n\n/app/src:\nmain.c\n2\n");
}

/* Writes LEN bytes of DATA to the new or existing file PATH. */
static void write_file(const char *path, const void *data, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "%s: %m", path);
	cr_assert_eq(ins_write_all(fd, data, len), 0, "%s: %m", path);
}

/* Fills the read-write layer of the exited container NAME with DIRS directories of FILES files of SIZE bytes. */
static void fill_upper(const char *name, int dirs, int files, size_t size)
{
	char path[1024];
	char *data = malloc(size);

	cr_assert_not_null(data);
	for (size_t i = 0; i < size; i++)
		data[i] = (char)(i * 7 + 3);
	for (int d = 0; d < dirs; d++) {
		snprintf(path, sizeof(path), "%s/upper/d%d", container_dir(store, name), d);
		cr_assert_eq(mkdir(path, 0755), 0, "%s: %m", path);
		for (int f = 0; f < files; f++) {
			snprintf(path, sizeof(path), "%s/upper/d%d/f%d", container_dir(store, name), d, f);
			data[0] = (char)f;
			write_file(path, data, size);
		}
	}
	free(data);
}

/* The names in DIR below the store. */
static size_t entries(const char *dir)
{
	char path[512], **names;
	size_t n;
	struct ins_error err;
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/%s", store, dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %m", path);
	cr_assert_eq(ins_dir_names(fd, path, &names, &n, &err), 0, "%s", err.msg);
	ins_names_free(names, n);
	return n;
}

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/* The store is valid: fsck finds nothing but leftovers, which --repair removes; every image runs. */
static void assert_valid_store(void)
{
	struct run r;
	char *ids, *save = NULL;

	/* Opening the store cleared what the killed commit left in tmp/. */
	ctk_ok(0, "image", "ls");
	cr_assert_eq(entries("tmp"), 0, "tmp/ holds leftovers");
	cr_assert_eq(ctk(&r, "image", "fsck", NULL), 0);
	if (r.status != 0) {
		cr_assert_eq(r.status, 1, "%s", r.err);
		for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			cr_assert_not_null(strstr(line, ": unused, a leftover"), "not a leftover: %s", line);
		ctk_ok(0, "image", "fsck", "--repair");
	}
	run_free(&r);
	cr_assert_str_eq(ctk_ok(0, "image", "fsck"), "");
	ids = strdup(ctk_ok(0, "image", "ls", "-n", "-r", "-o", "ID"));
	for (char *id = strtok_r(ids, "\n", &save); id; id = strtok_r(NULL, "\n", &save))
		ctk_ok(0, "run", "--rm", id, "true");
	free(ids);
}

/* Kills commits of container NAME at many points, and checks the store each time; then commits it for good. */
static void kill_commits(const char *name)
{
	long long start, full;
	struct run r;
	char ref[64];
	_cleanup_free_ char *id = NULL;

	snprintf(ref, sizeof(ref), "big%s%s", strcmp(name, "c") ? "-" : "", strcmp(name, "c") ? name : "");
	/* How long a whole commit takes, to spread the kills over it. */
	start = now_us();
	id = strndup(ctk_ok(0, "commit", name), 71);
	full = now_us() - start;
	ctk_ok(0, "image", "rm", id);
	srandom((unsigned)getpid());
	for (int i = 0, midway = 0; i < 12 || midway < 4; i++) {
		/* Evenly over the commit and a little beyond, with jitter. */
		long long delay = full * i / 14 + random() % (full / 20 + 1);

		cr_assert_eq(ctk_opts(&r, &(struct run_opts){ .background = true }, "commit", name, ref, NULL), 0);
		usleep((useconds_t)delay);
		kill(r.pid, SIGKILL);
		cr_assert_eq(run_wait(&r), 0);
		cr_assert(r.status == 0 || r.status == 128 + SIGKILL, "commit: status %d: %s", r.status, r.err);
		run_free(&r);
		/* Killed while writing: its work is in tmp/ (the kills must land there often enough). */
		midway += entries("tmp") > 0;
		cr_assert_lt(i, 64, "only %d of %d kills landed while the layer was being written", midway, i);
		assert_valid_store();
	}
	ctk_ok(0, "commit", name, ref);
	assert_valid_store();
}

Test(commit, killed_at_any_point_leaves_a_valid_store)
{
	image("bb");
	/* An exited container (its layer made of links) and a running one (its layer unpacked from the tar). */
	ctk_ok(0, "run", "--name", "c", "bb", "true");
	fill_upper("c", 40, 100, 20000);
	ctk_ok(0, "run", "-d", "--name", "live", "bb", "sleep", "1000");
	ctk_ok(0, "exec", "live", "sh", "-c",
	       "for d in 1 2 3 4 5 6 7 8; do mkdir /d$d; for f in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do "
	       "dd if=/dev/zero of=/d$d/f$f bs=64k count=4 2>/dev/null; done; done");
	kill_commits("c");
	kill_commits("live");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "big", "sh", "-c", "ls /d39 | wc -l; wc -c < /d7/f3"), "100\n20000\n");
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "big-live", "sh", "-c", "ls /d8 | wc -l; wc -c < /d7/f3"),
			 "20\n262144\n");
}

/* Writes TEXT over the file PATH below the store. */
static void overwrite(const char *rel, const char *text)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", store, rel);
	write_file(path, text, strlen(text));
}

/* Runs ctk image fsck ARGS..., asserts its status, and returns its report (stdout). */
static const char *fsck(int status, const char *arg)
{
	static struct run r;

	run_free(&r);
	cr_assert_eq(ctk(&r, "image", "fsck", arg, NULL), 0);
	cr_assert_eq(r.status, status, "fsck %s: status %d: %s%s", arg ? arg : "", r.status, r.out, r.err);
	return r.out;
}

Test(commit, fsck_finds_and_repairs)
{
	char expect[1024], path[512], diff_hex[65], blob_hex[65];
	const char *out;

	image("bb");
	image("other", "--layers", "2");
	cr_assert_str_eq(fsck(0, NULL), "");

	/* Leftovers: a blob nothing uses, an unpacked layer nothing uses, a file no part of the layout. */
	overwrite("images/blobs/sha256/2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", "x");
	overwrite("images/.tmp-index.json-1", "{}");
	snprintf(path, sizeof(path), "%s/layers/%064d", store, 7);
	cr_assert_eq(mkdir(path, 0755), 0, "%m");
	snprintf(expect, sizeof(expect),
		 "images/.tmp-index.json-1: no part of the image layout\n"
		 "blob sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881: unused, a leftover\n"
		 "layer sha256:%064d: unused, a leftover\n", 7);
	cr_assert_str_eq(fsck(1, NULL), expect);
	out = fsck(0, "--repair");
	cr_assert_not_null(strstr(out, "a leftover: removed\nlayer sha256:"), "%s", out);
	cr_assert_str_eq(fsck(0, NULL), "");

	/* An unpacked layer gone: unpacked again from its blob. */
	{
		struct ins_store s;
		struct ins_image img;
		struct ins_error err;

		cr_assert_eq(ins_store_open(store, &s, &err), 0, "%s", err.msg);
		cr_assert_eq(ins_image_load(&s, "other", &img, &err), 0, "%s", err.msg);
		snprintf(diff_hex, sizeof(diff_hex), "%s", ins_digest_hex(&img.layers[1].diff_id));
		snprintf(blob_hex, sizeof(blob_hex), "%s", ins_digest_hex(&img.layers[1].digest));
		ins_image_free(&img);
		ins_store_close(&s);
	}
	{
		struct ins_error err;

		snprintf(path, sizeof(path), "%s/layers/%s", store, diff_hex);
		cr_assert_eq(ins_remove_tree_at(AT_FDCWD, path, &err), 0, "%s", err.msg);
	}
	snprintf(expect, sizeof(expect), "image other:latest: layer sha256:%s is not unpacked\n", diff_hex);
	cr_assert_str_eq(fsck(1, NULL), expect);
	snprintf(expect, sizeof(expect), "image other:latest: layer sha256:%s was not unpacked: unpacked again\n", diff_hex);
	cr_assert_str_eq(fsck(0, "--repair"), expect);
	cr_assert_str_eq(ctk_ok(0, "run", "--rm", "other", "cat", "/layer-2"), "2\n");

	/* A corrupt blob: the image that uses it cannot be read; the repair drops it, and what only it used. */
	snprintf(path, sizeof(path), "images/blobs/sha256/%s", blob_hex);
	overwrite(path, "garbage");
	snprintf(expect, sizeof(expect), "image other:latest: layer blob sha256:%s is corrupt\n", blob_hex);
	cr_assert_str_eq(fsck(1, NULL), expect);
	out = fsck(0, "--repair");
	snprintf(expect, sizeof(expect), "image other:latest: layer blob sha256:%s is corrupt: removed from the index\n",
		 blob_hex);
	cr_assert_eq(strncmp(out, expect, strlen(expect)), 0, "%s", out);
	snprintf(expect, sizeof(expect), "blob sha256:%s: unused, a leftover (and corrupt): removed\n", blob_hex);
	cr_assert_not_null(strstr(out, expect), "%s", out);
	cr_assert_str_eq(fsck(0, NULL), "");
	cr_assert_str_eq(ctk_ok(0, "image", "ls", "-n", "-r", "-o", "NAME"), "bb:latest\n");
	ctk_ok(0, "run", "--rm", "bb", "true");
	ctk_ok(2, "image", "fsck", "extra");
	ctk_ok(2, "image", "fsck", "--bogus");
}

Test(commit, errors_and_usage)
{
	struct run r;

	image("bb");
	ctk_ok(0, "run", "--name", "c", "bb", "true");
	cr_assert_eq(ctk(&r, "commit", "nosuch", NULL), 0);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "ctk commit: nosuch: no such container\n");
	cr_assert_str_eq(r.out, "");
	run_free(&r);
	cr_assert_not_null(strstr(ctk_ok(1, "commit", "-c", "FROM scratch", "c"),
				  ": 'FROM': unsupported instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER are)\n"));
	cr_assert_not_null(strstr(ctk_ok(2, "commit", "c", "Bad Name"), "Bad Name: not an image name"));
	ctk_ok(2, "commit", "c", "sha256:abc");
	ctk_ok(2, "commit");
	ctk_ok(2, "commit", "a", "b", "c");
	ctk_ok(2, "commit", "--bogus", "c");
	cr_assert_not_null(strstr(ctk_ok(0, "commit", "--help"), "Usage: ctk commit"));
	/* Nothing was stored by the failures. */
	cr_assert_str_eq(ctk_ok(0, "image", "ls", "-n", "-r", "-o", "NAME"), "bb:latest\n");
	cr_assert_str_eq(fsck(0, NULL), "");
}
