/*
 * web: see web.h.
 */
#include "http/web.h"

#include "core/cfgnode.h"

int web_config_parse(const struct cfg_node *n, struct web_config **out, struct focal_err *err)
{
	*out = NULL;
	if (n != NULL)
		return cfg_error(n, err, "section 'web' is not supported by this build yet");
	return FOCAL_OK;
}

void web_config_free(struct web_config *c)
{
	(void)c;
}

const struct api_route web_routes[] = {
	{ NULL, false, NULL },
};
