/*
 * mapping: source rows to canonical records (see mapping.h).
 */
#include "sources/mapping.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sources/utf8text.h"

bool mapping_pointer_valid(const char *ptr)
{
	if (ptr[0] == '\0')
		return true;
	if (ptr[0] != '/')
		return false;
	for (const char *p = ptr; *p != '\0'; p++)
		if (*p == '~' && p[1] != '0' && p[1] != '1')
			return false;
	return true;
}

json_t *mapping_json_pointer(json_t *root, const char *ptr)
{
	char token[256];
	const char *p = ptr;
	size_t n;

	if (root == NULL || !mapping_pointer_valid(ptr))
		return NULL;
	while (*p == '/' && root != NULL) {
		p++;
		n = 0;
		/* unescape one reference token: ~1 is '/', ~0 is '~' */
		for (; *p != '\0' && *p != '/'; p++) {
			char c = *p;

			if (c == '~') {
				c = p[1] == '1' ? '/' : '~';
				p++;
			}
			if (n + 1 >= sizeof(token))
				return NULL;
			token[n++] = c;
		}
		token[n] = '\0';
		if (json_is_object(root)) {
			root = json_object_get(root, token);
		} else if (json_is_array(root)) {
			char *end;
			unsigned long idx;

			if (n == 0 || (n > 1 && token[0] == '0'))
				return NULL;
			/* RFC 6901: digits only (strtoul alone would take "+1", " 1", "-0") */
			for (size_t i = 0; i < n; i++)
				if (token[i] < '0' || token[i] > '9')
					return NULL;
			idx = strtoul(token, &end, 10);
			if (*end != '\0')
				return NULL;
			root = json_array_get(root, idx);
		} else {
			return NULL;
		}
	}
	return root;
}

static int mapping_check_ref(const struct cfg_node *n, enum mapping_from from, const char *ref,
			     struct focal_err *err)
{
	if (ref[0] == '\0')
		return cfg_error(n, err, "empty reference");
	if (from == MAPPING_FROM_POINTER && !mapping_pointer_valid(ref))
		return cfg_error(n, err,
				 "\"%s\" is not a JSON pointer (RFC 6901): expected \"/member/...\"",
				 ref);
	return FOCAL_OK;
}

static int mapping_parse_field(const struct cfg_node *k, const struct cfg_node *v,
			       enum entity_kind kind, enum mapping_from from,
			       struct map_entity *e, struct focal_err *err)
{
	static const char *const const_keys[] = { "value", NULL };
	const char *name = cfg_scalar(k);
	const char *canon = name ? entity_field_lookup(kind, name) : NULL;
	struct map_field *f, *nf;
	struct cfg_node cv;
	char list[600];
	size_t off = 0;
	int rc;

	if (canon == NULL) {
		const char *const *fs = entity_fields(kind);

		list[0] = '\0';
		for (size_t i = 0; fs[i] != NULL && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						i ? ", " : "", fs[i]);
		return cfg_error(k, err, "%s has no field '%s'; canonical fields: %s, when",
				 entity_kind_name(kind), name ? name : "?", list);
	}
	nf = realloc(e->fields, (e->nfields + 1) * sizeof(*nf));
	if (nf == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	e->fields = nf;
	f = &e->fields[e->nfields++];
	memset(f, 0, sizeof(*f));
	f->target = canon;
	if (cfg_is_map(v)) {
		if ((rc = cfg_check_keys(v, const_keys, err)) != 0)
			return rc;
		if (!cfg_map_get(v, "value", &cv))
			return cfg_error(v, err, "a constant is written {value: text}");
		return cfg_node_string(&cv, "value", &f->constant, err);
	}
	if ((rc = cfg_node_string(v, name, &f->from, err)) != 0)
		return rc;
	return mapping_check_ref(v, from, f->from, err);
}

static int mapping_parse_entity(const struct cfg_node *k, const struct cfg_node *v,
				enum mapping_from from, struct mapping *m, struct focal_err *err)
{
	struct map_entity *ne, *e;
	struct cfg_node fk, fv;
	enum entity_kind kind;
	int rc;

	if (entity_kind_parse(cfg_scalar(k), &kind) != FOCAL_OK)
		return cfg_error(k, err,
				 "unknown key '%s' in map; expected rows or an entity: person, "
				 "vehicle, firearm, address, report, alert",
				 cfg_scalar(k));
	if ((rc = cfg_expect_map(v, cfg_scalar(k), err)) != 0)
		return rc;
	ne = realloc(m->entities, (m->nentities + 1) * sizeof(*ne));
	if (ne == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	m->entities = ne;
	e = &m->entities[m->nentities++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	for (size_t i = 0; i < cfg_len(v); i++) {
		cfg_map_at(v, i, &fk, &fv);
		if (cfg_scalar(&fk) != NULL && strcmp(cfg_scalar(&fk), "when") == 0) {
			if ((rc = cfg_node_string(&fv, "when", &e->when, err)) != 0 ||
			    (rc = mapping_check_ref(&fv, from, e->when, err)) != 0)
				return rc;
			continue;
		}
		if ((rc = mapping_parse_field(&fk, &fv, kind, from, e, err)) != 0)
			return rc;
	}
	if (e->nfields == 0)
		return cfg_error(v, err, "%s maps no field", entity_kind_name(kind));
	return FOCAL_OK;
}

int mapping_parse(const struct cfg_node *map, enum mapping_from from, struct mapping *out,
		  struct focal_err *err)
{
	struct cfg_node k, v;
	const char *key;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cfg_expect_map(map, "map", err)) != 0)
		return rc;
	for (size_t i = 0; i < cfg_len(map); i++) {
		cfg_map_at(map, i, &k, &v);
		key = cfg_scalar(&k);
		if (key == NULL)
			return cfg_error(&k, err, "a key must be plain text");
		for (size_t j = 0; j < i; j++) {
			struct cfg_node k2, v2;

			cfg_map_at(map, j, &k2, &v2);
			if (cfg_scalar(&k2) && strcmp(cfg_scalar(&k2), key) == 0)
				return cfg_error(&k, err, "duplicate key '%s'", key);
		}
		if (strcmp(key, "rows") == 0) {
			if (from != MAPPING_FROM_POINTER)
				return cfg_error(&k, err, "rows applies to http sources only");
			if ((rc = cfg_node_string(&v, "rows", &out->rows, err)) != 0)
				return rc;
			if (!mapping_pointer_valid(out->rows))
				return cfg_error(&v, err, "rows: \"%s\" is not a JSON pointer", out->rows);
			continue;
		}
		if ((rc = mapping_parse_entity(&k, &v, from, out, err)) != 0)
			return rc;
	}
	if (out->nentities == 0)
		return cfg_error(map, err, "map yields no entity");
	return FOCAL_OK;
}

void mapping_free(struct mapping *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nentities; i++) {
		struct map_entity *e = &m->entities[i];

		for (size_t j = 0; j < e->nfields; j++) {
			free(e->fields[j].from);
			free(e->fields[j].constant);
		}
		free(e->fields);
		free(e->when);
	}
	free(m->entities);
	free(m->rows);
	memset(m, 0, sizeof(*m));
}

/* Longest prefix of at most max bytes that does not split a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* Trims ASCII white space: agencies pad CHAR columns. */
static void trim(const char **v, size_t *len)
{
	while (*len > 0 && (**v == ' ' || **v == '\t' || **v == '\r' || **v == '\n')) {
		(*v)++;
		(*len)--;
	}
	while (*len > 0 && ((*v)[*len - 1] == ' ' || (*v)[*len - 1] == '\t' ||
			    (*v)[*len - 1] == '\r' || (*v)[*len - 1] == '\n'))
		(*len)--;
}

static int mapping_apply_entity(const struct map_entity *e, const char *source,
				mapping_get_fn get, void *row, struct record_set *out,
				struct focal_err *err)
{
	struct record *r = NULL;
	bool real = false; /* a value came from the row, not only constants */
	char fix[MAPPING_VALUE_MAX]; /* a repaired value (utf8text) */
	const char *v;
	size_t len;
	int rc;

	if (e->when != NULL) {
		rc = get(row, e->when, &v, &len);
		if (rc < 0)
			return focal_err_set(err, rc, "cannot read '%s'", e->when);
		if (rc == 0)
			return FOCAL_OK; /* absent: the getter set neither v nor len */
		trim(&v, &len);
		if (len == 0)
			return FOCAL_OK;
	}
	for (size_t i = 0; i < e->nfields; i++) {
		const struct map_field *f = &e->fields[i];

		if (f->constant != NULL) {
			v = f->constant;
			len = strlen(v);
		} else {
			rc = get(row, f->from, &v, &len);
			if (rc < 0)
				return focal_err_set(err, rc, "cannot read '%s'", f->from);
			if (rc == 0)
				continue;
			trim(&v, &len);
			if (len == 0)
				continue;
			real = true;
			/* no back end guarantees text: a value that is not NUL-free
			 * UTF-8 is repaired (U+FFFD), not dropped, for it may be the
			 * only trace of an alert */
			if (!utf8text_valid(v, len)) {
				len = utf8text_repair(v, len, fix, sizeof(fix));
				v = fix;
			}
		}
		if (r == NULL) {
			if (record_set_add(out, e->kind, source, &r) != FOCAL_OK)
				return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		}
		len = utf8_cut(v, len, MAPPING_VALUE_MAX);
		if (record_add_field(out, r, f->target, v, len) != FOCAL_OK)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	/* a record made only of constants says nothing about this row (unless
	 * `when` found the row flagged): drop it and its bytes */
	if (r != NULL && !real && e->when == NULL) {
		for (size_t i = 0; i < r->nfields; i++) {
			out->bytes -= strlen(r->fields[i].value);
			free(r->fields[i].value);
		}
		free(r->fields);
		out->n--;
	}
	return FOCAL_OK;
}

int mapping_apply(const struct mapping *m, const char *source, mapping_get_fn get, void *row,
		  struct record_set *out, struct focal_err *err)
{
	int rc;

	for (size_t i = 0; i < m->nentities; i++)
		if ((rc = mapping_apply_entity(&m->entities[i], source, get, row, out, err)) != 0)
			return rc;
	return FOCAL_OK;
}
