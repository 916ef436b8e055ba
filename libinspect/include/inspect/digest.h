/* sha256 digests in the OCI form "sha256:<64 lowercase hex>". */
#ifndef INSPECT_DIGEST_H
#define INSPECT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "inspect/error.h"

#define INS_DIGEST_LEN 71 /* "sha256:" + 64 hex */

/* A digest string with its terminating NUL. */
struct ins_digest {
	char s[INS_DIGEST_LEN + 1];
};

/* The 64 hex digits of D (what names a blob file). */
static inline const char *ins_digest_hex(const struct ins_digest *d)
{
	return d->s + 7;
}

/* Parses and validates TEXT as a sha256 digest. */
int ins_digest_parse(const char *text, struct ins_digest *d, struct ins_error *err);
bool ins_digest_equal(const struct ins_digest *a, const struct ins_digest *b);

/* A running sha256 (libcrypto, loaded on first use). */
struct ins_hasher;

struct ins_hasher *ins_hasher_new(struct ins_error *err);
void ins_hasher_update(struct ins_hasher *h, const void *buf, size_t len);
/* Writes the digest of everything hashed so far; the hasher can then be freed. */
void ins_hasher_final(struct ins_hasher *h, struct ins_digest *out);
void ins_hasher_free(struct ins_hasher *h);

/* The digest of LEN bytes at BUF. */
int ins_digest_buffer(const void *buf, size_t len, struct ins_digest *out, struct ins_error *err);
/* The digest of everything readable from FD (from its current offset); *SIZE the byte count. */
int ins_digest_fd(int fd, struct ins_digest *out, long long *size, struct ins_error *err);

#endif
