/*
 * normalize: comparison keys for names and identifiers (see normalize.h and
 * docs/normalization.md, which lists every rule with its reason).
 *
 * Entity resolution calls these once per field of every record a search
 * returns, so they are written to allocate nothing on the common path: the
 * Unicode work happens in a stack buffer of code points and the results go
 * straight into the caller's buffer.  Only an input whose decomposition is
 * longer than NORM_STACK_CP code points (far beyond any name) takes one heap
 * allocation.
 *
 * Pipeline of normalize_key():
 *   1. utf8proc decomposes with NFKC + case folding + mark stripping + removal
 *      of default-ignorable code points (bidi controls, zero-width characters,
 *      soft hyphen...).  A custom mapping first turns every other format
 *      character (category Cf) into U+200B so that it is removed too, before
 *      composition can see it.  Invalid UTF-8 stops here with FOCAL_E_INVAL.
 *   2. utf8proc_normalize_utf32 turns line breaks and tabs into spaces, drops
 *      the other control characters and composes (NFKC; with marks stripped,
 *      only Hangul still composes).
 *   3. One pass over the code points folds Latin look-alikes of Cyrillic and
 *      Greek (and a few Latin letters NFKC keeps, ł ø æ ı ...) to ASCII, turns
 *      separators (dashes, apostrophes, dots, underscores, commas, white
 *      space) into one space, trims, and encodes UTF-8 into out.
 * Pure ASCII input (most input) skips 1-2: for ASCII, NFKC + case folding is
 * tolower() and the control handling is the same, so the result is identical
 * (the fuzz harness checks this equivalence).
 *
 * normalize_identifier() is the same pipeline with a different last pass:
 * keep letters and digits, upper-cased.  normalize_phonetic() runs the word
 * rules at the end of this file over the key.
 */
#include "search/normalize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

/* Code points of decomposition held on the stack: a name decomposes to far
 * fewer (each input byte yields at most a few code points). */
#define NORM_STACK_CP 1024

/* The utf8proc options of step 1-2: NFKC (COMPAT + COMPOSE), full case
 * folding, marks stripped, default-ignorables removed, controls handled. */
#define NORM_UTF8PROC_OPTS                                                                   \
	((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |          \
			     UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE |     \
			     UTF8PROC_STRIPCC))

/* Words considered by normalize_names_match(); a longer "name" is compared by
 * its key only. */
#define MATCH_MAX_WORDS 32
/* Buffers of normalize_names_match(): key, joined words, phonetic words. */
#define MATCH_BUF (2 * NORMALIZE_MAX)

enum emit_mode {
	EMIT_KEY,   /* the comparison key */
	EMIT_IDENT, /* letters and digits only, upper-case */
};

/* Where the last pass writes: out[0..len) plus a NUL always fits in outlen. */
struct sink {
	char *out;
	size_t outlen;
	size_t len;
	bool pending_space; /* a separator was seen after some output */
	bool overflow;
	enum emit_mode mode;
};

static void sink_bytes(struct sink *s, const char *p, size_t n)
{
	if (n == 1 && !s->pending_space && s->len + 2 <= s->outlen) {
		s->out[s->len++] = *p; /* the common case, kept cheap */
		return;
	}
	if (s->overflow)
		return;
	if (s->pending_space) {
		if (s->len + 1 + n + 1 > s->outlen) {
			s->overflow = true;
			return;
		}
		s->out[s->len++] = ' ';
		s->pending_space = false;
	}
	if (s->len + n + 1 > s->outlen) {
		s->overflow = true;
		return;
	}
	memcpy(s->out + s->len, p, n);
	s->len += n;
}

static void sink_separator(struct sink *s)
{
	/* Leading separators vanish (trim); a run of them is one space; a
	 * trailing one is never written because nothing follows it. */
	if (s->mode == EMIT_KEY && s->len > 0)
		s->pending_space = true;
}

static void sink_codepoint(struct sink *s, utf8proc_int32_t cp)
{
	utf8proc_uint8_t b[4];
	utf8proc_ssize_t n = utf8proc_encode_char(cp, b);

	if (n > 0)
		sink_bytes(s, (const char *)b, (size_t)n);
}

static int sink_finish(struct sink *s)
{
	if (s->overflow) {
		s->out[0] = '\0';
		return FOCAL_E_LIMIT;
	}
	s->out[s->len] = '\0';
	return (int)s->len;
}

/*
 * Letters folded to ASCII after case folding.  Cyrillic and Greek entries are
 * the letters an officer cannot tell from Latin on screen (a Cyrillic "Р" in
 * "Реeters" pasted from a foreign record).  Case folding has already made
 * them lower-case; the target is the Latin letter the CAPITAL looks like
 * (registries write names in capitals: Greek Η → h, Ν → n, Υ → y), or, when
 * the capital looks like nothing Latin, the letter the small one resembles
 * (Greek γ → y).  Latin entries are letters NFKC does not decompose, so mark
 * stripping leaves them alone (Polish ł, Danish ø, Turkish dotless ı, ...).
 * Sorted by code point for bsearch.
 */
struct fold {
	utf8proc_int32_t cp;
	char ascii[3];
};

static const struct fold folds[] = {
	{0x00E6, "ae"}, /* æ */
	{0x00F0, "d"},  /* ð */
	{0x00F8, "o"},  /* ø */
	{0x00FE, "th"}, /* þ */
	{0x0111, "d"},  /* đ */
	{0x0127, "h"},  /* ħ */
	{0x0131, "i"},  /* ı Turkish dotless i: Yılmaz = Yilmaz */
	{0x0142, "l"},  /* ł Polish: Michał = Michal */
	{0x0153, "oe"}, /* œ */
	{0x0167, "t"},  /* ŧ */
	{0x0180, "b"},  /* ƀ */
	{0x0192, "f"},  /* ƒ */
	{0x01B6, "z"},  /* ƶ */
	{0x0237, "j"},  /* ȷ dotless j */
	{0x0251, "a"},  /* ɑ Latin alpha */
	{0x0261, "g"},  /* ɡ script g */
	{0x03B1, "a"},  /* α Α */
	{0x03B2, "b"},  /* β Β */
	{0x03B3, "y"},  /* γ */
	{0x03B5, "e"},  /* ε Ε */
	{0x03B6, "z"},  /* ζ Ζ */
	{0x03B7, "h"},  /* η Η */
	{0x03B9, "i"},  /* ι Ι */
	{0x03BA, "k"},  /* κ Κ */
	{0x03BC, "m"},  /* μ Μ */
	{0x03BD, "n"},  /* ν Ν */
	{0x03BF, "o"},  /* ο Ο */
	{0x03C1, "p"},  /* ρ Ρ */
	{0x03C4, "t"},  /* τ Τ */
	{0x03C5, "y"},  /* υ Υ */
	{0x03C7, "x"},  /* χ Χ */
	{0x03F2, "c"},  /* ϲ lunate sigma */
	{0x03F3, "j"},  /* ϳ */
	{0x0430, "a"},  /* а А */
	{0x0432, "b"},  /* в В */
	{0x0435, "e"},  /* е Е (ё ѐ lose their marks first) */
	{0x043A, "k"},  /* к К */
	{0x043C, "m"},  /* м М */
	{0x043D, "h"},  /* н Н */
	{0x043E, "o"},  /* о О */
	{0x0440, "p"},  /* р Р */
	{0x0441, "c"},  /* с С */
	{0x0442, "t"},  /* т Т */
	{0x0443, "y"},  /* у У */
	{0x0445, "x"},  /* х Х */
	{0x0455, "s"},  /* ѕ Ѕ */
	{0x0456, "i"},  /* і І (ї loses its mark first) */
	{0x0458, "j"},  /* ј Ј */
	{0x04AF, "y"},  /* ү Ү */
	{0x04BB, "h"},  /* һ Һ */
	{0x04CF, "i"},  /* ӏ Ӏ palochka */
	{0x0501, "d"},  /* ԁ */
	{0x051B, "q"},  /* ԛ Ԛ */
	{0x051D, "w"},  /* ԝ Ԝ */
};

static int fold_cmp(const void *key, const void *elem)
{
	utf8proc_int32_t cp = *(const utf8proc_int32_t *)key;
	utf8proc_int32_t e = ((const struct fold *)elem)->cp;

	return (cp > e) - (cp < e);
}

static const struct fold *fold_find(utf8proc_int32_t cp)
{
	if (cp < 0x00E6 || cp > 0x051D)
		return NULL;
	return bsearch(&cp, folds, sizeof(folds) / sizeof(folds[0]), sizeof(folds[0]),
		       fold_cmp);
}

/* Characters that separate words in a key (after NFKC and case folding). */
static bool is_separator(utf8proc_int32_t cp, utf8proc_category_t cat)
{
	switch (cp) {
	case ' ':
	case '-':
	case '_':
	case '.':
	case ',':
	case '\'':
	case '`':
	case 0x00B7: /* middle dot (Catalan l·l, and U+0387 after NFKC) */
	case 0x02B9: /* modifier letter prime */
	case 0x02BB: /* ʻ turned comma (transliteration) */
	case 0x02BC: /* ʼ modifier letter apostrophe */
	case 0x02BD: /* ʽ */
	case 0x02BE: /* ʾ hamza in transliteration */
	case 0x02BF: /* ʿ ayn in transliteration */
	case 0x02C8: /* ˈ vertical line, typed for an apostrophe */
	case 0x060C: /* Arabic comma */
	case 0x2018: /* ‘ */
	case 0x2019: /* ’ */
	case 0x201B: /* ‛ */
	case 0x2032: /* ′ prime */
	case 0x2212: /* minus sign, typed for a hyphen */
	case 0x3001: /* ideographic comma */
	case 0x30FB: /* katakana middle dot: separates foreign names */
		return true;
	default:
		break;
	}
	switch (cat) {
	case UTF8PROC_CATEGORY_ZS:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
	case UTF8PROC_CATEGORY_PD: /* all dashes: ‐ ‑ ‒ – — ― ⸺ ... */
	case UTF8PROC_CATEGORY_PC: /* underscore and its relatives */
		return true;
	default:
		return false;
	}
}

static bool is_letter_or_digit(utf8proc_category_t cat)
{
	switch (cat) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

/* Step 3 for one code point of NFKC-casefolded text. */
static void emit_codepoint(struct sink *s, utf8proc_int32_t cp)
{
	const struct fold *f;
	utf8proc_category_t cat;

	if (cp < 0x80 && s->mode == EMIT_IDENT) {
		if (cp >= 'a' && cp <= 'z')
			cp -= 'a' - 'A';
		if ((cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')) {
			char c = (char)cp;
			sink_bytes(s, &c, 1);
		}
		return;
	}
	if (cp < 0x80) {
		/* ASCII: the only separators are these (no other Zs, Pd, Pc) */
		char c = (char)cp;

		if (c == ' ' || c == '-' || c == '_' || c == '.' || c == ',' || c == '\'' ||
		    c == '`')
			sink_separator(s);
		else if (cp >= 0x20 && cp != 0x7F)
			sink_bytes(s, &c, 1);
		return;
	}
	if ((f = fold_find(cp)) != NULL) {
		size_t n = strlen(f->ascii);
		char up[3];

		if (s->mode == EMIT_KEY) {
			sink_bytes(s, f->ascii, n);
			return;
		}
		for (size_t i = 0; i < n; i++)
			up[i] = (char)(f->ascii[i] - ('a' - 'A'));
		sink_bytes(s, up, n);
		return;
	}
	cat = utf8proc_category(cp);
	if (s->mode == EMIT_IDENT) {
		if (is_letter_or_digit(cat))
			sink_codepoint(s, utf8proc_toupper(cp));
		return;
	}
	if (is_separator(cp, cat)) {
		sink_separator(s);
		return;
	}
	/* Controls and format characters are gone after steps 1-2; this keeps
	 * the promise even if a future utf8proc decomposes into one. */
	if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
	    cat == UTF8PROC_CATEGORY_CS)
		return;
	sink_codepoint(s, cp);
}

/* ASCII fast path: what steps 1-3 give for ASCII, without utf8proc. */
static void emit_ascii(struct sink *s, const unsigned char *in, size_t n)
{
	if (s->mode == EMIT_KEY) {
		/* the hottest loop of entity resolution: written out flat */
		for (size_t i = 0; i < n; i++) {
			unsigned char c = in[i];

			if (c == ' ' || c == '-' || c == '_' || c == '.' || c == ',' ||
			    c == '\'' || c == '`' || (c >= '\t' && c <= '\r')) {
				if (s->len > 0)
					s->pending_space = true;
				continue;
			}
			if (c < 0x20 || c == 0x7F)
				continue;
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + ('a' - 'A'));
			if (s->len + 1 + s->pending_space + 1 > s->outlen) {
				s->overflow = true;
				return;
			}
			if (s->pending_space) {
				s->out[s->len++] = ' ';
				s->pending_space = false;
			}
			s->out[s->len++] = (char)c;
		}
		return;
	}
	for (size_t i = 0; i < n && !s->overflow; i++) {
		unsigned char c = in[i];

		if (c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
			/* STRIPCC: line breaks and tabs become spaces */
			if (s->mode == EMIT_KEY)
				sink_separator(s);
			continue;
		}
		if (c < 0x20 || c == 0x7F)
			continue; /* STRIPCC: other controls vanish */
		if (c >= 'A' && c <= 'Z' && s->mode == EMIT_KEY)
			c = (unsigned char)(c + ('a' - 'A'));
		emit_codepoint(s, c);
	}
}

/* utf8proc custom mapping, applied to each input code point before
 * decomposition: format characters that are not default-ignorable (Arabic
 * number signs U+0600.., interlinear annotation U+FFF9.., ...) become ZWSP,
 * which UTF8PROC_IGNORE then removes, so no format character survives. */
static utf8proc_int32_t drop_format(utf8proc_int32_t cp, void *data)
{
	(void)data;
	if (cp >= 0x80 && utf8proc_category(cp) == UTF8PROC_CATEGORY_CF)
		return 0x200B;
	return cp;
}

/* The whole pipeline into out; see the top of the file. */
static int norm_run(const char *in, char *out, size_t outlen, enum emit_mode mode)
{
	utf8proc_int32_t stackbuf[NORM_STACK_CP];
	utf8proc_int32_t *buf = stackbuf;
	utf8proc_ssize_t n;
	/* the length is returned as an int: never let it pass INT32_MAX */
	struct sink s = {.out = out, .outlen = outlen > INT32_MAX ? INT32_MAX : outlen,
			 .mode = mode};
	size_t inlen;
	bool ascii = true;
	int r;

	if (out == NULL || outlen == 0)
		return FOCAL_E_LIMIT;
	out[0] = '\0';
	if (in == NULL)
		return FOCAL_E_INVAL;
	inlen = strlen(in);
	if (inlen > (size_t)INT32_MAX / 8)
		return FOCAL_E_LIMIT; /* keeps every length below in range */
	for (size_t i = 0; i < inlen; i++)
		if ((unsigned char)in[i] >= 0x80) {
			ascii = false;
			break;
		}
	if (ascii) {
		emit_ascii(&s, (const unsigned char *)in, inlen);
		return sink_finish(&s);
	}

	n = utf8proc_decompose_custom((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)inlen,
				      buf, NORM_STACK_CP, NORM_UTF8PROC_OPTS, drop_format, NULL);
	if (n > NORM_STACK_CP) {
		/* Rare: more code points than the stack buffer holds. */
		utf8proc_ssize_t need = n;

		buf = malloc((size_t)need * sizeof(*buf));
		if (buf == NULL)
			return FOCAL_E_NOMEM;
		n = utf8proc_decompose_custom((const utf8proc_uint8_t *)in,
					      (utf8proc_ssize_t)inlen, buf, need,
					      NORM_UTF8PROC_OPTS, drop_format, NULL);
		if (n > need)
			n = UTF8PROC_ERROR_OVERFLOW; /* cannot happen: same input */
	}
	if (n < 0) {
		r = n == UTF8PROC_ERROR_INVALIDUTF8 ? FOCAL_E_INVAL
		    : n == UTF8PROC_ERROR_NOMEM	    ? FOCAL_E_NOMEM
						    : FOCAL_E_LIMIT;
		goto out;
	}
	n = utf8proc_normalize_utf32(buf, n, NORM_UTF8PROC_OPTS);
	if (n < 0) {
		r = FOCAL_E_INTERNAL;
		goto out;
	}
	if (mode == EMIT_IDENT) {
		/* Drop what an identifier does not keep BEFORE composing again:
		 * "ᄒ.ᅩ" must give the syllable "호", as the identifier of "호" does
		 * (Hangul jamo are the only letters that still compose here). */
		utf8proc_ssize_t w = 0;

		for (utf8proc_ssize_t i = 0; i < n; i++)
			if (fold_find(buf[i]) != NULL ||
			    is_letter_or_digit(utf8proc_category(buf[i])))
				buf[w++] = buf[i];
		n = utf8proc_normalize_utf32(buf, w,
					     (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
		if (n < 0) {
			r = FOCAL_E_INTERNAL;
			goto out;
		}
	}
	for (utf8proc_ssize_t i = 0; i < n && !s.overflow; i++)
		emit_codepoint(&s, buf[i]);
	r = sink_finish(&s);
out:
	if (buf != stackbuf)
		free(buf);
	if (r < 0)
		out[0] = '\0';
	return r;
}

int normalize_key(const char *in, char *out, size_t outlen)
{
	return norm_run(in, out, outlen, EMIT_KEY);
}

int normalize_identifier(const char *in, char *out, size_t outlen)
{
	return norm_run(in, out, outlen, EMIT_IDENT);
}

/*
 * Phonetic key of one word.
 *
 * The word is a run of a key (lower-case, ASCII for Latin script).  ASCII
 * letters go through the rules below and come out as upper-case codes;
 * digits and letters of other scripts are copied unchanged.  The rules with
 * their reasons and examples are in docs/normalization.md; in short:
 *
 *   consonants   ch sh sj sz cz tch tsh kh → X (the "sj" sound; Dutch ch
 *                is folded with French ch: see the doc)
 *                chr ck cq(u) qu q k, c before a o u and consonants → K
 *                c before e i y, s, z, sch → S      x → KS
 *                ph f → F      th t, dt, final d → T      gh, gu+e/i → G
 *                dj j, y before a vowel → J      w v → V
 *                final h after a vowel is silent
 *                doubled codes collapse (tt ss ck-k ...)
 *   vowels       units: aa ae a → A   e ee → E   i ie ii → I
 *                o oo u uu ou oe au eau → O   ei ij ey eij y → Y
 *                ui uy uij → U   oi oy → W   eu ieu → Q   ai ay → E
 *                initial ou before a vowel → V (Oualid = Walid)
 *                Only the first vowel unit and a word-final one are
 *                written; other vowels are dropped (unstressed vowels are
 *                what transliterations and spellings disagree on).  A final
 *                single e after another vowel is silent (French).
 *   French ends  -ault -aud -aut -aux -eau(x) -oux → O, -ois -oit -oix → W,
 *                -uis → U, -ais -ait -aix → E, -eux → Q
 */

struct phon {
	struct sink *s;
	char last;	  /* last code written; 0 after a dropped vowel or a copy */
	bool had_vowel;	  /* the first vowel unit has been seen */
};

static bool is_vowel(int c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

static void phon_cons(struct phon *p, char code)
{
	if (code == p->last)
		return; /* doubled sounds collapse */
	sink_bytes(p->s, &code, 1);
	p->last = code;
}

static void phon_vowel(struct phon *p, char code, bool final)
{
	if (!p->had_vowel || final) {
		p->had_vowel = true;
		if (code != p->last) {
			sink_bytes(p->s, &code, 1);
			p->last = code;
		}
		return;
	}
	/* A dropped vowel still separates consonants: Petit keeps both t. */
	p->last = 0;
}

/* French endings that are one vowel sound: the letters are not pronounced as
 * written.  Checked longest first. */
static const struct {
	const char *end;
	size_t len;
	char code;
} french_ends[] = {
	{"eaux", 4, 'O'}, {"ault", 4, 'O'}, {"eau", 3, 'O'}, {"aud", 3, 'O'},
	{"aut", 3, 'O'},  {"aux", 3, 'O'},  {"oux", 3, 'O'}, {"ois", 3, 'W'},
	{"oit", 3, 'W'},  {"oix", 3, 'W'},  {"uis", 3, 'U'}, {"ais", 3, 'E'},
	{"ait", 3, 'E'},  {"aix", 3, 'E'},  {"eux", 3, 'Q'},
};

/* Length in bytes of the UTF-8 sequence starting with lead byte c (the key is
 * valid UTF-8, so the continuation bytes are there). */
static size_t utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static void phon_word(struct sink *s, const char *w, size_t n)
{
	struct phon p = {.s = s};
	char end_code = 0;
	size_t i = 0;

#define AT(k) ((i + (k)) < n ? (unsigned char)w[i + (k)] : 0)
	/* A final h after a vowel is silent (Sarah = Sara, Fatimah = Fatima). */
	if (n >= 2 && w[n - 1] == 'h' && is_vowel((unsigned char)w[n - 2]))
		n--;
	/* every ending ends in d s t u or x: most words skip the table */
	if (n > 3 && memchr("dstux", w[n - 1], 5) != NULL) {
		for (size_t k = 0; k < sizeof(french_ends) / sizeof(french_ends[0]); k++) {
			size_t el = french_ends[k].len;

			if (n > el && w[n - 1] == french_ends[k].end[el - 1] &&
			    memcmp(w + n - el, french_ends[k].end, el) == 0) {
				n -= el;
				end_code = french_ends[k].code;
				break;
			}
		}
	}
	while (i < n) {
		unsigned char c = (unsigned char)w[i];
		bool final;
		char code;
		size_t len;

		if (c >= 0x80 || (c >= '0' && c <= '9')) {
			/* digits and other scripts: copied as they are */
			len = utf8_len(c);
			if (i + len > n)
				len = n - i;
			sink_bytes(s, w + i, len);
			p.last = 0;
			i += len;
			continue;
		}
		if (c == 'y') {
			if (is_vowel(AT(1))) {
				phon_cons(&p, 'J'); /* Yasmine, Ayoub, Mbuyi */
			} else {
				/* Van Dyck = Van Dijck; final y is i (Dany) */
				final = i + 1 == n && !end_code;
				phon_vowel(&p, final ? 'I' : 'Y', final);
			}
			i++;
			continue;
		}
		if (is_vowel(c)) {
			int c1 = AT(1), c2 = AT(2);

			len = 1;
			if (i == 0 && c == 'o' && c1 == 'u' && is_vowel(c2) && c2 != 'u') {
				phon_cons(&p, 'V'); /* Oualid = Walid */
				i += 2;
				continue;
			}
			if (c == 'e' && c1 == 'a' && c2 == 'u') {
				code = 'O', len = 3;
			} else if (c == 'e' && c1 == 'i' && c2 == 'j') {
				code = 'Y', len = 3;
			} else if (c == 'u' && c1 == 'i' && c2 == 'j') {
				code = 'U', len = 3;
			} else if (c == 'i' && c1 == 'e' && c2 == 'u') {
				code = 'Q', len = 3;
			} else {
				len = 2;
				switch (c) {
				case 'a':
					code = c1 == 'a' || c1 == 'e' ? 'A'
					       : c1 == 'u'	       ? 'O'
					       : c1 == 'i'	       ? 'E'
					       : c1 == 'y' && !is_vowel(c2) ? 'E'
								       : 0;
					if (!code)
						code = 'A', len = 1;
					break;
				case 'e':
					code = c1 == 'e' ? 'E'
					       : c1 == 'i' || c1 == 'y' ? 'Y'
					       : c1 == 'u'		? 'Q'
								: 0;
					if (!code)
						code = 'E', len = 1;
					break;
				case 'i':
					code = c1 == 'e' || c1 == 'i' ? 'I' : c1 == 'j' ? 'Y' : 0;
					if (!code)
						code = 'I', len = 1;
					break;
				case 'o':
					code = c1 == 'o' || c1 == 'u' || c1 == 'e' ? 'O'
					       : c1 == 'i' || (c1 == 'y' && !is_vowel(c2)) ? 'W'
											 : 0;
					if (!code)
						code = 'O', len = 1;
					break;
				default: /* 'u' */
					code = c1 == 'u' ? 'O'
					       : c1 == 'i' || (c1 == 'y' && !is_vowel(c2)) ? 'U'
											 : 0;
					if (!code)
						code = 'O', len = 1;
					break;
				}
			}
			final = i + len == n && !end_code;
			if (final && len == 1 && c == 'e' && p.had_vowel) {
				p.last = 0; /* silent final e: Philippe = Filip */
			} else {
				phon_vowel(&p, code, final);
			}
			i += len;
			continue;
		}
		if (c < 'a' || c > 'z') {
			i++; /* ASCII punctuation left in a key: ignored */
			continue;
		}
		len = 1;
		switch (c) {
		case 'c':
			if (AT(1) == 'h' && AT(2) == 'r')
				code = 'K', len = 2; /* Christophe = Kristof */
			else if (AT(1) == 'h')
				code = 'X', len = 2;
			else if (AT(1) == 'k')
				code = 'K', len = 2;
			else if (AT(1) == 'q' && AT(2) == 'u')
				code = 'K', len = 3;
			else if (AT(1) == 'q')
				code = 'K', len = 2;
			else if (AT(1) == 'z')
				code = 'X', len = 2;
			else if (AT(1) == 'e' || AT(1) == 'i' || AT(1) == 'y')
				code = 'S';
			else
				code = 'K';
			break;
		case 'd':
			if (AT(1) == 'j')
				code = 'J', len = 2; /* Kalondji = Kalonji */
			else if (AT(1) == 't')
				code = 'T', len = 2; /* Smedts = Smets */
			else
				code = i + 1 == n && !end_code ? 'T' : 'D';
			break;
		case 'g':
			if (AT(1) == 'h')
				code = 'G', len = 2;
			else if (AT(1) == 'u' && (AT(2) == 'e' || AT(2) == 'i' || AT(2) == 'y'))
				code = 'G', len = 2;
			else
				code = 'G';
			break;
		case 'k':
			if (AT(1) == 'h')
				code = 'X', len = 2; /* Khalid = Chalid */
			else
				code = 'K';
			break;
		case 'p':
			if (AT(1) == 'h')
				code = 'F', len = 2;
			else
				code = 'P';
			break;
		case 'q':
			code = 'K', len = AT(1) == 'u' ? 2 : 1;
			break;
		case 's':
			if (AT(1) == 'c' && AT(2) == 'h')
				code = 'S', len = 3;
			else if (AT(1) == 'h' || AT(1) == 'j' || AT(1) == 'z')
				code = 'X', len = 2;
			else
				code = 'S';
			break;
		case 't':
			if ((AT(1) == 'c' || AT(1) == 's') && AT(2) == 'h')
				code = 'X', len = 3; /* Tshibangu = Chibangu */
			else if (AT(1) == 'h')
				code = 'T', len = 2;
			else
				code = 'T';
			break;
		case 'w':
		case 'v':
			code = 'V';
			break;
		case 'x':
			phon_cons(&p, 'K');
			code = 'S';
			break;
		case 'z':
			code = 'S';
			break;
		default: /* b f h j l m n r */
			code = (char)(c - ('a' - 'A'));
			break;
		}
		phon_cons(&p, code);
		i += len;
	}
	if (end_code)
		phon_vowel(&p, end_code, true);
#undef AT
}

/* Splits a key into phonetic words: a space or ASCII punctuation ends a word;
 * a non-ASCII code point that is not a letter or digit also does. */
static void phon_text(struct sink *s, const char *key, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start, before;

		/* skip separators */
		while (i < n) {
			unsigned char c = (unsigned char)key[i];
			utf8proc_int32_t cp;
			utf8proc_ssize_t l;

			if (c < 0x80) {
				if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
					break;
				i++;
				continue;
			}
			l = utf8proc_iterate((const utf8proc_uint8_t *)key + i,
					     (utf8proc_ssize_t)(n - i), &cp);
			if (l <= 0) {
				i++;
				continue;
			}
			if (is_letter_or_digit(utf8proc_category(cp)))
				break;
			i += (size_t)l;
		}
		start = i;
		while (i < n) {
			unsigned char c = (unsigned char)key[i];
			utf8proc_int32_t cp;
			utf8proc_ssize_t l;

			if (c < 0x80) {
				if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
					break;
				i++;
				continue;
			}
			l = utf8proc_iterate((const utf8proc_uint8_t *)key + i,
					     (utf8proc_ssize_t)(n - i), &cp);
			if (l <= 0 || !is_letter_or_digit(utf8proc_category(cp)))
				break;
			i += (size_t)l;
		}
		if (i == start)
			continue;
		/* One space between words, none for a word that gave nothing. */
		before = s->len;
		if (before > 0)
			s->pending_space = true;
		phon_word(s, key + start, i - start);
		if (s->len == before)
			s->pending_space = false;
	}
}

int normalize_phonetic(const char *in, char *out, size_t outlen)
{
	char stackkey[2 * NORMALIZE_MAX];
	char *key = stackkey;
	size_t keylen = sizeof(stackkey);
	struct sink s = {.out = out, .outlen = outlen > INT32_MAX ? INT32_MAX : outlen,
			 .mode = EMIT_KEY};
	int n;

	if (out == NULL || outlen == 0)
		return FOCAL_E_LIMIT;
	out[0] = '\0';
	n = normalize_key(in, key, keylen);
	while (n == FOCAL_E_LIMIT) {
		/* Rare: a key longer than the stack buffer.  Grow until it fits;
		 * the key of valid input is finite, so this ends. */
		char *bigger;

		if (keylen > (size_t)INT32_MAX / 2)
			break;
		keylen *= 2;
		bigger = realloc(key == stackkey ? NULL : key, keylen);
		if (bigger == NULL) {
			n = FOCAL_E_NOMEM;
			break;
		}
		key = bigger;
		n = normalize_key(in, key, keylen);
	}
	if (n >= 0) {
		phon_text(&s, key, (size_t)n);
		n = sink_finish(&s);
	}
	if (key != stackkey)
		free(key);
	if (n < 0)
		out[0] = '\0';
	return n;
}

/*
 * Word multisets of normalize_names_match().
 */
struct words {
	const char *w[MATCH_MAX_WORDS];
	size_t len[MATCH_MAX_WORDS];
	size_t count;
};

/* Name particles joined to the next word for the "joined" reading, so that
 * "Van Damme" = "Vandamme", "De Smet" = "Desmet", "d'Hondt" = "Dhondt",
 * "El Amrani" = "Elamrani", "Ben Ali" = "Benali". */
static const char *const particles[] = {
	"abou", "abu", "ait", "al", "ben", "bin", "d", "da", "das", "de", "del", "della",
	"den", "der", "des", "di", "dos", "du", "el", "het", "ibn", "l", "la", "le", "les",
	"t", "te", "ten", "ter", "van", "vande", "vanden", "vander", "ver", "von",
};

static bool is_particle(const char *w, size_t n)
{
	if (n > 6)
		return false; /* longer than any particle */
	for (size_t i = 0; i < sizeof(particles) / sizeof(particles[0]); i++)
		if (particles[i][0] == w[0] && strncmp(particles[i], w, n) == 0 &&
		    particles[i][n] == '\0')
			return true;
	return false;
}

/* Splits key on spaces.  False when there are too many words. */
static bool words_split(struct words *ws, const char *key, size_t n)
{
	size_t i = 0;

	ws->count = 0;
	while (i < n) {
		size_t start;

		while (i < n && key[i] == ' ')
			i++;
		start = i;
		while (i < n && key[i] != ' ')
			i++;
		if (i == start)
			continue;
		if (ws->count == MATCH_MAX_WORDS)
			return false;
		ws->w[ws->count] = key + start;
		ws->len[ws->count] = i - start;
		ws->count++;
	}
	return true;
}

/* The joined reading of ws: particles glued to the following word, written
 * into buf (at least as large as the key, which the result never exceeds). */
static void words_join(struct words *out, const struct words *ws, char *buf)
{
	size_t pos = 0;
	size_t start = 0;

	out->count = 0;
	for (size_t i = 0; i < ws->count; i++) {
		memcpy(buf + pos, ws->w[i], ws->len[i]);
		pos += ws->len[i];
		if (i + 1 < ws->count && is_particle(ws->w[i], ws->len[i]))
			continue;
		out->w[out->count] = buf + start;
		out->len[out->count] = pos - start;
		out->count++;
		start = pos;
	}
}

static int word_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c;
	return (an > bn) - (an < bn);
}

static void words_sort(struct words *ws)
{
	/* insertion sort: a name has a handful of words */
	for (size_t i = 1; i < ws->count; i++) {
		const char *w = ws->w[i];
		size_t len = ws->len[i];
		size_t j = i;

		while (j > 0 && word_cmp(ws->w[j - 1], ws->len[j - 1], w, len) > 0) {
			ws->w[j] = ws->w[j - 1];
			ws->len[j] = ws->len[j - 1];
			j--;
		}
		ws->w[j] = w;
		ws->len[j] = len;
	}
}

static bool words_equal(struct words *a, struct words *b)
{
	if (a->count != b->count || a->count == 0)
		return false;
	words_sort(a);
	words_sort(b);
	for (size_t i = 0; i < a->count; i++)
		if (word_cmp(a->w[i], a->len[i], b->w[i], b->len[i]) != 0)
			return false;
	return true;
}

/* The phonetic words of ws, written into buf; words that give no code are
 * left out.  False when buf is too small. */
static bool words_phonetic(struct words *out, const struct words *ws, char *buf, size_t buflen)
{
	size_t pos = 0;

	out->count = 0;
	for (size_t i = 0; i < ws->count; i++) {
		struct sink s = {.out = buf + pos, .outlen = buflen - pos, .mode = EMIT_KEY};

		phon_text(&s, ws->w[i], ws->len[i]);
		if (s.overflow)
			return false;
		if (s.len == 0)
			continue;
		out->w[out->count] = buf + pos;
		out->len[out->count] = s.len;
		out->count++;
		pos += s.len;
	}
	return true;
}

bool normalize_names_match(const char *a, const char *b)
{
	char ka[MATCH_BUF], kb[MATCH_BUF];
	char ja[MATCH_BUF], jb[MATCH_BUF];
	/* phonetic words: at most two codes per key byte ("x" gives KS); one
	 * half for the plain reading, one for the joined */
	char pa[4 * MATCH_BUF], pb[4 * MATCH_BUF];
	struct words wa, wb, xa, xb, fa, fb;
	int na, nb;

	na = normalize_key(a, ka, sizeof(ka));
	nb = normalize_key(b, kb, sizeof(kb));
	if (na <= 0 || nb <= 0)
		return false; /* invalid, too long, or no name at all */
	if (na == nb && memcmp(ka, kb, (size_t)na) == 0)
		return true;
	if (!words_split(&wa, ka, (size_t)na) || !words_split(&wb, kb, (size_t)nb))
		return false; /* too many words to be a name, and keys differ */
	words_join(&xa, &wa, ja);
	words_join(&xb, &wb, jb);

	/* Phonetic words first, from the unsorted readings (sorting below
	 * reorders the arrays in place, which is fine for comparison). */
	if (!words_phonetic(&fa, &wa, pa, sizeof(pa) / 2) ||
	    !words_phonetic(&fb, &wb, pb, sizeof(pb) / 2))
		return false;
	if (words_equal(&wa, &wb) || words_equal(&xa, &xb) || words_equal(&fa, &fb))
		return true;
	if (!words_phonetic(&fa, &xa, pa + sizeof(pa) / 2, sizeof(pa) / 2) ||
	    !words_phonetic(&fb, &xb, pb + sizeof(pb) / 2, sizeof(pb) / 2))
		return false;
	return words_equal(&fa, &fb);
}

bool normalize_is_initial_of(const char *a, const char *b)
{
	char ka[NORMALIZE_MAX], kb[NORMALIZE_MAX];
	utf8proc_int32_t ca, cb;
	utf8proc_ssize_t la, lb;
	int na, nb;

	na = normalize_key(a, ka, sizeof(ka));
	nb = normalize_key(b, kb, sizeof(kb));
	if (na <= 0 || nb <= 0)
		return false;
	la = utf8proc_iterate((const utf8proc_uint8_t *)ka, na, &ca);
	lb = utf8proc_iterate((const utf8proc_uint8_t *)kb, nb, &cb);
	if (la <= 0 || lb <= 0 || la != na)
		return false; /* a's key is not exactly one character */
	switch (utf8proc_category(ca)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LO:
		return ca == cb;
	default:
		return false; /* "1." or "-" is no initial */
	}
}
