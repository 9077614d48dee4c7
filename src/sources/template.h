/*
 * template: query templates with named parameters, bound safely.
 *
 * A source's configuration says how to ask it, e.g.
 *   SQL:  SELECT * FROM gezocht WHERE rrn = :national_number
 *   URL:  https://api.example/v1/vehicles?plate={plate}
 *   LDAP: (&(objectClass=person)(sn={family_name}))
 * A template is compiled once at configuration load into literal parts and
 * parameter references.  Values are never spliced into SQL: SQL templates
 * become prepared statements with bind parameters.  URL values are
 * percent-encoded (RFC 3986 unreserved characters only pass) and LDAP filter
 * values are escaped per RFC 4515, so a value can only ever be data.
 */
#ifndef FOCAL_TEMPLATE_H
#define FOCAL_TEMPLATE_H

#include <stddef.h>

#include "core/err.h"
#include "search/query.h"

enum template_style {
	TEMPLATE_SQL,   /* :name outside quotes and comments; '::' is a cast */
	TEMPLATE_BRACE, /* {name} */
};

enum template_dialect {
	TEMPLATE_DIALECT_SQLITE, /* ?1 ?2 ... */
	TEMPLATE_DIALECT_PG,     /* $1 $2 ... */
};

struct template_part {
	size_t off, len; /* literal text[off..off+len) when param < 0 */
	int param;       /* enum query_param, or -1 for a literal */
};

struct template {
	char *text; /* owned copy of the source text */
	struct template_part *parts; /* owned */
	size_t nparts;
	unsigned params_used; /* bit i set when enum query_param i is referenced */
};

/* Compiles text.  On error the message says what is wrong and the offending
 * column within the template (1-based), e.g. "unknown parameter ':nam' at
 * column 31; known: family_name, ...".  *out must be freed with template_free
 * (also after failure). */
int template_compile(const char *text, enum template_style style, struct template *out,
		     struct focal_err *err);
void template_free(struct template *t);

/* SQL: produces the statement text with positional placeholders of the
 * dialect and, in *order (owned, *nparams entries), the query parameter bound
 * to each placeholder.  A parameter used twice gets one placeholder number. */
int template_sql(const struct template *t, enum template_dialect d, char **sql, int **order,
		 size_t *nparams, struct focal_err *err);

/* Renders with every parameter value escaped for its context.  An absent
 * parameter renders as the empty string.  *out is owned by the caller. */
int template_render_url(const struct template *t, const struct query *q, char **out,
			struct focal_err *err);
int template_render_ldap(const struct template *t, const struct query *q, char **out,
			 struct focal_err *err);

/* The escapes themselves, exposed for tests and for other modules.  Both
 * return malloc'd strings (NULL on allocation failure). */
char *template_pct_encode(const char *value);
char *template_ldap_escape(const char *value);

#endif
