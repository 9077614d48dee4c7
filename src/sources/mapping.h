/*
 * mapping: from a source's own rows to canonical records, by configuration.
 *
 * Each source says, per canonical entity it yields, where each canonical field
 * comes from: a column name (SQL), a JSON pointer relative to the row (HTTP,
 * RFC 6901, e.g. /naam/familienaam or /aliases/0) or an LDAP attribute.  A
 * field may also be a constant ({value: wanted}), which lets a source whose
 * every row is a wanted notice say so.  An entity with `when: <from>` is only
 * produced for rows where that column/pointer/attribute is present and not
 * empty.  Example (YAML):
 *
 *   map:
 *     rows: /resultaten            # HTTP only: pointer to the array of rows
 *     person:
 *       family_name: achternaam
 *       given_name: voornaam
 *     alert:
 *       when: signalering
 *       category: signalering
 *       instruction: instructie
 *
 * The connector supplies a getter that reads one value of one row; this module
 * owns everything else, so all connectors map the same way.
 */
#ifndef FOCAL_MAPPING_H
#define FOCAL_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cfgnode.h"
#include "core/err.h"
#include "sources/record.h"

struct map_field {
	const char *target; /* static canonical field name */
	char *from;         /* column / pointer / attribute; NULL when constant */
	char *constant;     /* constant value; NULL when from is set */
};

struct map_entity {
	enum entity_kind kind;
	char *when; /* optional */
	struct map_field *fields;
	size_t nfields;
};

struct mapping {
	char *rows; /* optional JSON pointer to the rows array */
	struct map_entity *entities;
	size_t nentities;
};

enum mapping_from { MAPPING_FROM_COLUMN, MAPPING_FROM_POINTER, MAPPING_FROM_ATTRIBUTE };

/* Parses the `map` node.  `from` tells how references are checked (pointers
 * must be valid RFC 6901 syntax).  Errors carry file:line:column. */
int mapping_parse(const struct cfg_node *map, enum mapping_from from, struct mapping *out,
		  struct focal_err *err);
void mapping_free(struct mapping *m);

/* Reads one value of a row.  Returns 1 and sets val and len when present and
 * non-null (the memory stays valid until the next call on the same row), 0
 * when absent, or a negative FOCAL_E_* code. */
typedef int (*mapping_get_fn)(void *row, const char *from, const char **val, size_t *len);

/* Appends the records of one row to out.  A value from the row that is not
 * NUL-free UTF-8 is repaired (utf8text.h: U+FFFD for each bad byte), so
 * every connector's records are text.  Values longer than MAPPING_VALUE_MAX
 * bytes are cut at a UTF-8 boundary. */
int mapping_apply(const struct mapping *m, const char *source, mapping_get_fn get, void *row,
		  struct record_set *out, struct focal_err *err);

#define MAPPING_VALUE_MAX 4096

/* RFC 6901: resolves ptr in root (jansson); NULL if absent or invalid. */
struct json_t;
struct json_t *mapping_json_pointer(struct json_t *root, const char *ptr);
/* Checks pointer syntax ("" or "/a/b", escapes ~0 ~1 only). */
bool mapping_pointer_valid(const char *ptr);

#endif
