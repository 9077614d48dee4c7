/*
 * secret: see secret.h.
 */
#include "auth/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define SECRET_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

struct secret_key {
	unsigned char key[SECRET_KEY_BYTES];
};

static int secret_key_create(const char *path, struct focal_err *err)
{
	unsigned char key[SECRET_KEY_BYTES];
	char hex[SECRET_KEY_BYTES * 2 + 2];
	int fd, rc = FOCAL_OK;
	size_t len;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return focal_err_set(err, FOCAL_E_IO, "key file %s: cannot create: %s", path,
				     strerror(errno));
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	len = strlen(hex);
	hex[len++] = '\n';
	if (write(fd, hex, len) != (ssize_t)len || fsync(fd) != 0) {
		rc = focal_err_set(err, FOCAL_E_IO, "key file %s: cannot write: %s", path,
				   strerror(errno));
		unlink(path);
	}
	close(fd);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

int secret_key_load(const char *path, bool create, struct secret_key **out,
		    struct focal_err *err)
{
	struct secret_key *k = NULL;
	char hex[SECRET_KEY_BYTES * 2 + 8];
	struct stat sb;
	ssize_t n;
	size_t binlen = 0;
	int fd, rc;

	*out = NULL;
	if (sodium_init() < 0)
		return focal_err_set(err, FOCAL_E_INTERNAL, "libsodium: initialisation failed");
	if (create && access(path, F_OK) != 0 && errno == ENOENT &&
	    (rc = secret_key_create(path, err)) != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return focal_err_set(err, FOCAL_E_IO, "key file %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0) {
		close(fd);
		return focal_err_set(err, FOCAL_E_IO,
				     "key file %s: must be a regular file readable only by its "
				     "owner (chmod 600)", path);
	}
	n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n < 0)
		return focal_err_set(err, FOCAL_E_IO, "key file %s: %s", path, strerror(errno));
	hex[n] = '\0';
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
		hex[--n] = '\0';
	if ((k = sodium_malloc(sizeof(*k))) == NULL) {
		sodium_memzero(hex, sizeof(hex));
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	if (n != SECRET_KEY_BYTES * 2 ||
	    sodium_hex2bin(k->key, sizeof(k->key), hex, (size_t)n, NULL, &binlen, NULL) != 0 ||
	    binlen != SECRET_KEY_BYTES) {
		sodium_memzero(hex, sizeof(hex));
		sodium_free(k);
		return focal_err_set(err, FOCAL_E_IO, "key file %s: expected %d hex digits", path,
				     SECRET_KEY_BYTES * 2);
	}
	sodium_memzero(hex, sizeof(hex));
	sodium_mprotect_readonly(k);
	*out = k;
	return FOCAL_OK;
}

void secret_key_free(struct secret_key *k)
{
	if (k != NULL)
		sodium_free(k); /* wipes */
}

size_t secret_overhead(void)
{
	return SECRET_NONCE_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
}

int secret_seal(const struct secret_key *k, const unsigned char *pt, size_t len,
		const char *context, unsigned char *out, struct focal_err *err)
{
	unsigned long long clen = 0;

	randombytes_buf(out, SECRET_NONCE_BYTES);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + SECRET_NONCE_BYTES, &clen, pt, len,
						       (const unsigned char *)context,
						       strlen(context), NULL, out, k->key) != 0)
		return focal_err_set(err, FOCAL_E_INTERNAL, "sealing failed");
	return FOCAL_OK;
}

int secret_open(const struct secret_key *k, const unsigned char *ct, size_t ctlen,
		const char *context, unsigned char *pt, struct focal_err *err)
{
	unsigned long long plen = 0;

	if (ctlen < secret_overhead())
		return focal_err_set(err, FOCAL_E_DENIED, "sealed value too short");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, ct + SECRET_NONCE_BYTES,
						       ctlen - SECRET_NONCE_BYTES,
						       (const unsigned char *)context,
						       strlen(context), ct, k->key) != 0)
		return focal_err_set(err, FOCAL_E_DENIED,
				     "sealed value does not open (altered, or another key)");
	return FOCAL_OK;
}
