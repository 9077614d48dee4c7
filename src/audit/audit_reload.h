/*
 * audit_reload: the audit entries of focald's own configuration changes —
 * which access policy and which sources it runs (issue 5, point 4: policy
 * and admin changes are audited like any other security event).
 *
 * server.c calls these around config_load: at start (the policy and the
 * sources focald begins with), after a reload that was accepted (only what
 * changed: the policy's file, the SHA-256 of the old and the new text, its
 * rule count; the configuration's digests and the sources added and
 * removed) and after a reload that was
 * rejected (the error; the running policy stays).  The trigger is named
 * ("start", "SIGHUP"); a signal's sender is not known to focald, so "by"
 * says "os".  An auditor holding a policy file proves which version ran when
 * by hashing it.
 */
#ifndef FOCAL_AUDIT_RELOAD_H
#define FOCAL_AUDIT_RELOAD_H

#include "core/err.h"

struct config;

/* admin.policy.load and admin.sources.load for the configuration focald
 * starts with (the audit log must be open).  Returns FOCAL_OK or why the
 * entries were refused: focald then does not start (fail closed). */
int audit_reload_started(const struct config *cfg, struct focal_err *err);

/* After a reload was parsed and before it is applied: admin.policy.reload
 * when the policy's text or file changed, admin.sources.reload when the
 * configuration's text changed (with the SHA-256 of both and the source
 * names added and removed); nothing when neither.  Returns FOCAL_OK or why the
 * audit log refused them: the caller then keeps the running configuration
 * (an unaudited policy change is not applied). */
int audit_reload_applied(const struct config *old, const struct config *cfg, const char *trigger,
			 struct focal_err *err);

/* After a rejected reload: admin.policy.reload_rejected with the error, the
 * running policy, and the SHA-256 of the policy file now on disk (the text
 * that was refused) when it can be read. */
void audit_reload_rejected(const struct config *running, const char *trigger, const char *error);

#endif
