/*
 * source_pg: the PostgreSQL connector (connector_pg in source.h).
 *
 * libpq parses the wire protocol itself (and is fuzzed upstream); what is
 * ours is the step after it: turning a PGresult (column names, values,
 * NULLs, sizes, status) into records under the source's mapping and limits.
 * That step is exposed here so that the connector and the fuzz harness
 * (fuzz/fuzz_pg_answer.c) run the very same code.
 */
#ifndef FOCAL_SOURCE_PG_H
#define FOCAL_SOURCE_PG_H

#include <stddef.h>

#include <libpq-fe.h>

#include "sources/source.h"

/* What the connection does after one result (source_pg_result). */
enum source_pg_next {
	SOURCE_PG_MORE,   /* read the next result */
	SOURCE_PG_FINISH, /* finish the call with *st and reason; discard the rest */
	SOURCE_PG_BROKEN, /* do not trust the connection: close it; reason says why */
};

/* A per-query cache of the column index of each column the mapping reads
 * (def must be a configured postgres source).  Returns an array with every
 * index unknown, or NULL when out of memory; free() it. */
int *source_pg_colidx_new(const struct source_def *def);
/* Forgets the cached indexes before the next query. */
void source_pg_colidx_reset(const struct source_def *def, int *colidx);

/* Handles one result of the query of call (a postgres source): rows are
 * mapped into call->records through source_call_add_row (row and byte
 * limits); PGRES_TUPLES_OK ends the answer; an error result becomes a
 * reason that names the SQLSTATE and never quotes values.  colidx is the
 * query's cache (source_pg_colidx_new), kept across the results of one
 * query.  On SOURCE_PG_FINISH, *st is the status to finish with (SOURCE_OK
 * may stand for truncated: source_call_finish reads call->status) and
 * reason is filled unless st is SOURCE_OK; on SOURCE_PG_BROKEN, reason is
 * filled.  res stays the caller's. */
enum source_pg_next source_pg_result(struct source_call *call, const PGresult *res, int *colidx,
				     enum source_status *st, char *reason, size_t reasonsz);

#endif
