/*
 * briefing: building the officer's briefing from a finished search (see
 * briefing.h, docs/briefing.md).  Alerts are collected from every source and
 * ordered so that what protects the officer is read first, whichever source
 * said it; the other records are resolved into entities (resolve.h) so that
 * the officer reads one card per person, with where each fact came from.
 */
#include "search/briefing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/normalize.h"
#include "search/resolve.h"

/* ---- alert ranking ---- */

enum kw_match {
	KW_WORD,     /* the whole word */
	KW_PREFIX,   /* a word starting with it: French and Dutch endings */
	KW_CONTAINS, /* anywhere in a word: Dutch compounds ("zwaargewapend") */
};

struct keyword {
	const char *text; /* as normalize_key() writes it: lower case, no diacritics */
	enum kw_match match;
	enum alert_rank rank;
	bool weak; /* a generic notice word: counts only when nothing specific is said */
};

/* Dutch, French and English.  Words, not substrings, so "gendarmerie" is
 * not "arme" and "unarmed" is not "armed" (see negation below). */
static const struct keyword keywords[] = {
	/* armed or dangerous */
	{ "armed", KW_WORD, ALERT_ARMED, false },
	{ "arme", KW_WORD, ALERT_ARMED, false },    /* armé, arme */
	{ "armes", KW_WORD, ALERT_ARMED, false },
	{ "armee", KW_WORD, ALERT_ARMED, false },   /* armée */
	{ "armees", KW_WORD, ALERT_ARMED, false },
	{ "gewapend", KW_CONTAINS, ALERT_ARMED, false },
	{ "wapen", KW_CONTAINS, ALERT_ARMED, false }, /* vuurwapen, steekwapen, wapens */
	{ "weapon", KW_PREFIX, ALERT_ARMED, false },
	{ "firearm", KW_PREFIX, ALERT_ARMED, false },
	{ "gun", KW_WORD, ALERT_ARMED, false },
	{ "guns", KW_WORD, ALERT_ARMED, false },
	{ "dangerous", KW_WORD, ALERT_ARMED, false },
	{ "danger", KW_WORD, ALERT_ARMED, false },
	{ "dangereu", KW_PREFIX, ALERT_ARMED, false }, /* dangereux, dangereuse */
	{ "gevaarlijk", KW_CONTAINS, ALERT_ARMED, false },
	{ "gevaar", KW_WORD, ALERT_ARMED, false },
	{ "explosi", KW_PREFIX, ALERT_ARMED, false },
	/* wanted */
	{ "wanted", KW_WORD, ALERT_WANTED, false },
	{ "warrant", KW_PREFIX, ALERT_WANTED, false },
	{ "arrest", KW_PREFIX, ALERT_WANTED, false },  /* arrest, arrestation, arrestatie */
	{ "aanhoud", KW_PREFIX, ALERT_WANTED, false }, /* aanhouden, aanhouding */
	{ "mandat", KW_WORD, ALERT_WANTED, false },    /* mandat d'arrêt */
	{ "fugitive", KW_PREFIX, ALERT_WANTED, false },
	{ "voortvluchtig", KW_PREFIX, ALERT_WANTED, false },
	{ "evade", KW_PREFIX, ALERT_WANTED, false },   /* évadé */
	{ "ontsnapt", KW_WORD, ALERT_WANTED, false },
	{ "gezocht", KW_PREFIX, ALERT_WANTED, true },  /* also "vermist, gezocht" */
	{ "recherch", KW_PREFIX, ALERT_WANTED, true }, /* also "recherche dans l'intérêt des familles" */
	{ "signal", KW_PREFIX, ALERT_WANTED, true },   /* signalering, signalement, signalé */
	{ "seining", KW_WORD, ALERT_WANTED, true },
	{ "geseind", KW_WORD, ALERT_WANTED, true },
	{ "opsporing", KW_PREFIX, ALERT_WANTED, true },
	{ "sought", KW_WORD, ALERT_WANTED, true },
	/* violence against police */
	{ "geweld", KW_PREFIX, ALERT_VIOLENCE_POLICE, false }, /* geweld, gewelddadig */
	{ "violen", KW_PREFIX, ALERT_VIOLENCE_POLICE, false }, /* violence, violent(e) */
	{ "rebel", KW_PREFIX, ALERT_VIOLENCE_POLICE, false },  /* rebellie, rébellion */
	{ "weerspannig", KW_PREFIX, ALERT_VIOLENCE_POLICE, false },
	{ "agress", KW_PREFIX, ALERT_VIOLENCE_POLICE, false }, /* agressie, agressif */
	{ "aggress", KW_PREFIX, ALERT_VIOLENCE_POLICE, false },
	/* vulnerable or missing person */
	{ "missing", KW_WORD, ALERT_VULNERABLE, false },
	{ "vermist", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "vermiss", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "disparu", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "disparit", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "vulnerab", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "kwetsbaar", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "suicid", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "zelfmoord", KW_CONTAINS, ALERT_VULNERABLE, false },
	{ "zelfdoding", KW_CONTAINS, ALERT_VULNERABLE, false },
	{ "runaway", KW_WORD, ALERT_VULNERABLE, false },
	{ "weggelopen", KW_WORD, ALERT_VULNERABLE, false },
	{ "fugue", KW_WORD, ALERT_VULNERABLE, false },
	{ "dement", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "alzheimer", KW_PREFIX, ALERT_VULNERABLE, false },
};

/* Words that negate the next keyword within NEGATION_REACH words (not across
 * punctuation): "not armed", "niet meer gezocht", "pas armé", "geen wapen",
 * "ni armé ni dangereux". */
static const char *const negators[] = { "not", "no", "non", "never", "without", "nor", "niet",
					"geen", "nooit", "zonder", "noch", "pas", "sans", "ni",
					"jamais", "aucun", "aucune", NULL };
#define NEGATION_REACH 3
/* Prefixes that make a word the negation of a keyword: "unarmed",
 * "ongewapend", "ongevaarlijk", "nonviolent". */
static const char *const negating_prefixes[] = { "un", "on", "non", "niet", NULL };

static const char *const rank_names[] = {
	[ALERT_ARMED] = "armed_dangerous", [ALERT_WANTED] = "wanted",
	[ALERT_VIOLENCE_POLICE] = "violence_against_police",
	[ALERT_VULNERABLE] = "vulnerable_missing", [ALERT_OTHER] = "other",
};

const char *briefing_alert_rank_name(enum alert_rank r)
{
	return r >= ALERT_ARMED && r <= ALERT_OTHER ? rank_names[r] : "other";
}

static bool word_in(const char *w, size_t len, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == len && memcmp(list[i], w, len) == 0)
			return true;
	return false;
}

/* The keyword w[0..len) is, or NULL.  With at_start, only keywords that begin
 * the word count (used on what follows a negating prefix). */
static const struct keyword *keyword_of(const char *w, size_t len, bool at_start)
{
	const struct keyword *best = NULL;

	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		const struct keyword *kw = &keywords[k];
		size_t kl = strlen(kw->text);
		bool hit = false;

		if (kl > len)
			continue;
		switch (kw->match) {
		case KW_WORD:
			hit = kl == len && memcmp(w, kw->text, kl) == 0;
			break;
		case KW_PREFIX:
			hit = memcmp(w, kw->text, kl) == 0;
			break;
		case KW_CONTAINS:
			if (at_start) {
				hit = memcmp(w, kw->text, kl) == 0;
				break;
			}
			for (size_t i = 0; i + kl <= len && !hit; i++)
				hit = memcmp(w + i, kw->text, kl) == 0;
			break;
		}
		if (hit && (best == NULL || (best->weak && !kw->weak) ||
			    (best->weak == kw->weak && kw->rank < best->rank)))
			best = kw;
	}
	return best;
}

/* A keyword negated by its own prefix ("unarmed"): true. */
static bool negated_by_prefix(const char *w, size_t len)
{
	for (size_t p = 0; negating_prefixes[p] != NULL; p++) {
		size_t pl = strlen(negating_prefixes[p]);

		if (pl < len && memcmp(w, negating_prefixes[p], pl) == 0 &&
		    keyword_of(w + pl, len - pl, true) != NULL)
			return true;
	}
	return false;
}

/* Scans one text: the most severe specific and weak ranks it names. */
static void rank_text(const char *text, enum alert_rank *specific, enum alert_rank *weak)
{
	char key[1024];
	int n = text != NULL ? normalize_key(text, key, sizeof(key)) : -1;
	int negate_left = 0; /* words the last negator still reaches */
	size_t i = 0, len;

	if (text == NULL)
		return;
	if (n < 0) {
		/* not UTF-8 or very long: lower-cased ASCII still finds most words */
		for (len = 0; text[len] != '\0' && len + 1 < sizeof(key); len++)
			key[len] = (char)(text[len] >= 'A' && text[len] <= 'Z' ? text[len] + 32
									       : text[len]);
		key[len] = '\0';
		n = (int)len;
	}
	len = (size_t)n;
	while (i < len) {
		size_t b = i;
		const struct keyword *kw;

		/* separators: punctuation ends a negation's reach */
		while (i < len && !((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
				    (unsigned char)key[i] >= 0x80)) {
			if (strchr(".,;:!?()[]/|", key[i]) != NULL)
				negate_left = 0;
			i++;
		}
		b = i;
		while (i < len && ((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
				   (unsigned char)key[i] >= 0x80))
			i++;
		if (i == b)
			break;
		if (word_in(key + b, i - b, negators)) {
			negate_left = NEGATION_REACH;
			continue;
		}
		kw = keyword_of(key + b, i - b, false);
		if (kw != NULL && negate_left == 0 && !negated_by_prefix(key + b, i - b)) {
			enum alert_rank *slot = kw->weak ? weak : specific;

			if (kw->rank < *slot)
				*slot = kw->rank;
		}
		if (kw != NULL)
			negate_left = 0; /* a negator reaches the next keyword only */
		else if (negate_left > 0)
			negate_left--;
	}
}

enum alert_rank briefing_alert_rank(const struct record *r)
{
	enum alert_rank specific = ALERT_OTHER, weak = ALERT_OTHER;

	rank_text(record_get(r, "category"), &specific, &weak);
	rank_text(record_get(r, "severity"), &specific, &weak);
	return specific != ALERT_OTHER ? specific : weak;
}

/* ---- records and source lines ---- */

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
	/* which reading of the query this call answered, and for a linked hop
	 * what led to it: the officer sees why a source was asked */
	if (call->query->read_as != NULL)
		json_object_set_new(o, "read_as", json_string(call->query->read_as));
	if (call->depth > 0)
		json_object_set_new(o, "hop", json_pack("{s:I, s:s}", "depth", (json_int_t)call->depth,
							"via", call->via ? call->via : ""));
	if (with_records) {
		json_t *recs = json_array();

		for (size_t i = 0; i < call->records.n; i++)
			json_array_append_new(recs, briefing_record_json(&call->records.items[i]));
		json_object_set_new(o, "records", recs);
	}
	return o;
}

/* ---- the whole briefing ---- */

struct ranked {
	size_t rec; /* index into the search's records */
	enum alert_rank rank;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return (int)x->rank - (int)y->rank;
	return x->rec < y->rec ? -1 : x->rec > y->rec; /* keeps arrival order */
}

/* What one briefing is built from. */
struct build {
	const struct record **recs; /* every record of the search, call by call */
	size_t n;
	struct resolve_result *res; /* NULL if resolution failed (out of memory) */
	struct ranked *alerts;
	size_t nalerts;
	size_t *alert_pos; /* per record: position in alerts, or RESOLVE_NONE */
};

static json_t *entity_id(size_t e)
{
	char id[32];

	snprintf(id, sizeof(id), "e%zu", e + 1);
	return json_string(id);
}

static const char *first_value(const struct resolve_result *res, size_t e, const char *field)
{
	const struct resolve_entity *ent = &res->entities[e];

	for (size_t f = ent->fact; f < ent->fact + ent->nfact; f++)
		if (strcmp(res->facts[f].field, field) == 0)
			return res->facts[f].value;
	return NULL;
}

/* A one-line name for an entity: "Jan Peeters, 1985-07-30", "1ABC123 Volvo". */
static json_t *entity_label(const struct resolve_result *res, size_t e)
{
	static const char *const parts[ENTITY__COUNT][4] = {
		[ENTITY_PERSON] = { "given_name", "family_name", "birth_date", NULL },
		[ENTITY_VEHICLE] = { "plate", "make", "model", "colour" },
		[ENTITY_FIREARM] = { "serial", "make", "model", "calibre" },
		[ENTITY_ADDRESS] = { "street", "number", "postcode", "city" },
		[ENTITY_REPORT] = { "reference", "type", "date", NULL },
	};
	enum entity_kind k = res->entities[e].kind;
	char label[256];
	size_t off = 0;

	label[0] = '\0';
	for (int i = 0; i < 4 && parts[k][i] != NULL; i++) {
		const char *v = first_value(res, e, parts[k][i]);
		int w;

		if (v == NULL)
			continue;
		/* the person's birth date and the city follow a comma */
		w = snprintf(label + off, sizeof(label) - off, "%s%s",
			     off == 0 ? ""
			     : (strcmp(parts[k][i], "birth_date") == 0 ||
				strcmp(parts[k][i], "postcode") == 0 ||
				strcmp(parts[k][i], "date") == 0) ? ", " : " ",
			     v);
		if (w < 0 || (size_t)w >= sizeof(label) - off) {
			off = strlen(label);
			break;
		}
		off += (size_t)w;
	}
	if (off == 0)
		snprintf(label, sizeof(label), "%s e%zu", entity_kind_name(k), e + 1);
	return json_string(label);
}

static json_t *entity_facts(const struct resolve_result *res, size_t e, json_t **conflicts)
{
	const struct resolve_entity *ent = &res->entities[e];
	json_t *facts = json_object();

	*conflicts = json_array();
	for (size_t f = ent->fact; f < ent->fact + ent->nfact; f++) {
		const struct resolve_fact *fa = &res->facts[f];
		json_t *list = json_object_get(facts, fa->field), *v, *srcs = json_array();

		if (list == NULL) {
			list = json_array();
			json_object_set_new(facts, fa->field, list);
			if (fa->conflict)
				json_array_append_new(*conflicts, json_string(fa->field));
		}
		for (size_t s = fa->src; s < fa->src + fa->nsrc; s++)
			json_array_append_new(srcs, json_string(res->fact_sources[s]));
		v = json_pack("{s:s, s:o}", "value", fa->value, "sources", srcs);
		if (v != NULL && fa->conflict)
			json_object_set_new(v, "conflict", json_true());
		json_array_append_new(list, v);
	}
	return facts;
}

static const char *why_text(enum resolve_why w)
{
	switch (w) {
	case RESOLVE_NAME_NO_BIRTH_DATE:
		return "same name; no birth date to confirm";
	case RESOLVE_INITIAL_NO_BIRTH_DATE:
		return "initial and family name match; no birth date to confirm";
	case RESOLVE_SAME_ID_OTHER_BIRTH_DATE:
		return "same identifier, but the birth dates differ";
	case RESOLVE_SAME_ID_OTHER_ID:
		return "one identifier agrees, another differs";
	case RESOLVE_GIVEN_NAMES_PART:
		return "same family name and part of the given names; not enough to confirm";
	}
	return "uncertain";
}

static int pos_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(*(json_t *const *)a);
	json_int_t y = json_integer_value(*(json_t *const *)b);

	return x < y ? -1 : x > y;
}

/* A json array of integers, sorted. */
static void sort_int_array(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **v;

	if (n < 2 || (v = malloc(n * sizeof(*v))) == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), pos_cmp);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

static json_t *entity_json(const struct build *b, size_t e)
{
	const struct resolve_result *res = b->res;
	const struct resolve_entity *ent = &res->entities[e];
	json_t *o, *srcs = json_array(), *facts, *conflicts, *related = json_array();
	json_t *alerts = json_array(), *possibly = json_array(), *matches = json_array();

	for (size_t s = ent->src; s < ent->src + ent->nsrc; s++)
		json_array_append_new(srcs, json_string(res->entity_sources[s]));
	facts = entity_facts(res, e, &conflicts);
	for (size_t l = 0; l < res->nlinks; l++)
		if (res->links[l].from == e)
			json_array_append_new(related,
					      json_pack("{s:o, s:s, s:s}", "entity",
							entity_id(res->links[l].to), "type",
							entity_kind_name(res->entities[res->links[l].to].kind),
							"relation",
							resolve_relation_name(res->links[l].rel)));
	for (size_t c = 0; c < res->nconcerns; c++)
		if (res->concerns[c].entity == e)
			json_array_append_new(res->concerns[c].certain ? alerts : possibly,
					      json_integer((json_int_t)b->alert_pos[res->concerns[c].alert]));
	sort_int_array(alerts);
	sort_int_array(possibly);
	for (size_t p = 0; p < res->npossible; p++)
		if (res->possible[p].entity == e)
			json_array_append_new(matches, entity_id(res->possible[p].candidate));
	o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", entity_id(e),
		      "type", entity_kind_name(ent->kind), "label", entity_label(res, e), "sources",
		      srcs, "facts", facts, "conflicts", conflicts, "alerts", alerts,
		      "possible_alerts", possibly, "related", related, "possible_matches", matches);
	if (o != NULL && ent->candidate) {
		json_t *may_be = json_array();

		for (size_t p = 0; p < res->npossible; p++)
			if (res->possible[p].candidate == e)
				json_array_append_new(
					may_be, json_pack("{s:o, s:s, s:s}", "entity",
							  entity_id(res->possible[p].entity), "reason",
							  resolve_why_name(res->possible[p].why),
							  "explanation", why_text(res->possible[p].why)));
		json_object_set_new(o, "may_be", may_be);
	}
	return o;
}

static json_t *alerts_json(const struct build *b)
{
	json_t *arr = json_array();
	size_t c = 0;

	for (size_t i = 0; i < b->nalerts; i++) {
		size_t rec = b->alerts[i].rec;
		json_t *a = briefing_record_json(b->recs[rec]);
		json_t *concerns = json_array(), *possibly = json_array();

		json_object_set_new(a, "rank", json_string(briefing_alert_rank_name(b->alerts[i].rank)));
		if (b->res != NULL) {
			/* concerns are sorted by alert record: find this one's */
			for (c = 0; c < b->res->nconcerns && b->res->concerns[c].alert < rec; c++)
				;
			for (; c < b->res->nconcerns && b->res->concerns[c].alert == rec; c++)
				json_array_append_new(b->res->concerns[c].certain ? concerns : possibly,
						      entity_id(b->res->concerns[c].entity));
		}
		json_object_set_new(a, "concerns", concerns);
		json_object_set_new(a, "possibly_concerns", possibly);
		json_array_append_new(arr, a);
	}
	return arr;
}

static int build_init(struct build *b, const struct search *s)
{
	size_t total = 0;
	struct focal_err err;
	bool *dup;

	memset(b, 0, sizeof(*b));
	for (size_t c = 0; c < search_ncalls(s); c++)
		total += search_call(s, c)->records.n;
	b->recs = malloc((total + 1) * sizeof(*b->recs));
	b->alerts = malloc((total + 1) * sizeof(*b->alerts));
	b->alert_pos = malloc((total + 1) * sizeof(*b->alert_pos));
	if (b->recs == NULL || b->alerts == NULL || b->alert_pos == NULL)
		return FOCAL_E_NOMEM;
	dup = malloc((total + 1) * sizeof(*dup));
	if (dup == NULL)
		return FOCAL_E_NOMEM;
	for (size_t c = 0; c < search_ncalls(s); c++) {
		const struct record_set *rs = &search_call(s, c)->records;

		for (size_t i = 0; i < rs->n; i++) {
			b->alert_pos[b->n] = c; /* the call, for resolve_duplicates */
			b->recs[b->n++] = &rs->items[i];
		}
	}
	/* one row answered twice (a source asked at first level and again
	 * through a linked hop) is shown once */
	if (resolve_duplicates(b->recs, b->n, b->alert_pos, dup) == FOCAL_OK) {
		size_t w = 0;

		for (size_t i = 0; i < b->n; i++)
			if (!dup[i])
				b->recs[w++] = b->recs[i];
		b->n = w;
	}
	free(dup);
	for (size_t i = 0; i < b->n; i++) {
		b->alert_pos[i] = RESOLVE_NONE;
		if (b->recs[i]->kind == ENTITY_ALERT)
			b->alerts[b->nalerts++] = (struct ranked){ i, briefing_alert_rank(b->recs[i]) };
	}
	if (b->nalerts > 0)
		qsort(b->alerts, b->nalerts, sizeof(*b->alerts), ranked_cmp);
	for (size_t i = 0; i < b->nalerts; i++)
		b->alert_pos[b->alerts[i].rec] = i;
	/* without resolution the briefing still has its alerts, records, sources */
	if (resolve_records(b->recs, b->n, &b->res, &err) != FOCAL_OK)
		b->res = NULL;
	return FOCAL_OK;
}

static void build_fini(struct build *b)
{
	resolve_free(b->res);
	free(b->recs);
	free(b->alerts);
	free(b->alert_pos);
}

json_t *briefing_json(const struct search *s)
{
	json_t *b = json_object(), *records = json_array(), *sources = json_array();
	json_t *entities = json_array(), *possible = json_array();
	size_t ok = 0, failed = 0, asked = 0, nentities = 0, ncandidates = 0;
	bool *asked_src = calloc(search_nsources_total(s) + 1, sizeof(bool));
	struct build bd;

	if (build_init(&bd, s) != FOCAL_OK) {
		build_fini(&bd);
		memset(&bd, 0, sizeof(bd));
	}
	for (size_t i = 0; i < bd.n; i++) {
		json_t *r;

		if (bd.recs[i]->kind == ENTITY_ALERT)
			continue;
		r = briefing_record_json(bd.recs[i]);
		if (bd.res != NULL && bd.res->entity_of[i] != RESOLVE_NONE)
			json_object_set_new(r, "entity", entity_id(bd.res->entity_of[i]));
		json_array_append_new(records, r);
	}
	for (size_t e = 0; bd.res != NULL && e < bd.res->nentities; e++) {
		json_array_append_new(bd.res->entities[e].candidate ? possible : entities,
				      entity_json(&bd, e));
		nentities += !bd.res->entities[e].candidate;
		ncandidates += bd.res->entities[e].candidate;
	}
	for (size_t c = 0; c < search_ncalls(s); c++) {
		const struct source_call *call = search_call(s, c);

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
	json_object_set_new(b, "alerts", alerts_json(&bd));
	json_object_set_new(b, "entities", entities);
	json_object_set_new(b, "possible_matches", possible);
	json_object_set_new(b, "records", records);
	json_object_set_new(b, "sources", sources);
	json_object_set_new(b, "summary",
			    json_pack("{s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:I}", "sources_asked",
				      (json_int_t)asked, "calls_ok", (json_int_t)ok, "calls_failed",
				      (json_int_t)failed, "sources_not_searched",
				      (json_int_t)(search_nsources_total(s) - asked),
				      "not_searched_reason", "they do not answer this kind of query",
				      "entities", (json_int_t)nentities, "possible_matches",
				      (json_int_t)ncandidates,
				      "possible_matches_not_shown",
				      (json_int_t)(bd.res != NULL ? bd.res->possible_dropped : 0)));
	json_object_set_new(json_object_get(b, "summary"), "hops",
			    json_integer((json_int_t)search_nhops(s)));
	json_object_set_new(json_object_get(b, "summary"), "hops_not_started",
			    json_integer((json_int_t)search_hops_skipped(s)));
	json_object_set_new(b, "elapsed_ms", json_real(search_elapsed_ms(s)));
	build_fini(&bd);
	return b;
}
