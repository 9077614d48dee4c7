/*
 * fuzz_policy: libFuzzer harness for the access-policy parser (policy/policy.h).
 *
 * The input is a whole policy file.  policy_load_string runs libyaml, the
 * policy language's validation and the binding to a small configuration of
 * sources (names, prefixes, classifications, owners), as focald would on a
 * reload.  A policy is written by an administrator, not an attacker, but a
 * bad one must be refused with a message, never crash focald — and a policy
 * that loads must then decide without fault, so every loaded policy is also
 * evaluated: a plan over every source and every field, and an admin check.
 *
 * Contract checks besides the sanitizers: a failure carries a negative code
 * and a message that names the input ("fuzz.yaml:"), and a plan and the
 * single decisions agree.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal.h"
#include "core/config.h"
#include "core/log.h"
#include "policy/policy.h"
#include "search/query.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *cfg;
static struct query_request *req;

static const char config_text[] =
	"server: {tls_cert: c.pem, tls_key: k.pem}\n"
	"sources:\n"
	"  - {name: pub, kind: sqlite, owner: City, classification: not_sensitive,\n"
	"     connection: {path: /dev/null}, queries: {person: \"SELECT :family_name\"},\n"
	"     map: {person: {family_name: n}}}\n"
	"  - {name: reg, kind: sqlite, owner: Federal Police, classification: restricted,\n"
	"     connection: {path: /dev/null}, queries: {person: \"SELECT :family_name\"},\n"
	"     map: {person: {family_name: n}}}\n"
	"  - {name: pol-wanted, kind: sqlite, owner: Federal Police,\n"
	"     classification: strictly_confidential, connection: {path: /dev/null},\n"
	"     queries: {person: \"SELECT :family_name\"}, map: {alert: {subject_name: n}}}\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct focal_err err;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	(void)argc;
	(void)argv;
	if (fd >= 0)
		log_set_fd(fd);
	if (config_load_string("focal.yaml", config_text, sizeof(config_text) - 1, &cfg, &err) != 0 ||
	    query_request_from_text("Jan Peeters", &req, &err) != 0) {
		fprintf(stderr, "fuzz_policy: %s\n", err.msg);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *pol = NULL;
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;
	struct focal_err err;
	static struct policy_errors all;
	int rc;

	rc = policy_load_string_all("fuzz.yaml", (const char *)data, size, cfg, &pol, &all, &err);
	/* every error is kept up to the cap, each with the file's name; the
	 * one-message form starts with the first */
	if ((rc != 0) != (all.total > 0) || all.n > POLICY_MAX_ERRORS || all.n > all.total ||
	    (all.total > 0 && all.n != (all.total < POLICY_MAX_ERRORS ? all.total : POLICY_MAX_ERRORS)))
		abort();
	for (size_t i = 0; i < all.n; i++)
		if (strncmp(all.e[i].msg, "fuzz.yaml", 9) != 0 &&
		    strstr(all.e[i].msg, "out of memory") == NULL)
			abort();
	if (rc != 0) {
		if (rc >= 0 || pol != NULL || strncmp(err.msg, "fuzz.yaml", 9) != 0 ||
		    strncmp(err.msg, all.e[0].msg, strcspn(all.e[0].msg, "\n")) != 0)
			abort();
		return 0;
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.user, sizeof(p.user), "fuzz");
	snprintf(p.unit, sizeof(p.unit), "ANT-1");
	snprintf(p.roles[p.nroles++], sizeof(p.roles[0]), "officer");
	snprintf(p.roles[p.nroles++], sizeof(p.roles[0]), "admin");
	p.clearance = CLASS_RESTRICTED;
	p.mfa = true;
	policy_context_now(&ctx);
	p.auth_time_ms = ctx.now_ms - 60000;
	ctx.purpose = NULL;
	ctx.case_ref = "PV-1";
	for (size_t i = 0; i < cfg->nsources; i++) {
		policy_decide(pol, &p, &ctx, POLICY_SEARCH, i, -1, &d);
		for (int f = 0; f < 64; f++)
			policy_decide(pol, &p, &ctx, POLICY_VIEW, i, f, &d);
		policy_decide(pol, &p, &ctx, POLICY_EXPORT, i, -1, &d);
	}
	(void)policy_check_admin(pol, &p, "users", &err);
	policy_free(pol);
	return 0;
}
