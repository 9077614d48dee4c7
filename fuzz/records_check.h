/*
 * records_check: the contract every source answer's records must keep,
 * whatever a back-end sent (shared by the answer harnesses, not a harness
 * itself): at most max_rows rows; every value NUL-free UTF-8 text of at
 * most MAPPING_VALUE_MAX bytes; the set's byte account equal to the sum of
 * the values' lengths (so the byte limit counts what is really kept), and
 * overshooting max_bytes by one row's values at most.  abort()s otherwise.
 */
#ifndef FOCAL_FUZZ_RECORDS_CHECK_H
#define FOCAL_FUZZ_RECORDS_CHECK_H

#include "sources/source.h"

void records_check(const struct source_call *call, size_t max_rows, size_t max_bytes);

/* abort()s unless reason is one line of printable text. */
void records_check_reason(const char *reason);

#endif
