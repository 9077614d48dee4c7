/*
 * jsonw: a streaming JSON writer into one growing buffer.
 *
 * The briefing (about 34 KB for 120 records) used to be built as a jansson
 * tree and then serialised with json_dumps: thousands of small allocations
 * and a second walk.  jsonw writes the text directly, in one pass, into a
 * buffer that is handed to libevent without a copy.
 *
 * The text is byte for byte what json_dumps(JSON_COMPACT |
 * JSON_REAL_PRECISION(6)) writes for the same values in the same order:
 * strings escaped as jansson escapes them (", \, control characters; UTF-8
 * kept), reals as "%.6g" with ".0" added to integral values, integers as
 * "%lld".  Invalid UTF-8 in a string is written as U+FFFD (jansson would
 * refuse the string and the value would silently vanish).  Commas are placed
 * by the writer: callers only open, write and close.
 *
 * Writing only: parsing stays with jansson.  Errors (out of memory, nesting
 * deeper than JSONW_MAX_DEPTH, a container closed that was not open) are
 * sticky: jsonw_take() then returns NULL.
 */
#ifndef FOCAL_JSONW_H
#define FOCAL_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JSONW_MAX_DEPTH 64

struct jsonw {
	char *buf;
	size_t len, cap;
	unsigned depth;
	uint64_t has_item; /* bit d: the container at depth d already holds an item */
	bool after_key;    /* a key was written: the next value takes no comma */
	bool failed;
};

/* An empty writer; size_hint is the first buffer size (0: a default). */
void jsonw_init(struct jsonw *w, size_t size_hint);
/* Frees the buffer (NULL-safe on w->buf). */
void jsonw_fini(struct jsonw *w);
/* The text written, NUL-terminated, owned by the caller (free()); *len
 * without the NUL.  NULL if anything failed or a container is still open.
 * The writer is empty afterwards. */
char *jsonw_take(struct jsonw *w, size_t *len);
/* Empties the writer but keeps its buffer, to write another text in it
 * (w->buf[0..w->len) is the text; not NUL-terminated). */
void jsonw_clear(struct jsonw *w);
/* Makes room now for about n more bytes: one allocation for a text whose
 * size is roughly known, instead of doubling (each a copy) while writing.
 * Nothing is written; a failure is sticky as any other. */
void jsonw_expect(struct jsonw *w, size_t n);

void jsonw_obj(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);
/* An object member's key; its value follows.  jsonw_key is inline so that
 * the length of a literal key is known when compiling. */
void jsonw_keyn(struct jsonw *w, const char *key, size_t n);
static inline void jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_keyn(w, key, strlen(key));
}

/* Values.  jsonw_str(NULL) writes null. */
void jsonw_str(struct jsonw *w, const char *s);
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
void jsonw_int(struct jsonw *w, long long v);
/* The string of a letter and a number, "e12" (ids): prefix must be plain ASCII. */
void jsonw_strint(struct jsonw *w, char prefix, unsigned long long v);
/* Not finite: null (JSON has no NaN). */
void jsonw_real(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* A jansson value written as json_dumps would (NULL: null). */
void jsonw_json(struct jsonw *w, const json_t *j);

/* key + value in one call. */
void jsonw_kstrn(struct jsonw *w, const char *key, size_t kn, const char *s);
static inline void jsonw_kstr(struct jsonw *w, const char *key, const char *s)
{
	jsonw_kstrn(w, key, strlen(key), s);
}
void jsonw_kint(struct jsonw *w, const char *key, long long v);
void jsonw_kreal(struct jsonw *w, const char *key, double v);
void jsonw_kbool(struct jsonw *w, const char *key, bool v);

#endif
