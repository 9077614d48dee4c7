/*
 * config: load and validate focald's YAML configuration (see config.h and
 * docs/configuration.md).  Validation is complete before anything is used, so
 * a bad file never half-applies; every message names file:line:column.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/oidc.h"
#include "core/metrics.h"
#include "http/web.h"
#include "policy/policy.h"
#include "store/store.h"
#include "sources/breaker.h"
#include "sources/source.h"

static const char *const class_names[] = { "not_sensitive", "restricted",
					   "strictly_confidential", NULL };

const char *classification_name(enum classification c)
{
	return (unsigned)c <= CLASS_STRICTLY_CONFIDENTIAL ? class_names[c] : "unknown";
}

static void server_defaults(struct server_config *s)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	s->port = 8443;
	s->threads = cores > 0 ? (cores > 64 ? 64 : cores) : 1;
	/* more workers than cores cost CPU per SQLite call (bench/README.md) */
	s->workers = s->threads;
	s->max_connections = 1024;
	s->max_header_bytes = 8192;
	s->max_body_bytes = 16384;
	s->timeout_ms = 10000;
	s->search_deadline_ms = 5000;
	s->hsts_max_age = 31536000;
	s->metrics_allow[0].addr = 0x7f000001u; /* 127.0.0.1/32 */
	s->metrics_allow[0].mask = 0xffffffffu;
	s->nmetrics_allow = 1;
}

/* "a.b.c.d" or "a.b.c.d/len" into an IPv4 network. */
static int server_net_parse(const struct cfg_node *item, struct server_net *out,
			    struct focal_err *err)
{
	const char *text = cfg_scalar(item), *slash;
	char host[INET_ADDRSTRLEN];
	struct in_addr in;
	long len = 32;
	size_t hl;

	if (text == NULL)
		return cfg_error(item, err, "expected an IPv4 address or network (a.b.c.d/len)");
	slash = strchr(text, '/');
	hl = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &in) != 1)
		goto bad;
	if (slash != NULL) {
		char *end;

		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || len < 0 || len > 32)
			goto bad;
	}
	out->mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
	out->addr = ntohl(in.s_addr) & out->mask;
	return FOCAL_OK;
bad:
	return cfg_error(item, err, "'%s' is not an IPv4 address or network (a.b.c.d/len)", text);
}

static int server_metrics_allow(const struct cfg_node *n, struct server_config *s,
				struct focal_err *err)
{
	struct cfg_node seq, item;
	int rc;

	if (!cfg_map_get(n, "metrics_allow", &seq))
		return FOCAL_OK;
	if ((rc = cfg_expect_seq(&seq, "metrics_allow", err)) != FOCAL_OK)
		return rc;
	if (cfg_len(&seq) > SERVER_METRICS_ALLOW_MAX)
		return cfg_error(&seq, err, "at most %d networks", SERVER_METRICS_ALLOW_MAX);
	s->nmetrics_allow = 0; /* an empty list: nobody reads /metrics */
	for (size_t i = 0; i < cfg_len(&seq); i++) {
		cfg_seq_at(&seq, i, &item);
		if ((rc = server_net_parse(&item, &s->metrics_allow[i], err)) != FOCAL_OK)
			return rc;
		s->nmetrics_allow++;
	}
	return FOCAL_OK;
}

bool server_net_allows(const struct server_net *nets, size_t n, const char *addr)
{
	struct in_addr in;
	uint32_t a;

	if (addr == NULL || inet_pton(AF_INET, addr, &in) != 1)
		return false;
	a = ntohl(in.s_addr);
	for (size_t i = 0; i < n; i++)
		if ((a & nets[i].mask) == nets[i].addr)
			return true;
	return false;
}

static int config_server(const struct cfg_node *n, struct server_config *s,
			 struct focal_err *err)
{
	static const char *const keys[] = {
		"listen", "port", "threads", "workers", "tls_cert", "tls_key", "tls_client_ca",
		"max_connections", "max_header_bytes", "max_body_bytes", "timeout_ms",
		"search_deadline_ms", "hsts_max_age", "metrics_allow", NULL
	};
	int rc;

	if ((rc = cfg_expect_map(n, "server", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if ((rc = cfg_get_string(n, "listen", false, &s->listen_host, err)) != 0 ||
	    (rc = cfg_get_long(n, "port", false, 1, 65535, &s->port, err)) != 0 ||
	    (rc = cfg_get_long(n, "threads", false, 1, 64, &s->threads, err)) != 0 ||
	    (rc = cfg_get_long(n, "workers", false, 1, 64, &s->workers, err)) != 0 ||
	    (rc = cfg_get_path(n, "tls_cert", true, &s->tls_cert, err)) != 0 ||
	    (rc = cfg_get_path(n, "tls_key", true, &s->tls_key, err)) != 0 ||
	    (rc = cfg_get_path(n, "tls_client_ca", false, &s->tls_client_ca, err)) != 0 ||
	    (rc = cfg_get_long(n, "max_connections", false, 1, 1000000, &s->max_connections,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "max_header_bytes", false, 1024, 1048576, &s->max_header_bytes,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "max_body_bytes", false, 256, 16777216, &s->max_body_bytes,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "timeout_ms", false, 100, 600000, &s->timeout_ms, err)) != 0 ||
	    (rc = cfg_get_long(n, "search_deadline_ms", false, 10, 120000, &s->search_deadline_ms,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "hsts_max_age", false, 0, 63072000, &s->hsts_max_age, err)) != 0 ||
	    (rc = server_metrics_allow(n, s, err)) != 0)
		return rc;
	return FOCAL_OK;
}

static void source_defaults_init(struct source_defaults *d)
{
	d->deadline_ms = 2000;
	d->max_rows = 100;
	d->max_bytes = 1024 * 1024;
	d->breaker_failures = 5;
	d->breaker_cooldown_ms = 10000;
	d->pool_size = 4;
}

/* The per-source limits, shared by `defaults:` and each source. */
static int config_limits(const struct cfg_node *n, struct source_defaults *d,
			 struct focal_err *err)
{
	int rc;

	if ((rc = cfg_get_long(n, "deadline_ms", false, 1, 60000, &d->deadline_ms, err)) != 0 ||
	    (rc = cfg_get_long(n, "max_rows", false, 1, 100000, &d->max_rows, err)) != 0 ||
	    (rc = cfg_get_long(n, "max_bytes", false, 1024, 256L * 1024 * 1024, &d->max_bytes,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "breaker_failures", false, 1, 1000, &d->breaker_failures,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "breaker_cooldown_ms", false, 100, 3600000,
			       &d->breaker_cooldown_ms, err)) != 0 ||
	    (rc = cfg_get_long(n, "pool_size", false, 1, 64, &d->pool_size, err)) != 0)
		return rc;
	return FOCAL_OK;
}

static int config_defaults(const struct cfg_node *n, struct source_defaults *d,
			   struct focal_err *err)
{
	static const char *const keys[] = { "deadline_ms", "max_rows", "max_bytes",
					    "breaker_failures", "breaker_cooldown_ms",
					    "pool_size", NULL };
	int rc;

	if ((rc = cfg_expect_map(n, "defaults", err)) != 0 ||
	    (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	return config_limits(n, d, err);
}

static int config_queries(const struct cfg_node *n, struct source_def *def,
			  struct focal_err *err)
{
	struct cfg_node k, v;
	struct focal_err terr;
	enum query_kind kind;
	int rc;

	if ((rc = cfg_expect_map(n, "queries", err)) != 0)
		return rc;
	if (cfg_len(n) == 0)
		return cfg_error(n, err, "queries: a source must answer at least one query kind");
	for (size_t i = 0; i < cfg_len(n); i++) {
		cfg_map_at(n, i, &k, &v);
		if (cfg_scalar(&k) == NULL || query_kind_parse(cfg_scalar(&k), &kind) != FOCAL_OK)
			return cfg_error(&k, err,
					 "unknown query kind '%s'; expected person, plate, "
					 "national_number, serial, address or phone",
					 cfg_scalar(&k) ? cfg_scalar(&k) : "?");
		if (def->queries[kind].present)
			return cfg_error(&k, err, "query kind '%s' given twice", cfg_scalar(&k));
		if (cfg_scalar(&v) == NULL)
			return cfg_error(&v, err, "%s: expected the query template as text",
					 cfg_scalar(&k));
		def->queries[kind].present = true;
		def->queries[kind].line = cfg_line(&v);
		def->queries[kind].col = cfg_col(&v);
		rc = template_compile(cfg_scalar(&v), def->conn->template_style,
				      &def->queries[kind].tpl, &terr);
		if (rc != 0)
			return cfg_error(&v, err, "%s: %s", cfg_scalar(&k), terr.msg);
	}
	return FOCAL_OK;
}

static int config_parse_source(const struct cfg_node *n, const struct config *cfg,
			 struct source_def *def, struct focal_err *err)
{
	static const char *const keys[] = {
		"name", "kind", "description", "owner", "classification", "connection",
		"queries", "map", "deadline_ms", "max_rows", "max_bytes", "breaker_failures",
		"breaker_cooldown_ms", "pool_size", NULL
	};
	struct source_defaults lim = cfg->defaults;
	struct cfg_node kind_node, conn, queries, map;
	char *kind = NULL;
	int cls = CLASS_RESTRICTED, rc;

	if ((rc = cfg_expect_map(n, "source", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if ((rc = cfg_get_string(n, "name", true, &def->name, err)) != 0)
		return rc;
	for (const char *p = def->name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return cfg_error(n, err,
					 "source name \"%s\": use lower-case letters, digits, '_' "
					 "and '-' only", def->name);
	if ((rc = cfg_get_string(n, "kind", true, &kind, err)) != 0)
		return rc;
	def->conn = connector_find(kind);
	free(kind);
	if (def->conn == NULL) {
		cfg_map_get(n, "kind", &kind_node);
		return cfg_error(&kind_node, err, "unknown source kind \"%s\"; expected one of: %s",
				 cfg_scalar(&kind_node) ? cfg_scalar(&kind_node) : "?",
				 connector_kinds());
	}
	if ((rc = cfg_get_string(n, "description", false, &def->description, err)) != 0 ||
	    (rc = cfg_get_string(n, "owner", true, &def->owner, err)) != 0 ||
	    (rc = cfg_get_enum(n, "classification", true, class_names, &cls, err)) != 0 ||
	    (rc = config_limits(n, &lim, err)) != 0)
		return rc;
	def->classification = (enum classification)cls;
	def->deadline_ms = lim.deadline_ms;
	def->max_rows = lim.max_rows;
	def->max_bytes = lim.max_bytes;
	def->pool_size = lim.pool_size;
	def->breaker_failures = lim.breaker_failures;
	def->breaker_cooldown_ms = lim.breaker_cooldown_ms;
	if (!cfg_map_get(n, "queries", &queries))
		return cfg_error(n, err, "missing required key 'queries'");
	if ((rc = config_queries(&queries, def, err)) != 0)
		return rc;
	if (!cfg_map_get(n, "map", &map))
		return cfg_error(n, err, "missing required key 'map'");
	if ((rc = mapping_parse(&map, def->conn->mapping_from, &def->map, err)) != 0)
		return rc;
	if (!cfg_map_get(n, "connection", &conn))
		return cfg_error(n, err, "missing required key 'connection'");
	if ((rc = cfg_expect_map(&conn, "connection", err)) != 0)
		return rc;
	if (def->conn->configure == NULL)
		return cfg_error(&conn, err, "source kind %s is not available in this build",
				 def->conn->kind);
	return def->conn->configure(def, &conn, err);
}

static int config_sources(const struct cfg_node *n, struct config *cfg, struct focal_err *err)
{
	struct cfg_node item;
	int rc;

	if ((rc = cfg_expect_seq(n, "sources", err)) != 0)
		return rc;
	cfg->sources = calloc(cfg_len(n) ? cfg_len(n) : 1, sizeof(*cfg->sources));
	if (cfg->sources == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < cfg_len(n); i++) {
		cfg_seq_at(n, i, &item);
		cfg->nsources = i + 1; /* so a failure frees what was parsed */
		cfg->sources[i].index = i;
		if ((rc = config_parse_source(&item, cfg, &cfg->sources[i], err)) != 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->sources[j].name, cfg->sources[i].name) == 0)
				return cfg_error(&item, err, "a source named \"%s\" already exists",
						 cfg->sources[i].name);
	}
	return FOCAL_OK;
}

static void config_free(struct config *c)
{
	for (size_t i = 0; i < c->nsources; i++) {
		struct source_def *d = &c->sources[i];

		if (d->conn != NULL && d->conn->config_free != NULL && d->conn_cfg != NULL)
			d->conn->config_free(d->conn_cfg);
		for (int k = 0; k < QUERY__COUNT; k++)
			template_free(&d->queries[k].tpl);
		mapping_free(&d->map);
		free(d->name);
		free(d->owner);
		free(d->description);
	}
	free(c->sources);
	free(c->server.listen_host);
	free(c->server.tls_cert);
	free(c->server.tls_key);
	free(c->server.tls_client_ca);
	store_config_free(c->store);
	auth_config_free(c->auth);
	oidc_config_free(c->oidc);
	policy_config_free(c->policy);
	audit_config_free(c->audit);
	web_config_free(c->web);
	free(c->path);
	free(c);
}

/* The node of an optional section, or NULL when the file has none. */
static const struct cfg_node *config_optional(const struct cfg_node *root, const char *name,
					      struct cfg_node *n)
{
	return cfg_map_get(root, name, n) ? n : NULL;
}

/* Sections owned by other modules; each parser applies its own defaults
 * when its section is absent. */
static int config_modules(const struct cfg_node *root, struct config *c, struct focal_err *err)
{
	struct cfg_node n;
	int rc;

	if ((rc = store_config_parse(config_optional(root, "store", &n), &c->store, err)) != 0 ||
	    (rc = auth_config_parse(config_optional(root, "auth", &n), &c->auth, err)) != 0 ||
	    (rc = oidc_config_parse(config_optional(root, "oidc", &n), &c->oidc, err)) != 0 ||
	    (rc = policy_config_parse(config_optional(root, "policy", &n), &c->policy, err)) != 0 ||
	    (rc = audit_config_parse(config_optional(root, "audit", &n), &c->audit, err)) != 0 ||
	    (rc = web_config_parse(config_optional(root, "web", &n), &c->web, err)) != 0)
		return rc;
	return FOCAL_OK;
}

static int config_build(struct cfg_doc *doc, struct config **out, struct focal_err *err)
{
	static const char *const keys[] = { "server", "defaults", "sources", "store", "auth",
					    "oidc", "policy", "audit", "web", NULL };
	struct config *c;
	struct cfg_node root, n;
	int rc;

	*out = NULL;
	if ((rc = cfg_doc_root(doc, &root, err)) != 0)
		return rc;
	if ((rc = cfg_expect_map(&root, "the file", err)) != 0 ||
	    (rc = cfg_check_keys(&root, keys, err)) != 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->path = strdup(doc->file)) == NULL) {
		free(c);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	atomic_init(&c->refs, 1);
	memcpy(c->sha256, doc->sha256, sizeof(c->sha256));
	server_defaults(&c->server);
	source_defaults_init(&c->defaults);
	if (!cfg_map_get(&root, "server", &n)) {
		rc = cfg_error(&root, err, "missing required section 'server'");
		goto fail;
	}
	if ((rc = config_server(&n, &c->server, err)) != 0)
		goto fail;
	if (cfg_map_get(&root, "defaults", &n) && (rc = config_defaults(&n, &c->defaults, err)) != 0)
		goto fail;
	if (!cfg_map_get(&root, "sources", &n)) {
		rc = cfg_error(&root, err, "missing required section 'sources'");
		goto fail;
	}
	if ((rc = config_sources(&n, c, err)) != 0 || (rc = config_modules(&root, c, err)) != 0)
		goto fail;
	if ((rc = policy_config_bind(c, err)) != 0) /* needs the sources parsed */
		goto fail;
	for (size_t i = 0; i < c->nsources; i++) {
		c->sources[i].breaker = breaker_get(c->sources[i].name);
		c->sources[i].metrics = metrics_source(c->sources[i].name);
		if (c->sources[i].breaker == NULL || c->sources[i].metrics == NULL) {
			rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			goto fail;
		}
	}
	*out = c;
	return FOCAL_OK;
fail:
	config_free(c);
	return rc;
}

int config_load(const char *path, struct config **out, struct focal_err *err)
{
	struct cfg_doc doc;
	int rc;

	*out = NULL;
	rc = cfg_doc_load_file(&doc, path, err);
	if (rc == FOCAL_OK)
		rc = config_build(&doc, out, err);
	cfg_doc_free(&doc);
	return rc;
}

int config_load_string(const char *name, const char *text, size_t len, struct config **out,
		       struct focal_err *err)
{
	struct cfg_doc doc;
	int rc;

	*out = NULL;
	rc = cfg_doc_load_string(&doc, name, text, len, err);
	if (rc == FOCAL_OK)
		rc = config_build(&doc, out, err);
	cfg_doc_free(&doc);
	return rc;
}

struct config *config_ref(struct config *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

void config_unref(struct config *c)
{
	if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
		config_free(c);
}

const struct source_def *config_source(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i].name, name) == 0)
			return &c->sources[i];
	return NULL;
}
