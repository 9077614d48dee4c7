/*
 * audit_search: the begin and end entries of a search (see audit_search.h).
 */
#include "audit/audit_search.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_config.h"
#include "audit/audit_query.h"
#include "auth/principal.h"
#include "core/config.h"
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

int audit_search_record_digest(const struct record *r, char out[65])
{
	json_t *o = briefing_record_json(r);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	unsigned char h[32];
	unsigned int hl = 0;
	int rc = FOCAL_E_NOMEM;

	if (text != NULL && EVP_Digest(text, strlen(text), h, &hl, EVP_sha256(), NULL) == 1) {
		static const char digits[] = "0123456789abcdef";

		for (size_t i = 0; i < 32; i++) {
			out[2 * i] = digits[h[i] >> 4];
			out[2 * i + 1] = digits[h[i] & 15];
		}
		out[64] = '\0';
		rc = FOCAL_OK;
	}
	free(text);
	json_decref(o);
	return rc;
}

/* The subjects a record names. */
static void audit_search_record_subjects(json_t *arr, const struct record *r)
{
	static const char *const ids[] = { "national_number", "plate", "serial",
					   "owner_national_number", "holder_national_number",
					   "involved_national_number", "subject_national_number",
					   NULL };

	for (size_t i = 0; ids[i] != NULL; i++)
		audit_search_subject(arr, record_get(r, ids[i]), false);
	audit_search_name(arr, record_get(r, "given_name"), record_get(r, "family_name"));
}

static void audit_search_write_end(struct audit_search *au, const struct search *s)
{
	json_t *sources = json_array(), *records = json_array(), *subjects = json_array();
	struct focal_err err;
	struct audit_ticket *t;
	size_t hits = 0;
	json_t *f;

	au->ended = true;
	for (size_t i = 0; s != NULL && i < search_ncalls(s); i++) {
		const struct source_call *call = search_call(s, i);

		json_array_append_new(sources, briefing_source_json(call, false));
		for (size_t r = 0; r < call->records.n; r++) {
			const struct record *rec = &call->records.items[r];
			char digest[65];

			if (audit_search_record_digest(rec, digest) != FOCAL_OK)
				continue;
			json_array_append_new(records,
					      json_pack("{s:s, s:s, s:s}", "sha256", digest, "kind",
							entity_kind_name(rec->kind), "source",
							rec->source));
			audit_search_record_subjects(subjects, rec);
			hits++;
		}
	}
	f = json_pack("{s:I, s:s, s:{s:s, s:s, s:s, s:s}, s:I, s:o, s:o, s:o}", "search",
		      (json_int_t)au->seq, "status", s != NULL ? "done" : "cancelled", "who", "user",
		      au->who.user, "unit", au->who.unit, "device", au->who.device, "addr",
		      au->who.addr, "hits", (json_int_t)hits, "sources", sources, "records", records,
		      "subjects", subjects);
	if (f != NULL && au->context != NULL)
		json_object_update(f, au->context);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		json_decref(f);
	if (f == NULL || t == NULL || audit_submit(t, "search.end", f, &err) != FOCAL_OK) {
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
