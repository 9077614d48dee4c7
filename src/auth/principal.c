/*
 * principal: see principal.h.
 */
#include "auth/principal.h"

#include <string.h>

bool principal_has_role(const struct auth_principal *p, const char *role)
{
	for (size_t i = 0; i < p->nroles && i < PRINCIPAL_MAX_ROLES; i++)
		if (strcmp(p->roles[i], role) == 0)
			return true;
	return false;
}
