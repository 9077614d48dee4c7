/*
 * fuzz_audit_log: libFuzzer harness for the audit log reader that
 * `focal audit verify` and focald's start-up check run over files an
 * attacker may have edited (src/audit/audit_verify.c, audit_log.c).
 *
 * Input: the bytes of audit.log, optionally followed by "\n--checkpoints--\n"
 * and the bytes of checkpoints.log.  Both are read through the same stream
 * reader as the real files (fmemopen), verified against a fixed Ed25519 key,
 * and every line is also given to the entry and checkpoint parsers alone.
 *
 * Contract checked besides the sanitizers: a verdict is OK (no bad entry,
 * no more entries than lines) or an error with a message; the tree state
 * matches the entries counted; the resumable form (audit_verify_resume)
 * agrees with it, and resuming from its mark finds the same log.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_log.h"
#include "audit/audit_verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const unsigned char seed[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
						17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
						30, 31, 32 };

	(void)argc;
	(void)argv;
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	return key == NULL;
}

static void each_line(const uint8_t *data, size_t size)
{
	size_t start = 0;

	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			struct audit_checkpoint c;
			uint8_t prev[MERKLE_HASH];
			uint64_t seq;
			json_t *doc = NULL;

			if (audit_log_entry_parse((const char *)data + start, i - start, &doc, &seq, prev,
						  NULL) == FOCAL_OK && doc == NULL)
				abort();
			json_decref(doc);
			(void)audit_log_checkpoint_parse((const char *)data + start, i - start, &c, NULL);
			start = i + 1;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n--checkpoints--\n";
	const uint8_t *ck = NULL;
	size_t logn = size, ckn = 0, lines = 0;
	struct audit_verify_result res;
	struct focal_err err = { 0 };
	FILE *lf, *cf = NULL;
	int rc;

	if (size > 1 << 20)
		return 0;
	for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++)
		if (memcmp(data + i, sep, sizeof(sep) - 1) == 0) {
			logn = i + 1; /* the log keeps its last newline */
			ck = data + i + sizeof(sep) - 1;
			ckn = size - i - (sizeof(sep) - 1);
			break;
		}
	each_line(data, logn);
	for (size_t i = 0; i < logn; i++)
		lines += data[i] == '\n';
	/* fmemopen of zero bytes is not portable: an empty file is an empty string */
	lf = fmemopen(logn ? (void *)data : (void *)"", logn ? logn : 1, "r");
	if (lf == NULL)
		return 0;
	if (logn == 0)
		(void)getc(lf);
	if (ck != NULL && ckn > 0)
		cf = fmemopen((void *)ck, ckn, "r");
	rc = audit_verify_streams(lf, cf, key, true, &res, &err);
	if (rc == FOCAL_OK) {
		if (res.bad_entry != -1 || res.entries > lines || res.tree.size != res.entries ||
		    (res.entries > 0 && res.leaves == NULL))
			abort();
	} else if (err.msg[0] == '\0' || res.leaves != NULL) {
		abort();
	}
	free(res.leaves);
	/* the incremental form (GET /v1/audit/status): from a fresh mark it
	 * agrees with the full run, and resumed from the mark it leaves, over
	 * the same bytes, it finds the same log again */
	if (logn > 0) {
		struct audit_verify_result r1, r2;
		struct audit_verify_mark m;
		int rc1, rc2;

		audit_verify_mark_init(&m);
		rc1 = audit_verify_resume(lf, cf, key, &m, &r1, &err);
		if ((rc1 == FOCAL_OK) != (rc == FOCAL_OK) || r1.entries != res.entries)
			abort();
		if (rc1 == FOCAL_OK) {
			if (m.entries > r1.entries || m.entries != r1.signed_size)
				abort();
			rc2 = audit_verify_resume(lf, cf, key, &m, &r2, &err);
			if (rc2 != FOCAL_OK || r2.entries != r1.entries ||
			    r2.signed_size != r1.signed_size ||
			    memcmp(r2.signed_root, r1.signed_root, MERKLE_HASH) != 0 ||
			    memcmp(r2.last, r1.last, MERKLE_HASH) != 0)
				abort();
		}
	}
	fclose(lf);
	if (cf != NULL)
		fclose(cf);
	return 0;
}
