/*
 * audit_log: formats of the audit log's files, keys and checkpoint
 * signatures (see audit_log.h).
 */
#include "audit/audit_log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

int audit_log_keygen(const char *priv_path, const char *pub_path, struct focal_err *err)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f = NULL;
	int fd, rc = FOCAL_OK;

	if (key == NULL)
		return focal_err_set(err, FOCAL_E_INTERNAL, "cannot generate an Ed25519 key");
	/* O_EXCL: never replace a key that signed earlier checkpoints */
	fd = open(priv_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", priv_path, strerror(errno));
		goto out;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", priv_path, strerror(errno));
		goto out;
	}
	if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		rc = focal_err_set(err, FOCAL_E_IO, "%s: cannot write the key", priv_path);
		goto out;
	}
	if (pub_path != NULL) {
		FILE *p = fopen(pub_path, "w");

		if (p == NULL || PEM_write_PUBKEY(p, key) != 1) {
			rc = focal_err_set(err, FOCAL_E_IO, "%s: cannot write the public key",
					   pub_path);
			if (p != NULL)
				fclose(p);
			goto out;
		}
		if (fclose(p) != 0)
			rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", pub_path, strerror(errno));
	}
out:
	if (f != NULL && fclose(f) != 0 && rc == FOCAL_OK)
		rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", priv_path, strerror(errno));
	EVP_PKEY_free(key);
	return rc;
}

static int audit_log_key_check(EVP_PKEY *key, const char *path, struct focal_err *err)
{
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
		return focal_err_set(err, FOCAL_E_CONFIG, "%s: not an Ed25519 key", path);
	return FOCAL_OK;
}

int audit_log_key_private(const char *path, EVP_PKEY **out, struct focal_err *err)
{
	FILE *f = fopen(path, "r");
	int rc;

	*out = NULL;
	if (f == NULL)
		return focal_err_set(err, FOCAL_E_IO, "%s: %s", path, strerror(errno));
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL)
		return focal_err_set(err, FOCAL_E_CONFIG, "%s: not a PEM private key", path);
	if ((rc = audit_log_key_check(*out, path, err)) != FOCAL_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return rc;
}

int audit_log_key_public(const char *path, EVP_PKEY **out, struct focal_err *err)
{
	FILE *f = fopen(path, "r");
	int rc;

	*out = NULL;
	if (f == NULL)
		return focal_err_set(err, FOCAL_E_IO, "%s: %s", path, strerror(errno));
	*out = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (*out == NULL) {
		rewind(f);
		*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (*out == NULL)
		return focal_err_set(err, FOCAL_E_CONFIG, "%s: not a PEM public or private key",
				     path);
	if ((rc = audit_log_key_check(*out, path, err)) != FOCAL_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return rc;
}

int audit_log_key_id(EVP_PKEY *key, char out[2 * MERKLE_HASH + 1])
{
	uint8_t raw[64], h[MERKLE_HASH];
	size_t len = sizeof(raw);
	unsigned int hl = 0;

	if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 ||
	    EVP_Digest(raw, len, h, &hl, EVP_sha256(), NULL) != 1)
		return FOCAL_E_INTERNAL;
	merkle_hex(h, out);
	return FOCAL_OK;
}

/* The exact bytes a checkpoint signature covers. */
static int audit_log_checkpoint_msg(const struct audit_checkpoint *c, char *buf, size_t cap)
{
	char root[2 * MERKLE_HASH + 1];

	merkle_hex(c->root, root);
	return snprintf(buf, cap, "focal-audit-checkpoint/v1\n%llu\n%s\n%lld\n",
			(unsigned long long)c->size, root, (long long)c->ts_ms);
}

int audit_log_checkpoint_sign(EVP_PKEY *key, struct audit_checkpoint *c, struct focal_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char msg[256];
	size_t siglen = AUDIT_SIG_LEN;
	int n = audit_log_checkpoint_msg(c, msg, sizeof(msg)), rc = FOCAL_OK;

	/* Ed25519 signs the message itself: no digest is named (RFC 8032 PureEdDSA) */
	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, c->sig, &siglen, (const unsigned char *)msg, (size_t)n) != 1 ||
	    siglen != AUDIT_SIG_LEN)
		rc = focal_err_set(err, FOCAL_E_INTERNAL, "cannot sign the audit checkpoint");
	EVP_MD_CTX_free(ctx);
	return rc;
}

bool audit_log_checkpoint_valid(EVP_PKEY *pub, const struct audit_checkpoint *c)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char msg[256];
	int n = audit_log_checkpoint_msg(c, msg, sizeof(msg));
	bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
		  EVP_DigestVerify(ctx, c->sig, AUDIT_SIG_LEN, (const unsigned char *)msg,
				   (size_t)n) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

char *audit_log_checkpoint_line(const struct audit_checkpoint *c)
{
	char root[2 * MERKLE_HASH + 1], sig[2 * AUDIT_SIG_LEN + 1], ts[32];
	json_t *o;
	char *s;

	merkle_hex(c->root, root);
	sodium_bin2hex(sig, sizeof(sig), c->sig, AUDIT_SIG_LEN);
	audit_log_iso_time(c->ts_ms, ts);
	o = json_pack("{s:I, s:s, s:I, s:s, s:s}", "size", (json_int_t)c->size, "root", root,
		      "ts_ms", (json_int_t)c->ts_ms, "ts", ts, "sig", sig);
	s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

static bool audit_log_unhexn(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++) {
			char ch = s[2 * i + (size_t)j];

			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned)(ch - 'a' + 10);
			else
				return false;
		}
		out[i] = (uint8_t)v;
	}
	return true;
}

int audit_log_checkpoint_parse(const char *line, size_t len, struct audit_checkpoint *out,
			       struct focal_err *err)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *size, *root, *ts, *sig;
	int rc = FOCAL_OK;

	memset(out, 0, sizeof(*out));
	if (o == NULL)
		return focal_err_set(err, FOCAL_E_INVAL, "not JSON: %s", jerr.text);
	size = json_object_get(o, "size");
	root = json_object_get(o, "root");
	ts = json_object_get(o, "ts_ms");
	sig = json_object_get(o, "sig");
	if (!json_is_object(o) || !json_is_integer(size) || json_integer_value(size) < 0 ||
	    !json_is_string(root) || !json_is_integer(ts) || !json_is_string(sig) ||
	    !merkle_unhex(json_string_value(root), out->root) ||
	    !audit_log_unhexn(json_string_value(sig), out->sig, AUDIT_SIG_LEN)) {
		rc = focal_err_set(err, FOCAL_E_INVAL, "not a checkpoint (size, root, ts_ms, sig)");
		goto out;
	}
	out->size = (uint64_t)json_integer_value(size);
	out->ts_ms = (int64_t)json_integer_value(ts);
out:
	json_decref(o);
	return rc;
}

int audit_log_entry_parse(const char *line, size_t len, json_t **doc, uint64_t *seq,
			  uint8_t prev[MERKLE_HASH], struct focal_err *err)
{
	json_error_t jerr;
	json_t *o, *s, *p;

	if (doc != NULL)
		*doc = NULL;
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return focal_err_set(err, FOCAL_E_INVAL, "not JSON (column %d: %s)", jerr.column,
				     jerr.text);
	s = json_object_get(o, "seq");
	p = json_object_get(o, "prev");
	if (!json_is_object(o) || !json_is_integer(s) || json_integer_value(s) < 0 ||
	    !json_is_string(p) || !merkle_unhex(json_string_value(p), prev) ||
	    !json_is_integer(json_object_get(o, "ts_ms")) ||
	    !json_is_string(json_object_get(o, "type"))) {
		json_decref(o);
		return focal_err_set(err, FOCAL_E_INVAL,
				     "not an audit entry (seq, prev, ts_ms and type are required)");
	}
	*seq = (uint64_t)json_integer_value(s);
	if (doc != NULL)
		*doc = o;
	else
		json_decref(o);
	return FOCAL_OK;
}

/* Reads the digits at *p (at most 18: no overflow) into *out. */
static bool audit_log_digits(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	while (*p < end && **p >= '0' && **p <= '9' && *p - s < 18)
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	*out = v;
	return *p > s && (*p == end || **p < '0' || **p > '9');
}

static bool audit_log_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

bool audit_log_entry_head(const char *line, size_t len, uint64_t *seq,
			  uint8_t prev[MERKLE_HASH], int64_t *ts_ms)
{
	const char *p = line, *end = line + len, *q;
	char hex[2 * MERKLE_HASH + 1];
	uint64_t ms;

	if (!audit_log_lit(&p, end, "{\"seq\":") || !audit_log_digits(&p, end, seq) ||
	    !audit_log_lit(&p, end, ",\"prev\":\"") || end - p < 2 * MERKLE_HASH + 1 ||
	    p[2 * MERKLE_HASH] != '"')
		return false;
	memcpy(hex, p, 2 * MERKLE_HASH);
	hex[2 * MERKLE_HASH] = '\0';
	if (!merkle_unhex(hex, prev))
		return false;
	p += 2 * MERKLE_HASH + 1;
	/* ,"ts":"<ISO time, no quote or backslash>" */
	if (!audit_log_lit(&p, end, ",\"ts\":\"") ||
	    (q = memchr(p, '"', (size_t)(end - p))) == NULL || memchr(p, '\\', (size_t)(q - p)))
		return false;
	p = q + 1;
	if (!audit_log_lit(&p, end, ",\"ts_ms\":") || !audit_log_digits(&p, end, &ms) ||
	    !audit_log_lit(&p, end, ",\"type\":\"") || end - line < 2 || end[-1] != '}')
		return false;
	*ts_ms = (int64_t)ms;
	return true;
}

int audit_log_read_line(FILE *f, char **buf, size_t *cap, size_t *len, bool *torn,
			struct focal_err *err)
{
	size_t n = 0;
	int c;

	*torn = false;
	*len = 0;
	/* byte by byte (a damaged line may hold NULs), without a lock per byte:
	 * verification reads every byte of the log */
	flockfile(f);
	while ((c = getc_unlocked(f)) != EOF) {
		if (c == '\n') {
			funlockfile(f);
			*len = n;
			return 1;
		}
		if (n >= AUDIT_ENTRY_MAX || n + 1 >= *cap) {
			size_t ncap = *cap ? *cap * 2 : 4096;
			char *nb = n >= AUDIT_ENTRY_MAX ? NULL : realloc(*buf, ncap);

			if (nb == NULL) {
				funlockfile(f);
				if (n >= AUDIT_ENTRY_MAX)
					return focal_err_set(err, FOCAL_E_LIMIT,
							     "line longer than %d bytes",
							     AUDIT_ENTRY_MAX);
				return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			}
			*buf = nb;
			*cap = ncap;
		}
		(*buf)[n++] = (char)c;
	}
	funlockfile(f);
	if (ferror(f))
		return focal_err_set(err, FOCAL_E_IO, "read error: %s", strerror(errno));
	if (n == 0)
		return 0;
	*torn = true;
	*len = n;
	return 1;
}

void audit_log_iso_time(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int64_t audit_log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int audit_log_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;
	int ms = 0;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL)
		return FOCAL_E_INVAL;
	if (*end == 'T' || *end == ' ') {
		end = strptime(end + 1, "%H:%M:%S", &tm);
		if (end == NULL)
			return FOCAL_E_INVAL;
		if (*end == '.') {
			int digits = 0;

			for (end++; *end >= '0' && *end <= '9'; end++)
				if (digits++ < 3)
					ms = ms * 10 + (*end - '0');
			while (digits++ < 3)
				ms *= 10;
		}
		if (*end == 'Z')
			end++;
	}
	if (*end != '\0')
		return FOCAL_E_INVAL;
	*out = (int64_t)timegm(&tm) * 1000 + ms;
	return FOCAL_OK;
}

char *audit_log_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}
