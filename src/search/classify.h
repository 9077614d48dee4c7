/*
 * classify: what kind of thing an officer typed, and its canonical form.
 *
 * query.c parses a request; the free text in it ("Jan Peeters 12/03/1981",
 * "1-abc-123", "0470 12 34 56", "Rue de la Loi 16 1000 Bruxelles") comes here
 * and leaves as one or more interpretations (struct query): a query kind,
 * its parameters in the canonical forms sources expect, and a human reading
 * ("read_as") that the briefing shows so the officer can see what was
 * searched.  Text that fits several kinds, or a name whose order is unclear,
 * gives several interpretations, most plausible first, at most
 * CLASSIFY_MAX_INTERP.  docs/query-language.md lists every rule.
 *
 * The canonicalisers of national numbers, phones and dates are also used for
 * explicit fields, so that a source sees the same form whether the officer
 * typed "85.07.30-033.28" in the search box or in a national_number field.
 *
 * Every function is pure (no global state besides constant tables) and
 * thread-safe.  Errors are FOCAL_E_INVAL with a message an officer can act on
 * ("... its check digits 76 do not match ..."), or FOCAL_E_NOMEM.
 */
#ifndef FOCAL_CLASSIFY_H
#define FOCAL_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "search/query.h"

/* Most interpretations one text yields: each one is a search on every source
 * answering its kind, so this bounds the fan-out a single query can cause. */
#define CLASSIFY_MAX_INTERP 4

/* Reads free text into interpretations appended to r->interp (r->ninterp must
 * be 0).  Sets every parameter except QP_TEXT and the derived keys (query.c
 * adds those for all interpretations alike).  On failure r->ninterp is 0 again
 * and err says why the text could not be read. */
int classify_text(struct query_request *r, const char *text, struct focal_err *err);

/* Canonical national register number: 11 digits, separators ". - / space"
 * dropped, check digits verified (births from 2000 use the 2-prefixed rule),
 * month 0-12 or a BIS month (+20, +40).  out receives 12 bytes. */
int classify_national_number(const char *text, char out[12], struct focal_err *err);

/* Telephone number in E.164 ("+32470123456").  Accepts +CC..., 00CC... and
 * Belgian national forms (04xx xx xx xx mobile, 0x xxx xx xx landline), with
 * separators ". - / space ( )" and a "(0)" after the country code.  national,
 * when not NULL, receives the Belgian national form ("0470123456") of a +32
 * number and "" for any other country.  Both buffers hold at least 17 bytes. */
int classify_phone(const char *text, char e164[17], char national[17], struct focal_err *err);

/* A birth date in dd/mm/yyyy, d-m-yy, dd.mm.yyyy or yyyy-mm-dd (any of
 * "/ - ." as separator, the same twice) as ISO yyyy-mm-dd.  Two-digit years
 * are the most recent past year.  The date must exist and not lie in the
 * future.  out receives 11 bytes. */
int classify_date(const char *text, char out[11], struct focal_err *err);

/* An identifier as sources store it (plates, serials): letters and digits
 * only, upper case, 1 to 24 of them; anything else between them is dropped. */
int classify_identifier(const char *text, char out[25], struct focal_err *err);

/* True when name (any case, accents, "Jean-Pierre" as a whole or each part)
 * is on the shipped list of common given names in Belgium. */
bool classify_is_given_name(const char *name);

/* The shipped list itself, as normalize_key() keys in strcmp order (for tests
 * and for documentation tools).  *n receives its length. */
const char *const *classify_given_names(size_t *n);

#endif
