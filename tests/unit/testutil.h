/*
 * testutil: small helpers the cmocka unit tests share (tests/meson.build
 * links them into every unit test).
 */
#ifndef FOCAL_TESTUTIL_H
#define FOCAL_TESTUTIL_H

/* text with every occurrence of token replaced by with (malloc'd, the
 * caller frees; fails the test when out of memory). */
char *testutil_replace(const char *text, const char *token, const char *with);

#endif
