/*
 * testutil: helpers shared by the unit tests (see testutil.h).
 */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

char *testutil_replace(const char *text, const char *token, const char *with)
{
	size_t tl = strlen(token), wl = strlen(with), n = strlen(text) + 1;
	const char *p;
	char *out, *o;

	for (p = text; (p = strstr(p, token)) != NULL; p += tl)
		n += wl;
	out = malloc(n);
	assert_non_null(out);
	for (o = out, p = text; *p != '\0';) {
		if (strncmp(p, token, tl) == 0) {
			memcpy(o, with, wl);
			o += wl;
			p += tl;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}
