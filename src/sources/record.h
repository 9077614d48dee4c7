/*
 * record: the canonical record model every source's answer is mapped into.
 *
 * Back-end agencies each have their own schema (columns in Dutch or French,
 * nested JSON, LDAP attributes); the mapping turns every row into one or more
 * canonical records: Person, Vehicle, Firearm, Address, Report, Alert, each a
 * list of (canonical field, text value) with the source it came from.  The
 * schema table below is the single list of canonical fields: configuration is
 * validated against it, and the briefing is built from it.
 */
#ifndef FOCAL_RECORD_H
#define FOCAL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/err.h"

enum entity_kind {
	ENTITY_PERSON = 0,
	ENTITY_VEHICLE,
	ENTITY_FIREARM,
	ENTITY_ADDRESS,
	ENTITY_REPORT,
	ENTITY_ALERT,
	ENTITY__COUNT
};

/* "person", "vehicle", ... */
const char *entity_kind_name(enum entity_kind k);
/* Returns 0 and sets *out, or FOCAL_E_INVAL for an unknown name. */
int entity_kind_parse(const char *name, enum entity_kind *out);
/* The canonical field names of an entity kind (NULL-terminated, static). */
const char *const *entity_fields(enum entity_kind k);
/* The static canonical name equal to `field` for kind k, or NULL if k has no such field. */
const char *entity_field_lookup(enum entity_kind k, const char *field);
/* The index in entity_fields(k) of name when it is one of those static
 * pointers (as every record_field.name should be), by pointer alone; -1
 * otherwise, also for an equal string stored elsewhere: the caller then
 * compares the text. */
int entity_field_index(enum entity_kind k, const char *name);

struct record_field {
	const char *name; /* static canonical name from entity_fields() */
	char *value;      /* owned, NUL-terminated UTF-8 */
};

struct record {
	enum entity_kind kind;
	const char *source; /* borrowed source name; valid while the search holds its config */
	size_t nfields;
	struct record_field *fields; /* owned */
};

/* Records of one source answer, with the byte total for limits. */
struct record_set {
	struct record *items; /* owned array */
	size_t n, cap;
	size_t bytes;         /* sum of value lengths, for memory accounting */
};

void record_set_init(struct record_set *s);
/* Frees every record and the array; the set is empty and reusable afterwards. */
void record_set_clear(struct record_set *s);
/* Appends an empty record of kind k and returns it through *out (owned by s). */
int record_set_add(struct record_set *s, enum entity_kind k, const char *source,
		   struct record **out);
/* Appends field (canonical static name) = copy of value[0..len) to r; s accounts bytes. */
int record_add_field(struct record_set *s, struct record *r, const char *name, const char *value,
		     size_t len);
/* Moves all records of src to the end of dst; src ends empty. */
int record_set_move(struct record_set *dst, struct record_set *src);
/* The value of a field, or NULL if the record does not have it.  field may be
 * any string; a canonical pointer (entity_fields()) is found fastest. */
const char *record_get(const struct record *r, const char *field);

/* Whether two field names are the same name.  Field names are nearly always
 * the same static canonical pointers, so equal names are usually one
 * pointer, and unequal ones usually differ in their first byte: strcmp (a
 * call, a quarter of the briefing's string compares) only when neither
 * settles it. */
static inline bool record_field_eq(const char *a, const char *b)
{
	return a == b || (a[0] == b[0] && strcmp(a, b) == 0);
}

#endif
