/*
 * cfgnode: typed, position-aware access to a YAML configuration document.
 *
 * libyaml parses the file; this module only walks the resulting document and
 * turns every problem into a message of the form
 *     focal.yaml:12:7: deadline_ms: expected an integer from 1 to 60000, got "2s"
 * so an administrator knows exactly what to fix.  Lines and columns are 1-based.
 *
 * A struct cfg_node is a small value (document, node, file name) and owns
 * nothing; the document is owned by the struct cfg_doc that produced it.
 */
#ifndef FOCAL_CFGNODE_H
#define FOCAL_CFGNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "core/err.h"

struct cfg_doc {
	yaml_document_t doc;
	char *file; /* owned copy of the file name used in messages */
	bool loaded;
	unsigned char sha256[32]; /* of the bytes parsed (audit of policy changes) */
};

struct cfg_node {
	yaml_document_t *doc;
	yaml_node_t *node;
	const char *file;
};

/* Parses a whole file (or, with cfg_doc_load_string, a buffer named `name`).
 * Syntax errors carry file:line:column.  Free with cfg_doc_free (NULL-safe). */
int cfg_doc_load_file(struct cfg_doc *out, const char *path, struct focal_err *err);
int cfg_doc_load_string(struct cfg_doc *out, const char *name, const char *text,
			size_t len, struct focal_err *err);
void cfg_doc_free(struct cfg_doc *d);
/* Root node; an empty document is an error. */
int cfg_doc_root(struct cfg_doc *d, struct cfg_node *out, struct focal_err *err);

/* Sets err to "file:line:col: <message>" for node n and returns FOCAL_E_CONFIG. */
int cfg_error(const struct cfg_node *n, struct focal_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

bool cfg_is_map(const struct cfg_node *n);
bool cfg_is_seq(const struct cfg_node *n);
bool cfg_is_scalar(const struct cfg_node *n);
/* Scalar text (borrowed, NUL-terminated) or NULL if n is not a scalar. */
const char *cfg_scalar(const struct cfg_node *n);
size_t cfg_line(const struct cfg_node *n);
size_t cfg_col(const struct cfg_node *n);

/* Number of items of a sequence or pairs of a mapping (0 otherwise). */
size_t cfg_len(const struct cfg_node *n);
/* i-th item of a sequence. */
void cfg_seq_at(const struct cfg_node *seq, size_t i, struct cfg_node *out);
/* i-th pair of a mapping: key node and value node. */
void cfg_map_at(const struct cfg_node *map, size_t i, struct cfg_node *key,
		struct cfg_node *value);

/* Looks key up in map. Returns true and sets out if present. */
bool cfg_map_get(const struct cfg_node *map, const char *key, struct cfg_node *out);

/* Requires n to be a mapping/sequence ("what" names it in the message). */
int cfg_expect_map(const struct cfg_node *n, const char *what, struct focal_err *err);
int cfg_expect_seq(const struct cfg_node *n, const char *what, struct focal_err *err);

/* Rejects keys of map not in allowed (NULL-terminated) and duplicate keys: a
 * typo such as "deadlin_ms" must not be silently ignored. */
int cfg_check_keys(const struct cfg_node *map, const char *const *allowed,
		   struct focal_err *err);

/* Typed getters.  When the key is absent: an error if required, otherwise the
 * output is left untouched (so the caller sets the default first).
 * Strings are returned as malloc'd copies owned by the caller. */
int cfg_get_string(const struct cfg_node *map, const char *key, bool required, char **out,
		   struct focal_err *err);
int cfg_get_long(const struct cfg_node *map, const char *key, bool required, long min,
		 long max, long *out, struct focal_err *err);
int cfg_get_bool(const struct cfg_node *map, const char *key, bool required, bool *out,
		 struct focal_err *err);
/* One of choices (NULL-terminated); *out is the index. */
int cfg_get_enum(const struct cfg_node *map, const char *key, bool required,
		 const char *const *choices, int *out, struct focal_err *err);

/* Scalar node to long / string copy, with position-aware errors. */
int cfg_node_long(const struct cfg_node *n, const char *what, long min, long max, long *out,
		  struct focal_err *err);
int cfg_node_string(const struct cfg_node *n, const char *what, char **out,
		    struct focal_err *err);

/* A path from the file, made absolute against the configuration file's folder
 * (so `path: data/x.db` means next to focal.yaml wherever focald runs).
 * Returns a malloc'd string or NULL on allocation failure. */
char *cfg_resolve_path(const struct cfg_node *n, const char *path);
/* cfg_get_string + cfg_resolve_path. */
int cfg_get_path(const struct cfg_node *map, const char *key, bool required, char **out,
		 struct focal_err *err);

#endif
