/*
 * resolve: entity resolution over the records of one search (see resolve.h
 * for the rules, docs/briefing.md for why they are these).
 *
 * How a run goes:
 *   1. keys, once per record: normalized identifiers, the person name key
 *      (sorted phonetic words of given + family), the family key, the parsed
 *      birth date, whether the given name is an initial;
 *   2. union-find over the records, strongest evidence first: runs of equal
 *      identifiers, then runs of equal name key and birth date, then initials
 *      within runs of equal family key, then given names of which one side
 *      has only part ("Tim" of "Tim Johan") within the same runs.  Every union is checked first: a
 *      component keeps the one identifier per slot and the one birth date it
 *      has, and a union that would give it two is refused;
 *   3. entities = components, ordered by kind then first record; facts per
 *      field grouped by normalized value, with their sources and conflicts;
 *   4. links by national number, alert concerns, possible matches (checked
 *      against the final components, so a possible match that merging has
 *      since ruled out — say its other side gained a different birth date —
 *      is dropped).
 * Runs are found by sorting, so the cost is O(n log n) plus pair comparisons
 * inside runs, each bounded by RUN_PAIRS.
 */
#include "search/resolve.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/normalize.h"

/* Inside a run of records with equal keys, each record is compared with at
 * most this many records before it: a run that long is a data problem, and a
 * bound keeps a hostile source from making the briefing quadratic. */
#define RUN_PAIRS 64
/* Raw possible-match candidates collected before deduplication. */
#define MAX_CANDIDATES (RESOLVE_MAX_POSSIBLE * 8)
/* Words of one name sorted for its key. */
#define MAX_WORDS 32
/* Persons of one name run looked at for one alert's subject_name. */
#define NAME_SCAN 256

/* ---- an arena: keys and canonical dates, freed at once ---- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

static char *arena_alloc(void **arena, size_t len)
{
	struct chunk *c = *arena;

	if (c == NULL || c->cap - c->used < len) {
		size_t cap = len > 8192 ? len : 8192;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = *arena;
		c->used = 0;
		c->cap = cap;
		*arena = c;
	}
	c->used += len;
	return c->data + c->used - len;
}

static void arena_free(void *arena)
{
	struct chunk *c = arena;

	while (c != NULL) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

static const char *arena_copy(void **arena, const char *s, size_t len)
{
	char *p = arena_alloc(arena, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* ---- sorting ---- */

/* Defines `static void name(T *v, size_t n)`: a merge sort (insertion sort of
 * runs of 8, then merges between v and a scratch copy) by `less`, a static
 * inline function (const T *, const T *) -> bool that must be a strict
 * total order: then every sort gives the order qsort gives.  The comparison
 * is inlined, where qsort calls through a pointer and sorts elements of over
 * 32 bytes indirectly: that was most of the cost of sorting the keys.
 * Without memory for the scratch copy: qsort with `cmp`. */
#define RESOLVE_SORT(name, T, less, cmp)                                                   \
	static void name(T *v, size_t n)                                                   \
	{                                                                                  \
		T *tmp, *src = v, *dst, *t;                                                \
                                                                                           \
		if (n < 2)                                                                 \
			return;                                                            \
		if ((tmp = malloc(n * sizeof(*tmp))) == NULL) {                            \
			qsort(v, n, sizeof(*v), cmp);                                      \
			return;                                                            \
		}                                                                          \
		for (size_t b = 0; b < n; b += 8)                                          \
			for (size_t i = b + 1; i < n && i < b + 8; i++) {                  \
				T x = v[i];                                                \
				size_t j = i;                                              \
                                                                                           \
				for (; j > b && less(&x, &v[j - 1]); j--)                  \
					v[j] = v[j - 1];                                   \
				v[j] = x;                                                  \
			}                                                                  \
		dst = tmp;                                                                 \
		for (size_t w = 8; w < n; w *= 2) {                                        \
			for (size_t lo = 0; lo < n; lo += 2 * w) {                         \
				size_t mid = lo + w < n ? lo + w : n;                      \
				size_t hi = lo + 2 * w < n ? lo + 2 * w : n;               \
				size_t i = lo, j = mid, k = lo;                            \
                                                                                           \
				while (i < mid && j < hi)                                  \
					dst[k++] = less(&src[j], &src[i]) ? src[j++]       \
									  : src[i++];      \
				while (i < mid)                                            \
					dst[k++] = src[i++];                               \
				while (j < hi)                                             \
					dst[k++] = src[j++];                               \
			}                                                                  \
			t = src;                                                           \
			src = dst;                                                         \
			dst = t;                                                           \
		}                                                                          \
		if (src != v)                                                              \
			memcpy(v, src, n * sizeof(*v));                                    \
		free(tmp);                                                                 \
	}

/* ---- keys ---- */

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the space-separated words of buf (len bytes) in place. */
static void sort_words(char *buf, size_t len)
{
	char *words[MAX_WORDS], tmp[NORMALIZE_MAX];
	size_t n = 0, off = 0;
	char *p = buf;

	if (len >= sizeof(tmp))
		return;
	while (*p != '\0' && n < MAX_WORDS) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		words[n++] = p;
		while (*p != ' ' && *p != '\0')
			p++;
		if (*p == ' ')
			*p++ = '\0';
	}
	if (*p != '\0') {
		/* more words than we sort: leave the key as it was */
		for (size_t i = 0; i < n; i++)
			words[i][strlen(words[i])] = ' ';
		return;
	}
	qsort(words, n, sizeof(words[0]), cmp_str_ptr);
	for (size_t i = 0; i < n; i++) {
		size_t wl = strlen(words[i]);

		if (i > 0)
			tmp[off++] = ' ';
		memcpy(tmp + off, words[i], wl);
		off += wl;
	}
	tmp[off] = '\0';
	memcpy(buf, tmp, off + 1);
}

int resolve_name_key(const char *given, const char *family, char *out, size_t outlen)
{
	char joined[2 * NORMALIZE_MAX];
	size_t gl = given != NULL ? strlen(given) : 0, fl = family != NULL ? strlen(family) : 0;
	int n;

	if (outlen > 0)
		out[0] = '\0';
	if (gl + fl + 2 > sizeof(joined))
		return FOCAL_E_LIMIT;
	if (gl > 0)
		memcpy(joined, given, gl);
	joined[gl] = ' ';
	if (fl > 0)
		memcpy(joined + gl + 1, family, fl);
	joined[gl + 1 + fl] = '\0';
	n = normalize_phonetic(joined, out, outlen);
	if (n <= 0)
		return n;
	sort_words(out, (size_t)n);
	return n;
}

/* fn(in) copied into the arena; *key NULL when in has no usable key (empty,
 * not UTF-8, too long): such a value simply never matches another. */
static int key_of(void **arena, int (*fn)(const char *, char *, size_t), const char *in,
		  const char **key)
{
	char buf[NORMALIZE_MAX];
	int n;

	*key = NULL;
	if (in == NULL)
		return FOCAL_OK;
	n = fn(in, buf, sizeof(buf));
	if (n <= 0)
		return FOCAL_OK;
	*key = arena_copy(arena, buf, (size_t)n);
	return *key != NULL ? FOCAL_OK : FOCAL_E_NOMEM;
}

static int name_key_of(void **arena, const char *given, const char *family, const char **key)
{
	char buf[NORMALIZE_MAX];
	int n = resolve_name_key(given, family, buf, sizeof(buf));

	*key = NULL;
	if (n <= 0)
		return FOCAL_OK;
	*key = arena_copy(arena, buf, (size_t)n);
	return *key != NULL ? FOCAL_OK : FOCAL_E_NOMEM;
}

/* ---- dates ---- */

static bool take_digits(const char **p, int min, int max, int *out)
{
	int n = 0, v = 0;

	while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9') {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min)
		return false;
	*p += n;
	*out = v;
	return true;
}

static bool valid_date(int y, int m, int d)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

bool resolve_parse_date(const char *s, int *yyyymmdd)
{
	const char *p = s, *start;
	int a, b, c;
	bool ymd;
	char sep;

	if (s == NULL)
		return false;
	while (*p == ' ')
		p++;
	start = p;
	if (!take_digits(&p, 1, 8, &a))
		return false;
	if (p - start == 8) { /* yyyymmdd */
		c = a % 100;
		b = a / 100 % 100;
		a /= 10000;
		ymd = true;
	} else {
		ymd = p - start == 4;
		if (!ymd && p - start > 2)
			return false;
		sep = *p;
		if (sep != '-' && sep != '/' && sep != '.')
			return false;
		p++;
		if (!take_digits(&p, 1, 2, &b) || *p != sep)
			return false;
		p++;
		if (!take_digits(&p, ymd ? 1 : 4, ymd ? 2 : 4, &c))
			return false;
		if (!ymd) { /* dd?mm?yyyy */
			int d = a;

			a = c;
			c = d;
		}
	}
	/* a time may follow an ISO date ("1985-07-30T00:00:00", "1985-07-30 00:00") */
	if (ymd && (*p == 'T' || *p == ' ') && p[1] >= '0' && p[1] <= '9')
		p = "";
	while (*p == ' ')
		p++;
	if (*p != '\0' || !valid_date(a, b, c))
		return false;
	*yyyymmdd = a * 10000 + b * 100 + c;
	return true;
}

static int date_of(const char *s)
{
	int d;

	return resolve_parse_date(s, &d) ? d : 0;
}

/* ---- records and union-find ---- */

enum { SLOTS = 2 };

struct rec_info {
	const struct record *r;
	const char *id[SLOTS]; /* normalized strong identifiers; meaning per kind */
	const char *name;      /* persons: resolve_name_key(given, family) */
	const char *joined;    /* persons: the same with the family name's words
				* joined ("Van Damme" as "Vandamme"), if it differs */
	const char *full;      /* persons: "given family" as the source wrote it */
	const char *family;    /* persons: resolve_name_key(NULL, family) */
	const char *given;     /* persons: the given name as the source gave it */
	const char *family_raw; /* persons: the family name as the source gave it */
	const char *gwords;    /* persons: resolve_name_key(given, NULL): the given
				* names' phonetic words, sorted; NULL without any */
	int bdate;             /* persons: yyyymmdd or 0 */
	bool initial;          /* persons: the given name is one letter ("J.") */
	char first[5];         /* persons: the given name's first character (identifier form) */
};

struct comp {
	size_t parent, size;
	/* at the root: the component's identifiers and birth date */
	const char *id[SLOTS];
	int bdate;
};

enum compat { COMPAT_OK = 0, COMPAT_BDATE, COMPAT_ID };

static size_t uf_find(struct comp *c, size_t x)
{
	while (c[x].parent != x) {
		c[x].parent = c[c[x].parent].parent; /* path halving */
		x = c[x].parent;
	}
	return x;
}

static enum compat uf_compat(const struct comp *c, size_t ra, size_t rb)
{
	for (int s = 0; s < SLOTS; s++)
		if (c[ra].id[s] != NULL && c[rb].id[s] != NULL && strcmp(c[ra].id[s], c[rb].id[s]) != 0)
			return COMPAT_ID;
	if (c[ra].bdate != 0 && c[rb].bdate != 0 && c[ra].bdate != c[rb].bdate)
		return COMPAT_BDATE;
	return COMPAT_OK;
}

/* Unites the components of a and b unless that would give one component two
 * identifiers in one slot or two birth dates; returns why not. */
static enum compat uf_union(struct comp *c, size_t a, size_t b)
{
	size_t ra = uf_find(c, a), rb = uf_find(c, b);
	enum compat why;

	if (ra == rb)
		return COMPAT_OK;
	if ((why = uf_compat(c, ra, rb)) != COMPAT_OK)
		return why;
	if (c[ra].size < c[rb].size) {
		size_t t = ra;

		ra = rb;
		rb = t;
	}
	c[rb].parent = ra;
	c[ra].size += c[rb].size;
	for (int s = 0; s < SLOTS; s++)
		if (c[ra].id[s] == NULL)
			c[ra].id[s] = c[rb].id[s];
	if (c[ra].bdate == 0)
		c[ra].bdate = c[rb].bdate;
	return COMPAT_OK;
}

/* A sortable key of one record. */
struct skey {
	unsigned group; /* kind * SLOTS + slot for identifiers; 0 otherwise */
	const char *key;
	int bdate;
	size_t rec;
	bool joined;    /* a person's joined key: pairs need normalize_names_match() */
};

static inline __attribute__((always_inline)) int skey_cmp(const void *pa, const void *pb)
{
	const struct skey *a = pa, *b = pb;
	int c;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	/* equal names share one key string (name_memo) */
	if (a->key != b->key && (c = strcmp(a->key, b->key)) != 0)
		return c;
	if (a->bdate != b->bdate)
		return a->bdate < b->bdate ? -1 : 1;
	return a->rec < b->rec ? -1 : a->rec > b->rec;
}

static inline bool skey_less(const struct skey *a, const struct skey *b)
{
	return skey_cmp(a, b) < 0;
}

RESOLVE_SORT(skey_sort, struct skey, skey_less, skey_cmp)

static size_t run_end(const struct skey *v, size_t n, size_t i, bool with_bdate)
{
	size_t j = i + 1;

	while (j < n && v[j].group == v[i].group &&
	       (v[j].key == v[i].key || strcmp(v[j].key, v[i].key) == 0) &&
	       (!with_bdate || v[j].bdate == v[i].bdate))
		j++;
	return j;
}

struct cand {
	size_t a, b; /* record indices */
	enum resolve_why why;
};

struct run_state {
	const struct record *const *recs;
	size_t n;
	struct rec_info *info;
	struct comp *comp;
	void *arena;
	struct cand *cand;
	size_t ncand, cand_dropped;
	struct skey *ids, *names, *families; /* sorted */
	size_t nids, nnames, nfamilies;
	size_t *ent_of_root;
	size_t *memo; /* name_memo(): record index + 1 per slot, 0 free */
	size_t memo_cap; /* a power of two, at least twice the records */
};

static void add_cand(struct run_state *st, size_t a, size_t b, enum resolve_why why)
{
	if (st->ncand == MAX_CANDIDATES) {
		st->cand_dropped++;
		return;
	}
	st->cand[st->ncand++] = (struct cand){ a, b, why };
}

/* Identifier slots per kind: which canonical fields are strong identifiers. */
static int record_ids(struct run_state *st, struct rec_info *ri)
{
	const struct record *r = ri->r;
	int rc = FOCAL_OK;

	switch (r->kind) {
	case ENTITY_PERSON:
		rc = key_of(&st->arena, normalize_identifier, record_get(r, "national_number"),
			    &ri->id[0]);
		break;
	case ENTITY_VEHICLE:
		if ((rc = key_of(&st->arena, normalize_identifier, record_get(r, "plate"),
				 &ri->id[0])) == FOCAL_OK)
			rc = key_of(&st->arena, normalize_identifier, record_get(r, "vin"), &ri->id[1]);
		break;
	case ENTITY_FIREARM:
		rc = key_of(&st->arena, normalize_identifier, record_get(r, "serial"), &ri->id[0]);
		break;
	case ENTITY_REPORT:
		rc = key_of(&st->arena, normalize_identifier, record_get(r, "reference"), &ri->id[0]);
		break;
	case ENTITY_ADDRESS: {
		/* street, number, box and postcode (or city, when there is no postcode) */
		const char *street = record_get(r, "street"), *pc = record_get(r, "postcode");
		const char *parts[4], *keys[4];
		char joined[4 * NORMALIZE_MAX + 4];
		size_t off = 0;

		if (street == NULL)
			break;
		parts[0] = street;
		parts[1] = record_get(r, "number");
		parts[2] = record_get(r, "box");
		parts[3] = pc != NULL ? pc : record_get(r, "city");
		for (int i = 0; i < 4 && rc == FOCAL_OK; i++)
			rc = key_of(&st->arena, i == 0 ? normalize_key : normalize_identifier,
				    parts[i], &keys[i]);
		if (rc != FOCAL_OK || keys[0] == NULL)
			break;
		for (int i = 0; i < 4; i++) {
			size_t l = keys[i] != NULL ? strlen(keys[i]) : 0;

			if (l > 0)
				memcpy(joined + off, keys[i], l);
			off += l;
			joined[off++] = '|';
		}
		ri->id[0] = arena_copy(&st->arena, joined, off);
		if (ri->id[0] == NULL)
			rc = FOCAL_E_NOMEM;
		break;
	}
	default:
		break;
	}
	return rc;
}

/* The second name key of a person whose family name has several words:
 * normalize_names_match() also reads names with particles joined ("Van
 * Damme" = "Vandamme", "De Smet" = "Desmet"), which the sorted phonetic words
 * cannot show; the family name written as one word can.  Pairs found through
 * this key are confirmed with normalize_names_match(). */
static int joined_key_of(struct run_state *st, struct rec_info *ri, const char *given,
			 const char *family)
{
	char fk[NORMALIZE_MAX];
	size_t w = 0;
	int n;

	if (family == NULL || ri->name == NULL || (n = normalize_key(family, fk, sizeof(fk))) <= 0 ||
	    memchr(fk, ' ', (size_t)n) == NULL)
		return FOCAL_OK;
	for (int r = 0; r < n; r++)
		if (fk[r] != ' ')
			fk[w++] = fk[r];
	fk[w] = '\0';
	if (name_key_of(&st->arena, given, fk, &ri->joined) != FOCAL_OK)
		return FOCAL_E_NOMEM;
	if (ri->joined != NULL && strcmp(ri->joined, ri->name) == 0)
		ri->joined = NULL;
	return FOCAL_OK;
}

/* "given family" as the source wrote them, for normalize_names_match(). */
static int full_name_of(struct run_state *st, struct rec_info *ri, const char *given,
			const char *family)
{
	char full[2 * NORMALIZE_MAX];
	int n;

	if (ri->name == NULL)
		return FOCAL_OK;
	n = snprintf(full, sizeof(full), "%s %s", given != NULL ? given : "",
		     family != NULL ? family : "");
	if (n < 0 || (size_t)n >= sizeof(full)) {
		ri->joined = NULL; /* cannot be confirmed: keep to the name key */
		return FOCAL_OK;
	}
	ri->full = arena_copy(&st->arena, full, (size_t)n);
	return ri->full != NULL ? FOCAL_OK : FOCAL_E_NOMEM;
}

static bool str_eq_null(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static uint32_t name_hash(const char *given, const char *family)
{
	uint32_t h = 2166136261u;

	for (const char *p = given ? given : ""; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ (given ? 1u : 2u)) * 16777619u;
	for (const char *p = family ? family : ""; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (h ^ (family ? 1u : 2u)) * 16777619u;
}

/* An earlier person record with the same given and family name, whose keys
 * are copied instead of computed again (they depend on the two names only):
 * one person found in 20 sources is 20 records with the same strings, and
 * the phonetic keys are most of a record's cost.  Otherwise registers i and
 * returns RESOLVE_NONE.  Without a table (out of memory) nothing is shared. */
static size_t name_memo(struct run_state *st, size_t i, const char *given, const char *family)
{
	uint32_t mask = (uint32_t)st->memo_cap - 1, h;

	if (st->memo == NULL)
		return RESOLVE_NONE;
	for (h = name_hash(given, family) & mask; st->memo[h] != 0; h = (h + 1) & mask) {
		const struct rec_info *o = &st->info[st->memo[h] - 1];

		if (str_eq_null(o->given, given) && str_eq_null(o->family_raw, family))
			return st->memo[h] - 1;
	}
	st->memo[h] = i + 1;
	return RESOLVE_NONE;
}

static int record_keys(struct run_state *st, size_t i)
{
	struct rec_info *ri = &st->info[i];
	const struct record *r = st->recs[i];
	int rc;

	ri->r = r;
	if ((rc = record_ids(st, ri)) != FOCAL_OK)
		return rc;
	if (r->kind == ENTITY_PERSON) {
		const char *given = record_get(r, "given_name"), *family = record_get(r, "family_name");
		char idbuf[NORMALIZE_MAX];
		size_t same;
		int il;

		ri->given = given;
		ri->family_raw = family;
		ri->bdate = date_of(record_get(r, "birth_date"));
		if ((same = name_memo(st, i, given, family)) != RESOLVE_NONE) {
			const struct rec_info *o = &st->info[same];

			ri->name = o->name;
			ri->family = o->family;
			ri->gwords = o->gwords;
			ri->joined = o->joined;
			ri->full = o->full;
			ri->initial = o->initial;
			memcpy(ri->first, o->first, sizeof(ri->first));
		} else {
			if ((rc = name_key_of(&st->arena, given, family, &ri->name)) != FOCAL_OK ||
			    (rc = name_key_of(&st->arena, NULL, family, &ri->family)) != FOCAL_OK ||
			    (rc = name_key_of(&st->arena, given, NULL, &ri->gwords)) != FOCAL_OK ||
			    (rc = joined_key_of(st, ri, given, family)) != FOCAL_OK ||
			    (rc = full_name_of(st, ri, given, family)) != FOCAL_OK)
				return rc;
			/* "J." / "J": the given name is one letter; the first
			 * character is kept so that initials are only compared
			 * with names that start with it */
			il = given != NULL ? normalize_identifier(given, idbuf, sizeof(idbuf)) : 0;
			if (il > 0) {
				size_t cl = 1;

				while (cl < (size_t)il && cl < sizeof(ri->first) - 1 &&
				       ((unsigned char)idbuf[cl] & 0xC0) == 0x80)
					cl++;
				memcpy(ri->first, idbuf, cl);
				ri->first[cl] = '\0';
				ri->initial = (size_t)il == cl && !(idbuf[0] >= '0' && idbuf[0] <= '9');
			}
		}
	}
	st->comp[i].parent = i;
	st->comp[i].size = 1;
	memcpy(st->comp[i].id, ri->id, sizeof(ri->id));
	st->comp[i].bdate = ri->bdate;
	return FOCAL_OK;
}

/* For pairs found through a joined key. */
static bool names_confirm(const struct run_state *st, size_t a, size_t b)
{
	const struct rec_info *x = &st->info[a], *y = &st->info[b];

	return x->full != NULL && y->full != NULL && normalize_names_match(x->full, y->full);
}

/* Tries to unite every record of the run [b, e) with the ones before it;
 * refused unions become possible-match candidates when `why` says so. */
static void union_run(struct run_state *st, const struct skey *v, size_t b, size_t e,
		      bool keep_refused)
{
	for (size_t i = b + 1; i < e; i++)
		for (size_t j = i - 1 < b + RUN_PAIRS ? b : i - RUN_PAIRS; j < i; j++) {
			enum compat c;

			if (uf_find(st->comp, v[i].rec) == uf_find(st->comp, v[j].rec) ||
			    ((v[i].joined || v[j].joined) && !names_confirm(st, v[i].rec, v[j].rec)))
				continue;
			c = uf_union(st->comp, v[i].rec, v[j].rec);
			if (c != COMPAT_OK && keep_refused)
				add_cand(st, v[j].rec, v[i].rec,
					 c == COMPAT_BDATE ? RESOLVE_SAME_ID_OTHER_BIRTH_DATE
							   : RESOLVE_SAME_ID_OTHER_ID);
		}
}

static int build_keys(struct run_state *st)
{
	size_t nid = 0, nname = 0, nfam = 0;

	for (size_t i = 0; i < st->n; i++) {
		const struct rec_info *ri = &st->info[i];

		for (unsigned s = 0; s < SLOTS; s++)
			if (ri->id[s] != NULL)
				nid++;
		nname += (ri->name != NULL) + (ri->joined != NULL);
		nfam += ri->family != NULL;
	}
	st->ids = malloc((nid + 1) * sizeof(*st->ids));
	st->names = malloc((nname + 1) * sizeof(*st->names));
	st->families = malloc((nfam + 1) * sizeof(*st->families));
	if (st->ids == NULL || st->names == NULL || st->families == NULL)
		return FOCAL_E_NOMEM;
	for (size_t i = 0; i < st->n; i++) {
		const struct rec_info *ri = &st->info[i];

		for (unsigned s = 0; s < SLOTS; s++)
			if (ri->id[s] != NULL)
				st->ids[st->nids++] = (struct skey){ (unsigned)ri->r->kind * SLOTS + s,
								     ri->id[s], 0, i, false };
		/* the joined key lives among the name keys: "Desmet" (a name key)
		 * meets "De Smet" (a joined key) */
		if (ri->name != NULL)
			st->names[st->nnames++] = (struct skey){ 0, ri->name, ri->bdate, i, false };
		if (ri->joined != NULL)
			st->names[st->nnames++] = (struct skey){ 0, ri->joined, ri->bdate, i, true };
		if (ri->family != NULL)
			st->families[st->nfamilies++] = (struct skey){ 0, ri->family, 0, i, false };
	}
	skey_sort(st->ids, st->nids);
	skey_sort(st->names, st->nnames);
	skey_sort(st->families, st->nfamilies);
	return FOCAL_OK;
}

/* The next word of a sorted word list (*p advances past it); its length. */
static size_t next_word(const char **p, const char **w)
{
	size_t n = 0;

	while (**p == ' ')
		(*p)++;
	*w = *p;
	while ((*p)[n] != ' ' && (*p)[n] != '\0')
		n++;
	*p += n;
	return n;
}

/* Whether the sorted words of a are a strict sub-multiset of those of b
 * ("TIM" of "JOHN TIM"; "JOHN" of "JOHN JOHN TIM", not of "JOHN"). */
static bool words_strict_subset(const char *a, const char *b)
{
	const char *wa, *wb;
	size_t la = next_word(&a, &wa), lb = next_word(&b, &wb);
	bool extra = false;

	while (la > 0) {
		int c;

		if (lb == 0)
			return false;
		c = strncmp(wa, wb, la < lb ? la : lb);
		if (c == 0 && la != lb)
			c = la < lb ? -1 : 1;
		if (c < 0)
			return false; /* a word of a that b lacks */
		if (c > 0) {
			extra = true; /* a word of b that a lacks */
			lb = next_word(&b, &wb);
			continue;
		}
		la = next_word(&a, &wa);
		lb = next_word(&b, &wb);
	}
	return extra || lb > 0;
}

/* Step 4 for the record at v[k] of the family run [b, e): records whose
 * given names are a strict part of another's ("Tim Aerts" of "Tim Johan
 * Aerts": a report that kept only the first, or the name the person goes
 * by), with the same family name.  Merged only when both sides have a birth
 * date and it agrees, and only when every record that fits so could be one
 * person with it: were two people with the full names both to fit (two
 * residents, "Tim Johan" and "Tim Karel", born the same day), the part fits
 * neither for sure and is listed as a possible match of each.  Without a
 * birth date on one side: a possible match.  Another birth date or
 * identifier: a different person, nothing. */
static void merge_given_part(struct run_state *st, const struct skey *v, size_t b, size_t e,
			     size_t k)
{
	const struct rec_info *ik = &st->info[v[k].rec];
	size_t fit[RUN_PAIRS], nfit = 0, seen[RUN_PAIRS], nseen = 0, rk;
	bool together = true;

	if (ik->gwords == NULL || ik->initial)
		return;
	/* no union happens in this loop: k's component stays the same */
	rk = uf_find(st->comp, v[k].rec);

	for (size_t j = b; j < e && j < b + RUN_PAIRS; j++) {
		const struct rec_info *ij = &st->info[v[j].rec];
		size_t rj, s;

		/* the same name (one string: name_memo shares the keys of equal
		 * names) is never a strict part of itself; the cheap tests first,
		 * since a run is mostly one person's records */
		if (j == k || ij->gwords == NULL || ij->initial || ij->gwords == ik->gwords)
			continue;
		rj = uf_find(st->comp, v[j].rec);
		if (rj == rk || !words_strict_subset(ik->gwords, ij->gwords) ||
		    uf_compat(st->comp, rk, rj) != COMPAT_OK)
			continue;
		for (s = 0; s < nseen && seen[s] != rj; s++)
			;
		if (s < nseen)
			continue; /* one pair per component */
		seen[nseen++] = rj;
		if (st->comp[rk].bdate != 0 && st->comp[rj].bdate != 0)
			fit[nfit++] = v[j].rec;
		else
			add_cand(st, v[j].rec, v[k].rec, RESOLVE_GIVEN_NAMES_PART);
	}
	for (size_t x = 0; x < nfit && together; x++)
		for (size_t y = x + 1; y < nfit && together; y++)
			together = uf_compat(st->comp, uf_find(st->comp, fit[x]),
					     uf_find(st->comp, fit[y])) == COMPAT_OK;
	for (size_t x = 0; x < nfit; x++)
		if (!together || uf_union(st->comp, v[k].rec, fit[x]) != COMPAT_OK)
			add_cand(st, fit[x], v[k].rec, RESOLVE_GIVEN_NAMES_PART);
}

/* Whether the records of the run [b, e) that merge_given_part() looks at
 * (given names, not an initial) all share one given-name key string: then no
 * pair of them can be a strict part of the other, and the run is skipped
 * (one person told by 60 sources is a run of 60 with one shared key). */
static bool one_given_key(const struct run_state *st, const struct skey *v, size_t b, size_t e)
{
	const char *g = NULL;

	for (size_t j = b; j < e; j++) {
		const struct rec_info *ij = &st->info[v[j].rec];

		if (ij->gwords == NULL || ij->initial)
			continue;
		if (g == NULL)
			g = ij->gwords;
		else if (ij->gwords != g)
			return false;
	}
	return true;
}

static void merge_all(struct run_state *st)
{
	const struct skey *v;
	size_t i, e;

	/* 1. identifiers */
	for (i = 0; i < st->nids; i = e) {
		e = run_end(st->ids, st->nids, i, false);
		union_run(st, st->ids, i, e, true);
	}
	/* 2. name + birth date; a record without birth date is a candidate for
	 *    every other record of its name run */
	v = st->names;
	for (i = 0; i < st->nnames; i = e) {
		e = run_end(v, st->nnames, i, false);
		for (size_t b = i, be; b < e; b = be) {
			be = run_end(v, e, b, true);
			if (v[b].bdate != 0)
				union_run(st, v, b, be, false);
		}
		/* a record without birth date (they sort first) may be any dated
		 * record of its name run, one candidate per component; in a run
		 * without any birth date it is paired with the first record only,
		 * so that namesakes gather around one instead of every one being
		 * listed with every other */
		for (size_t k = i; k < e && v[k].bdate == 0; k++) {
			bool dated = v[e - 1].bdate != 0;
			size_t last_root = RESOLVE_NONE, seen = 0;

			for (size_t j = dated ? k + 1 : i; j < e && seen < RUN_PAIRS; j++) {
				size_t root;

				if (!dated && j > i)
					break;
				if (v[j].rec == v[k].rec || (dated && v[j].bdate == 0) ||
				    ((v[j].joined || v[k].joined) &&
				     !names_confirm(st, v[j].rec, v[k].rec)))
					continue;
				root = uf_find(st->comp, v[j].rec);
				if (root == last_root)
					continue;
				last_root = root;
				add_cand(st, v[j].rec, v[k].rec, RESOLVE_NAME_NO_BIRTH_DATE);
				seen++;
			}
		}
	}
	/* 3. an initial + birth date, within runs of equal family names */
	v = st->families;
	for (i = 0; i < st->nfamilies; i = e) {
		e = run_end(v, st->nfamilies, i, false);
		for (size_t k = i; k < e; k++) {
			const struct rec_info *ik = &st->info[v[k].rec];

			if (!ik->initial)
				continue;
			for (size_t j = i; j < e && j < i + RUN_PAIRS; j++) {
				const struct rec_info *ij = &st->info[v[j].rec];

				if (j == k || ij->initial || ij->given == NULL ||
				    strcmp(ik->first, ij->first) != 0 ||
				    !normalize_is_initial_of(ik->given, ij->given))
					continue;
				if (ik->bdate != 0 && ij->bdate != 0) {
					if (ik->bdate == ij->bdate)
						(void)uf_union(st->comp, v[k].rec, v[j].rec);
				} else {
					add_cand(st, v[j].rec, v[k].rec,
						 RESOLVE_INITIAL_NO_BIRTH_DATE);
				}
			}
		}
	}
	/* 4. part of the given names + birth date, within the same runs */
	for (i = 0; i < st->nfamilies; i = e) {
		e = run_end(v, st->nfamilies, i, false);
		if (e - i > 1 && !one_given_key(st, v, i, e))
			for (size_t k = i; k < e; k++)
				merge_given_part(st, v, i, e, k);
	}
}

/* ---- entities ---- */

struct ent_order {
	enum entity_kind kind;
	size_t first, tmp, nrec;
};

/* Persons first, then vehicles, firearms, addresses, reports; within a kind
 * the entity told by most records first, then in the order sources answered. */
static inline __attribute__((always_inline)) int ent_order_cmp(const void *pa, const void *pb)
{
	const struct ent_order *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->nrec != b->nrec)
		return a->nrec > b->nrec ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

static inline bool ent_order_less(const struct ent_order *a, const struct ent_order *b)
{
	return ent_order_cmp(a, b) < 0;
}

RESOLVE_SORT(ent_order_sort, struct ent_order, ent_order_less, ent_order_cmp)

static int build_entities(struct run_state *st, struct resolve_result *res)
{
	size_t n = st->n, ne = 0, *tmp_of_root = st->ent_of_root, *final_of_tmp = NULL;
	struct ent_order *ord = NULL;
	size_t *fill = NULL;
	int rc = FOCAL_E_NOMEM;

	ord = malloc((n + 1) * sizeof(*ord));
	final_of_tmp = malloc((n + 1) * sizeof(*final_of_tmp));
	res->entities = calloc(n + 1, sizeof(*res->entities));
	res->members = malloc((n + 1) * sizeof(*res->members));
	if (ord == NULL || final_of_tmp == NULL || res->entities == NULL || res->members == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		tmp_of_root[i] = RESOLVE_NONE;
	for (size_t i = 0; i < n; i++) {
		size_t root;

		res->entity_of[i] = RESOLVE_NONE;
		if (st->recs[i]->kind == ENTITY_ALERT || (unsigned)st->recs[i]->kind >= ENTITY__COUNT)
			continue;
		root = uf_find(st->comp, i);
		if (tmp_of_root[root] == RESOLVE_NONE) {
			ord[ne] = (struct ent_order){ st->recs[i]->kind, i, ne, 0 };
			tmp_of_root[root] = ne++;
		}
		ord[tmp_of_root[root]].nrec++;
	}
	ent_order_sort(ord, ne);
	for (size_t e = 0; e < ne; e++) {
		final_of_tmp[ord[e].tmp] = e;
		res->entities[e].kind = ord[e].kind;
		res->entities[e].birth_date = st->comp[uf_find(st->comp, ord[e].first)].bdate;
	}
	/* root → final entity, and members grouped by entity (counting sort) */
	for (size_t i = 0; i < n; i++)
		if (tmp_of_root[i] != RESOLVE_NONE)
			tmp_of_root[i] = final_of_tmp[tmp_of_root[i]];
	for (size_t i = 0; i < n; i++)
		if (st->recs[i]->kind != ENTITY_ALERT && (unsigned)st->recs[i]->kind < ENTITY__COUNT) {
			res->entity_of[i] = tmp_of_root[uf_find(st->comp, i)];
			res->entities[res->entity_of[i]].nrec++;
		}
	fill = calloc(ne + 1, sizeof(*fill));
	if (fill == NULL)
		goto out;
	for (size_t e = 0, off = 0; e < ne; e++) {
		res->entities[e].rec = off;
		off += res->entities[e].nrec;
	}
	for (size_t i = 0; i < n; i++) {
		size_t e = res->entity_of[i];

		if (e != RESOLVE_NONE)
			res->members[res->entities[e].rec + fill[e]++] = i;
	}
	res->nentities = ne;
	rc = FOCAL_OK;
out:
	free(fill);
	free(ord);
	free(final_of_tmp);
	return rc;
}

/* ---- facts ---- */

enum field_class { FIELD_TEXT, FIELD_ID, FIELD_DATE, FIELD_NAME };

static enum field_class field_class(const char *f)
{
	static const char *const ids[] = { "national_number", "plate", "vin", "serial",
					   "owner_national_number", "holder_national_number",
					   "involved_national_number", "subject_national_number",
					   "reference", "postcode", "number", "box", "phone", NULL };
	static const char *const dates[] = { "birth_date", "date", "valid_until",
					     "subject_birth_date", NULL };
	static const char *const names[] = { "family_name", "given_name", "alias", "owner_name",
					     "holder_name", "involved_name", "subject_name", NULL };

	for (size_t i = 0; ids[i] != NULL; i++)
		if (strcmp(f, ids[i]) == 0)
			return FIELD_ID;
	for (size_t i = 0; dates[i] != NULL; i++)
		if (strcmp(f, dates[i]) == 0)
			return FIELD_DATE;
	for (size_t i = 0; names[i] != NULL; i++)
		if (strcmp(f, names[i]) == 0)
			return FIELD_NAME;
	return FIELD_TEXT;
}

/* Fields that legitimately hold several values: never a conflict. */
static bool field_multi(const char *f)
{
	return strcmp(f, "alias") == 0 || strcmp(f, "phone") == 0;
}

/* field_class and field_multi of every canonical field, computed once per
 * process: looked up by name they were a tenth of the resolution's cost.
 * Kinds with more fields than this (none today) take the lookup. */
#define FIELD_TAB_MAX 32
#define FIELD_TAB_MULTI 0x80
static unsigned char field_tab[ENTITY__COUNT][FIELD_TAB_MAX];
static pthread_once_t field_tab_once = PTHREAD_ONCE_INIT;

static unsigned char field_info_of(const char *f)
{
	return (unsigned char)(field_class(f) | (field_multi(f) ? FIELD_TAB_MULTI : 0));
}

static void field_tab_init(void)
{
	for (int k = 0; k < ENTITY__COUNT; k++) {
		const char *const *fields = entity_fields((enum entity_kind)k);

		for (size_t f = 0; f < FIELD_TAB_MAX && fields[f] != NULL; f++)
			field_tab[k][f] = field_info_of(fields[f]);
	}
}

/* The class and multi bit of field f (named name) of kind k. */
static unsigned char field_info(enum entity_kind k, size_t f, const char *name)
{
	return f < FIELD_TAB_MAX ? field_tab[k][f] : field_info_of(name);
}

struct fval {
	const char *value, *source, *key;
	size_t group; /* the field's index while collecting, then the value's group */
};

/* The display value and grouping key of one value. */
static int fval_key(struct run_state *st, enum field_class fc, struct fval *v, bool need_key)
{
	int rc = FOCAL_OK;

	if (fc == FIELD_DATE) {
		int d = date_of(v->value);

		if (d != 0) {
			char iso[16];
			int y = d / 10000, m = d / 100 % 100, dd = d % 100;

			iso[0] = (char)('0' + y / 1000);
			iso[1] = (char)('0' + y / 100 % 10);
			iso[2] = (char)('0' + y / 10 % 10);
			iso[3] = (char)('0' + y % 10);
			iso[4] = '-';
			iso[5] = (char)('0' + m / 10);
			iso[6] = (char)('0' + m % 10);
			iso[7] = '-';
			iso[8] = (char)('0' + dd / 10);
			iso[9] = (char)('0' + dd % 10);
			if ((v->value = v->key = arena_copy(&st->arena, iso, 10)) == NULL)
				return FOCAL_E_NOMEM;
			return FOCAL_OK;
		}
	}
	if (!need_key)
		return FOCAL_OK;
	rc = key_of(&st->arena, fc == FIELD_ID ? normalize_identifier : normalize_key, v->value,
		    &v->key);
	if (rc == FOCAL_OK && v->key == NULL)
		v->key = v->value; /* no usable key: compare as given */
	return rc;
}

/* Whether two name values of one field agree (spelling variant, initial). */
static bool names_agree(const char *a, const char *b)
{
	return normalize_names_match(a, b) || normalize_is_initial_of(a, b) ||
	       normalize_is_initial_of(b, a);
}

/* The index of field name in fields (canonical names are the same static
 * strings, so pointers are compared first), or -1. */
static int field_index(const char *const *fields, const char *name)
{
	for (int i = 0; fields[i] != NULL; i++)
		if (fields[i] == name)
			return i;
	for (int i = 0; fields[i] != NULL; i++)
		if (strcmp(fields[i], name) == 0)
			return i;
	return -1;
}

static bool same_source(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The facts of one field of one entity: vals[0..nv) grouped by value, the
 * sources of each group, and whether the groups disagree. */
static int field_facts(struct run_state *st, struct resolve_result *res, const char *field,
		       unsigned char info, struct fval *vals, size_t nv, size_t *nf, size_t *nfs)
{
	enum field_class fc = (enum field_class)(info & ~FIELD_TAB_MULTI);
	size_t first_fact = *nf;
	bool conflict = false;
	int rc;

	for (size_t k = 0; k < nv; k++)
		if ((rc = fval_key(st, fc, &vals[k], nv > 1)) != FOCAL_OK)
			return rc;
	/* group equal values: the first of each group is its fact */
	for (size_t k = 0; k < nv; k++) {
		size_t g;

		for (g = first_fact; g < *nf; g++) {
			const struct fval *gv = &vals[res->facts[g].src];

			if (strcmp(gv->value, vals[k].value) == 0 ||
			    (gv->key != NULL && vals[k].key != NULL && strcmp(gv->key, vals[k].key) == 0))
				break;
		}
		vals[k].group = g;
		if (g == *nf) /* .src holds the group's first value until sources are known */
			res->facts[(*nf)++] = (struct resolve_fact){ field, vals[k].value, k, 0, false };
	}
	/* do the distinct values disagree? */
	if (*nf - first_fact > 1 && !(info & FIELD_TAB_MULTI)) {
		if (fc != FIELD_NAME)
			conflict = true;
		for (size_t a = first_fact; a < *nf && !conflict; a++)
			for (size_t b = a + 1; b < *nf && !conflict; b++)
				conflict = !names_agree(res->facts[a].value, res->facts[b].value);
	}
	/* the sources of each group, each once */
	for (size_t g = first_fact; g < *nf; g++) {
		res->facts[g].src = *nfs;
		res->facts[g].conflict = conflict;
		for (size_t k = 0; k < nv; k++) {
			size_t q;

			if (vals[k].group != g)
				continue;
			for (q = res->facts[g].src; q < *nfs; q++)
				if (same_source(res->fact_sources[q], vals[k].source))
					break;
			if (q == *nfs)
				res->fact_sources[(*nfs)++] = vals[k].source;
		}
		res->facts[g].nsrc = *nfs - res->facts[g].src;
	}
	return FOCAL_OK;
}

static int build_facts(struct run_state *st, struct resolve_result *res)
{
	size_t total = 0, nf = 0, nfs = 0, nes = 0;
	struct fval *vals = NULL, *fv = NULL;
	size_t small[FIELD_TAB_MAX + 1], *cnt = small;
	int rc = FOCAL_E_NOMEM;

	pthread_once(&field_tab_once, field_tab_init);
	for (size_t i = 0; i < st->n; i++)
		total += st->recs[i]->nfields;
	vals = malloc((total + 1) * sizeof(*vals));
	fv = malloc((total + 1) * sizeof(*fv));
	res->facts = malloc((total + 1) * sizeof(*res->facts));
	res->fact_sources = malloc((total + 1) * sizeof(*res->fact_sources));
	res->entity_sources = malloc((st->n + 1) * sizeof(*res->entity_sources));
	if (vals == NULL || fv == NULL || res->facts == NULL || res->fact_sources == NULL ||
	    res->entity_sources == NULL)
		goto out;
	rc = FOCAL_OK;
	for (size_t e = 0; e < res->nentities; e++) {
		struct resolve_entity *ent = &res->entities[e];
		const char *const *fields = entity_fields(ent->kind);
		size_t nv = 0, nfields;

		/* distinct sources, first seen first; every value with its field */
		ent->src = nes;
		for (size_t m = 0; m < ent->nrec; m++) {
			const struct record *r = st->recs[res->members[ent->rec + m]];
			size_t k;

			for (k = ent->src; k < nes; k++)
				if (same_source(res->entity_sources[k], r->source))
					break;
			if (k == nes)
				res->entity_sources[nes++] = r->source;
			for (k = 0; k < r->nfields; k++) {
				int fi = field_index(fields, r->fields[k].name);

				if (fi >= 0)
					vals[nv++] = (struct fval){ r->fields[k].value, r->source, NULL,
								   (size_t)fi };
			}
		}
		ent->nsrc = nes - ent->src;
		ent->fact = nf;
		for (nfields = 0; fields[nfields] != NULL; nfields++)
			;
		if (nfields > FIELD_TAB_MAX && (cnt = malloc((nfields + 1) * sizeof(*cnt))) == NULL) {
			rc = FOCAL_E_NOMEM;
			goto out;
		}
		/* field by field, in canonical order: the values grouped by field
		 * in one counting sort, in their order within a field */
		memset(cnt, 0, (nfields + 1) * sizeof(cnt[0]));
		for (size_t k = 0; k < nv; k++)
			cnt[vals[k].group + 1]++;
		for (size_t f = 0; f < nfields; f++)
			cnt[f + 1] += cnt[f];
		/* cnt[f]: where field f's values start */
		for (size_t k = 0; k < nv; k++)
			fv[cnt[vals[k].group]++] = vals[k];
		/* now cnt[f] is where they end */
		for (size_t f = 0, from = 0; f < nfields && rc == FOCAL_OK; from = cnt[f++])
			if (cnt[f] > from)
				rc = field_facts(st, res, fields[f], field_info(ent->kind, f, fields[f]),
						 fv + from, cnt[f] - from, &nf, &nfs);
		if (cnt != small)
			free(cnt);
		cnt = small;
		if (rc != FOCAL_OK)
			goto out;
		ent->nfact = nf - ent->fact;
	}
	res->nfacts = nf;
	rc = FOCAL_OK;
out:
	free(vals);
	free(fv);
	return rc;
}

/* ---- links, concerns, possible matches ---- */

static int link_cmp(const void *pa, const void *pb)
{
	const struct resolve_link *a = pa, *b = pb;

	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	return (int)a->rel - (int)b->rel;
}

static int possible_cmp(const void *pa, const void *pb)
{
	const struct resolve_possible *a = pa, *b = pb;

	if (a->entity != b->entity)
		return a->entity < b->entity ? -1 : 1;
	if (a->candidate != b->candidate)
		return a->candidate < b->candidate ? -1 : 1;
	return (int)a->why - (int)b->why;
}

/* The entity of kind k whose component identifier in slot s is key. */
static size_t entity_by_key(struct run_state *st, struct resolve_result *res, enum entity_kind k,
			    unsigned s, const char *buf)
{
	struct skey probe;
	const struct skey *hit;

	probe = (struct skey){ (unsigned)k * SLOTS + s, buf, 0, 0, false };
	/* the first entry of the run: bdate and rec are 0 in the probe, and every
	 * entry's bdate is 0, so lower_bound on (group, key) */
	{
		size_t lo = 0, hi = st->nids;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (skey_cmp(&st->ids[mid], &probe) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == st->nids)
			return RESOLVE_NONE;
		hit = &st->ids[lo];
	}
	if (hit->group != probe.group || strcmp(hit->key, buf) != 0)
		return RESOLVE_NONE;
	return res->entity_of[hit->rec];
}

/* The same for a value as a source gave it (normalized here). */
static size_t entity_by_id(struct run_state *st, struct resolve_result *res, enum entity_kind k,
			   unsigned s, const char *value)
{
	char buf[NORMALIZE_MAX];

	if (value == NULL || normalize_identifier(value, buf, sizeof(buf)) <= 0)
		return RESOLVE_NONE;
	return entity_by_key(st, res, k, s, buf);
}

/* The index of the first entry of v[0..n) with key, or n (v: one group). */
static size_t lower_bound_key(const struct skey *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int build_links(struct run_state *st, struct resolve_result *res)
{
	static const struct {
		enum entity_kind kind;
		const char *field;
		enum resolve_relation person_rel, other_rel;
	} by_nrn[] = {
		{ ENTITY_VEHICLE, "owner_national_number", RESOLVE_OWNS, RESOLVE_OWNED_BY },
		{ ENTITY_FIREARM, "holder_national_number", RESOLVE_HOLDS, RESOLVE_HELD_BY },
		{ ENTITY_REPORT, "involved_national_number", RESOLVE_INVOLVED_IN, RESOLVE_INVOLVES },
	};
	size_t nl = 0;

	res->links = malloc((2 * st->n + 1) * sizeof(*res->links));
	if (res->links == NULL)
		return FOCAL_E_NOMEM;
	for (size_t i = 0; i < st->n; i++) {
		const struct record *r = st->recs[i];

		for (size_t b = 0; b < sizeof(by_nrn) / sizeof(by_nrn[0]); b++) {
			size_t p;

			if (r->kind != by_nrn[b].kind)
				continue;
			p = entity_by_id(st, res, ENTITY_PERSON, 0, record_get(r, by_nrn[b].field));
			if (p == RESOLVE_NONE || res->entity_of[i] == RESOLVE_NONE)
				continue;
			res->links[nl++] = (struct resolve_link){ p, res->entity_of[i],
								  by_nrn[b].person_rel };
			res->links[nl++] = (struct resolve_link){ res->entity_of[i], p,
								  by_nrn[b].other_rel };
		}
	}
	qsort(res->links, nl, sizeof(*res->links), link_cmp);
	res->nlinks = 0;
	for (size_t i = 0; i < nl; i++)
		if (res->nlinks == 0 || link_cmp(&res->links[res->nlinks - 1], &res->links[i]) != 0)
			res->links[res->nlinks++] = res->links[i];
	return FOCAL_OK;
}

/* What one alert concerns, before deduplication. */
struct hit {
	size_t entity;
	bool certain, by_name;
};

static int hit_cmp(const void *pa, const void *pb)
{
	const struct hit *a = pa, *b = pb;

	if (a->entity != b->entity)
		return a->entity < b->entity ? -1 : 1;
	if (a->certain != b->certain)
		return a->certain ? -1 : 1;
	return (int)a->by_name - (int)b->by_name; /* by identifier first */
}

/* Persons in the run of v whose key is `key` (at most NAME_SCAN entries):
 * certain with an equal birth date (when can_be_certain), possible when a
 * birth date is missing, nothing for a namesake with another birth date or
 * another national number than the alert's. */
static void hits_by_name(struct run_state *st, struct resolve_result *res, const struct skey *v,
			 size_t nv, const char *subject, const char *key, int bdate, const char *nrn,
			 bool can_be_certain, struct hit *hits, size_t *nh)
{
	size_t i = lower_bound_key(v, nv, key), end = i + NAME_SCAN;

	for (; i < nv && i < end && strcmp(v[i].key, key) == 0; i++) {
		size_t e = res->entity_of[v[i].rec];
		const struct comp *c = &st->comp[uf_find(st->comp, v[i].rec)];

		if (e == RESOLVE_NONE ||
		    (v[i].joined && (st->info[v[i].rec].full == NULL ||
				     !normalize_names_match(subject, st->info[v[i].rec].full))))
			continue;
		if ((bdate != 0 && c->bdate != 0 && bdate != c->bdate) ||
		    (nrn != NULL && c->id[0] != NULL && strcmp(nrn, c->id[0]) != 0))
			continue;
		hits[(*nh)++] = (struct hit){ e, can_be_certain && bdate != 0 && c->bdate == bdate,
					      true };
	}
}

static int build_concerns(struct run_state *st, struct resolve_result *res)
{
	size_t nalerts = 0, nc = 0, *last_hit = NULL;
	struct hit *hits = NULL;

	for (size_t i = 0; i < st->n; i++)
		nalerts += st->recs[i]->kind == ENTITY_ALERT;
	/* per alert: three by identifier, one certain by name, the possible cap */
	res->concerns = malloc((nalerts * (4 + RESOLVE_MAX_POSSIBLY_CONCERNS) + 1) *
			       sizeof(*res->concerns));
	hits = malloc((2 * NAME_SCAN + 3) * sizeof(*hits));
	last_hit = calloc(res->nentities + 1, sizeof(*last_hit));
	if (res->concerns == NULL || hits == NULL || last_hit == NULL) {
		free(hits);
		free(last_hit);
		return FOCAL_E_NOMEM;
	}
	for (size_t i = 0; i < st->n; i++) {
		const struct record *r = st->recs[i];
		const char *subject = record_get(r, "subject_name"), *subject_nrn;
		char key[NORMALIZE_MAX], nrn[NORMALIZE_MAX];
		size_t e, by_nrn, nh = 0, w, ncertain_by_name = 0, npossibly = 0;
		bool has_nrn;

		if (r->kind != ENTITY_ALERT)
			continue;
		subject_nrn = record_get(r, "subject_national_number");
		has_nrn = subject_nrn != NULL && normalize_identifier(subject_nrn, nrn, sizeof(nrn)) > 0;
		/* what entity_by_id would normalize again */
		by_nrn = has_nrn ? entity_by_key(st, res, ENTITY_PERSON, 0, nrn) : RESOLVE_NONE;
		if (by_nrn != RESOLVE_NONE)
			hits[nh++] = (struct hit){ by_nrn, true, false };
		if ((e = entity_by_id(st, res, ENTITY_VEHICLE, 0, record_get(r, "plate"))) !=
		    RESOLVE_NONE)
			hits[nh++] = (struct hit){ e, true, false };
		if ((e = entity_by_id(st, res, ENTITY_FIREARM, 0, record_get(r, "serial"))) !=
		    RESOLVE_NONE)
			hits[nh++] = (struct hit){ e, true, false };
		/* a subject found by national number needs no name */
		if (by_nrn == RESOLVE_NONE && subject != NULL &&
		    resolve_name_key(NULL, subject, key, sizeof(key)) > 0) {
			/* one word is a family name: never certain, and also
			 * compared with family names alone */
			bool full = strchr(key, ' ') != NULL;
			int bdate = date_of(record_get(r, "subject_birth_date"));

			hits_by_name(st, res, st->names, st->nnames, subject, key, bdate,
				     has_nrn ? nrn : NULL, full, hits, &nh);
			if (!full)
				hits_by_name(st, res, st->families, st->nfamilies, subject, key,
					     bdate,
					     has_nrn ? nrn : NULL, false, hits, &nh);
		}
		/* one hit per entity, the strongest: hits of one entity are
		 * merged through last_hit (entity → its hit of this alert) */
		w = 0;
		for (size_t k = 0; k < nh; k++) {
			size_t *slot = &last_hit[hits[k].entity];

			if (*slot < w && hits[*slot].entity == hits[k].entity) {
				if (hit_cmp(&hits[k], &hits[*slot]) < 0)
					hits[*slot] = hits[k];
				continue;
			}
			*slot = w;
			hits[w++] = hits[k];
		}
		nh = w;
		qsort(hits, nh, sizeof(*hits), hit_cmp);
		/* a name and birth date shared by two entities (they differ in
		 * national number) designates neither for sure */
		for (size_t k = 0; k < nh; k++)
			ncertain_by_name += hits[k].certain && hits[k].by_name;
		for (size_t k = 0; k < nh && ncertain_by_name > 1; k++)
			if (hits[k].by_name)
				hits[k].certain = false;
		/* certain first, then at most RESOLVE_MAX_POSSIBLY_CONCERNS possible */
		for (int pass = 1; pass >= 0; pass--)
			for (size_t k = 0; k < nh; k++) {
				if (hits[k].certain != (pass == 1))
					continue;
				if (!hits[k].certain &&
				    npossibly++ >= RESOLVE_MAX_POSSIBLY_CONCERNS)
					break;
				res->concerns[nc++] = (struct resolve_concern){ i, hits[k].entity,
										hits[k].certain };
			}
	}
	res->nconcerns = nc;
	free(hits);
	free(last_hit);
	return FOCAL_OK;
}

static int build_possible(struct run_state *st, struct resolve_result *res)
{
	size_t np = 0;

	res->possible = malloc((st->ncand + 1) * sizeof(*res->possible));
	if (res->possible == NULL)
		return FOCAL_E_NOMEM;
	for (size_t i = 0; i < st->ncand; i++) {
		const struct cand *c = &st->cand[i];
		size_t ra = uf_find(st->comp, c->a), rb = uf_find(st->comp, c->b);
		size_t ea = res->entity_of[c->a], eb = res->entity_of[c->b];
		bool by_name = c->why == RESOLVE_NAME_NO_BIRTH_DATE ||
			       c->why == RESOLVE_INITIAL_NO_BIRTH_DATE ||
			       c->why == RESOLVE_GIVEN_NAMES_PART;
		size_t strong, weak;

		if (ra == rb || ea == RESOLVE_NONE || eb == RESOLVE_NONE)
			continue;
		/* merging may have settled it: the sides now have different
		 * identifiers or birth dates */
		if (by_name && uf_compat(st->comp, ra, rb) != COMPAT_OK)
			continue;
		/* the side with a birth date is the entity, the other the candidate;
		 * otherwise the one listed first */
		if (by_name && (res->entities[ea].birth_date != 0) != (res->entities[eb].birth_date != 0)) {
			strong = res->entities[ea].birth_date != 0 ? ea : eb;
			weak = strong == ea ? eb : ea;
		} else if (c->why == RESOLVE_GIVEN_NAMES_PART) {
			strong = ea; /* the side with more given names */
			weak = eb;
		} else {
			strong = ea < eb ? ea : eb;
			weak = ea < eb ? eb : ea;
		}
		res->possible[np++] = (struct resolve_possible){ strong, weak, c->why };
	}
	qsort(res->possible, np, sizeof(*res->possible), possible_cmp);
	res->npossible = 0;
	res->possible_dropped = st->cand_dropped;
	for (size_t i = 0; i < np; i++) {
		const struct resolve_possible *p = &res->possible[i];
		bool dup = false;

		/* one pair, one reason (the first: by name before by identifier) */
		for (size_t k = res->npossible; k-- > 0 && res->possible[k].entity == p->entity;)
			if (res->possible[k].candidate == p->candidate) {
				dup = true;
				break;
			}
		if (dup)
			continue;
		if (res->npossible == RESOLVE_MAX_POSSIBLE) {
			res->possible_dropped++;
			continue;
		}
		res->possible[res->npossible++] = *p;
		res->entities[p->candidate].candidate = true;
	}
	return FOCAL_OK;
}

/* ---- identical records ---- */

/* Orders records by source, kind and fields (names, then values). */
static int record_cmp(const struct record *a, const struct record *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->source != b->source) {
		if (a->source == NULL || b->source == NULL)
			return a->source == NULL ? -1 : 1;
		if ((c = strcmp(a->source, b->source)) != 0)
			return c;
	}
	if (a->nfields != b->nfields)
		return a->nfields < b->nfields ? -1 : 1;
	/* field names are canonical pointers: equal ones are one pointer */
	for (size_t i = 0; i < a->nfields; i++)
		if ((a->fields[i].name != b->fields[i].name &&
		     (c = strcmp(a->fields[i].name, b->fields[i].name)) != 0) ||
		    (c = strcmp(a->fields[i].value, b->fields[i].value)) != 0)
			return c;
	return 0;
}

bool resolve_same_record(const struct record *a, const struct record *b)
{
	return record_cmp(a, b) == 0;
}

struct dup_sort {
	const struct record *const *recs;
	size_t i;
};

static inline __attribute__((always_inline)) int dup_sort_cmp(const void *pa, const void *pb)
{
	const struct dup_sort *a = pa, *b = pb;
	int c = record_cmp(a->recs[a->i], b->recs[b->i]);

	return c != 0 ? c : (a->i < b->i ? -1 : a->i > b->i);
}

static inline bool dup_sort_less(const struct dup_sort *a, const struct dup_sort *b)
{
	return dup_sort_cmp(a, b) < 0;
}

RESOLVE_SORT(dup_sort_sort, struct dup_sort, dup_sort_less, dup_sort_cmp)

int resolve_duplicates(const struct record *const *recs, size_t n, const size_t *group, bool *dup)
{
	struct dup_sort *v = malloc((n + 1) * sizeof(*v));

	if (v == NULL)
		return FOCAL_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = (struct dup_sort){ recs, i };
		dup[i] = false;
	}
	dup_sort_sort(v, n);
	/* in a run of equal records the first by index stays, with the others
	 * of its group (equal rows of one answer are the source's own) */
	for (size_t k = 1, first = 0; k < n; k++) {
		if (record_cmp(recs[v[first].i], recs[v[k].i]) != 0)
			first = k;
		else if (group == NULL || group[v[k].i] != group[v[first].i])
			dup[v[k].i] = true;
	}
	free(v);
	return FOCAL_OK;
}

/* ---- the run ---- */

int resolve_records(const struct record *const *recs, size_t n, struct resolve_result **out,
		    struct focal_err *err)
{
	struct resolve_result *res = NULL;
	struct run_state st = { .recs = recs, .n = n };
	int rc = FOCAL_E_NOMEM;

	*out = NULL;
	res = calloc(1, sizeof(*res));
	st.info = calloc(n + 1, sizeof(*st.info));
	st.comp = calloc(n + 1, sizeof(*st.comp));
	st.cand = malloc(MAX_CANDIDATES * sizeof(*st.cand));
	st.ent_of_root = malloc((n + 1) * sizeof(*st.ent_of_root));
	if (res == NULL || st.info == NULL || st.comp == NULL || st.cand == NULL ||
	    st.ent_of_root == NULL)
		goto out;
	res->nrecords = n;
	res->entity_of = malloc((n + 1) * sizeof(*res->entity_of));
	if (res->entity_of == NULL)
		goto out;
	for (st.memo_cap = 16; st.memo_cap < 2 * n; st.memo_cap *= 2)
		;
	st.memo = calloc(st.memo_cap, sizeof(*st.memo)); /* optional: NULL shares nothing */
	for (size_t i = 0; i < n; i++)
		if ((rc = record_keys(&st, i)) != FOCAL_OK)
			goto out;
	if ((rc = build_keys(&st)) != FOCAL_OK)
		goto out;
	merge_all(&st);
	if ((rc = build_entities(&st, res)) != FOCAL_OK || (rc = build_facts(&st, res)) != FOCAL_OK ||
	    (rc = build_links(&st, res)) != FOCAL_OK || (rc = build_concerns(&st, res)) != FOCAL_OK ||
	    (rc = build_possible(&st, res)) != FOCAL_OK)
		goto out;
	rc = FOCAL_OK;
out:
	res != NULL ? (void)(res->arena = st.arena) : arena_free(st.arena);
	free(st.info);
	free(st.comp);
	free(st.cand);
	free(st.ent_of_root);
	free(st.memo);
	free(st.ids);
	free(st.names);
	free(st.families);
	if (rc != FOCAL_OK) {
		resolve_free(res);
		return focal_err_set(err, rc, "entity resolution: out of memory");
	}
	*out = res;
	return FOCAL_OK;
}

void resolve_free(struct resolve_result *res)
{
	if (res == NULL)
		return;
	free(res->entity_of);
	free(res->members);
	free(res->entities);
	free(res->facts);
	free(res->fact_sources);
	free(res->entity_sources);
	free(res->links);
	free(res->concerns);
	free(res->possible);
	arena_free(res->arena);
	free(res);
}

const char *resolve_relation_name(enum resolve_relation r)
{
	static const char *const names[] = { "owns", "owned_by", "holds", "held_by", "involved_in",
					     "involves" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "related";
}

const char *resolve_why_name(enum resolve_why w)
{
	static const char *const names[] = { "name_no_birth_date", "initial_no_birth_date",
					     "same_id_other_birth_date", "same_id_other_id",
					     "given_names_part" };

	return (unsigned)w < sizeof(names) / sizeof(names[0]) ? names[w] : "uncertain";
}
