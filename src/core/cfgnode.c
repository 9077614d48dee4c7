/*
 * cfgnode: walking a libyaml document with errors that name file:line:column
 * (see cfgnode.h).  libyaml's marks are 0-based; we report 1-based positions
 * as editors show them.
 */
#include "core/cfgnode.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A configuration file larger than this is certainly a mistake. */
#define CFG_MAX_FILE_BYTES (8u * 1024u * 1024u)

static int cfg_doc_parse(struct cfg_doc *out, const char *name, const unsigned char *text,
			 size_t len, struct focal_err *err)
{
	yaml_parser_t parser;
	int rc = FOCAL_OK;

	memset(out, 0, sizeof(*out));
	out->file = strdup(name);
	if (out->file == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	if (EVP_Digest(text, len, out->sha256, NULL, EVP_sha256(), NULL) != 1)
		return focal_err_set(err, FOCAL_E_INTERNAL, "%s: cannot hash", name);
	if (!yaml_parser_initialize(&parser))
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, text, len);
	if (!yaml_parser_load(&parser, &out->doc)) {
		rc = focal_err_set(err, FOCAL_E_CONFIG, "%s:%zu:%zu: %s%s%s", name,
				   parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				   parser.problem ? parser.problem : "syntax error",
				   parser.context ? " " : "", parser.context ? parser.context : "");
		goto out;
	}
	out->loaded = true;
out:
	yaml_parser_delete(&parser);
	return rc;
}

int cfg_doc_load_string(struct cfg_doc *out, const char *name, const char *text, size_t len,
			struct focal_err *err)
{
	return cfg_doc_parse(out, name, (const unsigned char *)text, len, err);
}

int cfg_doc_load_file(struct cfg_doc *out, const char *path, struct focal_err *err)
{
	FILE *f = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, n;
	int rc;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "rb");
	if (f == NULL)
		return focal_err_set(err, FOCAL_E_IO, "%s: cannot open: %s", path, strerror(errno));
	buf = malloc(CFG_MAX_FILE_BYTES + 1);
	if (buf == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	while ((n = fread(buf + len, 1, CFG_MAX_FILE_BYTES + 1 - len, f)) > 0) {
		len += n;
		if (len > CFG_MAX_FILE_BYTES) {
			rc = focal_err_set(err, FOCAL_E_CONFIG, "%s: larger than %u bytes", path,
					   CFG_MAX_FILE_BYTES);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = focal_err_set(err, FOCAL_E_IO, "%s: read error", path);
		goto out;
	}
	rc = cfg_doc_parse(out, path, buf, len, err);
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

void cfg_doc_free(struct cfg_doc *d)
{
	if (d == NULL)
		return;
	if (d->loaded)
		yaml_document_delete(&d->doc);
	free(d->file);
	memset(d, 0, sizeof(*d));
}

int cfg_doc_root(struct cfg_doc *d, struct cfg_node *out, struct focal_err *err)
{
	out->doc = &d->doc;
	out->file = d->file;
	out->node = d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
	if (out->node == NULL)
		return focal_err_set(err, FOCAL_E_CONFIG, "%s:1:1: the file is empty",
				     d->file ? d->file : "?");
	return FOCAL_OK;
}

size_t cfg_line(const struct cfg_node *n) { return n->node ? n->node->start_mark.line + 1 : 0; }
size_t cfg_col(const struct cfg_node *n) { return n->node ? n->node->start_mark.column + 1 : 0; }

int cfg_error(const struct cfg_node *n, struct focal_err *err, const char *fmt, ...)
{
	char msg[FOCAL_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return focal_err_set(err, FOCAL_E_CONFIG, "%s:%zu:%zu: %s", n->file ? n->file : "?",
			     cfg_line(n), cfg_col(n), msg);
}

bool cfg_is_map(const struct cfg_node *n) { return n->node && n->node->type == YAML_MAPPING_NODE; }
bool cfg_is_seq(const struct cfg_node *n) { return n->node && n->node->type == YAML_SEQUENCE_NODE; }
bool cfg_is_scalar(const struct cfg_node *n) { return n->node && n->node->type == YAML_SCALAR_NODE; }

const char *cfg_scalar(const struct cfg_node *n)
{
	return cfg_is_scalar(n) ? (const char *)n->node->data.scalar.value : NULL;
}

size_t cfg_len(const struct cfg_node *n)
{
	if (cfg_is_seq(n))
		return (size_t)(n->node->data.sequence.items.top - n->node->data.sequence.items.start);
	if (cfg_is_map(n))
		return (size_t)(n->node->data.mapping.pairs.top - n->node->data.mapping.pairs.start);
	return 0;
}

static void cfg_wrap(const struct cfg_node *parent, int index, struct cfg_node *out)
{
	out->doc = parent->doc;
	out->file = parent->file;
	out->node = yaml_document_get_node(parent->doc, index);
}

void cfg_seq_at(const struct cfg_node *seq, size_t i, struct cfg_node *out)
{
	cfg_wrap(seq, seq->node->data.sequence.items.start[i], out);
}

void cfg_map_at(const struct cfg_node *map, size_t i, struct cfg_node *key, struct cfg_node *value)
{
	yaml_node_pair_t *p = &map->node->data.mapping.pairs.start[i];

	cfg_wrap(map, p->key, key);
	cfg_wrap(map, p->value, value);
}

bool cfg_map_get(const struct cfg_node *map, const char *key, struct cfg_node *out)
{
	struct cfg_node k, v;
	size_t i, n = cfg_len(map);
	const char *s;

	if (!cfg_is_map(map))
		return false;
	for (i = 0; i < n; i++) {
		cfg_map_at(map, i, &k, &v);
		s = cfg_scalar(&k);
		if (s != NULL && strcmp(s, key) == 0) {
			*out = v;
			return true;
		}
	}
	return false;
}

int cfg_expect_map(const struct cfg_node *n, const char *what, struct focal_err *err)
{
	if (!cfg_is_map(n))
		return cfg_error(n, err, "%s: expected a mapping (key: value lines)", what);
	return FOCAL_OK;
}

int cfg_expect_seq(const struct cfg_node *n, const char *what, struct focal_err *err)
{
	if (!cfg_is_seq(n))
		return cfg_error(n, err, "%s: expected a list (lines starting with '- ')", what);
	return FOCAL_OK;
}

int cfg_check_keys(const struct cfg_node *map, const char *const *allowed, struct focal_err *err)
{
	struct cfg_node k, v, k2, v2;
	size_t i, j, n = cfg_len(map);
	const char *s;
	char expected[400];
	size_t off = 0;
	int ok;

	for (i = 0; i < n; i++) {
		cfg_map_at(map, i, &k, &v);
		s = cfg_scalar(&k);
		if (s == NULL)
			return cfg_error(&k, err, "a key must be plain text");
		ok = 0;
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(allowed[j], s) == 0)
				ok = 1;
		if (!ok) {
			expected[0] = '\0';
			for (j = 0; allowed[j] != NULL && off < sizeof(expected); j++)
				off += (size_t)snprintf(expected + off, sizeof(expected) - off, "%s%s",
							j ? ", " : "", allowed[j]);
			return cfg_error(&k, err, "unknown key '%s'; expected one of: %s", s, expected);
		}
		for (j = 0; j < i; j++) {
			cfg_map_at(map, j, &k2, &v2);
			if (cfg_scalar(&k2) != NULL && strcmp(cfg_scalar(&k2), s) == 0)
				return cfg_error(&k, err, "duplicate key '%s' (first at line %zu)", s,
						 cfg_line(&k2));
		}
	}
	return FOCAL_OK;
}

int cfg_node_string(const struct cfg_node *n, const char *what, char **out, struct focal_err *err)
{
	const char *s = cfg_scalar(n);
	char *copy;

	if (s == NULL)
		return cfg_error(n, err, "%s: expected text", what);
	copy = strdup(s);
	if (copy == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	free(*out);
	*out = copy;
	return FOCAL_OK;
}

int cfg_node_long(const struct cfg_node *n, const char *what, long min, long max, long *out,
		  struct focal_err *err)
{
	const char *s = cfg_scalar(n);
	char *end = NULL;
	long v;

	if (s == NULL)
		return cfg_error(n, err, "%s: expected an integer from %ld to %ld", what, min, max);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return cfg_error(n, err, "%s: expected an integer from %ld to %ld, got \"%s\"", what,
				 min, max, s);
	*out = v;
	return FOCAL_OK;
}

int cfg_get_string(const struct cfg_node *map, const char *key, bool required, char **out,
		   struct focal_err *err)
{
	struct cfg_node v;

	if (!cfg_map_get(map, key, &v)) {
		if (required)
			return cfg_error(map, err, "missing required key '%s'", key);
		return FOCAL_OK;
	}
	return cfg_node_string(&v, key, out, err);
}

int cfg_get_long(const struct cfg_node *map, const char *key, bool required, long min, long max,
		 long *out, struct focal_err *err)
{
	struct cfg_node v;

	if (!cfg_map_get(map, key, &v)) {
		if (required)
			return cfg_error(map, err, "missing required key '%s'", key);
		return FOCAL_OK;
	}
	return cfg_node_long(&v, key, min, max, out, err);
}

int cfg_get_bool(const struct cfg_node *map, const char *key, bool required, bool *out,
		 struct focal_err *err)
{
	static const char *const choices[] = { "false", "true", NULL };
	int idx = *out ? 1 : 0;
	int rc = cfg_get_enum(map, key, required, choices, &idx, err);

	if (rc == FOCAL_OK)
		*out = idx == 1;
	return rc;
}

int cfg_get_enum(const struct cfg_node *map, const char *key, bool required,
		 const char *const *choices, int *out, struct focal_err *err)
{
	struct cfg_node v;
	const char *s;
	char expected[300];
	size_t off = 0;
	int i;

	if (!cfg_map_get(map, key, &v)) {
		if (required)
			return cfg_error(map, err, "missing required key '%s'", key);
		return FOCAL_OK;
	}
	s = cfg_scalar(&v);
	for (i = 0; s != NULL && choices[i] != NULL; i++) {
		if (strcmp(choices[i], s) == 0) {
			*out = i;
			return FOCAL_OK;
		}
	}
	expected[0] = '\0';
	for (i = 0; choices[i] != NULL && off < sizeof(expected); i++)
		off += (size_t)snprintf(expected + off, sizeof(expected) - off, "%s%s", i ? ", " : "",
					choices[i]);
	return cfg_error(&v, err, "%s: expected one of %s, got \"%s\"", key, expected,
			 s ? s : "(not text)");
}

char *cfg_resolve_path(const struct cfg_node *n, const char *path)
{
	const char *slash;
	size_t dirlen;
	char *out;

	if (path[0] == '/' || n->file == NULL || (slash = strrchr(n->file, '/')) == NULL)
		return strdup(path);
	dirlen = (size_t)(slash - n->file);
	out = malloc(dirlen + 1 + strlen(path) + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, n->file, dirlen);
	out[dirlen] = '/';
	memcpy(out + dirlen + 1, path, strlen(path) + 1);
	return out;
}

int cfg_get_path(const struct cfg_node *map, const char *key, bool required, char **out,
		 struct focal_err *err)
{
	char *raw = NULL, *abs;
	int rc = cfg_get_string(map, key, required, &raw, err);

	if (rc != FOCAL_OK || raw == NULL)
		return rc;
	abs = cfg_resolve_path(map, raw);
	free(raw);
	if (abs == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	free(*out);
	*out = abs;
	return FOCAL_OK;
}
