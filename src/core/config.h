/*
 * config: focald's configuration file (YAML), validated as a whole on load.
 *
 *   server:   where and how focald listens, its limits and deadlines
 *   sources:  every back-end source: kind, connection, query templates per
 *             query kind, mapping to canonical records, classification,
 *             owner agency, deadline, limits
 *   store, auth, oidc, policy, audit, web: optional sections, each parsed by
 *             the module that owns it (store_config_parse(), ...)
 *
 * A loaded struct config is immutable and reference-counted: every search
 * holds the configuration it started with, so a reload (SIGHUP) applies to new
 * searches while searches in flight finish on the old one.  An invalid file is
 * rejected with file:line:column and what was expected; nothing is half-applied.
 * See docs/configuration.md.
 */
#ifndef FOCAL_CONFIG_H
#define FOCAL_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "search/query.h"
#include "sources/mapping.h"
#include "sources/template.h"

struct connector;
struct breaker;
struct source_metrics;
struct store_config;
struct auth_config;
struct oidc_config;
struct policy_config;
struct audit_config;
struct web_config;

enum classification {
	CLASS_NOT_SENSITIVE = 0,
	CLASS_RESTRICTED,
	CLASS_STRICTLY_CONFIDENTIAL,
};
const char *classification_name(enum classification c);

#define SERVER_METRICS_ALLOW_MAX 16

struct server_config {
	char *listen_host;        /* default 127.0.0.1 */
	long port;                /* default 8443 */
	long threads;             /* event loops; default: number of cores */
	long workers;             /* worker pool threads; default 4 */
	char *tls_cert, *tls_key; /* PEM files, required */
	char *tls_client_ca;      /* optional: verify client certificates (mTLS) */
	long max_connections;     /* per process; default 1024 */
	long max_header_bytes;    /* default 8192 */
	long max_body_bytes;      /* default 16384 */
	long timeout_ms;          /* read/write idle timeout; default 10000 */
	long search_deadline_ms;  /* overall deadline of one search; default 5000 */
	long hsts_max_age;        /* default 31536000 */
	/* who may read /metrics (source names, rates): IPv4 networks, host
	 * byte order; default 127.0.0.1/32 only */
	struct server_net {
		uint32_t addr, mask;
	} metrics_allow[SERVER_METRICS_ALLOW_MAX];
	size_t nmetrics_allow;
};

/* True when the IPv4 address in dotted form is in one of the networks. */
bool server_net_allows(const struct server_net *nets, size_t n, const char *addr);

/* Default per-source values (`defaults:` section). */
struct source_defaults {
	long deadline_ms;        /* default 2000 */
	long max_rows;           /* default 100 */
	long max_bytes;          /* default 1 MiB */
	long breaker_failures;   /* consecutive failures that open the circuit; default 5 */
	long breaker_cooldown_ms;/* open time before a probe; default 10000 */
	long pool_size;          /* connections per loop for pooled kinds; default 4 */
};

struct source_query {
	bool present;
	struct template tpl;
	size_t line, col; /* position of the template in the file */
};

struct source_def {
	char *name;
	size_t index;                   /* position in config->sources */
	const struct connector *conn;   /* kind */
	void *conn_cfg;                 /* connector-specific, freed by conn->config_free */
	struct source_query queries[QUERY__COUNT];
	struct mapping map;
	enum classification classification;
	char *owner;                    /* owner agency */
	char *description;
	long deadline_ms, max_rows, max_bytes, pool_size;
	long breaker_failures, breaker_cooldown_ms;
	struct breaker *breaker;        /* process-wide, by name; survives reloads */
	struct source_metrics *metrics; /* process-wide, by name */
};

struct config {
	atomic_int refs;
	char *path;
	unsigned char sha256[32]; /* of the file's text: its version in the audit log */
	struct server_config server;
	struct source_defaults defaults;
	struct source_def *sources;
	size_t nsources;
	/* Sections owned by other modules (NULL when absent and the module needs
	 * nothing); freed with the configuration. */
	struct store_config *store;
	struct auth_config *auth;
	struct oidc_config *oidc;
	struct policy_config *policy;
	struct audit_config *audit;
	struct web_config *web;
};

/* Loads and validates path.  *out has one reference. */
int config_load(const char *path, struct config **out, struct focal_err *err);
/* Same from a buffer, named `name` in messages (tests, fuzzing). */
int config_load_string(const char *name, const char *text, size_t len, struct config **out,
		       struct focal_err *err);

struct config *config_ref(struct config *c);
void config_unref(struct config *c); /* NULL-safe; frees at zero */

/* Looks a source up by name (NULL if absent). */
const struct source_def *config_source(const struct config *c, const char *name);

#endif
