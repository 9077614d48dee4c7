/*
 * strhash: a fast hash of a C string for spreading keys over slots and
 * cache look-ups (the login throttle's table, the SQLite connector's
 * per-thread connections).  FNV-1a, 64 bits: not a digest and not keyed, so
 * never for anything an attacker must not be able to collide; the callers
 * compare the keys themselves, or cap what a collision can cost.
 */
#ifndef FOCAL_STRHASH_H
#define FOCAL_STRHASH_H

#include <stdint.h>

uint64_t strhash(const char *s);

#endif
