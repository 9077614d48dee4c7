/*
 * fuzz_normalize: libFuzzer harness for search/normalize.h.
 *
 * Every name and identifier field of every record a source returns goes
 * through these functions, so they see arbitrary bytes.  Beyond "no crash"
 * (and no write past outlen: output buffers are allocated at exactly the
 * size passed, so ASan sees one byte too many), the harness checks the
 * contract:
 *   - invalid UTF-8 (checked by a reference validator here) gives
 *     FOCAL_E_INVAL, valid UTF-8 a result;
 *   - a key is valid UTF-8, trimmed, single-spaced, lower-case ASCII, and
 *     holds no control, format (bidi, zero-width), mark, dash, apostrophe,
 *     dot, underscore or non-space white-space character;
 *   - key(key(x)) == key(x); identifier(identifier(x)) == identifier(x);
 *     phonetic(key(x)) == phonetic(x);
 *   - bidi controls and a zero-width space added around x change nothing
 *     (this also proves the ASCII fast path equals the utf8proc path);
 *   - an out of exactly the result's size + 1 works, one byte less gives
 *     FOCAL_E_LIMIT and an empty string;
 *   - an identifier holds only upper-case letters and digits;
 *   - names_match(x, x) for any non-empty key, names_match is symmetric,
 *     is_initial_of(a, b) only for a one-letter key of a.
 * The input is one string; a first '\n' also splits it into a and b for the
 * two-argument functions.  An input starting with byte 0xFF (never valid
 * UTF-8) is instead read as a list of picks from a table of tricky code
 * points (Hangul jamo, marks, format characters, look-alikes, separators,
 * and any code point from three bytes), so valid but hostile text is dense.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "search/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer input is no name; the functions are linear. */
#define FUZZ_NORMALIZE_MAX 4096
/* Big enough for any key of FUZZ_NORMALIZE_MAX bytes (NFKC expands a code
 * point to at most 18, each at most 4 bytes: 18 * 4 / 1 per input byte is a
 * generous bound). */
#define BIG(n) (72 * (n) + 64)

/* RFC 3629: shortest form, no surrogates, at most U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			len = 2, cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3, cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

typedef int (*norm_fn)(const char *, char *, size_t);

/* Runs f into a buffer of BIG(strlen(in)); returns it (caller frees). */
static char *run(norm_fn f, const char *in, int *rc)
{
	size_t cap = BIG(strlen(in));
	char *out = xmalloc(cap);

	*rc = f(in, out, cap);
	if (*rc >= 0 && strlen(out) != (size_t)*rc)
		abort();
	if (*rc < 0 && out[0] != '\0')
		abort();
	return out;
}

/* Exactly n + 1 bytes work, n bytes give FOCAL_E_LIMIT and "". */
static void check_exact(norm_fn f, const char *in, const char *want, int n)
{
	char *out = xmalloc((size_t)n + 1);

	if (f(in, out, (size_t)n + 1) != n || strcmp(out, want) != 0)
		abort();
	if (n > 0) {
		char *small = xmalloc((size_t)n);

		if (f(in, small, (size_t)n) != FOCAL_E_LIMIT || small[0] != '\0')
			abort();
		free(small);
	}
	free(out);
}

static bool is_bad_in_key(utf8proc_int32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return true;
	switch (cp) {
	case '-': case '_': case '.': case ',': case '\'': case '`':
	case 0x00AD: case 0x00B7: case 0x02BC: case 0x2018: case 0x2019: case 0x2212:
	case 0x200E: case 0x200F: case 0x061C:
		return true;
	default:
		break;
	}
	if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	    (cp >= 0x200B && cp <= 0x200D))
		return true;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_CC:
	case UTF8PROC_CATEGORY_CF:
	case UTF8PROC_CATEGORY_CS:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_PD:
	case UTF8PROC_CATEGORY_PC:
		return true;
	case UTF8PROC_CATEGORY_ZS:
		return cp != ' ';
	default:
		return false;
	}
}

/* Valid UTF-8, trimmed, single spaces; key_rules adds the key's promises,
 * ident_rules the identifier's. */
static void check_text(const char *s, bool key_rules, bool ident_rules)
{
	size_t n = strlen(s);
	size_t i = 0;

	if (!utf8_valid((const unsigned char *)s, n))
		abort();
	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' ' || strstr(s, "  ") != NULL))
		abort();
	while (i < n) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(n - i), &cp);

		if (l <= 0)
			abort();
		if (key_rules && is_bad_in_key(cp))
			abort();
		if (ident_rules) {
			if (cp >= 'a' && cp <= 'z')
				abort();
			switch (utf8proc_category(cp)) {
			case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
			case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
			case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
			case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
				break;
			default:
				abort();
			}
		}
		i += (size_t)l;
	}
}

static void check_one(const char *s)
{
	bool valid = utf8_valid((const unsigned char *)s, strlen(s));
	int rk, rk2, ri, ri2, rp, rp2, rw;
	char *key, *key2, *id, *id2, *ph, *ph2, *wrapped, *wkey;
	size_t n = strlen(s);

	key = run(normalize_key, s, &rk);
	id = run(normalize_identifier, s, &ri);
	ph = run(normalize_phonetic, s, &rp);
	if (!valid) {
		if (rk != FOCAL_E_INVAL || ri != FOCAL_E_INVAL || rp != FOCAL_E_INVAL)
			abort();
		if (normalize_names_match(s, s) || normalize_is_initial_of(s, "a"))
			abort();
		free(key), free(id), free(ph);
		return;
	}
	if (rk < 0 || ri < 0 || rp < 0)
		abort();
	check_text(key, true, false);
	check_text(id, false, true);
	check_text(ph, false, false);

	/* idempotence */
	key2 = run(normalize_key, key, &rk2);
	if (rk2 != rk || strcmp(key, key2) != 0)
		abort();
	id2 = run(normalize_identifier, id, &ri2);
	if (ri2 != ri || strcmp(id, id2) != 0)
		abort();
	ph2 = run(normalize_phonetic, key, &rp2);
	if (rp2 != rp || strcmp(ph, ph2) != 0)
		abort();

	/* format characters around the input change nothing */
	wrapped = xmalloc(n + 16);
	memcpy(wrapped, "\xE2\x80\x8F\xE2\x81\xA6", 6);	  /* RLM, LRI */
	memcpy(wrapped + 6, s, n);
	memcpy(wrapped + 6 + n, "\xE2\x80\x8B\xE2\x80\xAE", 7); /* ZWSP, RLO, NUL */
	wkey = run(normalize_key, wrapped, &rw);
	if (rw != rk || strcmp(wkey, key) != 0)
		abort();

	check_exact(normalize_key, s, key, rk);
	check_exact(normalize_identifier, s, id, ri);
	check_exact(normalize_phonetic, s, ph, rp);

	if (rk > 0 && rk < NORMALIZE_MAX && !normalize_names_match(s, s))
		abort();
	if (rk == 0 && normalize_names_match(s, s))
		abort();

	free(key), free(key2), free(id), free(id2), free(ph), free(ph2);
	free(wrapped), free(wkey);
}

static void check_two(const char *a, const char *b)
{
	bool ab = normalize_names_match(a, b);
	char ka[NORMALIZE_MAX];
	int n;

	if (ab != normalize_names_match(b, a))
		abort();
	if (normalize_is_initial_of(a, b)) {
		utf8proc_int32_t cp;

		n = normalize_key(a, ka, sizeof(ka));
		if (n <= 0 || utf8proc_iterate((const utf8proc_uint8_t *)ka, n, &cp) != n)
			abort();
	}
}

static const utf8proc_int32_t picks[] = {
	'a', 'e', 'o', 'u', 'y', 'c', 'h', 's', 'd', 'J', 'P', ' ', '-', '.', '\'', '_', ',',
	'\t', '\n', 0x7F, 0x01, 0x00A0, 0x00AD, 0x00DF, 0x0131, 0x0130, 0x0142, 0x00E6,
	0x0301, 0x0308, 0x0327, 0x0345, 0x034F, 0x0600, 0x061C, 0x0640, 0x064E, 0x1100,
	0x1161, 0x11A8, 0xAC00, 0xD638, 0x3164, 0x115F, 0x200B, 0x200D, 0x200E, 0x200F,
	0x202A, 0x202E, 0x2066, 0x2069, 0x2010, 0x2013, 0x2019, 0x02BC, 0x2024, 0x2212,
	0x3000, 0x30FB, 0x0420, 0x0435, 0x0391, 0x03A3, 0x03C2, 0x01C4, 0x01C5, 0xFB01,
	0xFDFA, 0xFF21, 0x2160, 0x2460, 0x1E9E, 0xFE0F, 0xE0001, 0xFFF9, 0x13A0, 0xAB70,
	0x1C90, 0x10D0, 0x3099, 0x30B7, 0x0B47, 0x0B3E, 0x1FB3, 0x1E9B, 0x0323,
};

/* Mode 0xFF: builds valid UTF-8 from picks; a byte past the table takes the
 * next three bytes as a code point (kept valid). */
static char *from_picks(const uint8_t *data, size_t size)
{
	size_t np = sizeof(picks) / sizeof(picks[0]);
	char *s = xmalloc(4 * size + 1);
	size_t len = 0;

	for (size_t i = 0; i < size; i++) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n;

		if (data[i] < np) {
			cp = picks[data[i]];
		} else if (i + 3 < size) {
			cp = (utf8proc_int32_t)(((uint32_t)data[i + 1] << 16 |
						 (uint32_t)data[i + 2] << 8 | data[i + 3]) %
						0x110000);
			i += 3;
		} else {
			continue;
		}
		if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
			continue;
		n = utf8proc_encode_char(cp, (utf8proc_uint8_t *)s + len);
		len += (size_t)n;
	}
	s[len] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl;

	if (size > FUZZ_NORMALIZE_MAX)
		return 0;
	if (size > 0 && data[0] == 0xFF) {
		s = from_picks(data + 1, size - 1);
	} else {
		s = xmalloc(size + 1);
		memcpy(s, data, size);
		s[size] = '\0'; /* an embedded NUL ends the string, as for any caller */
	}
	check_one(s);
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		check_two(s, nl + 1);
	}
	free(s);
	return 0;
}
