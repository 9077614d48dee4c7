/*
 * audit: see audit.h.
 */
#include "audit/audit.h"

#include "core/cfgnode.h"

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
