/*
 * policy: the `policy:` section of focald's configuration, loading a policy
 * file, binding it to the configured sources, the built-in policy, and the
 * canonical field ids (see policy.h; the language is parsed in
 * policy_parse.c, decisions are made in policy_eval.c).
 */
#include "policy/policy.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "auth/auth.h"
#include "auth/principal.h"
#include "core/cfgnode.h"
#include "core/config.h"
#include "http/reply.h"
#include "http/server.h"
#include "policy/policy_int.h"
#include "sources/record.h"
#include "sources/source.h"

struct policy_config {
	char *file;          /* absolute path of the policy file */
	struct policy *pol;  /* parsed, bound by policy_config_bind */
};

/* Used when focald's configuration has no `policy:` section: officers search
 * what their clearance allows, admins administer, auditors oversee (and
 * only they read the lookups: separation of duties, admins see alerts).  No
 * purpose binding (there are no purpose codes to check against); deployments
 * write their own file (docs/policy.md, demo/policy.yaml). */
static const char builtin_yaml[] =
	"version: 1\n"
	"rules:\n"
	"  - name: builtin-officers-search\n"
	"    effect: allow\n"
	"    actions: [search, view, export]\n"
	"    subject: { roles: [officer] }\n"
	"  - name: builtin-admins-administer\n"
	"    effect: allow\n"
	"    actions: [administer]\n"
	"    subject: { roles: [admin] }\n"
	"    resource: { admin: [users, roles, sessions, sources, policy, keys, alerts] }\n"
	"  - name: builtin-auditors-audit\n"
	"    effect: allow\n"
	"    actions: [administer]\n"
	"    subject: { roles: [auditor] }\n"
	"    resource: { admin: [audit, alerts] }\n";

/* --- canonical field ids ----------------------------------------------------- */

static int field_base(int kind)
{
	int base = 0;

	for (int k = 0; k < kind; k++)
		for (const char *const *f = entity_fields((enum entity_kind)k); *f != NULL; f++)
			base++;
	return base;
}

int policy_nfields(void)
{
	int n = field_base(ENTITY__COUNT);

	return n > 64 ? 64 : n;
}

int policy_field_id(int entity_kind, const char *field)
{
	const char *const *f;
	int i = 0;

	if (entity_kind < 0 || entity_kind >= ENTITY__COUNT || field == NULL)
		return -1;
	for (f = entity_fields((enum entity_kind)entity_kind); *f != NULL; f++, i++)
		if (strcmp(*f, field) == 0)
			return field_base(entity_kind) + i < 64 ? field_base(entity_kind) + i : -1;
	return -1;
}

const char *policy_field_name(int id, int *entity_kind)
{
	for (int k = 0, base = 0; k < ENTITY__COUNT; k++) {
		const char *const *f = entity_fields((enum entity_kind)k);

		for (int i = 0; f[i] != NULL; i++, base++)
			if (base == id) {
				if (entity_kind != NULL)
					*entity_kind = k;
				return f[i];
			}
	}
	return NULL;
}

/* --- loading and binding ---------------------------------------------------- */

/* err = the errors of errs joined, one a line, as many as fit, then how
 * many were left out; returns the first one's code. */
static int policy_errors_join(const struct policy_errors *errs, struct focal_err *err)
{
	char buf[FOCAL_ERR_MSG_MAX], tail[64];
	size_t off = 0, shown = 0;

	if (errs->total == 0)
		return FOCAL_OK;
	buf[0] = '\0';
	for (size_t i = 0; i < errs->n; i++) {
		size_t len = strlen(errs->e[i].msg);

		snprintf(tail, sizeof(tail), "\n(%zu more errors)", errs->total - shown - 1);
		/* the first always goes in (cut if it must); the others whole, and
		 * only with room left for the count of those that do not */
		if (i > 0 && off + 1 + len + (i + 1 < errs->total ? strlen(tail) : 0) >= sizeof(buf))
			break;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "\n" : "",
					errs->e[i].msg);
		if (off >= sizeof(buf))
			off = sizeof(buf) - 1;
		shown++;
	}
	if (shown < errs->total && off + 1 < sizeof(buf))
		snprintf(buf + off, sizeof(buf) - off, "\n(%zu more error%s)", errs->total - shown,
			 errs->total - shown == 1 ? "" : "s");
	return focal_err_set(err, errs->e[0].code, "%s", buf);
}

static int policy_from_doc(struct cfg_doc *doc, const struct config *cfg, struct policy **out,
			   struct policy_errors *errs)
{
	struct cfg_node root;
	struct policy *pol = NULL;
	struct focal_err err;
	int rc;

	if ((rc = cfg_doc_root(doc, &root, &err)) != 0)
		return policy_errors_add(errs, &err);
	rc = policy_parse_root(&root, doc->file, &pol, errs);
	/* the rules that parsed are checked against the sources even when others
	 * did not: every error in one pass */
	if (pol != NULL && cfg != NULL && rc != FOCAL_E_NOMEM) {
		int brc = policy_bind(pol, cfg, errs);

		if (rc == FOCAL_OK)
			rc = brc;
	}
	if (rc != FOCAL_OK) {
		policy_free(pol);
		return rc;
	}
	memcpy(pol->sha256, doc->sha256, sizeof(pol->sha256));
	*out = pol;
	return FOCAL_OK;
}

/* Finishes a load: doc as cfg_doc_load_* left it (loaded = its result, e its
 * error), parsed into *out with every error collected in all (or a local
 * list) and joined into err. */
static int policy_load_doc(int loaded, struct cfg_doc *doc, const struct focal_err *e,
			   const struct config *cfg, struct policy **out,
			   struct policy_errors *all, struct focal_err *err)
{
	struct policy_errors own;
	struct policy_errors *errs = all != NULL ? all : &own;
	int rc = loaded;

	*out = NULL;
	errs->n = errs->total = 0;
	if (rc == FOCAL_OK)
		rc = policy_from_doc(doc, cfg, out, errs);
	else
		policy_errors_add(errs, e);
	cfg_doc_free(doc);
	if (rc != FOCAL_OK)
		policy_errors_join(errs, err);
	return rc;
}

int policy_load_file_all(const char *path, const struct config *cfg, struct policy **out,
			 struct policy_errors *all, struct focal_err *err)
{
	struct cfg_doc doc;
	struct focal_err e;
	int loaded = cfg_doc_load_file(&doc, path, &e);

	return policy_load_doc(loaded, &doc, &e, cfg, out, all, err);
}

int policy_load_string_all(const char *name, const char *text, size_t len,
			   const struct config *cfg, struct policy **out,
			   struct policy_errors *all, struct focal_err *err)
{
	struct cfg_doc doc;
	struct focal_err e;
	int loaded = cfg_doc_load_string(&doc, name, text, len, &e);

	return policy_load_doc(loaded, &doc, &e, cfg, out, all, err);
}

int policy_load_file(const char *path, const struct config *cfg, struct policy **out,
		     struct focal_err *err)
{
	return policy_load_file_all(path, cfg, out, NULL, err);
}

int policy_load_string(const char *name, const char *text, size_t len,
		       const struct config *cfg, struct policy **out, struct focal_err *err)
{
	return policy_load_string_all(name, text, len, cfg, out, NULL, err);
}

int policy_builtin(struct policy **out, struct focal_err *err)
{
	return policy_load_string("(built-in policy)", builtin_yaml, sizeof(builtin_yaml) - 1, NULL,
				  out, err);
}

static bool source_name_matches(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, name, n - 1) == 0;
	return strcmp(pattern, name) == 0;
}

/* Binds one rule; each unknown source name is an error of its own. */
static int bind_rule(struct policy *pol, struct policy_rule *r, const struct config *cfg,
		     struct policy_errors *errs)
{
	struct focal_err err;
	size_t before = errs->total;
	bool any = false;

	free(r->srcmask);
	if ((r->srcmask = calloc(pol->srcwords, sizeof(uint64_t))) == NULL) {
		focal_err_set(&err, FOCAL_E_NOMEM, "out of memory");
		return policy_errors_add(errs, &err);
	}
	for (size_t k = 0; k < r->nsources; k++) {
		bool found = false;

		for (size_t i = 0; i < cfg->nsources && !found; i++)
			found = source_name_matches(r->sources[k].text, cfg->sources[i].name);
		if (!found) {
			focal_err_set(&err, FOCAL_E_CONFIG,
				      "%s:%zu:%zu: unknown source \"%s\"; focald's configuration "
				      "(%s) has no source of that name",
				      pol->file, r->sources[k].line, r->sources[k].col,
				      r->sources[k].text, cfg->path ? cfg->path : "?");
			policy_errors_add(errs, &err);
		}
	}
	if (errs->total > before)
		return FOCAL_E_CONFIG;
	for (size_t i = 0; i < cfg->nsources; i++) {
		const struct source_def *d = &cfg->sources[i];
		bool m = r->nsources == 0;

		for (size_t k = 0; k < r->nsources && !m; k++)
			m = source_name_matches(r->sources[k].text, d->name);
		if (m && r->classes != 0)
			m = (r->classes >> d->classification) & 1u;
		if (m && r->nowners > 0) {
			bool o = false;

			for (size_t k = 0; k < r->nowners && !o; k++)
				o = strcmp(r->owners[k], d->owner) == 0;
			m = o;
		}
		if (m) {
			r->srcmask[i / 64] |= UINT64_C(1) << (i % 64);
			any = true;
		}
	}
	/* a data rule that covers no source is a mistake (a wrong owner or a
	 * classification none of its sources has), not a harmless no-op */
	if (!any && !(r->actions & (1u << POLICY_ADMINISTER)) &&
	    (r->nsources > 0 || r->classes != 0 || r->nowners > 0)) {
		focal_err_set(&err, FOCAL_E_CONFIG,
			      "%s:%zu:%zu: rule \"%s\" matches no configured source (check its "
			      "sources, classification and owner)",
			      pol->file, r->line, r->col, r->name);
		return policy_errors_add(errs, &err);
	}
	return FOCAL_OK;
}

int policy_bind(struct policy *pol, const struct config *cfg, struct policy_errors *errs)
{
	struct focal_err err;
	int rc = FOCAL_OK;

	pol->bound = false;
	pol->nsrc = cfg->nsources;
	pol->srcwords = (cfg->nsources + 63) / 64 ? (cfg->nsources + 63) / 64 : 1;
	free(pol->src_class);
	if ((pol->src_class = calloc(cfg->nsources ? cfg->nsources : 1, 1)) == NULL) {
		focal_err_set(&err, FOCAL_E_NOMEM, "out of memory");
		return policy_errors_add(errs, &err);
	}
	for (size_t i = 0; i < cfg->nsources; i++)
		pol->src_class[i] = (unsigned char)cfg->sources[i].classification;
	for (size_t i = 0; i < pol->nrules; i++) {
		int r = bind_rule(pol, &pol->rules[i], cfg, errs);

		if (r == FOCAL_E_NOMEM)
			return r;
		if (rc == FOCAL_OK)
			rc = r;
	}
	pol->bound = rc == FOCAL_OK;
	return rc;
}

/* --- the configuration section ---------------------------------------------- */

int policy_config_parse(const struct cfg_node *n, struct policy_config **out, struct focal_err *err)
{
	static const char *const keys[] = { "file", NULL };
	struct policy_config *pc;
	int rc;

	*out = NULL;
	if (n == NULL)
		return FOCAL_OK;
	if ((rc = cfg_expect_map(n, "policy", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	/* the policy file is read with the configuration, so a reload re-reads it
	 * and an invalid one rejects the whole reload (the running policy stays) */
	if ((rc = cfg_get_path(n, "file", true, &pc->file, err)) != 0 ||
	    (rc = policy_load_file(pc->file, NULL, &pc->pol, err)) != 0) {
		policy_config_free(pc);
		return rc;
	}
	*out = pc;
	return FOCAL_OK;
}

int policy_config_bind(struct config *cfg, struct focal_err *err)
{
	struct policy_config *pc = cfg->policy;
	struct policy_errors errs;
	int rc;

	if (pc == NULL) {
		if ((pc = calloc(1, sizeof(*pc))) == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		cfg->policy = pc;
		if ((rc = policy_builtin(&pc->pol, err)) != 0)
			return rc;
	}
	errs.n = errs.total = 0;
	if ((rc = policy_bind(pc->pol, cfg, &errs)) != 0)
		policy_errors_join(&errs, err);
	return rc;
}

void policy_config_free(struct policy_config *c)
{
	if (c == NULL)
		return;
	policy_free(c->pol);
	free(c->file);
	free(c);
}

const struct policy *policy_of(const struct config *cfg)
{
	if (cfg == NULL || cfg->policy == NULL || cfg->policy->pol == NULL ||
	    !cfg->policy->pol->bound)
		return NULL;
	return cfg->policy->pol;
}

json_t *policy_identity_json(const struct config *cfg)
{
	const struct policy_config *pc = cfg != NULL ? cfg->policy : NULL;
	char hex[65];

	if (pc == NULL || pc->pol == NULL)
		return json_pack("{s:n, s:n, s:i}", "file", "sha256", "rules", 0);
	sodium_bin2hex(hex, 65, pc->pol->sha256, 32);
	return json_pack("{s:s, s:s, s:I}", "file", pc->file ? pc->file : "(built-in policy)",
			 "sha256", hex, "rules", (json_int_t)pc->pol->nrules);
}

json_t *policy_purposes_json(const struct config *cfg)
{
	const struct policy_config *pc = cfg != NULL ? cfg->policy : NULL;
	json_t *codes = json_array();

	if (codes != NULL && pc != NULL && pc->pol != NULL)
		for (size_t i = 0; i < pc->pol->ncodes; i++)
			json_array_append_new(codes, json_string(pc->pol->codes[i]));
	return codes;
}

const char *policy_file_of(const struct config *cfg)
{
	return cfg != NULL && cfg->policy != NULL ? cfg->policy->file : NULL;
}

size_t policy_nrules(const struct policy *p)
{
	return p != NULL ? p->nrules : 0;
}

bool policy_is_bound(const struct policy *p)
{
	return p != NULL && p->bound;
}

int policy_check_admin_loop(struct server_loop *sl, const struct auth_principal *p,
			    const char *what, struct focal_err *err)
{
	const struct config *cfg = sl != NULL && sl->loop.sources != NULL ? sl->loop.sources->cfg
									     : NULL;

	return policy_check_admin(policy_of(cfg), p, what, err);
}

/* --- POST /v1/admin/policy/validate ------------------------------------------ */

/* One error of the parser or binder ("NAME:LINE:COL: message") as
 * {line, column, message}; line and column 0 when the message has none. */
static json_t *policy_error_json(const char *name, const char *msg)
{
	size_t nl = strlen(name);
	unsigned long line = 0, col = 0;
	const char *m = msg;

	if (strncmp(msg, name, nl) == 0 && msg[nl] == ':') {
		char *end;

		line = strtoul(msg + nl + 1, &end, 10);
		if (*end == ':') {
			col = strtoul(end + 1, &end, 10);
			if (*end == ':')
				m = end + 1 + (end[1] == ' ');
			else
				line = col = 0;
		} else {
			line = 0;
		}
	}
	return json_pack("{s:I, s:I, s:s}", "line", (json_int_t)line, "column", (json_int_t)col,
			 "message", m);
}

/* Parses a policy sent by an administrator and binds it to the sources this
 * loop's configuration has: the same checks (and messages) as loading the
 * file, without touching the running policy.  Parsing a body of at most the
 * request size limit is cheap work, done on the loop. */
static void policy_api_validate(struct evhttp_request *req, struct server_loop *sl)
{
	static const char name[] = "policy";
	const struct config *cfg = sl->loop.sources != NULL ? sl->loop.sources->cfg : NULL;
	struct auth_principal who;
	struct policy *pol = NULL;
	struct policy_errors *all = NULL;
	struct focal_err err;
	const char *text;
	json_t *body = NULL, *errors;
	int rc;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use POST");
		return;
	}
	if ((rc = auth_request_principal(req, sl, &who, &err)) != 0) {
		auth_reply_denied(req, rc, err.msg);
		return;
	}
	if (!principal_has_role(&who, "admin") ||
	    policy_check_admin_loop(sl, &who, "policy", &err) != 0) {
		reply_error(req, 403, "Forbidden", FOCAL_E_DENIED,
			    principal_has_role(&who, "admin") ? err.msg : "role admin required");
		return;
	}
	if ((rc = reply_read_json(req, &body, &err)) != 0) {
		reply_error(req, 400, "Bad Request", rc, err.msg);
		return;
	}
	if ((text = json_string_value(json_object_get(body, "policy"))) == NULL) {
		json_decref(body);
		reply_error(req, 400, "Bad Request", FOCAL_E_INVAL,
			    "expected {\"policy\": \"<the policy file's text>\"}");
		return;
	}
	errors = json_array();
	if ((all = malloc(sizeof(*all))) == NULL) {
		json_decref(body);
		json_decref(errors);
		reply_error(req, 503, "Service Unavailable", FOCAL_E_NOMEM, "out of memory");
		return;
	}
	if (policy_load_string_all(name, text, json_string_length(json_object_get(body, "policy")),
				   cfg, &pol, all, &err) != 0)
		for (size_t i = 0; i < all->n; i++)
			json_array_append_new(errors, policy_error_json(name, all->e[i].msg));
	policy_free(pol);
	json_decref(body);
	reply_json(req, 200, "OK",
		   json_pack("{s:b, s:o, s:I}", "valid", json_array_size(errors) == 0, "errors",
			     errors, "total", (json_int_t)all->total));
	free(all);
}

const struct api_route policy_api_routes[] = {
	{ "/v1/admin/policy/validate", false, policy_api_validate },
	{ NULL, false, NULL },
};
