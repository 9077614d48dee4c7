/*
 * auth: see auth.h.
 */
#include "auth/auth.h"

#include <stdio.h>
#include <string.h>

#include "auth/principal.h"
#include "core/cfgnode.h"
#include "http/server.h"

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

int auth_request_principal(struct evhttp_request *req, struct server_loop *sl,
			   struct auth_principal *out, struct focal_err *err)
{
	static const char *const dev_roles[] = { "officer", "admin", "auditor" };

	(void)req;
	memset(out, 0, sizeof(*out));
	if (!sl->srv->dev_no_auth)
		return focal_err_set(err, FOCAL_E_DENIED, "authentication required: log in first");
	snprintf(out->user, sizeof(out->user), "dev");
	snprintf(out->name, sizeof(out->name), "Development user");
	for (size_t i = 0; i < 3; i++)
		snprintf(out->roles[out->nroles++], sizeof(out->roles[0]), "%s", dev_roles[i]);
	out->clearance = CLASS_STRICTLY_CONFIDENTIAL;
	return FOCAL_OK;
}
