/*
 * cmd_policy: `focal policy check|explain` — validate a policy file, and show
 * what the policy decides for a user and a source and why (the rule, with
 * file:line).  Both work offline on the files, like focald would load them
 * (policy.h); nothing is sent to focald.
 *
 * The subject of `explain`: with --user alone, the account's roles, unit and
 * clearance as the identity store holds them (the store focal.yaml names,
 * read directly); with --roles (and --unit, --clearance), a hypothetical
 * subject given by flags.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal.h"
#include "auth/user.h"
#include "cli/commands.h"
#include "core/config.h"
#include "policy/policy.h"
#include "sources/record.h"
#include "store/store.h"

static void policy_usage(FILE *f)
{
	fprintf(f,
		"usage: focal policy check FILE [--config focal.yaml]\n"
		"       focal policy explain --source NAME [--user U] [--roles a,b] [--unit X]\n"
		"                            [--clearance not_sensitive|restricted|strictly_confidential]\n"
		"                            [--purpose CODE] [--case REF] [--action search|view|export]\n"
		"                            [--mfa-age SECONDS] [--device-cert] [--time HH:MM] [--day 0-6]\n"
		"                            [--config focal.yaml] [--policy FILE]\n"
		"       focal policy explain --action administer --object users|sources|policy|audit|...\n"
		"                            [--roles ...] [--config focal.yaml] [--policy FILE]\n"
		"  check validates FILE (with --config, its source names against focald's sources).\n"
		"  explain prints the decision and the rule that made it (file:line).\n"
		"  --config defaults to $FOCAL_CONFIG; --policy to the file focal.yaml names.\n");
}

static int load_config(const char *path, struct config **cfg)
{
	struct focal_err err;

	if (config_load(path, cfg, &err) != 0) {
		fprintf(stderr, "focal: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static int policy_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	struct config *cfg = NULL;
	struct policy *pol = NULL;
	struct policy_errors *all = NULL;
	struct focal_err err;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h': policy_usage(stdout); return 0;
		default: policy_usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		policy_usage(stderr);
		return 2;
	}
	if (config != NULL && load_config(config, &cfg) != 0)
		return 1;
	if ((all = malloc(sizeof(*all))) == NULL) {
		fprintf(stderr, "focal: out of memory\n");
		goto out;
	}
	/* every error, one a line, not only the first */
	if (policy_load_file_all(argv[optind], cfg, &pol, all, &err) != 0) {
		for (size_t i = 0; i < all->n; i++)
			fprintf(stderr, "focal: %s\n", all->e[i].msg);
		if (all->total > all->n)
			fprintf(stderr, "focal: (%zu more errors not shown)\n", all->total - all->n);
		fprintf(stderr, "focal: %s: %zu error%s\n", argv[optind], all->total,
			all->total == 1 ? "" : "s");
		goto out;
	}
	printf("%s: valid, %zu rules%s\n", argv[optind], policy_nrules(pol),
	       cfg != NULL ? "; sources checked against the configuration"
			   : " (source names not checked: give --config)");
	rc = 0;
out:
	free(all);
	policy_free(pol);
	config_unref(cfg);
	return rc;
}

/* Fills p from the account user in the store of cfg. */
static int explain_lookup(const struct config *cfg, const char *user, struct auth_principal *p)
{
	struct store *st = NULL;
	struct focal_err err;
	struct user u;
	int rc;

	if (store_open(cfg->store, cfg->path, &st, &err) != 0) {
		fprintf(stderr, "focal: %s\n", err.msg);
		return 1;
	}
	rc = user_get(st, user, &u, &err);
	store_close(st);
	if (rc != 0) {
		fprintf(stderr, "focal: %s\n", err.msg);
		return 1;
	}
	user_to_principal(&u, p);
	if (u.status != USER_ACTIVE || u.locked)
		printf("%-10s the account is %s: it cannot log in at all\n", "note:",
		       u.status != USER_ACTIVE ? "disabled" : "locked");
	return 0;
}

/* The subject of an explanation: the account --user in the identity store,
 * or, with --roles, the attributes the flags give. */
static int explain_principal(const struct config *cfg, const char *user, const char *roles,
			     const char *unit, const char *clearance, struct auth_principal *p)
{
	static const char *const classes[] = { "not_sensitive", "restricted",
					       "strictly_confidential" };
	const char *r = roles;

	memset(p, 0, sizeof(*p));
	if (roles == NULL && user != NULL)
		return explain_lookup(cfg, user, p);
	snprintf(p->user, sizeof(p->user), "%s", user ? user : "(flags)");
	if (roles == NULL) {
		fprintf(stderr, "focal: give --user U (an account) or --roles (and --unit, "
			"--clearance)\n");
		return 2;
	}
	while (*r != '\0' && p->nroles < PRINCIPAL_MAX_ROLES) {
		size_t n = strcspn(r, ",");

		if (n > 0 && n < sizeof(p->roles[0]))
			snprintf(p->roles[p->nroles++], sizeof(p->roles[0]), "%.*s", (int)n, r);
		r += n + (r[n] == ',');
	}
	snprintf(p->unit, sizeof(p->unit), "%s", unit ? unit : "");
	p->clearance = CLASS_NOT_SENSITIVE;
	if (clearance != NULL) {
		size_t i;

		for (i = 0; i < 3 && strcmp(classes[i], clearance) != 0; i++)
			;
		if (i == 3) {
			fprintf(stderr, "focal: --clearance: expected not_sensitive, restricted or "
				"strictly_confidential\n");
			return 2;
		}
		p->clearance = (enum classification)i;
	}
	return 0;
}

static void print_decision(const char *what, const struct policy_decision *d)
{
	printf("%-10s %s\n", what, policy_verdict_name(d->verdict));
	if (d->line > 0)
		printf("%-10s %s (%s:%zu)\n", "rule:", d->rule, d->file, d->line);
	else
		printf("%-10s %s\n", "rule:", strcmp(d->rule, "default") == 0
			       ? "default deny (no rule allows this)" : d->rule);
	if (d->verdict == POLICY_DENY || d->verdict == POLICY_NEEDS_PURPOSE)
		printf("%-10s %s\n", "reason:", d->reason);
}

struct explain_args {
	const char *user, *roles, *unit, *clearance, *source, *object, *field;
	const char *config, *policy;
	enum policy_action action;
	struct policy_context ctx;
	long mfa_age;
	bool device_cert;
};

static int explain_run(const struct explain_args *a, const struct config *cfg,
		       const struct policy *pol)
{
	const struct source_def *def;
	struct auth_principal p;
	struct policy_decision d, fd;
	struct focal_err err;
	int rc;

	char roles[PRINCIPAL_MAX_ROLES * PRINCIPAL_ID_MAX] = "";
	size_t ro = 0;

	if ((rc = explain_principal(cfg, a->user, a->roles, a->unit, a->clearance, &p)) != 0)
		return rc;
	for (size_t i = 0; i < p.nroles && ro < sizeof(roles); i++)
		ro += (size_t)snprintf(roles + ro, sizeof(roles) - ro, "%s%s", i ? "," : "",
				       p.roles[i]);
	p.device_cert = a->device_cert;
	if (a->mfa_age >= 0) {
		p.mfa = true;
		p.auth_time_ms = a->ctx.now_ms - a->mfa_age * 1000;
	}
	printf("%-10s %s (roles %s, unit %s, clearance %s)\n", "subject:", p.user, roles[0] ? roles : "-",
	       p.unit[0] ? p.unit : "-", classification_name(p.clearance));
	if (a->action == POLICY_ADMINISTER) {
		if (a->object == NULL) {
			fprintf(stderr, "focal: --action administer needs --object\n");
			return 2;
		}
		rc = policy_check_admin(pol, &p, a->object, &err);
		printf("%-10s administer %s: %s\n", "decision:", a->object,
		       rc == 0 ? "allow" : err.msg);
		return rc == 0 ? 0 : 1;
	}
	if (a->source == NULL || (def = config_source(cfg, a->source)) == NULL) {
		fprintf(stderr, "focal: %s\n", a->source ? "no source of that name in the configuration"
			: "give --source NAME");
		return 2;
	}
	printf("%-10s %s (%s, owner %s)\n", "source:", def->name,
	       classification_name(def->classification), def->owner);
	int field = -1;

	if (a->field != NULL) {
		/* "person.birth_date", or a bare name: its first entity kind */
		const char *dot = strchr(a->field, '.');

		for (int k = 0; k < ENTITY__COUNT && field < 0; k++)
			if (dot == NULL || (strncmp(entity_kind_name((enum entity_kind)k), a->field,
						    (size_t)(dot - a->field)) == 0 &&
					    entity_kind_name((enum entity_kind)k)[dot - a->field] == '\0'))
				field = policy_field_id(k, dot ? dot + 1 : a->field);
		if (field < 0) {
			fprintf(stderr, "focal: --field: unknown canonical field\n");
			return 2;
		}
	}
	policy_decide(pol, &p, &a->ctx, a->action, def->index, field, &d);
	print_decision("decision:", &d);
	if (d.verdict == POLICY_NEEDS_PURPOSE)
		printf("%-10s a purpose code%s and a case or intervention reference%s\n", "needs:",
		       a->ctx.purpose ? " (given)" : "", a->ctx.case_ref ? " (given)" : "");
	for (int id = 0; id < 64 && d.verdict == POLICY_ALLOW_REDACTED; id++) {
		int kind;
		const char *name = policy_field_name(id, &kind);

		if (name == NULL || !((d.redact >> id) & 1u))
			continue;
		policy_decide(pol, &p, &a->ctx, POLICY_VIEW, def->index, id, &fd);
		printf("%-10s %s.%s by %s", "redacted:", entity_kind_name((enum entity_kind)kind), name,
		       fd.line ? fd.rule : "default deny (no view rule allows it)");
		if (fd.line)
			printf(" (%s:%zu)", fd.file, fd.line);
		putchar('\n');
	}
	return d.verdict == POLICY_ALLOW || d.verdict == POLICY_ALLOW_REDACTED ? 0 : 1;
}

static int policy_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "roles", required_argument, NULL, 'r' },
		{ "unit", required_argument, NULL, 'n' },
		{ "clearance", required_argument, NULL, 'l' },
		{ "source", required_argument, NULL, 's' },
		{ "purpose", required_argument, NULL, 'p' },
		{ "case", required_argument, NULL, 'k' },
		{ "action", required_argument, NULL, 'a' },
		{ "object", required_argument, NULL, 'o' },
		{ "field", required_argument, NULL, 'f' },
		{ "mfa-age", required_argument, NULL, 'm' },
		{ "device-cert", no_argument, NULL, 'd' },
		{ "time", required_argument, NULL, 't' },
		{ "day", required_argument, NULL, 'w' },
		{ "config", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct explain_args a = { .mfa_age = -1, .config = getenv("FOCAL_CONFIG") };
	struct config *cfg = NULL;
	struct policy *own = NULL;
	const struct policy *pol;
	struct focal_err err;
	char *end;
	int c, rc, hh, mm;

	policy_context_now(&a.ctx);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': a.user = optarg; break;
		case 'r': a.roles = optarg; break;
		case 'n': a.unit = optarg; break;
		case 'l': a.clearance = optarg; break;
		case 's': a.source = optarg; break;
		case 'p': a.ctx.purpose = optarg; break;
		case 'k': a.ctx.case_ref = optarg; break;
		case 'o': a.object = optarg; break;
		case 'f': a.field = optarg; break;
		case 'd': a.device_cert = true; break;
		case 'c': a.config = optarg; break;
		case 'P': a.policy = optarg; break;
		case 'a':
			if (policy_action_parse(optarg, &a.action) != 0) {
				fprintf(stderr, "focal: --action: search, view, export or administer\n");
				return 2;
			}
			break;
		case 'm':
			a.mfa_age = strtol(optarg, &end, 10);
			if (*end != '\0' || a.mfa_age < 0) {
				fprintf(stderr, "focal: --mfa-age: seconds since the MFA login\n");
				return 2;
			}
			break;
		case 't':
			if (sscanf(optarg, "%2d:%2d", &hh, &mm) != 2 || hh < 0 || hh > 23 || mm < 0 ||
			    mm > 59) {
				fprintf(stderr, "focal: --time: HH:MM\n");
				return 2;
			}
			a.ctx.minute_of_day = hh * 60 + mm;
			break;
		case 'w':
			a.ctx.weekday = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || a.ctx.weekday < 0 || a.ctx.weekday > 6) {
				fprintf(stderr, "focal: --day: 0 (Monday) to 6 (Sunday)\n");
				return 2;
			}
			break;
		case 'h': policy_usage(stdout); return 0;
		default: policy_usage(stderr); return 2;
		}
	}
	if (optind != argc || a.config == NULL) {
		if (a.config == NULL)
			fprintf(stderr, "focal: give --config focal.yaml (or set FOCAL_CONFIG)\n");
		policy_usage(stderr);
		return 2;
	}
	if (load_config(a.config, &cfg) != 0)
		return 1;
	pol = policy_of(cfg);
	if (a.policy != NULL) {
		if (policy_load_file(a.policy, cfg, &own, &err) != 0) {
			fprintf(stderr, "focal: %s\n", err.msg);
			config_unref(cfg);
			return 1;
		}
		pol = own;
	}
	rc = explain_run(&a, cfg, pol);
	policy_free(own);
	config_unref(cfg);
	return rc;
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2) {
		policy_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "check") == 0)
		return policy_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return policy_explain(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		policy_usage(stdout);
		return 0;
	}
	fprintf(stderr, "focal: unknown policy command \"%s\"\n", argv[1]);
	policy_usage(stderr);
	return 2;
}
