/*
 * normalize_bench: nanoseconds per call of the normalize functions on typical
 * names (search/normalize.h), the cost entity resolution pays per record
 * field.  Prints, asserts nothing.  Built by hand, not by meson:
 *
 *   cc -std=c17 -O2 -D_GNU_SOURCE -Isrc bench/normalize_bench.c \
 *      src/search/normalize.c -lutf8proc -o /tmp/normalize_bench
 *   /tmp/normalize_bench [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "search/normalize.h"

static const char *const ascii_names[] = {
	"Jan Peeters", "Mohammed El Idrissi", "Van de Velde Pieter", "Janssens, Marc",
	"Dubois-Lambert Emilie", "Tshibangu Kalonji", "Kowalski Jan", "Yilmaz Mehmet",
};
static const char *const unicode_names[] = {
	"Émilie Dubois-Lambert", "Çelik Öztürk", "Michał Wiśniewski", "\u200FJan Peeters\u202C",
	"Реeters Jan", "ｅｍｉｌｉｅ", "Aïcha Benali", "Noël d’Hondt",
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile size_t sink; /* keeps the calls from being optimised away */

static void bench(const char *label, int (*f)(const char *, char *, size_t),
		  const char *const *names, size_t nnames, long iters)
{
	char out[NORMALIZE_MAX];
	double t0 = now_ns();

	for (long i = 0; i < iters; i++)
		sink += (size_t)f(names[(size_t)i % nnames], out, sizeof(out));
	printf("%-34s %8.0f ns/call\n", label, (now_ns() - t0) / (double)iters);
}

static void bench_match(const char *label, long iters)
{
	static const char *const pairs[][2] = {
		{ "Jan Peeters", "Peeters Jan" },
		{ "Mohamed El Idrissi", "Muhammad Elidrissi" },
		{ "Émilie Dubois-Lambert", "Emilie Dubois" },
		{ "Kowalski Jan", "Jan Kowalsky" },
	};
	double t0 = now_ns();

	for (long i = 0; i < iters; i++)
		sink += normalize_names_match(pairs[i % 4][0], pairs[i % 4][1]);
	printf("%-34s %8.0f ns/call\n", label, (now_ns() - t0) / (double)iters);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	size_t na = sizeof(ascii_names) / sizeof(ascii_names[0]);
	size_t nu = sizeof(unicode_names) / sizeof(unicode_names[0]);

	if (iters <= 0)
		iters = 1000000;
	bench("normalize_key (ASCII names)", normalize_key, ascii_names, na, iters);
	bench("normalize_key (non-ASCII names)", normalize_key, unicode_names, nu, iters);
	bench("normalize_phonetic (ASCII names)", normalize_phonetic, ascii_names, na, iters);
	bench("normalize_phonetic (non-ASCII)", normalize_phonetic, unicode_names, nu, iters);
	bench("normalize_identifier (non-ASCII)", normalize_identifier, unicode_names, nu, iters);
	bench_match("normalize_names_match (mixed)", iters);
	return 0;
}
