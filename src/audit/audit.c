/*
 * audit: the `audit:` section and the audit log writer (see audit.h).
 *
 * The writer thread owns the files and the tree state (size, frontier, hash
 * of the last entry, the file offset of the last durable byte); submitters
 * only touch the queue under W.mu.  A failed write or fsync rolls the file
 * back to the last durable offset and the tree to its state before the
 * batch, fails every entry of the batch, and lets the next batch try again:
 * a full disk refuses searches while it is full and no longer than that.  If
 * even the roll-back fails the log is marked broken and every later entry is
 * refused until focald restarts (the start-up check then repairs the tail).
 */
#include "audit/audit.h"

#include <errno.h>
#include <event2/http.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_config.h"
#include "audit/audit_log.h"
#include "audit/audit_status.h"
#include "audit/audit_verify.h"
#include "auth/principal.h"
#include "core/cfgnode.h"
#include "core/config.h"
#include "core/log.h"

/* --- configuration -------------------------------------------------------- */

int audit_config_parse(const struct cfg_node *n, struct audit_config **out, struct focal_err *err)
{
	static const char *const keys[] = { "dir", "key", "checkpoint_ms", "max_pending",
					    "alerts", "sign_every_commit", NULL };
	struct audit_config *c;
	struct cfg_node a;
	int rc;

	*out = NULL;
	if (n == NULL)
		return FOCAL_OK;
	if ((rc = cfg_expect_map(n, "audit", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	c->checkpoint_ms = 1000;
	c->max_pending = 65536;
	c->sign_every_commit = true;
	if ((rc = cfg_get_path(n, "dir", false, &c->dir, err)) != 0 ||
	    (rc = cfg_get_path(n, "key", false, &c->key, err)) != 0 ||
	    (rc = cfg_get_long(n, "checkpoint_ms", false, 10, 1000, &c->checkpoint_ms, err)) != 0 ||
	    (rc = cfg_get_long(n, "max_pending", false, 16, 1 << 22, &c->max_pending, err)) != 0 ||
	    (rc = cfg_get_bool(n, "sign_every_commit", false, &c->sign_every_commit, err)) != 0 ||
	    (rc = audit_misuse_config_parse(cfg_map_get(n, "alerts", &a) ? &a : NULL, &c->misuse,
					    err)) != 0) {
		audit_config_free(c);
		return rc;
	}
	*out = c;
	return FOCAL_OK;
}

void audit_config_free(struct audit_config *c)
{
	if (c == NULL)
		return;
	free(c->dir);
	free(c->key);
	audit_misuse_config_clear(&c->misuse);
	free(c);
}

/* --- the writer ----------------------------------------------------------- */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct audit_ticket *head, *tail;
	size_t pending, max_pending;
	bool running, stop, broken;
	char broken_msg[256];
	int64_t last_ts_ms;   /* entry times never go backwards */
	pthread_t thread;

	/* the writer thread's own, after audit_open */
	int fd, ckfd;
	EVP_PKEY *key;
	char *dir;
	long checkpoint_ms;
	bool every_commit;    /* sign a checkpoint before acknowledging each batch */
	int64_t last_witness_ms; /* the last tree head copied to the service log */
	struct audit_checkpoint last_ckpt; /* the newest, for the witness at close */
	bool witnessed;       /* last_ckpt is in the service log */
	off_t ck_off;         /* end of the last complete checkpoint line */
	bool ck_dirty;        /* checkpoints written since the file's last fdatasync */
	int64_t last_sync_ms; /* when the checkpoint file was last made durable */
	uint64_t size, ckpt_size;
	struct merkle_frontier tree;
	uint8_t last[MERKLE_HASH];
	off_t good_off;
	int64_t last_ckpt_ms;
	char *buf;
	size_t bufcap;
	bool failing; /* the last batch failed */
} W = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = -1, .ckfd = -1,
	.every_commit = true };

static atomic_bool audit_opened;   /* set once: this process keeps an audit log */
static atomic_bool audit_ok = true; /* the last batch succeeded */
static atomic_ullong audit_n_entries, audit_n_fsyncs;

static int audit_buf_add(const char *s, size_t n, size_t *len)
{
	if (*len + n > W.bufcap) {
		size_t ncap = W.bufcap ? W.bufcap : 65536;
		char *nb;

		while (ncap < *len + n)
			ncap *= 2;
		nb = realloc(W.buf, ncap);
		if (nb == NULL)
			return FOCAL_E_NOMEM;
		W.buf = nb;
		W.bufcap = ncap;
	}
	memcpy(W.buf + *len, s, n);
	*len += n;
	return FOCAL_OK;
}

static void audit_ticket_run(struct loop_task *task)
{
	struct audit_ticket *t = (struct audit_ticket *)task;

	t->done(t);
}

static void audit_ticket_deliver(struct audit_ticket *t)
{
	free(t->body);
	t->body = NULL;
	if (t->done == NULL) {
		free(t);
	} else if (t->loop != NULL) {
		t->task.fn = audit_ticket_run;
		loop_post(t->loop, &t->task);
	} else {
		t->done(t);
	}
}

/* Writes one entry as the next line: the writer's members, then the fields
 * the submitter serialised (so jansson's cost is paid on the submitters'
 * threads, not on the one writer); updates the tree state. */
static int audit_writer_line(struct audit_ticket *t, size_t *len)
{
	char prev[2 * MERKLE_HASH + 1], ts[32], head[256];
	size_t start = *len, blen = strlen(t->body);
	int n, rc;

	merkle_hex(W.last, prev);
	audit_log_iso_time(t->ts_ms, ts);
	/* type is checked in audit_submit: [a-z0-9._-] only, no escaping needed */
	n = snprintf(head, sizeof(head), "{\"seq\":%llu,\"prev\":\"%s\",\"ts\":\"%s\",\"ts_ms\":%lld,"
		     "\"type\":\"%s\"%s", (unsigned long long)W.size, prev, ts, (long long)t->ts_ms,
		     t->type, blen > 2 ? "," : "}");
	if (n < 0 || (size_t)n >= sizeof(head))
		return FOCAL_E_INTERNAL;
	if ((size_t)n + blen > AUDIT_ENTRY_MAX)
		return FOCAL_E_LIMIT;
	/* body is "{...}": its members follow the head's */
	rc = audit_buf_add(head, (size_t)n, len);
	if (rc == FOCAL_OK && blen > 2)
		rc = audit_buf_add(t->body + 1, blen - 1, len);
	if (rc != FOCAL_OK)
		return rc;
	/* compact JSON escapes control characters: a line never holds a newline */
	merkle_leaf_hash(W.buf + start, *len - start, W.last);
	merkle_frontier_push(&W.tree, W.last);
	t->seq = W.size++;
	return audit_buf_add("\n", 1, len);
}

static int audit_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A copy of the newest tree head in the service log, where an attacker on
 * this host cannot take it back: the witness against truncation.  Signing
 * every commit makes hundreds of heads a second under load; the service
 * log gets one per checkpoint_ms, and the last one at close. */
static void audit_writer_witness(void)
{
	char root[2 * MERKLE_HASH + 1];

	if (W.witnessed || W.last_ckpt.size == 0)
		return;
	W.witnessed = true;
	W.last_witness_ms = W.last_ckpt.ts_ms;
	merkle_hex(W.last_ckpt.root, root);
	log_emitj(LOG_INFO, "audit_checkpoint", NULL,
		  json_pack("{s:I, s:s, s:I}", "size", (json_int_t)W.last_ckpt.size, "root", root,
			    "ts_ms", (json_int_t)W.last_ckpt.ts_ms));
}

/* Signs the tree head of every entry written so far into the checkpoint
 * file, and with sync makes it durable.  Only after the log's own
 * fdatasync: a checkpoint must never reach the disk before the entries it
 * covers.  Without sync the signature is in the file at once (whoever reads
 * or rewrites the folder meets it) and on the disk at the next sync, at
 * most checkpoint_ms later: a power loss can only leave an unsigned tail,
 * which `focal audit verify` reports as such.  The service log gets a copy
 * of the head (the witness against truncation) at most every checkpoint_ms,
 * and always when the log closes (final). */
static int audit_writer_checkpoint(bool final, bool sync, struct focal_err *err)
{
	struct audit_checkpoint c = { 0 };
	char *line = NULL;
	int rc;

	c.size = W.size;
	c.ts_ms = audit_log_now_ms();
	if (c.ts_ms < W.last_ckpt_ms)
		c.ts_ms = W.last_ckpt_ms; /* checkpoints never go back in time */
	merkle_frontier_root(&W.tree, c.root);
	W.last_ckpt_ms = c.ts_ms;
	rc = audit_log_checkpoint_sign(W.key, &c, err);
	if (rc == FOCAL_OK && (line = audit_log_checkpoint_line(&c)) == NULL)
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	if (rc == FOCAL_OK) {
		size_t n = strlen(line);
		int e = 0;

		line[n] = '\n'; /* replaces the NUL: written with its length */
		if ((e = audit_write_all(W.ckfd, line, n + 1)) != 0 ||
		    (sync && fdatasync(W.ckfd) != 0)) {
			rc = focal_err_set(err, FOCAL_E_IO, "checkpoint file: %s",
					   strerror(e ? -e : errno));
			/* no half line for the next checkpoint to be glued to */
			if (ftruncate(W.ckfd, W.ck_off) != 0)
				log_error("audit_unavailable", "checkpoint file: cannot roll back: %s",
					  strerror(errno));
		} else {
			W.ck_off += (off_t)(n + 1);
			W.ck_dirty = !sync;
			if (sync)
				W.last_sync_ms = c.ts_ms;
		}
	}
	free(line);
	if (rc != FOCAL_OK) {
		/* entries stay durable and chained; only the signature is late.
		 * Retried with the next batch or at the next interval. */
		log_emitj(LOG_ERROR, "audit_unavailable", err->msg,
			  json_pack("{s:s}", "alert", "audit_checkpoint_failed"));
		return rc;
	}
	W.ckpt_size = c.size;
	W.last_ckpt = c;
	W.witnessed = false;
	if (final || c.ts_ms - W.last_witness_ms >= W.checkpoint_ms)
		audit_writer_witness();
	return FOCAL_OK;
}

static void audit_writer_batch(struct audit_ticket *batch, bool final)
{
	struct merkle_frontier saved_tree = W.tree;
	uint8_t saved_last[MERKLE_HASH];
	uint64_t saved_size = W.size;
	size_t len = 0, count = 0;
	const char *why = NULL;
	struct focal_err cerr = { 0 };
	int rc = FOCAL_OK, e = 0;

	memcpy(saved_last, W.last, MERKLE_HASH);
	for (struct audit_ticket *t = batch; t != NULL; t = t->next, count++)
		if (rc == FOCAL_OK && (rc = audit_writer_line(t, &len)) != FOCAL_OK)
			why = rc == FOCAL_E_LIMIT ? "an entry is too large" : "out of memory";
	if (rc == FOCAL_OK && (e = audit_write_all(W.fd, W.buf, len)) != 0)
		why = "write";
	else if (rc == FOCAL_OK && fdatasync(W.fd) != 0)
		e = -errno, why = "fsync";
	atomic_fetch_add(&audit_n_fsyncs, 1);
	if (why == NULL) {
		W.good_off += (off_t)len;
		atomic_fetch_add(&audit_n_entries, count);
		/* every acknowledged entry under a signature: sign before anyone is
		 * told the batch is durable.  If signing fails the entries stay in
		 * the log (durable, chained, signed by a later checkpoint) but the
		 * batch is refused: nothing is acknowledged unsigned (fail closed). */
		if (W.every_commit &&
		    audit_writer_checkpoint(final, final || audit_log_now_ms() - W.last_sync_ms >=
								W.checkpoint_ms, &cerr) != FOCAL_OK) {
			W.failing = true;
			atomic_store(&audit_ok, false);
			for (struct audit_ticket *t = batch; t != NULL; t = t->next) {
				t->rc = FOCAL_E_UNAVAIL;
				snprintf(t->msg, sizeof(t->msg), "the audit log cannot be signed (%s)",
					 cerr.msg);
			}
		} else {
			if (W.failing)
				log_warn("audit_recovered", "the audit log is writable again");
			W.failing = false;
			atomic_store(&audit_ok, true);
		}
	} else {
		char msg[256];

		snprintf(msg, sizeof(msg), "the audit log cannot be written (%s%s%s)", why,
			 e ? ": " : "", e ? strerror(-e) : "");
		/* roll back: nothing of this batch may stay half-written */
		W.tree = saved_tree;
		W.size = saved_size;
		memcpy(W.last, saved_last, MERKLE_HASH);
		if (ftruncate(W.fd, W.good_off) != 0) {
			pthread_mutex_lock(&W.mu);
			W.broken = true;
			snprintf(W.broken_msg, sizeof(W.broken_msg),
				 "%s and cannot be rolled back: restart focald", msg);
			pthread_mutex_unlock(&W.mu);
		}
		/* the alert: every failed batch while it lasts is one line */
		log_emitj(LOG_ERROR, "audit_unavailable", msg,
			  json_pack("{s:s, s:I}", "alert", "audit_unavailable", "entries_refused",
				    (json_int_t)count));
		W.failing = true;
		atomic_store(&audit_ok, false);
		for (struct audit_ticket *t = batch; t != NULL; t = t->next) {
			t->rc = FOCAL_E_UNAVAIL;
			snprintf(t->msg, sizeof(t->msg), "%s", msg);
		}
	}
	while (batch != NULL) {
		struct audit_ticket *next = batch->next;

		audit_ticket_deliver(batch);
		batch = next;
	}
}

/* Makes the checkpoints written since the last sync durable. */
static void audit_writer_ck_sync(void)
{
	if (fdatasync(W.ckfd) != 0) {
		log_emitj(LOG_ERROR, "audit_unavailable", "checkpoint file: cannot sync",
			  json_pack("{s:s, s:s}", "alert", "audit_checkpoint_failed", "error",
				    strerror(errno)));
		return; /* retried at the next interval */
	}
	W.ck_dirty = false;
	W.last_sync_ms = audit_log_now_ms();
}

static void *audit_writer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&W.mu);
	for (;;) {
		struct audit_ticket *batch;
		bool stop;

		while (W.head == NULL && !W.stop) {
			if (W.size != W.ckpt_size || W.ck_dirty) {
				int64_t due = W.last_sync_ms + W.checkpoint_ms;
				struct timespec ts = { (time_t)(due / 1000), (long)(due % 1000) * 1000000 };

				if (pthread_cond_timedwait(&W.cv, &W.mu, &ts) == ETIMEDOUT)
					break;
			} else {
				pthread_cond_wait(&W.cv, &W.mu);
			}
		}
		batch = W.head;
		W.head = W.tail = NULL;
		W.pending = 0;
		stop = W.stop;
		pthread_mutex_unlock(&W.mu);

		if (batch != NULL)
			audit_writer_batch(batch, stop);
		if (stop || audit_log_now_ms() - W.last_sync_ms >= W.checkpoint_ms) {
			struct focal_err err;

			if (W.size != W.ckpt_size)
				(void)audit_writer_checkpoint(stop, true, &err); /* alerted inside */
			else if (W.ck_dirty)
				audit_writer_ck_sync();
		}

		pthread_mutex_lock(&W.mu);
		if (W.stop && W.head == NULL && ((W.size == W.ckpt_size && !W.ck_dirty) || stop))
			break;
	}
	W.running = false;
	pthread_mutex_unlock(&W.mu);
	audit_writer_witness(); /* the closing tree head, if not copied yet */
	return NULL;
}

static bool audit_type_ok(const char *type)
{
	return strlen(type) < sizeof(((struct audit_ticket *)NULL)->type) &&
	       type[strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789._-")] == '\0';
}

int audit_submit(struct audit_ticket *t, const char *type, json_t *fields, struct focal_err *err)
{
	static const char *const reserved[] = { "seq", "prev", "ts", "ts_ms", "type" };
	char *body;

	if (fields == NULL)
		fields = json_object();
	if (!json_is_object(fields) || !audit_type_ok(type)) {
		json_decref(fields);
		return focal_err_set(err, FOCAL_E_INTERNAL, "bad audit entry type or fields");
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		json_object_del(fields, reserved[i]);
	body = json_dumps(fields, JSON_COMPACT);
	json_decref(fields);
	if (body == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	return audit_submit_text(t, type, body, err);
}

int audit_submit_text(struct audit_ticket *t, const char *type, char *body, struct focal_err *err)
{
	int64_t now = audit_log_now_ms();
	size_t blen = body != NULL ? strlen(body) : 0;
	int rc = FOCAL_OK;

	t->body = NULL;
	/* the writer splices the members after its own: an object, nothing else */
	if (body == NULL || !audit_type_ok(type) || blen < 2 || body[0] != '{' ||
	    body[blen - 1] != '}') {
		free(body);
		return focal_err_set(err, FOCAL_E_INTERNAL, "bad audit entry type or fields");
	}
	t->body = body;
	/* refused here, not in the batch, where it would fail the others' entries */
	if (blen > AUDIT_ENTRY_MAX - 256) {
		free(t->body);
		t->body = NULL;
		return focal_err_set(err, FOCAL_E_LIMIT, "audit entry too large");
	}
	snprintf(t->type, sizeof(t->type), "%s", type);
	t->rc = FOCAL_OK;
	t->msg[0] = '\0';
	t->next = NULL;
	pthread_mutex_lock(&W.mu);
	if (!W.running || W.stop)
		rc = focal_err_set(err, FOCAL_E_UNAVAIL, "the audit log is not open");
	else if (W.broken)
		rc = focal_err_set(err, FOCAL_E_UNAVAIL, "%s", W.broken_msg);
	else if (W.pending >= W.max_pending)
		rc = focal_err_set(err, FOCAL_E_UNAVAIL, "the audit log is overloaded (%zu entries "
				   "waiting)", W.pending);
	if (rc != FOCAL_OK) {
		pthread_mutex_unlock(&W.mu);
		free(t->body);
		t->body = NULL;
		return rc;
	}
	if (now < W.last_ts_ms)
		now = W.last_ts_ms;
	W.last_ts_ms = now;
	t->ts_ms = now;
	if (W.tail != NULL)
		W.tail->next = t;
	else
		W.head = t;
	W.tail = t;
	W.pending++;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	return FOCAL_OK;
}

/* --- synchronous entries (start and stop) --------------------------------- */

struct audit_wait {
	struct audit_ticket t;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void audit_wait_done(struct audit_ticket *t)
{
	struct audit_wait *w = (struct audit_wait *)t;

	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int audit_submit_wait(const char *type, json_t *fields, uint64_t *seq, struct focal_err *err)
{
	struct audit_wait w = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	int rc;

	w.t.done = audit_wait_done;
	if ((rc = audit_submit(&w.t, type, fields, err)) != FOCAL_OK)
		return rc;
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	if (seq != NULL)
		*seq = w.t.seq;
	if (w.t.rc != FOCAL_OK)
		return focal_err_set(err, w.t.rc, "%s", w.t.msg);
	return FOCAL_OK;
}

/* --- open and close ------------------------------------------------------- */

static void audit_files_close(void)
{
	if (W.fd >= 0)
		close(W.fd);
	if (W.ckfd >= 0)
		close(W.ckfd);
	W.fd = W.ckfd = -1;
	EVP_PKEY_free(W.key);
	W.key = NULL;
	free(W.dir);
	W.dir = NULL;
	free(W.buf);
	W.buf = NULL;
	W.bufcap = 0;
}

static int audit_open_files(const char *dir, const char *key, bool generate_key,
			    struct audit_verify_result *res, struct focal_err *err)
{
	char *lp = audit_log_path(dir, AUDIT_LOG_NAME), *cp = audit_log_path(dir, AUDIT_CKPT_NAME);
	char *pub = audit_log_path(dir, "audit-key.pub.pem");
	char kid[2 * MERKLE_HASH + 1] = "";
	int rc = FOCAL_OK;

	if (lp == NULL || cp == NULL || pub == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = focal_err_set(err, FOCAL_E_IO, "audit folder %s: %s", dir, strerror(errno));
		goto out;
	}
	if (access(key, F_OK) != 0) {
		if (!generate_key) {
			rc = focal_err_set(err, FOCAL_E_CONFIG,
					   "audit signing key %s does not exist: create it with "
					   "`focal audit keygen %s`", key, key);
			goto out;
		}
		if ((rc = audit_log_keygen(key, pub, err)) != FOCAL_OK)
			goto out;
		log_warn("audit_keygen", "generated the audit signing key %s (public key %s): give "
			 "the public key to the auditors, they verify the log with it", key, pub);
	}
	if ((rc = audit_log_key_private(key, &W.key, err)) != FOCAL_OK)
		goto out;
	W.fd = open(lp, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (W.fd < 0) {
		rc = focal_err_set(err, FOCAL_E_IO, "audit log %s: %s", lp, strerror(errno));
		goto out;
	}
	/* two writers would interleave two chains into garbage */
	if (flock(W.fd, LOCK_EX | LOCK_NB) != 0) {
		rc = focal_err_set(err, FOCAL_E_IO, "audit log %s is in use by another process", lp);
		goto out;
	}
	W.ckfd = open(cp, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (W.ckfd < 0) {
		rc = focal_err_set(err, FOCAL_E_IO, "audit checkpoints %s: %s", cp, strerror(errno));
		goto out;
	}
	/* what is there must be intact before anything is added to it */
	if ((rc = audit_verify_dir(dir, W.key, false, res, err)) != FOCAL_OK) {
		focal_err_prefix(err, "the audit log in %s failed verification (run `focal audit "
				 "verify --log %s`; to start a new log, move that folder aside)",
				 dir, dir);
		goto out;
	}
	if (res->torn_tail) {
		/* a crash cut the last line short: it was never acknowledged */
		if (ftruncate(W.fd, res->good_bytes) != 0) {
			rc = focal_err_set(err, FOCAL_E_IO, "audit log %s: %s", lp, strerror(errno));
			goto out;
		}
		log_warn("audit_recovered", "removed an incomplete last line from %s (a write cut "
			 "short by a crash; never acknowledged)", lp);
	}
	audit_log_key_id(W.key, kid);
	log_info("audit_open", "audit log %s: %llu entries, %llu checkpoints, key %.16s", dir,
		 (unsigned long long)res->entries, (unsigned long long)res->checkpoints, kid);
out:
	free(lp);
	free(cp);
	free(pub);
	return rc;
}

/* The end of the checkpoint file's last complete line: a crash may have cut
 * the last checkpoint short (verify skips it), and the next one must not be
 * glued to it.  Cuts the file there. */
static off_t audit_ckpt_tail(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END), pos = end;
	char buf[512];

	while (pos > 0) {
		size_t n = pos >= (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
		ssize_t got = pread(fd, buf, n, pos - (off_t)n);

		if (got != (ssize_t)n)
			return end; /* unreadable: leave it for verify to judge */
		for (size_t i = n; i > 0; i--)
			if (buf[i - 1] == '\n') {
				off_t keep = pos - (off_t)n + (off_t)i;

				if (keep != end && ftruncate(fd, keep) != 0)
					return end;
				return keep;
			}
		pos -= (off_t)n;
	}
	if (end > 0 && ftruncate(fd, 0) != 0)
		return end;
	return 0;
}

int audit_open_dir(const char *dir, const char *key, bool generate_key, long checkpoint_ms,
		   struct focal_err *err)
{
	struct audit_verify_result res;
	int rc;

	if (W.running)
		return focal_err_set(err, FOCAL_E_INTERNAL, "the audit log is already open");
	/* a file size limit must fail the write (EFBIG), not kill the daemon */
	signal(SIGXFSZ, SIG_IGN);
	W.dir = strdup(dir);
	if (W.dir == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	if ((rc = audit_open_files(dir, key, generate_key, &res, err)) != FOCAL_OK) {
		audit_files_close();
		return rc;
	}
	W.size = W.ckpt_size = res.entries;
	W.tree = res.tree;
	memcpy(W.last, res.last, MERKLE_HASH);
	W.good_off = res.good_bytes;
	W.last_ts_ms = res.last_ts_ms;
	W.last_ckpt_ms = res.signed_ts_ms;
	/* entries after the newest checkpoint are signed at once */
	if (res.signed_size != res.entries)
		W.ckpt_size = res.signed_size;
	W.checkpoint_ms = checkpoint_ms > 0 ? checkpoint_ms : 1000;
	W.ck_off = audit_ckpt_tail(W.ckfd);
	W.ck_dirty = false;
	W.last_sync_ms = res.signed_ts_ms;
	W.last_ckpt.size = 0;
	W.witnessed = true;
	W.last_witness_ms = 0;
	if (W.max_pending == 0)
		W.max_pending = 65536;
	W.stop = W.broken = W.failing = false;
	atomic_store(&audit_ok, true);
	W.running = true;
	if (pthread_create(&W.thread, NULL, audit_writer_main, NULL) != 0) {
		W.running = false;
		audit_files_close();
		return focal_err_set(err, FOCAL_E_INTERNAL, "cannot start the audit writer");
	}
	atomic_store(&audit_opened, true);
	/* proves the log is writable now, and marks where this run begins */
	rc = audit_submit_wait("audit.start",
			       json_pack("{s:I, s:I, s:b}", "entries_before", (json_int_t)res.entries,
					 "signed_before", (json_int_t)res.signed_size, "recovered",
					 res.torn_tail),
			       NULL, err);
	if (rc != FOCAL_OK) {
		focal_err_prefix(err, "audit log %s", dir);
		audit_close();
	}
	return rc;
}

int audit_open(const struct config *cfg, struct focal_err *err)
{
	const struct audit_config *ac = cfg->audit;
	char *dir = NULL, *key = NULL;
	int rc;

	if (ac != NULL && ac->dir != NULL) {
		dir = strdup(ac->dir);
	} else {
		/* default: "audit" next to the configuration file */
		const char *slash = strrchr(cfg->path, '/');
		size_t n = slash ? (size_t)(slash - cfg->path) : 1;

		dir = malloc(n + 7);
		if (dir != NULL)
			snprintf(dir, n + 7, "%.*s/audit", (int)n, slash ? cfg->path : ".");
	}
	if (dir == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	key = ac != NULL && ac->key != NULL ? strdup(ac->key) : audit_log_path(dir, "audit-key.pem");
	if (key == NULL) {
		free(dir);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	W.max_pending = ac != NULL ? (size_t)ac->max_pending : 65536;
	W.every_commit = ac != NULL ? ac->sign_every_commit : true;
	if (ac == NULL || ac->key == NULL)
		log_warn("audit_key_default", "the audit signing key lives in the log folder %s: "
			 "whoever can rewrite the folder can also re-sign it. For production, set "
			 "audit.key to a key only focald can read and keep the public key with the "
			 "auditors (docs/audit.md)", dir);
	/* a key named in the configuration must exist; the default one is made */
	rc = audit_open_dir(dir, key, ac == NULL || ac->key == NULL,
			    ac != NULL ? ac->checkpoint_ms : 1000, err);
	free(dir);
	free(key);
	return rc;
}

void audit_close(void)
{
	struct focal_err err;

	if (!W.running)
		return;
	audit_status_reset(); /* the status state belongs to this log and key */
	if (!W.broken)
		(void)audit_submit_wait("audit.stop", NULL, NULL, &err);
	pthread_mutex_lock(&W.mu);
	W.stop = true;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	pthread_join(W.thread, NULL);
	/* entries queued after stop was set (none in an orderly shutdown) */
	while (W.head != NULL) {
		struct audit_ticket *t = W.head;

		W.head = t->next;
		t->rc = FOCAL_E_UNAVAIL;
		snprintf(t->msg, sizeof(t->msg), "the audit log was closed");
		audit_ticket_deliver(t);
	}
	W.tail = NULL;
	W.pending = 0;
	audit_files_close();
}

/* --- events, helpers ------------------------------------------------------ */

json_t *audit_principal_json(const struct auth_principal *who)
{
	json_t *o, *roles;

	if (who == NULL)
		return json_pack("{s:n}", "user");
	roles = json_array();
	for (size_t i = 0; i < who->nroles && i < PRINCIPAL_MAX_ROLES; i++)
		json_array_append_new(roles, json_string(who->roles[i]));
	o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:b, s:s, s:s, s:s, s:s}", "user", who->user,
		      "name", who->name, "unit", who->unit, "roles", roles, "clearance",
		      classification_name(who->clearance), "mfa", who->mfa, "device", who->device,
		      "addr", who->addr, "session", who->session_id, "issuer", who->issuer);
	return o;
}

int audit_event(const char *type, const struct auth_principal *who, json_t *fields,
		struct focal_err *err)
{
	struct audit_ticket *t;

	if (fields == NULL)
		fields = json_object();
	if (!atomic_load(&audit_opened)) {
		json_object_set_new(fields, "audit_type", json_string(type));
		json_object_set_new(fields, "user", json_string(who != NULL ? who->user : ""));
		log_emitj(LOG_INFO, "audit", type, fields);
		return FOCAL_OK;
	}
	/* security events also go to the service log, where a SIEM reads them in
	 * real time; the audit log is the durable, tamper-evident record */
	log_emitj(LOG_INFO, "audit", type,
		  json_pack("{s:s, s:s, s:O}", "audit_type", type, "user",
			    who != NULL ? who->user : "", "details", fields));
	json_object_set_new(fields, "who", audit_principal_json(who));
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		json_decref(fields);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	if (audit_submit(t, type, fields, err) != FOCAL_OK) {
		free(t);
		log_emitj(LOG_ERROR, "audit_unavailable", err->msg,
			  json_pack("{s:s, s:s}", "alert", "audit_unavailable", "event", type));
		return err->code;
	}
	return FOCAL_OK;
}

bool audit_healthy(void)
{
	bool ok;

	pthread_mutex_lock(&W.mu);
	ok = W.running && !W.broken && !W.stop;
	pthread_mutex_unlock(&W.mu);
	return ok && atomic_load(&audit_ok);
}

void audit_stats(uint64_t *entries, uint64_t *fsyncs)
{
	*entries = atomic_load(&audit_n_entries);
	*fsyncs = atomic_load(&audit_n_fsyncs);
}

void audit_reply_unavailable(struct evhttp_request *req, const char *msg)
{
	reply_json(req, 503, "Service Unavailable",
		   json_pack("{s:{s:s, s:s}}", "error", "code", "audit_unavailable", "message", msg));
}

void audit_set_sign_every_commit(bool on)
{
	W.every_commit = on;
}

const char *audit_dir(void)
{
	return W.running ? W.dir : NULL;
}

EVP_PKEY *audit_signing_key(void)
{
	return W.running ? W.key : NULL;
}
