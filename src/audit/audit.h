/*
 * audit: the append-only, hash-chained audit log of focald with signed
 * checkpoints (issue 5); the `audit:` section; the lookups of a search.
 *
 * One writer thread per process owns the log files (audit_log.h).  Callers
 * on any thread submit entries; the writer takes every entry queued while
 * the previous fsync ran, writes them with one write(2), makes them durable
 * with one fdatasync(2) (group commit) and only then reports each one done,
 * on the submitter's event loop (loop_post) — so an event loop never waits
 * for the disk.  Every entry carries the previous entry's hash.  The writer
 * signs the Merkle tree head of all entries (Ed25519) into the checkpoint
 * file with every group commit before acknowledging it (sign_every_commit,
 * the default; the checkpoint file is synced every checkpoint_ms), or else
 * at least every checkpoint_ms while entries arrive; and when the log
 * closes.  See docs/audit.md.
 *
 * Fail closed: when an entry cannot be made durable (disk full, file not
 * writable, writer gone) its submitter is told so; a search is then refused
 * (api.c) and an alert is logged.
 */
#ifndef FOCAL_AUDIT_H
#define FOCAL_AUDIT_H

#include "core/err.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "http/reply.h"

struct cfg_node;
struct audit_config;
struct config;

/* Parses the `audit:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int audit_config_parse(const struct cfg_node *n, struct audit_config **out, struct focal_err *err);
void audit_config_free(struct audit_config *c); /* NULL-safe */

/* Opens the log of cfg (its `audit:` section, or the defaults: the folder
 * "audit" next to the configuration file, with a signing key generated there
 * on first start), verifies what is already in it against its checkpoints,
 * and starts the writer.  An unusable log (folder not writable, key missing,
 * a damaged or tampered log) is an error: focald must not start.  Once per
 * process (focald's server_start). */
int audit_open(const struct config *cfg, struct focal_err *err);
/* Writes a last checkpoint, stops the writer, closes the files.  NULL-safe
 * in the sense that it does nothing when the log is not open. */
void audit_close(void);
/* The same as audit_open for a folder and key given directly (tests, bench):
 * checkpoint_ms as in the configuration; generate_key creates key if absent. */
int audit_open_dir(const char *dir, const char *key, bool generate_key, long checkpoint_ms,
		   struct focal_err *err);

/* One entry on its way to the log. */
struct audit_ticket {
	struct loop_task task;                 /* internal: runs done() on loop */
	struct loop *loop;                     /* where done() runs; NULL: on the writer thread */
	void (*done)(struct audit_ticket *t);  /* NULL: fire and forget (the writer frees t) */
	void *arg;
	int rc;                                /* FOCAL_OK once durable, else why not */
	char msg[256];
	uint64_t seq;                          /* the entry's number when durable */
	int64_t ts_ms;                         /* its time */
	/* internal */
	char type[64];
	char *body;  /* the fields as compact JSON, serialised by the submitter */
	struct audit_ticket *next;
};

/* Queues an entry of type with fields (stolen, may be NULL; "seq", "prev",
 * "ts", "ts_ms" and "type" are the writer's and are dropped from it).  t is
 * the caller's (or, with done == NULL, must be malloc'd and becomes the
 * writer's).  Returns FOCAL_E_UNAVAIL at once when the log is not open, its
 * writer has stopped or its queue is full; then done() is not called. */
int audit_submit(struct audit_ticket *t, const char *type, json_t *fields, struct focal_err *err);

/* audit_submit with the fields already written as one compact JSON object
 * (body, malloc'd, stolen; without the writer's members listed above): for
 * entries too large to build as a jansson tree on the hot path (the end of
 * a search). */
int audit_submit_text(struct audit_ticket *t, const char *type, char *body,
		      struct focal_err *err);

/* Submits an entry and waits until it is durable (or refused).  Blocks: for
 * start-up, shutdown, tests and tools — never on an event loop.  *seq (may
 * be NULL) is the entry's number.  Returns FOCAL_OK or why not. */
int audit_submit_wait(const char *type, json_t *fields, uint64_t *seq, struct focal_err *err);

struct auth_principal;

/* Records a security event other than a search (login, login failure, MFA,
 * session end, policy or admin change): type such as "auth.login.failure",
 * who may be NULL (unknown user), fields (stolen, may be NULL) holds the
 * details.  Safe from any thread; returns at once (the event is made durable
 * by the audit writer).  Returns FOCAL_OK or an error when the audit log
 * cannot take the event — the caller then refuses the action (fail closed).
 * In a process that never opened an audit log (the CLI, unit tests of other
 * modules) the event becomes a log line and FOCAL_OK is returned. */
int audit_event(const char *type, const struct auth_principal *who, json_t *fields,
		struct focal_err *err);

/* The principal's members for an entry (user, name, unit, roles, device,
 * addr, session, issuer, mfa). */
json_t *audit_principal_json(const struct auth_principal *who);

/* True while the writer runs and its last write succeeded. */
bool audit_healthy(void);

/* Statistics since audit_open: entries made durable and fsyncs done. */
void audit_stats(uint64_t *entries, uint64_t *fsyncs);

/* The 503 reply of a request refused because its audit entry could not be
 * written: {"error":{"code":"audit_unavailable","message":...}}. */
struct evhttp_request;
void audit_reply_unavailable(struct evhttp_request *req, const char *msg);


/* Sign a checkpoint with every group commit (the default) or only every
 * checkpoint_ms (`audit.sign_every_commit: false`).  Before audit_open_dir
 * (audit_open sets it from the configuration); for tests and the bench. */
void audit_set_sign_every_commit(bool on);

/* The log folder of the open log (NULL when none). */
const char *audit_dir(void);

/* HTTP endpoints of this module, for api.c's dispatcher (audit_api.c). */
extern const struct api_route audit_api_routes[];

#endif
