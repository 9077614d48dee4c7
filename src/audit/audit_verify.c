/*
 * audit_verify: offline verification of an audit log (see audit_verify.h).
 */
#include "audit/audit_verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_log.h"

struct ckpt_list {
	struct audit_checkpoint *c;
	size_t n, cap;
};

static int audit_verify_checkpoints(FILE *f, EVP_PKEY *pub, struct ckpt_list *l,
				    struct focal_err *err)
{
	char *buf = NULL;
	size_t cap = 0, len;
	bool torn;
	int rc;

	for (size_t lineno = 1;; lineno++) {
		struct audit_checkpoint c;

		rc = audit_log_read_line(f, &buf, &cap, &len, &torn, err);
		if (rc <= 0)
			break;
		if (torn)
			continue; /* a checkpoint cut short by a crash was never relied on */
		if ((rc = audit_log_checkpoint_parse(buf, len, &c, err)) != FOCAL_OK) {
			focal_err_prefix(err, "checkpoint %zu", lineno);
			break;
		}
		if (!audit_log_checkpoint_valid(pub, &c)) {
			rc = focal_err_set(err, FOCAL_E_INVAL,
					   "checkpoint %zu (size %llu): the signature is not valid "
					   "for this public key", lineno, (unsigned long long)c.size);
			break;
		}
		if (l->n > 0 && (c.size < l->c[l->n - 1].size || c.ts_ms < l->c[l->n - 1].ts_ms)) {
			rc = focal_err_set(err, FOCAL_E_INVAL,
					   "checkpoint %zu (size %llu) goes back from the one before "
					   "(size %llu): checkpoints were reordered or the log was rolled back",
					   lineno, (unsigned long long)c.size,
					   (unsigned long long)l->c[l->n - 1].size);
			break;
		}
		if (l->n == l->cap) {
			size_t ncap = l->cap ? l->cap * 2 : 64;
			struct audit_checkpoint *nc = realloc(l->c, ncap * sizeof(*nc));

			if (nc == NULL) {
				rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
				break;
			}
			l->c = nc;
			l->cap = ncap;
		}
		l->c[l->n++] = c;
	}
	free(buf);
	return rc < 0 ? rc : FOCAL_OK;
}

/* Appends h to res->leaves (grown by doubling). */
static int audit_verify_keep(struct audit_verify_result *res, size_t *cap,
			     const uint8_t h[MERKLE_HASH])
{
	if (res->entries == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		uint8_t *nl = realloc(res->leaves, ncap * MERKLE_HASH);

		if (nl == NULL)
			return FOCAL_E_NOMEM;
		res->leaves = nl;
		*cap = ncap;
	}
	memcpy(res->leaves + res->entries * MERKLE_HASH, h, MERKLE_HASH);
	return FOCAL_OK;
}

int audit_verify_streams(FILE *log, FILE *ckpts, EVP_PKEY *pub, bool keep_leaves,
			 struct audit_verify_result *res, struct focal_err *err)
{
	struct ckpt_list cl = { 0 };
	uint8_t prev2[MERKLE_HASH] = { 0 }; /* hash of the entry before the last */
	uint64_t good_ckpt = 0;             /* size of the newest checkpoint matched */
	uint64_t mismatch = 0;              /* size of a checkpoint that did not match, or 0 */
	size_t ci = 0, leaves_cap = 0, cap = 0, len;
	char *buf = NULL;
	bool torn;
	int rc;

	memset(res, 0, sizeof(*res));
	res->bad_entry = -1;
	merkle_frontier_init(&res->tree);
	if (ckpts != NULL && (rc = audit_verify_checkpoints(ckpts, pub, &cl, err)) != FOCAL_OK)
		goto out;
	res->checkpoints = cl.n;
	if (cl.n > 0) {
		res->signed_size = cl.c[cl.n - 1].size;
		res->signed_ts_ms = cl.c[cl.n - 1].ts_ms;
	}
	/* checkpoints of an empty tree carry nothing to compare */
	while (ci < cl.n && cl.c[ci].size == 0)
		ci++;
	for (;;) {
		uint8_t prev[MERKLE_HASH], h[MERKLE_HASH];
		uint64_t i = res->entries, seq;
		json_t *doc = NULL;

		rc = audit_log_read_line(log, &buf, &cap, &len, &torn, err);
		if (rc == 0)
			break;
		if (rc < 0) {
			res->bad_entry = (int64_t)i;
			focal_err_prefix(err, "entry %llu", (unsigned long long)i);
			if (rc == FOCAL_E_LIMIT)
				rc = FOCAL_E_INVAL;
			goto out;
		}
		if (torn) {
			res->torn_tail = true;
			break; /* judged below against the signed size */
		}
		rc = audit_log_entry_parse(buf, len, &doc, &seq, prev, err);
		if (rc != FOCAL_OK) {
			res->bad_entry = (int64_t)i;
			focal_err_prefix(err, "entry %llu is damaged", (unsigned long long)i);
			goto out;
		}
		if (seq != i) {
			/* an entry that links to the one two places back follows an
			 * entry inserted before it */
			bool inserted = i >= 2 && memcmp(prev, prev2, MERKLE_HASH) == 0;

			res->bad_entry = (int64_t)(inserted ? i - 1 : i);
			rc = focal_err_set(err, FOCAL_E_INVAL,
					   "entry %lld: %s (line %llu says seq %llu)",
					   (long long)res->bad_entry,
					   inserted ? "an entry was inserted here"
						    : "missing, moved or inserted: the sequence breaks",
					   (unsigned long long)i + 1, (unsigned long long)seq);
			json_decref(doc);
			goto out;
		}
		if (memcmp(prev, res->last, MERKLE_HASH) != 0) {
			res->bad_entry = i == 0 ? 0 : (int64_t)(i - 1);
			rc = focal_err_set(err, FOCAL_E_INVAL,
					   i == 0 ? "entry 0: its prev link is not the zero hash"
						  : "entry %lld was modified: its hash no longer matches "
						    "the link recorded by entry %llu",
					   (long long)res->bad_entry, (unsigned long long)i);
			json_decref(doc);
			goto out;
		}
		if (mismatch != 0) {
			json_decref(doc);
			break;
		}
		res->last_ts_ms = (int64_t)json_integer_value(json_object_get(doc, "ts_ms"));
		json_decref(doc);
		merkle_leaf_hash(buf, len, h);
		if (keep_leaves && audit_verify_keep(res, &leaves_cap, h) != FOCAL_OK) {
			rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(prev2, res->last, MERKLE_HASH);
		memcpy(res->last, h, MERKLE_HASH);
		merkle_frontier_push(&res->tree, h);
		res->entries++;
		res->good_bytes = ftell(log);
		for (; ci < cl.n && cl.c[ci].size == res->entries; ci++) {
			uint8_t root[MERKLE_HASH];

			merkle_frontier_root(&res->tree, root);
			if (memcmp(root, cl.c[ci].root, MERKLE_HASH) != 0) {
				/* reported after the next entry: if its link shows which
				 * entry changed, that is the more precise answer */
				mismatch = res->entries;
				break;
			}
			good_ckpt = res->entries;
		}
	}
	if (mismatch != 0) {
		res->bad_entry = (int64_t)good_ckpt;
		rc = focal_err_set(err, FOCAL_E_INVAL,
				   "entry %llu: entries %llu to %llu do not match the signed "
				   "checkpoint of size %llu (one of them was modified, inserted, "
				   "deleted or moved and the chain rewritten)",
				   (unsigned long long)good_ckpt, (unsigned long long)good_ckpt,
				   (unsigned long long)mismatch - 1, (unsigned long long)mismatch);
		goto out;
	}
	if (res->entries < res->signed_size) {
		res->bad_entry = (int64_t)res->entries;
		rc = focal_err_set(err, FOCAL_E_INVAL,
				   "entry %llu: the log was truncated: it has %llu entries, the "
				   "signed checkpoint of size %llu covers entries up to %llu",
				   (unsigned long long)res->entries, (unsigned long long)res->entries,
				   (unsigned long long)res->signed_size,
				   (unsigned long long)res->signed_size - 1);
		goto out;
	}
	rc = FOCAL_OK;
out:
	free(buf);
	free(cl.c);
	if (rc != FOCAL_OK || !keep_leaves) {
		free(res->leaves);
		res->leaves = NULL;
	}
	return rc;
}

int audit_verify_dir(const char *dir, EVP_PKEY *pub, bool keep_leaves,
		     struct audit_verify_result *res, struct focal_err *err)
{
	char *lp = audit_log_path(dir, AUDIT_LOG_NAME), *cp = audit_log_path(dir, AUDIT_CKPT_NAME);
	FILE *log = NULL, *ck = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	res->bad_entry = -1;
	if (lp == NULL || cp == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	log = fopen(lp, "r");
	if (log == NULL) {
		rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", lp, strerror(errno));
		goto out;
	}
	ck = fopen(cp, "r");
	if (ck == NULL && errno != ENOENT) {
		rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", cp, strerror(errno));
		goto out;
	}
	rc = audit_verify_streams(log, ck, pub, keep_leaves, res, err);
out:
	if (log != NULL)
		fclose(log);
	if (ck != NULL)
		fclose(ck);
	free(lp);
	free(cp);
	return rc;
}
