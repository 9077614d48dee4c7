/*
 * test_jsonw: the streaming JSON writer (core/jsonw.h).  Its text must be
 * byte for byte what json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(6)) gives
 * for the same values, since clients and tests read the briefing either way:
 * every escape, UTF-8 kept, reals in jansson's format, commas in nested
 * containers.  Invalid UTF-8 becomes U+FFFD and the text stays valid JSON;
 * misuse (unbalanced containers, too deep) fails rather than writing bad JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "core/jsonw.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(6))

/* What jansson writes for j (consumed). */
static char *jansson_text(json_t *j)
{
	char *t;

	assert_non_null(j);
	t = json_dumps(j, DUMP_FLAGS | JSON_ENCODE_ANY);
	json_decref(j);
	assert_non_null(t);
	return t;
}

static char *taken(struct jsonw *w)
{
	size_t len;
	char *t = jsonw_take(w, &len);

	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	return t;
}

static void assert_same(char *mine, char *theirs)
{
	if (strcmp(mine, theirs) != 0)
		fail_msg("jsonw wrote %s, jansson %s", mine, theirs);
	free(mine);
	free(theirs);
}

static void test_strings(void **state)
{
	static const char *const strings[] = {
		"", "plain", "quote \" and backslash \\", "slash / stays",
		"\b\f\n\r\t", "\x01\x02\x1f\x7f", "é à ü ß", "Ελληνικά", "日本語", "emoji 😀",
		"mixed \"é\"\n\x05 end", "U+2028 \xe2\x80\xa8 kept",
	};

	(void)state;
	for (size_t i = 0; i < N(strings); i++) {
		struct jsonw w;

		jsonw_init(&w, 1); /* a tiny buffer: growth is exercised too */
		jsonw_str(&w, strings[i]);
		assert_same(taken(&w), jansson_text(json_string(strings[i])));
	}
}

/* Every byte value 1..255 at every position of strings long enough for the
 * word-at-a-time scan (and its tail): the same text as jansson, or for a
 * byte that is not UTF-8 on its own, U+FFFD in its place. */
static void test_every_byte_every_position(void **state)
{
	(void)state;
	for (int b = 1; b < 256; b++)
		for (size_t len = 1; len <= 19; len++)
			for (size_t pos = 0; pos < len; pos++) {
				char in[24], want_in[24 + 3];
				struct jsonw w;
				size_t o = 0;

				memset(in, 'a' + (int)(len % 26), len);
				in[len] = '\0';
				in[pos] = (char)b;
				/* jansson refuses a lone byte >= 0x80: compare with
				 * what jsonw promises instead */
				for (size_t i = 0; i < len; i++) {
					if ((unsigned char)in[i] >= 0x80) {
						memcpy(want_in + o, "\xEF\xBF\xBD", 3);
						o += 3;
					} else {
						want_in[o++] = in[i];
					}
				}
				want_in[o] = '\0';
				jsonw_init(&w, 1);
				jsonw_str(&w, in);
				assert_same(taken(&w), jansson_text(json_string(want_in)));
				/* the same as a key, after another member */
				{
					json_t *obj = json_object();

					json_object_set_new(obj, "", json_integer(1));
					json_object_set_new(obj, want_in, json_integer(2));
					jsonw_init(&w, 1);
					jsonw_obj(&w);
					jsonw_kint(&w, "", 1);
					jsonw_key(&w, in);
					jsonw_int(&w, 2);
					jsonw_obj_end(&w);
					assert_same(taken(&w), jansson_text(obj));
				}
			}
}

/* jsonw_kstr's one-piece path (plain key and value) and its general path
 * (anything to escape, null) side by side in one object, every pairing. */
static void test_kstr_paths(void **state)
{
	static const char *const texts[] = { "", "plain", "with \"quote\"", "tab\there",
					     "é", "\x01", "a/b", "0123456789abcdefghij" };

	(void)state;
	for (size_t a = 0; a < N(texts); a++) {
		struct jsonw w;
		json_t *o = json_object();

		jsonw_init(&w, 1);
		jsonw_obj(&w);
		for (size_t b = 0; b < N(texts); b++) {
			char key[64];

			snprintf(key, sizeof(key), "%s%zu", texts[a], b);
			jsonw_kstr(&w, key, texts[b]);
			json_object_set_new(o, key, json_string(texts[b]));
		}
		jsonw_kstr(&w, "null", NULL);
		json_object_set_new(o, "null", json_null());
		jsonw_obj_end(&w);
		assert_same(taken(&w), jansson_text(o));
	}
}

/* jsonw_kstr against jsonw_key + jsonw_str for keys and values of every
 * length up to 19 with one byte to escape (or none) at every position:
 * the one-piece path copies word by word and must stop and give way at
 * any of them, whether a comma comes first or not. */
static void test_kstr_every_position(void **state)
{
	static const char bad[] = { '"', '\x01', '\\', (char)0xFF, '\n' };
	struct jsonw a, b;

	(void)state;
	jsonw_init(&a, 1);
	jsonw_init(&b, 1);
	for (int klen = 0; klen <= 19; klen++)
		for (int kpos = -1; kpos < klen; kpos++)
			for (int vlen = 0; vlen <= 19; vlen++)
				for (int vpos = -1; vpos < vlen; vpos++) {
					char key[24], val[24];

					memset(key, 'k', (size_t)klen);
					memset(val, 'v', (size_t)vlen);
					key[klen] = val[vlen] = '\0';
					if (kpos >= 0)
						key[kpos] = bad[(kpos + klen) % 5];
					if (vpos >= 0)
						val[vpos] = bad[(vpos + vlen) % 5];
					jsonw_clear(&a);
					jsonw_clear(&b);
					jsonw_obj(&a);
					jsonw_obj(&b);
					for (int i = 0; i < 2; i++) { /* without, then with a comma */
						jsonw_kstr(&a, key, val);
						jsonw_key(&b, key);
						jsonw_str(&b, val);
					}
					jsonw_obj_end(&a);
					jsonw_obj_end(&b);
					assert_false(a.failed || b.failed);
					if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0)
						fail_msg("kstr %.*s, key+str %.*s", (int)a.len, a.buf,
							 (int)b.len, b.buf);
				}
	jsonw_fini(&a);
	jsonw_fini(&b);
}

static void test_numbers(void **state)
{
	static const double reals[] = {
		0.0, -0.0, 1.0, 0.5, 1.5, 3.14159265, 12.345678, 123456.0, 1234567.0,
		1e6, 1e-5, 0.000123, -2.75, 9.999999e20, 1e100, 1.5e-300, 7.0e-7, 100.0,
	};
	static const long long ints[] = { 0, 1, -1, 60, 9223372036854775807LL,
					  -9223372036854775807LL - 1 };

	(void)state;
	for (size_t i = 0; i < N(reals); i++) {
		struct jsonw w;

		jsonw_init(&w, 0);
		jsonw_real(&w, reals[i]);
		assert_same(taken(&w), jansson_text(json_real(reals[i])));
	}
	for (size_t i = 0; i < N(ints); i++) {
		struct jsonw w;

		jsonw_init(&w, 0);
		jsonw_int(&w, ints[i]);
		assert_same(taken(&w), jansson_text(json_integer(ints[i])));
	}
	{ /* ids: a letter and a number, as a string */
		struct jsonw w;

		jsonw_init(&w, 0);
		jsonw_arr(&w);
		jsonw_strint(&w, 'e', 0);
		jsonw_strint(&w, 'e', 120);
		jsonw_strint(&w, 'x', 18446744073709551615ULL);
		jsonw_arr_end(&w);
		assert_same(taken(&w), strdup("[\"e0\",\"e120\",\"x18446744073709551615\"]"));
	}
	{ /* JSON has no NaN or infinity */
		struct jsonw w;

		jsonw_init(&w, 0);
		jsonw_arr(&w);
		jsonw_real(&w, NAN);
		jsonw_real(&w, INFINITY);
		jsonw_arr_end(&w);
		assert_same(taken(&w), strdup("[null,null]"));
	}
}

/* What jsonw_real wrote before it formatted by hand: snprintf("%.6g") and
 * jansson's changes (".0" for an integral text, no '+' or leading zeros in
 * the exponent).  The hand-written path must give exactly this. */
static void real_reference(double v, char *out, size_t cap)
{
	char b[64], *e, *from;
	int n;

	if (!isfinite(v)) {
		snprintf(out, cap, "null");
		return;
	}
	n = snprintf(b, sizeof(b) - 2, "%.6g", v);
	assert_true(n > 0 && (size_t)n < sizeof(b) - 2);
	if (strchr(b, '.') == NULL && strchr(b, 'e') == NULL) {
		b[n++] = '.';
		b[n++] = '0';
		b[n] = '\0';
	}
	if ((e = strchr(b, 'e')) != NULL) {
		e++;
		from = e + 1;
		if (*e == '-')
			e++;
		while (*from == '0')
			from++;
		if (from != e)
			memmove(e, from, strlen(from) + 1);
	}
	snprintf(out, cap, "%s", b);
}

static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;

static unsigned long long rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* 10^k without libm (not always the closest double: any value will do). */
static double ten_to(int k)
{
	double p = 1;

	for (; k > 0; k--)
		p *= 10;
	for (; k < 0; k++)
		p /= 10;
	return p;
}

/* The next double after x towards dir's sign (x finite), as nextafter. */
static double next_to(double x, int dir)
{
	uint64_t b;

	if (x == 0)
		return dir > 0 ? 5e-324 : -5e-324;
	memcpy(&b, &x, sizeof(b));
	if ((x > 0) == (dir > 0))
		b++;
	else
		b--;
	memcpy(&x, &b, sizeof(x));
	return x;
}

/* v and -v, written by jsonw_real, against the reference. */
static void check_real(struct jsonw *w, double v)
{
	char want[80];

	for (int sign = 0; sign < 2; sign++, v = -v) {
		jsonw_clear(w);
		jsonw_real(w, v);
		real_reference(v, want, sizeof(want));
		assert_false(w->failed);
		if (w->len != strlen(want) || memcmp(w->buf, want, w->len) != 0)
			fail_msg("jsonw_real(%.17g) wrote %.*s, snprintf %s", v, (int)w->len, w->buf,
				 want);
	}
}

/* The hand-written real format against snprintf's over values of every
 * kind: round ones, six-digit ties (x.xxxx5) and their neighbours, the
 * ends of %g's fixed layout (1e-4 and 1e-5, 1e5 and 1e6), carries (999999.5),
 * what a double cannot hold exactly (0.1), huge, tiny, subnormal and
 * non-finite values, and random ones (log-uniform, decimal fractions, raw
 * bit patterns). */
static void test_reals_like_printf(void **state)
{
	static const double fixed[] = {
		0.0, 0.5, 1.5, 2.5, 0.125, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1234565.0, 123456.5,
		12345.65, 1234.565, 999999.5, 999999.4999999, 9999995.0, 99999.95, 99999.949999,
		0.0001, 0.00001, 0.000099999995, 0.00009999995, 0.0000999999, 1e-15, 9.99999e-16,
		9.999995e-16, 1e17, 99999999999999984.0, 1e16, 123456789012345678.0, 1e5, 1e6,
		100000.5, 999999.0, 1000000.0, 1e22, 1e23, 5e-324, 2.2250738585072014e-308,
		1.7976931348623157e308, 4.35, 0.15, 1.005, 2.675, 8.5, 1e-7, 7.0e-7, 3.14159265,
		12.345678, 1.0000005, 1.00000049999, 1.0000015, 65.4321, 0.00123456789,
		NAN, INFINITY,
	};
	struct jsonw w;

	(void)state;
	jsonw_init(&w, 0);
	for (size_t i = 0; i < N(fixed); i++) {
		check_real(&w, fixed[i]);
		if (isfinite(fixed[i])) {
			check_real(&w, next_to(fixed[i], 1));
			check_real(&w, next_to(fixed[i], -1));
		}
	}
	for (int i = 0; i < 60000; i++) {
		unsigned long long r = rng();
		double v, t;
		int p10 = (int)(r % 40) - 20;

		/* log-uniform over 1e-20 .. 1e20 */
		v = (double)(r >> 11) / 9007199254740992.0 * ten_to(p10 + 1);
		check_real(&w, v);
		/* a decimal with up to 9 digits, scaled: many near-ties */
		t = (double)(rng() % 1000000000ULL) * ten_to((int)(r % 24) - 16);
		check_real(&w, t);
		/* an exact six-digit tie and its neighbours */
		t = ((double)(100000 + rng() % 900000) + 0.5) * ten_to((int)(r % 30) - 18);
		check_real(&w, t);
		check_real(&w, next_to(t, -1));
		check_real(&w, next_to(t, 1));
		/* any bit pattern (NaN and infinity included) */
		r = rng();
		memcpy(&v, &r, sizeof(v));
		check_real(&w, v);
		/* milliseconds, as sources report them */
		check_real(&w, (double)(rng() % 100000000ULL) / 1e6);
	}
	jsonw_fini(&w);
}

/* jsonw_expect makes room ahead, empty or not, and changes no text. */
static void test_expect(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w, 16);
	jsonw_expect(&w, 100000);
	assert_true(w.cap > 100000);
	assert_int_equal(w.len, 0);
	jsonw_arr(&w);
	jsonw_str(&w, "before");
	jsonw_expect(&w, 500000);
	assert_true(w.cap > w.len + 500000);
	jsonw_expect(&w, 10); /* room already: nothing */
	jsonw_str(&w, "after");
	jsonw_arr_end(&w);
	assert_same(taken(&w), strdup("[\"before\",\"after\"]"));
}

/* A nested document written both ways. */
static void test_nesting(void **state)
{
	json_t *j = json_pack("{s:s, s:[], s:{}, s:[i, {s:b, s:n}, [s, f]], s:{s:{s:[[]]}}, s:o}",
			      "a", "x", "empty_arr", "empty_obj", "list", 1, "t", 1, "nothing",
			      "deep", 2.5, "n", "m", "k", "tail", json_false());
	json_t *inner = json_pack("{s:s}", "k\"ey", "v");
	struct jsonw w;

	(void)state;
	jsonw_init(&w, 0);
	jsonw_obj(&w);
	jsonw_kstr(&w, "a", "x");
	jsonw_key(&w, "empty_arr");
	jsonw_arr(&w);
	jsonw_arr_end(&w);
	jsonw_key(&w, "empty_obj");
	jsonw_obj(&w);
	jsonw_obj_end(&w);
	jsonw_key(&w, "list");
	jsonw_arr(&w);
	jsonw_int(&w, 1);
	jsonw_obj(&w);
	jsonw_kbool(&w, "t", true);
	jsonw_key(&w, "nothing");
	jsonw_null(&w);
	jsonw_obj_end(&w);
	jsonw_arr(&w);
	jsonw_str(&w, "deep");
	jsonw_real(&w, 2.5);
	jsonw_arr_end(&w);
	jsonw_arr_end(&w);
	jsonw_key(&w, "n");
	jsonw_obj(&w);
	jsonw_key(&w, "m");
	jsonw_obj(&w);
	jsonw_key(&w, "k");
	jsonw_arr(&w);
	jsonw_arr(&w);
	jsonw_arr_end(&w);
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	jsonw_obj_end(&w);
	jsonw_key(&w, "tail");
	jsonw_bool(&w, false);
	jsonw_obj_end(&w);
	assert_same(taken(&w), jansson_text(j));

	/* a jansson value embedded, and a key that needs escaping */
	jsonw_init(&w, 0);
	jsonw_arr(&w);
	jsonw_json(&w, inner);
	jsonw_json(&w, NULL);
	jsonw_arr_end(&w);
	assert_same(taken(&w), strdup("[{\"k\\\"ey\":\"v\"},null]"));
	json_decref(inner);
}

static void test_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "x\x80y",
		"\xe2\x82", "ok \xe2\x82\xac then \xfe",
	};

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		struct jsonw w;
		json_t *back;
		char *t;

		assert_null(json_string(bad[i])); /* jansson refuses these */
		jsonw_init(&w, 0);
		jsonw_str(&w, bad[i]);
		t = taken(&w);
		back = json_loads(t, JSON_DECODE_ANY, NULL);
		if (back == NULL)
			fail_msg("not valid JSON for case %zu: %s", i, t);
		assert_non_null(strstr(json_string_value(back), "\xEF\xBF\xBD"));
		json_decref(back);
		free(t);
	}
}

static void test_misuse_fails(void **state)
{
	struct jsonw w;
	size_t len = 99;

	(void)state;
	jsonw_init(&w, 0); /* still open */
	jsonw_obj(&w);
	jsonw_kstr(&w, "a", "b");
	assert_null(jsonw_take(&w, &len));
	assert_int_equal(len, 0);

	jsonw_init(&w, 0); /* closed more than opened */
	jsonw_arr(&w);
	jsonw_arr_end(&w);
	jsonw_arr_end(&w);
	assert_null(jsonw_take(&w, &len));

	jsonw_init(&w, 0); /* a key without its value */
	jsonw_obj(&w);
	jsonw_key(&w, "a");
	jsonw_obj_end(&w);
	assert_null(jsonw_take(&w, &len));

	jsonw_init(&w, 0); /* too deep */
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_arr(&w);
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_arr_end(&w);
	assert_null(jsonw_take(&w, &len));

	jsonw_init(&w, 0); /* exactly as deep as allowed */
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr(&w);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_end(&w);
	free(taken(&w));
	jsonw_fini(&w); /* after take: harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_every_byte_every_position),
		cmocka_unit_test(test_kstr_paths),
		cmocka_unit_test(test_kstr_every_position),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_reals_like_printf),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_misuse_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
