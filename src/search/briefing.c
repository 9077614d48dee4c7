/*
 * briefing: building the officer's briefing from a finished search (see
 * briefing.h).  Alerts are collected from every source and ordered so that
 * what protects the officer is read first, whichever source said it.
 */
#include "search/briefing.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Keywords per rank, lower case; matched as substrings of category/severity. */
static const struct {
	enum alert_rank rank;
	const char *words[12];
} rank_words[] = {
	{ ALERT_ARMED, { "armed", "gewapend", "arme", "armé", "dangerous", "gevaarlijk",
			 "dangereu", "firearm", "vuurwapen", NULL } },
	{ ALERT_WANTED, { "wanted", "gezocht", "signal", "recherch", "arrest", "aanhouding",
			  NULL } },
	{ ALERT_VIOLENCE_POLICE, { "violence against police", "geweld tegen politie",
				   "violence", "geweld", "rebellion", "rebellie", NULL } },
	{ ALERT_VULNERABLE, { "missing", "vermist", "disparu", "vulnerable", "kwetsbaar",
			      "vulnérable", "suicid", NULL } },
};

static const char *const rank_names[] = {
	[ALERT_ARMED] = "armed_dangerous", [ALERT_WANTED] = "wanted",
	[ALERT_VIOLENCE_POLICE] = "violence_against_police",
	[ALERT_VULNERABLE] = "vulnerable_missing", [ALERT_OTHER] = "other",
};

const char *briefing_alert_rank_name(enum alert_rank r)
{
	return r >= ALERT_ARMED && r <= ALERT_OTHER ? rank_names[r] : "other";
}

/* Lower case for ASCII and for the UTF-8 Latin-1 capitals (À-Þ but ×), so
 * that "ARMÉ" and "VULNÉRABLE" match their keywords. */
static void lower_copy(const char *s, char *out, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; u[i] != '\0' && i + 1 < max; i++) {
		if (i > 0 && u[i - 1] == 0xC3 && u[i] >= 0x80 && u[i] <= 0x9E && u[i] != 0x97)
			out[i] = (char)(u[i] + 0x20);
		else
			out[i] = (char)tolower(u[i]);
	}
	out[i] = '\0';
}

enum alert_rank briefing_alert_rank(const struct record *r)
{
	const char *fields[] = { record_get(r, "category"), record_get(r, "severity") };
	char text[512];

	/* the first list that matches wins: "armed and wanted" is armed */
	for (size_t k = 0; k < sizeof(rank_words) / sizeof(rank_words[0]); k++)
		for (size_t f = 0; f < 2; f++) {
			if (fields[f] == NULL)
				continue;
			lower_copy(fields[f], text, sizeof(text));
			for (size_t w = 0; rank_words[k].words[w] != NULL; w++)
				if (strstr(text, rank_words[k].words[w]) != NULL)
					return rank_words[k].rank;
		}
	return ALERT_OTHER;
}

json_t *briefing_record_json(const struct record *r)
{
	json_t *o = json_object(), *fields = json_object();

	for (size_t i = 0; i < r->nfields; i++)
		json_object_set_new(fields, r->fields[i].name, json_string(r->fields[i].value));
	json_object_set_new(o, "type", json_string(entity_kind_name(r->kind)));
	json_object_set_new(o, "source", json_string(r->source));
	json_object_set_new(o, "fields", fields);
	return o;
}

json_t *briefing_source_json(const struct source_call *call, bool with_records)
{
	const struct source_def *d = call->def;
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:f, s:s, s:s}", "name", d->name, "status",
			      source_status_name(call->status), "query_kind",
			      query_kind_name(call->query->kind), "rows", (json_int_t)call->rows,
			      "ms", call->ms, "classification",
			      classification_name(d->classification), "owner", d->owner);

	if (o == NULL)
		return NULL;
	if (call->reason[0] != '\0')
		json_object_set_new(o, "reason", json_string(call->reason));
	if (with_records) {
		json_t *recs = json_array();

		for (size_t i = 0; i < call->records.n; i++)
			json_array_append_new(recs, briefing_record_json(&call->records.items[i]));
		json_object_set_new(o, "records", recs);
	}
	return o;
}

struct ranked {
	const struct record *r;
	enum alert_rank rank;
	size_t order; /* keeps the sort stable */
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return (int)x->rank - (int)y->rank;
	return x->order < y->order ? -1 : x->order > y->order;
}

static json_t *briefing_alerts(const struct search *s)
{
	struct ranked *v = NULL;
	size_t n = 0, cap = 0;
	json_t *arr = json_array();

	for (size_t c = 0; c < search_ncalls(s); c++) {
		const struct record_set *rs = &search_call(s, c)->records;

		for (size_t i = 0; i < rs->n; i++) {
			if (rs->items[i].kind != ENTITY_ALERT)
				continue;
			if (n == cap) {
				struct ranked *nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*nv));

				if (nv == NULL)
					goto out;
				v = nv;
				cap = cap ? cap * 2 : 16;
			}
			v[n].r = &rs->items[i];
			v[n].rank = briefing_alert_rank(&rs->items[i]);
			v[n].order = n;
			n++;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), ranked_cmp);
	for (size_t i = 0; i < n; i++) {
		json_t *a = briefing_record_json(v[i].r);

		json_object_set_new(a, "rank", json_string(briefing_alert_rank_name(v[i].rank)));
		json_array_append_new(arr, a);
	}
out:
	free(v);
	return arr;
}

json_t *briefing_json(const struct search *s)
{
	json_t *b = json_object(), *records = json_array(), *sources = json_array();
	size_t ok = 0, failed = 0, asked = 0;
	bool *asked_src = calloc(search_nsources_total(s) + 1, sizeof(bool));

	for (size_t c = 0; c < search_ncalls(s); c++) {
		const struct source_call *call = search_call(s, c);

		for (size_t i = 0; i < call->records.n; i++)
			if (call->records.items[i].kind != ENTITY_ALERT)
				json_array_append_new(records,
						      briefing_record_json(&call->records.items[i]));
		json_array_append_new(sources, briefing_source_json(call, false));
		if (call->status == SOURCE_OK || call->status == SOURCE_TRUNCATED)
			ok++;
		else
			failed++;
		if (asked_src != NULL && !asked_src[call->def->index]) {
			asked_src[call->def->index] = true;
			asked++;
		}
	}
	free(asked_src);
	json_object_set_new(b, "query", query_request_json(search_request(s)));
	json_object_set_new(b, "alerts", briefing_alerts(s));
	json_object_set_new(b, "records", records);
	json_object_set_new(b, "sources", sources);
	json_object_set_new(b, "summary",
			    json_pack("{s:I, s:I, s:I, s:I, s:s}", "sources_asked", (json_int_t)asked,
				      "calls_ok", (json_int_t)ok, "calls_failed", (json_int_t)failed,
				      "sources_not_searched",
				      (json_int_t)(search_nsources_total(s) - asked),
				      "not_searched_reason",
				      "they do not answer this kind of query"));
	json_object_set_new(b, "elapsed_ms", json_real(search_elapsed_ms(s)));
	return b;
}
