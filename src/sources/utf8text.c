/*
 * utf8text: value text checks shared by every connector (see utf8text.h).
 *
 * Most values are plain ASCII, so the check skips eight ASCII bytes at a
 * time, then single ones, and leaves the rest to utf8proc_iterate (which
 * refuses overlong forms, surrogates and code points above U+10FFFF).
 */
#include "sources/utf8text.h"

#include <stdint.h>
#include <string.h>

#include <utf8proc.h>

/* The length of the valid character at p (at most n bytes), or 0 when the
 * byte at p does not start one or is NUL. */
static size_t utf8text_char(const unsigned char *p, size_t n)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	if (*p != 0 && *p < 0x80)
		return 1;
	k = utf8proc_iterate(p, (utf8proc_ssize_t)n, &cp);
	return k > 0 && cp != 0 ? (size_t)k : 0;
}

/* Whether the 8 bytes at p are all ASCII and none is NUL (a word at a
 * time: most values are short ASCII names and numbers, checked for every
 * value of every row). */
static bool utf8text_ascii8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	/* (w - ones) & ~w & highs: nonzero iff some byte of w is zero */
	return (w & highs) == 0 && ((w - ones) & ~w & highs) == 0;
}

bool utf8text_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		if (len - i >= 8 && utf8text_ascii8(p + i)) {
			i += 8;
			continue;
		}
		if (p[i] != 0 && p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8text_char(p + i, len - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

size_t utf8text_repair(const char *s, size_t len, char *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k;

	while (i < len) {
		k = utf8text_char(p + i, len - i);
		if (k == 0) {
			if (o + 3 > max)
				break;
			memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
			continue;
		}
		if (o + k > max)
			break;
		memcpy(out + o, p + i, k);
		o += k;
		i += k;
	}
	return o;
}
