/*
 * strhash: FNV-1a over a C string (see strhash.h).
 */
#include "core/strhash.h"

uint64_t strhash(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}
