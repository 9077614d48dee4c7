/*
 * audit_outbox: see audit_outbox.h.
 */
#include "audit/audit_outbox.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "audit/audit.h"
#include "core/log.h"
#include "store/store.h"

#define AUDIT_OUTBOX_BATCH 256

int audit_outbox_drain(sqlite3 *db, size_t *moved, struct focal_err *err)
{
	sqlite3_stmt *sel = NULL, *del = NULL;
	size_t n = 0;
	int rc = FOCAL_OK, r;

	if (moved != NULL)
		*moved = 0;
	if (audit_dir() == NULL)
		return FOCAL_OK; /* no log here: the rows wait for a focald that has one */
	if (sqlite3_prepare_v2(db, "SELECT id, ts_ms, type, body FROM audit_outbox ORDER BY id LIMIT ?1",
			       -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM audit_outbox WHERE id = ?1", -1, &del, NULL) !=
		    SQLITE_OK) {
		rc = store_err(db, err, "reading the audit outbox");
		goto out;
	}
	sqlite3_bind_int(sel, 1, AUDIT_OUTBOX_BATCH);
	while ((r = sqlite3_step(sel)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(sel, 0);
		const char *type = (const char *)sqlite3_column_text(sel, 2);
		const char *body = (const char *)sqlite3_column_text(sel, 3);
		json_t *fields = body != NULL ? json_loads(body, 0, NULL) : NULL;

		if (!json_is_object(fields)) {
			/* not ours (someone wrote into the table): keep a trace of it */
			json_decref(fields);
			fields = json_pack("{s:s?}", "unparsable_body", body);
		}
		json_object_set_new(fields, "via", json_string("cli"));
		json_object_set_new(fields, "outbox_id", json_integer(id));
		json_object_set_new(fields, "recorded_ms", json_integer(sqlite3_column_int64(sel, 1)));
		/* like audit_event: security events also reach the service log (SIEM) */
		log_emitj(LOG_INFO, "audit", type != NULL ? type : "admin.unknown",
			  json_pack("{s:s?, s:O}", "audit_type", type, "details", fields));
		if ((rc = audit_submit_wait(type != NULL ? type : "admin.unknown", fields, NULL,
					    err)) != FOCAL_OK) {
			log_emitj(LOG_ERROR, "audit_unavailable", err->msg,
				  json_pack("{s:s}", "alert", "audit_outbox_stuck"));
			goto out;
		}
		sqlite3_reset(del);
		sqlite3_bind_int64(del, 1, id);
		if (sqlite3_step(del) != SQLITE_DONE) {
			rc = store_err(db, err, "clearing the audit outbox");
			goto out;
		}
		n++;
	}
	if (r != SQLITE_DONE)
		rc = store_err(db, err, "reading the audit outbox");
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	if (moved != NULL)
		*moved = n;
	return rc;
}
