/*
 * source_ldap: placeholder until the connector lands (being written now).
 */
#include "sources/source.h"

const struct connector connector_ldap = { .kind = "ldap" };
