/*
 * cmd_audit: `focal audit ...` (scaffold until its issue lands).
 */
#include <stdio.h>

#include "cli/commands.h"

int cmd_audit(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "focal: \"%s\" is not available in this build yet\n", argv[0]);
	return 2;
}
