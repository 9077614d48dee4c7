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

#endif
