/*
 * password: see password.h.
 */
#include "auth/password.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

static struct password_params password_cur = { 64UL * 1024, 3 };

/* A hash of a random password at the current cost, verified against when
 * there is no real hash, so "no such user" costs the same as "wrong password". */
static char password_dummy[PASSWORD_HASH_MAX];
static pthread_once_t password_dummy_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t password_dummy_mu = PTHREAD_MUTEX_INITIALIZER;

bool password_params_ok(unsigned long memory_kib, unsigned long ops)
{
	/* OWASP Password Storage Cheat Sheet, Argon2id: m=47104 (46 MiB) t=1,
	 * m=19456 (19 MiB) t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5 (p=1). */
	static const struct { unsigned long m, t; } table[] = {
		{ 47104, 1 }, { 19456, 2 }, { 12288, 3 }, { 9216, 4 }, { 7168, 5 },
	};

	if (memory_kib > 4UL * 1024 * 1024 || ops > 64)
		return false; /* 4 GiB / 64 passes: a typo, not a policy */
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (memory_kib >= table[i].m && ops >= table[i].t)
			return true;
	return false;
}

static void password_make_dummy(void)
{
	unsigned char rnd[32];
	char pw[65];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
	pthread_mutex_lock(&password_dummy_mu);
	if (crypto_pwhash_str(password_dummy, pw, strlen(pw), password_cur.ops,
			      (size_t)password_cur.memory_kib * 1024) != 0)
		password_dummy[0] = '\0'; /* out of memory: verify then fails closed */
	pthread_mutex_unlock(&password_dummy_mu);
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(rnd, sizeof(rnd));
}

int password_set_params(const struct password_params *p, struct focal_err *err)
{
	if (!password_params_ok(p->memory_kib, p->ops))
		return focal_err_set(err, FOCAL_E_CONFIG,
				     "Argon2id cost m=%lu KiB t=%lu is below OWASP's "
				     "recommendation (e.g. 19456 KiB with 2 passes)",
				     p->memory_kib, p->ops);
	password_cur = *p;
	password_make_dummy(); /* at the new cost */
	return FOCAL_OK;
}

void password_get_params(struct password_params *out)
{
	*out = password_cur;
}

static int password_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool password_is_common(const char *pw)
{
	char low[PASSWORD_MAX_BYTES + 1];
	size_t n = strlen(pw);
	bool hit;

	if (n > PASSWORD_MAX_BYTES)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pw[i];

		low[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	low[n] = '\0';
	hit = bsearch(low, password_common_list, password_common_count, sizeof(char *),
		      password_cmp) != NULL;
	sodium_memzero(low, sizeof(low));
	return hit;
}

int password_check_policy(const char *pw, const char *username, struct focal_err *err)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)pw;
	size_t len = strlen(pw), chars = 0;

	if (len > PASSWORD_MAX_BYTES)
		return focal_err_set(err, FOCAL_E_INVAL, "password: at most %d characters",
				     PASSWORD_MAX_CHARS);
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);

		if (k <= 0)
			return focal_err_set(err, FOCAL_E_INVAL, "password: not valid UTF-8");
		if (cp < 0x20 || cp == 0x7f)
			return focal_err_set(err, FOCAL_E_INVAL,
					     "password: control characters are not allowed");
		i += (size_t)k;
		chars++;
	}
	if (chars < PASSWORD_MIN_CHARS)
		return focal_err_set(err, FOCAL_E_INVAL, "password: at least %d characters",
				     PASSWORD_MIN_CHARS);
	if (chars > PASSWORD_MAX_CHARS)
		return focal_err_set(err, FOCAL_E_INVAL, "password: at most %d characters",
				     PASSWORD_MAX_CHARS);
	if (username != NULL && strcasecmp(pw, username) == 0)
		return focal_err_set(err, FOCAL_E_INVAL, "password: must not be the username");
	if (password_is_common(pw))
		return focal_err_set(err, FOCAL_E_INVAL,
				     "password: too common (it is on the list of known passwords)");
	return FOCAL_OK;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX], struct focal_err *err)
{
	int rc;

	out[0] = '\0';
	if ((rc = password_check_policy(pw, NULL, err)) != 0)
		return rc;
	if (crypto_pwhash_str(out, pw, strlen(pw), password_cur.ops,
			      (size_t)password_cur.memory_kib * 1024) != 0)
		return focal_err_set(err, FOCAL_E_NOMEM, "password hashing: out of memory");
	return FOCAL_OK;
}

bool password_verify(const char *hash, const char *pw)
{
	size_t len = strlen(pw);
	bool ok;

	if (len > PASSWORD_MAX_BYTES)
		len = PASSWORD_MAX_BYTES; /* still do the work: same time for every answer */
	if (hash != NULL && hash[0] != '\0') {
		ok = crypto_pwhash_str_verify(hash, pw, len) == 0;
		return ok && strlen(pw) <= PASSWORD_MAX_BYTES;
	}
	pthread_once(&password_dummy_once, password_make_dummy);
	pthread_mutex_lock(&password_dummy_mu);
	{
		char dummy[PASSWORD_HASH_MAX];

		memcpy(dummy, password_dummy, sizeof(dummy));
		pthread_mutex_unlock(&password_dummy_mu);
		/* the result is irrelevant (the password is random), the time is not */
		if (dummy[0] != '\0' && crypto_pwhash_str_verify(dummy, pw, len) == 0)
			sodium_memzero(dummy, sizeof(dummy));
	}
	return false;
}

bool password_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, password_cur.ops,
					      (size_t)password_cur.memory_kib * 1024) != 0;
}
