/*
 * audit_search: the begin and end entries of a search (see audit_search.h).
 */
#include "audit/audit_search.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_config.h"
#include "audit/audit_query.h"
#include "auth/principal.h"
#include "core/config.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "search/briefing.h"
#include "search/fanout.h"
#include "search/query.h"

struct audit_search {
	struct audit_ticket t; /* first member: the writer hands it back */
	struct auth_principal who;
	struct config *cfg;
	audit_search_cb cb;
	void *arg;
	const struct query_request *qr; /* the caller's, alive until cb runs */
	json_t *context;                /* purpose, case_ref, query text: repeated in the end entry */
	uint64_t seq;
	bool begun, ended;
};

/* Adds the comparison key of value (an identifier or a name) to the set arr. */
static void audit_search_subject(json_t *arr, const char *value, bool name)
{
	char key[AUDIT_QUERY_KEY_MAX];
	size_t i;
	json_t *v;

	if (value == NULL || audit_query_subject_key(value, name, key, sizeof(key)) <= 0)
		return;
	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), key) == 0)
			return;
	json_array_append_new(arr, json_string(key));
}

static void audit_search_name(json_t *arr, const char *given, const char *family)
{
	char both[512];

	if (family == NULL)
		return;
	snprintf(both, sizeof(both), "%s %s", given ? given : "", family);
	audit_search_subject(arr, both, true);
}

static void audit_search_ready(struct audit_ticket *t)
{
	struct audit_search *au = (struct audit_search *)t;

	au->seq = t->seq;
	au->begun = t->rc == FOCAL_OK;
	if (au->begun)
		audit_misuse_search_begin(au->cfg->audit ? &au->cfg->audit->misuse : NULL, &au->who,
					  au->qr, au->seq, t->ts_ms);
	au->qr = NULL;
	au->cb(au, t->rc, t->msg, au->arg);
}

int audit_search_begin(struct audit_search **out, const struct auth_principal *who,
		       const struct query_request *qr, struct config *cfg, json_t *extra,
		       struct loop *loop, audit_search_cb cb, void *arg, struct focal_err *err)
{
	struct audit_search *au;
	json_t *f, *subjects = json_array(), *planned = json_array();
	int rc;

	*out = NULL;
	au = calloc(1, sizeof(*au));
	if (au == NULL) {
		json_decref(extra);
		json_decref(subjects);
		json_decref(planned);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	au->who = *who;
	au->cfg = config_ref(cfg);
	au->cb = cb;
	au->arg = arg;
	au->t.loop = loop;
	au->t.done = audit_search_ready;
	au->qr = qr; /* the misuse rules look at it once the entry is durable */
	/* the end entry repeats why and what was asked, so an oversight row built
	 * from it alone ("who saw X") is complete */
	au->context = json_pack("{s:s?, s:s?, s:{s:s?}}", "purpose", qr->purpose, "case_ref",
				qr->case_ref, "query", "text", qr->text);
	for (size_t i = 0; i < qr->ninterp; i++) {
		const struct query *q = &qr->interp[i];

		audit_search_subject(subjects, q->param[QP_NATIONAL_NUMBER], false);
		audit_search_subject(subjects, q->param[QP_PLATE], false);
		audit_search_subject(subjects, q->param[QP_SERIAL], false);
		audit_search_subject(subjects, q->param[QP_PHONE], false);
		audit_search_name(subjects, q->param[QP_GIVEN_NAME], q->param[QP_FAMILY_NAME]);
	}
	/* the sources this request's kinds reach; the policy adds the denied ones */
	for (size_t s = 0; s < cfg->nsources; s++)
		for (size_t i = 0; i < qr->ninterp; i++)
			if (cfg->sources[s].queries[qr->interp[i].kind].present) {
				json_array_append_new(planned, json_string(cfg->sources[s].name));
				break;
			}
	f = json_pack("{s:o, s:s?, s:s?, s:o, s:o, s:o, s:[]}", "who", audit_principal_json(who),
		      "purpose", qr->purpose, "case_ref", qr->case_ref, "query",
		      query_request_json(qr), "subjects", subjects, "sources", planned,
		      "sources_denied");
	if (f != NULL && extra != NULL)
		json_object_update(f, extra);
	json_decref(extra);
	if (f == NULL) {
		audit_search_free(au);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	if ((rc = audit_submit(&au->t, "search.begin", f, err)) != FOCAL_OK) {
		log_emitj(LOG_ERROR, "audit_unavailable", err->msg,
			  json_pack("{s:s, s:s}", "alert", "audit_unavailable", "user", who->user));
		au->ended = true;
		audit_search_free(au);
		return rc;
	}
	*out = au;
	return FOCAL_OK;
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The hex SHA-256 of text[0..len).  With ctx (reused over the records of a
 * search) and the digest fetched once, not EVP_Digest: its set-up and
 * tear-down cost more than hashing a record of a few hundred bytes. */
static int audit_search_sha256_hex(EVP_MD_CTX *ctx, const char *text, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[32];
	unsigned int hl = 0;

	pthread_once(&sha256_once, sha256_fetch);
	if (ctx == NULL || sha256_md == NULL) {
		if (EVP_Digest(text, len, h, &hl, EVP_sha256(), NULL) != 1)
			return FOCAL_E_INTERNAL;
	} else if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 ||
		   EVP_DigestUpdate(ctx, text, len) != 1 || EVP_DigestFinal_ex(ctx, h, &hl) != 1) {
		return FOCAL_E_INTERNAL;
	}
	if (hl != sizeof(h))
		return FOCAL_E_INTERNAL;
	/* a public digest: no need for sodium_bin2hex's constant time, which
	 * cost more per record than writing the record's text */
	for (size_t i = 0; i < sizeof(h); i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 0xF];
	}
	out[64] = '\0';
	return FOCAL_OK;
}

int audit_search_record_digest_tree(const struct record *r, char out[65])
{
	json_t *o = briefing_record_json(r);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc = text != NULL ? audit_search_sha256_hex(NULL, text, strlen(text), out) : FOCAL_E_NOMEM;

	free(text);
	json_decref(o);
	return rc;
}

/* The rank of each canonical field name among its kind's names in strcmp's
 * order (computed once): sorting a record's fields by rank is sorting them
 * by name.  NAME_RANK_NONE for a name that is not ASCII (none today): such
 * a record takes the general path. */
#define NAME_RANK_MAX 32
#define NAME_RANK_NONE 0xFF
static unsigned char name_rank[ENTITY__COUNT][NAME_RANK_MAX];
static pthread_once_t name_rank_once = PTHREAD_ONCE_INIT;

static void name_rank_init(void)
{
	for (int k = 0; k < ENTITY__COUNT; k++) {
		const char *const *fields = entity_fields((enum entity_kind)k);

		for (size_t f = 0; f < NAME_RANK_MAX && fields[f] != NULL; f++) {
			unsigned char below = 0;

			for (size_t g = 0; fields[g] != NULL; g++)
				below += strcmp(fields[g], fields[f]) < 0;
			for (const unsigned char *p = (const unsigned char *)fields[f]; *p; p++)
				if (*p >= 0x80)
					below = NAME_RANK_NONE;
			name_rank[k][f] = below;
		}
	}
}

/* strcmp's order (by unsigned bytes), quicker for the usual canonical names:
 * one pointer when equal, a different first byte when not. */
static int field_name_cmp(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (a[0] != b[0])
		return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
	return strcmp(a, b);
}

/* The canonical text of r written into w (cleared first): what
 * briefing_record_json(r) dumped with JSON_SORT_KEYS gives, without building
 * and re-parsing a jansson tree (14,400 of them per 100 searches cost more
 * than the rest of a search).  jansson sorts keys by their bytes (memcmp,
 * then length: strcmp for strings without NUL), and a field given twice is
 * one member with the last value (briefing.c's record_open).  Only for ASCII
 * field names, where escaping keeps that order and cannot make two names
 * one; false otherwise (the caller takes the tree path). */
static bool audit_search_record_text(struct jsonw *w, const struct record *r)
{
	const struct record_field *small[32], **order = small;
	unsigned char rank[32];
	bool ok = true, canon = r->nfields <= sizeof(rank);

	/* canonical names (all of them, as a rule): their order is known, each
	 * one's rank among its kind's names, and they are ASCII */
	pthread_once(&name_rank_once, name_rank_init);
	for (size_t i = 0; i < r->nfields && canon; i++) {
		int f = entity_field_index(r->kind, r->fields[i].name);

		canon = f >= 0 && f < NAME_RANK_MAX && name_rank[r->kind][f] != NAME_RANK_NONE;
		if (canon)
			rank[i] = name_rank[r->kind][f];
	}
	for (size_t i = 0; i < r->nfields && ok && !canon; i++)
		for (const unsigned char *p = (const unsigned char *)r->fields[i].name; *p && ok; p++)
			ok = *p < 0x80;
	if (!ok)
		return false;
	if (r->nfields > sizeof(small) / sizeof(small[0]) &&
	    (order = malloc(r->nfields * sizeof(*order))) == NULL)
		return false;
	for (size_t i = 0; i < r->nfields; i++)
		order[i] = &r->fields[i];
	/* insertion sort: a record has a dozen fields, often already in order,
	 * and it is stable (equal names keep their order) */
	for (size_t i = 1; i < r->nfields; i++) {
		const struct record_field *f = order[i];
		unsigned char fr = canon ? rank[i] : 0;
		size_t j = i;

		if (canon) {
			for (; j > 0 && rank[j - 1] > fr; j--) {
				order[j] = order[j - 1];
				rank[j] = rank[j - 1];
			}
			rank[j] = fr;
		} else {
			for (; j > 0 && field_name_cmp(order[j - 1]->name, f->name) > 0; j--)
				order[j] = order[j - 1];
		}
		order[j] = f;
	}
	jsonw_clear(w);
	jsonw_obj(w);
	jsonw_key(w, "fields");
	jsonw_obj(w);
	for (size_t i = 0; i < r->nfields; i++)
		if (i + 1 == r->nfields || !record_field_eq(order[i]->name, order[i + 1]->name))
			jsonw_kstr(w, order[i]->name, order[i]->value);
	jsonw_obj_end(w);
	jsonw_kstr(w, "source", r->source);
	jsonw_kstr(w, "type", entity_kind_name(r->kind));
	jsonw_obj_end(w);
	if (order != small)
		free(order);
	return !w->failed;
}

/* The digest of r, with w as scratch space and ctx (may be NULL) to hash. */
static int audit_search_digest_with(struct jsonw *w, EVP_MD_CTX *ctx, const struct record *r,
				    char out[65])
{
	if (!audit_search_record_text(w, r))
		return audit_search_record_digest_tree(r, out);
	return audit_search_sha256_hex(ctx, w->buf, w->len, out);
}

int audit_search_record_digest(const struct record *r, char out[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct jsonw w;
	int rc;

	jsonw_init(&w, 1024);
	rc = audit_search_digest_with(&w, ctx, r, out);
	jsonw_fini(&w);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The subjects of the end entry, first seen first, without repeats. */
struct subjects {
	struct subject_key {
		char key[AUDIT_QUERY_KEY_MAX];
		uint32_t hash; /* of key: most comparisons stop here */
	} *keys;
	size_t n, cap;
	/* values already looked at (an identifier: a; a name: given a, family
	 * b): equal values give equal keys, so one person in 20 sources is
	 * normalised once, not 20 times */
	struct seen_value {
		const char *a, *b;
		uint32_t hash; /* of a, b and name: most comparisons stop here */
	} seen[256];
	size_t nseen;
	uint16_t seen_slot[512]; /* open addressing over seen: index + 1, 0 free */
};

static uint32_t subjects_hash(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h ^ 0xFFu) * 16777619u;
}

static bool subjects_seen(struct subjects *sj, const char *a, const char *b, bool name)
{
	const size_t mask = sizeof(sj->seen_slot) / sizeof(sj->seen_slot[0]) - 1;
	uint32_t h = subjects_hash(name ? 2166136261u : 84696351u, a);
	size_t at;

	if (name)
		h = subjects_hash(h, b);
	for (at = h & mask; sj->seen_slot[at] != 0; at = (at + 1) & mask) {
		const struct seen_value *o = &sj->seen[sj->seen_slot[at] - 1];

		if (o->hash == h && (o->b != NULL) == name && strcmp(o->a, a) == 0 &&
		    (!name || strcmp(o->b, b) == 0))
			return true;
	}
	/* the table has twice the room of seen: a free slot is always found */
	if (sj->nseen < sizeof(sj->seen) / sizeof(sj->seen[0])) {
		sj->seen[sj->nseen++] = (struct seen_value){ a, name ? b : NULL, h };
		sj->seen_slot[at] = (uint16_t)sj->nseen;
	}
	return false;
}

static void subjects_add(struct subjects *sj, const char *value, bool name)
{
	char key[AUDIT_QUERY_KEY_MAX];
	uint32_t h;

	if (audit_query_subject_key(value, name, key, sizeof(key)) <= 0)
		return;
	/* only values not seen before get here (subjects_seen): a few keys per
	 * search, so a scan comparing hashes first is enough */
	h = subjects_hash(2166136261u, key);
	for (size_t i = 0; i < sj->n; i++)
		if (sj->keys[i].hash == h && strcmp(sj->keys[i].key, key) == 0)
			return;
	if (sj->n == sj->cap) {
		size_t cap = sj->cap ? 2 * sj->cap : 16;
		struct subject_key *k = realloc(sj->keys, cap * sizeof(*k));

		if (k == NULL)
			return;
		sj->keys = k;
		sj->cap = cap;
	}
	memcpy(sj->keys[sj->n].key, key, sizeof(key));
	sj->keys[sj->n++].hash = h;
}

/* The fields that name a subject: identifiers first, in this order, then the
 * family and given names. */
enum { SUBJECT_IDS = 7, SUBJECT_FAMILY = SUBJECT_IDS, SUBJECT_GIVEN, SUBJECT__COUNT };
static const char *const subject_fields[SUBJECT__COUNT] = {
	"national_number", "plate", "serial", "owner_national_number", "holder_national_number",
	"involved_national_number", "subject_national_number", "family_name", "given_name"
};

/* Per kind and canonical field (entity_fields() order): its index in
 * subject_fields, or -1; computed once, so that a record's fields are
 * matched by pointer instead of nine record_get() string searches. */
#define SUBJECT_TAB_MAX 32
static signed char subject_tab[ENTITY__COUNT][SUBJECT_TAB_MAX];
static pthread_once_t subject_tab_once = PTHREAD_ONCE_INIT;

static int subject_slot_by_name(const char *name)
{
	for (int s = 0; s < SUBJECT__COUNT; s++)
		if (strcmp(name, subject_fields[s]) == 0)
			return s;
	return -1;
}

static void subject_tab_init(void)
{
	for (int k = 0; k < ENTITY__COUNT; k++) {
		const char *const *fields = entity_fields((enum entity_kind)k);
		bool end = false;

		for (size_t f = 0; f < SUBJECT_TAB_MAX; f++) {
			end = end || fields[f] == NULL;
			subject_tab[k][f] = (signed char)(end ? -1 : subject_slot_by_name(fields[f]));
		}
	}
}

/* The index in subject_fields of field name of r, or -1: by the canonical
 * pointer, or by the text for a name that is not one. */
static int subject_slot(const struct record *r, const char *name)
{
	int f = entity_field_index(r->kind, name);

	return f >= 0 && f < SUBJECT_TAB_MAX ? subject_tab[r->kind][f] : subject_slot_by_name(name);
}

/* The subjects a record names (as audit_search_subject/_name do), from the
 * first value of each field (as record_get() finds it). */
static void subjects_of_record(struct subjects *sj, const struct record *r)
{
	const char *vals[SUBJECT__COUNT] = { NULL }, *given = "", *family, *v;
	char both[512];

	pthread_once(&subject_tab_once, subject_tab_init);
	for (size_t i = 0; i < r->nfields; i++) {
		int s = subject_slot(r, r->fields[i].name);

		if (s >= 0 && vals[s] == NULL)
			vals[s] = r->fields[i].value;
	}
	for (size_t i = 0; i < SUBJECT_IDS; i++)
		if ((v = vals[i]) != NULL && !subjects_seen(sj, v, NULL, false))
			subjects_add(sj, v, false);
	if ((family = vals[SUBJECT_FAMILY]) == NULL)
		return;
	if ((v = vals[SUBJECT_GIVEN]) != NULL)
		given = v;
	if (subjects_seen(sj, given, family, true))
		return;
	snprintf(both, sizeof(both), "%s %s", given, family);
	subjects_add(sj, both, true);
}

/* The end entry, written as text: the sources' lines, the digest of every
 * record shown and the subjects they name.  Built as a jansson tree and
 * dumped, it cost about 18 M instructions for a search of 120 records, three
 * times the rest of the search; written in one pass it costs a fraction. */
static void audit_search_write_end(struct audit_search *au, const struct search *s)
{
	size_t ncalls = s != NULL ? search_ncalls(s) : 0, nrec = 0, hits = 0, k = 0;
	struct subjects sj = { 0 };
	struct focal_err err;
	struct audit_ticket *t = NULL;
	char (*digests)[65] = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new(); /* NULL: EVP_Digest per record */
	struct jsonw scratch, w;
	const char *key;
	json_t *v;
	char *body;
	size_t blen;

	au->ended = true;
	for (size_t i = 0; i < ncalls; i++)
		nrec += search_call(s, i)->records.n;
	jsonw_init(&scratch, 1024);
	jsonw_init(&w, 4096 + 128 * nrec + 256 * ncalls);
	if (nrec > 0 && (digests = malloc(nrec * sizeof(*digests))) == NULL)
		w.failed = true;
	/* the digests first: "hits" (records digested) precedes them */
	for (size_t i = 0; i < ncalls && digests != NULL; i++) {
		const struct source_call *call = search_call(s, i);

		for (size_t r = 0; r < call->records.n; r++, k++) {
			digests[k][0] = '\0';
			if (audit_search_digest_with(&scratch, ctx, &call->records.items[r],
						     digests[k]) == FOCAL_OK)
				hits++;
		}
	}
	jsonw_fini(&scratch);
	EVP_MD_CTX_free(ctx);
	jsonw_obj(&w);
	jsonw_kint(&w, "search", (long long)au->seq);
	jsonw_kstr(&w, "status", s != NULL ? "done" : "cancelled");
	jsonw_key(&w, "who");
	jsonw_obj(&w);
	jsonw_kstr(&w, "user", au->who.user);
	jsonw_kstr(&w, "unit", au->who.unit);
	jsonw_kstr(&w, "device", au->who.device);
	jsonw_kstr(&w, "addr", au->who.addr);
	jsonw_obj_end(&w);
	jsonw_kint(&w, "hits", (long long)hits);
	jsonw_key(&w, "sources");
	jsonw_arr(&w);
	for (size_t i = 0; i < ncalls; i++)
		briefing_write_source(&w, search_call(s, i), false);
	jsonw_arr_end(&w);
	jsonw_key(&w, "records");
	jsonw_arr(&w);
	k = 0;
	for (size_t i = 0; i < ncalls && digests != NULL; i++) {
		const struct source_call *call = search_call(s, i);

		for (size_t r = 0; r < call->records.n; r++, k++) {
			const struct record *rec = &call->records.items[r];

			if (digests[k][0] == '\0')
				continue;
			jsonw_obj(&w);
			jsonw_kstr(&w, "sha256", digests[k]);
			jsonw_kstr(&w, "kind", entity_kind_name(rec->kind));
			jsonw_kstr(&w, "source", rec->source);
			jsonw_obj_end(&w);
			subjects_of_record(&sj, rec);
		}
	}
	jsonw_arr_end(&w);
	jsonw_key(&w, "subjects");
	jsonw_arr(&w);
	for (size_t i = 0; i < sj.n; i++)
		jsonw_str(&w, sj.keys[i].key);
	jsonw_arr_end(&w);
	/* why and what was asked, as the begin entry has them */
	json_object_foreach(au->context, key, v) {
		jsonw_key(&w, key);
		jsonw_json(&w, v);
	}
	jsonw_obj_end(&w);
	free(sj.keys);
	free(digests);
	body = jsonw_take(&w, &blen);
	if (body != NULL)
		t = calloc(1, sizeof(*t));
	if (body == NULL || t == NULL || audit_submit_text(t, "search.end", body, &err) != FOCAL_OK) {
		if (t == NULL)
			free(body);
		free(t);
		log_emitj(LOG_ERROR, "audit_unavailable", "the end of a search could not be audited",
			  json_pack("{s:s, s:I}", "alert", "audit_unavailable", "search",
				    (json_int_t)au->seq));
		return;
	}
	if (s != NULL)
		audit_misuse_search_end(au->cfg->audit ? &au->cfg->audit->misuse : NULL, &au->who,
					hits, au->seq);
}

void audit_search_end(struct audit_search *au, const struct search *s)
{
	if (au != NULL && au->begun && !au->ended)
		audit_search_write_end(au, s);
}

void audit_search_free(struct audit_search *au)
{
	if (au == NULL)
		return;
	if (au->begun && !au->ended)
		audit_search_write_end(au, NULL);
	json_decref(au->context);
	config_unref(au->cfg);
	free(au);
}

uint64_t audit_search_seq(const struct audit_search *au)
{
	return au->seq;
}
