/*
 * briefing: the answer an officer reads — warnings first.
 *
 * Turns a finished search into one JSON document (docs/briefing.md):
 *   query             how the text was read (interpretations)
 *   alerts            every alert record, ordered by officer-safety rank
 *                     (armed/dangerous, wanted, violence against police,
 *                     vulnerable/missing, other), each with its instruction
 *                     and the entities it concerns (certainly / possibly)
 *   entities          the persons, vehicles, firearms, addresses and reports
 *                     resolved from every source's records (resolve.h): per
 *                     field the values with the sources that gave them,
 *                     conflicts marked, alerts and related entities linked
 *   possible_matches  entities that may be one of the above but could not be
 *                     merged (a birth date missing, ...), with the reason
 *   records           only when the request asked ("records": true, query.h):
 *                     the canonical records as each source gave them, each
 *                     naming its entity (for tools and evaluation)
 *   sources           one status line per source asked (ok/truncated/timeout/
 *                     error/unavailable, rows, ms, reason)
 *   summary           counts, how many configured sources were not searched, and
 *                     resolve_ms: the time entity resolution took
 * The same pieces serve the SSE stream (one event per source).
 */
#ifndef FOCAL_BRIEFING_H
#define FOCAL_BRIEFING_H

#include <jansson.h>

#include "core/jsonw.h"
#include "search/fanout.h"
#include "sources/record.h"
#include "sources/source.h"

enum alert_rank {
	ALERT_ARMED = 1,     /* armed or dangerous */
	ALERT_WANTED,
	ALERT_VIOLENCE_POLICE,
	ALERT_VULNERABLE,    /* vulnerable or missing person */
	ALERT_OTHER,
};

/* Rank of an alert record from its category and severity text, in Dutch,
 * French or English: words compared after normalize_key() (so "gendarmerie"
 * is not "arme"), negations honoured ("unarmed", "niet gewapend", "pas
 * armé"), the most severe category present wins, and generic notice words
 * ("signalering", "recherché", "gezocht") count only when nothing more
 * specific is said. */
enum alert_rank briefing_alert_rank(const struct record *r);
const char *briefing_alert_rank_name(enum alert_rank r);

/* The briefing is written as text, in one pass, straight into a jsonw
 * (core/jsonw.h): what focald sends.  The json_t forms below parse that same
 * text back (tests, tools). */
struct briefing_stats {
	size_t calls_ok, calls_failed;
	double resolve_ms; /* entity resolution of this briefing (also summary.resolve_ms) */
};

void briefing_write_record(struct jsonw *w, const struct record *r);
/* An alert record with its "rank" (the stream's alert event). */
void briefing_write_alert(struct jsonw *w, const struct record *r);
/* One source's status line (and, with records, its records) for the stream. */
void briefing_write_source(struct jsonw *w, const struct source_call *call, bool with_records);
/* The whole briefing of a finished search; st (may be NULL) gets its counts. */
void briefing_write(struct jsonw *w, const struct search *s, struct briefing_stats *st);

json_t *briefing_record_json(const struct record *r);
json_t *briefing_source_json(const struct source_call *call, bool with_records);
json_t *briefing_json(const struct search *s);

#endif
