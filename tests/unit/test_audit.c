/*
 * test_audit: the audit log (src/audit): RFC 9162 Merkle hashing and proofs
 * against published known answers and an independent recursive reference
 * written here from the RFC's definitions; checkpoint signatures; the writer's
 * group commit under many threads; fail closed when the file cannot grow;
 * and offline verification of a real log after each kind of tampering,
 * naming the first bad entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_config.h"
#include "core/config.h"
#include "audit/audit_log.h"
#include "audit/audit_misuse.h"
#include "audit/audit_query.h"
#include "audit/audit_status.h"
#include "audit/audit_verify.h"
#include "audit/merkle.h"

/* --- an independent reference: RFC 9162 2.1.1 written out plainly ---------- */

static void ref_sha(const uint8_t *a, size_t n, uint8_t out[32])
{
	unsigned int len;

	EVP_Digest(a, n, out, &len, EVP_sha256(), NULL);
}

static void ref_leaf(const uint8_t *d, size_t n, uint8_t out[32])
{
	uint8_t buf[256];

	buf[0] = 0;
	memcpy(buf + 1, d, n);
	ref_sha(buf, n + 1, out);
}

/* MTH(D[lo:hi]) over raw entries */
static void ref_mth(uint8_t **d, size_t *len, size_t lo, size_t hi, uint8_t out[32])
{
	uint8_t buf[65];
	size_t n = hi - lo, k = 1;

	if (n == 0) {
		ref_sha((const uint8_t *)"", 0, out);
		return;
	}
	if (n == 1) {
		ref_leaf(d[lo], len[lo], out);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	buf[0] = 1;
	ref_mth(d, len, lo, lo + k, buf + 1);
	ref_mth(d, len, lo + k, hi, buf + 33);
	ref_sha(buf, 65, out);
}

static void unhex(const char *s, uint8_t *out)
{
	assert_true(merkle_unhex(s, out));
}

/* The eight entries and roots published with RFC 6962's reference code. */
static const char *const ct_entries[] = { "", "00", "10", "2021", "3031", "40414243",
					  "5051525354555657",
					  "606162636465666768696a6b6c6d6e6f" };
static const char *const ct_roots[] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static size_t from_hex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void test_merkle_known_answers(void **state)
{
	uint8_t raw[8][16], leaves[8 * 32], root[32], want[32];
	uint8_t proof[MERKLE_MAX_PROOF * 32];
	size_t np;
	static const char *const inc0[] = {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	};
	struct merkle_frontier f;

	(void)state;
	merkle_frontier_init(&f);
	for (size_t i = 0; i < 8; i++) {
		size_t n = from_hex(ct_entries[i], raw[i]);

		merkle_leaf_hash(raw[i], n, leaves + 32 * i);
	}
	for (size_t n = 0; n <= 8; n++) {
		unhex(ct_roots[n], want);
		merkle_root(leaves, n, root);
		assert_memory_equal(root, want, 32);
		merkle_frontier_root(&f, root);
		assert_memory_equal(root, want, 32);
		if (n < 8)
			merkle_frontier_push(&f, leaves + 32 * n);
	}
	/* the published inclusion proof of leaf 0 in the tree of 8 */
	assert_int_equal(merkle_inclusion_proof(leaves, 0, 8, proof, &np), 0);
	assert_int_equal(np, 3);
	for (size_t i = 0; i < 3; i++) {
		unhex(inc0[i], want);
		assert_memory_equal(proof + 32 * i, want, 32);
	}
}

static void test_merkle_against_reference(void **state)
{
	enum { N = 40 };
	uint8_t *raw[N], leaves[N * 32], root[32], ref[32], rm[32];
	uint8_t proof[MERKLE_MAX_PROOF * 32];
	size_t len[N], np;
	struct merkle_frontier f;

	(void)state;
	merkle_frontier_init(&f);
	for (size_t i = 0; i < N; i++) {
		raw[i] = malloc(3);
		raw[i][0] = (uint8_t)i;
		raw[i][1] = (uint8_t)(i * 7);
		raw[i][2] = 0x5a;
		len[i] = 3;
		ref_leaf(raw[i], 3, leaves + 32 * i);
	}
	for (size_t n = 1; n <= N; n++) {
		merkle_frontier_push(&f, leaves + 32 * (n - 1));
		ref_mth(raw, len, 0, n, ref);
		merkle_root(leaves, n, root);
		assert_memory_equal(root, ref, 32);
		merkle_frontier_root(&f, root);
		assert_memory_equal(root, ref, 32);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(merkle_inclusion_proof(leaves, i, n, proof, &np), 0);
			assert_true(merkle_inclusion_verify(leaves + 32 * i, i, n, proof, np, ref));
			/* the wrong leaf, index or root never verifies */
			assert_false(merkle_inclusion_verify(leaves + 32 * ((i + 1) % N), i, n, proof,
							     np, ref) && n > 1);
			if (n > 1)
				assert_false(merkle_inclusion_verify(leaves + 32 * i, (i + 1) % n, n,
								     proof, np, ref));
			if (np > 0) {
				proof[0] ^= 1;
				assert_false(merkle_inclusion_verify(leaves + 32 * i, i, n, proof, np,
								     ref));
			}
		}
		for (size_t m = 1; m <= n; m++) {
			ref_mth(raw, len, 0, m, rm);
			assert_int_equal(merkle_consistency_proof(leaves, m, n, proof, &np), 0);
			assert_true(merkle_consistency_verify(m, n, rm, ref, proof, np));
			if (np > 0) {
				proof[32 * (np - 1)] ^= 0x80;
				assert_false(merkle_consistency_verify(m, n, rm, ref, proof, np));
				proof[32 * (np - 1)] ^= 0x80;
			}
			if (m < n) {
				/* a different old tree is not a prefix */
				rm[5] ^= 1;
				assert_false(merkle_consistency_verify(m, n, rm, ref, proof, np));
			}
		}
	}
	assert_int_equal(merkle_inclusion_proof(leaves, 3, 3, proof, &np), FOCAL_E_INVAL);
	for (size_t i = 0; i < N; i++)
		free(raw[i]);
}

/* --- a temporary log folder ------------------------------------------------ */

static char tmpdir[256];

static void mkdir_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/focal-audit-test-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
}

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static char *path_in(const char *dir, const char *name)
{
	char *p = audit_log_path(dir, name);

	assert_non_null(p);
	return p;
}

static void test_checkpoint_signature(void **state)
{
	struct audit_checkpoint c = { .size = 42, .ts_ms = 1700000000123 };
	struct focal_err err;
	EVP_PKEY *k1 = NULL, *k2 = NULL, *pub = NULL;
	char *p1, *p2, *pp, *line;

	(void)state;
	mkdir_tmp();
	p1 = path_in(tmpdir, "k1.pem");
	p2 = path_in(tmpdir, "k2.pem");
	pp = path_in(tmpdir, "k1.pub.pem");
	assert_int_equal(audit_log_keygen(p1, pp, &err), 0);
	assert_int_equal(audit_log_keygen(p2, NULL, &err), 0);
	/* never overwrites a key */
	assert_int_equal(audit_log_keygen(p1, NULL, &err), FOCAL_E_IO);
	assert_int_equal(audit_log_key_private(p1, &k1, &err), 0);
	assert_int_equal(audit_log_key_private(p2, &k2, &err), 0);
	assert_int_equal(audit_log_key_public(pp, &pub, &err), 0);
	memset(c.root, 0xab, sizeof(c.root));
	assert_int_equal(audit_log_checkpoint_sign(k1, &c, &err), 0);
	assert_true(audit_log_checkpoint_valid(pub, &c));
	assert_false(audit_log_checkpoint_valid(k2, &c));
	/* through its line and back */
	line = audit_log_checkpoint_line(&c);
	assert_non_null(line);
	{
		struct audit_checkpoint d;

		assert_int_equal(audit_log_checkpoint_parse(line, strlen(line), &d, &err), 0);
		assert_true(audit_log_checkpoint_valid(pub, &d));
		d.size = 43;
		assert_false(audit_log_checkpoint_valid(pub, &d));
		d.size = 42;
		d.root[0] ^= 1;
		assert_false(audit_log_checkpoint_valid(pub, &d));
	}
	free(line);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(pub);
	free(p1);
	free(p2);
	free(pp);
	rm_tree(tmpdir);
}

/* --- writer --------------------------------------------------------------- */

/* Submits an entry and waits; returns its rc (seq in *seq). */
static int append_wait(const char *type, json_t *fields, uint64_t *seq)
{
	struct focal_err err;

	return audit_submit_wait(type, fields, seq, &err);
}

static char *keypath(void)
{
	return path_in(tmpdir, "audit-key.pem");
}

static EVP_PKEY *load_pub(void)
{
	struct focal_err err;
	EVP_PKEY *k = NULL;
	char *p = keypath();

	assert_int_equal(audit_log_key_public(p, &k, &err), 0);
	free(p);
	return k;
}

/* A real log of n entries written by the writer (plus its start and stop). */
static void write_log(size_t n)
{
	struct focal_err err;
	char *k;

	mkdir_tmp();
	k = keypath();
	assert_int_equal(audit_open_dir(tmpdir, k, true, 1000, &err), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(append_wait("search.begin",
					     json_pack("{s:s, s:I}", "note", "entry", "i",
						       (json_int_t)i), NULL), 0);
	audit_close();
	free(k);
}

#define THREADS 8
#define PER_THREAD 250

static atomic_uint delivered;
static uint8_t seen[THREADS * PER_THREAD + 16];

static void count_done(struct audit_ticket *t)
{
	assert_int_equal(t->rc, 0);
	assert_true(t->seq < sizeof(seen));
	seen[t->seq]++;
	atomic_fetch_add(&delivered, 1);
	free(t);
}

static void *submitter(void *arg)
{
	struct focal_err err;

	for (int i = 0; i < PER_THREAD; i++) {
		struct audit_ticket *t = calloc(1, sizeof(*t));

		t->done = count_done;
		assert_int_equal(audit_submit(t, "bench", json_pack("{s:I, s:i}", "thread",
								     (json_int_t)(intptr_t)arg, "i", i),
					      &err), 0);
	}
	return NULL;
}

static void test_group_commit_threads(void **state)
{
	pthread_t th[THREADS];
	struct audit_verify_result res;
	struct focal_err err;
	uint64_t entries, fsyncs;
	EVP_PKEY *pub;
	char *k;

	(void)state;
	mkdir_tmp();
	k = keypath();
	memset(seen, 0, sizeof(seen));
	atomic_store(&delivered, 0);
	assert_int_equal(audit_open_dir(tmpdir, k, true, 1000, &err), 0);
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, submitter, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	while (atomic_load(&delivered) < THREADS * PER_THREAD)
		usleep(1000);
	audit_stats(&entries, &fsyncs);
	audit_close();
	/* each entry exactly once, numbered after the start entry */
	assert_int_equal(seen[0], 0);
	for (size_t i = 1; i <= THREADS * PER_THREAD; i++)
		assert_int_equal(seen[i], 1);
	/* many entries shared an fsync */
	assert_true(fsyncs < entries);
	pub = load_pub();
	assert_int_equal(audit_verify_dir(tmpdir, pub, false, &res, &err), 0);
	/* start + entries + stop, all signed by the closing checkpoint */
	assert_int_equal(res.entries, THREADS * PER_THREAD + 2);
	assert_int_equal(res.signed_size, res.entries);
	EVP_PKEY_free(pub);
	free(k);
	rm_tree(tmpdir);
}

/* The log cannot grow (RLIMIT_FSIZE, as on a full disk): entries are
 * refused, nothing half-written stays, and the log recovers. */
static void test_fail_closed_file_limit(void **state)
{
	struct rlimit old, lim;
	struct audit_verify_result res;
	struct focal_err err;
	struct stat st;
	EVP_PKEY *pub;
	char *k, *lp;

	(void)state;
	mkdir_tmp();
	k = keypath();
	lp = path_in(tmpdir, AUDIT_LOG_NAME);
	assert_int_equal(audit_open_dir(tmpdir, k, true, 1000, &err), 0);
	assert_int_equal(append_wait("x", NULL, NULL), 0);
	assert_int_equal(stat(lp, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 10; /* room for part of one line only */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(append_wait("search.begin", json_pack("{s:s}", "q", "refused"), NULL),
			 FOCAL_E_UNAVAIL);
	assert_false(audit_healthy());
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* rolled back: the file is as before */
	assert_int_equal(stat(lp, &st), 0);
	assert_int_equal(append_wait("search.begin", json_pack("{s:s}", "q", "accepted"), NULL), 0);
	assert_true(audit_healthy());
	audit_close();
	pub = load_pub();
	assert_int_equal(audit_verify_dir(tmpdir, pub, false, &res, &err), 0);
	assert_int_equal(res.entries, 4); /* start, x, accepted, stop */
	EVP_PKEY_free(pub);
	free(k);
	free(lp);
	rm_tree(tmpdir);
}

/* --- tampering ------------------------------------------------------------ */

struct lines {
	char *l[256];
	size_t n;
};

static void read_lines(const char *file, struct lines *ls)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	assert_non_null(f);
	ls->n = 0;
	while ((n = getline(&line, &cap, f)) > 0 && ls->n < 256)
		ls->l[ls->n++] = strndup(line, (size_t)n);
	free(line);
	fclose(f);
}

static void write_lines(const char *file, struct lines *ls)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	for (size_t i = 0; i < ls->n; i++)
		fputs(ls->l[i], f);
	fclose(f);
}

static void free_lines(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->l[i]);
	ls->n = 0;
}

/* Verifies tmpdir; returns rc and the first bad entry. */
static int verify(int64_t *bad)
{
	struct audit_verify_result res;
	struct focal_err err = { 0 };
	EVP_PKEY *pub = load_pub();
	int rc = audit_verify_dir(tmpdir, pub, false, &res, &err);

	EVP_PKEY_free(pub);
	*bad = res.bad_entry;
	if (rc != 0)
		print_message("verify: %s\n", err.msg);
	return rc;
}

enum tamper { T_MODIFY, T_DELETE, T_INSERT, T_SWAP, T_TRUNCATE, T_MODIFY_LAST, T_REWRITE,
	      T_TORN };

/* Recomputes seq and prev of every line from the first: an attacker who
 * rewrote the chain after a change. */
static void rechain(struct lines *ls)
{
	uint8_t last[32] = { 0 };

	for (size_t i = 0; i < ls->n; i++) {
		char *p = strstr(ls->l[i], "\"prev\":\""), hex[65], *nl, head[64], *rest, *line;
		size_t len;

		assert_non_null(p);
		merkle_hex(last, hex);
		memcpy(p + 8, hex, 64);
		/* renumber seq */
		rest = strchr(ls->l[i], ',');
		snprintf(head, sizeof(head), "{\"seq\":%zu", i);
		len = strlen(head) + strlen(rest) + 1;
		line = malloc(len);
		snprintf(line, len, "%s%s", head, rest);
		free(ls->l[i]);
		ls->l[i] = line;
		nl = strchr(line, '\n');
		merkle_leaf_hash(line, (size_t)(nl - line), last);
	}
}

static void tamper_case(enum tamper how, size_t k, int64_t want_bad)
{
	struct lines ls;
	int64_t bad = -2;
	char *lp;

	write_log(12); /* entries 0..13 with start and stop */
	lp = path_in(tmpdir, AUDIT_LOG_NAME);
	assert_int_equal(verify(&bad), 0);
	read_lines(lp, &ls);
	assert_int_equal(ls.n, 14);
	switch (how) {
	case T_MODIFY:
	case T_MODIFY_LAST:
	case T_REWRITE: {
		char *p = strstr(ls.l[k], "\"note\":\"entry\"");

		if (p == NULL)
			p = strstr(ls.l[k], "\"type\":\"audit.stop\"");
		if (p == NULL)
			p = strstr(ls.l[k], "\"type\":\"audit.start\"");
		assert_non_null(p);
		p[p[1] == 'n' ? 2 : 9] = 'X'; /* one letter changed */
		if (how == T_REWRITE)
			rechain(&ls);
		break;
	}
	case T_DELETE:
		free(ls.l[k]);
		memmove(&ls.l[k], &ls.l[k + 1], (ls.n - k - 1) * sizeof(char *));
		ls.n--;
		break;
	case T_INSERT:
		memmove(&ls.l[k + 1], &ls.l[k], (ls.n - k) * sizeof(char *));
		ls.l[k] = strdup(ls.l[k + 3]);
		ls.n++;
		break;
	case T_SWAP: {
		char *t = ls.l[k];

		ls.l[k] = ls.l[k + 1];
		ls.l[k + 1] = t;
		break;
	}
	case T_TRUNCATE:
		while (ls.n > k)
			free(ls.l[--ls.n]);
		break;
	case T_TORN:
		break;
	}
	write_lines(lp, &ls);
	if (how == T_TORN) {
		FILE *f = fopen(lp, "a");

		fputs("{\"seq\":14,\"prev\":\"00", f); /* a crash mid-line */
		fclose(f);
		assert_int_equal(verify(&bad), 0);
	} else {
		assert_int_equal(verify(&bad), FOCAL_E_INVAL);
		assert_int_equal(bad, want_bad); /* exactly the entry changed */
	}
	free_lines(&ls);
	free(lp);
	rm_tree(tmpdir);
}

static void test_tamper_modify(void **s) { (void)s; tamper_case(T_MODIFY, 5, 5); }
/* entry 0 is the last one under the first checkpoint: its successor's link
 * still names it exactly (not just the checkpoint's range) */
static void test_tamper_modify_at_checkpoint(void **s) { (void)s; tamper_case(T_MODIFY, 0, 0); }
static void test_tamper_delete(void **s) { (void)s; tamper_case(T_DELETE, 5, 5); }
static void test_tamper_insert(void **s) { (void)s; tamper_case(T_INSERT, 5, 5); }
static void test_tamper_reorder(void **s) { (void)s; tamper_case(T_SWAP, 5, 5); }
static void test_tamper_truncate(void **s) { (void)s; tamper_case(T_TRUNCATE, 11, 11); }
/* the newest entry has no successor to name it: the checkpoint signed with
 * its commit does (every commit is signed, so the last checkpoint that still
 * matches ends exactly before it) */
static void test_tamper_modify_newest(void **s) { (void)s; tamper_case(T_MODIFY_LAST, 13, 13); }
/* the chain rewritten after a change: links all agree, the signed root of
 * the commit that wrote entry 5 does not */
static void test_tamper_rewritten_chain(void **s) { (void)s; tamper_case(T_REWRITE, 5, 5); }
static void test_torn_tail_is_not_tampering(void **s) { (void)s; tamper_case(T_TORN, 0, 0); }

static void test_forged_checkpoint(void **state)
{
	struct lines ls;
	int64_t bad;
	char *cp;

	(void)state;
	write_log(3);
	cp = path_in(tmpdir, AUDIT_CKPT_NAME);
	read_lines(cp, &ls);
	assert_true(ls.n >= 1);
	{
		char *p = strstr(ls.l[ls.n - 1], "\"root\":\"");

		p[8] = p[8] == 'a' ? 'b' : 'a';
	}
	write_lines(cp, &ls);
	assert_int_equal(verify(&bad), FOCAL_E_INVAL);
	free_lines(&ls);
	free(cp);
	rm_tree(tmpdir);
}

/* A crash left half a line: the next start removes it and goes on. */
static void test_reopen_after_torn_write(void **state)
{
	struct focal_err err;
	int64_t bad;
	char *lp, *k;
	FILE *f;

	(void)state;
	write_log(2);
	lp = path_in(tmpdir, AUDIT_LOG_NAME);
	k = keypath();
	f = fopen(lp, "a");
	fputs("{\"seq\":4,\"pr", f);
	fclose(f);
	assert_int_equal(audit_open_dir(tmpdir, k, false, 1000, &err), 0);
	assert_int_equal(append_wait("after", NULL, NULL), 0);
	audit_close();
	assert_int_equal(verify(&bad), 0);
	/* a log that fails verification is refused at start */
	f = fopen(lp, "r+");
	fseek(f, 30, SEEK_SET);
	fputc('Z', f);
	fclose(f);
	assert_int_not_equal(audit_open_dir(tmpdir, k, false, 1000, &err), 0);
	assert_non_null(strstr(err.msg, "verification"));
	free(lp);
	free(k);
	rm_tree(tmpdir);
}

/* --- GET /v1/audit/status: incremental verification ------------------------ */

/* Waits (at most 5 s) until the running writer has signed every entry. */
static void wait_signed(void)
{
	for (int i = 0; i < 500; i++) {
		json_t *o = audit_status_json(tmpdir, audit_signing_key(), true);
		bool done = json_integer_value(json_object_get(o, "unsigned_entries")) == 0;

		json_decref(o);
		if (done)
			return;
		usleep(10000);
	}
	fail_msg("the writer did not sign its entries");
}

/* One status call; checks ok and the kind of verification, returns the
 * number of entries it read (and the object through *out when wanted). */
static long long status_call(bool full, bool want_ok, const char *want_kind, json_t **out)
{
	json_t *o = audit_status_json(tmpdir, audit_signing_key(), full);
	long long n;

	assert_non_null(o);
	if (json_is_true(json_object_get(o, "ok")) != want_ok)
		fail_msg("ok is %s: %s", want_ok ? "false" : "true",
			 json_string_value(json_object_get(o, "error")));
	assert_string_equal(json_string_value(json_object_get(o, "verification")), want_kind);
	n = json_integer_value(json_object_get(o, "verified_entries"));
	if (out != NULL)
		*out = o;
	else
		json_decref(o);
	return n;
}

/* Changes one byte of entry k of the log in place (same length): "entry"
 * becomes "Xntry", or back. */
static void flip_entry(size_t k)
{
	char *lp = path_in(tmpdir, AUDIT_LOG_NAME), *line = NULL, *p;
	size_t cap = 0;
	long off = 0;
	FILE *f = fopen(lp, "r+");

	assert_non_null(f);
	for (size_t i = 0; i <= k; i++) {
		off = ftell(f);
		assert_true(getline(&line, &cap, f) > 0);
	}
	p = strstr(line, "\"note\":\"");
	assert_non_null(p);
	fseek(f, off + (p - line) + 8, SEEK_SET);
	fputc(p[8] == 'e' ? 'X' : 'e', f);
	fclose(f);
	free(line);
	free(lp);
}

static void append_n(size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(append_wait("search.begin",
					     json_pack("{s:s, s:I}", "note", "entry", "i",
						       (json_int_t)i), NULL), 0);
}

static void test_status_incremental(void **state)
{
	struct focal_err err;
	json_t *o;
	char *k;

	(void)state;
	mkdir_tmp();
	k = keypath();
	audit_status_reset();
	assert_int_equal(audit_open_dir(tmpdir, k, true, 10, &err), 0);
	append_n(3); /* entries 0 (audit.start) to 3 */
	wait_signed();
	/* the first call of a fresh state verifies everything... */
	audit_status_reset();
	assert_int_equal(status_call(false, true, "full", NULL), 4);
	/* ...the next one only what was appended since (nothing) */
	assert_int_equal(status_call(false, true, "incremental", NULL), 0);
	append_n(5);
	wait_signed(); /* a full call: the state is now at 9 entries */
	append_n(2);
	/* new entries, signed or not yet, are covered by an incremental call */
	assert_int_equal(status_call(false, true, "incremental", &o), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "entries")), 11);
	assert_non_null(json_string_value(json_object_get(o, "full_verified_at")));
	json_decref(o);
	wait_signed();

	/* an old entry changed in place: an incremental call does not read it
	 * again (audit_status.h), the next full verification names it */
	flip_entry(2);
	status_call(false, true, "incremental", NULL);
	status_call(true, false, "full", &o);
	assert_int_equal(json_integer_value(json_object_get(o, "bad_entry")), 2);
	assert_non_null(strstr(json_string_value(json_object_get(o, "error")), "modified"));
	assert_true(json_is_null(json_object_get(o, "full_verified_at")));
	json_decref(o);
	/* after a failure every call verifies in full, and fails again */
	status_call(false, false, "full", NULL);
	flip_entry(2); /* undone */
	assert_int_equal(status_call(false, true, "full", NULL), 11);

	/* the last verified entry changed: the files are not what was
	 * verified, so the call falls back to a full verification */
	flip_entry(10);
	status_call(false, false, "full", NULL);
	flip_entry(10);
	status_call(false, true, "full", NULL);
	/* a log that shrank below what was read: full, and truncation found */
	{
		char *lp = path_in(tmpdir, AUDIT_LOG_NAME);
		struct stat st;

		assert_int_equal(stat(lp, &st), 0);
		assert_int_equal(truncate(lp, st.st_size - 10), 0);
		status_call(false, false, "full", &o);
		assert_non_null(strstr(json_string_value(json_object_get(o, "error")), "truncated"));
		json_decref(o);
		free(lp);
	}
	audit_close();
	free(k);
	rm_tree(tmpdir);
}

static void test_subject_keys(void **state)
{
	char a[AUDIT_QUERY_KEY_MAX], b[AUDIT_QUERY_KEY_MAX];

	(void)state;
	assert_true(audit_query_subject_key("1-abc-123", false, a, sizeof(a)) > 0);
	assert_true(audit_query_subject_key("1ABC123", false, b, sizeof(b)) > 0);
	assert_string_equal(a, b);
	assert_true(audit_query_subject_key("85.07.30-033.28", false, a, sizeof(a)) > 0);
	assert_string_equal(a, "85073003328");
	assert_true(audit_query_subject_key("PEETERS, Jan", true, a, sizeof(a)) > 0);
	assert_true(audit_query_subject_key("jan  Peeters", true, b, sizeof(b)) > 0);
	assert_string_equal(a, b);
	assert_true(audit_query_subject_key("Émilie Dubois", true, a, sizeof(a)) > 0);
	assert_true(audit_query_subject_key("dubois emilie", true, b, sizeof(b)) > 0);
	assert_string_equal(a, b);
}

static void test_shift_window(void **state)
{
	struct audit_shift day = { NULL, 8 * 60, 17 * 60 }, night = { NULL, 22 * 60, 6 * 60 };

	(void)state;
	assert_true(audit_misuse_in_shift(&day, 8 * 60));
	assert_false(audit_misuse_in_shift(&day, 17 * 60));
	assert_false(audit_misuse_in_shift(&day, 3 * 60));
	assert_true(audit_misuse_in_shift(&night, 23 * 60));
	assert_true(audit_misuse_in_shift(&night, 2 * 60));
	assert_false(audit_misuse_in_shift(&night, 12 * 60));
}

/* The `audit:` section: defaults, alerts, errors with their position. */
static int load_audit(const char *audit, struct config **c, struct focal_err *err)
{
	static const char *const base =
		"server:\n  tls_cert: c.pem\n  tls_key: k.pem\n"
		"sources:\n  - name: h\n    kind: http\n    owner: x\n    classification: restricted\n"
		"    connection: {}\n    queries: {plate: \"http://127.0.0.1:1/v?p={plate}\"}\n"
		"    map: {rows: /r, vehicle: {plate: /p}}\n";
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", base, audit);
	return config_load_string("/etc/focal/focal.yaml", text, strlen(text), c, err);
}

static void test_audit_config(void **state)
{
	struct config *c = NULL;
	struct focal_err err = { 0 };

	(void)state;
	assert_int_equal(load_audit("", &c, &err), 0);
	assert_null(c->audit); /* defaults: <config dir>/audit, generated key */
	config_unref(c);
	assert_int_equal(load_audit("audit:\n  dir: log\n  alerts:\n    rate_per_minute: 5\n"
				    "    flagged: [\"85.07.30-033.28\", \"Jan Peeters\"]\n"
				    "    shifts: {units: {U1: \"22:00-06:00\"}}\n", &c, &err), 0);
	assert_string_equal(c->audit->dir, "/etc/focal/log");
	assert_int_equal(c->audit->misuse.rate_per_minute, 5);
	assert_int_equal(c->audit->misuse.nflagged, 2);
	assert_string_equal(c->audit->misuse.flagged[0], "85073003328");
	assert_int_equal(c->audit->misuse.units[0].start_min, 22 * 60);
	config_unref(c);
	assert_int_not_equal(load_audit("audit:\n  alerts:\n    shifts: {users: {u: \"25:00-26:00\"}}\n",
					&c, &err), 0);
	assert_non_null(strstr(err.msg, "focal.yaml:14:25:"));
	assert_non_null(strstr(err.msg, "HH:MM"));
	assert_int_not_equal(load_audit("audit:\n  checkpoint_ms: 5000\n", &c, &err), 0);
	assert_non_null(strstr(err.msg, "checkpoint_ms"));
	assert_int_not_equal(load_audit("audit:\n  dri: x\n", &c, &err), 0);
	assert_non_null(strstr(err.msg, "dri"));
	assert_int_equal(load_audit("audit:\n  dir: log\n", &c, &err), 0);
	assert_true(c->audit->sign_every_commit); /* the default */
	config_unref(c);
	assert_int_equal(load_audit("audit:\n  sign_every_commit: false\n", &c, &err), 0);
	assert_false(c->audit->sign_every_commit);
	config_unref(c);
	assert_int_not_equal(load_audit("audit:\n  sign_every_commit: often\n", &c, &err), 0);
	assert_non_null(strstr(err.msg, "sign_every_commit"));
}

/* Every acknowledged entry is under a signature at once: the log of a
 * running writer, read right after each acknowledgement, verifies with its
 * newest checkpoint signing every entry (no unsigned tail). */
static void test_every_commit_is_signed(void **state)
{
	struct audit_verify_result res;
	struct focal_err err = { 0 };
	EVP_PKEY *pub;
	char *k;

	(void)state;
	mkdir_tmp();
	k = keypath();
	audit_set_sign_every_commit(true);
	assert_int_equal(audit_open_dir(tmpdir, k, true, 1000, &err), 0);
	pub = load_pub();
	for (int i = 0; i < 5; i++) {
		assert_int_equal(append_wait("search.begin", json_pack("{s:i}", "i", i), NULL), 0);
		assert_int_equal(audit_verify_dir(tmpdir, pub, false, &res, &err), 0);
		assert_int_equal(res.entries, (uint64_t)i + 2); /* audit.start first */
		assert_int_equal(res.signed_size, res.entries);
	}
	audit_close();
	EVP_PKEY_free(pub);
	free(k);
	rm_tree(tmpdir);
}

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define A64 "9d53347a91f55f5f5f0a5a8d40089529202479843097cbac327cf6331fd03f9a"

/* The head reader used for signed entries agrees with the full parser on
 * lines as focald writes them, and declines everything else. */
static void test_entry_head(void **state)
{
	static const char *const declined[] = {
		"{\"prev\":\"" Z64 "\",\"seq\":3,\"ts\":\"x\",\"ts_ms\":5,\"type\":\"t\"}",
		"{\"seq\":3,\"prev\":\"" Z64 "\",\"ts\":\"x\\\"y\",\"ts_ms\":5,\"type\":\"t\"}",
		"{\"seq\":3,\"prev\":\"" Z64 "\",\"ts\":\"x\",\"ts_ms\":5,\"type\":\"t\"",
		"{\"seq\":-3,\"prev\":\"" Z64 "\",\"ts\":\"x\",\"ts_ms\":5,\"type\":\"t\"}",
		"{\"seq\":3,\"prev\":\"" Z64 "0\",\"ts\":\"x\",\"ts_ms\":5,\"type\":\"t\"}",
		"{\"seq\":3,\"prev\":\"zz" Z64 "\",\"ts\":\"x\",\"ts_ms\":5,\"type\":\"t\"}",
		"{\"seq\":99999999999999999999,\"prev\":\"" Z64 "\",\"ts\":\"x\",\"ts_ms\":5,\"type\":\"t\"}",
		"{\"seq\":3,\"prev\":\"" Z64 "\",\"ts\":\"x\",\"ts_ms\":5.5,\"type\":\"t\"}",
		"",
	};
	const char *ok = "{\"seq\":42,\"prev\":\"" A64 "\",\"ts\":\"2026-11-23T17:55:33.968Z\","
			 "\"ts_ms\":1795456533968,\"type\":\"search.begin\",\"x\":[1]}";
	uint8_t p1[MERKLE_HASH], p2[MERKLE_HASH];
	uint64_t s1, s2;
	int64_t ms;
	json_t *doc = NULL;

	(void)state;
	assert_true(audit_log_entry_head(ok, strlen(ok), &s1, p1, &ms));
	assert_int_equal(audit_log_entry_parse(ok, strlen(ok), &doc, &s2, p2, NULL), FOCAL_OK);
	assert_int_equal(s1, s2);
	assert_memory_equal(p1, p2, MERKLE_HASH);
	assert_int_equal(ms, json_integer_value(json_object_get(doc, "ts_ms")));
	json_decref(doc);
	for (size_t i = 0; i < sizeof(declined) / sizeof(declined[0]); i++)
		assert_false(audit_log_entry_head(declined[i], strlen(declined[i]), &s1, p1, &ms));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merkle_known_answers),
		cmocka_unit_test(test_entry_head),
		cmocka_unit_test(test_merkle_against_reference),
		cmocka_unit_test(test_checkpoint_signature),
		cmocka_unit_test(test_group_commit_threads),
		cmocka_unit_test(test_fail_closed_file_limit),
		cmocka_unit_test(test_every_commit_is_signed),
		cmocka_unit_test(test_tamper_modify),
		cmocka_unit_test(test_tamper_modify_at_checkpoint),
		cmocka_unit_test(test_tamper_delete),
		cmocka_unit_test(test_tamper_insert),
		cmocka_unit_test(test_tamper_reorder),
		cmocka_unit_test(test_tamper_truncate),
		cmocka_unit_test(test_tamper_modify_newest),
		cmocka_unit_test(test_tamper_rewritten_chain),
		cmocka_unit_test(test_torn_tail_is_not_tampering),
		cmocka_unit_test(test_forged_checkpoint),
		cmocka_unit_test(test_reopen_after_torn_write),
		cmocka_unit_test(test_status_incremental),
		cmocka_unit_test(test_subject_keys),
		cmocka_unit_test(test_shift_window),
		cmocka_unit_test(test_audit_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
