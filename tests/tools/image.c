/* ctk image with images built from busybox-static in every format, and corrupt or hostile ones. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../helpers.h"
#include "../tarball.h"
#include "inspect/cleanup.h"
#include "inspect/fileio.h"

static char work[64], store[96];
static json_t *doc;

static void setup(void)
{
	scratch_store("image", work, sizeof(work), store, sizeof(store));
}

/* Where a test mounts a small tmpfs (in its own mount namespace): unmounted before the removal. */
static char *small_fs(char *buf, size_t size)
{
	snprintf(buf, size, "%s/small", work);
	return buf;
}

static void teardown(void)
{
	char small[96];

	json_decref(doc);
	doc = NULL;
	if (work[0])
		umount2(small_fs(small, sizeof(small)), MNT_DETACH);
	scratch_store_remove(work, store);
}

TestSuite(image, .init = setup, .fini = teardown, .timeout = 120);

/* Builds a busybox image with tests/fixtures/mkimage.sh FORMAT WORK/NAME ARGS...; returns its path. */
static const char *fixture(const char *format, const char *name, ...) __attribute__((sentinel));
static const char *fixture(const char *format, const char *name, ...)
{
	static char paths[4][160];
	static int next;
	char *path = paths[next++ % 4];
	va_list ap;

	snprintf(path, sizeof(paths[0]), "%s/%s", work, name);
	va_start(ap, name);
	mkimage_v(format, path, ap);
	va_end(ap);
	return path;
}

/* Runs ctk image ARGS... expecting STATUS; returns stdout, or stderr when STATUS is not 0. */
#define image(status, ...) ctk_ok(status, "image", __VA_ARGS__)

/* `ctk image ls --json`'s rows. */
static json_t *listing(void)
{
	json_decref(doc);
	doc = json_parse(image(0, "ls", "--json", "-o", "NAME,ID,LAYERS"));
	cr_assert_not_null(doc);
	return json_object_get(doc, "images");
}

static json_t *row_named(json_t *rows, const char *name)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row) {
		const char *n = json_string_value(json_object_get(row, "name"));

		if ((n && name && strcmp(n, name) == 0) || (!n && !name))
			return row;
	}
	return NULL;
}

static char *store_path(const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", store, rel);
	return buf;
}

static size_t entries_in(const char *rel)
{
	char path[256];
	DIR *d = opendir(store_path(rel, path, sizeof(path)));
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d, "%s", path);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The unpacked layer of diff-id HEX (from a history or --json), path REL inside it. */
static struct stat layer_stat(const char *diff_id, const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/layers/%s/%s", store, diff_id + 7, rel);
	cr_assert_eq(lstat(path, &st), 0, "%s: %m", path);
	return st;
}

Test(image, imports_a_docker_save_archive_with_its_layers_unpacked)
{
	const char *archive = fixture("docker", "bb.tar", "--layers", "3", NULL);
	json_t *layers, *row;
	char path[512], value[2] = "";

	json_decref(doc);
	doc = json_parse(image(0, "import", "--json", archive));
	cr_assert_not_null(doc);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "ref")), "busybox:latest");
	layers = json_object_get(doc, "layers");
	cr_assert_eq(json_array_size(layers), 3);
	/* docker save layers are plain tars: blob digest == diff-id. */
	for (size_t i = 0; i < 3; i++) {
		json_t *l = json_array_get(layers, i);

		cr_assert(json_equal(json_object_get(l, "digest"), json_object_get(l, "diff_id")));
		cr_assert_str_eq(json_string_value(json_object_get(l, "media_type")),
				 "application/vnd.oci.image.layer.v1.tar");
	}
	{
		const char *l1 = json_string_value(json_object_get(json_array_get(layers, 0), "diff_id"));
		const char *l3 = json_string_value(json_object_get(json_array_get(layers, 2), "diff_id"));
		struct stat st = layer_stat(l3, "layer-2");

		cr_assert(S_ISDIR(layer_stat(l1, "bin").st_mode));
		cr_assert(S_ISLNK(layer_stat(l1, "bin/sh").st_mode));
		cr_assert(S_ISCHR(st.st_mode) && st.st_rdev == 0, "layer 3 whites out /layer-2");
		snprintf(path, sizeof(path), "%s/layers/%s/opq", store, l3 + 7);
		cr_assert_eq(getxattr(path, "trusted.overlay.opaque", value, 1), 1, "%m");
	}
	row = row_named(listing(), "busybox:latest");
	cr_assert_not_null(row);
	cr_assert_eq(json_integer_value(json_object_get(row, "layers")), 3);
	cr_assert_eq(entries_in("tmp"), 0, "import leaves nothing in tmp/");
}

Test(image, imports_oci_layouts_archives_and_rootfs_tarballs)
{
	const char *dir = fixture("oci", "oci", "--layers", "2", NULL);
	const char *archive = fixture("oci-archive", "oci.tar", "--tag", "bb:archived", NULL);
	const char *rootfs = fixture("rootfs", "rootfs.tar", NULL);
	json_t *rows;

	/* skopeo writes a bare tag as ref.name: no repository, so the image needs --name. */
	image(0, "import", "--name", "from-dir", dir);
	image(0, "import", archive);
	image(0, "import", "--name", "root", "-c", "CMD [\"/bin/sh\"]", rootfs);
	rows = listing();
	cr_assert_eq(json_array_size(rows), 3);
	cr_assert_eq(json_integer_value(json_object_get(row_named(rows, "from-dir:latest"), "layers")), 2);
	cr_assert_not_null(row_named(rows, NULL), "the archive's bare tag leaves it unnamed");
	cr_assert_not_null(row_named(rows, "root:latest"));
	/* The rootfs tarball's layer is the OCI images' first layer: unpacked once. */
	cr_assert_eq(entries_in("layers"), 2);
	cr_assert_eq(entries_in("tmp"), 0, "the second unpacking of a layer leaves nothing behind");
	/* The same image again, without a name: nothing new to list. */
	image(0, "import", dir);
	cr_assert_eq(json_array_size(listing()), 3);
}

Test(image, layers_in_other_compressions_are_refused)
{
	const char *rootfs = fixture("rootfs", "r.tar", NULL);
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "xz -k '%s' 2>/dev/null || bzip2 -k '%s'", rootfs, rootfs);
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s.%s", rootfs, access("/usr/bin/xz", X_OK) == 0 ? "xz" : "bz2");
	cr_assert_not_null(strstr(image(1, "import", cmd), "not a tar, a gzip'd tar or a zstd'd tar"));
	cr_assert_eq(entries_in("images/blobs/sha256"), 0);
}

/* Every file name below the store and index.json's text, to compare before and after. */
static char *snapshot(void)
{
	char cmd[256];
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len), *f;
	int c;

	snprintf(cmd, sizeof(cmd), "cd '%s' && find . ! -name lock | sort && cat images/index.json", store);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while ((c = fgetc(f)) != EOF)
		fputc(c, out);
	pclose(f);
	fclose(out);
	return text;
}

Test(image, corrupt_blobs_are_refused_and_leave_the_store_as_it_was)
{
	const char *good = fixture("rootfs", "good.tar", NULL);
	const char *docker = fixture("docker", "bad.tar", "--corrupt-layer", NULL);
	const char *oci = fixture("oci-archive", "bad-oci.tar", "--corrupt-layer", NULL);
	_cleanup_free_ char *before = NULL, *after = NULL;

	image(0, "import", "--name", "good", good);
	before = snapshot();
	cr_assert_not_null(strstr(image(1, "import", docker), "not its digest"));
	cr_assert_not_null(strstr(image(1, "import", oci), "not its digest"));
	after = snapshot();
	cr_assert_str_eq(after, before);
}

Test(image, a_hostile_layer_is_refused_and_writes_nothing_outside)
{
	char tar[160], victim[160];
	_cleanup_free_ char *before = NULL, *after = NULL;
	const char *msg;

	snprintf(tar, sizeof(tar), "%s/hostile.tar", work);
	snprintf(victim, sizeof(victim), "%s/victim", work);
	tar_write(tar, true,
		  (const struct tar_entry[]){ { .name = "etc/", .type = TAR_DIR },
					      { .name = "evil", .type = TAR_SYMLINK, .link = victim },
					      { .name = "evil/planted", .content = "x" },
					      { 0 } });
	cr_assert_eq(mkdir(victim, 0755), 0);
	image(0, "ls");
	before = snapshot();
	msg = image(1, "import", tar);
	cr_assert_not_null(strstr(msg, "'evil/planted'") ?: strstr(msg, "'evil'"), "%s", msg);
	cr_assert_not_null(strstr(msg, "outside"), "%s", msg);
	after = snapshot();
	cr_assert_str_eq(after, before);
	{
		DIR *d = opendir(victim);
		struct dirent *e;
		int n = 0;

		while ((e = readdir(d)))
			n += e->d_name[0] != '.';
		closedir(d);
		cr_assert_eq(n, 0, "the archive wrote outside its layer");
	}
}

Test(image, changes_land_in_the_config_and_the_history)
{
	const char *rootfs = fixture("rootfs", "r.tar", NULL);
	char path[256];
	json_t *config, *c, *history;
	const char *id;
	size_t len;
	_cleanup_free_ char *text = NULL;
	struct ins_error err;

	json_decref(doc);
	doc = json_parse(image(0, "import", "--json", "--name", "app", "-c", "ENTRYPOINT [\"/bin/echo\"]",
			       "-c", "CMD hello world", "--change", "ENV GREETING=hi", "-c", "WORKDIR /tmp",
			       "-c", "USER nobody", rootfs));
	id = json_string_value(json_object_get(doc, "id"));
	snprintf(path, sizeof(path), "%s/images/blobs/sha256/%s", store, id + 7);
	text = ins_read_file_at(AT_FDCWD, path, &len, &err);
	cr_assert_not_null(text, "%s", err.msg);
	config = json_loads(text, 0, NULL);
	c = json_object_get(config, "config");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Entrypoint"), 0)), "/bin/echo");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Cmd"), 2)), "hello world");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Env"), 0)), "GREETING=hi");
	cr_assert_str_eq(json_string_value(json_object_get(c, "WorkingDir")), "/tmp");
	cr_assert_str_eq(json_string_value(json_object_get(c, "User")), "nobody");
	history = json_object_get(config, "history");
	cr_assert_eq(json_array_size(history), 2);
	cr_assert(json_is_true(json_object_get(json_array_get(history, 1), "empty_layer")));
	cr_assert_not_null(strstr(json_string_value(json_object_get(json_array_get(history, 1), "created_by")),
				  "--change 'CMD hello world'"));
	json_decref(config);
	cr_assert_not_null(strstr(image(1, "import", "-c", "RUN true", rootfs), "unsupported instruction"));
}

Test(image, history_has_one_row_per_step_oldest_first)
{
	const char *archive = fixture("docker", "bb.tar", "--layers", "3", NULL);
	json_t *rows;

	image(0, "import", "-c", "USER 1", archive);
	json_decref(doc);
	doc = json_parse(image(0, "history", "--json", "busybox"));
	rows = json_object_get(doc, "history");
	cr_assert_eq(json_array_size(rows), 4);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "created-by")),
			 "mkimage: busybox root");
	cr_assert_gt(json_integer_value(json_object_get(json_array_get(rows, 0), "size")), 1000);
	cr_assert(json_is_null(json_object_get(json_array_get(rows, 3), "layer")));
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(rows, 3), "size")), 0);
}

Test(image, names_ids_and_removal_with_garbage_collection)
{
	const char *docker = fixture("docker", "bb.tar", "--layers", "3", NULL);
	const char *rootfs = fixture("rootfs", "r.tar", NULL);
	json_t *rows;
	char id[80];

	image(0, "import", docker);
	snprintf(id, sizeof(id), "%s", image(0, "import", "--name", "root", rootfs));
	id[strcspn(id, "\n")] = '\0';
	cr_assert_eq(entries_in("layers"), 3, "the rootfs is busybox's first layer: shared");
	/* Prefixes of ids work; the name moves to a re-import, leaving the old image unnamed. */
	{
		char prefix[8];

		snprintf(prefix, sizeof(prefix), "%.5s", id + 7);
		image(0, "history", prefix);
	}
	image(0, "import", "--name", "busybox", "-c", "USER 2", docker);
	rows = listing();
	cr_assert_eq(json_array_size(rows), 3);
	cr_assert_not_null(row_named(rows, NULL));
	cr_assert_not_null(strstr(image(1, "history", "nosuch"), "nosuch: no such image"));
	/* Removing the images one by one frees what only they used. */
	image(0, "rm", "busybox");
	image(0, "rm", id);
	cr_assert_eq(entries_in("layers"), 3, "the unnamed busybox still uses all three layers");
	rows = listing();
	cr_assert_eq(json_array_size(rows), 1);
	image(0, "rm", json_string_value(json_object_get(json_array_get(rows, 0), "id")));
	cr_assert_eq(json_array_size(listing()), 0);
	cr_assert_eq(entries_in("layers"), 0);
	cr_assert_eq(entries_in("images/blobs/sha256"), 0);
}

Test(image, usage_errors)
{
	image(2, "frob");
	image(2, "import");
	image(2, "rm");
	image(2, "ls", "extra");
	image(2, "export", "busybox");
	cr_assert_not_null(strstr(image(1, "import", "/nonexistent/x.tar"), "/nonexistent/x.tar"));
}

/* The bytes of the file PATH (LEN of them). */
static char *slurp(const char *path, size_t *len)
{
	struct ins_error err;
	char *text = ins_read_file_at(AT_FDCWD, path, len, &err);

	cr_assert_not_null(text, "%s", err.msg);
	return text;
}

/* `ctk image import --json PATH`'s layers, after the image REF it came from was removed. */
static json_t *reimport(const char *ref, const char *path, const char *id)
{
	image(0, "rm", ref);
	json_decref(doc);
	doc = json_parse(image(0, "import", "--json", path));
	cr_assert_not_null(doc);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "id")), id, "%s: another image id", path);
	return json_object_get(doc, "layers");
}

Test(image, export_round_trips_in_both_formats)
{
	const char *docker = fixture("docker", "bb.tar", "--layers", "3", NULL);
	const char *oci = fixture("oci", "oci", "--layers", "3", "--env", "LAYERS=gzip", NULL);
	char id[2][80], path[160];
	const char *refs[] = { "busybox:latest", "gz:v1" };
	json_t *layers, *l;
	size_t i;

	image(0, "import", docker);
	image(0, "import", "--name", "gz:v1", oci);
	for (int r = 0; r < 2; r++)
		snprintf(id[r], sizeof(id[r]), "%s",
			 json_string_value(json_object_get(row_named(listing(), refs[r]), "id")));
	/* oci: the blobs as stored, gzip'd layers stay gzip'd; the name comes back. */
	snprintf(path, sizeof(path), "%s/gz-oci.tar", work);
	image(0, "export", "--format", "oci", "gz:v1", path);
	layers = reimport("gz:v1", path, id[1]);
	json_array_foreach(layers, i, l)
		cr_assert_str_eq(json_string_value(json_object_get(l, "media_type")),
				 "application/vnd.oci.image.layer.v1.tar+gzip");
	cr_assert_not_null(row_named(listing(), "gz:v1"));
	/* docker: every layer uncompressed, its digest its diff-id. */
	snprintf(path, sizeof(path), "%s/gz-docker.tar", work);
	image(0, "export", "--format", "docker", "gz:v1", path);
	layers = reimport("gz:v1", path, id[1]);
	cr_assert_eq(json_array_size(layers), 3);
	json_array_foreach(layers, i, l)
		cr_assert(json_equal(json_object_get(l, "digest"), json_object_get(l, "diff_id")));
	cr_assert_not_null(row_named(listing(), "gz:v1"));
	/* The default format is docker's; an image exported by id goes unnamed. */
	snprintf(path, sizeof(path), "%s/by-id.tar", work);
	image(0, "export", id[0] + 7, path);
	reimport("busybox", path, id[0]);
	cr_assert_not_null(row_named(listing(), NULL));
	cr_assert_null(row_named(listing(), "busybox:latest"));
}

Test(image, export_to_stdout_writes_the_same_bytes_as_to_a_file)
{
	const char *rootfs = fixture("rootfs", "r.tar", NULL);
	char a[160], b[160], cmd[512];
	_cleanup_free_ char *x = NULL, *y = NULL;
	size_t xlen, ylen;

	image(0, "import", "--name", "small", rootfs);
	for (int f = 0; f < 2; f++) {
		const char *format = f ? "oci" : "docker";

		snprintf(a, sizeof(a), "%s/a-%s.tar", work, format);
		snprintf(b, sizeof(b), "%s/b-%s.tar", work, format);
		image(0, "export", "--format", format, "small", a);
		snprintf(cmd, sizeof(cmd), "'%s' image export --format %s small - > '%s'", ctk_path(), format, b);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		free(x);
		free(y);
		x = slurp(a, &xlen);
		y = slurp(b, &ylen);
		/* Reproducible too: names, modes and times come from the image alone. */
		cr_assert(xlen == ylen && memcmp(x, y, xlen) == 0, "%s: %s and - differ", format, a);
	}
}

/* The names in the scratch directory's subdirectory REL ("" for itself), space-separated. */
static char *names_in(const char *rel)
{
	char path[160], **names;
	size_t n;
	struct ins_error err;
	char *out = calloc(1, 4096);
	_cleanup_close_ int dir = -1;

	snprintf(path, sizeof(path), "%s/%s", work, rel);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_eq(ins_dir_names(dir, path, &names, &n, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), 4096 - strlen(out), "%s%s", i ? " " : "", names[i]);
	ins_names_free(names, n);
	return out;
}

Test(image, export_replaces_a_file_only_with_force_and_leaves_nothing_when_it_fails)
{
	const char *rootfs = fixture("rootfs", "r.tar", NULL);
	char out[160], small[96], path[160];
	_cleanup_free_ char *text = NULL, *left = NULL;
	const char *msg;

	image(0, "import", "--name", "small", rootfs);
	snprintf(out, sizeof(out), "%s/out.tar", work);
	{
		FILE *f = fopen(out, "w");

		cr_assert_not_null(f);
		fputs("old\n", f);
		fclose(f);
	}
	msg = image(1, "export", "small", out);
	cr_assert(strstr(msg, "out.tar: already exists") && strstr(msg, "--force"), "%s", msg);
	text = slurp(out, NULL);
	cr_assert_str_eq(text, "old\n");
	image(0, "export", "-f", "small", out);
	left = names_in("");
	cr_assert_str_eq(left, "out.tar r.tar store", "no temporary file stays beside FILE");
	cr_assert_not_null(strstr(image(1, "export", "nosuch", out), "nosuch: no such image"));
	snprintf(path, sizeof(path), "%s/nodir/x.tar", work);
	cr_assert_not_null(strstr(image(1, "export", "small", path), "nodir"));
	/* A file system too small for the archive: the error names FILE, and nothing stays. */
	cr_assert_eq(private_mounts(), 0, "%m");
	cr_assert_eq(mkdir(small_fs(small, sizeof(small)), 0755), 0);
	cr_assert_eq(mount("tmpfs", small, "tmpfs", 0, "size=64k"), 0, "%m");
	snprintf(path, sizeof(path), "%s/x.tar", small);
	msg = image(1, "export", "small", path);
	cr_assert(strstr(msg, "x.tar") && strstr(msg, "No space left on device"), "%s", msg);
	free(left);
	left = names_in("small");
	cr_assert_str_eq(left, "", "a failed export leaves nothing behind");
	image(2, "export", "--format", "zip", "small", path);
	image(2, "export", "small");
}
