/*
 * jsonw: streaming JSON writer (see jsonw.h).
 */
#include "core/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSONW_DEFAULT_SIZE 4096

void jsonw_init(struct jsonw *w, size_t size_hint)
{
	memset(w, 0, sizeof(*w));
	w->cap = size_hint > 0 ? size_hint : JSONW_DEFAULT_SIZE;
	w->buf = malloc(w->cap);
	if (w->buf == NULL) {
		w->cap = 0;
		w->failed = true;
	}
}

void jsonw_fini(struct jsonw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

char *jsonw_take(struct jsonw *w, size_t *len)
{
	char *out = NULL;

	*len = 0;
	if (!w->failed && w->depth == 0 && w->len < w->cap) {
		w->buf[w->len] = '\0';
		out = w->buf;
		*len = w->len;
		w->buf = NULL;
	}
	jsonw_fini(w);
	return out;
}

void jsonw_clear(struct jsonw *w)
{
	w->len = 0;
	w->depth = 0;
	w->has_item = 0;
	w->after_key = false;
	w->failed = w->buf == NULL;
}

/* Grows the buffer for n more bytes and the final NUL. */
static bool __attribute__((noinline)) jsonw_grow(struct jsonw *w, size_t n)
{
	size_t cap;
	char *nb;

	if (w->failed)
		return false;
	cap = w->cap ? w->cap : JSONW_DEFAULT_SIZE;
	while (w->len + n >= cap) {
		if (cap > SIZE_MAX / 2) {
			w->failed = true;
			return false;
		}
		cap *= 2;
	}
	nb = realloc(w->buf, cap);
	if (nb == NULL) {
		w->failed = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

void jsonw_expect(struct jsonw *w, size_t n)
{
	char *nb;

	if (w->failed || n >= SIZE_MAX / 2 || w->len + n < w->cap)
		return;
	/* nothing written yet: a new buffer, not a copy of the old one */
	if (w->len == 0 && (nb = malloc(n + 1)) != NULL) {
		free(w->buf);
		w->buf = nb;
		w->cap = n + 1;
		return;
	}
	(void)jsonw_grow(w, n);
}

/* Room for n more bytes and the final NUL; false (and failed) if none.  The
 * common case is inline: it runs for every piece of the text. */
static inline bool jsonw_reserve(struct jsonw *w, size_t n)
{
	if (__builtin_expect(w->len + n < w->cap && !w->failed, 1))
		return true;
	return jsonw_grow(w, n);
}

static inline void jsonw_put(struct jsonw *w, const char *s, size_t n)
{
	if (jsonw_reserve(w, n)) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

static inline void jsonw_putc(struct jsonw *w, char c)
{
	if (jsonw_reserve(w, 1))
		w->buf[w->len++] = c;
}

/* Before any value or key: the comma that separates it from the last item. */
/* Whether the next item of the innermost object or array follows another
 * (so a comma goes first). */
static inline bool jsonw_comma_due(const struct jsonw *w)
{
	return w->depth > 0 && (w->has_item >> (w->depth - 1) & 1);
}

/* The innermost object or array has an item now. */
static inline void jsonw_mark_item(struct jsonw *w)
{
	if (w->depth > 0)
		w->has_item |= (uint64_t)1 << (w->depth - 1);
}

static inline void jsonw_sep(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (jsonw_comma_due(w))
		jsonw_putc(w, ',');
	jsonw_mark_item(w);
}

static void jsonw_open(struct jsonw *w, char c)
{
	jsonw_sep(w);
	if (w->depth >= JSONW_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	w->depth++;
	w->has_item &= ~((uint64_t)1 << (w->depth - 1));
	jsonw_putc(w, c);
}

static void jsonw_close(struct jsonw *w, char c)
{
	if (w->depth == 0 || w->after_key) {
		w->failed = true;
		return;
	}
	w->depth--;
	jsonw_putc(w, c);
}

void jsonw_obj(struct jsonw *w) { jsonw_open(w, '{'); }
void jsonw_obj_end(struct jsonw *w) { jsonw_close(w, '}'); }
void jsonw_arr(struct jsonw *w) { jsonw_open(w, '['); }
void jsonw_arr_end(struct jsonw *w) { jsonw_close(w, ']'); }

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* Bytes written as they are (printable ASCII but " and \\): 1. */
#define P16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define Z16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char plain[256] = {
	Z16, Z16,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x22 " */
	P16, P16,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x5c \\ */
	P16, P16,
	Z16, Z16, Z16, Z16, Z16, Z16, Z16, Z16,
};

/* Whether the 8 (4) bytes of x are all plain: none below 0x20, '"', '\\' or
 * 0x80 and above (the usual "has a byte less than / equal to" bit tricks,
 * exact for telling whether any byte matches). */
static inline bool plain64(uint64_t x)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t q = x ^ (lo * '"'), b = x ^ (lo * '\\');

	return ((((x - lo * 0x20) | (q - lo) | (b - lo)) & ~x & hi) | (x & hi)) == 0;
}

static inline bool plain32(uint32_t x)
{
	const uint32_t lo = 0x01010101U, hi = 0x80808080U;
	uint32_t q = x ^ (lo * '"'), b = x ^ (lo * '\\');

	return ((((x - lo * 0x20) | (q - lo) | (b - lo)) & ~x & hi) | (x & hi)) == 0;
}

/* The length i of the run of plain bytes that starts s[0..n) (the first
 * byte that needs escaping or UTF-8 checking, or n), copied to dst[0..i)
 * as it is checked (dst has room for n bytes; bytes past i may be written
 * too).  Eight bytes at a time, the last (up to seven) bytes as one word
 * that overlaps the ones checked, or two of four bytes for a short string;
 * the table finds where a run that is not all plain stops.  Most text in a
 * briefing is plain and short (keys, names, codes): this, with no call to
 * memcpy, was the biggest cost of writing it. */
static inline __attribute__((always_inline)) size_t plain_copy(char *dst, const unsigned char *s,
							       size_t n)
{
	size_t i = 0;
	uint64_t x;
	uint32_t y, z;

	while (i + 8 <= n) {
		memcpy(&x, s + i, 8);
		if (!plain64(x))
			goto bytes;
		memcpy(dst + i, &x, 8);
		i += 8;
	}
	if (i == n)
		return n;
	if (n >= 8) {
		memcpy(&x, s + n - 8, 8);
		if (plain64(x)) {
			memcpy(dst + n - 8, &x, 8);
			return n;
		}
	} else if (n >= 4) { /* i is 0 */
		memcpy(&y, s, 4);
		memcpy(&z, s + n - 4, 4);
		if (plain32(y) && plain32(z)) {
			memcpy(dst, &y, 4);
			memcpy(dst + n - 4, &z, 4);
			return n;
		}
	}
bytes:
	for (; i < n && plain[s[i]]; i++)
		dst[i] = (char)s[i];
	return i;
}

/* The rest of jsonw_escaped: str[0..i) is plain and written, str[i] is not. */
static void __attribute__((noinline)) jsonw_escaped_rest(struct jsonw *w, const char *str,
							  size_t n, size_t i)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	size_t run;

	while (i < n) {
		/* the common case: a run that needs nothing */
		if (!jsonw_reserve(w, n - i))
			return;
		run = plain_copy(w->buf + w->len, s + i, n - i);
		if (run > 0) {
			w->len += run;
			i += run;
			continue;
		}
		if (s[i] >= 0x80) {
			size_t k = utf8_seq(s + i, n - i);

			if (k == 0) {
				jsonw_put(w, "\xEF\xBF\xBD", 3); /* U+FFFD for a bad byte */
				i++;
			} else {
				jsonw_put(w, str + i, k);
				i += k;
			}
			continue;
		}
		switch (s[i]) {
		case '"': jsonw_put(w, "\\\"", 2); break;
		case '\\': jsonw_put(w, "\\\\", 2); break;
		case '\b': jsonw_put(w, "\\b", 2); break;
		case '\f': jsonw_put(w, "\\f", 2); break;
		case '\n': jsonw_put(w, "\\n", 2); break;
		case '\r': jsonw_put(w, "\\r", 2); break;
		case '\t': jsonw_put(w, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[s[i] >> 4], hex[s[i] & 0xF] };

			jsonw_put(w, u, sizeof(u));
			break;
		}
		}
		i++;
	}
	jsonw_putc(w, '"');
}

/* A string's escaped text, as jansson's dump_string writes it.  The common
 * case, all of it plain, is one reservation and one copy. */
static inline void jsonw_escaped(struct jsonw *w, const char *str, size_t n)
{
	size_t i;
	char *p;

	if (!jsonw_reserve(w, n + 2))
		return;
	p = w->buf + w->len;
	*p++ = '"';
	i = plain_copy(p, (const unsigned char *)str, n);
	p += i;
	if (i == n)
		*p++ = '"';
	w->len = (size_t)(p - w->buf);
	if (i < n)
		jsonw_escaped_rest(w, str, n, i);
}

/* The one-piece path of a member: reserves room for the comma, "key":
 * and `more` bytes, and copies the key while checking it.  Returns where
 * the value goes, or NULL (nothing committed: the general path then) if the
 * key needs escaping, a key was just written, or there is no memory.
 * member_commit() then settles the comma, as jsonw_sep() would have. */
static inline __attribute__((always_inline)) char *member_head(struct jsonw *w, const char *key,
								   size_t kl, size_t more)
{
	char *p;

	if (w->after_key || kl >= SIZE_MAX / 4 || more >= SIZE_MAX / 4 ||
	    !jsonw_reserve(w, kl + more + 4))
		return NULL;
	p = w->buf + w->len + jsonw_comma_due(w);
	*p++ = '"';
	if (plain_copy(p, (const unsigned char *)key, kl) != kl)
		return NULL;
	p += kl;
	*p++ = '"';
	*p++ = ':';
	return p;
}

/* end: where the member's text ends. */
static inline void member_commit(struct jsonw *w, char *end)
{
	if (jsonw_comma_due(w))
		w->buf[w->len] = ',';
	jsonw_mark_item(w);
	w->len = (size_t)(end - w->buf);
}

void jsonw_keyn(struct jsonw *w, const char *key, size_t n)
{
	char *p = member_head(w, key, n, 0);

	if (p != NULL) {
		member_commit(w, p);
		w->after_key = true;
		return;
	}
	jsonw_sep(w);
	jsonw_escaped(w, key, n);
	jsonw_putc(w, ':');
	w->after_key = true;
}

void jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
	jsonw_sep(w);
	jsonw_escaped(w, s, n);
}

void jsonw_str(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jsonw_null(w);
	else
		jsonw_strn(w, s, strlen(s));
}

/* Decimal digits by hand: snprintf cost more than the rest of a small value. */
void jsonw_int(struct jsonw *w, long long v)
{
	char b[24], *p = b + sizeof(b);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jsonw_sep(w);
	jsonw_put(w, p, (size_t)(b + sizeof(b) - p));
}

void jsonw_strint(struct jsonw *w, char prefix, unsigned long long v)
{
	char b[24], *p = b + sizeof(b);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	*--p = prefix;
	jsonw_sep(w);
	jsonw_putc(w, '"');
	jsonw_put(w, p, (size_t)(b + sizeof(b) - p));
	jsonw_putc(w, '"');
}

/* jansson's real format (dtostr): "%.6g", ".0" added when the text would
 * read as an integer, the exponent without '+' or leading zeros.  The
 * reference, and the fallback of real_fast() below. */
static int real_printf(double v, char b[static 64])
{
	char *e, *from;
	int n;

	n = snprintf(b, 62, "%.6g", v);
	if (n < 0 || n >= 62)
		return -1;
	if (strchr(b, '.') == NULL && strchr(b, 'e') == NULL) {
		b[n++] = '.';
		b[n++] = '0';
		b[n] = '\0';
	}
	if ((e = strchr(b, 'e')) != NULL) {
		e++;
		from = e + 1;
		if (*e == '-')
			e++;
		while (*from == '0')
			from++;
		if (from != e) {
			memmove(e, from, strlen(from) + 1);
			n = (int)strlen(b);
		}
	}
	return n;
}

/* The powers of ten a double holds exactly. */
static const double pow10_exact[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* real_printf's text without printf, for the values a briefing has (the
 * milliseconds of every source: printf's exact decimal conversion was a
 * fifth of writing a source's line).  %.6g is the value rounded to six
 * significant digits: here v is scaled by an exact power of ten to
 * s in [1e5, 1e6), in one correctly rounded multiplication or division, so
 * s is within 2^-33 of the exact product; whenever that could matter (s
 * within 1e-6 of a rounding tie or of the range's ends) this returns -1 and
 * the caller takes printf, as for zero, tiny, huge and non-finite values.
 * Otherwise round(s) is the six digits printf writes, and the rest is %g's
 * layout. */
static int real_fast(double v, char b[static 64])
{
	double a = v < 0 ? -v : v, s, fl;
	unsigned long digits;
	char d[6], *p = b;
	int e, nd;

	if (!(a >= 1e-15 && a < 1e17))
		return -1;
	/* e: the decimal exponent of a, floor(log10(a)); exact for a >= 1,
	 * possibly one off below (the range check on s catches it) */
	if (a >= 1) {
		for (e = 0; e < 17 && a >= pow10_exact[e + 1]; e++)
			;
	} else {
		for (e = -1; e > -16 && a * pow10_exact[-e] < 1; e--)
			;
	}
	s = e <= 5 ? a * pow10_exact[5 - e] : a / pow10_exact[e - 5];
	if (!(s >= 100000.000001 && s < 999999.999999))
		return -1;
	fl = (double)(unsigned long)s;
	if (s - fl > 0.499999 && s - fl < 0.500001)
		return -1;
	digits = (unsigned long)fl + (s - fl > 0.5);
	if (digits == 1000000) {
		digits = 100000;
		e++;
	}
	for (int i = 5; i >= 0; i--, digits /= 10)
		d[i] = (char)('0' + digits % 10);
	for (nd = 6; nd > 1 && d[nd - 1] == '0'; nd--)
		; /* %g drops trailing zeros */
	if (v < 0)
		*p++ = '-';
	if (e < -4 || e >= 6) { /* d.ddddde[-]x */
		*p++ = d[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, d + 1, (size_t)nd - 1);
			p += nd - 1;
		}
		*p++ = 'e';
		if (e < 0) {
			*p++ = '-';
			e = -e;
		}
		if (e >= 10)
			*p++ = (char)('0' + e / 10);
		*p++ = (char)('0' + e % 10);
	} else if (e >= 0) { /* ddd.ddd, or ddd.0 */
		memcpy(p, d, (size_t)e + 1);
		p += e + 1;
		*p++ = '.';
		if (nd > e + 1) {
			memcpy(p, d + e + 1, (size_t)(nd - e - 1));
			p += nd - e - 1;
		} else {
			*p++ = '0';
		}
	} else { /* 0.000ddd */
		*p++ = '0';
		*p++ = '.';
		for (int z = -1; z > e; z--)
			*p++ = '0';
		memcpy(p, d, (size_t)nd);
		p += nd;
	}
	*p = '\0';
	return (int)(p - b);
}

void jsonw_real(struct jsonw *w, double v)
{
	char b[64];
	int n;

	if (!isfinite(v)) {
		jsonw_null(w);
		return;
	}
	if ((n = real_fast(v, b)) < 0 && (n = real_printf(v, b)) < 0) {
		w->failed = true;
		return;
	}
	jsonw_sep(w);
	jsonw_put(w, b, (size_t)n);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_sep(w);
	jsonw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w)
{
	jsonw_sep(w);
	jsonw_put(w, "null", 4);
}

void jsonw_json(struct jsonw *w, const json_t *j)
{
	const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(6) | JSON_ENCODE_ANY;
	size_t n;

	if (j == NULL) {
		jsonw_null(w);
		return;
	}
	jsonw_sep(w);
	n = json_dumpb(j, NULL, 0, flags);
	if (n == 0 || !jsonw_reserve(w, n)) {
		w->failed = true;
		return;
	}
	if (json_dumpb(j, w->buf + w->len, n, flags) != n) {
		w->failed = true;
		return;
	}
	w->len += n;
}

/* "key":"value" in one piece when neither needs escaping, as most of a
 * briefing's members: one reservation, both checked as they are copied,
 * and the comma (jsonw_sep) settled only once they turn out plain.
 * Otherwise (or null) the general path; the text is the same. */
void jsonw_kstrn(struct jsonw *w, const char *key, size_t kl, const char *s)
{
	size_t sl;
	char *p;

	if (s == NULL || w->after_key) {
		jsonw_keyn(w, key, kl);
		jsonw_str(w, s);
		return;
	}
	sl = strlen(s);
	if (sl < SIZE_MAX / 4 && (p = member_head(w, key, kl, sl + 2)) != NULL) {
		*p++ = '"';
		if (plain_copy(p, (const unsigned char *)s, sl) == sl) {
			p += sl;
			*p++ = '"';
			member_commit(w, p);
			return;
		}
	}
	/* nothing was committed: what was copied past w->len is overwritten */
	jsonw_keyn(w, key, kl);
	jsonw_strn(w, s, sl);
}

void jsonw_kint(struct jsonw *w, const char *key, long long v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void jsonw_kreal(struct jsonw *w, const char *key, double v)
{
	jsonw_key(w, key);
	jsonw_real(w, v);
}

void jsonw_kbool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}
