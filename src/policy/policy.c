/*
 * policy: see policy.h.
 */
#include "policy/policy.h"

#include "core/cfgnode.h"

int policy_config_parse(const struct cfg_node *n, struct policy_config **out, struct focal_err *err)
{
	*out = NULL;
	if (n != NULL)
		return cfg_error(n, err, "section 'policy' is not supported by this build yet");
	return FOCAL_OK;
}

void policy_config_free(struct policy_config *c)
{
	(void)c;
}

const struct api_route policy_api_routes[] = {
	{ NULL, false, NULL },
};
