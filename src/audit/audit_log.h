/*
 * audit_log: the audit log's files and their formats, shared by the writer
 * in focald (audit.c), the offline verifier (audit_verify.c) and the
 * oversight queries (audit_query.c).
 *
 * A log directory holds two append-only files:
 *
 *   audit.log        one entry per line: a compact JSON object whose first
 *                    members are {"seq":N,"prev":"<hex>","ts":"...Z","ts_ms":T,
 *                    "type":"..."}.  prev is the hash of entry N-1 (64 zeros for
 *                    entry 0); an entry's hash is its Merkle leaf hash,
 *                    SHA-256(0x00 || the line's bytes without the newline).
 *   checkpoints.log  one signed tree head per line: {"size":N,"root":"<hex>",
 *                    "ts_ms":T,"ts":"...","sig":"<hex Ed25519 signature>"} over
 *                    the message "focal-audit-checkpoint/v1\n<size>\n<root>\n<ts_ms>\n".
 *
 * The bytes of a line are what is hashed, so nothing ever re-serialises an
 * entry: readers hash the line as read and parse it only for its members.
 * Keys are Ed25519 (OpenSSL EVP) in PEM files.
 */
#ifndef FOCAL_AUDIT_LOG_H
#define FOCAL_AUDIT_LOG_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "audit/merkle.h"
#include "core/err.h"

#define AUDIT_LOG_NAME "audit.log"
#define AUDIT_CKPT_NAME "checkpoints.log"
#define AUDIT_ENTRY_MAX (1024 * 1024) /* longest entry line accepted, bytes */
#define AUDIT_SIG_LEN 64

struct audit_checkpoint {
	uint64_t size;
	uint8_t root[MERKLE_HASH];
	int64_t ts_ms;
	uint8_t sig[AUDIT_SIG_LEN];
};

/* Writes a new Ed25519 key pair: the private key to priv_path (created with
 * mode 0600, never overwritten: an existing file is an error) and, when
 * pub_path is not NULL, the public key (SubjectPublicKeyInfo PEM). */
int audit_log_keygen(const char *priv_path, const char *pub_path, struct focal_err *err);
/* Loads an Ed25519 private key (PEM).  *out is the caller's (EVP_PKEY_free). */
int audit_log_key_private(const char *path, EVP_PKEY **out, struct focal_err *err);
/* Loads an Ed25519 public key from a PUBLIC KEY PEM, or from a private key
 * PEM (its public half). */
int audit_log_key_public(const char *path, EVP_PKEY **out, struct focal_err *err);
/* SHA-256 of the public key's raw bytes, hex (identifies the key in logs). */
int audit_log_key_id(EVP_PKEY *key, char out[2 * MERKLE_HASH + 1]);

/* Signs c (size, root, ts_ms) into c->sig. */
int audit_log_checkpoint_sign(EVP_PKEY *key, struct audit_checkpoint *c, struct focal_err *err);
bool audit_log_checkpoint_valid(EVP_PKEY *pub, const struct audit_checkpoint *c);
/* The checkpoint's line (malloc'd, no newline). */
char *audit_log_checkpoint_line(const struct audit_checkpoint *c);
/* Parses one checkpoint line (signature not checked). */
int audit_log_checkpoint_parse(const char *line, size_t len, struct audit_checkpoint *out,
			       struct focal_err *err);

/* Parses one entry line: a JSON object (duplicate keys rejected) with an
 * unsigned integer seq, a 64-hex prev, an integer ts_ms and a string type.
 * *doc (may be NULL when not wanted) is the caller's. */
int audit_log_entry_parse(const char *line, size_t len, json_t **doc, uint64_t *seq,
			  uint8_t prev[MERKLE_HASH], struct focal_err *err);

/* The same fields read from the head of a line as focald writes it
 * ({"seq":N,"prev":"HEX","ts":"…","ts_ms":N,"type":"…), without parsing
 * the rest: false when the line does not start that way (then use
 * audit_log_entry_parse).  For lines a signed checkpoint already covers,
 * whose bytes are focald's own: parsing a whole entry costs about 50 times
 * more, and a verification reads every entry. */
bool audit_log_entry_head(const char *line, size_t len, uint64_t *seq,
			  uint8_t prev[MERKLE_HASH], int64_t *ts_ms);

/* Reads the next line of f into *buf (grown as needed, the caller frees it)
 * without its newline.  Returns 1 and sets *len for a line, 0 at the end of
 * the file, FOCAL_E_LIMIT for a line over AUDIT_ENTRY_MAX, FOCAL_E_IO on a
 * read error.  *torn is set when the line is the last one and lacks its
 * newline (a write cut short by a crash). */
int audit_log_read_line(FILE *f, char **buf, size_t *cap, size_t *len, bool *torn,
			struct focal_err *err);

/* ISO 8601 UTC with milliseconds ("2026-11-23T11:02:03.123Z") of a Unix ms time. */
void audit_log_iso_time(int64_t ms, char out[32]);
/* Wall clock, Unix milliseconds. */
int64_t audit_log_now_ms(void);
/* Parses an ISO time (with or without milliseconds, "Z" or no zone = UTC) or
 * a plain date (yyyy-mm-dd = its midnight UTC) into Unix ms. */
int audit_log_parse_time(const char *s, int64_t *out);

/* The path dir/name (malloc'd). */
char *audit_log_path(const char *dir, const char *name);

#endif
