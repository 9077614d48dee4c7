/*
 * commands: the `focal` tool's subcommands, one file each (cmd_*.c), called
 * by focal.c's dispatcher with argv[0] = the subcommand's name.  Each returns
 * the process exit status: 0 success, 1 failure, 2 usage error.
 */
#ifndef FOCAL_COMMANDS_H
#define FOCAL_COMMANDS_H

int cmd_user(int argc, char **argv);   /* focal user add|disable|enable|roles|list|reset-mfa */
int cmd_policy(int argc, char **argv); /* focal policy check|explain */
int cmd_audit(int argc, char **argv);  /* focal audit verify|... */
int cmd_login(int argc, char **argv);  /* focal login (bearer token for the CLI) */
int cmd_logout(int argc, char **argv); /* focal logout */

#include <stddef.h>
/* "Authorization: Bearer <token>" from the saved token (cmd_login.c); 0 when
 * there is one. */
int cli_token_header(char *out, size_t cap);
int cli_token_path(char *out, size_t cap);

#endif
