/*
 * briefing: the answer an officer reads — warnings first.
 *
 * Turns a finished search into one JSON document:
 *   query     how the text was read (interpretations)
 *   alerts    every alert record, ordered by officer-safety rank
 *             (armed/dangerous, wanted, violence against police,
 *             vulnerable/missing, other), each with its instruction
 *   records   the other canonical records, with their source
 *   sources   one status line per source asked (ok/truncated/timeout/error/
 *             unavailable, rows, ms, reason)
 *   summary   counts, and how many configured sources were not searched
 * The same pieces serve the SSE stream (one event per source).
 */
#ifndef FOCAL_BRIEFING_H
#define FOCAL_BRIEFING_H

#include <jansson.h>

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

/* Rank of an alert record from its category (and severity) text, in Dutch,
 * French or English. */
enum alert_rank briefing_alert_rank(const struct record *r);
const char *briefing_alert_rank_name(enum alert_rank r);

json_t *briefing_record_json(const struct record *r);
/* One source's status line (and, with records, its records) for the stream. */
json_t *briefing_source_json(const struct source_call *call, bool with_records);
/* The whole briefing of a finished search. */
json_t *briefing_json(const struct search *s);

#endif
