/*
 * web: the officer app and the admin and oversight consoles (issue 6): the
 * static files of web/ served by focald under a strict Content-Security-Policy,
 * the `web:` section, and the small read-only endpoints only the browser
 * needs (the client settings, the admin console's source table).
 *
 * The whole web/ tree is read into memory when the configuration is loaded
 * (start and SIGHUP, on the main thread), so serving a file never touches the
 * disk from an event loop, and a request can only ever reach a file that was
 * loaded: a URL path is looked up verbatim in that table, so `..`, `%2e%2e`,
 * NUL bytes or a symlink out of the root have nothing to resolve against.
 * Loading itself follows no symlink and keeps only regular files with a known
 * extension and a plain name ([A-Za-z0-9._-], no leading dot).
 *
 *   web:
 *     root: ../web           # folder of index.html, admin/, oversight/ (required)
 *     idle_lock_minutes: 5   # the app locks itself after this much inactivity
 *
 * Without a `web:` section focald serves the API only.  See docs/web.md.
 */
#ifndef FOCAL_WEB_H
#define FOCAL_WEB_H

#include <stddef.h>

#include "core/err.h"
#include "http/reply.h"

struct cfg_node;
struct web_config;

/* Limits of the in-memory tree (an app shell is a few hundred KiB). */
#define WEB_MAX_FILES 512
#define WEB_MAX_FILE_BYTES (2L * 1024 * 1024)
#define WEB_MAX_TOTAL_BYTES (16L * 1024 * 1024)
#define WEB_MAX_DEPTH 6

/* The CSP of every HTML page: scripts, styles and connections from focald
 * only, no inline code, no framing, no third-party origin anywhere. */
#define WEB_CSP                                                                               \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "     \
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* Parses the `web:` section and loads the tree under its root; n is NULL when
 * the file has none (*out stays NULL: no app is served).  Errors name
 * file:line:col (and the file of the tree that broke a limit). */
int web_config_parse(const struct cfg_node *n, struct web_config **out, struct focal_err *err);
void web_config_free(struct web_config *c); /* NULL-safe */

/* The loaded file served at URL path (e.g. "/js/app.js"), or NULL.  *len and
 * *type are set when found.  For tests. */
const unsigned char *web_config_file(const struct web_config *c, const char *path, size_t *len,
				     const char **type);
size_t web_config_nfiles(const struct web_config *c);

/* HTTP endpoints of this module, for api.c's dispatcher: GET /v1/web/settings,
 * GET /v1/admin/sources (admin role) and, last, every other path as a static
 * file (GET/HEAD). */
extern const struct api_route web_routes[];

#endif
