/*
 * cmd_user: `focal user add|disable|enable|roles|list|reset-mfa|unlock`,
 * account administration directly on the store named by focald's
 * configuration file (--config FILE, else $FOCAL_CONFIG, else ./focal.yaml).
 *
 * It opens the same SQLite file and sealing key as focald; a running focald
 * notices the change within a second (disabling ends the user's sessions).
 * Every change is recorded in the audit log with the operating-system user
 * who made it: the CLI has no audit log of its own, so it stages the event
 * (user_stage) and the store commits it into its audit_outbox table in the
 * same transaction as the change; focald moves it into the audit log within
 * a second (audit/audit_outbox.h).  No change without its audit record.
 *
 * TOTP: by default `add` leaves enrolment to the first login (the officer
 * scans the QR code the login screen shows); with --totp it enrols at once
 * and prints the otpauth URI, a QR code for the terminal and the recovery
 * codes, for an administrator handing them over in person.
 */
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth_internal.h"
#include "auth/login.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "auth/user.h"
#include "cli/commands.h"
#include "core/config.h"
#include "store/store.h"

static void user_usage(FILE *f)
{
	fprintf(f,
		"usage: focal user [--config FILE] COMMAND ...\n"
		"  add USER --name NAME --unit UNIT --roles R1,R2 --clearance C\n"
		"      [--valid-until YYYY-MM-DD] [--password-file FILE|-] [--no-password] [--totp]\n"
		"  list [--json]\n"
		"  disable USER | enable USER | unlock USER | reset-mfa USER\n"
		"  roles USER R1,R2\n"
		"  passwd USER [--password-file FILE|-]   (sets a new password)\n"
		"roles: officer, admin, auditor; clearance: not_sensitive, restricted,\n"
		"strictly_confidential.  FILE defaults to $FOCAL_CONFIG or ./focal.yaml.\n"
		"Without --totp the user enrols TOTP at first login.\n");
}

/* Reads a password: the first line of path ("-" = stdin), or twice from
 * the terminal with echo off. */
static int user_read_password(const char *path, char *out, size_t cap)
{
	FILE *f = NULL;
	size_t n;

	out[0] = '\0';
	if (path != NULL) {
		f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
		if (f == NULL) {
			fprintf(stderr, "focal: cannot read %s\n", path);
			return 1;
		}
		if (fgets(out, (int)cap, f) == NULL)
			out[0] = '\0';
		if (f != stdin)
			fclose(f);
	} else {
		char again[PASSWORD_MAX_BYTES + 2];
		struct termios old, quiet;
		FILE *tty = fopen("/dev/tty", "r+");

		if (tty == NULL) {
			fprintf(stderr, "focal: no terminal: use --password-file\n");
			return 1;
		}
		tcgetattr(fileno(tty), &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
		fputs("Password: ", tty);
		fflush(tty);
		if (fgets(out, (int)cap, tty) == NULL)
			out[0] = '\0';
		fputs("\nAgain: ", tty);
		fflush(tty);
		if (fgets(again, sizeof(again), tty) == NULL)
			again[0] = '\0';
		fputs("\n", tty);
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
		fclose(tty);
		if (strcmp(out, again) != 0) {
			sodium_memzero(again, sizeof(again));
			sodium_memzero(out, cap);
			fprintf(stderr, "focal: the passwords differ\n");
			return 1;
		}
		sodium_memzero(again, sizeof(again));
	}
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	return 0;
}

/* Splits "a,b" into u->roles. */
static int user_parse_roles(const char *csv, struct user *u)
{
	const char *p = csv;

	u->nroles = 0;
	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || n >= PRINCIPAL_ID_MAX || u->nroles >= PRINCIPAL_MAX_ROLES)
			return 1;
		memcpy(u->roles[u->nroles], p, n);
		u->roles[u->nroles][n] = '\0';
		if (!user_role_valid(u->roles[u->nroles])) {
			fprintf(stderr, "focal: unknown role \"%s\" (officer, admin, auditor)\n",
				u->roles[u->nroles]);
			return 1;
		}
		u->nroles++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Who runs the CLI, for the audit record. */
static void user_operator(struct auth_principal *who)
{
	struct passwd *pw = getpwuid(getuid());

	memset(who, 0, sizeof(*who));
	snprintf(who->user, sizeof(who->user), "os:%s", pw ? pw->pw_name : "unknown");
	snprintf(who->name, sizeof(who->name), "focal user (command line)");
	snprintf(who->roles[who->nroles++], sizeof(who->roles[0]), "admin");
}

/* Stages the audit event of the change about to be made (fields stolen): it
 * commits with that change or not at all (store_outbox_stage). */
static int user_stage(const char *type, const struct auth_principal *who, json_t *fields)
{
	struct focal_err err;
	char *body;
	int rc;

	if (fields == NULL)
		fields = json_object();
	json_object_set_new(fields, "who", audit_principal_json(who));
	body = json_dumps(fields, JSON_COMPACT);
	json_decref(fields);
	if (body == NULL) {
		fprintf(stderr, "focal: out of memory\n");
		return 1;
	}
	rc = store_outbox_stage(type, body, &err);
	free(body);
	if (rc != 0) {
		fprintf(stderr, "focal: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static void user_print_enrolment(const struct login_result *r)
{
	char *qr = NULL;

	printf("TOTP enrolment (scan with an authenticator app):\n  %s\n", r->otpauth_uri);
	if (totp_qr_terminal(r->otpauth_uri, &qr, NULL) == 0) {
		fputs(qr, stdout);
		free(qr);
	}
	printf("Recovery codes (each works once; keep them offline):\n");
	for (size_t i = 0; i < TOTP_RECOVERY_CODES; i++)
		printf("  %s\n", r->recovery[i]);
}

static json_t *user_json(const struct user *u)
{
	json_t *roles = json_array();

	for (size_t i = 0; i < u->nroles; i++)
		json_array_append_new(roles, json_string(u->roles[i]));
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:b, s:I, s:I}", "username",
			 u->username, "name", u->name, "unit", u->unit, "roles", roles,
			 "clearance", classification_name(u->clearance), "status",
			 u->status == USER_ACTIVE ? "active" : "disabled", "locked", u->locked,
			 "mfa_enrolled", u->mfa_enrolled, "valid_until", (json_int_t)u->valid_until,
			 "last_used", (json_int_t)u->last_used);
}

static int user_list_cmd(struct auth_runtime *rt, bool json_out)
{
	struct focal_err err;
	struct user *v = NULL;
	size_t n = 0;

	if (user_list(rt->st, &v, &n, &err) != 0) {
		fprintf(stderr, "focal: %s\n", err.msg);
		return 1;
	}
	if (json_out) {
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, user_json(&v[i]));
		json_dumpf(a, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(a);
	} else {
		printf("%-20s %-10s %-6s %-4s %-22s %-24s %s\n", "USER", "STATUS", "LOCKED", "MFA",
		       "CLEARANCE", "ROLES", "NAME (UNIT)");
		for (size_t i = 0; i < n; i++) {
			char roles[PRINCIPAL_MAX_ROLES * PRINCIPAL_ID_MAX] = "";
			size_t o = 0;

			for (size_t r = 0; r < v[i].nroles && o < sizeof(roles); r++)
				o += (size_t)snprintf(roles + o, sizeof(roles) - o, "%s%s",
						      r ? "," : "", v[i].roles[r]);
			printf("%-20s %-10s %-6s %-4s %-22s %-24s %s (%s)\n", v[i].username,
			       v[i].status == USER_ACTIVE ? "active" : "disabled",
			       v[i].locked ? "yes" : "no", v[i].mfa_enrolled ? "yes" : "no",
			       classification_name(v[i].clearance), roles, v[i].name, v[i].unit);
		}
	}
	free(v);
	return 0;
}

static int user_add(struct auth_runtime *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "unit", required_argument, NULL, 'u' },
		{ "roles", required_argument, NULL, 'r' },
		{ "clearance", required_argument, NULL, 'c' },
		{ "valid-until", required_argument, NULL, 'v' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "no-password", no_argument, NULL, 'N' },
		{ "totp", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pwfile = NULL, *clearance = NULL, *roles = NULL;
	char password[PASSWORD_MAX_BYTES + 2] = "";
	struct login_result enrol;
	struct auth_principal who;
	struct focal_err err;
	struct user u;
	bool no_password = false, totp = false;
	int c, rc = 1;

	memset(&u, 0, sizeof(u));
	memset(&enrol, 0, sizeof(enrol));
	optind = 0; /* glibc: 0 restarts getopt completely (the caller used it) */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': snprintf(u.name, sizeof(u.name), "%s", optarg); break;
		case 'u': snprintf(u.unit, sizeof(u.unit), "%s", optarg); break;
		case 'r': roles = optarg; break;
		case 'c': clearance = optarg; break;
		case 'v': {
			struct tm tm;
			const char *end;

			memset(&tm, 0, sizeof(tm));
			end = strptime(optarg, "%Y-%m-%d", &tm);
			if (end == NULL || *end != '\0') {
				fprintf(stderr, "focal: --valid-until: expected YYYY-MM-DD\n");
				return 2;
			}
			u.valid_until = (int64_t)timegm(&tm);
			break;
		}
		case 'p': pwfile = optarg; break;
		case 'N': no_password = true; break;
		case 't': totp = true; break;
		default: user_usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || roles == NULL || clearance == NULL) {
		fprintf(stderr, "focal: user add needs USER, --roles and --clearance\n");
		return 2;
	}
	snprintf(u.username, sizeof(u.username), "%s", argv[optind]);
	if (user_parse_roles(roles, &u) != 0 ||
	    user_clearance_parse(clearance, &u.clearance) != 0) {
		fprintf(stderr, "focal: invalid --roles or --clearance "
				"(not_sensitive, restricted, strictly_confidential)\n");
		return 2;
	}
	if (!no_password && user_read_password(pwfile, password, sizeof(password)) != 0)
		return 1;
	user_operator(&who);
	if (user_stage("admin.user.create", &who, json_pack("{s:s}", "target", u.username)) != 0)
		goto out;
	if (user_create(rt->st, &u, no_password ? NULL : password, &err) != 0) {
		fprintf(stderr, "focal: %s\n", err.msg);
		goto out;
	}
	printf("user %s created\n", u.username);
	if (totp) {
		if (user_stage("auth.mfa.enrol", &who, json_pack("{s:s}", "target", u.username)) != 0)
			goto out;
		if (login_enrol_direct(&rt->login, u.username, &enrol, &err) != 0) {
			fprintf(stderr, "focal: %s\n", err.msg);
			goto out;
		}
		user_print_enrolment(&enrol);
	} else {
		printf("TOTP: enrolment at first login (the login shows a QR code)\n");
	}
	rc = 0;
out:
	store_outbox_discard(); /* what did not commit */
	login_result_clear(&enrol);
	sodium_memzero(password, sizeof(password));
	return rc;
}

int cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = getenv("FOCAL_CONFIG");
	struct auth_runtime rt;
	struct auth_principal who;
	struct config *cfg = NULL;
	struct focal_err err;
	const char *cmd, *name;
	int c, rc = 1;

	memset(&rt, 0, sizeof(rt));
	/* options before the command only ('+': stop at the first non-option) */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'C': config = optarg; break;
		case 'h': user_usage(stdout); return 0;
		default: user_usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		user_usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (config == NULL)
		config = "focal.yaml";
	if (config_load(config, &cfg, &err) != 0 || auth_open(cfg, &rt, &err) != 0) {
		fprintf(stderr, "focal: %s\n", err.msg);
		config_unref(cfg);
		return 1;
	}
	user_operator(&who);
	name = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (strcmp(cmd, "add") == 0) {
		rc = user_add(&rt, argc - optind, argv + optind);
	} else if (strcmp(cmd, "list") == 0) {
		rc = user_list_cmd(&rt, name != NULL && strcmp(name, "--json") == 0);
	} else if (name == NULL) {
		user_usage(stderr);
		rc = 2;
	} else if (strcmp(cmd, "passwd") == 0) {
		char password[PASSWORD_MAX_BYTES + 2];
		const char *file = NULL;

		if (optind + 4 == argc && strcmp(argv[optind + 2], "--password-file") == 0)
			file = argv[optind + 3];
		if (optind + 2 != argc && file == NULL) {
			user_usage(stderr);
			rc = 2;
		} else if (user_read_password(file, password, sizeof(password)) == 0 &&
			   user_stage("admin.user.password", &who,
				      json_pack("{s:s}", "target", name)) == 0) {
			if (user_set_password(rt.st, name, password, &err) != 0) {
				fprintf(stderr, "focal: %s\n", err.msg);
			} else {
				printf("%s: password set\n", name);
				rc = 0;
			}
		}
		sodium_memzero(password, sizeof(password));
	} else if (strcmp(cmd, "roles") == 0) {
		struct user u;

		memset(&u, 0, sizeof(u));
		if (optind + 3 != argc || user_parse_roles(argv[optind + 2], &u) != 0) {
			user_usage(stderr);
			rc = 2;
		} else if (user_stage("admin.user.roles", &who,
				      json_pack("{s:s, s:s}", "target", name, "roles",
						argv[optind + 2])) != 0) {
			rc = 1;
		} else if (user_set_roles(rt.st, name, u.roles, u.nroles, &err) != 0) {
			fprintf(stderr, "focal: %s\n", err.msg);
		} else {
			printf("roles of %s: %s (their sessions ended)\n", name, argv[optind + 2]);
			rc = 0;
		}
	} else {
		static const struct {
			const char *cmd, *audit, *done;
		} simple[] = {
			{ "disable", "admin.user.disable", "disabled; sessions ended" },
			{ "enable", "admin.user.enable", "enabled" },
			{ "unlock", "admin.user.unlock", "unlocked" },
			{ "reset-mfa", "admin.user.reset_mfa", "TOTP reset: enrolment at next login" },
		};
		size_t i;

		for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
			if (strcmp(cmd, simple[i].cmd) == 0)
				break;
		if (i == sizeof(simple) / sizeof(simple[0]) || optind + 2 != argc) {
			user_usage(stderr);
			rc = 2;
		} else if (user_stage(simple[i].audit, &who, json_pack("{s:s}", "target", name)) ==
			   0) {
			int r = i == 0   ? user_set_status(rt.st, name, USER_DISABLED, &err)
				: i == 1 ? user_set_status(rt.st, name, USER_ACTIVE, &err)
				: i == 2 ? user_unlock(rt.st, name, &err)
					 : user_reset_mfa(rt.st, name, &err);

			if (r != 0) {
				fprintf(stderr, "focal: %s\n", err.msg);
			} else {
				printf("%s: %s\n", name, simple[i].done);
				rc = 0;
			}
		}
	}
	store_outbox_discard();
	auth_close(&rt);
	config_unref(cfg);
	return rc;
}
