/*
 * test_render: the CLI's terminal briefing (cli/render.h).  A briefing
 * without alerts says "No warnings." only when every source that could answer
 * was searched and answered; when the policy kept sources out, a call failed
 * or sources were not asked, the line says so (docs/briefing.md), so that an
 * officer never reads silence as "nothing known".  Control characters from a
 * source never reach the terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/render.h"

/* Renders the briefing given as JSON text, without colour; caller frees. */
static char *render(const char *json)
{
	json_error_t jerr;
	json_t *b = json_loads(json, 0, &jerr);
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	assert_non_null(b);
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	render_briefing(b, out, false);
	fclose(out);
	json_decref(b);
	return buf;
}

static void test_all_searched_says_no_warnings(void **state)
{
	char *s = render("{\"alerts\": [], \"sources\": [{\"name\": \"registry\", \"status\": \"ok\"}],"
			 "\"summary\": {\"sources_asked\": 1, \"calls_ok\": 1, \"calls_failed\": 0,"
			 "\"sources_not_searched\": 0, \"not_searched_reason\": \"they do not answer "
			 "this kind of query\"}, \"policy\": {\"denied\": []}}");

	(void)state;
	assert_non_null(strstr(s, "No warnings.\n"));
	assert_null(strstr(s, "from the sources searched"));
	free(s);
}

static void test_denied_for_want_of_purpose(void **state)
{
	char *s = render("{\"alerts\": [], \"sources\": [],"
			 "\"summary\": {\"sources_asked\": 2, \"calls_failed\": 0, \"sources_not_searched\": 0,"
			 "\"not_searched_reason\": \"they do not answer this kind of query\"},"
			 "\"policy\": {\"denied\": [{\"source_count\": 3, \"reason\": \"needs_purpose\","
			 "\"required\": [\"purpose\", \"case_ref\"]}, {\"source_count\": 1, \"reason\": "
			 "\"clearance\"}]}}");

	(void)state;
	assert_null(strstr(s, "No warnings."));
	assert_non_null(strstr(s, "No warnings from the sources searched — 3 sources not searched: "
				  "purpose and case reference needed; 1 source not searched: above "
				  "your clearance.\n"));
	free(s);
}

static void test_failed_and_not_asked(void **state)
{
	char *s = render("{\"alerts\": [], \"sources\": [],"
			 "\"summary\": {\"calls_failed\": 1, \"sources_not_searched\": 4,"
			 "\"not_searched_reason\": \"they do not answer this kind of query\"},"
			 "\"policy\": {\"denied\": [{\"source_count\": 2, \"reason\": \"internal\\u001b[2J\"}]}}");

	(void)state;
	assert_non_null(strstr(s, "No warnings from the sources searched — 2 sources not searched: "
				  "internal?[2J; 1 source answer failed; 4 sources not searched: they do "
				  "not answer this kind of query.\n"));
	assert_null(strchr(s, '\033'));
	free(s);
}

static void test_alerts_unchanged(void **state)
{
	char *s = render("{\"alerts\": [{\"rank\": \"armed_dangerous\", \"source\": \"wanted\","
			 "\"fields\": {\"category\": \"armed\", \"instruction\": \"Call backup\"}}],"
			 "\"sources\": [], \"summary\": {\"sources_not_searched\": 3},"
			 "\"policy\": {\"denied\": [{\"source_count\": 3, \"reason\": \"needs_purpose\"}]}}");

	(void)state;
	assert_non_null(strstr(s, "ARMED / DANGEROUS"));
	assert_null(strstr(s, "No warnings"));
	assert_non_null(strstr(s, "3 sources not searched: needs_purpose"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_searched_says_no_warnings),
		cmocka_unit_test(test_denied_for_want_of_purpose),
		cmocka_unit_test(test_failed_and_not_asked),
		cmocka_unit_test(test_alerts_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
