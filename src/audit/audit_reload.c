/*
 * audit_reload: audit entries of configuration loads and reloads (see
 * audit_reload.h).
 */
#include "audit/audit_reload.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "audit/audit.h"
#include "core/config.h"
#include "policy/policy.h"

#define AUDIT_RELOAD_FILE_MAX (16 * 1024 * 1024) /* larger than any policy file accepted */

/* What the signal or event was, and who is behind it. */
static json_t *audit_reload_trigger(const char *trigger)
{
	bool start = strcmp(trigger, "start") == 0;

	return json_pack("{s:s, s:s}", "trigger", trigger, "by", start ? "focald" : "os");
}

static json_t *audit_reload_source_names(const struct config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; cfg != NULL && i < cfg->nsources; i++)
		json_array_append_new(a, json_string(cfg->sources[i].name));
	return a;
}

/* Names of a's sources that b lacks. */
static json_t *audit_reload_missing(const struct config *a, const struct config *b)
{
	json_t *out = json_array();

	for (size_t i = 0; a != NULL && i < a->nsources; i++)
		if (config_source(b, a->sources[i].name) == NULL)
			json_array_append_new(out, json_string(a->sources[i].name));
	return out;
}

static json_t *audit_reload_hex(const unsigned char h[32])
{
	char hex[65];

	sodium_bin2hex(hex, 65, h, 32);
	return json_string(hex);
}

static int audit_reload_event(const char *type, json_t *fields, struct focal_err *err)
{
	if (fields == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	return audit_event(type, NULL, fields, err);
}

int audit_reload_started(const struct config *cfg, struct focal_err *err)
{
	json_t *f = audit_reload_trigger("start");
	int rc;

	if (f != NULL) {
		json_object_set_new(f, "config", json_string(cfg->path ? cfg->path : ""));
		json_object_set_new(f, "policy", policy_identity_json(cfg));
	}
	if ((rc = audit_reload_event("admin.policy.load", f, err)) != FOCAL_OK)
		return rc;
	f = audit_reload_trigger("start");
	if (f != NULL) {
		json_object_set_new(f, "config", json_string(cfg->path ? cfg->path : ""));
		json_object_set_new(f, "config_sha256", audit_reload_hex(cfg->sha256));
		json_object_set_new(f, "sources", audit_reload_source_names(cfg));
	}
	return audit_reload_event("admin.sources.load", f, err);
}

int audit_reload_applied(const struct config *old, const struct config *cfg, const char *trigger,
			 struct focal_err *err)
{
	json_t *was = policy_identity_json(old), *now = policy_identity_json(cfg);
	json_t *added = audit_reload_missing(cfg, old), *removed = audit_reload_missing(old, cfg);
	json_t *f;
	int rc = FOCAL_OK;

	if (!json_equal(was, now)) {
		f = audit_reload_trigger(trigger);
		if (f != NULL) {
			json_object_set_new(f, "config", json_string(cfg->path ? cfg->path : ""));
			json_object_set(f, "file", json_object_get(now, "file"));
			json_object_set(f, "old_sha256", json_object_get(was, "sha256"));
			json_object_set(f, "new_sha256", json_object_get(now, "sha256"));
			json_object_set(f, "old_rules", json_object_get(was, "rules"));
			json_object_set(f, "rules", json_object_get(now, "rules"));
			if (!json_equal(json_object_get(was, "file"), json_object_get(now, "file")))
				json_object_set(f, "old_file", json_object_get(was, "file"));
		}
		rc = audit_reload_event("admin.policy.reload", f, err);
	}
	/* any change of the configuration's text (a source's connection, query
	 * or mapping too), with the names added and removed */
	if (rc == FOCAL_OK && (memcmp(old->sha256, cfg->sha256, sizeof(cfg->sha256)) != 0 ||
			       json_array_size(added) > 0 || json_array_size(removed) > 0)) {
		f = audit_reload_trigger(trigger);
		if (f != NULL) {
			json_object_set_new(f, "config", json_string(cfg->path ? cfg->path : ""));
			json_object_set_new(f, "old_config_sha256", audit_reload_hex(old->sha256));
			json_object_set_new(f, "new_config_sha256", audit_reload_hex(cfg->sha256));
			json_object_set(f, "added", added);
			json_object_set(f, "removed", removed);
			json_object_set_new(f, "sources", audit_reload_source_names(cfg));
		}
		rc = audit_reload_event("admin.sources.reload", f, err);
	}
	json_decref(was);
	json_decref(now);
	json_decref(added);
	json_decref(removed);
	return rc;
}

/* SHA-256 (hex) of the file at path, or false when it cannot be read. */
static bool audit_reload_file_digest(const char *path, char out[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;
	unsigned char buf[8192], h[32];
	size_t n, total = 0;
	bool ok = ctx != NULL && f != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		total += n;
		ok = total <= AUDIT_RELOAD_FILE_MAX && EVP_DigestUpdate(ctx, buf, n) == 1;
	}
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, h, NULL) == 1;
	if (ok)
		sodium_bin2hex(out, 65, h, 32);
	if (f != NULL)
		fclose(f);
	EVP_MD_CTX_free(ctx);
	return ok;
}

void audit_reload_rejected(const struct config *running, const char *trigger, const char *error)
{
	json_t *f = audit_reload_trigger(trigger), *pol = policy_identity_json(running);
	const char *file = policy_file_of(running);
	struct focal_err err;
	char digest[65];

	if (f != NULL) {
		json_object_set_new(f, "error", json_string(error));
		json_object_set_new(f, "config", json_string(running->path ? running->path : ""));
		json_object_set(f, "file", json_object_get(pol, "file"));
		json_object_set(f, "running_sha256", json_object_get(pol, "sha256"));
		/* the text refused, as it is on disk now (if the policy file itself
		 * was the problem; another error leaves it equal to the running one) */
		if (audit_reload_file_digest(file, digest))
			json_object_set_new(f, "file_sha256", json_string(digest));
	}
	json_decref(pol);
	(void)audit_reload_event("admin.policy.reload_rejected", f, &err);
}
