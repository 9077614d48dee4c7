/*
 * store: see store.h.
 */
#include "store/store.h"

#include "core/cfgnode.h"

int store_config_parse(const struct cfg_node *n, struct store_config **out, struct focal_err *err)
{
	*out = NULL;
	if (n != NULL)
		return cfg_error(n, err, "section 'store' is not supported by this build yet");
	return FOCAL_OK;
}

void store_config_free(struct store_config *c)
{
	(void)c;
}
