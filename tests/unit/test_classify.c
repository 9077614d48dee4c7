/*
 * test_classify: how free text is read (search/classify.h).
 *
 * The main table gives, for each text an officer might type, every
 * interpretation expected in order, written compactly as
 *   "kind param=value param=value | kind ..."
 * (parameters in enum order; the text and the derived keys left out), so a
 * failure prints what was read next to what was expected.  A second table
 * gives texts that must be refused and a phrase their message must contain.
 * Then the canonicalisers one by one, the given-name list, and the contracts
 * (at most CLASSIFY_MAX_INTERP readings, each with a read_as; nothing left
 * behind on failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "search/classify.h"
#include "search/normalize.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The interpretations of r in the table's notation. */
static void describe(const struct query_request *r, char *out, size_t max)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->ninterp; i++) {
		const struct query *q = &r->interp[i];

		off += (size_t)snprintf(out + off, max - off, "%s%s", i ? " | " : "",
					query_kind_name(q->kind));
		for (int p = 0; p < QP__COUNT && off < max; p++)
			if (q->param[p] != NULL && p != QP_TEXT && p != QP_FAMILY_KEY &&
			    p != QP_GIVEN_KEY)
				off += (size_t)snprintf(out + off, max - off, " %s=%s",
							query_param_name((enum query_param)p),
							q->param[p]);
	}
}

static int classify(const char *text, struct query_request *r, struct focal_err *err)
{
	memset(r, 0, sizeof(*r));
	memset(err, 0, sizeof(*err));
	return classify_text(r, text, err);
}

static void release(struct query_request *r)
{
	for (size_t i = 0; i < r->ninterp; i++)
		query_clear(&r->interp[i]);
	free(r->interp);
	memset(r, 0, sizeof(*r));
}

static const struct {
	const char *text;
	const char *want;
	const char *read_as; /* a phrase of the first read_as, or NULL */
} readings[] = {
	/* persons: the list of given names decides the order */
	{ "Jan Peeters", "person family_name=Peeters given_name=Jan", "\"Jan\" is a common given name" },
	{ "Peeters Jan", "person family_name=Peeters given_name=Jan", NULL },
	{ "jan peeters", "person family_name=peeters given_name=jan", NULL },
	{ "Jan Peeters 12/03/1981", "person family_name=Peeters given_name=Jan birth_date=1981-03-12",
	  "born 12/03/1981" },
	{ "Peeters Jan 1981-03-12", "person family_name=Peeters given_name=Jan birth_date=1981-03-12", NULL },
	{ "Jan Peeters 12.03.1981", "person family_name=Peeters given_name=Jan birth_date=1981-03-12", NULL },
	{ "Peeters 3-5-81", "person family_name=Peeters birth_date=1981-05-03", NULL },
	{ "Peeters 5-3-09", "person family_name=Peeters birth_date=2009-03-05", NULL },
	{ "Peeters 1/2/1970", "person family_name=Peeters birth_date=1970-02-01", NULL },
	{ "Lotte Peeters 2009", "person family_name=Peeters given_name=Lotte birth_year=2009", "born in 2009" },
	{ "Peeters °12/03/1981", "person family_name=Peeters birth_date=1981-03-12", NULL },
	{ "Peeters geb. 1981", "person family_name=Peeters birth_year=1981", NULL },
	{ "Peeters (1981)", "person family_name=Peeters birth_year=1981", NULL },
	{ "Jan Peeters 12/03/1981 1981", "person family_name=Peeters given_name=Jan birth_date=1981-03-12", NULL },
	{ "Peeters", "person family_name=Peeters", NULL },
	{ "Marie Claire Dubois", "person family_name=Dubois given_name=Marie Claire", NULL },
	{ "Dubois Marie Claire", "person family_name=Dubois given_name=Marie Claire", NULL },
	{ "Jean-Pierre Dubois", "person family_name=Dubois given_name=Jean-Pierre", NULL },
	{ "Émilie Dubois-Lambert", "person family_name=Dubois-Lambert given_name=Émilie", NULL },
	{ "EMILIE DUBOIS LAMBERT", "person family_name=DUBOIS LAMBERT given_name=EMILIE", NULL },
	{ "Dubois - Lambert Marie", "person family_name=Dubois-Lambert given_name=Marie", NULL },
	{ "Jozef Janssens 02/02/1970", "person family_name=Janssens given_name=Jozef birth_date=1970-02-02", NULL },
	{ "Marcel Wouters", "person family_name=Wouters given_name=Marcel", NULL },
	{ "Zeynep Yilmaz", "person family_name=Yilmaz given_name=Zeynep", NULL },
	{ "Kowalski Agnieszka", "person family_name=Kowalski given_name=Agnieszka", NULL },
	/* particles keep the family name together */
	{ "Mohamed El Amrani", "person family_name=El Amrani given_name=Mohamed", NULL },
	{ "El Amrani Mohamed", "person family_name=El Amrani given_name=Mohamed", NULL },
	{ "Jan Van den Broeck", "person family_name=Van den Broeck given_name=Jan", NULL },
	{ "Van den Broeck Jan", "person family_name=Van den Broeck given_name=Jan", NULL },
	{ "van der Linden Sofie", "person family_name=van der Linden given_name=Sofie", NULL },
	{ "Marie de la Croix", "person family_name=de la Croix given_name=Marie", NULL },
	{ "Op de Beeck Jan", "person family_name=Op de Beeck given_name=Jan", NULL },
	{ "Pierre Du Bois", "person family_name=Du Bois given_name=Pierre", NULL },
	{ "Karim Ben Ali", "person family_name=Ben Ali given_name=Karim", NULL },
	{ "d'Hondt Pieter", "person family_name=d'Hondt given_name=Pieter", NULL },
	{ "Xyz Vandenbroucke", "person family_name=Vandenbroucke given_name=Xyz", NULL },
	{ "De Smet Van Damme", "person family_name=De Smet Van Damme", "one family name" },
	/* "Ben" is also a given name */
	{ "Ben Ali", "person family_name=Ben Ali | person family_name=Ali given_name=Ben", NULL },
	/* initials */
	{ "J. Janssens", "person family_name=Janssens given_name=J", "(initial)" },
	{ "Janssens J.", "person family_name=Janssens given_name=J", NULL },
	{ "J Janssens", "person family_name=Janssens given_name=J", NULL },
	{ "J.-P. Dubois", "person family_name=Dubois given_name=J", NULL },
	{ "é. Dubois", "person family_name=Dubois given_name=É", NULL },
	/* comma and capitals */
	{ "Peeters, Jan", "person family_name=Peeters given_name=Jan", "before the comma" },
	{ "Marie, Jan", "person family_name=Marie given_name=Jan", NULL },
	{ "PEETERS Jan", "person family_name=PEETERS given_name=Jan", "in capitals" },
	{ "Marie-Claire DUBOIS", "person family_name=DUBOIS given_name=Marie-Claire", NULL },
	{ "Xyz QWERTY", "person family_name=QWERTY given_name=Xyz", NULL },
	/* capitals against a clear given name: both */
	{ "JAN Peeters", "person family_name=JAN given_name=Peeters | person family_name=Peeters given_name=JAN", NULL },
	/* order unclear: both, given name first first */
	{ "Qwerty Zyxw", "person family_name=Zyxw given_name=Qwerty | person family_name=Qwerty given_name=Zyxw",
	  "both orders" },
	{ "Jan Marie", "person family_name=Marie given_name=Jan | person family_name=Jan given_name=Marie", NULL },
	{ "Thomas Peeters", "person family_name=Peeters given_name=Thomas | person family_name=Thomas given_name=Peeters",
	  "can be a given name" },
	{ "Jan Thomas", "person family_name=Thomas given_name=Jan", NULL },
	{ "Aaa Bbb Ccc", "person family_name=Bbb Ccc given_name=Aaa | person family_name=Aaa Bbb given_name=Ccc", NULL },
	/* Unicode as pasted: fullwidth, no-break space, right-to-left mark */
	{ "Jan\xc2\xa0Peeters", "person family_name=Peeters given_name=Jan", NULL },
	{ "Jan\xe2\x80\x8f Peeters", "person family_name=Peeters given_name=Jan", NULL },
	{ "\xef\xbc\xaa\xef\xbd\x81\xef\xbd\x8e Peeters", "person family_name=Peeters given_name=Jan", NULL },
	{ "Dubois\xe2\x80\x93Lambert Marie", "person family_name=Dubois-Lambert given_name=Marie", NULL },

	/* plates (and serials: a plate is a valid serial too) */
	{ "1-ABC-123", "plate plate=1ABC123 | serial serial=1ABC123", "number plate 1ABC123" },
	{ "1abc123", "plate plate=1ABC123 | serial serial=1ABC123", NULL },
	{ "1 abc 123", "plate plate=1ABC123 | serial serial=1ABC123", NULL },
	{ "1.ABC.123", "plate plate=1ABC123 | serial serial=1ABC123", NULL },
	{ "abc-123", "plate plate=ABC123 | serial serial=ABC123", "number plate ABC123" },
	{ "ABC 123", "plate plate=ABC123 | serial serial=ABC123", NULL },
	{ "123-ABC", "plate plate=123ABC | serial serial=123ABC", NULL },
	{ "\xef\xbc\x91\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93",
	  "plate plate=1ABC123 | serial serial=1ABC123", NULL },
	/* Cyrillic А, В, С that look Latin */
	{ "1-\xd0\x90\xd0\x92\xd0\xa1-123", "plate plate=1ABC123 | serial serial=1ABC123", NULL },
	/* serial numbers */
	{ "AFKX417", "serial serial=AFKX417", "serial number AFKX417" },
	{ "AFKX 417", "serial serial=AFKX417", NULL },
	{ "afkx-417", "serial serial=AFKX417", NULL },
	{ "glock-xk-1234", "serial serial=GLOCKXK1234", NULL },
	{ "AB12345X", "serial serial=AB12345X", NULL },
	{ "0ABC123", "serial serial=0ABC123", NULL },

	/* national register numbers, also BIS and born from 2000 */
	{ "85.07.30-033.28", "national_number national_number=85073003328",
	  "national register number 85.07.30-033.28" },
	{ "85073003328", "national_number national_number=85073003328", NULL },
	{ "850730 033 28", "national_number national_number=85073003328", NULL },
	{ "85 07 30 033 28", "national_number national_number=85073003328", NULL },
	{ "09.01.01-001.97", "national_number national_number=09010100197", NULL },
	{ "15.01.01-123.04", "national_number national_number=15010112304", NULL },
	{ "85.27.30-033.71", "national_number national_number=85273003371", "BIS number" },
	{ "85.47.30-033.17", "national_number national_number=85473003317", "BIS number" },

	/* phone numbers */
	{ "0470 12 34 56", "phone phone=+32470123456 phone_national=0470123456", "phone number +32470123456" },
	{ "0470/12.34.56", "phone phone=+32470123456 phone_national=0470123456", NULL },
	{ "+32 470 12 34 56", "phone phone=+32470123456 phone_national=0470123456", NULL },
	{ "+32 (0)470 12 34 56", "phone phone=+32470123456 phone_national=0470123456", NULL },
	{ "0032 470 12 34 56", "phone phone=+32470123456 phone_national=0470123456", NULL },
	{ "02 511 11 11", "phone phone=+3225111111 phone_national=025111111", NULL },
	{ "+32 4 223 45 67", "phone phone=+3242234567 phone_national=042234567", NULL },
	{ "+31 20 555 0100", "phone phone=+31205550100", NULL },
	{ "0033 1 23 45 67 89", "phone phone=+33123456789", NULL },
	{ "+49 30 1234567", "phone phone=+49301234567", NULL },

	/* addresses */
	{ "Lange Kievitstraat 112, 2018 Antwerpen",
	  "address street=Lange Kievitstraat number=112 postcode=2018 city=Antwerpen", NULL },
	{ "Rue de la Loi 16 1000 Bruxelles",
	  "address street=Rue de la Loi number=16 postcode=1000 city=Bruxelles", NULL },
	{ "Turnhoutsebaan 300 Borgerhout", "address street=Turnhoutsebaan number=300 city=Borgerhout", NULL },
	{ "Chaussée de Louvain 100, 1030 Schaerbeek",
	  "address street=Chaussée de Louvain number=100 postcode=1030 city=Schaerbeek", NULL },
	{ "16, rue de la Loi", "address street=rue de la Loi number=16", NULL },
	{ "Kerkstraat 12b bus 3", "address street=Kerkstraat number=12B", "box 3 is not searched" },
	{ "Kerkstraat 12/3 Gent", "address street=Kerkstraat number=12 city=Gent", NULL },
	{ "Kerkstraat 2000 Antwerpen", "address street=Kerkstraat postcode=2000 city=Antwerpen", NULL },
	{ "Kerkstraat, B-2000 Antwerpen", "address street=Kerkstraat postcode=2000 city=Antwerpen", NULL },
	{ "Meir 50, 2000 Antwerpen", "address street=Meir number=50 postcode=2000 city=Antwerpen", NULL },
	{ "Sint-Jansplein 4", "address street=Sint-Jansplein number=4", NULL },
	{ "Grote Markt 1 Brussel", "address street=Grote Markt number=1 city=Brussel", NULL },
	{ "Av. Louise 54", "address street=Av. Louise number=54", NULL },
	{ "Lange Kievitstraat", "address street=Lange Kievitstraat", NULL },
	{ "Kerkstraat Antwerpen", "address street=Kerkstraat city=Antwerpen", NULL },
	{ "Rue de la Loi", "address street=Rue de la Loi", NULL },
	/* weak street words: an address only with a number */
	{ "Place Jourdan 12", "address street=Place Jourdan number=12", NULL },
	{ "Jan Van Dijk", "person family_name=Van Dijk given_name=Jan", NULL },
	/* a postcode and a city, or a family name and a year */
	{ "2018 Antwerpen",
	  "address postcode=2018 city=Antwerpen | person family_name=Antwerpen birth_year=2018", NULL },
};

static void test_readings(void **state)
{
	struct query_request r;
	struct focal_err err;
	char got[2048];

	(void)state;
	for (size_t i = 0; i < N(readings); i++) {
		if (classify(readings[i].text, &r, &err) != 0)
			fail_msg("\"%s\": %s", readings[i].text, err.msg);
		describe(&r, got, sizeof(got));
		if (strcmp(got, readings[i].want) != 0)
			fail_msg("\"%s\"\n  read: %s\n  want: %s", readings[i].text, got,
				 readings[i].want);
		for (size_t j = 0; j < r.ninterp; j++) {
			assert_non_null(r.interp[j].read_as);
			assert_true(r.interp[j].read_as[0] != '\0');
			/* the caller adds the text as typed, not the classifier */
			assert_null(r.interp[j].param[QP_TEXT]);
		}
		if (readings[i].read_as != NULL &&
		    strstr(r.interp[0].read_as, readings[i].read_as) == NULL)
			fail_msg("\"%s\": read_as \"%s\" lacks \"%s\"", readings[i].text,
				 r.interp[0].read_as, readings[i].read_as);
		release(&r);
	}
}

static const struct {
	const char *text;
	const char *msg; /* substring of the error */
} refused[] = {
	/* national register numbers */
	{ "81.03.12-123.76", "its check digits 76 do not match" },
	{ "01.02.03-456.04", "check digits 04 do not match" },
	{ "00000000000", "check digits 00" },
	{ "85073003329", "a digit is probably mistyped" },
	{ "81.13.12-123.48", "13 is not a month (BIS numbers add 20 or 40)" },
	{ "85.33.30-033.16", "33 is not a month" },
	{ "85.07.32-033.65", "32 is not a day" },
	/* phone numbers */
	{ "+32 0470 12 34 56", "the leading 0 of the Belgian number is dropped" },
	{ "+32 470 12 34", "+32 is followed by 8 digits, or 9 for a mobile" },
	{ "+31 20 555", "+31 is followed by 9 digits" },
	{ "+33 1 23", "is not a French phone number" },
	{ "+1 23", "an international number has 8 to 15 digits" },
	{ "+32 470 12 34 5x", "only digits, spaces and . - / ( ) may follow" },
	{ "0570 12 34 56", "a mobile number has 10 digits starting 04" },
	{ "0470 12 34", "8 digits: a national register number has 11" },
	{ "123456", "a serial number of digits only goes in the \"serial\" field" },
	{ "00 0", "a country code follows + or 00" },
	/* dates */
	{ "Peeters 12/13/1981", "\"12/13/1981\" is not a date: there is no month 13" },
	{ "Peeters 31/02/1981", "February 1981 has 28 days" },
	{ "Peeters 29/02/1981", "February 1981 has 28 days" },
	{ "Peeters 12/03/2999", "it lies in the future" },
	{ "Peeters 12/03/1850", "before 1900" },
	{ "Peeters 1850", "\"1850\" is not a plausible birth year" },
	{ "Peeters 2999", "\"2999\" is not a plausible birth year" },
	{ "Jan Peeters 1981 1975", "give one birth date or year, not two" },
	{ "Peeters 01/02/1981 02/02/1981", "give one birth date or year, not two" },
	/* names */
	{ "1984", "could not read \"1984\": a birth year alone is not a search" },
	{ "12/03/1981", "a birth date alone is not a search" },
	{ "J.", "an initial alone is not a search" },
	{ "J. K.", "an initial alone is not a search" },
	{ "Jan P3ters!", "\"P3ters!\" is neither part of a name nor a birth date" },
	{ "a b c d e f g h i j k l m", "more than 12 words is not a name" },
	{ "#", "could not read \"#\" as a name, number plate" },
	{ "Jan Peeters Kerkstraat 12 2000 Antwerpen Belgie 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
	  "19 20 21 22 23 24 25 26 27 28 29 30", "more than 32 words" },
};

static void test_refused(void **state)
{
	struct query_request r;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < N(refused); i++) {
		int rc = classify(refused[i].text, &r, &err);

		if (rc != FOCAL_E_INVAL) {
			char got[1024];

			describe(&r, got, sizeof(got));
			fail_msg("\"%s\": accepted as %s", refused[i].text, got);
		}
		assert_int_equal(err.code, FOCAL_E_INVAL);
		assert_int_equal(r.ninterp, 0); /* nothing left behind */
		if (strstr(err.msg, refused[i].msg) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", refused[i].text, err.msg,
				 refused[i].msg);
		release(&r);
	}
}

static void test_canonicalisers(void **state)
{
	char nn[12], e164[17], national[17], date[11], id[25];
	struct focal_err err;

	(void)state;
	assert_int_equal(classify_national_number("85.07.30-033.28", nn, &err), 0);
	assert_string_equal(nn, "85073003328");
	assert_int_equal(classify_national_number("85/07/30/033/28", nn, &err), 0);
	assert_int_equal(classify_national_number("8507300332", nn, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "it needs 11 digits"));
	assert_string_equal(nn, "");
	assert_int_equal(classify_national_number("85O73003328", nn, &err), FOCAL_E_INVAL);

	assert_int_equal(classify_phone("0470 12 34 56", e164, national, &err), 0);
	assert_string_equal(e164, "+32470123456");
	assert_string_equal(national, "0470123456");
	assert_int_equal(classify_phone("+31 20 555 0100", e164, national, &err), 0);
	assert_string_equal(national, "");
	assert_int_equal(classify_phone("+32 2 511 11 11", e164, NULL, &err), 0);
	assert_string_equal(e164, "+3225111111");
	assert_int_equal(classify_phone("470 12 34 56", e164, national, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "write +32…, 0032… or 0…"));
	assert_int_equal(classify_phone("+1234567890123456", e164, national, &err), FOCAL_E_INVAL);

	assert_int_equal(classify_date("30/07/1985", date, &err), 0);
	assert_string_equal(date, "1985-07-30");
	assert_int_equal(classify_date("1985-07-30", date, &err), 0);
	assert_string_equal(date, "1985-07-30");
	assert_int_equal(classify_date("29.02.2000", date, &err), 0); /* leap year */
	assert_string_equal(date, "2000-02-29");
	assert_int_equal(classify_date("29.02.1900", date, &err), FOCAL_E_INVAL); /* not one */
	assert_int_equal(classify_date("30-07/1985", date, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "write dd/mm/yyyy or yyyy-mm-dd"));
	assert_int_equal(classify_date("1985-7-30x", date, &err), FOCAL_E_INVAL);

	assert_int_equal(classify_identifier("afkx 417", id, &err), 0);
	assert_string_equal(id, "AFKX417");
	assert_int_equal(classify_identifier("abcdefghijklmnopqrstuvwxy", id, &err), FOCAL_E_INVAL);
	assert_int_equal(classify_identifier(" - ", id, &err), FOCAL_E_INVAL);
}

static void test_given_names(void **state)
{
	size_t n;
	const char *const *names = classify_given_names(&n);
	char key[NORMALIZE_MAX];

	(void)state;
	assert_true(n > 500);
	for (size_t i = 0; i < n; i++) {
		/* sorted (bsearch), and each entry is its own key */
		if (i > 0 && strcmp(names[i - 1], names[i]) >= 0)
			fail_msg("given names not sorted at \"%s\", \"%s\"", names[i - 1], names[i]);
		assert_true(normalize_key(names[i], key, sizeof(key)) > 0);
		if (strcmp(key, names[i]) != 0)
			fail_msg("\"%s\" is not a normalize_key() key (\"%s\")", names[i], key);
		assert_true(classify_is_given_name(names[i]));
	}
	assert_true(classify_is_given_name("Jan"));
	assert_true(classify_is_given_name("ÉMILIE"));
	assert_true(classify_is_given_name("Zoë"));
	assert_true(classify_is_given_name("Jean-Pierre"));
	assert_true(classify_is_given_name("Marie-Lotte")); /* every part known */
	assert_true(classify_is_given_name("Paweł"));
	assert_true(classify_is_given_name("Mohammed"));
	assert_false(classify_is_given_name("Peeters"));
	assert_false(classify_is_given_name("Dubois-Lambert"));
	assert_false(classify_is_given_name(""));
}

/* A text with many plausible readings still yields at most the cap. */
static void test_cap(void **state)
{
	struct query_request r;
	struct focal_err err;

	(void)state;
	assert_int_equal(classify("Ben Qwerty", &r, &err), 0);
	assert_true(r.ninterp >= 2 && r.ninterp <= CLASSIFY_MAX_INTERP);
	release(&r);
	/* the caller must start with an empty request */
	memset(&r, 0, sizeof(r));
	r.ninterp = 1;
	assert_int_equal(classify_text(&r, "Jan", &err), FOCAL_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readings),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_canonicalisers),
		cmocka_unit_test(test_given_names),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
