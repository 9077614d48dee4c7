/*
 * federation: trusted external identity providers (see federation.h).
 *
 * Key caches: each issuer has a struct fed_jwks (refcounted, so a refresh
 * thread may outlive a reloaded configuration) holding the current key set,
 * itself refcounted so a verification in progress keeps the set it started
 * with while a refresh replaces it.
 */
#include "auth/federation.h"

#include <curl/curl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/jwk.h"
#include "auth/oidc.h"
#include "core/cfgnode.h"
#include "core/log.h"
#include "http/reply.h"
#include "http/server.h"
#include "sources/source.h"

#define FED_MAX_ISSUERS 32
#define FED_MAX_MAPPINGS 64
#define FED_JWKS_MAX_BYTES (256 * 1024)
#define FED_REFETCH_MIN_S 30 /* an unknown kid triggers at most one fetch per 30 s */

struct fed_keys {
	atomic_int refs;
	struct jwk_set *set;
};

struct fed_jwks {
	atomic_int refs;
	pthread_mutex_t mu;
	char *url, *ca_file;       /* url NULL for a file */
	struct fed_keys *keys;     /* under mu; NULL until fetched */
	int64_t fetched_at;        /* under mu */
	int64_t last_attempt;      /* under mu */
	bool busy;                 /* under mu: a refresh thread runs */
};

struct fed_mapping {
	char *claim, *value, *role;
};

struct fed_issuer {
	char *issuer, *audience;
	char *algs[16];
	const char *alg_list[17];   /* NULL-terminated view of algs */
	long refresh_s, skew_s;
	char *user_claim, *name_claim, *unit_claim, *unit;
	enum classification clearance;
	struct fed_mapping *maps;
	size_t nmaps;
	struct fed_jwks *jwks;
};

struct federation {
	struct fed_issuer *iss;
	size_t n;
};

static int64_t fed_now(void)
{
	return (int64_t)time(NULL);
}

/* --- key caches --------------------------------------------------------- */

static void fed_keys_unref(struct fed_keys *k)
{
	if (k != NULL && atomic_fetch_sub(&k->refs, 1) == 1) {
		jwk_set_free(k->set);
		free(k);
	}
}

static void fed_jwks_unref(struct fed_jwks *j)
{
	if (j == NULL || atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	fed_keys_unref(j->keys);
	pthread_mutex_destroy(&j->mu);
	free(j->url);
	free(j->ca_file);
	free(j);
}

/* Installs set (taken) as j's current keys. */
static int fed_jwks_install(struct fed_jwks *j, struct jwk_set *set)
{
	struct fed_keys *k = calloc(1, sizeof(*k)), *old;

	if (k == NULL) {
		jwk_set_free(set);
		return FOCAL_E_NOMEM;
	}
	atomic_init(&k->refs, 1);
	k->set = set;
	pthread_mutex_lock(&j->mu);
	old = j->keys;
	j->keys = k;
	j->fetched_at = fed_now();
	pthread_mutex_unlock(&j->mu);
	fed_keys_unref(old);
	return FOCAL_OK;
}

struct fed_buf {
	char *data;
	size_t len;
};

static size_t fed_curl_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fed_buf *b = arg;
	size_t n = size * nmemb;
	char *p;

	if (b->len + n > FED_JWKS_MAX_BYTES)
		return 0; /* aborts the transfer */
	p = realloc(b->data, b->len + n + 1);
	if (p == NULL)
		return 0;
	b->data = p;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Blocking HTTPS GET of a JWKS (start-up, reload, or a refresh thread). */
static int fed_fetch(const char *url, const char *ca_file, struct jwk_set **out,
		     struct focal_err *err)
{
	struct fed_buf b = { NULL, 0 };
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode cc;
	int rc;

	*out = NULL;
	if (c == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fed_curl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		rc = focal_err_set(err, FOCAL_E_SOURCE, "fetching %s: %s", url,
				   curl_easy_strerror(cc));
	else if (status != 200 || b.data == NULL)
		rc = focal_err_set(err, FOCAL_E_SOURCE, "fetching %s: HTTP status %ld", url, status);
	else if ((rc = jwk_set_parse(b.data, b.len, out, err)) != FOCAL_OK)
		focal_err_prefix(err, "%s", url);
	free(b.data);
	return rc;
}

static void *fed_refresh_thread(void *arg)
{
	struct fed_jwks *j = arg;
	struct jwk_set *set = NULL;
	struct focal_err err;

	if (fed_fetch(j->url, j->ca_file, &set, &err) == FOCAL_OK) {
		fed_jwks_install(j, set);
		log_info("federation", "JWKS refreshed from %s", j->url);
	} else {
		log_warn("federation", "JWKS refresh failed: %s", err.msg);
	}
	pthread_mutex_lock(&j->mu);
	j->busy = false;
	pthread_mutex_unlock(&j->mu);
	fed_jwks_unref(j);
	return NULL;
}

/* Starts a background fetch unless one runs or one started too recently.
 * Called with j->mu held. */
static void fed_refresh_locked(struct fed_jwks *j, int64_t now)
{
	pthread_attr_t attr;
	pthread_t t;

	if (j->url == NULL || j->busy || now - j->last_attempt < FED_REFETCH_MIN_S)
		return;
	j->last_attempt = now;
	j->busy = true;
	atomic_fetch_add(&j->refs, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, fed_refresh_thread, j) != 0) {
		j->busy = false;
		atomic_fetch_sub(&j->refs, 1); /* cannot reach zero: the issuer holds one */
	}
	pthread_attr_destroy(&attr);
}

/* The issuer's current keys (a reference, or NULL when none yet); starts a
 * refresh when they are older than refresh_s or want_refresh is set. */
static struct fed_keys *fed_keys_get(const struct fed_issuer *is, bool want_refresh)
{
	struct fed_jwks *j = is->jwks;
	struct fed_keys *k;
	int64_t now = fed_now();

	pthread_mutex_lock(&j->mu);
	k = j->keys;
	if (k != NULL)
		atomic_fetch_add(&k->refs, 1);
	if (k == NULL || want_refresh || now - j->fetched_at >= is->refresh_s)
		fed_refresh_locked(j, now);
	pthread_mutex_unlock(&j->mu);
	return k;
}

/* --- configuration ------------------------------------------------------ */

/* A sequence of strings under key (absent: *n untouched). */
int federation_cfg_strings(const struct cfg_node *map, const char *key, char **out, size_t max,
			   size_t *n, struct focal_err *err)
{
	struct cfg_node seq, item;
	int rc;

	if (!cfg_map_get(map, key, &seq))
		return FOCAL_OK;
	if ((rc = cfg_expect_seq(&seq, key, err)) != FOCAL_OK)
		return rc;
	if (cfg_len(&seq) == 0 || cfg_len(&seq) > max)
		return cfg_error(&seq, err, "%s: expected 1 to %zu entries", key, max);
	for (size_t i = 0; i < *n; i++) {
		free(out[i]);
		out[i] = NULL;
	}
	*n = 0;
	for (size_t i = 0; i < cfg_len(&seq); i++) {
		cfg_seq_at(&seq, i, &item);
		if ((rc = cfg_node_string(&item, key, &out[i], err)) != FOCAL_OK)
			return rc;
		*n = i + 1;
	}
	return FOCAL_OK;
}

static void fed_issuer_clear(struct fed_issuer *is)
{
	free(is->issuer);
	free(is->audience);
	for (size_t i = 0; i < sizeof(is->algs) / sizeof(is->algs[0]); i++)
		free(is->algs[i]);
	free(is->user_claim);
	free(is->name_claim);
	free(is->unit_claim);
	free(is->unit);
	for (size_t i = 0; i < is->nmaps; i++) {
		free(is->maps[i].claim);
		free(is->maps[i].value);
		free(is->maps[i].role);
	}
	free(is->maps);
	fed_jwks_unref(is->jwks);
}

void federation_free(struct federation *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++)
		fed_issuer_clear(&f->iss[i]);
	free(f->iss);
	free(f);
}

static int fed_parse_mappings(const struct cfg_node *map, struct fed_issuer *is,
			      struct focal_err *err)
{
	static const char *const keys[] = { "claim", "value", "role", NULL };
	static const char *const roles[] = { "officer", "admin", "auditor", NULL };
	struct cfg_node seq, m;
	int rc, role;

	if (!cfg_map_get(map, "role_mappings", &seq))
		return cfg_error(map, err, "missing required key 'role_mappings' (a user no rule "
				 "maps gets no access)");
	if ((rc = cfg_expect_seq(&seq, "role_mappings", err)) != FOCAL_OK)
		return rc;
	if (cfg_len(&seq) == 0 || cfg_len(&seq) > FED_MAX_MAPPINGS)
		return cfg_error(&seq, err, "role_mappings: expected 1 to %d rules", FED_MAX_MAPPINGS);
	is->maps = calloc(cfg_len(&seq), sizeof(*is->maps));
	if (is->maps == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < cfg_len(&seq); i++) {
		struct fed_mapping *fm = &is->maps[i];

		cfg_seq_at(&seq, i, &m);
		is->nmaps = i + 1;
		role = 0;
		if ((rc = cfg_expect_map(&m, "role mapping", err)) != FOCAL_OK ||
		    (rc = cfg_check_keys(&m, keys, err)) != FOCAL_OK ||
		    (rc = cfg_get_string(&m, "claim", true, &fm->claim, err)) != FOCAL_OK ||
		    (rc = cfg_get_string(&m, "value", true, &fm->value, err)) != FOCAL_OK ||
		    (rc = cfg_get_enum(&m, "role", true, roles, &role, err)) != FOCAL_OK)
			return rc;
		fm->role = strdup(roles[role]);
		if (fm->role == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	return FOCAL_OK;
}

static int fed_parse_issuer(const struct cfg_node *m, struct fed_issuer *is,
			    struct focal_err *err)
{
	static const char *const keys[] = {
		"issuer", "audience", "jwks_file", "jwks_url", "ca_file", "algorithms",
		"jwks_refresh_s", "clock_skew_s", "user_claim", "name_claim", "unit_claim", "unit",
		"clearance", "role_mappings", NULL,
	};
	static const char *const classes[] = { "not_sensitive", "restricted",
					       "strictly_confidential", NULL };
	static const char *const default_algs[] = { "ES256", "RS256", NULL };
	char *jwks_file = NULL, *json = NULL;
	struct cfg_node v;
	struct jwk_set *set = NULL;
	struct focal_err ferr;
	struct stat st;
	size_t nalgs = 0;
	int rc, cls = 0;
	FILE *f = NULL;
	long len;

	is->refresh_s = 3600;
	is->skew_s = 60;
	if ((rc = cfg_expect_map(m, "trusted issuer", err)) != FOCAL_OK ||
	    (rc = cfg_check_keys(m, keys, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "issuer", true, &is->issuer, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "audience", true, &is->audience, err)) != FOCAL_OK ||
	    (rc = cfg_get_long(m, "jwks_refresh_s", false, 60, 86400, &is->refresh_s, err)) != 0 ||
	    (rc = cfg_get_long(m, "clock_skew_s", false, 0, 300, &is->skew_s, err)) != 0 ||
	    (rc = cfg_get_string(m, "user_claim", false, &is->user_claim, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "name_claim", false, &is->name_claim, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "unit_claim", false, &is->unit_claim, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "unit", false, &is->unit, err)) != FOCAL_OK ||
	    (rc = cfg_get_enum(m, "clearance", false, classes, &cls, err)) != FOCAL_OK ||
	    (rc = federation_cfg_strings(m, "algorithms", is->algs, 15, &nalgs, err)) != FOCAL_OK ||
	    (rc = fed_parse_mappings(m, is, err)) != FOCAL_OK)
		goto out;
	is->clearance = (enum classification)cls;
	if (strncmp(is->issuer, "https://", 8) != 0) {
		cfg_map_get(m, "issuer", &v);
		rc = cfg_error(&v, err, "issuer must be an https:// URL (exactly as in the tokens' iss)");
		goto out;
	}
	for (size_t i = 0; i < nalgs; i++) {
		if (!jwk_alg_supported(is->algs[i])) {
			cfg_map_get(m, "algorithms", &v);
			rc = cfg_error(&v, err, "algorithm %s is not allowed (ES256/384/512, RS256/384/512 "
				       "and PS256/384/512 are; none and HS* never, EdDSA is not "
				       "supported by libcjose 0.6)", is->algs[i]);
			goto out;
		}
	}
	for (size_t i = 0; nalgs == 0 && default_algs[i] != NULL; i++)
		if ((is->algs[i] = strdup(default_algs[i])) == NULL) {
			rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			goto out;
		}
	for (size_t i = 0; is->algs[i] != NULL; i++)
		is->alg_list[i] = is->algs[i];
	if (is->user_claim == NULL && (is->user_claim = strdup("sub")) == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	is->jwks = calloc(1, sizeof(*is->jwks));
	if (is->jwks == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	atomic_init(&is->jwks->refs, 1);
	pthread_mutex_init(&is->jwks->mu, NULL);
	if ((rc = cfg_get_path(m, "jwks_file", false, &jwks_file, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "jwks_url", false, &is->jwks->url, err)) != FOCAL_OK ||
	    (rc = cfg_get_path(m, "ca_file", false, &is->jwks->ca_file, err)) != FOCAL_OK)
		goto out;
	if ((jwks_file == NULL) == (is->jwks->url == NULL)) {
		rc = cfg_error(m, err, "a trusted issuer needs exactly one of jwks_file, jwks_url");
		goto out;
	}
	if (is->jwks->url != NULL && strncmp(is->jwks->url, "https://", 8) != 0) {
		cfg_map_get(m, "jwks_url", &v);
		rc = cfg_error(&v, err, "jwks_url must be an https:// URL");
		goto out;
	}
	if (jwks_file != NULL) {
		f = fopen(jwks_file, "r");
		/* a regular file only: a FIFO or device would block or never end */
		if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
		    fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 ||
		    len > FED_JWKS_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0 ||
		    (json = malloc((size_t)len)) == NULL || fread(json, 1, (size_t)len, f) != (size_t)len) {
			cfg_map_get(m, "jwks_file", &v);
			rc = cfg_error(&v, err, "cannot read JWKS file %s (1 byte to 256 KiB)", jwks_file);
			goto out;
		}
		if ((rc = jwk_set_parse(json, (size_t)len, &set, &ferr)) != FOCAL_OK) {
			cfg_map_get(m, "jwks_file", &v);
			rc = cfg_error(&v, err, "%s: %s", jwks_file, ferr.msg);
			goto out;
		}
	}
	/* a jwks_url is not fetched here: parsing stays offline (focald --check,
	 * the fuzz_config harness); federation_fetch() does it at start and
	 * reload */
	if (set != NULL && (rc = fed_jwks_install(is->jwks, set)) != FOCAL_OK) {
		set = NULL;
		focal_err_set(err, rc, "out of memory");
		goto out;
	}
	rc = FOCAL_OK;
out:
	if (f != NULL)
		fclose(f);
	free(json);
	free(jwks_file);
	return rc;
}

int federation_config_parse(const struct cfg_node *n, struct federation **out,
			    struct focal_err *err)
{
	struct federation *f;
	struct cfg_node item;
	int rc;

	*out = NULL;
	if (n == NULL)
		return FOCAL_OK;
	if ((rc = cfg_expect_seq(n, "trusted_issuers", err)) != FOCAL_OK)
		return rc;
	if (cfg_len(n) > FED_MAX_ISSUERS)
		return cfg_error(n, err, "at most %d trusted issuers", FED_MAX_ISSUERS);
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->iss = calloc(cfg_len(n) + 1, sizeof(*f->iss))) == NULL) {
		free(f);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < cfg_len(n); i++) {
		cfg_seq_at(n, i, &item);
		f->n = i + 1;
		if ((rc = fed_parse_issuer(&item, &f->iss[i], err)) != FOCAL_OK)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (strcmp(f->iss[j].issuer, f->iss[i].issuer) == 0) {
				rc = cfg_error(&item, err, "issuer %s is listed twice",
					       f->iss[i].issuer);
				goto fail;
			}
	}
	*out = f;
	return FOCAL_OK;
fail:
	federation_free(f);
	return rc;
}

void federation_fetch(const struct federation *f)
{
	for (size_t i = 0; f != NULL && i < f->n; i++) {
		struct fed_jwks *j = f->iss[i].jwks;
		struct jwk_set *set = NULL;
		struct focal_err ferr;
		bool have;

		pthread_mutex_lock(&j->mu);
		have = j->keys != NULL;
		pthread_mutex_unlock(&j->mu);
		if (j->url == NULL || have)
			continue;
		if (fed_fetch(j->url, j->ca_file, &set, &ferr) != FOCAL_OK)
			/* the issuer may be down while focald starts: retried on first use */
			log_warn("federation", "%s (retried when a token arrives)", ferr.msg);
		else if (fed_jwks_install(j, set) != FOCAL_OK)
			log_warn("federation", "JWKS of %s: out of memory", f->iss[i].issuer);
	}
}

int federation_set_jwks(const struct federation *f, const char *iss, const char *json,
			struct focal_err *err)
{
	struct jwk_set *set = NULL;
	int rc;

	for (size_t i = 0; f != NULL && i < f->n; i++) {
		if (strcmp(f->iss[i].issuer, iss) != 0)
			continue;
		if ((rc = jwk_set_parse(json, strlen(json), &set, err)) != FOCAL_OK)
			return rc;
		return fed_jwks_install(f->iss[i].jwks, set);
	}
	return focal_err_set(err, FOCAL_E_INVAL, "issuer %s is not trusted", iss);
}

/* --- verification ------------------------------------------------------- */

bool federation_is_jwt(const char *token)
{
	size_t dots = 0;

	for (const char *p = token; *p != '\0'; p++)
		if (*p == '.')
			dots++;
	return dots == 2;
}

/* A claim that must be a whole number of seconds (absent: *present false). */
static int fed_time_claim(json_t *claims, const char *name, bool *present, int64_t *out)
{
	json_t *v = json_object_get(claims, name);

	*present = v != NULL;
	if (v == NULL)
		return FOCAL_OK;
	if (json_is_integer(v))
		*out = (int64_t)json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) > 0 && json_real_value(v) < 1e12)
		*out = (int64_t)json_real_value(v);
	else
		return FOCAL_E_DENIED;
	return FOCAL_OK;
}

/* True when claim holds value: equal string, or an array containing it. */
static bool fed_claim_has(json_t *claims, const char *claim, const char *value)
{
	json_t *v = json_object_get(claims, claim), *e;
	size_t i;

	if (json_is_string(v))
		return strcmp(json_string_value(v), value) == 0;
	json_array_foreach(v, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), value) == 0)
			return true;
	return false;
}

/* A claim string fit for a principal field: printable, no controls. */
static bool fed_copy_claim(json_t *claims, const char *claim, char *dst, size_t dstlen)
{
	const char *s = json_string_value(json_object_get(claims, claim));
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n >= dstlen)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	memcpy(dst, s, n + 1);
	return true;
}

/* Checks the registered claims and maps the identity.  Returns FOCAL_OK or
 * FOCAL_E_DENIED with the reason. */
static int fed_check_claims(const struct fed_issuer *is, json_t *c, struct auth_principal *out,
			    struct focal_err *err)
{
	int64_t now = fed_now(), exp = 0, nbf = 0, iat = 0, auth_time = 0;
	bool has_exp, has_nbf, has_iat, has_auth_time;
	const char *iss = json_string_value(json_object_get(c, "iss"));
	json_t *amr;
	size_t i;

	if (iss == NULL || strcmp(iss, is->issuer) != 0)
		return focal_err_set(err, FOCAL_E_DENIED, "wrong issuer");
	if (!fed_claim_has(c, "aud", is->audience))
		return focal_err_set(err, FOCAL_E_DENIED, "wrong audience");
	if (fed_time_claim(c, "exp", &has_exp, &exp) != 0 ||
	    fed_time_claim(c, "nbf", &has_nbf, &nbf) != 0 ||
	    fed_time_claim(c, "iat", &has_iat, &iat) != 0 ||
	    fed_time_claim(c, "auth_time", &has_auth_time, &auth_time) != 0)
		return focal_err_set(err, FOCAL_E_DENIED, "malformed time claim");
	if (!has_exp)
		return focal_err_set(err, FOCAL_E_DENIED, "token has no expiry");
	if (now > exp + is->skew_s)
		return focal_err_set(err, FOCAL_E_DENIED, "token expired");
	if (has_nbf && now + is->skew_s < nbf)
		return focal_err_set(err, FOCAL_E_DENIED, "token not yet valid");
	if (has_iat && now + is->skew_s < iat)
		return focal_err_set(err, FOCAL_E_DENIED, "token issued in the future");
	if (!fed_copy_claim(c, is->user_claim, out->user, sizeof(out->user)))
		return focal_err_set(err, FOCAL_E_DENIED, "token lacks a usable %s claim",
				     is->user_claim);
	for (size_t m = 0; m < is->nmaps && out->nroles < PRINCIPAL_MAX_ROLES; m++) {
		if (!fed_claim_has(c, is->maps[m].claim, is->maps[m].value) ||
		    principal_has_role(out, is->maps[m].role))
			continue;
		snprintf(out->roles[out->nroles++], sizeof(out->roles[0]), "%s", is->maps[m].role);
	}
	if (out->nroles == 0)
		return focal_err_set(err, FOCAL_E_DENIED, "no role mapped for this user");
	if (is->name_claim == NULL || !fed_copy_claim(c, is->name_claim, out->name,
						      sizeof(out->name)))
		snprintf(out->name, sizeof(out->name), "%s", out->user);
	if (is->unit_claim == NULL || !fed_copy_claim(c, is->unit_claim, out->unit,
						      sizeof(out->unit)))
		snprintf(out->unit, sizeof(out->unit), "%s", is->unit != NULL ? is->unit : "");
	out->clearance = is->clearance;
	out->auth_time_ms = (has_auth_time ? auth_time : has_iat ? iat : now) * 1000;
	amr = json_object_get(c, "amr");
	json_t *e;
	json_array_foreach(amr, i, e) {
		const char *a = json_string_value(e);

		if (a != NULL && (strcmp(a, "mfa") == 0 || strcmp(a, "otp") == 0 ||
				  strcmp(a, "hwk") == 0))
			out->mfa = true;
	}
	snprintf(out->issuer, sizeof(out->issuer), "%s", is->issuer);
	return FOCAL_OK;
}

static void fed_deny_audit(const char *iss, const struct jwk_header *h, const char *reason)
{
	audit_event("auth.federation.denied", NULL,
		    json_pack("{s:s, s:s, s:s, s:s}", "issuer", iss != NULL ? iss : "",
			      "alg", h != NULL ? h->alg : "", "kid", h != NULL ? h->kid : "",
			      "reason", reason),
		    NULL);
}

int federation_verify(const struct federation *f, const char *jwt, struct auth_principal *out,
		      struct focal_err *err)
{
	const struct fed_issuer *is = NULL;
	struct jwk_header hdr;
	struct fed_keys *keys = NULL;
	const struct jwk_set *sets[1];
	json_t *peek = NULL, *claims = NULL;
	char iss_copy[PRINCIPAL_NAME_MAX] = "";
	struct focal_err lerr;
	const char *iss = NULL;
	int rc;

	if (err == NULL)
		err = &lerr;
	memset(out, 0, sizeof(*out));
	memset(&hdr, 0, sizeof(hdr));
	/* the unverified issuer only chooses whose keys to try; it is checked
	 * again on the verified claims */
	if ((rc = jwk_peek_claims(jwt, &peek, err)) != FOCAL_OK)
		goto out;
	iss = json_string_value(json_object_get(peek, "iss"));
	if (iss != NULL)
		snprintf(iss_copy, sizeof(iss_copy), "%s", iss);
	for (size_t i = 0; iss != NULL && f != NULL && i < f->n; i++)
		if (strcmp(f->iss[i].issuer, iss) == 0)
			is = &f->iss[i];
	if (is == NULL) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "issuer not trusted");
		goto out;
	}
	keys = fed_keys_get(is, false);
	if (keys == NULL) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "keys of the issuer not available yet");
		goto out;
	}
	sets[0] = keys->set;
	rc = jwk_verify(jwt, sets, 1, is->alg_list, &claims, &hdr, err);
	if (rc == FOCAL_OK) {
		rc = fed_check_claims(is, claims, out, err);
	} else if (strcmp(err->msg, "unknown kid") == 0) {
		/* the issuer may have rotated its keys: fetch again (rate-limited) */
		fed_keys_unref(fed_keys_get(is, true));
	}
out:
	if (rc != FOCAL_OK) {
		fed_deny_audit(iss_copy, &hdr, err->msg);
		memset(out, 0, sizeof(*out));
		rc = FOCAL_E_DENIED;
	}
	fed_keys_unref(keys);
	json_decref(peek);
	json_decref(claims);
	return rc;
}

bool federation_request(struct evhttp_request *req, struct server_loop *sl,
			struct auth_principal *out, int *rc, struct focal_err *err)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	const struct federation *f = NULL;

	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return false;
	v += 7;
	while (*v == ' ')
		v++;
	if (!federation_is_jwt(v))
		return false;
	if (sl->loop.sources != NULL)
		f = oidc_federation(sl->loop.sources->cfg->oidc);
	*rc = federation_verify(f, v, out, err);
	if (*rc == FOCAL_OK)
		snprintf(out->addr, sizeof(out->addr), "%s", reply_peer_addr(req));
	return true;
}
