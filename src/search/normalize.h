/*
 * normalize: text as officers type it and agencies store it, made
 * comparable.
 *
 * Names arrive as "Émilie Dubois-Lambert", "EMILIE DUBOIS LAMBERT",
 * "ｅｍｉｌｉｅ" (fullwidth), with a stray right-to-left mark pasted from a
 * message, or with a Cyrillic "е" that looks Latin.  normalize_key() maps all
 * of these to one comparison key: Unicode NFKC (utf8proc), case folding,
 * diacritics removed, bidi and other format controls dropped, common
 * Latin-lookalike letters of Cyrillic and Greek folded to Latin, hyphens,
 * apostrophes and runs of spaces made one space, trimmed.
 *
 * normalize_phonetic() gives a coarser key for spelling variants common in
 * Dutch and French names (Mohamed/Mohammed, Peeters/Peters, Claes/Claessens
 * is NOT a variant): see normalize.c for the documented rules.
 *
 * All functions write a NUL-terminated result into out (at most outlen bytes
 * including the NUL) and return its length, or a negative FOCAL_E_* code:
 * FOCAL_E_INVAL for input that is not valid UTF-8, FOCAL_E_LIMIT when out is
 * too small.
 */
#ifndef FOCAL_NORMALIZE_H
#define FOCAL_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define NORMALIZE_MAX 512 /* a comfortable out size for one name or field */

/* The comparison key of a name or free-text field (see above). */
int normalize_key(const char *in, char *out, size_t outlen);

/* The phonetic key of a name: applied word by word to normalize_key()'s
 * output, words joined by one space. */
int normalize_phonetic(const char *in, char *out, size_t outlen);

/* Removes every character that is not a letter or digit after normalize_key
 * ("1-abc-123" → "1abc123", "85.07.30-033.28" → "85073003328"), upper-cased:
 * the canonical form of identifiers (plates, serials, national numbers). */
int normalize_identifier(const char *in, char *out, size_t outlen);

/* True when two names are the same person's name under normalization:
 * equal keys, or equal phonetic keys; word order does not matter
 * ("Peeters Jan" = "Jan Peeters"). */
bool normalize_names_match(const char *a, const char *b);

/* True when a is an initial form of b: "J." / "J" matches "Jan"
 * (first letters of the keys agree and a's key is one letter). */
bool normalize_is_initial_of(const char *a, const char *b);

#endif
