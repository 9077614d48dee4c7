/*
 * source_ldap: the LDAP connector.
 *
 * Searches a directory (OpenLDAP, Active Directory, ...) with OpenLDAP's
 * libldap, asynchronously, on the loop's libevent base: the simple bind
 * (ldap_sasl_bind with LDAP_SASL_SIMPLE) and the search (ldap_search_ext) are
 * sent without waiting, the connection's socket (LDAP_OPT_DESC) is watched
 * with a libevent event, and when it is readable ldap_result(LDAP_MSG_ONE,
 * zero timeout) is called until it has nothing more, so one loop thread can
 * have many searches in flight and never blocks on a directory.
 *
 * Configuration (see docs/connectors/ldap.md):
 *   connection: { uri: "ldap://10.1.2.3", base: "ou=people,dc=example,dc=org",
 *                 scope: sub, bind_dn: "...", bind_password_file: secret.txt,
 *                 starttls: true, ca_file: agency-ca.pem }
 * The query template is an LDAP filter with {name} parameters; every value is
 * escaped per RFC 4515 by template.c, so a search term can never change the
 * filter's structure.  The search asks the server for at most max_rows + 1
 * entries (sizelimit; one more than we accept tells source_call_add_row the
 * answer was truncated) and for a time limit derived from the deadline, and
 * only for the attributes the mapping reads.
 *
 * Connecting without blocking the loop:
 *  - plain ldap:// to an IP address: LDAP_OPT_CONNECT_ASYNC makes libldap's
 *    connect() nonblocking; the first ldap_sasl_bind then answers
 *    LDAP_X_CONNECTING, we wait for the socket to become writable (connect
 *    done or failed) and call ldap_sasl_bind again, which now sends the bind.
 *  - ldaps://, StartTLS or a host name: libldap has no asynchronous TLS
 *    handshake (ldap_int_tls_start polls until it is done) and resolves names
 *    with a blocking getaddrinfo(), so the connection is opened on the worker
 *    pool (ldap_connect / ldap_start_tls_s, bounded by LDAP_OPT_NETWORK_TIMEOUT
 *    and LDAP_OPT_TIMEOUT = the source's deadline) and handed back to the
 *    loop, where the bind and the searches run asynchronously as above.
 * libldap leaves the socket in blocking mode once connected; we set it back
 * to nonblocking before reading, so that a partial message makes ldap_result
 * return rather than wait for the rest.
 *
 * Connection pool: per loop and per source (call->rt->state), at most
 * pool_size bound connections, each running one search at a time, on the
 * shared mechanism of connpool.h (wait queue, pump policy, deferred
 * freeing).  A call waits in a FIFO queue while the pool opens connections
 * up to its limit; a failed connection attempt fails the call waiting
 * longest (so a dead server answers every call with its own error, never a
 * busy loop).  A connection
 * whose call was cancelled mid-search is abandoned (ldap_abandon_ext) and
 * closed (ldap_unbind_ext), not returned; one that broke is dropped; one
 * that reached the row or byte limit abandons the rest of the answer and is
 * reused (libldap discards what still arrives for an abandoned message).
 *
 * Rows: an entry's attribute is found by name, case-insensitively as LDAP
 * attribute names are; several values are joined with "; "; the name "dn"
 * gives the entry's distinguished name.  What happens to each message of a
 * search (source_ldap_search_message, source_ldap.h) is shared with the fuzz
 * harness fuzz/fuzz_ldap_answer.c, which drives libldap with hostile BER.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <lber.h>
#include <ldap.h>
#include <openssl/crypto.h>

#include "core/log.h"
#include "core/workpool.h"
#include "sources/connpool.h"
#include "sources/source.h"
#include "sources/source_ldap.h"
#include "sources/template.h"
#include "sources/utf8text.h"

#define LSRC_IDLE_MS 60000          /* an idle pooled connection is closed after this */
#define LSRC_REASON_MAX 200         /* a reason must fit in source_call.reason with a prefix */
#define LSRC_PASSWORD_MAX 1024      /* a bind_password_file larger than this is a mistake */
#define LSRC_JOIN_MAX (MAPPING_VALUE_MAX + 8) /* joined values beyond this are cut anyway */
#define LSRC_MSG_SLACK (64 * 1024)  /* one message may exceed max_bytes by this much */

/* def->conn_cfg of an ldap source. */
struct lsrc_conf {
	char *uri;
	bool tls;           /* ldaps:// */
	bool starttls;
	bool on_loop;       /* plain ldap:// to an IP address: connect on the loop */
	bool loopback;      /* the server is on this machine */
	char *bind_dn;      /* NULL: anonymous */
	char *password;     /* NULL: anonymous; wiped on free */
	size_t password_len;
	char *base;
	int scope;          /* LDAP_SCOPE_* */
	char *ca_file;      /* NULL: the system's CAs (libldap's TLS_CACERT) */
	char **attrs;       /* NULL-terminated; strings borrowed from def->map, or "1.1" */
};

enum lsrc_state {
	LS_OPENING,    /* on the worker pool: TCP connect (+ TLS) */
	LS_CONNECTING, /* on the loop: nonblocking TCP connect, waiting for writability */
	LS_BINDING,    /* bind sent, waiting for its result */
	LS_IDLE,       /* in the pool, waiting for a call */
	LS_BUSY,       /* running the search of pc */
};

struct lsrc_pool;
struct lsrc_call;
struct lsrc_job;

struct lsrc_conn {
	struct lsrc_pool *pool;
	LDAP *ld;            /* owned, unless job != NULL (then the job's until it is done) */
	struct event ev;     /* on the socket; re-assigned whenever the wanted events change */
	bool ev_set;
	enum lsrc_state state;
	int msgid;           /* of the bind (LS_BINDING) or search (LS_BUSY) */
	struct lsrc_call *pc;/* LS_BUSY only */
	struct lsrc_job *job;/* LS_OPENING only */
	uint64_t t0_ns;      /* start of the connection attempt */
	bool used;           /* has run a search before (may have gone stale) */
	struct connpool_conn link; /* in pool->cp.conns; opening until LS_IDLE */
};

/* call->priv. */
struct lsrc_call {
	struct connpool_waiter w; /* the call, its pool (NULL once gone), the queue */
	struct lsrc_conn *conn;  /* while its search runs */
	bool retried;            /* already re-queued once after a stale connection */
	char *filter;            /* rendered filter (owned) */
};

/* rt->state: one source's pool on one loop. */
struct lsrc_pool {
	const struct source_def *def;
	const struct lsrc_conf *conf;
	struct config *cfg;      /* the configuration def belongs to (not a reference) */
	struct loop *loop;
	/* connections (struct lsrc_conn; opening: OPENING, CONNECTING or
	 * BINDING) and waiting calls */
	struct connpool cp;
};

/* Opening a connection on the worker pool. */
struct lsrc_job {
	struct work work;          /* first member: the pool hands it back */
	LDAP *ld;
	struct lsrc_conn *conn;    /* NULL once the connection has gone (loop thread only) */
	struct config *cfg;        /* reference: conf stays valid while the worker reads it */
	const struct lsrc_conf *conf;
	int rc;
	char reason[LSRC_REASON_MAX];
};

/* One entry for the mapping getter. */
struct lsrc_row {
	LDAP *ld;
	LDAPMessage *entry;
	char *dn;   /* ldap_get_dn, on first use */
	char *buf;  /* joined values of the last get */
	size_t cap;
};

static void lsrc_conn_cb(evutil_socket_t fd, short what, void *arg);
static void conn_send_bind(struct lsrc_conn *c);

static struct lsrc_pool *pool_of(struct connpool *cp)
{
	return CONNPOOL_CONTAINER(cp, struct lsrc_pool, cp);
}

static struct lsrc_conn *conn_of(struct connpool_conn *link)
{
	return CONNPOOL_CONTAINER(link, struct lsrc_conn, link);
}

static struct lsrc_call *call_of(struct connpool_waiter *w)
{
	return CONNPOOL_CONTAINER(w, struct lsrc_call, w);
}

/* ---- small helpers ---- */

/* A one-line, printable, bounded copy of a library or server message. */
static void lsrc_clean(const char *msg, char *out, size_t outlen)
{
	size_t n = 0;

	for (const char *s = msg; *s != '\0' && *s != '\n' && n + 1 < outlen; s++)
		out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* "what: <result text> (<code>)" plus, when with_diag, libldap's or the
 * server's diagnostic message.  Diagnostics are only shown for connecting
 * and binding: a search diagnostic may quote the officer's search terms. */
static void lsrc_reason(LDAP *ld, int rc, const char *what, bool with_diag, char *out,
			size_t outlen)
{
	char *diag = NULL;
	char clean[LSRC_REASON_MAX];

	clean[0] = '\0';
	if (with_diag && ld != NULL &&
	    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS &&
	    diag != NULL)
		lsrc_clean(diag, clean, sizeof(clean));
	if (diag != NULL)
		ldap_memfree(diag);
	snprintf(out, outlen, "%s: %s (%d)%s%s", what, ldap_err2string(rc), rc,
		 clean[0] != '\0' ? ": " : "", clean);
}

static long lsrc_remaining_ms(uint64_t t0_ns, long budget_ms)
{
	long spent = (long)((loop_now_ns() - t0_ns) / 1000000u);

	return spent >= budget_ms ? 0 : budget_ms - spent;
}

static int lsrc_fd(LDAP *ld)
{
	int fd = -1;

	if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS)
		return -1;
	return fd;
}

/* ---- the mapping getter ---- */

static void lsrc_row_clear(struct lsrc_row *r)
{
	if (r->dn != NULL)
		ldap_memfree(r->dn);
	free(r->buf);
	r->dn = NULL;
	r->buf = NULL;
	r->cap = 0;
}

static int lsrc_get(void *row, const char *from, const char **val, size_t *len)
{
	struct lsrc_row *r = row;
	struct berval **vals;
	size_t n = 0;

	if (strcasecmp(from, "dn") == 0) {
		if (r->dn == NULL && (r->dn = ldap_get_dn(r->ld, r->entry)) == NULL)
			return 0;
		/* libldap hands the server's bytes over as they came: a DN
		 * that is not UTF-8 (RFC 4514) is repaired by mapping_apply
		 * like any value (found by fuzz_ldap_answer) */
		*val = r->dn;
		*len = strlen(r->dn);
		return 1;
	}
	/* libldap compares attribute descriptions case-insensitively */
	vals = ldap_get_values_len(r->ld, r->entry, from);
	if (vals == NULL)
		return 0;
	for (size_t k = 0; vals[k] != NULL; k++) {
		const struct berval *v = vals[k];
		size_t need;

		/* a value that is not text is binary (a photo, a GUID):
		 * skipped, where mapping_apply would repair it into noise */
		if (v->bv_len == 0 || !utf8text_valid(v->bv_val, v->bv_len))
			continue;
		need = n + (n > 0 ? 2 : 0) + v->bv_len;
		if (n > 0 && need > LSRC_JOIN_MAX)
			break; /* the mapping would cut the rest */
		if (need + 1 > r->cap) {
			char *nb = realloc(r->buf, need + 1);

			if (nb == NULL) {
				ldap_value_free_len(vals);
				return FOCAL_E_NOMEM;
			}
			r->buf = nb;
			r->cap = need + 1;
		}
		if (n > 0) {
			memcpy(r->buf + n, "; ", 2);
			n += 2;
		}
		memcpy(r->buf + n, v->bv_val, v->bv_len);
		n += v->bv_len;
		r->buf[n] = '\0';
	}
	ldap_value_free_len(vals);
	if (n == 0)
		return 0;
	*val = r->buf;
	*len = n;
	return 1;
}

/* ---- pool bookkeeping ---- */

/* Waits for `what` on the connection's socket (with a timeout if >= 0).  Our
 * events are not persistent, so the event is never pending here. */
static int conn_arm(struct lsrc_conn *c, short what, long timeout_ms)
{
	int fd = lsrc_fd(c->ld);
	struct timeval tv;

	if (fd < 0)
		return -1;
	if (c->ev_set)
		event_del(&c->ev);
	if (event_assign(&c->ev, c->pool->loop->base, fd, what, lsrc_conn_cb, c) != 0)
		return -1;
	c->ev_set = true;
	if (timeout_ms >= 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	return event_add(&c->ev, timeout_ms >= 0 ? &tv : NULL) == 0 ? 0 : -1;
}

static void job_free(struct lsrc_job *job)
{
	config_unref(job->cfg);
	free(job);
}

/* Closes and frees a connection.  Its call, if any, is only unlinked: the
 * caller finishes it.  A connection still opening on a worker is left to
 * the job, which closes it when it comes back. */
static void conn_drop(struct lsrc_conn *c)
{
	struct lsrc_pool *p = c->pool;

	if (c->pc != NULL) {
		c->pc->conn = NULL;
		c->pc = NULL;
	}
	if (c->ev_set)
		event_del(&c->ev);
	connpool_conn_remove(&p->cp, &c->link);
	if (c->job != NULL)
		c->job->conn = NULL;
	else if (c->ld != NULL)
		ldap_unbind_ext(c->ld, NULL, NULL); /* sends an unbind, closes the socket */
	free(c);
}

static void pc_free(struct lsrc_call *pc)
{
	if (pc == NULL)
		return;
	free(pc->filter);
	free(pc);
}

/* ---- connpool hooks (see struct connpool_ops) ---- */

static bool pool_conn_idle(struct connpool_conn *link)
{
	return conn_of(link)->state == LS_IDLE;
}

static void pool_conn_close(struct connpool_conn *link)
{
	struct lsrc_conn *c = conn_of(link);

	if (c->pc != NULL)
		c->pc->w.pool = NULL;
	conn_drop(c);
}

static void pool_waiter_free(struct connpool_waiter *w)
{
	pc_free(call_of(w));
}

/* ---- connecting and binding ---- */

/* A connection attempt failed: close it and fail the call waiting longest. */
static void conn_open_failed(struct lsrc_conn *c, const char *reason)
{
	struct lsrc_pool *p = c->pool;
	char copy[LSRC_REASON_MAX + 32];

	snprintf(copy, sizeof(copy), "%s", reason);
	conn_drop(c);
	connpool_fail_head(&p->cp, copy);
}

int source_ldap_set_options(LDAP *ld, long deadline_ms, bool connect_async)
{
	struct timeval tv = { .tv_sec = deadline_ms / 1000, .tv_usec = (deadline_ms % 1000) * 1000 };
	int v3 = LDAP_VERSION3;

	/* LDAPv3; referrals are not chased (libldap would connect and bind
	 * elsewhere, synchronously); network and API waits bounded by the
	 * deadline; on the loop, connect() must not wait at all. */
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    (connect_async &&
	     ldap_set_option(ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) != LDAP_OPT_SUCCESS))
		return -1;
	return 0;
}

/* A new handle with the options every connection gets. */
static LDAP *lsrc_new_ld(const struct lsrc_pool *p, bool async, char *reason, size_t rlen)
{
	LDAP *ld = NULL;
	int rc;

	rc = ldap_initialize(&ld, p->conf->uri);
	if (rc != LDAP_SUCCESS || ld == NULL) {
		snprintf(reason, rlen, "connect: %s", ldap_err2string(rc));
		return NULL;
	}
	if (source_ldap_set_options(ld, p->def->deadline_ms, async) != 0) {
		snprintf(reason, rlen, "connect: cannot set LDAP options");
		ldap_unbind_ext(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

int source_ldap_next_message(LDAP *ld, LDAPMessage **msg)
{
	struct timeval zero = { 0, 0 };
	int rc, e = LDAP_DECODING_ERROR;

	*msg = NULL;
	rc = ldap_result(ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, msg);
	if (rc == 0 && *msg != NULL) {
		/* ldap_result returns the message's tag, so a message whose
		 * protocolOp tag is 0 (no LDAP response has it) comes back
		 * as "nothing yet" with *msg set: read as nothing, it leaked
		 * and the connection went on reading (fuzz_ldap_answer) */
		ldap_msgfree(*msg);
		*msg = NULL;
		ldap_set_option(ld, LDAP_OPT_RESULT_CODE, &e);
		return -1;
	}
	if (rc < 0) {
		ldap_msgfree(*msg); /* NULL, unless libldap changes its ways */
		*msg = NULL;
		return -1;
	}
	return rc > 0 ? 1 : 0;
}

/* The connection is up (see source_ldap.h). */
int source_ldap_socket_ready(LDAP *ld, long max_bytes)
{
	ber_len_t max = (ber_len_t)max_bytes + LSRC_MSG_SLACK;
	Sockbuf *sb = NULL;
	int fd = lsrc_fd(ld), fl;

	if (fd < 0 || (fl = fcntl(fd, F_GETFL)) < 0 ||
	    ((fl & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
		return -1;
	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL)
		ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max);
	return 0;
}

/* True if the last request could not be written in full.  libldap then keeps
 * it to flush later, which would need write-readiness; our requests are small
 * and go out on an otherwise quiet connection, so this only happens on a
 * connection that is stuck, and we treat it as broken. */
static bool lsrc_write_pending(LDAP *ld)
{
	int e = LDAP_SUCCESS;

	ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &e);
	return e == LDAP_BUSY;
}

/* Sends the simple bind (anonymous when no bind_dn is configured).  On the
 * loop path, the first attempt also starts the nonblocking TCP connect and
 * returns LDAP_X_CONNECTING: libldap must be called again once the socket
 * is writable, which then completes the connect and sends the bind. */
static void conn_send_bind(struct lsrc_conn *c)
{
	static char empty[1];
	const struct lsrc_conf *conf = c->pool->conf;
	struct berval cred = { .bv_len = 0, .bv_val = empty };
	char reason[LSRC_REASON_MAX + 32];
	long left = lsrc_remaining_ms(c->t0_ns, c->pool->def->deadline_ms);
	int rc, msgid = -1;

	if (conf->password != NULL) {
		cred.bv_val = conf->password;
		cred.bv_len = conf->password_len;
	}
	rc = ldap_sasl_bind(c->ld, conf->bind_dn != NULL ? conf->bind_dn : "", LDAP_SASL_SIMPLE,
			    &cred, NULL, NULL, &msgid);
	if (rc == LDAP_X_CONNECTING) {
		c->state = LS_CONNECTING;
		if (conn_arm(c, EV_WRITE, left) != 0)
			conn_open_failed(c, "connect: cannot watch the socket");
		return;
	}
	if (rc != LDAP_SUCCESS) {
		lsrc_reason(c->ld, rc, c->state == LS_CONNECTING ? "connect" : "bind", true, reason,
			    sizeof(reason));
		conn_open_failed(c, reason);
		return;
	}
	c->state = LS_BINDING;
	c->msgid = msgid;
	if (lsrc_write_pending(c->ld)) {
		conn_open_failed(c, "bind: the connection does not take the request");
		return;
	}
	if (source_ldap_socket_ready(c->ld, c->pool->def->max_bytes) != 0 ||
	    conn_arm(c, EV_READ, left) != 0)
		conn_open_failed(c, "connect: cannot watch the socket");
}

/* ---- opening on the worker pool (TLS, host names) ---- */

static void lsrc_job_run(struct work *w)
{
	struct lsrc_job *job = (struct lsrc_job *)w;
	const struct lsrc_conf *conf = job->conf;
	int demand = LDAP_OPT_X_TLS_DEMAND, tlsmin = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, client = 0;
	int rc;

	if (conf->tls || conf->starttls) {
		/* Verify the server whatever ldap.conf says (TLS_REQCERT never is
		 * a common leftover); a handle-private context makes these
		 * options apply.  Loading the CA file is disk I/O: here, not on
		 * the loop. */
		if (ldap_set_option(job->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
		    ldap_set_option(job->ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tlsmin) != LDAP_OPT_SUCCESS ||
		    (conf->ca_file != NULL &&
		     ldap_set_option(job->ld, LDAP_OPT_X_TLS_CACERTFILE, conf->ca_file) !=
			     LDAP_OPT_SUCCESS) ||
		    ldap_set_option(job->ld, LDAP_OPT_X_TLS_NEWCTX, &client) != LDAP_OPT_SUCCESS) {
			job->rc = LDAP_LOCAL_ERROR;
			snprintf(job->reason, sizeof(job->reason),
				 "TLS: cannot set up the client context (CA file %s)",
				 conf->ca_file != NULL ? conf->ca_file : "of the system");
			return;
		}
	}
	if (conf->starttls) {
		rc = ldap_start_tls_s(job->ld, NULL, NULL);
	} else {
		/* ldap_connect returns -1, not a result code, on failure */
		rc = ldap_connect(job->ld);
		if (rc != LDAP_SUCCESS) {
			rc = LDAP_SERVER_DOWN;
			ldap_get_option(job->ld, LDAP_OPT_RESULT_CODE, &rc);
			if (rc == LDAP_SUCCESS)
				rc = LDAP_SERVER_DOWN;
		}
	}
	job->rc = rc;
	if (rc == LDAP_CONNECT_ERROR && (conf->tls || conf->starttls)) {
		/* libldap's own text for a failed verification says nothing
		 * ("Connect error: (unknown error code)") */
		snprintf(job->reason, sizeof(job->reason),
			 "%s: TLS handshake failed, or the server's certificate is not trusted "
			 "(check ca_file) or not issued for this host name",
			 conf->starttls ? "StartTLS" : "connect");
	} else if (rc != LDAP_SUCCESS) {
		lsrc_reason(job->ld, rc, conf->starttls ? "StartTLS" : "connect", true, job->reason,
			    sizeof(job->reason));
	}
}

static void lsrc_job_done(struct work *w)
{
	struct lsrc_job *job = (struct lsrc_job *)w;
	struct lsrc_conn *c = job->conn;
	struct lsrc_pool *p;

	if (c == NULL) { /* the connection went (deadline, pool freed) meanwhile */
		ldap_unbind_ext(job->ld, NULL, NULL);
		job_free(job);
		return;
	}
	p = c->pool;
	connpool_enter(&p->cp);
	c->job = NULL;
	if (job->rc != LDAP_SUCCESS)
		conn_open_failed(c, job->reason);
	else
		conn_send_bind(c); /* connected: the bind goes out at once */
	job_free(job);
	connpool_pump(&p->cp);
	connpool_leave(&p->cp);
}

/* Opens one more connection (connpool hook); it serves the queue once it
 * is bound. */
static void pool_open(struct connpool *cp)
{
	struct lsrc_pool *p = pool_of(cp);
	char reason[LSRC_REASON_MAX];
	struct workpool *wp;
	struct lsrc_conn *c;
	struct lsrc_job *job;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		connpool_fail_head(cp, "out of memory");
		return;
	}
	c->pool = p;
	c->state = LS_OPENING;
	c->t0_ns = loop_now_ns();
	connpool_conn_add(cp, &c->link);
	c->ld = lsrc_new_ld(p, p->conf->on_loop, reason, sizeof(reason));
	if (c->ld == NULL) {
		conn_open_failed(c, reason);
		return;
	}
	if (p->conf->on_loop) {
		c->state = LS_CONNECTING;
		conn_send_bind(c);
		return;
	}
	wp = workpool_default();
	job = wp != NULL ? calloc(1, sizeof(*job)) : NULL;
	if (job == NULL) {
		conn_open_failed(c, wp == NULL ? "connect: no worker pool to open TLS or named-host "
						 "connections"
					       : "out of memory");
		return;
	}
	job->work.run = lsrc_job_run;
	job->work.done = lsrc_job_done;
	job->work.loop = p->loop;
	job->ld = c->ld;
	job->conn = c;
	job->cfg = config_ref(p->cfg);
	job->conf = p->conf;
	c->job = job;
	if (workpool_submit(wp, &job->work) != FOCAL_OK) {
		c->job = NULL;
		job_free(job);
		conn_open_failed(c, "connect: worker pool saturated");
	}
}

/* ---- searching ---- */

/* Ends the call of busy connection c with st.  The connection goes back to
 * the pool (keep) or is closed.  Returns keep. */
static bool conn_release(struct lsrc_conn *c, bool keep, enum source_status st,
			 const char *reason)
{
	struct lsrc_call *pc = c->pc;

	c->pc = NULL;
	pc->conn = NULL;
	if (keep)
		c->state = LS_IDLE;
	else
		conn_drop(c);
	connpool_finish(&pc->w, st, reason);
	return keep;
}

/* Closes a connection that failed and fails its call, if any. */
static void conn_broken(struct lsrc_conn *c, const char *what)
{
	struct lsrc_call *pc = c->pc;
	char reason[LSRC_REASON_MAX + 32];

	if (c->state == LS_BINDING || c->state == LS_CONNECTING) {
		conn_open_failed(c, what);
		return;
	}
	snprintf(reason, sizeof(reason), "connection lost: %s", what);
	conn_drop(c);
	if (pc != NULL)
		connpool_finish(&pc->w, SOURCE_ERROR, reason);
}

/* Stops the search of c after the row or byte limit (or a mapping error):
 * the rest of the answer is abandoned, and the connection stays in the pool
 * if the abandon request went out. */
static bool conn_stop_search(struct lsrc_conn *c, enum source_status st, const char *reason)
{
	bool keep = ldap_abandon_ext(c->ld, c->msgid, NULL, NULL) == LDAP_SUCCESS;

	return conn_release(c, keep, st, reason);
}

/* The final result of a search: the status to finish with. */
static enum source_ldap_next lsrc_search_done(struct source_call *call, LDAP *ld,
					     LDAPMessage *msg, enum source_status *st,
					     char *reason, size_t reasonsz)
{
	int err = LDAP_SUCCESS, rc;

	rc = ldap_parse_result(ld, msg, &err, NULL, NULL, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS) {
		*st = SOURCE_ERROR;
		snprintf(reason, reasonsz, "unreadable search result");
		return SOURCE_LDAP_CLOSE;
	}
	switch (err) {
	case LDAP_SUCCESS:
		return SOURCE_LDAP_FINISH;
	case LDAP_SIZELIMIT_EXCEEDED:
		/* With our sizelimit of max_rows + 1 we normally stop reading
		 * first; a server whose own limit is lower ends here: either
		 * way the answer is partial. */
		call->status = SOURCE_TRUNCATED;
		return SOURCE_LDAP_FINISH;
	case LDAP_TIMELIMIT_EXCEEDED:
		*st = SOURCE_TIMEOUT;
		snprintf(reason, reasonsz,
			 "the directory's time limit ran out before the search ended");
		return SOURCE_LDAP_FINISH;
	case LDAP_NO_SUCH_OBJECT:
		*st = SOURCE_ERROR;
		snprintf(reason, reasonsz,
			 "search failed: the search base does not exist (check 'base')");
		return SOURCE_LDAP_FINISH;
	case LDAP_REFERRAL:
		*st = SOURCE_ERROR;
		snprintf(reason, reasonsz,
			 "search failed: the directory refers to another server (referrals are "
			 "not followed; check 'uri' and 'base')");
		return SOURCE_LDAP_FINISH;
	default:
		*st = SOURCE_ERROR;
		lsrc_reason(ld, err, "search failed", false, reason, reasonsz);
		return SOURCE_LDAP_FINISH;
	}
}

enum source_ldap_next source_ldap_search_message(struct source_call *call, LDAP *ld,
						 LDAPMessage *msg, enum source_status *st,
						 char *reason, size_t reasonsz)
{
	struct lsrc_row row = { 0 };
	int rc;

	*st = SOURCE_OK;
	reason[0] = '\0';
	switch (ldap_msgtype(msg)) {
	case LDAP_RES_SEARCH_ENTRY:
		row.ld = ld;
		row.entry = msg;
		rc = source_call_add_row(call, lsrc_get, &row);
		lsrc_row_clear(&row);
		ldap_msgfree(msg);
		if (rc == 1)
			return SOURCE_LDAP_STOP; /* limit: call->status says truncated */
		if (rc < 0) {
			*st = SOURCE_ERROR;
			snprintf(reason, reasonsz, "mapping failed: %.200s", call->reason);
			return SOURCE_LDAP_STOP;
		}
		return SOURCE_LDAP_MORE;
	case LDAP_RES_SEARCH_REFERENCE:
	case LDAP_RES_INTERMEDIATE:
		/* continuation references are not followed, like referrals */
		ldap_msgfree(msg);
		return SOURCE_LDAP_MORE;
	case LDAP_RES_SEARCH_RESULT:
		return lsrc_search_done(call, ld, msg, st, reason, reasonsz);
	default:
		ldap_msgfree(msg);
		*st = SOURCE_ERROR;
		snprintf(reason, reasonsz, "unexpected answer to a search");
		return SOURCE_LDAP_BROKEN;
	}
}

/* One message for the busy connection's search.  Returns false if the
 * connection was closed. */
static bool conn_search_message(struct lsrc_conn *c, LDAPMessage *msg)
{
	char reason[LSRC_REASON_MAX + 32];
	enum source_status st;
	enum source_ldap_next next;
	const char *why;

	next = source_ldap_search_message(c->pc->w.call, c->ld, msg, &st, reason, sizeof(reason));
	why = reason[0] != '\0' ? reason : NULL;
	switch (next) {
	case SOURCE_LDAP_MORE:
		return true;
	case SOURCE_LDAP_FINISH:
		return conn_release(c, true, st, why);
	case SOURCE_LDAP_STOP:
		return conn_stop_search(c, st, why);
	case SOURCE_LDAP_CLOSE:
		return conn_release(c, false, st, why);
	case SOURCE_LDAP_BROKEN:
	default:
		conn_broken(c, reason);
		return false;
	}
}

/* The result of the bind.  Returns false if the connection was closed. */
static bool conn_bind_result(struct lsrc_conn *c, LDAPMessage *msg)
{
	char reason[LSRC_REASON_MAX + 32];
	char *diag = NULL, clean[LSRC_REASON_MAX];
	int err = LDAP_SUCCESS, rc;

	rc = ldap_parse_result(c->ld, msg, &err, NULL, &diag, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		err = rc;
	if (err != LDAP_SUCCESS) {
		clean[0] = '\0';
		if (diag != NULL)
			lsrc_clean(diag, clean, sizeof(clean));
		snprintf(reason, sizeof(reason), "bind failed: %s (%d)%s%s", ldap_err2string(err),
			 err, clean[0] != '\0' ? ": " : "", clean);
		if (diag != NULL)
			ldap_memfree(diag);
		conn_open_failed(c, reason);
		return false;
	}
	if (diag != NULL)
		ldap_memfree(diag);
	c->state = LS_IDLE;
	connpool_conn_opened(&c->pool->cp, &c->link);
	return true;
}

/* Dispatches one message.  Returns false if the connection was closed. */
static bool conn_message(struct lsrc_conn *c, LDAPMessage *msg)
{
	int type = ldap_msgtype(msg), id = ldap_msgid(msg);

	if (id == 0) {
		/* unsolicited notification: in practice the server's notice
		 * of disconnection */
		ldap_msgfree(msg);
		conn_broken(c, "the server ended the connection");
		return false;
	}
	if (c->state == LS_BINDING && id == c->msgid && type == LDAP_RES_BIND)
		return conn_bind_result(c, msg);
	if (c->state == LS_BUSY && id == c->msgid)
		return conn_search_message(c, msg);
	/* a late answer to something we no longer wait for */
	ldap_msgfree(msg);
	return true;
}

/* The socket is readable: takes every message libldap can give without
 * waiting, then waits again according to the state. */
static void conn_read(struct lsrc_conn *c)
{
	struct lsrc_pool *p = c->pool;
	char reason[LSRC_REASON_MAX + 32];
	long tmo;
	int rc;

	while (!p->cp.dead) {
		LDAPMessage *msg = NULL;

		rc = source_ldap_next_message(c->ld, &msg);
		if (rc == 0)
			break; /* nothing complete yet */
		if (rc < 0) {
			int e = LDAP_SERVER_DOWN;

			ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &e);
			lsrc_reason(c->ld, e, "read", false, reason, sizeof(reason));
			if (c->state == LS_IDLE)
				conn_drop(c); /* closed while idle: no call to tell */
			else
				conn_broken(c, reason);
			return;
		}
		if (!conn_message(c, msg))
			return;
	}
	if (p->cp.dead)
		return;
	switch (c->state) {
	case LS_BINDING:
		tmo = lsrc_remaining_ms(c->t0_ns, p->def->deadline_ms);
		break;
	case LS_IDLE:
		tmo = LSRC_IDLE_MS;
		break;
	default:
		tmo = -1; /* a busy search is bounded by its call's deadline (cancel) */
		break;
	}
	if (conn_arm(c, EV_READ, tmo) != 0)
		conn_broken(c, "cannot watch the socket");
}

/* Starts the search of w's call on idle connection link (also the connpool
 * send hook).  May finish the call. */
static void conn_send(struct connpool_conn *link, struct connpool_waiter *w)
{
	struct lsrc_conn *c = conn_of(link);
	struct lsrc_call *pc = call_of(w);
	struct lsrc_pool *p = c->pool;
	const struct lsrc_conf *conf = p->conf;
	struct source_call *call = pc->w.call;
	long left = lsrc_remaining_ms(call->start_ns, p->def->deadline_ms);
	/* the server's time limit, in whole seconds (at least 1): a search we
	 * no longer wait for should not keep running on the directory */
	struct timeval tl = { .tv_sec = left > 1000 ? (left + 999) / 1000 : 1, .tv_usec = 0 };
	char reason[LSRC_REASON_MAX + 32];
	int rc, msgid = -1;

	rc = ldap_search_ext(c->ld, conf->base, conf->scope, pc->filter, conf->attrs, 0, NULL,
			     NULL, &tl, (int)p->def->max_rows + 1, &msgid);
	if (rc == LDAP_SUCCESS && lsrc_write_pending(c->ld))
		rc = LDAP_SERVER_DOWN;
	if (rc == LDAP_FILTER_ERROR) {
		/* found locally, before anything was sent: c stays usable */
		connpool_finish(&pc->w, SOURCE_ERROR,
				"the query template does not give a valid LDAP filter (RFC 4515)");
		return;
	}
	if (rc != LDAP_SUCCESS) {
		/* An idle connection may have died unnoticed (server restart):
		 * give the call one more chance on another connection. */
		bool retry = c->used && !pc->retried;

		lsrc_reason(c->ld, rc, "send", false, reason, sizeof(reason));
		conn_drop(c);
		if (retry) {
			pc->retried = true;
			connpool_push(&p->cp, &pc->w, true);
			connpool_schedule(&p->cp);
			return;
		}
		connpool_finish(&pc->w, SOURCE_ERROR, reason);
		return;
	}
	c->state = LS_BUSY;
	c->pc = pc;
	c->msgid = msgid;
	c->used = true;
	pc->conn = c;
	if (conn_arm(c, EV_READ, -1) != 0)
		conn_broken(c, "cannot watch the socket");
}

static void lsrc_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lsrc_conn *c = arg;
	struct lsrc_pool *p = c->pool;

	(void)fd;
	connpool_enter(&p->cp);
	switch (c->state) {
	case LS_CONNECTING:
		if (what & EV_TIMEOUT)
			conn_open_failed(c, "connect: timed out");
		else
			conn_send_bind(c); /* completes the connect, sends the bind */
		break;
	case LS_BINDING:
		if (what & EV_TIMEOUT)
			conn_open_failed(c, "bind: no answer in time");
		else
			conn_read(c);
		break;
	case LS_IDLE:
		if (what & EV_TIMEOUT)
			conn_drop(c); /* idle too long */
		else
			conn_read(c);
		break;
	case LS_BUSY:
		conn_read(c);
		break;
	case LS_OPENING: /* no event while the worker has it */
		break;
	}
	/* c may be gone; a connection may have come free */
	connpool_pump(&p->cp);
	connpool_leave(&p->cp);
}

/* Frees what pool_get allocated (connpool hook, once the pool is empty). */
static void pool_free(struct connpool *cp)
{
	free(pool_of(cp));
}

static const struct connpool_ops lsrc_pool_ops = {
	.idle = pool_conn_idle,
	.send = conn_send,
	.open = pool_open,
	.close = pool_conn_close,
	.waiter_free = pool_waiter_free,
	.free = pool_free,
};

static struct lsrc_pool *pool_get(struct source_call *call)
{
	struct source_rt *rt = call->rt;
	struct lsrc_pool *p = rt->state;

	if (p != NULL)
		return p;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->def = rt->def;
	p->conf = rt->def->conn_cfg;
	p->cfg = rt->cfg;
	p->loop = call->loop;
	if (connpool_init(&p->cp, p->loop->base, &lsrc_pool_ops,
			  rt->def->pool_size > 0 ? rt->def->pool_size : 4) != 0) {
		free(p);
		return NULL;
	}
	rt->state = p;
	return p;
}

/* ---- the connector ---- */

static void lsrc_start(struct source_call *call)
{
	const struct template *tpl = &call->def->queries[call->query->kind].tpl;
	struct lsrc_pool *p = pool_get(call);
	struct lsrc_call *pc;
	struct focal_err err;

	if (p == NULL) {
		source_call_finish(call, SOURCE_ERROR, "out of memory");
		return;
	}
	pc = calloc(1, sizeof(*pc));
	if (pc == NULL) {
		source_call_finish(call, SOURCE_ERROR, "out of memory");
		return;
	}
	/* every value RFC 4515-escaped: data, never filter syntax */
	if (template_render_ldap(tpl, call->query, &pc->filter, &err) != FOCAL_OK) {
		pc_free(pc);
		source_call_finish(call, SOURCE_ERROR, "filter: %.200s", err.msg);
		return;
	}
	connpool_waiter_init(&pc->w, &p->cp, call);
	call->priv = pc;
	/* Even with an idle connection at hand, the search is sent from the
	 * loop, never inside the caller's start(): finishing (and so the
	 * caller's callback) can then never happen before start() returns. */
	connpool_push(&p->cp, &pc->w, false);
	connpool_schedule(&p->cp);
}

static void lsrc_cancel(struct source_call *call)
{
	struct lsrc_call *pc = call->priv;
	struct connpool *cp;
	struct lsrc_conn *c;

	if (pc == NULL)
		return;
	call->priv = NULL;
	cp = pc->w.pool;
	if (cp == NULL) {
		pc_free(pc);
		return;
	}
	connpool_enter(cp);
	connpool_remove(cp, &pc->w);
	c = pc->conn;
	if (c != NULL) {
		/* mid-search: tell the server to stop, then close the
		 * connection rather than return it (what it will still send is
		 * unknown); the time limit ends the search on the server at the
		 * latest */
		ldap_abandon_ext(c->ld, c->msgid, NULL, NULL);
		conn_drop(c);
		connpool_schedule(cp); /* a waiting call may now open a connection */
	}
	pc_free(pc);
	connpool_leave(cp);
}

static void lsrc_rt_free(struct source_rt *rt)
{
	struct lsrc_pool *p = rt->state;

	rt->state = NULL;
	if (p != NULL)
		connpool_destroy(&p->cp);
}

/* ---- configuration ---- */

static void lsrc_config_free(void *conn_cfg)
{
	struct lsrc_conf *c = conn_cfg;

	if (c == NULL)
		return;
	if (c->password != NULL) {
		OPENSSL_cleanse(c->password, c->password_len);
		free(c->password);
	}
	free(c->uri);
	free(c->bind_dn);
	free(c->base);
	free(c->ca_file);
	free(c->attrs);
	free(c);
}

static bool lsrc_host_numeric(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

static int lsrc_conf_uri(struct lsrc_conf *c, const struct cfg_node *conn, struct focal_err *err)
{
	LDAPURLDesc *lud = NULL;
	struct cfg_node n;
	int rc = FOCAL_OK;

	cfg_map_get(conn, "uri", &n);
	if (strpbrk(c->uri, " \t,") != NULL)
		return cfg_error(&n, err, "uri: give one ldap:// or ldaps:// URI");
	if (ldap_url_parse(c->uri, &lud) != LDAP_URL_SUCCESS || lud == NULL)
		return cfg_error(&n, err,
				 "uri: \"%s\" is not an LDAP URI (expected ldap://host[:port] or "
				 "ldaps://host[:port])",
				 c->uri);
	if (strcasecmp(lud->lud_scheme, "ldap") != 0 && strcasecmp(lud->lud_scheme, "ldaps") != 0)
		rc = cfg_error(&n, err, "uri: scheme %s:// is not supported; use ldap:// or ldaps://",
			       lud->lud_scheme);
	else if (lud->lud_host == NULL || lud->lud_host[0] == '\0')
		rc = cfg_error(&n, err, "uri: name the server (ldap://host[:port])");
	else if ((lud->lud_dn != NULL && lud->lud_dn[0] != '\0') || lud->lud_attrs != NULL ||
		 lud->lud_filter != NULL || lud->lud_exts != NULL)
		rc = cfg_error(&n, err,
			       "uri: only scheme, host and port belong here; give the search base "
			       "in 'base' and the filter in 'queries'");
	if (rc == FOCAL_OK) {
		c->tls = strcasecmp(lud->lud_scheme, "ldaps") == 0;
		c->on_loop = !c->tls && lsrc_host_numeric(lud->lud_host);
		c->loopback = strcmp(lud->lud_host, "127.0.0.1") == 0 ||
			      strcmp(lud->lud_host, "::1") == 0 ||
			      strcasecmp(lud->lud_host, "localhost") == 0;
	}
	ldap_free_urldesc(lud);
	return rc;
}

/* Reads the bind password from a file (one line; a final newline is not part
 * of it).  Every copy is wiped. */
static int lsrc_read_password(const struct cfg_node *node, const char *path,
			      struct lsrc_conf *c, struct focal_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t r;
	int fd, rc = FOCAL_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return cfg_error(node, err, "bind_password_file: cannot open %s: %s", path,
				 strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cfg_error(node, err, "bind_password_file: %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		log_warn("config", "bind_password_file %s can be read by other users (chmod 600)",
			 path);
	buf = malloc(LSRC_PASSWORD_MAX + 2);
	if (buf == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	while (len < LSRC_PASSWORD_MAX + 1) {
		r = read(fd, buf + len, LSRC_PASSWORD_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = cfg_error(node, err, "bind_password_file: cannot read %s: %s", path,
				       strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > LSRC_PASSWORD_MAX) {
		rc = cfg_error(node, err, "bind_password_file: %s is larger than %d bytes", path,
			       LSRC_PASSWORD_MAX);
		goto out;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len) != NULL) {
		rc = cfg_error(node, err, "bind_password_file: %s: %s", path,
			       len == 0 ? "the file is empty"
				        : "expected the password alone on one line");
		goto out;
	}
	c->password = buf;
	c->password_len = len;
	buf = NULL;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, LSRC_PASSWORD_MAX + 2);
		free(buf);
	}
	close(fd);
	return rc;
}

/* The parentheses of each filter template must balance (parameters are
 * escaped, so only the template's own text can hold them): a typo is then
 * reported at load, not on the first search. */
static int lsrc_check_filters(const struct source_def *def, const struct cfg_node *conn,
			      struct focal_err *err)
{
	for (int k = 0; k < QUERY__COUNT; k++) {
		const struct source_query *q = &def->queries[k];
		long depth = 0;
		bool any = false;

		if (!q->present)
			continue;
		for (size_t i = 0; i < q->tpl.nparts && depth >= 0; i++) {
			const struct template_part *part = &q->tpl.parts[i];

			any = true;
			for (size_t j = 0; part->param < 0 && j < part->len && depth >= 0; j++) {
				char ch = q->tpl.text[part->off + j];

				depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
			}
		}
		if (!any || depth != 0)
			return focal_err_set(err, FOCAL_E_CONFIG,
					     "%s:%zu:%zu: %s: %s", conn->file ? conn->file : "?",
					     q->line, q->col, query_kind_name((enum query_kind)k),
					     !any ? "empty LDAP filter"
						  : "unbalanced parentheses in the LDAP filter");
	}
	return FOCAL_OK;
}

/* The attributes the mapping reads: only these are asked for ("1.1", none,
 * when the mapping reads the DN only). */
static int lsrc_conf_attrs(const struct source_def *def, struct lsrc_conf *c)
{
	static char no_attrs[] = "1.1";
	const struct mapping *m = &def->map;
	size_t max = 1, n = 0;

	for (size_t e = 0; e < m->nentities; e++)
		max += m->entities[e].nfields + 1;
	c->attrs = calloc(max + 1, sizeof(*c->attrs));
	if (c->attrs == NULL)
		return FOCAL_E_NOMEM;
	for (size_t e = 0; e < m->nentities; e++) {
		const struct map_entity *me = &m->entities[e];

		for (size_t f = 0; f <= me->nfields; f++) {
			char *from = f < me->nfields ? me->fields[f].from : me->when;
			size_t j;

			if (from == NULL || strcasecmp(from, "dn") == 0)
				continue;
			for (j = 0; j < n && strcasecmp(c->attrs[j], from) != 0; j++)
				;
			if (j == n)
				c->attrs[n++] = from;
		}
	}
	if (n == 0)
		c->attrs[n++] = no_attrs;
	c->attrs[n] = NULL;
	return FOCAL_OK;
}

static int lsrc_configure(struct source_def *def, const struct cfg_node *conn,
			  struct focal_err *err)
{
	static const char *const keys[] = { "uri", "bind_dn", "bind_password", "bind_password_file",
					    "base", "scope", "ca_file", "starttls", NULL };
	static const char *const scopes[] = { "sub", "one", "base", NULL };
	static const int scope_values[] = { LDAP_SCOPE_SUBTREE, LDAP_SCOPE_ONELEVEL,
					    LDAP_SCOPE_BASE };
	struct lsrc_conf *c = NULL;
	struct cfg_node n, pn;
	char *pwfile = NULL;
	LDAPDN dn = NULL;
	int rc, scope = 0, v;

	if ((rc = cfg_expect_map(conn, "connection", err)) != 0 ||
	    (rc = cfg_check_keys(conn, keys, err)) != 0)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	/* libldap reads ldap.conf once per process: here, not on a loop */
	ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &v);

	if ((rc = cfg_get_string(conn, "uri", true, &c->uri, err)) != 0 ||
	    (rc = lsrc_conf_uri(c, conn, err)) != 0 ||
	    (rc = cfg_get_string(conn, "bind_dn", false, &c->bind_dn, err)) != 0 ||
	    (rc = cfg_get_string(conn, "base", true, &c->base, err)) != 0 ||
	    (rc = cfg_get_enum(conn, "scope", false, scopes, &scope, err)) != 0 ||
	    (rc = cfg_get_path(conn, "ca_file", false, &c->ca_file, err)) != 0 ||
	    (rc = cfg_get_bool(conn, "starttls", false, &c->starttls, err)) != 0)
		goto out;
	c->scope = scope_values[scope];

	/* the bind: a password from the file or inline, never both, and only
	 * with a DN (a DN without password is an "unauthenticated bind",
	 * which many servers accept as anonymous: a silent misconfiguration) */
	if (cfg_map_get(conn, "bind_password", &pn) && cfg_map_get(conn, "bind_password_file", &n)) {
		rc = cfg_error(&n, err, "give bind_password or bind_password_file, not both");
		goto out;
	}
	if (cfg_map_get(conn, "bind_password", &pn)) {
		if ((rc = cfg_node_string(&pn, "bind_password", &c->password, err)) != 0)
			goto out;
		c->password_len = strlen(c->password);
		if (c->password_len == 0) {
			rc = cfg_error(&pn, err, "bind_password: empty");
			goto out;
		}
	} else if (cfg_map_get(conn, "bind_password_file", &pn)) {
		if ((rc = cfg_get_path(conn, "bind_password_file", true, &pwfile, err)) != 0 ||
		    (rc = lsrc_read_password(&pn, pwfile, c, err)) != 0)
			goto out;
	}
	if (c->password != NULL && c->bind_dn == NULL) {
		rc = cfg_error(&pn, err, "a bind password needs bind_dn");
		goto out;
	}
	if (c->bind_dn != NULL && c->password == NULL) {
		cfg_map_get(conn, "bind_dn", &n);
		rc = cfg_error(&n, err,
			       "bind_dn needs bind_password or bind_password_file (leave all out "
			       "for an anonymous bind)");
		goto out;
	}
	if (c->bind_dn != NULL && ldap_str2dn(c->bind_dn, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
		cfg_map_get(conn, "bind_dn", &n);
		rc = cfg_error(&n, err, "bind_dn: \"%s\" is not a distinguished name", c->bind_dn);
		goto out;
	}
	ldap_dnfree(dn);
	dn = NULL;
	cfg_map_get(conn, "base", &n);
	if (c->base[0] == '\0' || ldap_str2dn(c->base, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
		rc = cfg_error(&n, err,
			       "base: \"%s\" is not a distinguished name (e.g. ou=people,dc=example,"
			       "dc=org)",
			       c->base);
		goto out;
	}

	/* TLS */
	if (c->starttls && c->tls) {
		cfg_map_get(conn, "starttls", &n);
		rc = cfg_error(&n, err, "starttls: ldaps:// is TLS already; use one or the other");
		goto out;
	}
	if (c->ca_file != NULL) {
		cfg_map_get(conn, "ca_file", &n);
		if (!c->tls && !c->starttls) {
			rc = cfg_error(&n, err,
				       "ca_file is only used with TLS: use an ldaps:// URI or "
				       "starttls: true");
			goto out;
		}
		if (access(c->ca_file, R_OK) != 0) {
			rc = cfg_error(&n, err, "ca_file: cannot read %s: %s", c->ca_file,
				       strerror(errno));
			goto out;
		}
	}
	if (c->starttls)
		c->on_loop = false; /* the TLS handshake runs on the worker pool */
	if (c->password != NULL && !c->tls && !c->starttls && !c->loopback)
		log_warn("config",
			 "source %s: the bind password goes over %s in clear text; use ldaps:// or "
			 "starttls: true",
			 def->name, c->uri);

	if ((rc = lsrc_check_filters(def, conn, err)) != 0)
		goto out;
	if (lsrc_conf_attrs(def, c) != 0) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	def->conn_cfg = c;
	c = NULL;
	rc = FOCAL_OK;
out:
	ldap_dnfree(dn);
	free(pwfile);
	lsrc_config_free(c);
	return rc;
}

const struct connector connector_ldap = {
	.kind = "ldap",
	.template_style = TEMPLATE_BRACE,
	.mapping_from = MAPPING_FROM_ATTRIBUTE,
	.configure = lsrc_configure,
	.config_free = lsrc_config_free,
	.start = lsrc_start,
	.cancel = lsrc_cancel,
	.rt_free = lsrc_rt_free,
};
