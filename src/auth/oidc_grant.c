/*
 * oidc_grant: sign-ins, codes and revocations in memory (see oidc_grant.h).
 *
 * Tables are small fixed arrays scanned linearly: at most a few thousand
 * live entries, each scan a few microseconds, and no allocation on the
 * request path.  Expired entries are reused in place.
 */
#include "auth/oidc_grant.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GRANT_TXN_MAX 1024
#define GRANT_CODE_MAX 1024
#define GRANT_REVOKED_MAX 4096
/* a used code stays known this long, so a late replay is still recognised */
#define GRANT_USED_KEEP_S 600

struct grant_txn {
	unsigned char id_hash[SHA256_DIGEST_LENGTH];
	int64_t expires;
	int attempts;
	struct oidc_authz a;
};

struct grant_code {
	unsigned char hash[SHA256_DIGEST_LENGTH];
	int64_t expires;   /* redeemable until */
	int64_t forget_at; /* entry reusable after */
	bool used;
	bool replayed;
	struct oidc_authz a;
	struct auth_principal p;
	char jti[OIDC_JTI_MAX];
	int64_t jti_exp;
};

struct grant_revoked {
	char jti[OIDC_JTI_MAX];
	int64_t exp;
};

static pthread_mutex_t grant_mu = PTHREAD_MUTEX_INITIALIZER;
static struct grant_txn grant_txns[GRANT_TXN_MAX];
static struct grant_code grant_codes[GRANT_CODE_MAX];
static struct grant_revoked grant_revoked[GRANT_REVOKED_MAX];

static int64_t grant_now(void)
{
	return (int64_t)time(NULL);
}

static void grant_hash(const char *s, unsigned char out[SHA256_DIGEST_LENGTH])
{
	SHA256((const unsigned char *)s, strlen(s), out);
}

int oidc_grant_random(char out[OIDC_SECRET_B64], struct focal_err *err)
{
	unsigned char raw[32];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return focal_err_set(err, FOCAL_E_INTERNAL, "no randomness");
	sodium_bin2base64(out, OIDC_SECRET_B64, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	OPENSSL_cleanse(raw, sizeof(raw));
	return FOCAL_OK;
}

int oidc_grant_txn_new(const struct oidc_authz *a, int64_t ttl_s, char id[OIDC_SECRET_B64],
		       struct focal_err *err)
{
	int64_t now = grant_now();
	int rc;

	if ((rc = oidc_grant_random(id, err)) != FOCAL_OK)
		return rc;
	pthread_mutex_lock(&grant_mu);
	for (size_t i = 0; i < GRANT_TXN_MAX; i++) {
		struct grant_txn *t = &grant_txns[i];

		if (t->expires > now)
			continue;
		grant_hash(id, t->id_hash);
		t->expires = now + ttl_s;
		t->attempts = 0;
		t->a = *a;
		pthread_mutex_unlock(&grant_mu);
		return FOCAL_OK;
	}
	pthread_mutex_unlock(&grant_mu);
	return focal_err_set(err, FOCAL_E_UNAVAIL, "too many sign-ins in progress; try again");
}

static struct grant_txn *grant_txn_find(const char *id, int64_t now)
{
	unsigned char h[SHA256_DIGEST_LENGTH];

	grant_hash(id, h);
	for (size_t i = 0; i < GRANT_TXN_MAX; i++)
		if (grant_txns[i].expires > now &&
		    CRYPTO_memcmp(grant_txns[i].id_hash, h, sizeof(h)) == 0)
			return &grant_txns[i];
	return NULL;
}

int oidc_grant_txn_use(const char *id, int max_attempts, struct oidc_authz *a,
		       struct focal_err *err)
{
	struct grant_txn *t;
	int rc = FOCAL_OK;

	pthread_mutex_lock(&grant_mu);
	t = grant_txn_find(id, grant_now());
	if (t == NULL) {
		rc = focal_err_set(err, FOCAL_E_DENIED,
				   "this sign-in has expired: go back to the application and retry");
	} else if (++t->attempts > max_attempts) {
		t->expires = 0;
		rc = focal_err_set(err, FOCAL_E_DENIED,
				   "too many attempts: go back to the application and retry");
	} else {
		*a = t->a;
	}
	pthread_mutex_unlock(&grant_mu);
	return rc;
}

void oidc_grant_txn_end(const char *id)
{
	struct grant_txn *t;

	pthread_mutex_lock(&grant_mu);
	t = grant_txn_find(id, grant_now());
	if (t != NULL)
		memset(t, 0, sizeof(*t));
	pthread_mutex_unlock(&grant_mu);
}

int oidc_grant_code_new(const struct oidc_authz *a, const struct auth_principal *p,
			int64_t ttl_s, char code[OIDC_SECRET_B64], struct focal_err *err)
{
	int64_t now = grant_now();
	int rc;

	if ((rc = oidc_grant_random(code, err)) != FOCAL_OK)
		return rc;
	pthread_mutex_lock(&grant_mu);
	for (size_t i = 0; i < GRANT_CODE_MAX; i++) {
		struct grant_code *c = &grant_codes[i];

		if (c->forget_at > now)
			continue;
		memset(c, 0, sizeof(*c));
		grant_hash(code, c->hash);
		c->expires = now + ttl_s;
		/* kept past its use so a replay is recognised and punished */
		c->forget_at = now + ttl_s + GRANT_USED_KEEP_S;
		c->a = *a;
		c->p = *p;
		pthread_mutex_unlock(&grant_mu);
		return FOCAL_OK;
	}
	pthread_mutex_unlock(&grant_mu);
	return focal_err_set(err, FOCAL_E_UNAVAIL, "too many codes outstanding; try again");
}

static struct grant_code *grant_code_find(const char *code, int64_t now)
{
	unsigned char h[SHA256_DIGEST_LENGTH];

	grant_hash(code, h);
	for (size_t i = 0; i < GRANT_CODE_MAX; i++)
		if (grant_codes[i].forget_at > now &&
		    CRYPTO_memcmp(grant_codes[i].hash, h, sizeof(h)) == 0)
			return &grant_codes[i];
	return NULL;
}

/* Called with grant_mu held. */
static void grant_revoke_locked(const char *jti, int64_t exp, int64_t now)
{
	for (size_t i = 0; i < GRANT_REVOKED_MAX; i++) {
		if (grant_revoked[i].exp > now)
			continue;
		snprintf(grant_revoked[i].jti, sizeof(grant_revoked[i].jti), "%s", jti);
		grant_revoked[i].exp = exp;
		return;
	}
	/* table full of live revocations: nothing to evict safely; the token
	 * still dies at its expiry (minutes) */
}

int oidc_grant_code_take(const char *code, struct oidc_authz *a, struct auth_principal *p,
			 bool *replay, struct focal_err *err)
{
	int64_t now = grant_now();
	struct grant_code *c;
	int rc = FOCAL_OK;

	*replay = false;
	pthread_mutex_lock(&grant_mu);
	c = grant_code_find(code, now);
	if (c == NULL) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "unknown or expired code");
	} else if (c->used) {
		*replay = true;
		c->replayed = true;
		if (c->jti[0] != '\0')
			grant_revoke_locked(c->jti, c->jti_exp, now);
		c->jti[0] = '\0';
		rc = focal_err_set(err, FOCAL_E_DENIED, "code already used");
	} else if (c->expires <= now) {
		c->used = true;
		rc = focal_err_set(err, FOCAL_E_DENIED, "unknown or expired code");
	} else {
		c->used = true;
		*a = c->a;
		*p = c->p;
	}
	pthread_mutex_unlock(&grant_mu);
	return rc;
}

void oidc_grant_code_issued(const char *code, const char *jti, int64_t exp)
{
	struct grant_code *c;

	pthread_mutex_lock(&grant_mu);
	c = grant_code_find(code, grant_now());
	if (c != NULL && c->replayed) /* replayed while the tokens were being made */
		grant_revoke_locked(jti, exp, grant_now());
	else if (c != NULL && c->used) {
		snprintf(c->jti, sizeof(c->jti), "%s", jti);
		c->jti_exp = exp;
	}
	pthread_mutex_unlock(&grant_mu);
}

bool oidc_grant_revoked(const char *jti)
{
	int64_t now = grant_now();
	bool found = false;

	pthread_mutex_lock(&grant_mu);
	for (size_t i = 0; i < GRANT_REVOKED_MAX && !found; i++)
		found = grant_revoked[i].exp > now && strcmp(grant_revoked[i].jti, jti) == 0;
	pthread_mutex_unlock(&grant_mu);
	return found;
}

void oidc_grant_reset(void)
{
	pthread_mutex_lock(&grant_mu);
	memset(grant_txns, 0, sizeof(grant_txns));
	memset(grant_codes, 0, sizeof(grant_codes));
	memset(grant_revoked, 0, sizeof(grant_revoked));
	pthread_mutex_unlock(&grant_mu);
}
