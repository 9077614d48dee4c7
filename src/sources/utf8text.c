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

/* utf8text_valid past the ASCII prefix: a character at a time.  Kept out
 * of line so that the ASCII path needs no stack frame. */
__attribute__((noinline)) static bool utf8text_valid_rest(const unsigned char *p, size_t len)
{
	size_t i = 0, k;

	while (i < len) {
		if ((k = utf8text_char(p + i, len - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

bool utf8text_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	/* the ASCII prefix without a call or a stack frame: a word at a time,
	 * then bytes in 1..0x7F (an unsigned b - 1 below 0x7F) */
	while (len - i >= 8 && utf8text_ascii8(p + i))
		i += 8;
	for (; i < len; i++)
		if ((unsigned)p[i] - 1u >= 0x7Fu)
			return utf8text_valid_rest(p + i, len - i);
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
