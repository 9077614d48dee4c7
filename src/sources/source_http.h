/*
 * source_http: the HTTP/JSON connector (connector_http in source.h).  The
 * parser of an agency's answer is exposed for the fuzz harness
 * (fuzz/fuzz_http_answer.c): it is the part that reads untrusted bytes.
 */
#ifndef FOCAL_SOURCE_HTTP_H
#define FOCAL_SOURCE_HTTP_H

#include <stddef.h>

#include "sources/source.h"

/* Parses an answer body and feeds its rows (map.rows) into call.  Returns the
 * status to finish with (SOURCE_OK, or SOURCE_ERROR with reason filled). */
enum source_status source_http_rows(struct source_call *call, const char *body, size_t len,
				    char *reason, size_t reasonsz);

#endif
