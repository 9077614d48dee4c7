/*
 * briefing: building the officer's briefing from a finished search (see
 * briefing.h, docs/briefing.md).  Alerts are collected from every source and
 * ordered so that what protects the officer is read first, whichever source
 * said it; the other records are resolved into entities (resolve.h) so that
 * the officer reads one card per person, with where each fact came from.
 */
#include "search/briefing.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "policy/policy.h"
#include "search/fanout.h"
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

/* Dutch, French, German and English.  Words, not substrings, so "gendarmerie" is
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
	{ "bewaffnet", KW_PREFIX, ALERT_ARMED, false }, /* bewaffnet, bewaffnete */
	{ "waffe", KW_CONTAINS, ALERT_ARMED, false },   /* Schusswaffe, Waffen */
	{ "gefahrlich", KW_PREFIX, ALERT_ARMED, false }, /* gefährlich, gefährliche */
	{ "gefahr", KW_WORD, ALERT_ARMED, false },
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
	{ "haftbefehl", KW_CONTAINS, ALERT_WANTED, false },
	{ "festnahme", KW_PREFIX, ALERT_WANTED, false },
	{ "festnehm", KW_PREFIX, ALERT_WANTED, false },
	{ "fluchtig", KW_PREFIX, ALERT_WANTED, false },   /* flüchtig */
	{ "entwichen", KW_WORD, ALERT_WANTED, false },
	{ "ausgebrochen", KW_WORD, ALERT_WANTED, false },
	{ "gesucht", KW_PREFIX, ALERT_WANTED, true },
	{ "fahndung", KW_CONTAINS, ALERT_WANTED, true },  /* Personenfahndung */
	/* violence against police */
	{ "geweld", KW_PREFIX, ALERT_VIOLENCE_POLICE, false }, /* geweld, gewelddadig */
	{ "violen", KW_PREFIX, ALERT_VIOLENCE_POLICE, false }, /* violence, violent(e) */
	{ "rebel", KW_PREFIX, ALERT_VIOLENCE_POLICE, false },  /* rebellie, rébellion */
	{ "weerspannig", KW_PREFIX, ALERT_VIOLENCE_POLICE, false },
	{ "agress", KW_PREFIX, ALERT_VIOLENCE_POLICE, false }, /* agressie, agressif */
	{ "aggress", KW_PREFIX, ALERT_VIOLENCE_POLICE, false },
	{ "gewalt", KW_PREFIX, ALERT_VIOLENCE_POLICE, false },    /* Gewalt, gewalttätig */
	{ "widerstand", KW_PREFIX, ALERT_VIOLENCE_POLICE, false }, /* gegen Vollstreckungsbeamte */
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
	{ "vermisst", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "hilflos", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "suizid", KW_PREFIX, ALERT_VULNERABLE, false },
	{ "selbstmord", KW_CONTAINS, ALERT_VULNERABLE, false },
	{ "demenz", KW_PREFIX, ALERT_VULNERABLE, false },
};

/* Words that negate the next keyword within NEGATION_REACH words (not across
 * punctuation): "not armed", "niet meer gezocht", "pas armé", "geen wapen",
 * "ni armé ni dangereux". */
static const char *const negators[] = { "not", "no", "non", "never", "without", "nor", "niet",
					"geen", "nooit", "zonder", "noch", "pas", "sans", "ni",
					"jamais", "aucun", "aucune", "nicht", "kein", "keine",
					"nie", "ohne", "weder", NULL };
#define NEGATION_REACH 3
/* Prefixes that make a word the negation of a keyword: "unarmed",
 * "ongewapend", "ongevaarlijk", "nonviolent", "unbewaffnet". */
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

/* strlen of every keyword, once: keyword_of() looks at all of them for
 * every word of an alert. */
static size_t keyword_len[sizeof(keywords) / sizeof(keywords[0])];
static pthread_once_t keyword_len_once = PTHREAD_ONCE_INIT;

static void keyword_len_init(void)
{
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
		keyword_len[k] = strlen(keywords[k].text);
}

/* The keyword w[0..len) is, or NULL.  With at_start, only keywords that begin
 * the word count (used on what follows a negating prefix). */
static const struct keyword *keyword_of(const char *w, size_t len, bool at_start)
{
	const struct keyword *best = NULL;

	pthread_once(&keyword_len_once, keyword_len_init);
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		const struct keyword *kw = &keywords[k];
		size_t kl = keyword_len[k];
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

/* Written straight to a jsonw (jsonw.h): a briefing of 120 records was a tree
 * of thousands of jansson values, then a second walk to dump it; this is one
 * pass with no allocation per value.  The text is what the tree gave, member
 * for member and in the same order. */

/* A record's object, left open for what the caller adds ("entity", "rank"). */
static void record_open(struct jsonw *w, const struct record *r)
{
	jsonw_obj(w);
	jsonw_kstr(w, "type", entity_kind_name(r->kind));
	jsonw_kstr(w, "source", r->source);
	jsonw_key(w, "fields");
	jsonw_obj(w);
	for (size_t i = 0; i < r->nfields; i++) {
		const char *name = r->fields[i].name, *value = r->fields[i].value;
		bool seen = false;

		/* a field given twice: one member, where it first came, with the
		 * last value (what setting an object member twice gives) */
		for (size_t j = 0; j < i && !seen; j++)
			seen = record_field_eq(r->fields[j].name, name);
		if (seen)
			continue;
		for (size_t j = i + 1; j < r->nfields; j++)
			if (record_field_eq(r->fields[j].name, name))
				value = r->fields[j].value;
		jsonw_kstr(w, name, value);
	}
	jsonw_obj_end(w);
}

void briefing_write_record(struct jsonw *w, const struct record *r)
{
	record_open(w, r);
	jsonw_obj_end(w);
}

void briefing_write_alert(struct jsonw *w, const struct record *r)
{
	record_open(w, r);
	jsonw_kstr(w, "rank", briefing_alert_rank_name(briefing_alert_rank(r)));
	jsonw_obj_end(w);
}

void briefing_write_source(struct jsonw *w, const struct source_call *call, bool with_records)
{
	const struct source_def *d = call->def;

	jsonw_obj(w);
	jsonw_kstr(w, "name", d->name);
	jsonw_kstr(w, "status", source_status_name(call->status));
	jsonw_kstr(w, "query_kind", query_kind_name(call->query->kind));
	jsonw_kint(w, "rows", (long long)call->rows);
	jsonw_kreal(w, "ms", call->ms);
	jsonw_kstr(w, "classification", classification_name(d->classification));
	jsonw_kstr(w, "owner", d->owner);
	if (call->reason[0] != '\0')
		jsonw_kstr(w, "reason", call->reason);
	/* which reading of the query this call answered, and for a linked hop
	 * what led to it: the officer sees why a source was asked */
	if (call->query->read_as != NULL)
		jsonw_kstr(w, "read_as", call->query->read_as);
	if (call->depth > 0) {
		jsonw_key(w, "hop");
		jsonw_obj(w);
		jsonw_kint(w, "depth", (long long)call->depth);
		jsonw_kstr(w, "via", call->via ? call->via : "");
		jsonw_obj_end(w);
	}
	if (with_records) {
		jsonw_key(w, "records");
		jsonw_arr(w);
		for (size_t i = 0; i < call->records.n; i++)
			briefing_write_record(w, &call->records.items[i]);
		jsonw_arr_end(w);
	}
	jsonw_obj_end(w);
}

/* The jansson forms: the written text, parsed (tests and tools). */
static json_t *written_json(struct jsonw *w)
{
	size_t len;
	char *text = jsonw_take(w, &len);
	json_t *j = text != NULL ? json_loadb(text, len, 0, NULL) : NULL;

	free(text);
	return j;
}

json_t *briefing_record_json(const struct record *r)
{
	struct jsonw w;

	jsonw_init(&w, 512);
	briefing_write_record(&w, r);
	return written_json(&w);
}

json_t *briefing_source_json(const struct source_call *call, bool with_records)
{
	struct jsonw w;

	jsonw_init(&w, 1024);
	briefing_write_source(&w, call, with_records);
	return written_json(&w);
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
	bool *concerned;   /* per entity: some alert concerns it (NULL: unknown) */
	double resolve_ms; /* time spent in resolve_records */
};

static void entity_id(struct jsonw *w, size_t e)
{
	jsonw_strint(w, 'e', (unsigned long long)e + 1);
}

static const char *first_value(const struct resolve_result *res, size_t e, const char *field)
{
	const struct resolve_entity *ent = &res->entities[e];

	for (size_t f = ent->fact; f < ent->fact + ent->nfact; f++)
		if (record_field_eq(res->facts[f].field, field))
			return res->facts[f].value;
	return NULL;
}

/* Appends t to label[0..off) within cap - 1 bytes; the new length. */
static size_t label_append(char *label, size_t off, size_t cap, const char *t)
{
	size_t n = off + 1 < cap ? strnlen(t, cap - 1 - off) : 0;

	memcpy(label + off, t, n);
	return off + n;
}

/* A one-line name for an entity: "Jan Peeters, 1985-07-30", "1ABC123 Volvo". */
static void entity_label(struct jsonw *w, const struct resolve_result *res, size_t e)
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
	bool full = false;

	/* appended by hand: snprintf was most of the cost of a label */
	for (int i = 0; i < 4 && parts[k][i] != NULL && !full; i++) {
		const char *v = first_value(res, e, parts[k][i]);
		const char *sep = "";

		if (v == NULL)
			continue;
		/* the person's birth date and the city follow a comma */
		if (off > 0)
			sep = (record_field_eq(parts[k][i], "birth_date") ||
			       record_field_eq(parts[k][i], "postcode") ||
			       record_field_eq(parts[k][i], "date")) ? ", " : " ";
		off = label_append(label, off, sizeof(label), sep);
		off = label_append(label, off, sizeof(label), v);
		full = off == sizeof(label) - 1; /* cut: what follows would not fit either */
	}
	if (off == 0) {
		snprintf(label, sizeof(label), "%s e%zu", entity_kind_name(k), e + 1);
		off = strlen(label);
	}
	jsonw_strn(w, label, off);
}

/* "facts": per field, in the order fields first appear, every value with the
 * sources that gave it; then "conflicts": the fields whose first value is
 * marked as conflicting. */
static void entity_facts(struct jsonw *w, const struct resolve_result *res, size_t e)
{
	const struct resolve_entity *ent = &res->entities[e];
	const size_t end = ent->fact + ent->nfact;

	jsonw_key(w, "facts");
	jsonw_obj(w);
	for (size_t f = ent->fact; f < end; f++) {
		const char *field = res->facts[f].field;
		bool seen = false;

		for (size_t g = ent->fact; g < f && !seen; g++)
			seen = record_field_eq(res->facts[g].field, field);
		if (seen)
			continue;
		jsonw_key(w, field);
		jsonw_arr(w);
		for (size_t g = f; g < end; g++) {
			const struct resolve_fact *fa = &res->facts[g];

			if (g != f && !record_field_eq(fa->field, field))
				continue;
			jsonw_obj(w);
			jsonw_kstr(w, "value", fa->value);
			jsonw_key(w, "sources");
			jsonw_arr(w);
			for (size_t s = fa->src; s < fa->src + fa->nsrc; s++)
				jsonw_str(w, res->fact_sources[s]);
			jsonw_arr_end(w);
			if (fa->conflict)
				jsonw_kbool(w, "conflict", true);
			jsonw_obj_end(w);
		}
		jsonw_arr_end(w);
	}
	jsonw_obj_end(w);
	jsonw_key(w, "conflicts");
	jsonw_arr(w);
	for (size_t f = ent->fact; f < end; f++) {
		bool seen = false;

		for (size_t g = ent->fact; g < f && !seen; g++)
			seen = record_field_eq(res->facts[g].field, res->facts[f].field);
		if (!seen && res->facts[f].conflict)
			jsonw_str(w, res->facts[f].field);
	}
	jsonw_arr_end(w);
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
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The positions (in "alerts") of the alerts that concern entity e, certainly
 * or not, sorted.  RESOLVE_NONE reads as -1, as it always has. */
static void entity_alerts(struct jsonw *w, const struct build *b, size_t e, bool certain)
{
	const struct resolve_result *res = b->res;
	long long small[32], *pos = small;
	size_t n = 0, cap = sizeof(small) / sizeof(small[0]);

	/* most entities are concerned by no alert: nothing to look for */
	for (size_t c = 0; c < res->nconcerns && (b->concerned == NULL || b->concerned[e]); c++) {
		if (res->concerns[c].entity != e || res->concerns[c].certain != certain)
			continue;
		if (n == cap) {
			long long *np = malloc(2 * cap * sizeof(*np));

			if (np == NULL) {
				w->failed = true;
				break;
			}
			memcpy(np, pos, n * sizeof(*np));
			if (pos != small)
				free(pos);
			pos = np;
			cap *= 2;
		}
		pos[n++] = (long long)b->alert_pos[res->concerns[c].alert];
	}
	if (n > 1)
		qsort(pos, n, sizeof(*pos), pos_cmp);
	jsonw_key(w, certain ? "alerts" : "possible_alerts");
	jsonw_arr(w);
	for (size_t i = 0; i < n; i++)
		jsonw_int(w, pos[i]);
	jsonw_arr_end(w);
	if (pos != small)
		free(pos);
}

static void entity_write(struct jsonw *w, const struct build *b, size_t e)
{
	const struct resolve_result *res = b->res;
	const struct resolve_entity *ent = &res->entities[e];

	jsonw_obj(w);
	jsonw_key(w, "id");
	entity_id(w, e);
	jsonw_kstr(w, "type", entity_kind_name(ent->kind));
	jsonw_key(w, "label");
	entity_label(w, res, e);
	jsonw_key(w, "sources");
	jsonw_arr(w);
	for (size_t s = ent->src; s < ent->src + ent->nsrc; s++)
		jsonw_str(w, res->entity_sources[s]);
	jsonw_arr_end(w);
	entity_facts(w, res, e);
	entity_alerts(w, b, e, true);
	entity_alerts(w, b, e, false);
	jsonw_key(w, "related");
	jsonw_arr(w);
	for (size_t l = 0; l < res->nlinks; l++) {
		if (res->links[l].from != e)
			continue;
		jsonw_obj(w);
		jsonw_key(w, "entity");
		entity_id(w, res->links[l].to);
		jsonw_kstr(w, "type", entity_kind_name(res->entities[res->links[l].to].kind));
		jsonw_kstr(w, "relation", resolve_relation_name(res->links[l].rel));
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_key(w, "possible_matches");
	jsonw_arr(w);
	for (size_t p = 0; p < res->npossible; p++)
		if (res->possible[p].entity == e)
			entity_id(w, res->possible[p].candidate);
	jsonw_arr_end(w);
	if (ent->candidate) {
		jsonw_key(w, "may_be");
		jsonw_arr(w);
		for (size_t p = 0; p < res->npossible; p++) {
			if (res->possible[p].candidate != e)
				continue;
			jsonw_obj(w);
			jsonw_key(w, "entity");
			entity_id(w, res->possible[p].entity);
			jsonw_kstr(w, "reason", resolve_why_name(res->possible[p].why));
			jsonw_kstr(w, "explanation", why_text(res->possible[p].why));
			jsonw_obj_end(w);
		}
		jsonw_arr_end(w);
	}
	jsonw_obj_end(w);
}

static void alerts_write(struct jsonw *w, const struct build *b)
{
	size_t c = 0;

	jsonw_arr(w);
	for (size_t i = 0; i < b->nalerts; i++) {
		size_t rec = b->alerts[i].rec;

		record_open(w, b->recs[rec]);
		jsonw_kstr(w, "rank", briefing_alert_rank_name(b->alerts[i].rank));
		/* concerns are sorted by alert record, certain first: find this one's */
		for (int certain = 1; certain >= 0; certain--) {
			jsonw_key(w, certain ? "concerns" : "possibly_concerns");
			jsonw_arr(w);
			if (b->res != NULL) {
				for (c = 0; c < b->res->nconcerns && b->res->concerns[c].alert < rec; c++)
					;
				for (; c < b->res->nconcerns && b->res->concerns[c].alert == rec; c++)
					if (b->res->concerns[c].certain == (certain == 1))
						entity_id(w, b->res->concerns[c].entity);
			}
			jsonw_arr_end(w);
		}
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* briefing_alert_rank of alert record i, reusing an earlier alert's rank when
 * its category and severity are the same text: many sources give the same
 * wording, and ranking normalises and scans both texts.  A linear look-back
 * over the alerts ranked so far, bounded so a hostile source cannot make it
 * quadratic. */
static enum alert_rank alert_rank_seen(const struct build *b, size_t i)
{
	const char *cat = record_get(b->recs[i], "category");
	const char *sev = record_get(b->recs[i], "severity");
	size_t from = b->nalerts > 64 ? b->nalerts - 64 : 0;

	for (size_t a = b->nalerts; a-- > from;) {
		const struct record *o = b->recs[b->alerts[a].rec];

		if (same_text(record_get(o, "category"), cat) &&
		    same_text(record_get(o, "severity"), sev))
			return b->alerts[a].rank;
	}
	return briefing_alert_rank(b->recs[i]);
}

static int build_init(struct build *b, const struct search *s)
{
	size_t total = 0;
	struct focal_err err;
	bool *dup;
	uint64_t t0;

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
	 * through a linked hop) is shown once; part of the resolution cost */
	t0 = loop_now_ns();
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
		if (b->recs[i]->kind == ENTITY_ALERT) {
			enum alert_rank rank = alert_rank_seen(b, i); /* reads nalerts */

			b->alerts[b->nalerts++] = (struct ranked){ i, rank };
		}
	}
	if (b->nalerts > 0)
		qsort(b->alerts, b->nalerts, sizeof(*b->alerts), ranked_cmp);
	for (size_t i = 0; i < b->nalerts; i++)
		b->alert_pos[b->alerts[i].rec] = i;
	/* without resolution the briefing still has its alerts, records, sources;
	 * its cost is measured for the benchmark (summary.resolve_ms) */
	if (resolve_records(b->recs, b->n, &b->res, &err) != FOCAL_OK)
		b->res = NULL;
	if (b->res != NULL && (b->concerned = calloc(b->res->nentities + 1, sizeof(bool))) != NULL)
		for (size_t c = 0; c < b->res->nconcerns; c++)
			b->concerned[b->res->concerns[c].entity] = true;
	b->resolve_ms = loop_ms_since(t0);
	return FOCAL_OK;
}

static void build_fini(struct build *b)
{
	resolve_free(b->res);
	free(b->concerned);
	free(b->recs);
	free(b->alerts);
	free(b->alert_pos);
}

void briefing_write(struct jsonw *w, const struct search *s, struct briefing_stats *st)
{
	size_t ok = 0, failed = 0, asked = 0, nentities = 0, ncandidates = 0;
	bool *asked_src = calloc(search_nsources_total(s) + 1, sizeof(bool));
	json_t *query = query_request_json(search_request(s)), *policy_json;
	size_t denied = policy_plan_denied(search_plan_of(s));
	struct build bd;
	size_t nrec = 0;

	/* the text's size, roughly (a 60-source briefing of 144 records is
	 * 72 KB, 93 KB with the records): one buffer instead of doublings */
	for (size_t c = 0; c < search_ncalls(s); c++)
		nrec += search_call(s, c)->records.n;
	jsonw_expect(w, 4096 + 384 * search_ncalls(s) +
				(search_request(s)->with_records ? 800 : 560) * nrec);
	if (build_init(&bd, s) != FOCAL_OK) {
		build_fini(&bd);
		memset(&bd, 0, sizeof(bd));
	}
	jsonw_obj(w);
	jsonw_key(w, "query");
	jsonw_json(w, query);
	json_decref(query);
	jsonw_key(w, "alerts");
	alerts_write(w, &bd);
	for (int candidates = 0; candidates <= 1; candidates++) {
		jsonw_key(w, candidates ? "possible_matches" : "entities");
		jsonw_arr(w);
		for (size_t e = 0; bd.res != NULL && e < bd.res->nentities; e++) {
			if (bd.res->entities[e].candidate != (candidates == 1))
				continue;
			entity_write(w, &bd, e);
			if (candidates)
				ncandidates++;
			else
				nentities++;
		}
		jsonw_arr_end(w);
	}
	/* only when asked ("records": true): no officer view reads them, and on a
	 * 60-source search they were a quarter of the bytes sent and encrypted */
	if (search_request(s)->with_records) {
		jsonw_key(w, "records");
		jsonw_arr(w);
		for (size_t i = 0; i < bd.n; i++) {
			if (bd.recs[i]->kind == ENTITY_ALERT)
				continue;
			record_open(w, bd.recs[i]);
			if (bd.res != NULL && bd.res->entity_of[i] != RESOLVE_NONE) {
				jsonw_key(w, "entity");
				entity_id(w, bd.res->entity_of[i]);
			}
			jsonw_obj_end(w);
		}
		jsonw_arr_end(w);
	}
	jsonw_key(w, "sources");
	jsonw_arr(w);
	for (size_t c = 0; c < search_ncalls(s); c++) {
		const struct source_call *call = search_call(s, c);

		briefing_write_source(w, call, false);
		if (call->status == SOURCE_OK || call->status == SOURCE_TRUNCATED)
			ok++;
		else
			failed++;
		if (asked_src != NULL && !asked_src[call->def->index]) {
			asked_src[call->def->index] = true;
			asked++;
		}
	}
	jsonw_arr_end(w);
	free(asked_src);
	jsonw_key(w, "summary");
	jsonw_obj(w);
	jsonw_kint(w, "sources_asked", (long long)asked);
	jsonw_kint(w, "calls_ok", (long long)ok);
	jsonw_kint(w, "calls_failed", (long long)failed);
	jsonw_kint(w, "sources_not_searched",
		   (long long)(search_nsources_total(s) > asked + denied ?
			       search_nsources_total(s) - asked - denied : 0));
	jsonw_kint(w, "sources_denied_by_policy", (long long)denied);
	jsonw_kstr(w, "not_searched_reason", "they do not answer this kind of query");
	jsonw_kint(w, "entities", (long long)nentities);
	jsonw_kint(w, "possible_matches", (long long)ncandidates);
	jsonw_kint(w, "possible_matches_not_shown",
		   (long long)(bd.res != NULL ? bd.res->possible_dropped : 0));
	jsonw_kint(w, "hops", (long long)search_nhops(s));
	jsonw_kint(w, "hops_not_started", (long long)search_hops_skipped(s));
	jsonw_kreal(w, "resolve_ms", bd.resolve_ms);
	jsonw_obj_end(w);
	jsonw_kreal(w, "elapsed_ms", search_elapsed_ms(s));
	/* sources not searched, by reason (counts only, never names), and the
	 * fields redacted (policy.h) */
	jsonw_key(w, "policy");
	policy_json = policy_plan_json(search_plan_of(s));
	jsonw_json(w, policy_json);
	json_decref(policy_json);
	jsonw_obj_end(w);
	if (st != NULL) {
		st->calls_ok = ok;
		st->calls_failed = failed;
		st->resolve_ms = bd.resolve_ms;
	}
	build_fini(&bd);
}

json_t *briefing_json(const struct search *s)
{
	struct jsonw w;

	jsonw_init(&w, 32768);
	briefing_write(&w, s, NULL);
	return written_json(&w);
}
