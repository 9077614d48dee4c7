/*
 * fuzz_http_answer: an agency's HTTP answer is untrusted bytes.  Runs the
 * HTTP connector's answer parser (source_http_rows: jansson, map.rows, JSON
 * pointers, scalar/array formatting, row and byte limits, mapping) on the
 * input as if a source had sent it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/metrics.h"
#include "sources/breaker.h"
#include "sources/source.h"
#include "sources/source_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cfg_text[] =
	"server: {tls_cert: c.pem, tls_key: k.pem}\n"
	"sources:\n"
	"  - name: agency\n"
	"    kind: http\n"
	"    owner: fuzz\n"
	"    classification: not_sensitive\n"
	"    max_rows: 5\n"
	"    max_bytes: 4096\n"
	"    connection: {}\n"
	"    queries: {person: \"http://127.0.0.1:1/v1?q={family_name}\"}\n"
	"    map:\n"
	"      rows: /results\n"
	"      person: {family_name: /name/family, given_name: /name/0, national_number: /ids,\n"
	"               birth_date: /dob, alias: /a~1b/~0c}\n"
	"      alert: {when: /warning, category: /warning, instruction: {value: care},\n"
	"              severity: /level}\n";

static struct config *cfg;
static struct source_set *set;
static struct loop loop; /* only its address is used: nothing runs on it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source_call call;
	struct query q;
	char reason[256];

	if (cfg == NULL) {
		struct focal_err err;

		if (config_load_string("fuzz.yaml", cfg_text, strlen(cfg_text), &cfg, &err) != 0 ||
		    source_set_new(&loop, cfg, &set, &err) != 0)
			abort();
	}
	memset(&q, 0, sizeof(q));
	q.kind = QUERY_PERSON;
	source_call_init(&call, &set->rt[0], &q, NULL, NULL);
	source_http_rows(&call, (const char *)data, size, reason, sizeof(reason));
	if (call.records.n > 0 && call.rows > 5)
		abort(); /* the row limit must hold whatever the answer */
	source_call_clear(&call);
	return 0;
}
