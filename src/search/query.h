/*
 * query: what an officer asked, as one or more typed interpretations.
 *
 * A request carries free text ("Jan Peeters 12/03/1981", "1-ABC-123") and/or
 * explicit fields.  It is read as one or more interpretations, each of one
 * query kind with named parameters; sources answer query kinds, and their
 * templates refer to the parameters by name (":family_name", "{plate}").
 * The parameter list below is the single vocabulary shared by the classifier,
 * the configuration validator and the connectors.
 */
#ifndef FOCAL_QUERY_H
#define FOCAL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "core/err.h"

enum query_kind {
	QUERY_PERSON = 0,
	QUERY_PLATE,
	QUERY_NATIONAL_NUMBER,
	QUERY_SERIAL,
	QUERY_ADDRESS,
	QUERY_PHONE,
	QUERY__COUNT
};

enum query_param {
	QP_FAMILY_NAME = 0,
	QP_GIVEN_NAME,
	QP_BIRTH_DATE,  /* ISO yyyy-mm-dd */
	QP_BIRTH_YEAR,  /* yyyy */
	QP_PLATE,       /* canonical: upper case, no separators */
	QP_NATIONAL_NUMBER, /* 11 digits */
	QP_SERIAL,
	QP_STREET,
	QP_NUMBER,
	QP_POSTCODE,
	QP_CITY,
	QP_PHONE,       /* E.164 */
	QP_TEXT,        /* the free text as typed */
	/* Derived, never given by a client: */
	QP_FAMILY_KEY,  /* normalize_key(family_name): "emilie dubois lambert" style */
	QP_GIVEN_KEY,   /* normalize_key(given_name) */
	QP_PHONE_NATIONAL, /* Belgian national form of a +32 phone: "0470123456" */
	QP__COUNT
};

const char *query_kind_name(enum query_kind k);
int query_kind_parse(const char *name, enum query_kind *out);
const char *query_param_name(enum query_param p);
int query_param_parse(const char *name, enum query_param *out);

/* One interpretation: a kind and its parameters (NULL = absent). */
struct query {
	enum query_kind kind;
	char *param[QP__COUNT]; /* owned */
	char *read_as;          /* owned: human text of how the query was read */
};

/* A whole search request. */
struct query_request {
	char *text;     /* owned; may be NULL when only fields were given */
	char *purpose;  /* owned; may be NULL */
	char *case_ref; /* owned; may be NULL */
	char *justification; /* owned; may be NULL: free text asked for by policy prompts */
	bool with_records;   /* "records": true: the briefing carries its records array */
	struct query *interp; /* owned array */
	size_t ninterp;
};

/* Limits on what a client may send. */
#define QUERY_TEXT_MAX 256
#define QUERY_FIELD_MAX 128

/* Appends an empty interpretation of kind k (NULL when out of memory). */
struct query *query_request_add(struct query_request *r, enum query_kind k);
/* Sets parameter p to a copy of v (replacing any value). */
int query_set(struct query *q, enum query_param p, const char *v);
/* Frees what q owns and zeroes it. */
void query_clear(struct query *q);

/* Parses a JSON request body:
 *   {"q": "free text", "fields": {"family_name": "...", ...},
 *    "kind": "person", "purpose": "...", "case_ref": "...", "justification": "...",
 *    "records": true}
 * Unknown members, wrong types, over-long values and an empty query are
 * errors (FOCAL_E_INVAL) whose message names the member.  Free text is read by
 * classify_text (classify.h); explicit fields are taken as given, except that
 * national_number, phone and birth_date are put in their canonical forms (and
 * a bad one is an error naming the field).  "records" (a boolean, default
 * false) asks for the briefing's records array (tools; the officer's views
 * need only entities and alerts).  Every
 * interpretation then gets QP_TEXT and the derived keys.  *out is owned by the
 * caller (query_request_free). */
int query_request_from_json(const json_t *body, struct query_request **out,
			    struct focal_err *err);
/* Parses free text only (the CLI and tests use this). */
int query_request_from_text(const char *text, struct query_request **out,
			    struct focal_err *err);
void query_request_free(struct query_request *r);

/* Describes the request's interpretations as JSON (for the briefing). */
json_t *query_request_json(const struct query_request *r);

#endif
