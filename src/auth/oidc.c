/*
 * oidc: see oidc.h.
 */
#include "auth/oidc.h"

#include "core/cfgnode.h"

int oidc_config_parse(const struct cfg_node *n, struct oidc_config **out, struct focal_err *err)
{
	*out = NULL;
	if (n != NULL)
		return cfg_error(n, err, "section 'oidc' is not supported by this build yet");
	return FOCAL_OK;
}

void oidc_config_free(struct oidc_config *c)
{
	(void)c;
}

const struct api_route oidc_api_routes[] = {
	{ NULL, false, NULL },
};
