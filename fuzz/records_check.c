/*
 * records_check: see records_check.h.  UTF-8 is checked with utf8proc, not
 * with the validators of the code under test.
 */
#include "records_check.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "sources/mapping.h"

static void check_text(const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t n = (utf8proc_ssize_t)len;
	utf8proc_int32_t cp;

	while (n > 0) {
		utf8proc_ssize_t k = utf8proc_iterate(p, n, &cp);

		if (k <= 0 || cp == 0)
			abort(); /* records are NUL-free UTF-8 text */
		p += k;
		n -= k;
	}
}

void records_check(const struct source_call *call, size_t max_rows, size_t max_bytes)
{
	size_t total = 0, row_max = 0;

	if (call->rows > max_rows)
		abort();
	for (size_t e = 0; e < call->def->map.nentities; e++)
		row_max += call->def->map.entities[e].nfields * MAPPING_VALUE_MAX;
	for (size_t i = 0; i < call->records.n; i++) {
		const struct record *r = &call->records.items[i];

		for (size_t j = 0; j < r->nfields; j++) {
			size_t len = strlen(r->fields[j].value);

			if (len > MAPPING_VALUE_MAX)
				abort();
			check_text(r->fields[j].value, len);
			total += len;
		}
	}
	if (total != call->records.bytes)
		abort();
	if (call->records.bytes > max_bytes + row_max)
		abort();
}

void records_check_reason(const char *reason)
{
	for (const char *s = reason; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}
