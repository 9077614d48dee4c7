/*
 * test_cfgnode: position-aware YAML access (core/cfgnode.h).  Every error an
 * administrator sees must point at file:line:column of the problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/cfgnode.h"

/* Loads text as "t.yaml" and returns its root. */
static void load(struct cfg_doc *doc, struct cfg_node *root, const char *name, const char *text)
{
	struct focal_err err;

	if (cfg_doc_load_string(doc, name, text, strlen(text), &err) != 0)
		fail_msg("load: %s", err.msg);
	if (cfg_doc_root(doc, root, &err) != 0)
		fail_msg("root: %s", err.msg);
}

static void test_syntax_errors_have_position(void **state)
{
	static const struct {
		const char *text;
		const char *prefix; /* expected start of the message */
	} table[] = {
		/* a tab cannot start a token: line 2, column 1 */
		{ "a: 1\n\tb: 2\n", "t.yaml:2:1: " },
		/* unclosed flow sequence: the problem is found at the end (line 3) */
		{ "a: 1\nb: [1, 2\n", "t.yaml:3:1: " },
		/* a mapping value where none is allowed: the second colon, line 2 column 5 */
		{ "a: 1\nb: c: d\n", "t.yaml:2:5: " },
	};
	struct cfg_doc doc;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(cfg_doc_load_string(&doc, "t.yaml", table[i].text,
						     strlen(table[i].text), &err),
				 FOCAL_E_CONFIG);
		if (strncmp(err.msg, table[i].prefix, strlen(table[i].prefix)) != 0)
			fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i, err.msg,
				 table[i].prefix);
		cfg_doc_free(&doc);
	}
}

static void test_empty_document(void **state)
{
	struct cfg_doc doc;
	struct cfg_node root;
	struct focal_err err;

	(void)state;
	assert_int_equal(cfg_doc_load_string(&doc, "e.yaml", "", 0, &err), 0);
	assert_int_equal(cfg_doc_root(&doc, &root, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "e.yaml:1:1: the file is empty");
	cfg_doc_free(&doc);
	cfg_doc_free(NULL);
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/focal-cfgnode-XXXXXX";
	char path[256], missing[256];
	struct cfg_doc doc;
	struct cfg_node root, v;
	struct focal_err err;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/focal.yaml", dir);
	snprintf(missing, sizeof(missing), "%s/nope.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name: focal\nlist: [a, b, c]\n", f);
	fclose(f);

	assert_int_equal(cfg_doc_load_file(&doc, path, &err), 0);
	assert_int_equal(cfg_doc_root(&doc, &root, &err), 0);
	assert_true(cfg_is_map(&root));
	assert_int_equal(cfg_len(&root), 2);
	assert_true(cfg_map_get(&root, "list", &v));
	assert_true(cfg_is_seq(&v));
	assert_int_equal(cfg_len(&v), 3);
	/* errors name the file as given */
	cfg_error(&v, &err, "boom");
	{
		char want[300];

		snprintf(want, sizeof(want), "%s:2:7: boom", path);
		assert_string_equal(err.msg, want);
	}
	cfg_doc_free(&doc);

	assert_int_equal(cfg_doc_load_file(&doc, missing, &err), FOCAL_E_IO);
	assert_non_null(strstr(err.msg, missing));
	cfg_doc_free(&doc);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_navigation(void **state)
{
	struct cfg_doc doc;
	struct cfg_node root, seq, item, k, v;

	(void)state;
	load(&doc, &root, "n.yaml", "seq:\n  - one\n  - two\nmap: {x: 1}\n");
	assert_true(cfg_map_get(&root, "seq", &seq));
	assert_false(cfg_map_get(&root, "nope", &item));
	assert_int_equal(cfg_len(&seq), 2);
	cfg_seq_at(&seq, 1, &item);
	assert_string_equal(cfg_scalar(&item), "two");
	assert_int_equal(cfg_line(&item), 3);
	assert_int_equal(cfg_col(&item), 5);
	cfg_map_at(&root, 1, &k, &v);
	assert_string_equal(cfg_scalar(&k), "map");
	assert_true(cfg_is_map(&v));
	assert_null(cfg_scalar(&v));
	assert_false(cfg_is_scalar(&v));
	/* a scalar has no length and is not a mapping to look in */
	assert_int_equal(cfg_len(&item), 0);
	assert_false(cfg_map_get(&item, "x", &k));
	cfg_doc_free(&doc);
}

static void test_expect_map_seq(void **state)
{
	struct cfg_doc doc;
	struct cfg_node root, v;
	struct focal_err err;

	(void)state;
	load(&doc, &root, "x.yaml", "a: text\nb: [1]\n");
	assert_true(cfg_map_get(&root, "a", &v));
	assert_int_equal(cfg_expect_map(&v, "server", &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "x.yaml:1:4: server: expected a mapping (key: value lines)");
	assert_int_equal(cfg_expect_seq(&v, "sources", &err), FOCAL_E_CONFIG);
	assert_non_null(strstr(err.msg, "x.yaml:1:4: sources: expected a list"));
	assert_true(cfg_map_get(&root, "b", &v));
	assert_int_equal(cfg_expect_seq(&v, "sources", &err), 0);
	assert_int_equal(cfg_expect_map(&root, "root", &err), 0);
	cfg_doc_free(&doc);
}

static void test_check_keys_unknown(void **state)
{
	static const char *const allowed[] = { "listen", "port", "threads", NULL };
	struct cfg_doc doc;
	struct cfg_node root, server;
	struct focal_err err;

	(void)state;
	load(&doc, &root, "k.yaml", "server:\n  listen: 127.0.0.1\n  prot: 8443\n");
	assert_true(cfg_map_get(&root, "server", &server));
	assert_int_equal(cfg_check_keys(&server, allowed, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "k.yaml:3:3: unknown key 'prot'; expected one of: listen, "
				     "port, threads");
	cfg_doc_free(&doc);
}

static void test_check_keys_duplicate(void **state)
{
	static const char *const allowed[] = { "listen", "port", NULL };
	struct cfg_doc doc;
	struct cfg_node root;
	struct focal_err err;

	(void)state;
	load(&doc, &root, "d.yaml", "port: 1\nlisten: x\nport: 2\n");
	assert_int_equal(cfg_check_keys(&root, allowed, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "d.yaml:3:1: duplicate key 'port' (first at line 1)");
	cfg_doc_free(&doc);

	load(&doc, &root, "ok.yaml", "port: 1\nlisten: x\n");
	assert_int_equal(cfg_check_keys(&root, allowed, &err), 0);
	cfg_doc_free(&doc);
}

static void test_get_long(void **state)
{
	static const struct {
		const char *key;
		int rc;
		long value; /* when rc == 0 */
		const char *msg; /* when rc != 0 */
	} table[] = {
		{ "ok", 0, 8443, NULL },
		{ "min", 0, 1, NULL },
		{ "max", 0, 65535, NULL },
		{ "big", FOCAL_E_CONFIG, 0,
		  "g.yaml:4:6: big: expected an integer from 1 to 65535, got \"65536\"" },
		{ "zero", FOCAL_E_CONFIG, 0,
		  "g.yaml:5:7: zero: expected an integer from 1 to 65535, got \"0\"" },
		{ "unit", FOCAL_E_CONFIG, 0,
		  "g.yaml:6:7: unit: expected an integer from 1 to 65535, got \"2s\"" },
		{ "list", FOCAL_E_CONFIG, 0,
		  "g.yaml:7:7: list: expected an integer from 1 to 65535" },
		{ "huge", FOCAL_E_CONFIG, 0,
		  "g.yaml:8:7: huge: expected an integer from 1 to 65535, got "
		  "\"99999999999999999999999\"" },
	};
	const char *text = "ok: 8443\nmin: 1\nmax: 65535\nbig: 65536\nzero: 0\nunit: 2s\n"
			   "list: [1]\nhuge: 99999999999999999999999\n";
	struct cfg_doc doc;
	struct cfg_node root;
	struct focal_err err;
	long v;

	(void)state;
	load(&doc, &root, "g.yaml", text);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		v = -42;
		assert_int_equal(cfg_get_long(&root, table[i].key, true, 1, 65535, &v, &err),
				 table[i].rc);
		if (table[i].rc == 0) {
			assert_int_equal(v, table[i].value);
		} else {
			assert_string_equal(err.msg, table[i].msg);
			assert_int_equal(v, -42); /* untouched on error */
		}
	}
	/* absent: optional leaves the default, required names the key at the map */
	v = 77;
	assert_int_equal(cfg_get_long(&root, "absent", false, 1, 10, &v, &err), 0);
	assert_int_equal(v, 77);
	assert_int_equal(cfg_get_long(&root, "absent", true, 1, 10, &v, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "g.yaml:1:1: missing required key 'absent'");
	cfg_doc_free(&doc);
}

static void test_get_string_bool_enum(void **state)
{
	static const char *const classes[] = { "not_sensitive", "restricted",
					       "strictly_confidential", NULL };
	struct cfg_doc doc;
	struct cfg_node root;
	struct focal_err err;
	char *s = NULL;
	bool b;
	int idx;

	(void)state;
	load(&doc, &root, "s.yaml",
	     "name: focal\nobj: {a: 1}\non: true\noff: false\nmaybe: yes\n"
	     "cls: strictly_confidential\nbadcls: secret\n");
	assert_int_equal(cfg_get_string(&root, "name", true, &s, &err), 0);
	assert_string_equal(s, "focal");
	assert_int_equal(cfg_get_string(&root, "obj", true, &s, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "s.yaml:2:6: obj: expected text");
	assert_string_equal(s, "focal"); /* untouched */
	free(s);

	b = false;
	assert_int_equal(cfg_get_bool(&root, "on", true, &b, &err), 0);
	assert_true(b);
	assert_int_equal(cfg_get_bool(&root, "off", true, &b, &err), 0);
	assert_false(b);
	b = true;
	assert_int_equal(cfg_get_bool(&root, "absent", false, &b, &err), 0);
	assert_true(b);
	assert_int_equal(cfg_get_bool(&root, "maybe", true, &b, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "s.yaml:5:8: maybe: expected one of false, true, got \"yes\"");

	idx = -1;
	assert_int_equal(cfg_get_enum(&root, "cls", true, classes, &idx, &err), 0);
	assert_int_equal(idx, 2);
	assert_int_equal(cfg_get_enum(&root, "badcls", true, classes, &idx, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "s.yaml:7:9: badcls: expected one of not_sensitive, "
				     "restricted, strictly_confidential, got \"secret\"");
	assert_int_equal(idx, 2);
	assert_int_equal(cfg_get_enum(&root, "obj", true, classes, &idx, &err), FOCAL_E_CONFIG);
	assert_non_null(strstr(err.msg, "got \"(not text)\""));
	assert_int_equal(cfg_get_enum(&root, "nothing", true, classes, &idx, &err),
			 FOCAL_E_CONFIG);
	assert_non_null(strstr(err.msg, "missing required key 'nothing'"));
	cfg_doc_free(&doc);
}

static void test_resolve_path(void **state)
{
	static const struct {
		const char *file;
		const char *path;
		const char *want;
	} table[] = {
		{ "/etc/focal/focal.yaml", "data/x.db", "/etc/focal/data/x.db" },
		{ "/etc/focal/focal.yaml", "/var/lib/x.db", "/var/lib/x.db" },
		{ "conf/focal.yaml", "x.db", "conf/x.db" },
		{ "focal.yaml", "x.db", "x.db" }, /* no folder: relative to the cwd */
		{ "/focal.yaml", "x.db", "/x.db" },
	};
	struct cfg_doc doc;
	struct cfg_node root, conn;
	struct focal_err err;
	char *p;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		load(&doc, &root, table[i].file, "a: 1\n");
		p = cfg_resolve_path(&root, table[i].path);
		assert_non_null(p);
		assert_string_equal(p, table[i].want);
		free(p);
		cfg_doc_free(&doc);
	}

	load(&doc, &root, "/srv/focal/focal.yaml", "connection: {path: db/regs.db}\n");
	assert_true(cfg_map_get(&root, "connection", &conn));
	p = NULL;
	assert_int_equal(cfg_get_path(&conn, "path", true, &p, &err), 0);
	assert_string_equal(p, "/srv/focal/db/regs.db");
	free(p);
	p = NULL;
	assert_int_equal(cfg_get_path(&conn, "other", false, &p, &err), 0);
	assert_null(p);
	assert_int_equal(cfg_get_path(&conn, "other", true, &p, &err), FOCAL_E_CONFIG);
	assert_null(p);
	cfg_doc_free(&doc);
}

static void test_node_long_and_string(void **state)
{
	struct cfg_doc doc;
	struct cfg_node root, v;
	struct focal_err err;
	char *s = NULL;
	long n = 0;

	(void)state;
	load(&doc, &root, "n.yaml", "- 42\n- -3\n- [x]\n");
	cfg_seq_at(&root, 0, &v);
	assert_int_equal(cfg_node_long(&v, "item", 0, 100, &n, &err), 0);
	assert_int_equal(n, 42);
	cfg_seq_at(&root, 1, &v);
	assert_int_equal(cfg_node_long(&v, "item", 0, 100, &n, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "n.yaml:2:3: item: expected an integer from 0 to 100, got \"-3\"");
	assert_int_equal(cfg_node_string(&v, "item", &s, &err), 0);
	assert_string_equal(s, "-3");
	cfg_seq_at(&root, 2, &v);
	assert_int_equal(cfg_node_string(&v, "item", &s, &err), FOCAL_E_CONFIG);
	assert_string_equal(err.msg, "n.yaml:3:3: item: expected text");
	free(s);
	cfg_doc_free(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_errors_have_position),
		cmocka_unit_test(test_empty_document),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_navigation),
		cmocka_unit_test(test_expect_map_seq),
		cmocka_unit_test(test_check_keys_unknown),
		cmocka_unit_test(test_check_keys_duplicate),
		cmocka_unit_test(test_get_long),
		cmocka_unit_test(test_get_string_bool_enum),
		cmocka_unit_test(test_resolve_path),
		cmocka_unit_test(test_node_long_and_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
