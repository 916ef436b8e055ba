/*
 * ctk's state directory, CTK_ROOT (default /var/lib/ctk):
 *
 *   images/            an OCI image layout: oci-layout, index.json, blobs/sha256/<hex>
 *   layers/<hex>/      unpacked image layers, named by diff-id
 *   containers/<id>/   per-container state (runtime)
 *   volumes/<name>/    volumes (runtime)
 *   tmp/               work in progress; emptied whenever the store is locked
 *   lock               flock'ed by writers
 *
 * Every file is written atomically (temp file, fsync, rename) and every blob
 * is verified against its digest before it gets its name, so a writer killed
 * at any point leaves a valid store behind.
 */
#ifndef INSPECT_STORE_H
#define INSPECT_STORE_H

#include <jansson.h>
#include <stdbool.h>

#include "inspect/digest.h"
#include "inspect/error.h"

#define INS_STORE_DEFAULT_ROOT "/var/lib/ctk"
/* The oci-layout file of an OCI image layout (the store's, an oci-archive's). */
#define INS_OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"

struct ins_store {
	char *root;
	int rootfd; /* each an O_DIRECTORY fd, close-on-exec */
	int blobsfd; /* images/blobs/sha256 */
	int imagesfd;
	int layersfd;
	int containersfd;
	int volumesfd;
	int tmpfd;
	int lockfd; /* -1 unless locked */
};

/* $CTK_ROOT when set, else /var/lib/ctk. */
const char *ins_store_default_root(void);

/* Opens (creating it if needed) the store at ROOT (NULL: the default). */
int ins_store_open(const char *root, struct ins_store *s, struct ins_error *err);
void ins_store_close(struct ins_store *s);

/*
 * Takes the store's write lock (waits for other writers) and clears tmp/,
 * which only a writer that died could have left anything in.
 */
int ins_store_lock(struct ins_store *s, struct ins_error *err);
/* Releases the write lock (closing the store releases it too). */
void ins_store_unlock(struct ins_store *s);

/* A blob being written: it exists under its digest only once committed. */
struct ins_blob_writer {
	struct ins_store *store;
	int fd;
	char tmp[64];
	struct ins_hasher *hash;
	long long size;
	long long flushed; /* bytes whose writeback has been started */
};

int ins_blob_begin(struct ins_store *s, struct ins_blob_writer *w, struct ins_error *err);
int ins_blob_write(struct ins_blob_writer *w, const void *buf, size_t len, struct ins_error *err);
/* Copies everything readable from FD into the blob. */
int ins_blob_copy_fd(struct ins_blob_writer *w, int fd, struct ins_error *err);
/*
 * fsyncs the blob, checks its digest against EXPECT (when not NULL; a
 * mismatch names WHAT), and gives it its name. OUT and SIZE may be NULL.
 */
int ins_blob_commit(struct ins_blob_writer *w, const struct ins_digest *expect, const char *what,
		    struct ins_digest *out, long long *size, struct ins_error *err);
void ins_blob_abort(struct ins_blob_writer *w);

/* Stores LEN bytes as a blob. */
int ins_store_put(struct ins_store *s, const void *buf, size_t len, struct ins_digest *out,
		  struct ins_error *err);
bool ins_store_has_blob(struct ins_store *s, const struct ins_digest *d);
/* Opens blob D for reading. */
int ins_store_open_blob(struct ins_store *s, const struct ins_digest *d, struct ins_error *err);
/*
 * Reads and parses blob D as JSON. The store is trusted here: a blob was
 * checked against its digest when it got its name.
 */
json_t *ins_store_read_json(struct ins_store *s, const struct ins_digest *d, struct ins_error *err);
/* Stores a JSON document (compact, keys in insertion order) as a blob. */
int ins_store_put_json(struct ins_store *s, json_t *doc, struct ins_digest *out, long long *size,
		       struct ins_error *err);

/* index.json: read, and replace atomically. */
json_t *ins_store_read_index(struct ins_store *s, struct ins_error *err);
int ins_store_write_index(struct ins_store *s, json_t *index, struct ins_error *err);

/* A JSON file PATH below DIRFD, parsed. */
json_t *ins_read_json_at(int dirfd, const char *path, struct ins_error *err);
/* Writes DOC to NAME in DIRFD atomically (indented, keys in insertion order); see ins_write_file_atomic. */
int ins_write_json_at(int dirfd, const char *name, json_t *doc, bool durable, struct ins_error *err);

/* A fresh directory in tmp/ (O_DIRECTORY fd); *NAME gets its name (malloc'd). */
int ins_store_mktemp_dir(struct ins_store *s, char **name, struct ins_error *err);

#endif
