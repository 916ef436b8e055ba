/*
 * ctk image export read by real peers: skopeo inspects and copies both
 * archive formats (verifying every digest), umoci unpacks the copy, podman
 * loads and runs them, and docker (when dockerd is installed) loads and runs
 * the docker archive. Each peer keeps its state in the test's scratch
 * directory; the test's own mount namespace hides /run and the containers
 * cache from them, and their containers' cgroups live under a parent made
 * for the test, removed with everything in it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../helpers.h"
#include "inspect/cleanup.h"
#include "inspect/digest.h"
#include "inspect/fileio.h"

extern char **environ;

static char work[64], store[96];
static char cgparent[64]; /* "/ctk-interop-PID" in every hierarchy, once a peer may make it */
static json_t *doc; /* the imported images */
static char *env[64]; /* the peers' environment: ours and their configuration */
static char *podman_argv[5]; /* podman and its global options */
static pid_t dockerd;
static bool etc_docker_new, key_json_new; /* what dockerd 20.10 makes outside its roots */

static void teardown(void);

static void setup(void)
{
	scratch_store("interop", work, sizeof(work), store, sizeof(store));
}

TestSuite(interop, .init = setup, .fini = teardown, .timeout = 300);

/* The full path of PROGRAM from PATH, or NULL. */
static const char *which(const char *program)
{
	static char found[4][512];
	static int next;
	char *path = strdup(getenv("PATH") ?: "/usr/sbin:/usr/bin:/sbin:/bin"), *dir, *save = NULL;
	char *out = found[next++ % 4];
	bool ok = false;

	for (dir = strtok_r(path, ":", &save); dir && !ok; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, sizeof(found[0]), "%s/%s", dir, program);
		ok = access(out, X_OK) == 0;
	}
	free(path);
	return ok ? out : NULL;
}

/*
 * Skips the test, saying why on stderr too (criterion shows skips only when
 * verbose), after undoing what it did (criterion runs no .fini after a skip).
 */
#define skip(...)                                                  \
	do {                                                       \
		fprintf(stderr, "interop: skipped: " __VA_ARGS__); \
		fputc('\n', stderr);                               \
		teardown();                                        \
		cr_skip_test(__VA_ARGS__);                         \
	} while (0)

/* PROGRAM's path; the test skips when it is not installed. */
static const char *need(const char *program, const char *package)
{
	const char *path = which(program);

	if (!path)
		skip("%s is not installed (apt-get install %s)", program, package);
	return path;
}

/*
 * Runs ARGV (its program found in PATH) with the peers' environment;
 * asserts that it exits with STATUS and returns its stdout (its stderr when
 * STATUS is not 0), valid until the next call.
 */
static const char *peer_v(int status, char **argv)
{
	static struct run r;
	struct run_opts o = { .env = env[0] ? env : NULL };
	char cmd[1024] = "";

	for (size_t i = 0; argv[i]; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
	if (!strchr(argv[0], '/'))
		argv[0] = (char *)need(argv[0], argv[0]);
	run_free(&r);
	cr_assert_eq(run_argv(&r, &o, argv), 0, "%s: %m", cmd);
	cr_assert_eq(r.status, status, "%s: status %d, stderr: %s", cmd, r.status, r.err);
	return status ? r.err : r.out;
}

#define peer(status, ...) peer_v(status, (char *[]){ __VA_ARGS__, NULL })

/* An image of mkimage.sh FORMAT (ARGS...) imported as NAME; returns `ctk image import --json`. */
static json_t *import(const char *format, const char *name, ...) __attribute__((sentinel));
static json_t *import(const char *format, const char *name, ...)
{
	char path[256];
	json_t *img;
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s.src", work, name);
	va_start(ap, name);
	mkimage_v(format, path, ap);
	va_end(ap);
	img = json_parse(ctk_ok(0, "image", "import", "--json", "--name", name, path));
	cr_assert_not_null(img);
	if (!doc)
		doc = json_array();
	json_array_append_new(doc, img); /* freed by teardown */
	return img;
}

/* `ctk image export --format FORMAT REF` into the scratch directory; returns the file. */
static const char *export(const char *format, const char *ref)
{
	static char paths[4][256];
	static int next;
	char *path = paths[next++ % 4];

	snprintf(path, sizeof(paths[0]), "%s/%s-%s.tar", work, ref, format);
	for (char *c = path + strlen(work); *c; c++)
		*c = *c == ':' ? '_' : *c;
	ctk_ok(0, "image", "export", "--format", format, ref, path);
	return path;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The digests (or diff-ids, KEY "diff_id") of an imported image's layers, as a JSON array. */
static json_t *layer_digests(json_t *img, const char *key)
{
	json_t *out = json_array(), *l;
	size_t i;

	json_array_foreach(json_object_get(img, "layers"), i, l)
		json_array_append(out, json_object_get(l, key));
	return out;
}

/* A transport:path reference for skopeo. */
static const char *ref_of(const char *transport, const char *path)
{
	static char refs[4][300];
	static int next;
	char *r = refs[next++ % 4];

	snprintf(r, sizeof(refs[0]), "%s:%s", transport, path);
	return r;
}

/*
 * The peers of containers/image (skopeo, podman) keep a blob cache in
 * /var/lib/containers and podman and runc state in /run whatever their
 * options say: in a mount namespace of the test's own, tmpfs hides both.
 */
static void shadow_host_state(void)
{
	const char *lib = access("/var/lib/containers", F_OK) == 0 ? "/var/lib/containers" : "/var/lib";

	cr_assert_eq(private_mounts(), 0, "%m");
	cr_assert_eq(mount("tmpfs", lib, "tmpfs", 0, "mode=0700"), 0, "%s: %m", lib);
	cr_assert_eq(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0, "/run: %m");
}

static void check_inspect(const char *transport, const char *file, json_t *img, const char *layers_key,
			  const char *manifest)
{
	const char *ref = ref_of(transport, file), *config;
	json_t *info, *want = layer_digests(img, layers_key);
	struct ins_digest d;
	struct ins_error err;

	info = json_parse(peer(0, "skopeo", "inspect", (char *)ref));
	cr_assert_not_null(info, "skopeo inspect %s: not JSON", ref);
	cr_assert(json_equal(json_object_get(info, "Layers"), want), "%s: layers %s, not %s", ref,
		  json_dumps(json_object_get(info, "Layers"), JSON_COMPACT), json_dumps(want, JSON_COMPACT));
	if (manifest)
		cr_assert_str_eq(jstr(info, "Digest"), manifest, "%s: another manifest", ref);
	json_decref(info);
	json_decref(want);
	/* The config as stored: the image id is the same. */
	config = peer(0, "skopeo", "inspect", "--config", "--raw", (char *)ref);
	cr_assert_eq(ins_digest_buffer(config, strlen(config), &d, &err), 0, "%s", err.msg);
	cr_assert_str_eq(d.s, jstr(img, "id"), "%s: another config", ref);
}

Test(interop, skopeo_inspects_both_formats_with_the_images_digests)
{
	json_t *plain = import("docker", "plain", "--layers", "3", NULL);
	json_t *gz = import("oci", "gz:v1", "--layers", "3", "--env", "WHICH=gz", NULL);

	need("skopeo", "skopeo");
	shadow_host_state();
	/* oci-archive: the blobs as stored, the store's manifest; docker-archive: layers by diff-id. */
	check_inspect("oci-archive", export("oci", "plain"), plain, "digest", jstr(plain, "manifest"));
	check_inspect("oci-archive", export("oci", "gz:v1"), gz, "digest", jstr(gz, "manifest"));
	check_inspect("docker-archive", export("docker", "plain"), plain, "diff_id", NULL);
	check_inspect("docker-archive", export("docker", "gz:v1"), gz, "diff_id", NULL);
}

static char *read_text(const char *path)
{
	struct ins_error err;
	char *text = ins_read_file_at(AT_FDCWD, path, NULL, &err);

	cr_assert_not_null(text, "%s", err.msg);
	return text;
}

/* The root umoci unpacked into BUNDLE is mkimage's three layers, whiteouts applied. */
static void check_bundle(const char *bundle)
{
	char path[512];
	_cleanup_free_ char *three = NULL, *new = NULL;

	snprintf(path, sizeof(path), "%s/rootfs/layer-3", bundle);
	three = read_text(path);
	cr_assert_str_eq(three, "3\n");
	snprintf(path, sizeof(path), "%s/rootfs/opq/new", bundle);
	new = read_text(path);
	cr_assert_str_eq(new, "new\n");
	snprintf(path, sizeof(path), "%s/rootfs/layer-2", bundle);
	cr_assert_neq(access(path, F_OK), 0, "the whiteout of /layer-2 was lost");
	snprintf(path, sizeof(path), "%s/rootfs/opq/old", bundle);
	cr_assert_neq(access(path, F_OK), 0, "the opaque /opq shows /opq/old");
}

Test(interop, skopeo_copies_both_formats_and_umoci_unpacks_the_copies)
{
	char layout[160], dest[200], bundle[200];
	const char *formats[] = { "oci", "docker" };

	import("oci", "gz:v1", "--layers", "3", NULL);
	need("skopeo", "skopeo");
	shadow_host_state();
	snprintf(layout, sizeof(layout), "%s/layout", work);
	for (size_t i = 0; i < 2; i++) {
		const char *file = export(formats[i], "gz:v1");

		/* skopeo copy checks every blob against its digest, every layer against its diff-id. */
		snprintf(dest, sizeof(dest), "oci:%s:%s", layout, formats[i]);
		peer(0, "skopeo", "--insecure-policy", "copy", "-q",
		     (char *)ref_of(i ? "docker-archive" : "oci-archive", file), dest);
	}
	if (!which("umoci"))
		skip("umoci is not installed (apt-get install umoci): the copies were not unpacked");
	for (size_t i = 0; i < 2; i++) {
		snprintf(dest, sizeof(dest), "%s:%s", layout, formats[i]);
		snprintf(bundle, sizeof(bundle), "%s/bundle-%s", work, formats[i]);
		peer(0, "umoci", "unpack", "--image", dest, bundle);
		check_bundle(bundle);
	}
}

/* Adds NAME=VALUE to the peers' environment (ours, to begin with). */
static void env_add(const char *name, const char *value)
{
	size_t n = 0;

	if (!env[0])
		for (char **e = environ; *e && n < 60; e++)
			if (strncmp(*e, "CONTAINERS_", 11) != 0)
				env[n++] = strdup(*e);
	while (env[n])
		n++;
	cr_assert_lt(n, 62, "environment too large");
	cr_assert_geq(asprintf(&env[n], "%s=%s", name, value), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wxe");

	cr_assert_not_null(f, "%s: %m", path);
	cr_assert_geq(fputs(text, f), 0, "%s: %m", path);
	cr_assert_eq(fclose(f), 0, "%s: %m", path);
}

/* "/ctk-interop-PID": the cgroup parent of the peers' containers (and of podman's conmon). */
static const char *cgroup_parent(void)
{
	if (!cgparent[0])
		snprintf(cgparent, sizeof(cgparent), "/ctk-interop-%d", (int)getpid());
	return cgparent;
}

/*
 * podman with its storage, state and configuration in the scratch
 * directory, set up for this host as bench/lib.sh does: cgroupfs, file
 * events and locks, runc, ulimits within the host's. Fills podman_argv.
 */
static void podman_setup(void)
{
	char dir[128], conf[2048], path[160];

	need("podman", "podman");
	need("runc", "runc");
	snprintf(dir, sizeof(dir), "%s/podman", work);
	cr_assert_eq(mkdir(dir, 0700), 0, "%s: %m", dir);
	snprintf(conf, sizeof(conf),
		 "[containers]\n"
		 "default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n"
		 "[network]\n"
		 "network_config_dir = \"%s/net\"\n"
		 "[engine]\n"
		 "cgroup_manager = \"cgroupfs\"\n"
		 "events_logger = \"file\"\n"
		 "events_logfile_path = \"%s/events.log\"\n"
		 "runtime = \"runc\"\n"
		 "tmp_dir = \"%s/tmp\"\n"
		 "lock_type = \"file\"\n"
		 "image_copy_tmp_dir = \"%s\"\n",
		 dir, dir, dir, dir);
	snprintf(path, sizeof(path), "%s/containers.conf", dir);
	write_text(path, conf);
	env_add("CONTAINERS_CONF", path);
	snprintf(conf, sizeof(conf),
		 "[storage]\ndriver = \"overlay\"\ngraphroot = \"%s/root\"\nrunroot = \"%s/runroot\"\n", dir,
		 dir);
	snprintf(path, sizeof(path), "%s/storage.conf", dir);
	write_text(path, conf);
	env_add("CONTAINERS_STORAGE_CONF", path);
	podman_argv[0] = strdup(which("podman"));
	cr_assert_geq(asprintf(&podman_argv[1], "--root=%s/root", dir), 0);
	cr_assert_geq(asprintf(&podman_argv[2], "--runroot=%s/runroot", dir), 0);
	cr_assert_geq(asprintf(&podman_argv[3], "--tmpdir=%s/tmp", dir), 0);
	shadow_host_state();
}

/* Runs podman ARGS... (up to a NULL) expecting STATUS; returns what peer_v does. */
static const char *podman_(int status, ...)
{
	char *argv[32];
	size_t n = 0;
	va_list ap;

	for (; podman_argv[n]; n++)
		argv[n] = podman_argv[n];
	va_start(ap, status);
	for (char *a; n < 31 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return peer_v(status, argv);
}

#define podman(status, ...) podman_(status, __VA_ARGS__, NULL)

/*
 * podman loads FILE, names the image NAME, and runs ID: `cat PATH` prints
 * CONTENT. (Its log says so: an attached `podman run` of a container this
 * short can lose its output, a race of podman 4's.) The image goes again,
 * so that the next archive of the same image is loaded afresh.
 */
static void podman_load_run(const char *file, const char *name, const char *id, const char *path,
			    const char *content)
{
	const char *out = podman(0, "load", "-i", (char *)file);
	char ctr[64];

	cr_assert_not_null(strstr(out, name), "podman load %s: not named %s: %s", file, name, out);
	snprintf(ctr, sizeof(ctr), "ctk-interop-%d", (int)getpid());
	podman(0, "run", "-d", "--name", ctr, "--pull=never", "--network=none", "--log-driver=k8s-file",
	       "--cgroup-parent", (char *)cgroup_parent(), (char *)id, "cat", (char *)path);
	cr_assert_str_eq(podman(0, "wait", ctr), "0\n", "podman run of %s: cat %s failed", file, path);
	out = podman(0, "logs", ctr);
	cr_assert_str_eq(out, content, "podman run of %s: cat %s printed '%s'", file, path, out);
	podman(0, "rm", ctr);
	podman(0, "rmi", (char *)id);
}

Test(interop, podman_loads_and_runs_both_formats)
{
	json_t *plain = import("docker", "plain", "--layers", "3", NULL);
	json_t *gz = import("oci", "gz:v1", "--layers", "4", NULL);

	podman_setup();
	podman_load_run(export("docker", "plain"), "localhost/plain:latest", jstr(plain, "id"), "/layer-3", "3\n");
	podman_load_run(export("oci", "plain"), "localhost/plain:latest", jstr(plain, "id"), "/opq/new", "new\n");
	/* Layers stored gzip'd: decompressed into the docker archive, kept so in the oci one. */
	podman_load_run(export("docker", "gz:v1"), "localhost/gz:v1", jstr(gz, "id"), "/layer-4", "4\n");
	podman_load_run(export("oci", "gz:v1"), "localhost/gz:v1", jstr(gz, "id"), "/layer-4", "4\n");
}

/* The last lines of FILE (for a message), or why it cannot be read. */
static const char *tail_of(const char *path)
{
	static char buf[512];
	struct ins_error err;
	_cleanup_free_ char *text = ins_read_file_at(AT_FDCWD, path, NULL, &err);
	size_t len = text ? strlen(text) : 0;

	snprintf(buf, sizeof(buf), "%.500s", text ? text + (len > 400 ? len - 400 : 0) : err.msg);
	return buf;
}

/* Whether `docker -H HOST version` reaches the daemon. */
static bool docker_answers(const char *host)
{
	char *argv[] = { (char *)which("docker"), "-H", (char *)host, "version", NULL };
	struct run r;
	bool ok = run_argv(&r, NULL, argv) == 0 && r.status == 0;

	run_free(&r);
	return ok;
}

/*
 * dockerd with its own data and exec roots, configuration and socket in
 * DIR, no network of its own (no bridge, iptables or forwarding), its
 * containers below the test's cgroup parent. Returns whether it answers.
 */
static bool dockerd_start(const char *dir, const char *host)
{
	char data[160], exec_root[160], pidfile[160], config[160], log[160], hostopt[220], parent[96];
	const char *bin = which("dockerd");
	time_t deadline = time(NULL) + 60;
	int status;

	snprintf(data, sizeof(data), "--data-root=%s/data", dir);
	snprintf(exec_root, sizeof(exec_root), "--exec-root=%s/exec", dir);
	snprintf(pidfile, sizeof(pidfile), "--pidfile=%s/docker.pid", dir);
	snprintf(config, sizeof(config), "%s/daemon.json", dir);
	write_text(config, "{}\n"); /* not the host's /etc/docker/daemon.json */
	snprintf(config, sizeof(config), "--config-file=%s/daemon.json", dir);
	snprintf(hostopt, sizeof(hostopt), "--host=%s", host);
	snprintf(parent, sizeof(parent), "--cgroup-parent=%s", cgroup_parent());
	snprintf(log, sizeof(log), "%s/dockerd.log", dir);
	/* dockerd 20.10 writes its key there whatever its roots: what it makes goes at the end. */
	etc_docker_new = access("/etc/docker", F_OK) != 0;
	key_json_new = access("/etc/docker/key.json", F_OK) != 0;
	dockerd = fork();
	cr_assert_geq(dockerd, 0, "fork: %m");
	if (dockerd == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		/* Should the test die, dockerd stops its containerd and goes too. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execl(bin, bin, "--iptables=false", "--ip6tables=false", "--ip-forward=false",
		      "--bridge=none", "--storage-driver=overlay2", data, exec_root, pidfile, config,
		      hostopt, parent, (char *)NULL);
		_exit(127);
	}
	while (time(NULL) < deadline) {
		if (waitpid(dockerd, &status, WNOHANG) == dockerd) {
			dockerd = 0;
			return false;
		}
		if (docker_answers(host))
			return true;
		usleep(200000);
	}
	return false;
}

/* Stops dockerd (which stops its containerd), and removes what it made in /etc. */
static void dockerd_stop(void)
{
	int status;

	if (dockerd > 0) {
		kill(dockerd, SIGTERM);
		for (int i = 0; i < 300 && waitpid(dockerd, &status, WNOHANG) == 0; i++)
			usleep(100000);
		if (kill(dockerd, SIGKILL) == 0)
			waitpid(dockerd, &status, 0);
	}
	dockerd = 0;
	if (key_json_new)
		unlink("/etc/docker/key.json");
	if (etc_docker_new)
		rmdir("/etc/docker");
	etc_docker_new = key_json_new = false;
}

/*
 * A dockerd of the test's own even when the host runs one: loading into
 * the host's docker would change its images.
 */
Test(interop, docker_loads_and_runs_the_docker_format)
{
	char dir[128], host[200], id[80];
	json_t *img;

	if (!which("dockerd") || !which("docker"))
		skip("%s is not installed (apt-get install docker.io; it is not among the packages of make deps: it is large)",
		     which("docker") ? "dockerd" : "docker");
	img = import("oci", "gz:v1", "--layers", "3", NULL);
	shadow_host_state();
	snprintf(dir, sizeof(dir), "%s/docker", work);
	cr_assert_eq(mkdir(dir, 0700), 0, "%s: %m", dir);
	snprintf(host, sizeof(host), "unix://%s/docker.sock", dir);
	if (!dockerd_start(dir, host)) {
		char log[160];

		snprintf(log, sizeof(log), "%s/dockerd.log", dir);
		skip("dockerd cannot start here: %s", tail_of(log));
	}
	/* docker load checks every layer.tar against its diff-id. */
	cr_assert_not_null(strstr(peer(0, "docker", "-H", host, "load", "-i", (char *)export("docker", "gz:v1")),
				  "Loaded image: gz:v1"));
	snprintf(id, sizeof(id), "%s\n", jstr(img, "id"));
	cr_assert_str_eq(peer(0, "docker", "-H", host, "image", "inspect", "-f", "{{.Id}}", "gz:v1"), id);
	cr_assert_str_eq(peer(0, "docker", "-H", host, "run", "--rm", "--network=none", "gz:v1", "cat", "/opq/new"),
			 "new\n");
}

/* Calls FN on every directory at or below REL in every cgroup hierarchy, deepest first. */
static void each_cgroup_dir(const char *rel, void (*fn)(const char *dir))
{
	char cmd[512];
	char line[4096];
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "for h in /sys/fs/cgroup /sys/fs/cgroup/*; do [ -d \"$h%s\" ] && find \"$h%s\" -depth -type d; done 2>/dev/null",
		 rel, rel);
	f = popen(cmd, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		fn(line);
	}
	if (f)
		pclose(f);
}

static int procs_left;

/* Counts the processes of DIR and, once they have had their time, kills them. */
static void count_procs(const char *dir)
{
	char path[4200];
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && fscanf(f, "%d", &pid) == 1) {
		procs_left++;
		if (procs_left < 0)
			kill(pid, SIGKILL);
	}
	if (f)
		fclose(f);
}

static void remove_cgroup(const char *dir)
{
	rmdir(dir);
}

/*
 * Removes the cgroup parent of the peers' containers everywhere, once the
 * processes in it (conmon running podman's cleanup, a container stopping)
 * have ended; those that have not after ten seconds are killed.
 */
static void cgroup_parent_remove(void)
{
	if (!cgparent[0])
		return;
	for (int i = 0; i < 100; i++) {
		procs_left = 0;
		each_cgroup_dir(cgparent, count_procs);
		if (!procs_left)
			break;
		usleep(100000);
	}
	if (procs_left) {
		procs_left = -1000000; /* count_procs kills */
		each_cgroup_dir(cgparent, count_procs);
		usleep(200000);
	}
	each_cgroup_dir(cgparent, remove_cgroup);
	cgparent[0] = '\0';
}

/*
 * Kills what a peer left running that names the scratch directory in its
 * command line: containerd's shims outlive dockerd, conmon its podman.
 */
static void kill_work_processes(void)
{
	char **names;
	size_t n;
	struct ins_error err;
	int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (proc < 0 || ins_dir_names(proc, "/proc", &names, &n, &err) < 0) {
		if (proc >= 0)
			close(proc);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char path[64], cmdline[4096];
		pid_t pid = atoi(names[i]);
		ssize_t len;
		int fd;

		snprintf(path, sizeof(path), "%s/cmdline", names[i]);
		if (pid <= 1 || pid == getpid() || (fd = openat(proc, path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, cmdline, sizeof(cmdline) - 1);
		close(fd);
		for (ssize_t j = 0; j < len; j++)
			cmdline[j] = cmdline[j] ? cmdline[j] : ' ';
		if (len > 0 && (cmdline[len] = '\0', strstr(cmdline, work)))
			kill(pid, SIGKILL);
	}
	ins_names_free(names, n);
	close(proc);
}

/* Unmounts what the peers left mounted below the scratch directory (in the test's namespace). */
static void unmount_work(void)
{
	char line[8192], mnt[4096];
	char *points[256];
	size_t n = 0, len = strlen(work);
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && n < 256 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strncmp(mnt, work, len) == 0 &&
		    (mnt[len] == '/' || mnt[len] == '\0'))
			points[n++] = strdup(mnt);
	if (f)
		fclose(f);
	while (n--) {
		umount2(points[n], MNT_DETACH);
		free(points[n]);
	}
}

static void teardown(void)
{
	dockerd_stop();
	if (work[0])
		kill_work_processes();
	cgroup_parent_remove();
	if (work[0])
		unmount_work();
	for (size_t i = 0; i < sizeof(podman_argv) / sizeof(podman_argv[0]); i++) {
		free(podman_argv[i]);
		podman_argv[i] = NULL;
	}
	for (size_t i = 0; env[i]; i++) {
		free(env[i]);
		env[i] = NULL;
	}
	json_decref(doc);
	doc = NULL;
	scratch_store_remove(work, store);
}
