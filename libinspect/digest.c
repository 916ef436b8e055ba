#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect/digest.h"
#include "inspect/lazylib.h"

#define LIBCRYPTO_SYMBOLS(X)                                                                   \
	X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_sha256) X(EVP_DigestInit_ex)                \
	X(EVP_DigestUpdate) X(EVP_DigestFinal_ex)

struct libcrypto {
	LIBCRYPTO_SYMBOLS(INS_LAZY_MEMBER)
};

static struct libcrypto libcrypto;
static int libcrypto_load(struct ins_error *err);
INS_LAZYLIB_DEFINE_STATIC(libcrypto, "libcrypto.so.3", LIBCRYPTO_SYMBOLS)

struct ins_hasher {
	EVP_MD_CTX *ctx;
};

int ins_digest_parse(const char *text, struct ins_digest *d, struct ins_error *err)
{
	if (strncmp(text, "sha256:", 7) != 0 || strlen(text) != INS_DIGEST_LEN ||
	    strspn(text + 7, "0123456789abcdef") != 64)
		return ins_err(err, EINVAL, "%.80s: not a sha256 digest", text);
	memcpy(d->s, text, INS_DIGEST_LEN + 1);
	return 0;
}

bool ins_digest_equal(const struct ins_digest *a, const struct ins_digest *b)
{
	return strcmp(a->s, b->s) == 0;
}

struct ins_hasher *ins_hasher_new(struct ins_error *err)
{
	struct ins_hasher *h;

	if (libcrypto_load(err) < 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h || !(h->ctx = libcrypto.EVP_MD_CTX_new()) ||
	    libcrypto.EVP_DigestInit_ex(h->ctx, libcrypto.EVP_sha256(), NULL) != 1) {
		ins_hasher_free(h);
		return ins_err_sys(err, ENOMEM, "sha256"), NULL;
	}
	return h;
}

void ins_hasher_update(struct ins_hasher *h, const void *buf, size_t len)
{
	libcrypto.EVP_DigestUpdate(h->ctx, buf, len);
}

void ins_hasher_final(struct ins_hasher *h, struct ins_digest *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int len = 0;

	libcrypto.EVP_DigestFinal_ex(h->ctx, md, &len);
	memcpy(out->s, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out->s[7 + 2 * i] = hex[md[i] >> 4];
		out->s[8 + 2 * i] = hex[md[i] & 15];
	}
	out->s[INS_DIGEST_LEN] = '\0';
}

void ins_hasher_free(struct ins_hasher *h)
{
	if (!h)
		return;
	if (h->ctx)
		libcrypto.EVP_MD_CTX_free(h->ctx);
	free(h);
}

int ins_digest_buffer(const void *buf, size_t len, struct ins_digest *out, struct ins_error *err)
{
	struct ins_hasher *h = ins_hasher_new(err);

	if (!h)
		return -1;
	ins_hasher_update(h, buf, len);
	ins_hasher_final(h, out);
	ins_hasher_free(h);
	return 0;
}

int ins_digest_fd(int fd, struct ins_digest *out, long long *size, struct ins_error *err)
{
	struct ins_hasher *h = ins_hasher_new(err);
	char buf[1 << 16];
	long long total = 0;
	ssize_t n;

	if (!h)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ins_hasher_free(h);
			return ins_err_sys(err, errno, "read");
		}
		ins_hasher_update(h, buf, (size_t)n);
		total += n;
	}
	ins_hasher_final(h, out);
	ins_hasher_free(h);
	if (size)
		*size = total;
	return 0;
}
