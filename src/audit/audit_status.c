/*
 * audit_status: incremental verification for GET /v1/audit/status (see
 * audit_status.h).
 */
#include "audit/audit_status.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "audit/audit_log.h"
#include "audit/audit_verify.h"

static struct {
	pthread_mutex_t mu;
	bool have;               /* mark is the state of a verification that passed */
	char dir[4096];          /* the log it belongs to */
	EVP_PKEY *pub;           /* and its key (compared by identity) */
	struct audit_verify_mark mark;
	int64_t full_mono_ms;    /* when the last full verification passed */
	int64_t full_wall_ms;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int64_t audit_status_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void audit_status_reset(void)
{
	pthread_mutex_lock(&S.mu);
	S.have = false;
	pthread_mutex_unlock(&S.mu);
}

/* Opens the log's two files (ckpts stays NULL when there is none yet). */
static int audit_status_open(const char *dir, FILE **log, FILE **ckpts, struct focal_err *err)
{
	char *lp = audit_log_path(dir, AUDIT_LOG_NAME), *cp = audit_log_path(dir, AUDIT_CKPT_NAME);
	int rc = FOCAL_OK;

	*log = *ckpts = NULL;
	if (lp == NULL || cp == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	} else if ((*log = fopen(lp, "r")) == NULL) {
		rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", lp, strerror(errno));
	} else if ((*ckpts = fopen(cp, "r")) == NULL && errno != ENOENT) {
		rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", cp, strerror(errno));
		fclose(*log);
		*log = NULL;
	}
	free(lp);
	free(cp);
	return rc;
}

/* Verifies under S.mu: in full, or from S.mark; *full says which was done. */
static int audit_status_verify(const char *dir, EVP_PKEY *pub, bool *full, uint64_t *from,
			       struct audit_verify_result *res, struct focal_err *err)
{
	struct audit_verify_mark m;
	FILE *log = NULL, *ck = NULL;
	int64_t now = audit_status_mono_ms();
	int rc;

	memset(res, 0, sizeof(*res));
	res->bad_entry = -1;
	if ((rc = audit_status_open(dir, &log, &ck, err)) != FOCAL_OK)
		goto out;
	if (!*full && (!S.have || S.pub != pub || strcmp(S.dir, dir) != 0 ||
		       now - S.full_mono_ms >= AUDIT_STATUS_FULL_MS ||
		       !audit_verify_mark_holds(log, ck, &S.mark)))
		*full = true;
	if (*full)
		audit_verify_mark_init(&m);
	else
		m = S.mark;
	*from = m.entries;
	rc = audit_verify_resume(log, ck, pub, &m, res, err);
	if (rc == FOCAL_OK && strlen(dir) < sizeof(S.dir)) {
		S.mark = m;
		S.have = true;
		S.pub = pub;
		snprintf(S.dir, sizeof(S.dir), "%s", dir);
		if (*full) {
			S.full_mono_ms = now;
			S.full_wall_ms = audit_log_now_ms();
		}
	} else {
		S.have = false; /* a problem is looked for again from the start */
	}
out:
	if (log != NULL)
		fclose(log);
	if (ck != NULL)
		fclose(ck);
	return rc;
}

json_t *audit_status_json(const char *dir, EVP_PKEY *pub, bool full)
{
	struct audit_verify_result res;
	struct focal_err err = { 0 };
	char hroot[2 * MERKLE_HASH + 1] = "", at[32] = "", fat[32] = "";
	uint64_t from = 0;
	bool have_full;
	json_t *o;
	int rc;

	pthread_mutex_lock(&S.mu);
	rc = audit_status_verify(dir, pub, &full, &from, &res, &err);
	have_full = S.have;
	if (have_full)
		audit_log_iso_time(S.full_wall_ms, fat);
	pthread_mutex_unlock(&S.mu);
	if (rc == FOCAL_OK && res.signed_size > 0) {
		merkle_hex(res.signed_root, hroot);
		audit_log_iso_time(res.signed_ts_ms, at);
	}
	o = json_pack("{s:b, s:b, s:I, s:I, s:I, s:b, s:s, s:I}", "ok", rc == FOCAL_OK,
		      "writer_healthy", audit_healthy(), "entries", (json_int_t)res.entries,
		      "checkpoints", (json_int_t)res.checkpoints, "unsigned_entries",
		      (json_int_t)(res.entries > res.signed_size ? res.entries - res.signed_size : 0),
		      "torn_tail", res.torn_tail, "verification", full ? "full" : "incremental",
		      "verified_entries", (json_int_t)(res.entries > from ? res.entries - from : 0));
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "full_verified_at", have_full ? json_string(fat) : json_null());
	if (rc != FOCAL_OK) {
		json_object_set_new(o, "error", json_string(err.msg));
		if (res.bad_entry >= 0)
			json_object_set_new(o, "bad_entry", json_integer(res.bad_entry));
	} else if (res.signed_size > 0) {
		json_object_set_new(o, "checkpoint",
				    json_pack("{s:I, s:s, s:s}", "size", (json_int_t)res.signed_size,
					      "root", hroot, "time", at));
	} else {
		json_object_set_new(o, "checkpoint", json_null());
	}
	return o;
}
