/*
 * web: static files of the officer app and the consoles, served from memory
 * (see web.h for why the whole tree is loaded at configuration time).
 */
#include "http/web.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/principal.h"
#include "core/cfgnode.h"
#include "core/config.h"
#include "core/metrics.h"
#include "http/server.h"
#include "policy/policy.h"
#include "sources/breaker.h"
#include "sources/source.h"

#define WEB_URL_MAX 256

struct web_file {
	char *path; /* URL path, "/admin/index.html" */
	unsigned char *data;
	size_t len;
	const char *type;
	bool html;
	char etag[36]; /* "\"" + 32 hex + "\"" */
};

struct web_config {
	char *root;
	long idle_lock_s;
	struct web_file *files; /* sorted by path once loaded */
	size_t nfiles;
	size_t total; /* bytes loaded */
};

/* Served extensions; anything else under root is not loaded. */
static const struct {
	const char *ext;
	const char *type;
} web_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *web_type_of(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(web_types) / sizeof(web_types[0]); i++) {
		size_t e = strlen(web_types[i].ext);

		if (n > e && strcmp(name + n - e, web_types[i].ext) == 0)
			return web_types[i].type;
	}
	return NULL;
}

/* A plain file or folder name: no leading dot (hidden files, "..", "."),
 * nothing that would need escaping in a URL. */
static bool web_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 100 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* Reads the regular file fd (at most WEB_MAX_FILE_BYTES) into *out. */
static int web_read_fd(int fd, size_t size, const char *url, unsigned char **out,
		       struct focal_err *err)
{
	unsigned char *buf;
	size_t got = 0;

	*out = NULL;
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return focal_err_set(err, FOCAL_E_IO, "web: cannot read %s: %s", url,
					     r < 0 ? strerror(errno) : "file shrank while read");
		}
		got += (size_t)r;
	}
	*out = buf;
	return FOCAL_OK;
}

static int web_add_file(struct web_config *c, int dirfd, const char *name, const char *url,
			const char *type, struct focal_err *err)
{
	struct web_file *f;
	struct stat st;
	unsigned char hash[16];
	int fd, rc;

	/* O_NOFOLLOW: a symlink swapped in after the directory scan is refused
	 * too; O_NONBLOCK: a FIFO cannot hang the start */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return focal_err_set(err, FOCAL_E_IO, "web: cannot open %s: %s", url, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return FOCAL_OK; /* not a regular file any more: skipped */
	}
	if (st.st_size > WEB_MAX_FILE_BYTES) {
		close(fd);
		return focal_err_set(err, FOCAL_E_LIMIT, "web: %s is larger than %ld bytes", url,
				     WEB_MAX_FILE_BYTES);
	}
	if (c->nfiles >= WEB_MAX_FILES || c->total + (size_t)st.st_size > WEB_MAX_TOTAL_BYTES) {
		close(fd);
		return focal_err_set(err, FOCAL_E_LIMIT,
				     "web: the tree exceeds %d files or %ld bytes (at %s)", WEB_MAX_FILES,
				     WEB_MAX_TOTAL_BYTES, url);
	}
	f = &c->files[c->nfiles];
	memset(f, 0, sizeof(*f));
	rc = web_read_fd(fd, (size_t)st.st_size, url, &f->data, err);
	close(fd);
	if (rc != FOCAL_OK)
		return rc;
	if ((f->path = strdup(url)) == NULL) {
		free(f->data);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	f->len = (size_t)st.st_size;
	f->type = type;
	f->html = strncmp(type, "text/html", 9) == 0;
	/* the ETag only has to change when the content does */
	crypto_generichash(hash, sizeof(hash), f->data, f->len, NULL, 0);
	f->etag[0] = '"';
	sodium_bin2hex(f->etag + 1, sizeof(f->etag) - 2, hash, sizeof(hash));
	f->etag[33] = '"';
	f->etag[34] = '\0';
	c->nfiles++;
	c->total += f->len;
	return FOCAL_OK;
}

/* Loads every servable file below the open folder dirfd (consumed), whose
 * URL prefix is `prefix` ("" for the root). */
static int web_load_dir(struct web_config *c, int dirfd, const char *prefix, int depth,
			struct focal_err *err)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	int rc = FOCAL_OK;

	if (d == NULL) {
		close(dirfd);
		return focal_err_set(err, FOCAL_E_IO, "web: cannot list %s/: %s", prefix,
				     strerror(errno));
	}
	while (rc == FOCAL_OK && (e = readdir(d)) != NULL) {
		char url[WEB_URL_MAX];
		struct stat st;
		const char *type;
		int n;

		if (!web_name_ok(e->d_name))
			continue;
		n = snprintf(url, sizeof(url), "%s/%s", prefix, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(url))
			continue;
		/* lstat semantics: a symlink is neither a file nor a folder here */
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (depth + 1 > WEB_MAX_DEPTH)
				continue;
			sub = openat(dirfd, e->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			rc = web_load_dir(c, sub, url, depth + 1, err);
		} else if (S_ISREG(st.st_mode) && (type = web_type_of(e->d_name)) != NULL) {
			rc = web_add_file(c, dirfd, e->d_name, url, type, err);
		}
	}
	closedir(d);
	return rc;
}

static int web_file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct web_file *)a)->path, ((const struct web_file *)b)->path);
}

static const struct web_file *web_find(const struct web_config *c, const char *path)
{
	struct web_file key = { .path = (char *)path };

	if (c == NULL || c->nfiles == 0)
		return NULL;
	return bsearch(&key, c->files, c->nfiles, sizeof(*c->files), web_file_cmp);
}

int web_config_parse(const struct cfg_node *n, struct web_config **out, struct focal_err *err)
{
	static const char *const keys[] = { "root", "idle_lock_minutes", NULL };
	struct web_config *c = NULL;
	struct cfg_node rn;
	long minutes = 5;
	int fd, rc;

	*out = NULL;
	if (n == NULL)
		return FOCAL_OK;
	if ((rc = cfg_expect_map(n, "web", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if (sodium_init() < 0)
		return focal_err_set(err, FOCAL_E_INTERNAL, "libsodium failed to initialise");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	if ((rc = cfg_get_path(n, "root", true, &c->root, err)) != 0 ||
	    (rc = cfg_get_long(n, "idle_lock_minutes", false, 1, 240, &minutes, err)) != 0)
		goto fail;
	c->idle_lock_s = minutes * 60;
	c->files = calloc(WEB_MAX_FILES, sizeof(*c->files));
	if (c->files == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto fail;
	}
	cfg_map_get(n, "root", &rn);
	fd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = cfg_error(&rn, err, "root: cannot open folder %s: %s", c->root, strerror(errno));
		goto fail;
	}
	if ((rc = web_load_dir(c, fd, "", 0, err)) != 0) {
		struct focal_err inner = *err;

		rc = cfg_error(&rn, err, "root %s: %s", c->root, inner.msg);
		goto fail;
	}
	qsort(c->files, c->nfiles, sizeof(*c->files), web_file_cmp);
	if (web_find(c, "/index.html") == NULL) {
		rc = cfg_error(&rn, err, "root: %s has no index.html", c->root);
		goto fail;
	}
	*out = c;
	return FOCAL_OK;
fail:
	web_config_free(c);
	return rc;
}

void web_config_free(struct web_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].path);
		free(c->files[i].data);
	}
	free(c->files);
	free(c->root);
	free(c);
}

const unsigned char *web_config_file(const struct web_config *c, const char *path, size_t *len,
				     const char **type)
{
	const struct web_file *f;

	f = web_find(c, path);
	if (f == NULL)
		return NULL;
	if (len != NULL)
		*len = f->len;
	if (type != NULL)
		*type = f->type;
	return f->data;
}

size_t web_config_nfiles(const struct web_config *c)
{
	return c ? c->nfiles : 0;
}

/* --- HTTP --------------------------------------------------------------- */

static const struct config *web_current_config(struct server_loop *sl)
{
	return sl->loop.sources != NULL ? sl->loop.sources->cfg : NULL;
}

/* "/admin" → 301 "/admin/" when admin/index.html exists.  The Location is
 * echoed only once the path matched a loaded file, so it holds plain
 * characters only. */
static bool web_redirect_folder(struct evhttp_request *req, const struct web_config *wc,
				const char *path)
{
	char key[WEB_URL_MAX];
	int n = snprintf(key, sizeof(key), "%s/index.html", path);

	if (n <= 0 || (size_t)n >= sizeof(key) || path[0] == '\0' ||
	    path[strlen(path) - 1] == '/' || web_find(wc, key) == NULL)
		return false;
	key[strlen(path) + 1] = '\0'; /* "<path>/" */
	reply_headers(req, "text/plain; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", key);
	evhttp_send_reply(req, 301, "Moved Permanently", NULL);
	return true;
}

static void web_static(struct evhttp_request *req, struct server_loop *sl)
{
	const struct config *cfg = web_current_config(sl);
	const struct web_config *wc = cfg ? cfg->web : NULL;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const struct web_file *f;
	const char *inm;
	char key[WEB_URL_MAX];
	struct evbuffer *buf;
	int n;

	/* an unknown API path stays a JSON 404, app or not */
	if (wc == NULL || path == NULL || strncmp(path, "/v1/", 4) == 0) {
		reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use GET");
		return;
	}
	/* The raw path, still percent-encoded, is looked up as is: the table
	 * holds only plain names, so no encoding can name anything else. */
	n = snprintf(key, sizeof(key), "%s%s", path,
		     path[0] != '\0' && path[strlen(path) - 1] == '/' ? "index.html" : "");
	f = (n > 0 && (size_t)n < sizeof(key)) ? web_find(wc, key) : NULL;
	if (f == NULL && web_redirect_folder(req, wc, path))
		return;
	if (f == NULL) {
		reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such file");
		return;
	}
	reply_headers(req, f->type);
	evhttp_remove_header(h, "Content-Security-Policy");
	evhttp_add_header(h, "Content-Security-Policy", WEB_CSP);
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
	evhttp_add_header(h, "Permissions-Policy",
			  "camera=(), microphone=(), geolocation=(), payment=(), usb=()");
	if (!f->html) {
		/* code and styles hold no data: revalidated every time (so an
		 * update is seen at once) but answered 304 when unchanged.  Pages
		 * stay no-store, which also keeps them out of the back/forward
		 * cache after a logout. */
		evhttp_remove_header(h, "Cache-Control");
		evhttp_add_header(h, "Cache-Control", "no-cache");
		evhttp_add_header(h, "ETag", f->etag);
		inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
		if (inm != NULL && strcmp(inm, f->etag) == 0) {
			evhttp_send_reply(req, 304, "Not Modified", NULL);
			return;
		}
	}
	if (cmd == EVHTTP_REQ_HEAD) {
		/* evhttp would send a body given one: only say how long it is */
		char len[32];

		snprintf(len, sizeof(len), "%zu", f->len);
		evhttp_add_header(h, "Content-Length", len);
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	buf = evbuffer_new();
	if (buf == NULL || evbuffer_add(buf, f->data, f->len) != 0) {
		if (buf != NULL)
			evbuffer_free(buf);
		reply_error(req, 503, "Service Unavailable", FOCAL_E_NOMEM, "out of memory");
		return;
	}
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

/* What the app needs before anyone logs in; nothing confidential. */
static void web_settings(struct evhttp_request *req, struct server_loop *sl)
{
	const struct config *cfg = web_current_config(sl);
	long idle = cfg && cfg->web ? cfg->web->idle_lock_s : 300;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use GET");
		return;
	}
	/* the policy's purpose codes are not secret: the app lists them */
	reply_json(req, 200, "OK", json_pack("{s:I, s:o}", "idle_lock_s", (json_int_t)idle,
					     "purposes", policy_purposes_json(cfg)));
}

static json_t *web_source_json(const struct source_def *d)
{
	static const char *const names[] = { "pending", "ok", "truncated", "timeout", "error",
					     "unavailable", "skipped" };
	struct metrics_source_stats st;
	json_t *calls = json_object();

	metrics_source_stats(d->metrics, &st);
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		json_object_set_new(calls, names[i], json_integer((json_int_t)st.calls[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:o, s:I, s:f, s:f}", "name", d->name,
			 "kind", d->conn ? d->conn->kind : "", "owner", d->owner ? d->owner : "",
			 "classification", classification_name(d->classification), "description",
			 d->description ? d->description : "", "deadline_ms",
			 (json_int_t)d->deadline_ms, "circuit_open",
			 d->breaker ? breaker_is_open(d->breaker) : false, "calls", calls,
			 "latency_count", (json_int_t)st.latency_count, "latency_mean_ms",
			 st.latency_mean_ms, "latency_p95_ms", st.latency_p95_ms);
}

/* The admin console's source table: configuration and counters since start,
 * read-only, admin role. */
static void web_admin_sources(struct evhttp_request *req, struct server_loop *sl)
{
	const struct config *cfg = web_current_config(sl);
	struct auth_principal p;
	struct focal_err err;
	json_t *list;
	int rc;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use GET");
		return;
	}
	if ((rc = auth_request_principal(req, sl, &p, &err)) != FOCAL_OK) {
		auth_reply_denied(req, rc, err.msg);
		return;
	}
	if (!principal_has_role(&p, "admin")) {
		reply_error(req, 403, "Forbidden", FOCAL_E_DENIED, "the admin role is required");
		return;
	}
	/* and the policy's word on administering sources (a deployment may
	 * narrow what an admin does) */
	if (policy_check_admin_loop(sl, &p, "sources", &err) != FOCAL_OK) {
		reply_error(req, 403, "Forbidden", FOCAL_E_DENIED, err.msg);
		return;
	}
	list = json_array();
	for (size_t i = 0; cfg != NULL && list != NULL && i < cfg->nsources; i++)
		json_array_append_new(list, web_source_json(&cfg->sources[i]));
	reply_json(req, 200, "OK", json_pack("{s:o}", "sources", list ? list : json_array()));
}

const struct api_route web_routes[] = {
	{ "/v1/web/settings", false, web_settings },
	{ "/v1/admin/sources", false, web_admin_sources },
	{ "/", true, web_static },
	{ NULL, false, NULL },
};
