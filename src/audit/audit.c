/*
 * audit: see audit.h.
 */
#include "audit/audit.h"

#include "auth/principal.h"
#include "core/cfgnode.h"
#include "core/log.h"

int audit_config_parse(const struct cfg_node *n, struct audit_config **out, struct focal_err *err)
{
	*out = NULL;
	if (n != NULL)
		return cfg_error(n, err, "section 'audit' is not supported by this build yet");
	return FOCAL_OK;
}

void audit_config_free(struct audit_config *c)
{
	(void)c;
}

const struct api_route audit_api_routes[] = {
	{ NULL, false, NULL },
};

/* Scaffold: a log line until the audit log exists. */
int audit_event(const char *type, const struct auth_principal *who, json_t *fields,
		struct focal_err *err)
{
	(void)err;
	if (fields == NULL)
		fields = json_object();
	json_object_set_new(fields, "audit_type", json_string(type));
	json_object_set_new(fields, "user", json_string(who != NULL ? who->user : ""));
	log_emitj(LOG_INFO, "audit", type, fields);
	return FOCAL_OK;
}
