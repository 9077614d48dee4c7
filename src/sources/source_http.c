/*
 * source_http: the HTTP/JSON connector.
 *
 * A source of kind "http" is an agency's REST API answering JSON.  Its query
 * template is a URL ("https://api.example/v1/vehicles?plate={plate}") whose
 * values template.c percent-encodes; the answer is parsed with jansson and its
 * rows (map.rows, a JSON pointer) are mapped through JSON pointers relative to
 * each row (mapping.h).
 *
 * Transfers run on the calling loop with libcurl's multi-socket interface:
 * curl tells us which sockets and which timeout to watch, libevent watches
 * them, and we hand readiness back with curl_multi_socket_action().  So a
 * loop drives any number of transfers without blocking and without threads.
 * One CURLM per loop (loop->slot[LOOP_SLOT_HTTP]) is shared by every http
 * source of that loop; its connection cache gives keep-alive reuse between
 * searches, so a busy agency costs one TLS handshake, not one per search.
 *
 * Secure by default: certificates are always verified (there is no switch to
 * turn that off; ca_file names the agency's CA instead), only http and https
 * are spoken, redirects are not followed, proxies from the environment are
 * ignored, and plain http:// is refused for restricted and strictly
 * confidential sources unless the host is the loopback interface.  A
 * response may never make us hold more than the source's max_bytes.
 *
 * Life of a call: start() renders the URL, takes an easy handle (one the
 * loop kept from an earlier call, reset, or a new one) and adds it to the
 * loop's multi; completions are collected with curl_multi_info_read()
 * after every curl_multi_socket_action() (never inside a curl callback, so the
 * fan-out's on_done may freely start or cancel other calls); cancel() removes
 * the handle, which closes its connection if the transfer was half done.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sources/source_http.h"

/* Idle keep-alive connections one loop keeps, over all its http sources.
 * It must exceed the transfers a loop runs at once (searches in flight x
 * http sources): below that, curl closes a connection after every transfer
 * and the next search reconnects.  Measured (bench/, 12 http sources, 32
 * clients): 64 made 11 new connections per search and halved throughput;
 * 512 reuses them all. */
#define HTTP_MAX_CONNECTS 512L
/* Easy handles one loop keeps for reuse (curl_easy_reset between
 * transfers) rather than creating and freeing one per call. */
#define HTTP_IDLE_EASY 256
/* A header value (after ${ENV} expansion) longer than this is a mistake. */
#define HTTP_HEADER_MAX 8192
/* Starting size of a response buffer; it doubles up to max_bytes. */
#define HTTP_BUF_INITIAL 16384
/* curl's own timeout, a safety net behind the caller's deadline, which
 * normally cancels first. */
#define HTTP_SAFETY_MS 1000L

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */

struct http_cfg {
	bool post;
	/* POST: parameters sent in the JSON body (bit per enum query_param);
	 * 0 = every parameter the query has. */
	unsigned body_params;
	/* Parameters that appear in the path (before '?') of each query kind's
	 * URL: these must be present and may not be "." or "..". */
	unsigned path_params[QUERY__COUNT];
	/* Request headers (Accept, configured ones, Content-Type for POST).
	 * Read-only after configure, so every loop may hand it to curl. */
	struct curl_slist *headers;
	char *ca_file;
	char *client_cert;
	char *client_key;
};

static void http_config_free(void *p)
{
	struct http_cfg *c = p;
	struct curl_slist *h;

	if (c == NULL)
		return;
	/* Headers may carry API keys: wipe them before they go back to malloc. */
	for (h = c->headers; h != NULL; h = h->next)
		OPENSSL_cleanse(h->data, strlen(h->data));
	curl_slist_free_all(c->headers);
	free(c->ca_file);
	free(c->client_cert);
	free(c->client_key);
	free(c);
}

/* RFC 9110 token characters, the only ones allowed in a header name. */
static bool http_is_tchar(unsigned char ch)
{
	return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Expands ${NAME} references to environment variables in a header value, so
 * that API keys need not be written into the configuration file.  *out is
 * malloc'd (wiped and freed by the caller). */
static int http_expand_env(const struct cfg_node *n, const char *in, char **out,
			   struct focal_err *err)
{
	char *buf = NULL;
	size_t len = 0, i = 0, j, nlen, vlen;
	char name[128];
	const char *val;
	int rc = FOCAL_OK;

	*out = NULL;
	buf = malloc(HTTP_HEADER_MAX + 1);
	if (buf == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	while (in[i] != '\0') {
		if (in[i] == '$' && in[i + 1] == '{') {
			j = i + 2;
			while (in[j] == '_' || isupper((unsigned char)in[j]) ||
			       isdigit((unsigned char)in[j]))
				j++;
			nlen = j - (i + 2);
			if (in[j] != '}' || nlen == 0 || nlen >= sizeof(name)) {
				rc = cfg_error(n, err,
					       "header value: '${' must be followed by an "
					       "environment variable name (A-Z, 0-9, _) and '}'");
				goto out;
			}
			memcpy(name, in + i + 2, nlen);
			name[nlen] = '\0';
			val = getenv(name);
			if (val == NULL) {
				rc = cfg_error(n, err,
					       "header value: environment variable %s is not set",
					       name);
				goto out;
			}
			vlen = strlen(val);
			if (vlen > HTTP_HEADER_MAX - len)
				goto toolong;
			memcpy(buf + len, val, vlen);
			len += vlen;
			i = j + 1;
			continue;
		}
		if (len >= HTTP_HEADER_MAX)
			goto toolong;
		buf[len++] = in[i++];
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	goto out;
toolong:
	rc = cfg_error(n, err, "header value: longer than %d bytes", HTTP_HEADER_MAX);
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, HTTP_HEADER_MAX + 1);
		free(buf);
	}
	return rc;
}

/* Appends "name: value" to *list. */
static int http_header_add(struct curl_slist **list, const char *name, const char *value,
			   struct focal_err *err)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *line = malloc(n);
	struct curl_slist *l;

	if (line == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	snprintf(line, n, "%s: %s", name, value);
	l = curl_slist_append(*list, line);
	OPENSSL_cleanse(line, n);
	free(line);
	if (l == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	*list = l;
	return FOCAL_OK;
}

/* Headers curl or this connector manage; setting them by hand could only
 * desynchronise the request (request smuggling) or confuse the agency. */
static const char *const http_reserved_headers[] = {
	"host", "content-length", "transfer-encoding", "connection", "expect", "te",
	"upgrade", "content-type", "proxy-authorization", "trailer", NULL,
};

static int http_parse_headers(const struct cfg_node *map, struct http_cfg *c, bool *has_accept,
			      struct focal_err *err)
{
	struct cfg_node k, v;
	size_t i, j, n;
	const char *name, *raw;
	const unsigned char *p;
	char *value = NULL;
	int rc;

	*has_accept = false;
	if ((rc = cfg_expect_map(map, "headers", err)) != 0)
		return rc;
	n = cfg_len(map);
	for (i = 0; i < n; i++) {
		cfg_map_at(map, i, &k, &v);
		name = cfg_scalar(&k);
		if (name == NULL || name[0] == '\0')
			return cfg_error(&k, err, "headers: a header name must be plain text");
		for (p = (const unsigned char *)name; *p != '\0'; p++)
			if (!http_is_tchar(*p))
				return cfg_error(&k, err,
						 "headers: '%s' is not a valid header name", name);
		for (j = 0; http_reserved_headers[j] != NULL; j++)
			if (strcasecmp(name, http_reserved_headers[j]) == 0)
				return cfg_error(&k, err,
						 "headers: %s is set by focald and cannot be "
						 "configured",
						 name);
		for (j = 0; j < i; j++) {
			struct cfg_node k2, v2;

			cfg_map_at(map, j, &k2, &v2);
			if (cfg_scalar(&k2) != NULL && strcasecmp(cfg_scalar(&k2), name) == 0)
				return cfg_error(&k, err,
						 "headers: duplicate header '%s' (first at line %zu)",
						 name, cfg_line(&k2));
		}
		raw = cfg_scalar(&v);
		if (raw == NULL)
			return cfg_error(&v, err, "headers: %s: expected text", name);
		if ((rc = http_expand_env(&v, raw, &value, err)) != 0)
			return rc;
		/* CR or LF would let a value start another header; other controls
		 * are never legitimate. */
		for (p = (const unsigned char *)value; *p != '\0'; p++)
			if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
				break;
		if (*p != '\0') {
			rc = cfg_error(&v, err, "headers: %s: control characters are not allowed",
				       name);
		} else {
			rc = http_header_add(&c->headers, name, value, err);
		}
		OPENSSL_cleanse(value, strlen(value));
		free(value);
		value = NULL;
		if (rc != 0)
			return rc;
		if (strcasecmp(name, "accept") == 0)
			*has_accept = true;
	}
	return FOCAL_OK;
}

/* Reads an optional file path key and checks now, at load, that the file can
 * be read: a typo must fail the configuration, not the first search. */
static int http_get_file(const struct cfg_node *conn, const char *key, char **out,
			 struct focal_err *err)
{
	struct cfg_node v;
	int rc;

	if (!cfg_map_get(conn, key, &v))
		return FOCAL_OK;
	/* relative to the configuration file's folder */
	if ((rc = cfg_get_path(conn, key, false, out, err)) != 0)
		return rc;
	if (cfg_scalar(&v)[0] == '\0' || access(*out, R_OK) != 0)
		return cfg_error(&v, err, "%s: cannot read \"%s\"", key, *out);
	return FOCAL_OK;
}

static bool http_host_is_loopback(const char *host, size_t len)
{
	if (len == 9 && strncasecmp(host, "localhost", 9) == 0)
		return true;
	if (len == 5 && memcmp(host, "[::1]", 5) == 0)
		return true;
	return len > 4 && memcmp(host, "127.", 4) == 0 &&
	       strspn(host, "0123456789.") >= len;
}

/* Checks one query's URL template: a literal http(s) scheme and host (a
 * parameter there would let a value choose where the query goes), no
 * credentials in the URL, plain http only where allowed.  Records which
 * parameters sit in the path. */
static int http_check_url(const struct source_def *def, const struct source_query *q,
			  const char *file, unsigned *path_params, struct focal_err *err)
{
	const struct template *t = &q->tpl;
	const char *text = t->text;
	size_t lit, start, end, hlen, i;
	const char *host;
	bool tls, in_query = false;

#define URL_ERR(...)                                                                       \
	focal_err_set(err, FOCAL_E_CONFIG, "%s:%zu:%zu: %s", file, q->line, q->col,         \
		      (snprintf(msg, sizeof(msg), __VA_ARGS__), msg))
	char msg[300];

	if (strncmp(text, "https://", 8) == 0) {
		tls = true;
		start = 8;
	} else if (strncmp(text, "http://", 7) == 0) {
		tls = false;
		start = 7;
	} else {
		return URL_ERR("an http source's query must be a URL starting with https:// "
			       "or http://");
	}
	lit = (t->nparts > 0 && t->parts[0].param < 0) ? t->parts[0].off + t->parts[0].len : 0;
	if (lit < start)
		return URL_ERR("the scheme and host of the URL must be written out, not "
			       "parameters");
	end = start + strcspn(text + start, "/?#");
	if (end > lit || (end == lit && t->nparts > 1))
		return URL_ERR("the host of the URL must be written out, not a parameter");
	host = text + start;
	hlen = end - start;
	if (memchr(host, '@', hlen) != NULL)
		return URL_ERR("no user name or password in the URL; use headers "
			       "(e.g. Authorization: \"Bearer ${AGENCY_TOKEN}\")");
	if (strchr(text, '#') != NULL)
		return URL_ERR("a URL fragment ('#') is never sent; remove it");
	/* host without :port (an IPv6 literal keeps its brackets) */
	if (hlen > 0 && host[0] == '[') {
		const char *rb = memchr(host, ']', hlen);
		if (rb != NULL)
			hlen = (size_t)(rb - host) + 1;
	} else {
		const char *colon = memchr(host, ':', hlen);
		if (colon != NULL)
			hlen = (size_t)(colon - host);
	}
	if (hlen == 0)
		return URL_ERR("the URL has no host");
	if (!tls && def->classification != CLASS_NOT_SENSITIVE &&
	    !http_host_is_loopback(host, hlen))
		return URL_ERR("a %s source must be reached over https:// (plain http:// is "
			       "only allowed for not_sensitive sources or the loopback "
			       "interface)",
			       classification_name(def->classification));
	*path_params = 0;
	for (i = 0; i < t->nparts; i++) {
		const struct template_part *p = &t->parts[i];

		if (p->param < 0) {
			if (memchr(text + p->off, '?', p->len) != NULL)
				in_query = true;
		} else if (!in_query) {
			*path_params |= 1u << p->param;
		}
	}
	return FOCAL_OK;
#undef URL_ERR
}

static int http_configure(struct source_def *def, const struct cfg_node *connection,
			  struct focal_err *err)
{
	static const char *const keys[] = {
		"method", "headers", "ca_file", "client_cert", "client_key", "body_params", NULL,
	};
	static const char *const methods[] = { "GET", "POST", NULL };
	struct http_cfg *c;
	struct cfg_node n;
	const char *file = connection != NULL ? connection->file : NULL;
	bool has_accept = false, has_conn;
	int method = 0, rc = FOCAL_OK;
	size_t k, i;

	def->conn_cfg = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	has_conn = connection != NULL && connection->node != NULL;
	if (has_conn) {
		if ((rc = cfg_expect_map(connection, "connection", err)) != 0)
			goto out;
		/* Say plainly why there is no such switch, rather than "unknown key". */
		if (cfg_map_get(connection, "verify", &n) ||
		    cfg_map_get(connection, "insecure", &n) ||
		    cfg_map_get(connection, "verify_peer", &n)) {
			rc = cfg_error(&n, err,
				       "certificate verification cannot be turned off; name the "
				       "agency's CA certificate with ca_file instead");
			goto out;
		}
		if ((rc = cfg_check_keys(connection, keys, err)) != 0 ||
		    (rc = cfg_get_enum(connection, "method", false, methods, &method, err)) != 0 ||
		    (rc = http_get_file(connection, "ca_file", &c->ca_file, err)) != 0 ||
		    (rc = http_get_file(connection, "client_cert", &c->client_cert, err)) != 0 ||
		    (rc = http_get_file(connection, "client_key", &c->client_key, err)) != 0)
			goto out;
		c->post = method == 1;
		if ((c->client_cert == NULL) != (c->client_key == NULL)) {
			rc = cfg_error(connection, err,
				       "client_cert and client_key must be given together");
			goto out;
		}
		if (cfg_map_get(connection, "headers", &n) &&
		    (rc = http_parse_headers(&n, c, &has_accept, err)) != 0)
			goto out;
		if (cfg_map_get(connection, "body_params", &n)) {
			if (!c->post) {
				rc = cfg_error(&n, err, "body_params: only with method: POST");
				goto out;
			}
			if ((rc = cfg_expect_seq(&n, "body_params", err)) != 0)
				goto out;
			for (i = 0; i < cfg_len(&n); i++) {
				struct cfg_node item;
				enum query_param qp;
				const char *s;

				cfg_seq_at(&n, i, &item);
				s = cfg_scalar(&item);
				if (s == NULL || query_param_parse(s, &qp) != 0) {
					rc = cfg_error(&item, err,
						       "body_params: \"%s\" is not a query "
						       "parameter",
						       s ? s : "(not text)");
					goto out;
				}
				c->body_params |= 1u << qp;
			}
		}
	}
	for (k = 0; k < QUERY__COUNT; k++) {
		if (!def->queries[k].present)
			continue;
		if ((rc = http_check_url(def, &def->queries[k], file ? file : "?",
					 &c->path_params[k], err)) != 0)
			goto out;
	}
	if ((!has_accept && (rc = http_header_add(&c->headers, "Accept", "application/json",
						  err)) != 0) ||
	    (c->post && (rc = http_header_add(&c->headers, "Content-Type", "application/json",
					      err)) != 0))
		goto out;
	if (c->post) {
		/* no "100-continue" round trip for our small bodies */
		struct curl_slist *l = curl_slist_append(c->headers, "Expect:");
		if (l == NULL) {
			rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			goto out;
		}
		c->headers = l;
	}
	def->conn_cfg = c;
	c = NULL;
out:
	http_config_free(c);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Per-loop state: the multi handle and the events curl asks us to watch    */

struct http_sock {
	struct http_loop *hl;
	curl_socket_t fd;
	struct event *ev;
	struct http_sock *prev, *next;
};

struct http_loop {
	struct loop *loop;
	CURLM *multi;
	struct event *timer;
	struct http_sock *socks; /* every socket curl watches */
	CURL *idle[HTTP_IDLE_EASY]; /* reset easy handles, ready for the next call */
	size_t nidle;
};

/* Per call. */
struct http_xfer {
	struct source_call *call;
	struct http_loop *hl;
	CURL *easy;
	char *url;
	char *body;            /* POST body; curl reads it in place */
	char *buf;             /* response so far */
	size_t len, cap, max;
	bool too_big, bad_status, nomem;
	long status;
	char errbuf[CURL_ERROR_SIZE];
};

static void http_check_done(struct http_loop *hl);

static void http_sock_free(struct http_sock *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->hl->socks = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	event_free(s->ev);
	free(s);
}

static void http_loop_free(void *p)
{
	struct http_loop *hl = p;

	if (hl == NULL)
		return;
	while (hl->nidle > 0)
		curl_easy_cleanup(hl->idle[--hl->nidle]);
	/* curl may call our socket/timer functions while it closes cached
	 * connections, so hl stays whole until it returns. */
	curl_multi_cleanup(hl->multi);
	while (hl->socks != NULL)
		http_sock_free(hl->socks);
	if (hl->timer != NULL)
		event_free(hl->timer);
	free(hl);
}

static void http_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sock *s = arg;
	struct http_loop *hl = s->hl; /* s may be freed by socket_action */
	int running = 0, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(hl->multi, fd, action, &running);
	http_check_done(hl);
}

static void http_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_loop *hl = arg;
	int running = 0;

	(void)fd;
	(void)what;
	curl_multi_socket_action(hl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(hl);
}

/* CURLMOPT_SOCKETFUNCTION: curl says what to watch on s. */
static int http_socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_loop *hl = userp;
	struct http_sock *s = socketp;
	short flags = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			curl_multi_assign(hl->multi, fd, NULL);
			http_sock_free(s);
		}
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		s->hl = hl;
		s->fd = fd;
		s->ev = event_new(hl->loop->base, fd, 0, http_event_cb, s);
		if (s->ev == NULL) {
			free(s);
			return -1;
		}
		s->next = hl->socks;
		if (hl->socks != NULL)
			hl->socks->prev = s;
		hl->socks = s;
		curl_multi_assign(hl->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		flags |= EV_READ;
	if (what & CURL_POLL_OUT)
		flags |= EV_WRITE;
	event_del(s->ev);
	if (event_assign(s->ev, hl->loop->base, fd, flags, http_event_cb, s) != 0 ||
	    event_add(s->ev, NULL) != 0)
		return -1;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called back after timeout_ms (-1:
 * never).  Only schedules: calling curl from here is not allowed. */
static int http_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_loop *hl = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(hl->timer);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(hl->timer, &tv);
}

static int http_loop_get(struct loop *l, struct http_loop **out, struct focal_err *err)
{
	struct http_loop *hl = l->slot[LOOP_SLOT_HTTP];

	*out = NULL;
	if (hl == NULL) {
		hl = calloc(1, sizeof(*hl));
		if (hl == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		hl->loop = l;
		hl->multi = curl_multi_init();
		hl->timer = evtimer_new(l->base, http_timer_cb, hl);
		if (hl->multi == NULL || hl->timer == NULL ||
		    curl_multi_setopt(hl->multi, CURLMOPT_SOCKETFUNCTION, http_socket_fn) !=
			    CURLM_OK ||
		    curl_multi_setopt(hl->multi, CURLMOPT_SOCKETDATA, hl) != CURLM_OK ||
		    curl_multi_setopt(hl->multi, CURLMOPT_TIMERFUNCTION, http_timer_fn) !=
			    CURLM_OK ||
		    curl_multi_setopt(hl->multi, CURLMOPT_TIMERDATA, hl) != CURLM_OK ||
		    curl_multi_setopt(hl->multi, CURLMOPT_MAXCONNECTS, HTTP_MAX_CONNECTS) !=
			    CURLM_OK) {
			http_loop_free(hl);
			return focal_err_set(err, FOCAL_E_INTERNAL, "cannot set up libcurl");
		}
		l->slot[LOOP_SLOT_HTTP] = hl;
		l->slot_free[LOOP_SLOT_HTTP] = http_loop_free;
	}
	*out = hl;
	return FOCAL_OK;
}

/* ------------------------------------------------------------------------ */
/* One transfer                                                             */

/* An easy handle: a reset one the loop kept, or a new one.  Reuse saves
 * curl's allocation and set-up of a handle per call; the options are all set
 * again by http_start, and connections live in the multi's cache either way. */
static CURL *http_easy_get(struct http_loop *hl)
{
	return hl->nidle > 0 ? hl->idle[--hl->nidle] : curl_easy_init();
}

/* Back for reuse (not in the multi any more): reset, so nothing of this
 * call (URL, body, error buffer, private pointer) reaches the next. */
static void http_easy_put(struct http_loop *hl, CURL *easy)
{
	if (hl->nidle == HTTP_IDLE_EASY) {
		curl_easy_cleanup(easy);
		return;
	}
	curl_easy_reset(easy);
	hl->idle[hl->nidle++] = easy;
}

static void http_xfer_free(struct http_xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL) {
		curl_multi_remove_handle(x->hl->multi, x->easy);
		http_easy_put(x->hl, x->easy);
	}
	free(x->url);
	if (x->body != NULL) {
		OPENSSL_cleanse(x->body, strlen(x->body));
		free(x->body);
	}
	free(x->buf);
	free(x);
}

/* CURLOPT_WRITEFUNCTION: keeps at most x->max bytes.  Returning less than
 * given aborts the transfer (CURLE_WRITE_ERROR). */
static size_t http_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nmemb, cap;
	char *nb;

	if (x->status == 0) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
		/* An error page is not worth reading. */
		if (x->status < 200 || x->status > 299) {
			x->bad_status = true;
			return 0;
		}
	}
	if (n > x->max - x->len) {
		x->too_big = true;
		return 0;
	}
	if (x->len + n > x->cap) {
		cap = x->cap ? x->cap : HTTP_BUF_INITIAL;
		while (cap < x->len + n)
			cap *= 2;
		if (cap > x->max)
			cap = x->max;
		nb = realloc(x->buf, cap);
		if (nb == NULL) {
			x->nomem = true;
			return 0;
		}
		x->buf = nb;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	return n;
}

/* A row as the mapping getter sees it: the JSON value and a scratch buffer
 * for values that need formatting (valid until the next get on this row). */
struct http_row {
	json_t *row;
	char buf[MAPPING_VALUE_MAX + 8];
};

/* Text of a scalar: strings as they are, numbers and booleans formatted into
 * tmp.  Returns false for null, arrays and objects. */
static bool http_scalar(json_t *v, char *tmp, size_t tmpsz, const char **s, size_t *len)
{
	int n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		*s = json_string_value(v);
		*len = json_string_length(v);
		return true;
	case JSON_INTEGER:
		n = snprintf(tmp, tmpsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		/* 15 digits: 17 would print 0.1 as 0.10000000000000001 */
		n = snprintf(tmp, tmpsz, "%.15g", json_real_value(v));
		break;
	case JSON_TRUE:
		n = snprintf(tmp, tmpsz, "true");
		break;
	case JSON_FALSE:
		n = snprintf(tmp, tmpsz, "false");
		break;
	default:
		return false;
	}
	if (n < 0 || (size_t)n >= tmpsz)
		return false;
	*s = tmp;
	*len = (size_t)n;
	return true;
}

/* mapping_get_fn for JSON rows: `from` is a JSON pointer relative to the row.
 * An array of scalars becomes one value joined with "; " (aliases, several
 * phone numbers); objects and nulls count as absent. */
static int http_get(void *rowp, const char *from, const char **val, size_t *len)
{
	struct http_row *r = rowp;
	json_t *v = mapping_json_pointer(r->row, from), *item;
	char tmp[64];
	const char *s;
	size_t i, n, off = 0;

	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		if (!http_scalar(v, r->buf, sizeof(r->buf), val, len))
			return 0;
		return 1;
	}
	json_array_foreach(v, i, item) {
		if (!http_scalar(item, tmp, sizeof(tmp), &s, &n))
			continue;
		if (off > 0) {
			if (sizeof(r->buf) - off < 2)
				break;
			memcpy(r->buf + off, "; ", 2);
			off += 2;
		}
		/* Longer than mapping keeps anyway: stop here, mapping cuts the
		 * excess at a UTF-8 boundary. */
		if (n > sizeof(r->buf) - off)
			n = sizeof(r->buf) - off;
		memcpy(r->buf + off, s, n);
		off += n;
		if (off >= sizeof(r->buf))
			break;
	}
	if (off == 0)
		return 0;
	*val = r->buf;
	*len = off;
	return 1;
}

/* Parses the body and feeds its rows.  Returns the status to finish with and
 * fills reason. */
enum source_status source_http_rows(struct source_call *call, const char *body, size_t len,
				    char *reason, size_t reasonsz)
{
	const char *rows_ptr = call->def->map.rows;
	json_error_t jerr;
	json_t *root, *rows, *item;
	struct http_row *row = NULL;
	enum source_status st = SOURCE_OK;
	size_t i;
	int rc = 0;

	reason[0] = '\0';
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(reason, reasonsz, "malformed JSON at line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		return SOURCE_ERROR;
	}
	rows = (rows_ptr == NULL || rows_ptr[0] == '\0') ? root
							 : mapping_json_pointer(root, rows_ptr);
	if (rows == NULL) {
		/* Not "no hit": the agency's answer no longer has the shape we
		 * were told, and an officer must not read that as "nothing known". */
		snprintf(reason, reasonsz, "the answer has no %s (map.rows)", rows_ptr);
		st = SOURCE_ERROR;
		goto out;
	}
	if (json_is_null(rows))
		goto out;
	row = malloc(sizeof(*row));
	if (row == NULL) {
		snprintf(reason, reasonsz, "out of memory");
		st = SOURCE_ERROR;
		goto out;
	}
	if (json_is_array(rows)) {
		json_array_foreach(rows, i, item) {
			if (json_is_null(item))
				continue;
			row->row = item;
			if ((rc = source_call_add_row(call, http_get, row)) != 0)
				break;
		}
	} else {
		row->row = rows;
		rc = source_call_add_row(call, http_get, row);
	}
	if (rc < 0) {
		/* source_call_add_row left mapping's message in call->reason */
		snprintf(reason, reasonsz, "%s",
			 call->reason[0] ? call->reason : "mapping the answer failed");
		st = SOURCE_ERROR;
	}
out:
	free(row);
	json_decref(root);
	return st;
}

/* A transfer is over: detach it from the call, then judge and report. */
static void http_xfer_done(struct http_xfer *x, CURLcode res)
{
	struct source_call *call = x->call;
	enum source_status st = SOURCE_OK;
	char reason[256];
	long status = 0;

	reason[0] = '\0';
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	call->priv = NULL;
	if (x->too_big || res == CURLE_FILESIZE_EXCEEDED) {
		st = SOURCE_ERROR;
		snprintf(reason, sizeof(reason), "response larger than %zu bytes; discarded",
			 x->max);
	} else if (x->nomem) {
		st = SOURCE_ERROR;
		snprintf(reason, sizeof(reason), "out of memory reading the response");
	} else if (x->bad_status || (res == CURLE_OK && (status < 200 || status > 299))) {
		st = SOURCE_ERROR;
		snprintf(reason, sizeof(reason), "HTTP %ld", status);
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		st = SOURCE_TIMEOUT;
		snprintf(reason, sizeof(reason), "no answer in time");
	} else if (res != CURLE_OK) {
		st = SOURCE_ERROR;
		snprintf(reason, sizeof(reason), "%s",
			 x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	} else if (status != 204) {
		st = source_http_rows(call, x->buf ? x->buf : "", x->len, reason, sizeof(reason));
	}
	/* Everything of the transfer goes before the call is reported: on_done
	 * may clear the call or start others on this multi. */
	http_xfer_free(x);
	if (reason[0] != '\0')
		source_call_finish(call, st, "%s", reason);
	else
		source_call_finish(call, st, NULL);
}

/* Collects finished transfers after curl has run. */
static void http_check_done(struct http_loop *hl)
{
	CURLMsg *m;
	int left;
	struct http_xfer *x;
	char *priv;

	while ((m = curl_multi_info_read(hl->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct http_xfer *)(void *)priv;
		if (x != NULL)
			http_xfer_done(x, m->data.result);
	}
}

/* The POST body: the query's parameters (those named by body_params, or all
 * present) as one JSON object. */
static char *http_post_body(const struct http_cfg *c, const struct query *q)
{
	json_t *o = json_object();
	char *s = NULL;
	int p;

	if (o == NULL)
		return NULL;
	for (p = 0; p < QP__COUNT; p++) {
		if (q->param[p] == NULL)
			continue;
		if (c->body_params != 0 && !(c->body_params & (1u << p)))
			continue;
		if (json_object_set_new(o, query_param_name((enum query_param)p),
					json_string(q->param[p])) != 0)
			goto out;
	}
	s = json_dumps(o, JSON_COMPACT);
out:
	json_decref(o);
	return s;
}

#define SETOPT(opt, val)                                                                   \
	do {                                                                               \
		if (curl_easy_setopt(x->easy, opt, val) != CURLE_OK) {                     \
			what = #opt;                                                       \
			goto fail;                                                         \
		}                                                                          \
	} while (0)

static void http_start(struct source_call *call)
{
	const struct source_def *def = call->def;
	const struct http_cfg *c = def->conn_cfg;
	const struct query *q = call->query;
	struct focal_err err = { 0 };
	struct http_loop *hl = NULL;
	struct http_xfer *x = NULL;
	const char *what = NULL;
	long timeout;
	int p;

	call->priv = NULL;
	if (c == NULL || !def->queries[q->kind].present) {
		source_call_finish(call, SOURCE_ERROR, "source does not answer %s queries",
				   query_kind_name(q->kind));
		return;
	}
	/* A value in the path must be a real path segment: "" or ".." would
	 * make /v1/vehicles/{plate} ask for the whole collection or its parent. */
	for (p = 0; p < QP__COUNT; p++) {
		const char *v = q->param[p];

		if (!(c->path_params[q->kind] & (1u << p)))
			continue;
		if (v == NULL || v[0] == '\0' || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
			source_call_finish(call, SOURCE_ERROR,
					   "parameter %s is missing or not usable in a URL path; "
					   "not asked",
					   query_param_name((enum query_param)p));
			return;
		}
	}
	if (http_loop_get(call->loop, &hl, &err) != 0) {
		source_call_finish(call, SOURCE_ERROR, "%s", err.msg);
		return;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		source_call_finish(call, SOURCE_ERROR, "out of memory");
		return;
	}
	x->call = call;
	x->hl = hl;
	x->max = def->max_bytes > 0 ? (size_t)def->max_bytes : 1048576u;
	if (template_render_url(&def->queries[q->kind].tpl, q, &x->url, &err) != 0) {
		http_xfer_free(x);
		source_call_finish(call, SOURCE_ERROR, "%s", err.msg);
		return;
	}
	x->easy = http_easy_get(hl);
	if (x->easy == NULL) {
		what = "curl_easy_init";
		goto fail;
	}
	timeout = def->deadline_ms > 0 ? def->deadline_ms + HTTP_SAFETY_MS : 60000L;
	SETOPT(CURLOPT_URL, x->url);
	SETOPT(CURLOPT_PRIVATE, (char *)x);
	SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	/* An http_proxy variable in focald's environment must not divert police
	 * queries through a host nobody configured. */
	SETOPT(CURLOPT_PROXY, "");
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca_file != NULL)
		SETOPT(CURLOPT_CAINFO, c->ca_file);
	if (c->client_cert != NULL) {
		SETOPT(CURLOPT_SSLCERT, c->client_cert);
		SETOPT(CURLOPT_SSLKEY, c->client_key);
	}
	/* Send the URL exactly as rendered (values are already encoded). */
	SETOPT(CURLOPT_PATH_AS_IS, 1L);
	SETOPT(CURLOPT_HTTPHEADER, c->headers);
	SETOPT(CURLOPT_USERAGENT, "focald/0.1");
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_TIMEOUT_MS, timeout);
	/* Refuses at once an answer whose announced length is too big. */
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	SETOPT(CURLOPT_WRITEFUNCTION, http_write_cb);
	SETOPT(CURLOPT_WRITEDATA, x);
	if (c->post) {
		x->body = http_post_body(c, q);
		if (x->body == NULL) {
			what = "the request body";
			goto fail;
		}
		SETOPT(CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
		SETOPT(CURLOPT_POSTFIELDS, x->body);
	}
	if (curl_multi_add_handle(hl->multi, x->easy) != CURLM_OK) {
		what = "curl_multi_add_handle";
		goto fail;
	}
	call->priv = x;
	/* curl now asks for a timer of 0 ms through http_timer_fn; the transfer
	 * begins when the loop runs it. */
	return;
fail:
	if (x->easy != NULL) {
		curl_easy_cleanup(x->easy); /* never added: not reused either */
		x->easy = NULL;
	}
	http_xfer_free(x);
	source_call_finish(call, SOURCE_ERROR, "cannot set up the request (%s)", what);
}

#undef SETOPT

static void http_cancel(struct source_call *call)
{
	struct http_xfer *x = call->priv;

	call->priv = NULL;
	/* Removing a half-done transfer makes curl close its connection rather
	 * than return it to the cache. */
	http_xfer_free(x);
}

static void http_rt_free(struct source_rt *rt)
{
	/* All per-loop state lives in the loop slot, shared by http sources. */
	(void)rt;
}

const struct connector connector_http = {
	.kind = "http",
	.template_style = TEMPLATE_BRACE,
	.mapping_from = MAPPING_FROM_POINTER,
	.configure = http_configure,
	.config_free = http_config_free,
	.start = http_start,
	.cancel = http_cancel,
	.rt_free = http_rt_free,
};
