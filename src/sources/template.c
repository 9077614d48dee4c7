/*
 * template: compile query templates into literal parts and parameter
 * references, and render them safely per context (see template.h).
 */
#include "sources/template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_MAX_PARTS 256

static int template_push(struct template *t, size_t off, size_t len, int param,
			 struct focal_err *err)
{
	struct template_part *np;

	if (param < 0 && len == 0)
		return FOCAL_OK;
	if (t->nparts >= TEMPLATE_MAX_PARTS)
		return focal_err_set(err, FOCAL_E_LIMIT, "template has more than %d parts",
				     TEMPLATE_MAX_PARTS);
	np = realloc(t->parts, (t->nparts + 1) * sizeof(*np));
	if (np == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	t->parts = np;
	t->parts[t->nparts].off = off;
	t->parts[t->nparts].len = len;
	t->parts[t->nparts].param = param;
	t->nparts++;
	if (param >= 0)
		t->params_used |= 1u << param;
	return FOCAL_OK;
}

static int template_param(struct template *t, size_t name_off, size_t name_len, size_t col,
			  struct focal_err *err)
{
	char name[64];
	enum query_param p;
	char known[400];
	size_t off = 0;

	if (name_len == 0 || name_len >= sizeof(name))
		return focal_err_set(err, FOCAL_E_CONFIG, "bad parameter name at column %zu", col);
	memcpy(name, t->text + name_off, name_len);
	name[name_len] = '\0';
	if (query_param_parse(name, &p) != FOCAL_OK) {
		known[0] = '\0';
		for (int i = 0; i < QP__COUNT && off < sizeof(known); i++)
			off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s",
						i ? ", " : "", query_param_name((enum query_param)i));
		return focal_err_set(err, FOCAL_E_CONFIG,
				     "unknown parameter '%s' at column %zu; known: %s", name, col,
				     known);
	}
	return template_push(t, 0, 0, (int)p, err);
}

static bool is_name_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_name_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Skips a quoted run starting at s[i] == q (SQL doubles the quote to escape it). */
static size_t sql_skip_quoted(const char *s, size_t i, char q)
{
	for (i++; s[i] != '\0'; i++) {
		if (s[i] == q) {
			if (s[i + 1] == q) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return i;
}

static int template_compile_sql(struct template *t, struct focal_err *err)
{
	const char *s = t->text;
	size_t i = 0, lit = 0, j;
	int rc;

	while (s[i] != '\0') {
		if (s[i] == '\'' || s[i] == '"') {
			i = sql_skip_quoted(s, i, s[i]);
		} else if (s[i] == '-' && s[i + 1] == '-') {
			while (s[i] != '\0' && s[i] != '\n')
				i++;
		} else if (s[i] == '/' && s[i + 1] == '*') {
			const char *end = strstr(s + i + 2, "*/");
			i = end ? (size_t)(end - s) + 2 : strlen(s);
		} else if (s[i] == ':' && s[i + 1] == ':') {
			i += 2; /* PostgreSQL cast */
		} else if (s[i] == ':' && is_name_start(s[i + 1])) {
			if ((rc = template_push(t, lit, i - lit, -1, err)) != 0)
				return rc;
			for (j = i + 1; is_name_char(s[j]); j++)
				;
			if ((rc = template_param(t, i + 1, j - i - 1, i + 1, err)) != 0)
				return rc;
			i = lit = j;
		} else if (s[i] == '?' || (s[i] == '$' && isdigit((unsigned char)s[i + 1]))) {
			/* raw placeholders would bind nothing we control */
			return focal_err_set(err, FOCAL_E_CONFIG,
					     "positional placeholder '%c' at column %zu: use named "
					     "parameters such as :family_name",
					     s[i], i + 1);
		} else {
			i++;
		}
	}
	return template_push(t, lit, i - lit, -1, err);
}

static int template_compile_brace(struct template *t, struct focal_err *err)
{
	const char *s = t->text;
	size_t i = 0, lit = 0, j;
	int rc;

	while (s[i] != '\0') {
		if ((s[i] == '{' && s[i + 1] == '{') || (s[i] == '}' && s[i + 1] == '}')) {
			/* doubled brace: one literal brace */
			if ((rc = template_push(t, lit, i + 1 - lit, -1, err)) != 0)
				return rc;
			i += 2;
			lit = i;
		} else if (s[i] == '{') {
			for (j = i + 1; is_name_char(s[j]); j++)
				;
			if (s[j] != '}')
				return focal_err_set(err, FOCAL_E_CONFIG,
						     "unterminated parameter at column %zu: expected "
						     "{name}", i + 1);
			if ((rc = template_push(t, lit, i - lit, -1, err)) != 0 ||
			    (rc = template_param(t, i + 1, j - i - 1, i + 1, err)) != 0)
				return rc;
			i = lit = j + 1;
		} else if (s[i] == '}') {
			return focal_err_set(err, FOCAL_E_CONFIG,
					     "unmatched '}' at column %zu (write '}}' for a brace)",
					     i + 1);
		} else {
			i++;
		}
	}
	return template_push(t, lit, i - lit, -1, err);
}

int template_compile(const char *text, enum template_style style, struct template *out,
		     struct focal_err *err)
{
	memset(out, 0, sizeof(*out));
	out->text = strdup(text);
	if (out->text == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	if (style == TEMPLATE_SQL)
		return template_compile_sql(out, err);
	return template_compile_brace(out, err);
}

void template_free(struct template *t)
{
	if (t == NULL)
		return;
	free(t->text);
	free(t->parts);
	memset(t, 0, sizeof(*t));
}

/* A growable string; every append checks its bound. */
struct tbuf {
	char *p;
	size_t len, cap;
};

static int tbuf_add(struct tbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t ncap = (b->len + n + 1) * 2;
		char *np = realloc(b->p, ncap);

		if (np == NULL)
			return FOCAL_E_NOMEM;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return FOCAL_OK;
}

int template_sql(const struct template *t, enum template_dialect d, char **sql, int **order,
		 size_t *nparams, struct focal_err *err)
{
	struct tbuf b = { 0 };
	int number[QP__COUNT] = { 0 };
	int *ord = NULL;
	size_t n = 0;
	char ph[16];

	*sql = NULL;
	*order = NULL;
	*nparams = 0;
	ord = calloc(QP__COUNT, sizeof(*ord));
	if (ord == NULL || tbuf_add(&b, "", 0) != 0)
		goto nomem;
	for (size_t i = 0; i < t->nparts; i++) {
		const struct template_part *p = &t->parts[i];

		if (p->param < 0) {
			if (tbuf_add(&b, t->text + p->off, p->len) != 0)
				goto nomem;
			continue;
		}
		if (number[p->param] == 0) {
			ord[n++] = p->param;
			number[p->param] = (int)n;
		}
		snprintf(ph, sizeof(ph), "%c%d", d == TEMPLATE_DIALECT_PG ? '$' : '?',
			 number[p->param]);
		if (tbuf_add(&b, ph, strlen(ph)) != 0)
			goto nomem;
	}
	*sql = b.p;
	*order = ord;
	*nparams = n;
	return FOCAL_OK;
nomem:
	free(b.p);
	free(ord);
	return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
}

char *template_pct_encode(const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(value);
	char *out = malloc(n * 3 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *s = (const unsigned char *)value; *s != '\0'; s++) {
		if (isalnum(*s) || *s == '-' || *s == '.' || *s == '_' || *s == '~') {
			*o++ = (char)*s;
		} else {
			*o++ = '%';
			*o++ = hex[*s >> 4];
			*o++ = hex[*s & 15];
		}
	}
	*o = '\0';
	return out;
}

char *template_ldap_escape(const char *value)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(value);
	char *out = malloc(n * 3 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *s = (const unsigned char *)value; *s != '\0'; s++) {
		if (*s == '*' || *s == '(' || *s == ')' || *s == '\\' || *s < 0x20 || *s == 0x7f) {
			*o++ = '\\';
			*o++ = hex[*s >> 4];
			*o++ = hex[*s & 15];
		} else {
			*o++ = (char)*s;
		}
	}
	*o = '\0';
	return out;
}

static int template_render(const struct template *t, const struct query *q,
			   char *(*escape)(const char *), char **out, struct focal_err *err)
{
	struct tbuf b = { 0 };
	char *v;
	int rc;

	*out = NULL;
	if (tbuf_add(&b, "", 0) != 0)
		goto nomem;
	for (size_t i = 0; i < t->nparts; i++) {
		const struct template_part *p = &t->parts[i];

		if (p->param < 0) {
			rc = tbuf_add(&b, t->text + p->off, p->len);
		} else {
			v = escape(q->param[p->param] ? q->param[p->param] : "");
			if (v == NULL)
				goto nomem;
			rc = tbuf_add(&b, v, strlen(v));
			free(v);
		}
		if (rc != 0)
			goto nomem;
	}
	*out = b.p;
	return FOCAL_OK;
nomem:
	free(b.p);
	return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
}

int template_render_url(const struct template *t, const struct query *q, char **out,
			struct focal_err *err)
{
	return template_render(t, q, template_pct_encode, out, err);
}

int template_render_ldap(const struct template *t, const struct query *q, char **out,
			 struct focal_err *err)
{
	return template_render(t, q, template_ldap_escape, out, err);
}
