/*
 * resolve: entity resolution — the records of every source about one real
 * person, vehicle, firearm, address or report become one entity; different
 * ones that merely share a name do not.
 *
 * The briefing (briefing.c) gives the records of a finished search to
 * resolve_records() and shows the result: entities with, per fact, the
 * sources that gave it and whether sources disagree; possible matches; what
 * each alert concerns.  The rules (docs/briefing.md has the reasoning):
 *
 *   merge     the same strong identifier, compared with
 *             normalize_identifier(): person national_number; vehicle plate
 *             or vin; firearm serial; report reference; an address's street,
 *             number, box and postcode (or city);
 *             or, for persons, names that match (normalize_names_match() on
 *             given + family name: case, diacritics, hyphens, word order,
 *             phonetic spelling variants) AND equal birth dates (parsed:
 *             yyyy-mm-dd, dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, yyyymmdd);
 *             or an initial ("J." for "Jan", same family name) AND equal
 *             birth dates;
 *             or given names of which one side has only part ("Tim" of
 *             "Tim Johan", compared word by word phonetically; same family
 *             name) AND equal birth dates, when no other person with the
 *             fuller names fits as well.
 *   never     merging is transitive (union-find), but a union that would put
 *             two different identifiers of one kind (two national numbers, two
 *             plates, two VINs, two serials) or two different birth dates into
 *             one entity is refused, whatever chain of records leads to it.
 *             Unions are tried strongest first (identifiers, then name + birth
 *             date, then initial + birth date, then part of the given names +
 *             birth date), each in record order (source
 *             order, then row order), so the outcome is deterministic and an
 *             identifier always beats a name.
 *   possible  names (or an initial, or part of the given names) that match
 *             where a birth date is missing on one side and no identifier
 *             decides; part of the given names that fits two people; and records with the same
 *             identifier that could not merge because a birth date or another
 *             identifier differs.  These stay separate entities, paired as
 *             possible matches with the reason.
 *   related   a vehicle's owner_national_number, a firearm's
 *             holder_national_number, a report's involved_national_number
 *             link that entity and the person entity with that number (both
 *             directions).
 *   concerns  an alert concerns the person with its subject_national_number,
 *             the vehicle with its plate, the firearm with its serial
 *             (certain); when no person has its national number: the person
 *             whose name matches subject_name with an equal subject_birth_date
 *             (certain, unless two entities share name and birth date), and
 *             persons whose name matches while a birth date is missing, or
 *             whose family name is the whole subject_name (possibly); never a
 *             namesake with another birth date or national number.
 *
 * Cost: keys are computed once per record; candidates are found by sorting on
 * keys (O(n log n)), pairs are only compared inside groups of equal keys
 * (bounded).  Every allocation of one run is in a handful of arrays and one
 * arena, all freed by resolve_free().
 */
#ifndef FOCAL_RESOLVE_H
#define FOCAL_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "sources/record.h"

#define RESOLVE_NONE ((size_t)-1)
/* Possible-match pairs kept per search; more are counted in possible_dropped. */
#define RESOLVE_MAX_POSSIBLE 256
/* Entities one alert may possibly (not certainly) concern. */
#define RESOLVE_MAX_POSSIBLY_CONCERNS 16

enum resolve_relation {
	RESOLVE_OWNS = 0,    /* person → vehicle */
	RESOLVE_OWNED_BY,    /* vehicle → person */
	RESOLVE_HOLDS,       /* person → firearm */
	RESOLVE_HELD_BY,     /* firearm → person */
	RESOLVE_INVOLVED_IN, /* person → report */
	RESOLVE_INVOLVES,    /* report → person */
};
/* "owns", "owned_by", "holds", "held_by", "involved_in", "involves". */
const char *resolve_relation_name(enum resolve_relation r);

enum resolve_why {
	RESOLVE_NAME_NO_BIRTH_DATE = 0, /* names match; no birth date on one side */
	RESOLVE_INITIAL_NO_BIRTH_DATE,  /* an initial and the family name match; no birth date */
	RESOLVE_SAME_ID_OTHER_BIRTH_DATE, /* same identifier, different birth dates */
	RESOLVE_SAME_ID_OTHER_ID,       /* one identifier agrees, another of the same kind differs */
	RESOLVE_GIVEN_NAMES_PART,       /* one side has only part of the other's given names
					 * and no birth date, or fits two people */
};
/* "name_no_birth_date", "initial_no_birth_date", "same_id_other_birth_date",
 * "same_id_other_id", "given_names_part". */
const char *resolve_why_name(enum resolve_why w);

/* One value of one field of an entity, with every source that gave it. */
struct resolve_fact {
	const char *field;  /* static canonical name */
	const char *value;  /* as the first source gave it; a parsed date as yyyy-mm-dd */
	size_t src, nsrc;   /* res->fact_sources[src .. src + nsrc) */
	bool conflict;      /* the field has values that disagree (this one among them) */
};

struct resolve_entity {
	enum entity_kind kind;  /* person, vehicle, firearm, address or report */
	size_t rec, nrec;       /* res->members[rec .. rec + nrec): record indices */
	size_t fact, nfact;     /* res->facts[...]: canonical field order, a field's values adjacent */
	size_t src, nsrc;       /* res->entity_sources[...]: distinct sources, first seen first */
	int birth_date;         /* persons: yyyymmdd, 0 when unknown */
	bool candidate;         /* the weaker side of some possible match: listed with those */
};

/* Entity `from` is related to entity `to` (both directions are listed). */
struct resolve_link {
	size_t from, to;
	enum resolve_relation rel;
};

/* Alert record `alert` concerns entity `entity`, certainly or possibly. */
struct resolve_concern {
	size_t alert, entity;
	bool certain;
};

/* `candidate` may be the same as `entity` (not merged; see why). */
struct resolve_possible {
	size_t entity, candidate;
	enum resolve_why why;
};

struct resolve_result {
	size_t nrecords;
	size_t *entity_of;   /* per record: its entity, RESOLVE_NONE for alerts */
	size_t *members;     /* record indices grouped by entity */
	struct resolve_entity *entities; /* persons, vehicles, firearms, addresses, reports;
					  * within a kind most records first, then
					  * by first record */
	size_t nentities;
	struct resolve_fact *facts;
	size_t nfacts;
	const char **fact_sources;   /* borrowed source names */
	const char **entity_sources; /* borrowed source names */
	struct resolve_link *links;  /* sorted by from, then to */
	size_t nlinks;
	struct resolve_concern *concerns; /* sorted by alert; certain before possible */
	size_t nconcerns;
	struct resolve_possible *possible; /* sorted by entity, then candidate */
	size_t npossible;
	size_t possible_dropped; /* pairs beyond RESOLVE_MAX_POSSIBLE */
	void *arena;         /* keys and canonical dates */
};

/* Resolves n records (any kinds; alerts are only linked).  The records are
 * borrowed: *out points into them (values, source names) and must be freed
 * with resolve_free() before they are.  Returns 0, or FOCAL_E_NOMEM. */
int resolve_records(const struct record *const *recs, size_t n, struct resolve_result **out,
		    struct focal_err *err);
void resolve_free(struct resolve_result *res);

/* Whether a and b are the same answer: same source, kind and fields (names
 * and values, in order) -- one row asked for twice, say by a first-level
 * query and again through a linked hop. */
bool resolve_same_record(const struct record *a, const struct record *b);
/* Sets dup[i] for every record that is the same (resolve_same_record) as one
 * before it in another group (group[i]: which answer it came from, so that
 * equal rows within one answer stay: they are the source's own; NULL: every
 * record its own group), so a briefing shows each answered row once.  dup has
 * n elements.  O(n log n).  Returns 0, or FOCAL_E_NOMEM (dup then untouched). */
int resolve_duplicates(const struct record *const *recs, size_t n, const size_t *group,
		       bool *dup);

/* Parses a birth (or other) date: yyyy-mm-dd (optionally followed by a time),
 * yyyy/mm/dd, dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, yyyymmdd; surrounding spaces
 * allowed.  Sets *yyyymmdd and returns true for a real calendar date between
 * 1800 and 2200; false otherwise. */
bool resolve_parse_date(const char *s, int *yyyymmdd);

/* The name key persons are grouped on: the phonetic key (normalize_phonetic)
 * of given + family name with its words sorted.  Equal keys imply
 * normalize_names_match(); the converse holds but for particles read joined
 * ("Van Damme" = "Vandamme"), which resolve_records() finds through a second
 * key (the family name as one word) confirmed by normalize_names_match().
 * Either part may be NULL.  Returns the length, 0 when there is no name, or a
 * negative FOCAL_E_*. */
int resolve_name_key(const char *given, const char *family, char *out, size_t outlen);

#endif
