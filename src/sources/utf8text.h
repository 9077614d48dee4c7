/*
 * utf8text: the one check that a source's value is text a record may hold.
 *
 * Records are NUL-free UTF-8 (record.h), but no back end guarantees it: a
 * SQLite TEXT or BLOB column holds whatever bytes were stored, a PostgreSQL
 * SQL_ASCII database passes Latin-1 through, a directory server may send
 * anything.  mapping_apply() runs every value a connector's getter returns
 * through here, so all connectors behave alike; a connector only uses
 * utf8text_valid() itself where a value that is not text means something
 * else (an LDAP binary attribute value, which is skipped).
 */
#ifndef FOCAL_UTF8TEXT_H
#define FOCAL_UTF8TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) without a NUL byte. */
bool utf8text_valid(const char *s, size_t len);

/* Writes s[0..len) to out with every byte that does not start a valid
 * sequence, and every NUL, replaced by U+FFFD, stopping before the character
 * that would take the output past max bytes (never splitting one).  Returns
 * the number of bytes written; out must have room for max bytes (no NUL is
 * added). */
size_t utf8text_repair(const char *s, size_t len, char *out, size_t max);

#endif
