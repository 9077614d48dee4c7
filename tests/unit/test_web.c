/*
 * test_web: loading the web root into memory (http/web.h).  Only plain,
 * regular files with a served extension are loaded; symlinks, hidden files,
 * FIFOs and anything too deep are not, so no URL path can reach them; limits
 * and bad sections are errors with file:line:col.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/cfgnode.h"
#include "http/web.h"

static char root[64];
static char outside[96];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

static int setup(void **state)
{
	char p[256], q[256];
	FILE *f;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/focal-test-web-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(outside, sizeof(outside), "%s-outside.txt", root);
	f = fopen(outside, "w");
	if (f == NULL)
		return -1;
	fputs("secret", f);
	fclose(f);
	put("index.html", "<!doctype html>");
	put("app.css", "body{}");
	put(".hidden.js", "x");
	put("notes.md", "x");
	put("bad name.js", "x");
	dir("js");
	put("js/app.js", "import x from './x.js';");
	dir("a");
	dir("a/b");
	dir("a/b/c");
	dir("a/b/c/d");
	dir("a/b/c/d/e");
	dir("a/b/c/d/e/f");
	dir("a/b/c/d/e/f/g");
	put("a/b/c/d/e/f/ok.js", "depth 6");
	put("a/b/c/d/e/f/g/deep.js", "depth 7");
	snprintf(p, sizeof(p), "%s/link.js", root);
	if (symlink(outside, p) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/linkdir", root);
	snprintf(q, sizeof(q), "/etc");
	if (symlink(q, p) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/fifo.js", root);
	if (mkfifo(p, 0600) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	return system(cmd) == 0 ? 0 : -1;
}

/* Parses the `web:` section of text; returns the rc, *out the config. */
static int parse(const char *text, struct web_config **out, struct focal_err *err)
{
	struct cfg_doc doc;
	struct cfg_node top, web;
	int rc;

	if (cfg_doc_load_string(&doc, "t.yaml", text, strlen(text), err) != 0)
		fail_msg("load: %s", err->msg);
	assert_int_equal(cfg_doc_root(&doc, &top, err), 0);
	assert_true(cfg_map_get(&top, "web", &web));
	rc = web_config_parse(&web, out, err);
	cfg_doc_free(&doc);
	return rc;
}

static void test_loads_only_plain_files(void **state)
{
	struct web_config *c = NULL;
	struct focal_err err;
	char text[256];
	const char *type = NULL;
	size_t len = 0;

	(void)state;
	snprintf(text, sizeof(text), "web:\n  root: %s\n", root);
	if (parse(text, &c, &err) != 0)
		fail_msg("%s", err.msg);
	/* index.html, app.css, js/app.js, a/b/c/d/e/f/ok.js */
	assert_int_equal(web_config_nfiles(c), 4);
	assert_non_null(web_config_file(c, "/index.html", &len, &type));
	assert_int_equal(len, strlen("<!doctype html>"));
	assert_string_equal(type, "text/html; charset=utf-8");
	assert_non_null(web_config_file(c, "/js/app.js", NULL, &type));
	assert_string_equal(type, "text/javascript; charset=utf-8");
	assert_non_null(web_config_file(c, "/app.css", NULL, &type));
	assert_string_equal(type, "text/css; charset=utf-8");
	assert_non_null(web_config_file(c, "/a/b/c/d/e/f/ok.js", NULL, NULL));
	static const char *const absent[] = {
		"/a/b/c/d/e/f/g/deep.js", "/link.js", "/linkdir/passwd", "/linkdir/hostname",
		"/.hidden.js", "/notes.md", "/bad name.js", "/fifo.js", "/../index.html",
		"/js/../index.html", "/%2e%2e/index.html", "/index.html/", "index.html",
		"//index.html", "/INDEX.HTML", "",
	};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (web_config_file(c, absent[i], NULL, NULL) != NULL)
			fail_msg("%s was loaded", absent[i]);
	web_config_free(c);
}

static void test_absent_section(void **state)
{
	struct web_config *c = (struct web_config *)&c;
	struct focal_err err;

	(void)state;
	assert_int_equal(web_config_parse(NULL, &c, &err), 0);
	assert_null(c);
	assert_null(web_config_file(NULL, "/index.html", NULL, NULL));
	web_config_free(NULL);
}

static void test_errors_have_position(void **state)
{
	struct web_config *c;
	struct focal_err err;
	char text[512], big[256];
	FILE *f;

	(void)state;
	snprintf(text, sizeof(text), "web:\n  root: /nonexistent/focal-web\n");
	assert_int_equal(parse(text, &c, &err), FOCAL_E_CONFIG);
	assert_null(c);
	assert_non_null(strstr(err.msg, "t.yaml:2:9: root: cannot open folder"));

	snprintf(text, sizeof(text), "web:\n  root: %s\n  idle_lock_minute: 3\n", root);
	assert_int_equal(parse(text, &c, &err), FOCAL_E_CONFIG);
	assert_non_null(strstr(err.msg, "t.yaml:3:"));

	snprintf(text, sizeof(text), "web:\n  root: %s\n  idle_lock_minutes: 0\n", root);
	assert_int_equal(parse(text, &c, &err), FOCAL_E_CONFIG);
	assert_non_null(strstr(err.msg, "t.yaml:3:"));

	/* no index.html */
	snprintf(text, sizeof(text), "web:\n  root: %s/js\n", root);
	assert_int_equal(parse(text, &c, &err), FOCAL_E_CONFIG);
	assert_non_null(strstr(err.msg, "no index.html"));

	/* a file over the limit names itself */
	snprintf(big, sizeof(big), "%s/js/huge.js", root);
	f = fopen(big, "w");
	assert_non_null(f);
	assert_int_equal(fseek(f, WEB_MAX_FILE_BYTES + 1, SEEK_SET), 0);
	fputc('x', f);
	fclose(f);
	snprintf(text, sizeof(text), "web:\n  root: %s\n", root);
	assert_int_not_equal(parse(text, &c, &err), 0);
	assert_null(c);
	assert_non_null(strstr(err.msg, "/js/huge.js is larger"));
	assert_non_null(strstr(err.msg, "t.yaml:2:9"));
	unlink(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_only_plain_files),
		cmocka_unit_test(test_absent_section),
		cmocka_unit_test(test_errors_have_position),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
