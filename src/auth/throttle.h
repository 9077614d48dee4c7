/*
 * throttle: per-address limit on failed logins, in memory, shared by all
 * threads (a mutex guards a fixed-size table, so memory stays bounded
 * whatever an attacker sends).
 *
 * An address that failed `limit` times within `window_s` seconds is refused
 * until the window has passed since its first counted failure.  This slows
 * password spraying across many accounts, which per-account lockout alone
 * does not (NIST SP 800-63B 5.2.2, OWASP ASVS V6.3).
 */
#ifndef FOCAL_THROTTLE_H
#define FOCAL_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

/* limit 0 disables throttling.  Call before any other use. */
void throttle_configure(long limit, long window_s);
/* True when addr may try now (at Unix time now, seconds). */
bool throttle_allowed(const char *addr, int64_t now);
/* Counts one failure of addr. */
void throttle_fail(const char *addr, int64_t now);
/* Forgets everything (tests). */
void throttle_reset(void);

#endif
