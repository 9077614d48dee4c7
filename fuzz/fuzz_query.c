/*
 * fuzz_query: libFuzzer harness for search requests, the input every
 * authenticated client controls.
 *
 * The input is read two ways: as the JSON body of POST /v1/search (parsed
 * with the same jansson flags as http/api.c, then query_request_from_json),
 * and, when it is NUL-free text, as the free text the CLI passes to
 * query_request_from_text.  Each accepted request is then turned into the
 * briefing's JSON and every interpretation rendered through URL and LDAP
 * templates, as a search would.
 *
 * Contract checked besides the sanitizers: success means at least one
 * interpretation, each with its human reading; failure means a negative code
 * and a message, and no request.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/query.h"
#include "sources/template.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct template url_tpl, ldap_tpl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct focal_err err;

	(void)argc;
	(void)argv;
	if (template_compile("https://x.example/v1?f={family_name}&g={given_name}"
			     "&d={birth_date}&y={birth_year}&p={plate}&n={national_number}"
			     "&s={serial}&a={street}/{number}/{postcode}/{city}&t={phone}"
			     "&q={text}", TEMPLATE_BRACE, &url_tpl, &err) != 0 ||
	    template_compile("(&(sn={family_name})(givenName={given_name})"
			     "(serialNumber={national_number})(x={text}))", TEMPLATE_BRACE,
			     &ldap_tpl, &err) != 0)
		abort();
	return 0;
}

static void use_request(const struct query_request *r)
{
	struct focal_err err;
	json_t *j;
	char *s;

	if (r == NULL || r->ninterp == 0 || r->interp == NULL)
		abort();
	for (size_t i = 0; i < r->ninterp; i++) {
		const struct query *q = &r->interp[i];

		if ((unsigned)q->kind >= QUERY__COUNT || q->read_as == NULL)
			abort();
		if (template_render_url(&url_tpl, q, &s, &err) != 0)
			abort();
		free(s);
		if (template_render_ldap(&ldap_tpl, q, &s, &err) != 0)
			abort();
		free(s);
	}
	j = query_request_json(r);
	if (j == NULL)
		abort();
	s = json_dumps(j, JSON_COMPACT);
	if (s == NULL)
		abort();
	free(s);
	json_decref(j);
}

static void check(int rc, struct query_request *r, const struct focal_err *err)
{
	if (rc == 0) {
		use_request(r);
		query_request_free(r);
	} else if (rc > 0 || r != NULL || err->code != rc || err->msg[0] == '\0' ||
		   memchr(err->msg, '\0', sizeof(err->msg)) == NULL) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query_request *r = NULL;
	struct focal_err err = { 0 };
	json_error_t jerr;
	json_t *body;
	char *text;
	int rc;

	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (body != NULL) {
		rc = query_request_from_json(body, &r, &err);
		check(rc, r, &err);
		json_decref(body);
	}

	if (memchr(data, '\0', size) == NULL && (text = malloc(size + 1)) != NULL) {
		memcpy(text, data, size);
		text[size] = '\0';
		r = NULL;
		memset(&err, 0, sizeof(err));
		rc = query_request_from_text(text, &r, &err);
		check(rc, r, &err);
		free(text);
	}
	return 0;
}
