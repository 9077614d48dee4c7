/*
 * auth: see auth.h.
 */
#include "auth/auth.h"

#include "core/cfgnode.h"

int auth_config_parse(const struct cfg_node *n, struct auth_config **out, struct focal_err *err)
{
	*out = NULL;
	if (n != NULL)
		return cfg_error(n, err, "section 'auth' is not supported by this build yet");
	return FOCAL_OK;
}

void auth_config_free(struct auth_config *c)
{
	(void)c;
}

const struct api_route auth_api_routes[] = {
	{ NULL, false, NULL },
};
