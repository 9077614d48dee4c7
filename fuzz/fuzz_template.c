/*
 * fuzz_template: libFuzzer harness for query templates.
 *
 * Templates come from the configuration, but their rendering is where values
 * typed by a client meet SQL, URLs and LDAP filters, so beyond "no crash" the
 * harness checks the property the module exists for: a value can only ever
 * be data.  The input is compiled in both styles; whatever compiles is turned
 * into SQL for both dialects and rendered as a URL and as an LDAP filter with
 * parameters set to hostile values (quotes, filter syntax, URL delimiters,
 * control bytes, invalid UTF-8, a long value, an absent one).
 *
 * Checked: parts lie inside the text and agree with params_used; the SQL has
 * one placeholder number per distinct parameter; a rendering is exactly the
 * literal parts plus the escaped values, and the escaped values add no URL
 * delimiter / LDAP filter metacharacter of their own.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/query.h"
#include "sources/template.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input beyond this is not a template anyone writes; the parser is linear. */
#define FUZZ_TEMPLATE_MAX 8192

static struct query nasty;      /* every parameter hostile except one absent */
static char long_value[5000];

static const char *const nasty_values[] = {
	"O'Brien'; DROP TABLE t; --",
	"*)(uid=*))(|(uid=*",
	"\\2a\\28\\29\\5c",
	"a b+c&d=e#f?g/h;i:j@k%00%zz",
	"\x01\x02\t\n\r\x1f\x7f",
	"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xff\xfe\xc3",
	"{family_name}:family_name$1?1",
	"..%2f../../etc/passwd",
	"",
	"\"double\" `back` 'single'",
	"~-._ABCxyz019",
	NULL, /* absent: renders as "" */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t nv = sizeof(nasty_values) / sizeof(nasty_values[0]);

	(void)argc;
	(void)argv;
	memset(long_value, '(', sizeof(long_value) - 1);
	for (int p = 0; p < QP__COUNT; p++) {
		const char *v = p == QP_TEXT ? long_value : nasty_values[(size_t)p % nv];

		nasty.param[p] = v ? strdup(v) : NULL;
		if (v != NULL && nasty.param[p] == NULL)
			abort();
	}
	return 0;
}

static void check_parts(const struct template *t)
{
	size_t tlen = strlen(t->text);
	unsigned used = 0;

	for (size_t i = 0; i < t->nparts; i++) {
		const struct template_part *p = &t->parts[i];

		if (p->param >= QP__COUNT)
			abort();
		if (p->param >= 0)
			used |= 1u << p->param;
		else if (p->off > tlen || p->len > tlen - p->off)
			abort();
	}
	if (used != t->params_used)
		abort();
}

static void check_sql(const struct template *t, enum template_dialect d)
{
	struct focal_err err;
	char *sql = NULL;
	int *order = NULL;
	size_t n = 0;
	unsigned seen = 0;

	if (template_sql(t, d, &sql, &order, &n, &err) != 0)
		abort(); /* only allocation can fail */
	if (sql == NULL || n > QP__COUNT || (n > 0 && order == NULL))
		abort();
	for (size_t i = 0; i < n; i++) {
		if (order[i] < 0 || order[i] >= QP__COUNT || (seen & (1u << order[i])))
			abort();
		seen |= 1u << order[i];
	}
	if (seen != t->params_used)
		abort();
	free(sql);
	free(order);
}

/* Bytes an escaped value must never contribute in the given context. */
static bool is_meta(bool url, unsigned char c)
{
	if (url) /* percent-encoding leaves only unreserved characters and '%' */
		return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			 c == '~' || c == '%');
	return c == '(' || c == ')' || c == '*' || c < 0x20 || c == 0x7f;
}

static void check_render(const struct template *t, bool url)
{
	struct focal_err err;
	char *out = NULL, *esc;
	size_t off = 0;

	if ((url ? template_render_url(t, &nasty, &out, &err)
		 : template_render_ldap(t, &nasty, &out, &err)) != 0 || out == NULL)
		abort();
	/* walk the output against the parts: literals verbatim, values escaped */
	for (size_t i = 0; i < t->nparts; i++) {
		const struct template_part *p = &t->parts[i];

		if (p->param < 0) {
			if (strncmp(out + off, t->text + p->off, p->len) != 0)
				abort();
			off += p->len;
			continue;
		}
		esc = url ? template_pct_encode(nasty.param[p->param] ? nasty.param[p->param] : "")
			  : template_ldap_escape(nasty.param[p->param] ? nasty.param[p->param]
								       : "");
		if (esc == NULL)
			abort();
		if (strncmp(out + off, esc, strlen(esc)) != 0)
			abort();
		for (const char *c = esc; *c != '\0'; c++)
			if (is_meta(url, (unsigned char)*c))
				abort(); /* a value escaped into syntax */
		off += strlen(esc);
		free(esc);
	}
	if (out[off] != '\0')
		abort();
	free(out);
}

static void run(const char *text, enum template_style style)
{
	struct template t;
	struct focal_err err = { 0 };
	int rc = template_compile(text, style, &t, &err);

	if (rc == 0) {
		if (t.text == NULL || strcmp(t.text, text) != 0)
			abort();
		check_parts(&t);
		check_sql(&t, TEMPLATE_DIALECT_SQLITE);
		check_sql(&t, TEMPLATE_DIALECT_PG);
		check_render(&t, true);
		check_render(&t, false);
	} else if (rc > 0 || err.code != rc || err.msg[0] == '\0' ||
		   memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		abort();
	}
	template_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size > FUZZ_TEMPLATE_MAX)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* a template is a C string: an embedded NUL ends it */
	run(text, TEMPLATE_SQL);
	run(text, TEMPLATE_BRACE);
	free(text);
	return 0;
}
