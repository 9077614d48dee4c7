/*
 * record: canonical records and the schema of canonical fields (see record.h).
 */
#include "sources/record.h"

#include <stdlib.h>
#include <string.h>

static const char *const person_fields[] = {
	"national_number", "family_name", "given_name", "birth_date", "birth_place", "gender",
	"nationality", "address", "phone", "alias", NULL
};
static const char *const vehicle_fields[] = {
	"plate", "vin", "make", "model", "colour", "year", "status", "owner_national_number",
	"owner_name", NULL
};
static const char *const firearm_fields[] = {
	"serial", "make", "model", "category", "calibre", "status", "holder_national_number",
	"holder_name", NULL
};
static const char *const address_fields[] = {
	"street", "number", "box", "postcode", "city", "country", "note", NULL
};
static const char *const report_fields[] = {
	"reference", "date", "type", "summary", "location", "unit", "involved_national_number",
	"involved_name", NULL
};
static const char *const alert_fields[] = {
	"category", "severity", "instruction", "reason", "reference", "valid_until",
	"subject_national_number", "subject_name", "subject_birth_date", "plate", "serial",
	"address", "issued_by", NULL
};

static const struct {
	const char *name;
	const char *const *fields;
} entity_table[ENTITY__COUNT] = {
	[ENTITY_PERSON] = { "person", person_fields },
	[ENTITY_VEHICLE] = { "vehicle", vehicle_fields },
	[ENTITY_FIREARM] = { "firearm", firearm_fields },
	[ENTITY_ADDRESS] = { "address", address_fields },
	[ENTITY_REPORT] = { "report", report_fields },
	[ENTITY_ALERT] = { "alert", alert_fields },
};

const char *entity_kind_name(enum entity_kind k)
{
	return (unsigned)k < ENTITY__COUNT ? entity_table[k].name : "unknown";
}

int entity_kind_parse(const char *name, enum entity_kind *out)
{
	for (int k = 0; k < ENTITY__COUNT; k++) {
		if (strcmp(entity_table[k].name, name) == 0) {
			*out = (enum entity_kind)k;
			return FOCAL_OK;
		}
	}
	return FOCAL_E_INVAL;
}

const char *const *entity_fields(enum entity_kind k)
{
	return (unsigned)k < ENTITY__COUNT ? entity_table[k].fields : NULL;
}

const char *entity_field_lookup(enum entity_kind k, const char *field)
{
	const char *const *f = entity_fields(k);

	for (; f != NULL && *f != NULL; f++)
		if (strcmp(*f, field) == 0)
			return *f;
	return NULL;
}

int entity_field_index(enum entity_kind k, const char *name)
{
	const char *const *f = entity_fields(k);

	for (int i = 0; f != NULL && f[i] != NULL; i++)
		if (f[i] == name)
			return i;
	return -1;
}

void record_set_init(struct record_set *s)
{
	memset(s, 0, sizeof(*s));
}

void record_set_clear(struct record_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->items[i].nfields; j++)
			free(s->items[i].fields[j].value);
		free(s->items[i].fields);
	}
	free(s->items);
	record_set_init(s);
}

int record_set_add(struct record_set *s, enum entity_kind k, const char *source,
		   struct record **out)
{
	struct record *r;

	*out = NULL;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct record *n = realloc(s->items, ncap * sizeof(*n));

		if (n == NULL)
			return FOCAL_E_NOMEM;
		s->items = n;
		s->cap = ncap;
	}
	r = &s->items[s->n++];
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->source = source;
	*out = r;
	return FOCAL_OK;
}

int record_add_field(struct record_set *s, struct record *r, const char *name, const char *value,
		     size_t len)
{
	struct record_field *nf;
	char *copy;

	copy = malloc(len + 1);
	if (copy == NULL)
		return FOCAL_E_NOMEM;
	memcpy(copy, value, len);
	copy[len] = '\0';
	/* the array's capacity is implied by nfields: 4, then powers of two
	 * (a realloc per field was a tenth of mapping a row).  Code that
	 * shrinks nfields (policy redaction) only makes the implied capacity
	 * smaller than the real one, which is safe. */
	if (r->nfields == 0 || (r->nfields >= 4 && (r->nfields & (r->nfields - 1)) == 0)) {
		size_t cap = r->nfields == 0 ? 4 : 2 * r->nfields;

		nf = realloc(r->fields, cap * sizeof(*nf));
		if (nf == NULL) {
			free(copy);
			return FOCAL_E_NOMEM;
		}
		r->fields = nf;
	}
	r->fields[r->nfields].name = name;
	r->fields[r->nfields].value = copy;
	r->nfields++;
	s->bytes += len;
	return FOCAL_OK;
}

int record_set_move(struct record_set *dst, struct record_set *src)
{
	struct record *n;

	if (src->n == 0)
		return FOCAL_OK;
	if (dst->items == NULL) { /* dst holds nothing: take src's array whole */
		*dst = *src;
		record_set_init(src);
		return FOCAL_OK;
	}
	if (dst->n + src->n > dst->cap) {
		size_t ncap = dst->n + src->n;

		n = realloc(dst->items, ncap * sizeof(*n));
		if (n == NULL)
			return FOCAL_E_NOMEM;
		dst->items = n;
		dst->cap = ncap;
	}
	memcpy(dst->items + dst->n, src->items, src->n * sizeof(*n));
	dst->n += src->n;
	dst->bytes += src->bytes;
	free(src->items);
	record_set_init(src);
	return FOCAL_OK;
}

const char *record_get(const struct record *r, const char *field)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (record_field_eq(r->fields[i].name, field))
			return r->fields[i].value;
	return NULL;
}
