/*
 * samples: latency samples and their percentiles, shared by the benchmark's
 * helper programs (loadgen.c, wakeprobe.c).  Header-only because each is
 * built alone by bench/run.sh with one cc line; not part of focald.
 */
#ifndef FOCAL_BENCH_SAMPLES_H
#define FOCAL_BENCH_SAMPLES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct samples {
	double *v;
	size_t n, cap;
};

static inline void samples_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		double *nv = realloc(s->v, cap * sizeof(*nv));

		if (nv == NULL) {
			fputs("out of memory\n", stderr);
			exit(2);
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
}

static inline int samples_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline void samples_sort(struct samples *s)
{
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(double), samples_cmp);
}

/* Nearest-rank percentile of sorted samples; NAN when there are none. */
static inline double samples_pct(const struct samples *s, double p)
{
	size_t k;

	if (s->n == 0)
		return NAN;
	k = (size_t)ceil(p / 100.0 * (double)s->n);
	if (k < 1)
		k = 1;
	return s->v[k - 1];
}

/* The largest of sorted samples; NAN when there are none. */
static inline double samples_max(const struct samples *s)
{
	return s->n ? s->v[s->n - 1] : NAN;
}

static inline double samples_mean(const struct samples *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->v[i];
	return s->n ? sum / (double)s->n : NAN;
}

#endif
