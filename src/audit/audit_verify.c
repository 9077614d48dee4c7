/*
 * audit_verify: offline verification of an audit log (see audit_verify.h).
 */
#include "audit/audit_verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit_log.h"

struct ckpt_list {
	struct audit_checkpoint *c;
	long *start, *end; /* each line's offsets in the file */
	size_t n, cap;
};

static void ckpt_list_free(struct ckpt_list *l)
{
	free(l->c);
	free(l->start);
	free(l->end);
}

static int ckpt_list_add(struct ckpt_list *l, const struct audit_checkpoint *c, long start,
			 long end)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct audit_checkpoint *nc = realloc(l->c, ncap * sizeof(*nc));
		long *ns, *ne;

		if (nc == NULL)
			return FOCAL_E_NOMEM;
		l->c = nc;
		if ((ns = realloc(l->start, ncap * sizeof(*ns))) == NULL)
			return FOCAL_E_NOMEM;
		l->start = ns;
		if ((ne = realloc(l->end, ncap * sizeof(*ne))) == NULL)
			return FOCAL_E_NOMEM;
		l->end = ne;
		l->cap = ncap;
	}
	l->c[l->n] = *c;
	l->start[l->n] = start;
	l->end[l->n] = end;
	l->n++;
	return FOCAL_OK;
}

/* Reads the checkpoints from f's position on.  floor (may be NULL) is the
 * newest checkpoint read before (a resumed verification), first_line the
 * number of the first line read (for messages). */
static int audit_verify_checkpoints(FILE *f, EVP_PKEY *pub, const struct audit_checkpoint *floor,
				    uint64_t first_line, struct ckpt_list *l, struct focal_err *err)
{
	char *buf = NULL;
	size_t cap = 0, len;
	bool torn;
	int rc;

	for (uint64_t lineno = first_line;; lineno++) {
		struct audit_checkpoint c;
		const struct audit_checkpoint *before = l->n > 0 ? &l->c[l->n - 1] : floor;
		long start = ftell(f);

		rc = audit_log_read_line(f, &buf, &cap, &len, &torn, err);
		if (rc <= 0)
			break;
		if (torn)
			continue; /* a checkpoint cut short by a crash was never relied on */
		if ((rc = audit_log_checkpoint_parse(buf, len, &c, err)) != FOCAL_OK) {
			focal_err_prefix(err, "checkpoint %llu", (unsigned long long)lineno);
			break;
		}
		if (!audit_log_checkpoint_valid(pub, &c)) {
			rc = focal_err_set(err, FOCAL_E_INVAL,
					   "checkpoint %llu (size %llu): the signature is not valid "
					   "for this public key", (unsigned long long)lineno,
					   (unsigned long long)c.size);
			break;
		}
		if (before != NULL && (c.size < before->size || c.ts_ms < before->ts_ms)) {
			rc = focal_err_set(err, FOCAL_E_INVAL,
					   "checkpoint %llu (size %llu) goes back from the one before "
					   "(size %llu): checkpoints were reordered or the log was rolled back",
					   (unsigned long long)lineno, (unsigned long long)c.size,
					   (unsigned long long)before->size);
			break;
		}
		if (ckpt_list_add(l, &c, start, ftell(f)) != FOCAL_OK) {
			rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			break;
		}
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

void audit_verify_mark_init(struct audit_verify_mark *mark)
{
	memset(mark, 0, sizeof(*mark));
	merkle_frontier_init(&mark->tree);
}

/* The checkpoint ci of cl matched the tree at res->entries: the mark a later
 * resume would start from. */
static void audit_verify_mark_at(struct audit_verify_mark *m, const struct audit_verify_mark *from,
				 const struct ckpt_list *cl, size_t ci,
				 const struct audit_verify_result *res, long last_off,
				 const uint8_t prev2[MERKLE_HASH])
{
	m->entries = res->entries;
	m->log_off = res->good_bytes;
	m->last_off = last_off;
	memcpy(m->last, res->last, MERKLE_HASH);
	memcpy(m->prev2, prev2, MERKLE_HASH);
	m->last_ts_ms = res->last_ts_ms;
	m->tree = res->tree;
	m->checkpoints = from->checkpoints + ci + 1;
	m->ckpt_off = cl->end[ci];
	m->ckpt_last_off = cl->start[ci];
	m->newest = cl->c[ci];
}

static void audit_verify_file_id(FILE *f, unsigned long long *dev, unsigned long long *ino)
{
	struct stat st;

	*dev = *ino = 0;
	if (f != NULL && fstat(fileno(f), &st) == 0) {
		*dev = (unsigned long long)st.st_dev;
		*ino = (unsigned long long)st.st_ino;
	}
}

/* From mark (NULL: from the start) to the end of the files. */
static int audit_verify_run(FILE *log, FILE *ckpts, EVP_PKEY *pub, bool keep_leaves,
			    struct audit_verify_mark *mark, struct audit_verify_result *res,
			    struct focal_err *err)
{
	struct audit_verify_mark start, next;
	struct ckpt_list cl = { 0 };
	uint8_t prev2[MERKLE_HASH];         /* hash of the entry before the last */
	uint64_t good_ckpt;                 /* size of the newest checkpoint matched */
	uint64_t mismatch = 0;              /* size of a checkpoint that did not match, or 0 */
	size_t ci = 0, leaves_cap = 0, cap = 0, len;
	long last_off;                      /* offset of the last entry read */
	bool moved = false;                 /* next holds a newer mark */
	char *buf = NULL;
	bool torn;
	int rc;

	if (mark != NULL)
		start = *mark;
	else
		audit_verify_mark_init(&start);
	memset(res, 0, sizeof(*res));
	res->bad_entry = -1;
	res->entries = start.entries;
	res->good_bytes = start.log_off;
	res->tree = start.tree;
	res->last_ts_ms = start.last_ts_ms;
	memcpy(res->last, start.last, MERKLE_HASH);
	memcpy(prev2, start.prev2, MERKLE_HASH);
	good_ckpt = start.entries;
	last_off = start.last_off;
	/* a full run reads the streams from where they are (they may be pipes) */
	if (mark != NULL && (fseek(log, start.log_off, SEEK_SET) != 0 ||
			     (ckpts != NULL && fseek(ckpts, start.ckpt_off, SEEK_SET) != 0))) {
		rc = focal_err_set(err, FOCAL_E_IO, "cannot seek in the audit log: %s",
				   strerror(errno));
		goto out;
	}
	if (ckpts != NULL &&
	    (rc = audit_verify_checkpoints(ckpts, pub, start.checkpoints ? &start.newest : NULL,
					   start.checkpoints + 1, &cl, err)) != FOCAL_OK)
		goto out;
	res->checkpoints = start.checkpoints + cl.n;
	res->signed_size = cl.n > 0 ? cl.c[cl.n - 1].size : start.newest.size;
	res->signed_ts_ms = cl.n > 0 ? cl.c[cl.n - 1].ts_ms : start.newest.ts_ms;
	memcpy(res->signed_root, cl.n > 0 ? cl.c[cl.n - 1].root : start.newest.root, MERKLE_HASH);
	/* checkpoints of an empty tree carry nothing to compare */
	while (ci < cl.n && cl.c[ci].size == 0)
		ci++;
	/* a resumed run: a new checkpoint may sign the tree the mark holds */
	for (; ci < cl.n && res->entries > 0 && cl.c[ci].size == res->entries; ci++) {
		uint8_t root[MERKLE_HASH];

		merkle_frontier_root(&res->tree, root);
		if (memcmp(root, cl.c[ci].root, MERKLE_HASH) != 0) {
			rc = focal_err_set(err, FOCAL_E_INVAL,
					   "checkpoint %llu (size %llu) does not match entries 0 to %llu, "
					   "which an earlier checkpoint signed",
					   (unsigned long long)(start.checkpoints + ci + 1),
					   (unsigned long long)cl.c[ci].size,
					   (unsigned long long)res->entries - 1);
			goto out;
		}
		audit_verify_mark_at(&next, &start, &cl, ci, res, last_off, prev2);
		moved = true;
	}
	for (;;) {
		uint8_t prev[MERKLE_HASH], h[MERKLE_HASH];
		uint64_t i = res->entries, seq;
		int64_t ts_ms = 0;
		json_t *doc = NULL;
		long line_off = ftell(log);

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
		/* below the newest signed size the bytes are focald's own, or the
		 * checkpoint will say otherwise: the head is enough */
		if (i < res->signed_size && audit_log_entry_head(buf, len, &seq, prev, &ts_ms))
			rc = FOCAL_OK;
		else if ((rc = audit_log_entry_parse(buf, len, &doc, &seq, prev, err)) == FOCAL_OK)
			ts_ms = (int64_t)json_integer_value(json_object_get(doc, "ts_ms"));
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
		res->last_ts_ms = ts_ms;
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
		last_off = line_off;
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
			audit_verify_mark_at(&next, &start, &cl, ci, res, last_off, prev2);
			moved = true;
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
	if (mark != NULL) {
		if (moved)
			*mark = next;
		audit_verify_file_id(log, &mark->log_dev, &mark->log_ino);
		audit_verify_file_id(ckpts, &mark->ckpt_dev, &mark->ckpt_ino);
	}
out:
	free(buf);
	ckpt_list_free(&cl);
	if (rc != FOCAL_OK || !keep_leaves) {
		free(res->leaves);
		res->leaves = NULL;
	}
	return rc;
}

int audit_verify_streams(FILE *log, FILE *ckpts, EVP_PKEY *pub, bool keep_leaves,
			 struct audit_verify_result *res, struct focal_err *err)
{
	return audit_verify_run(log, ckpts, pub, keep_leaves, NULL, res, err);
}

int audit_verify_resume(FILE *log, FILE *ckpts, EVP_PKEY *pub, struct audit_verify_mark *mark,
			struct audit_verify_result *res, struct focal_err *err)
{
	return audit_verify_run(log, ckpts, pub, false, mark, res, err);
}

/* True when f is the file (dev, ino) and at least size bytes long. */
static bool audit_verify_same_file(FILE *f, unsigned long long dev, unsigned long long ino,
				   long size)
{
	struct stat st;

	return f != NULL && fstat(fileno(f), &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino && st.st_size >= (off_t)size;
}

/* Reads the complete line at off of f into *buf; false unless it ends at end. */
static bool audit_verify_line_at(FILE *f, long off, long end, char **buf, size_t *cap,
				 size_t *len)
{
	struct focal_err err;
	bool torn;

	return fseek(f, off, SEEK_SET) == 0 &&
	       audit_log_read_line(f, buf, cap, len, &torn, &err) == 1 && !torn &&
	       ftell(f) == end;
}

bool audit_verify_mark_holds(FILE *log, FILE *ckpts, const struct audit_verify_mark *mark)
{
	char *buf = NULL;
	size_t cap = 0, len;
	bool ok = true;

	if (mark->entries == 0 && mark->checkpoints == 0)
		return true; /* nothing was taken as verified */
	if (!audit_verify_same_file(log, mark->log_dev, mark->log_ino, mark->log_off))
		return false;
	if (mark->entries > 0) {
		uint8_t h[MERKLE_HASH];

		ok = audit_verify_line_at(log, mark->last_off, mark->log_off, &buf, &cap, &len);
		if (ok) {
			merkle_leaf_hash(buf, len, h);
			ok = memcmp(h, mark->last, MERKLE_HASH) == 0;
		}
	}
	if (ok && mark->checkpoints > 0) {
		struct audit_checkpoint c;
		struct focal_err err;

		ok = audit_verify_same_file(ckpts, mark->ckpt_dev, mark->ckpt_ino, mark->ckpt_off) &&
		     audit_verify_line_at(ckpts, mark->ckpt_last_off, mark->ckpt_off, &buf, &cap,
					  &len) &&
		     audit_log_checkpoint_parse(buf, len, &c, &err) == FOCAL_OK &&
		     c.size == mark->newest.size && c.ts_ms == mark->newest.ts_ms &&
		     memcmp(c.root, mark->newest.root, MERKLE_HASH) == 0 &&
		     memcmp(c.sig, mark->newest.sig, AUDIT_SIG_LEN) == 0;
	}
	free(buf);
	return ok;
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
