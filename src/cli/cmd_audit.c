/*
 * cmd_audit: `focal audit ...` — the auditor's tools, working on the log
 * files directly (no running focald needed):
 *
 *   keygen KEY [--pub PUB]            a new Ed25519 signing key (PEM, 0600)
 *   verify [--log DIR] [--key PUB] [--witness SIZE:ROOT]
 *                                     the whole log against its signed checkpoints
 *                                     (and a tree head kept elsewhere, e.g. the
 *                                     service log's audit_checkpoint lines)
 *   prove  --entry N [--size M] | --from A [--size B]   RFC 9162 proofs
 *   who-looked-up SUBJECT [--from T] [--to T] [--format json|jsonl|csv]
 *   user-activity USER    [--from T] [--to T] [--format ...]
 *   alerts                [--from T] [--to T] [--user U] [--format ...]
 *
 * DIR is the audit folder (or its audit.log); by default ./audit.  The
 * public key should be the auditors' own copy, not the one in the folder:
 * whoever can rewrite the folder could also replace a key kept there.
 *
 * keygen, verify and prove work offline on the files (verification must not
 * depend on the service it checks).  The oversight queries (who-looked-up,
 * user-activity, alerts) go through focald's API (GET /v1/audit/lookups and
 * /v1/audit/alerts) with the bearer token of `focal login`: focald checks
 * the policy (administer audit) and records the query itself in the audit
 * log — auditors' own queries are audited (issue 5), which reading the files
 * directly would bypass.  --url / $FOCAL_URL, --cacert / $FOCAL_CACERT.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit_log.h"
#include "audit/audit_query.h"
#include "audit/audit_verify.h"
#include "cli/commands.h"

static void audit_usage(FILE *f)
{
	fprintf(f,
		"usage: focal audit keygen KEY.pem [--pub PUB.pem]\n"
		"       focal audit verify [--log DIR] [--key PUB.pem] [--witness SIZE:ROOT]\n"
		"       focal audit prove [--log DIR] [--key PUB.pem] --entry N [--size M]\n"
		"       focal audit prove [--log DIR] [--key PUB.pem] --from A [--size B]\n"
		"       focal audit who-looked-up SUBJECT [--url URL] [--cacert F] [--from T] [--to T] [--format F]\n"
		"       focal audit user-activity USER [--url URL] [--cacert F] [--from T] [--to T] [--format F]\n"
		"       focal audit alerts [--url URL] [--cacert F] [--user U] [--from T] [--to T] [--format F]\n"
		"  the oversight queries go through focald (audited; `focal login` first);\n"
		"  URL defaults to $FOCAL_URL or https://127.0.0.1:8443\n"
		"  SUBJECT: a person's name, a plate, a national number or a record's SHA-256\n"
		"  T: yyyy-mm-dd or yyyy-mm-ddThh:mm:ss[.mmm]Z (UTC); F: json, jsonl or csv\n");
}

struct audit_opts {
	char dir[4096];
	const char *key, *pub, *user, *format, *witness;
	const char *url, *cacert, *from_s, *to_s; /* oversight queries: through focald */
	bool has_log;
	int64_t from_ms, to_ms;
	unsigned long long entry, from_size, size;
	bool has_entry;
};

/* --log takes the folder or the audit.log inside it. */
static void audit_set_dir(struct audit_opts *o, const char *p)
{
	struct stat st;
	const char *slash;

	if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && (slash = strrchr(p, '/')) != NULL)
		snprintf(o->dir, sizeof(o->dir), "%.*s", (int)(slash - p), p);
	else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
		snprintf(o->dir, sizeof(o->dir), ".");
	else
		snprintf(o->dir, sizeof(o->dir), "%s", p);
}

static int audit_num(const char *s, unsigned long long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	*out = strtoull(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static int audit_parse(int argc, char **argv, struct audit_opts *o)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },   { "key", required_argument, NULL, 'k' },
		{ "pub", required_argument, NULL, 'p' },   { "user", required_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'f' },  { "to", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'F' }, { "entry", required_argument, NULL, 'e' },
		{ "size", required_argument, NULL, 's' },  { "help", no_argument, NULL, 'h' },
		{ "witness", required_argument, NULL, 'w' },
		{ "url", required_argument, NULL, 'U' },   { "cacert", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	snprintf(o->dir, sizeof(o->dir), "audit");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': audit_set_dir(o, optarg); o->has_log = true; break;
		case 'U': o->url = optarg; break;
		case 'C': o->cacert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'p': o->pub = optarg; break;
		case 'u': o->user = optarg; break;
		case 'F': o->format = optarg; break;
		case 'w': o->witness = optarg; break;
		case 'e':
			if (audit_num(optarg, &o->entry) != 0)
				return fprintf(stderr, "focal audit: --entry: a number\n"), -1;
			o->has_entry = true;
			break;
		case 's':
			if (audit_num(optarg, &o->size) != 0)
				return fprintf(stderr, "focal audit: --size: a number\n"), -1;
			break;
		case 'f':
		case 't': {
			int64_t *dst = c == 'f' ? &o->from_ms : &o->to_ms;

			/* prove --from is a tree size; elsewhere a time */
			if (strcmp(argv[0], "prove") == 0 && c == 'f') {
				if (audit_num(optarg, &o->from_size) != 0 || o->from_size == 0)
					return fprintf(stderr, "focal audit: --from: a tree size\n"), -1;
				break;
			}
			*(c == 'f' ? &o->from_s : &o->to_s) = optarg;
			if (audit_log_parse_time(optarg, dst) != 0)
				return fprintf(stderr, "focal audit: --%s: expected yyyy-mm-dd or an "
					       "ISO 8601 UTC time\n", c == 'f' ? "from" : "to"), -1;
			if (c == 't' && strlen(optarg) == 10)
				*dst += 86400000 - 1; /* a date: the whole day */
			break;
		}
		case 'h': audit_usage(stdout); return 1;
		default: audit_usage(stderr); return -1;
		}
	}
	return 0;
}

static EVP_PKEY *audit_pubkey(struct audit_opts *o)
{
	char path[4200];
	struct focal_err err = { 0 };
	EVP_PKEY *k = NULL;

	if (o->key == NULL) {
		snprintf(path, sizeof(path), "%s/audit-key.pub.pem", o->dir);
		fprintf(stderr, "focal audit: no --key given, using %s (for a real check, use the "
			"auditors' own copy of the public key)\n", path);
	}
	if (audit_log_key_public(o->key ? o->key : path, &k, &err) != FOCAL_OK)
		fprintf(stderr, "focal audit: %s\n", err.msg);
	return k;
}

/* A tree head kept outside the folder ("SIZE:ROOT", as in the service log's
 * audit_checkpoint lines): the log must still contain that tree.  This is
 * what catches both files cut back together to an earlier, consistent state. */
static int audit_verify_witness(const char *w, struct audit_verify_result *res,
				struct focal_err *err)
{
	unsigned long long size;
	uint8_t want[MERKLE_HASH], root[MERKLE_HASH];
	const char *colon = strchr(w, ':');
	char num[32];

	if (colon == NULL || (size_t)(colon - w) >= sizeof(num) ||
	    (snprintf(num, sizeof(num), "%.*s", (int)(colon - w), w), audit_num(num, &size)) != 0 ||
	    size == 0 || !merkle_unhex(colon + 1, want))
		return focal_err_set(err, FOCAL_E_INVAL, "--witness: expected SIZE:ROOT (64 hex)");
	if (size > res->entries) {
		res->bad_entry = (int64_t)res->entries;
		return focal_err_set(err, FOCAL_E_INVAL,
				     "entry %llu: the log was cut back: the witnessed tree head has "
				     "%llu entries, the log %llu", (unsigned long long)res->entries,
				     size, (unsigned long long)res->entries);
	}
	merkle_root(res->leaves, size, root);
	if (memcmp(root, want, MERKLE_HASH) != 0) {
		res->bad_entry = 0;
		return focal_err_set(err, FOCAL_E_INVAL, "entry 0: the first %llu entries are not "
				     "the witnessed tree (history was rewritten)", size);
	}
	return FOCAL_OK;
}

static int audit_verify_cmd(struct audit_opts *o)
{
	struct audit_verify_result res;
	struct focal_err err = { 0 };
	char ts[32];
	EVP_PKEY *k = audit_pubkey(o);
	int rc;

	if (k == NULL)
		return 1;
	rc = audit_verify_dir(o->dir, k, o->witness != NULL, &res, &err);
	EVP_PKEY_free(k);
	if (rc == FOCAL_OK && o->witness != NULL &&
	    (rc = audit_verify_witness(o->witness, &res, &err)) != FOCAL_OK)
		free(res.leaves), res.leaves = NULL;
	if (rc != FOCAL_OK) {
		printf("FAILED: %s\n", err.msg);
		if (res.bad_entry >= 0)
			printf("first bad entry: %lld\n", (long long)res.bad_entry);
		return 1;
	}
	free(res.leaves);
	if (res.entries > 0 && res.checkpoints == 0) {
		printf("FAILED: %llu entries and no signed checkpoint (the checkpoint file is "
		       "missing or empty)\n", (unsigned long long)res.entries);
		return 1;
	}
	audit_log_iso_time(res.signed_ts_ms, ts);
	printf("OK: %llu entries, %llu checkpoints; the newest (%s) signs %llu entries\n",
	       (unsigned long long)res.entries, (unsigned long long)res.checkpoints, ts,
	       (unsigned long long)res.signed_size);
	if (res.entries > res.signed_size)
		printf("note: unsigned tail: the last %llu entries are chained but not yet signed "
		       "(a crash before their checkpoint; or, with audit.sign_every_commit off, "
		       "written less than a checkpoint interval before the log was read)\n",
		       (unsigned long long)(res.entries - res.signed_size));
	if (res.torn_tail)
		printf("note: the last line is incomplete (a write cut short by a crash; focald "
		       "removes it at its next start)\n");
	return 0;
}

static int audit_prove_cmd(struct audit_opts *o)
{
	struct focal_err err = { 0 };
	EVP_PKEY *k;
	json_t *out = NULL;
	char *text;
	int rc;

	if (!o->has_entry && o->from_size == 0) {
		fprintf(stderr, "focal audit prove: give --entry N or --from A\n");
		return 2;
	}
	if ((k = audit_pubkey(o)) == NULL)
		return 1;
	rc = audit_query_proof(o->dir, k, o->entry, o->from_size, o->size, &out, &err);
	EVP_PKEY_free(k);
	if (rc != FOCAL_OK) {
		fprintf(stderr, "focal audit prove: %s\n", err.msg);
		return 1;
	}
	text = json_dumps(out, JSON_INDENT(2));
	printf("%s\n", text ? text : "");
	free(text);
	json_decref(out);
	return 0;
}

/* Appends "&name=value" (value URL-escaped) to url; 0 or -1 when too long. */
static int audit_url_param(CURL *curl, char *url, size_t cap, const char *name, const char *value)
{
	char *e;
	size_t n = strlen(url);
	int w;

	if (value == NULL)
		return 0;
	if ((e = curl_easy_escape(curl, value, 0)) == NULL)
		return -1;
	w = snprintf(url + n, cap - n, "&%s=%s", name, e);
	curl_free(e);
	return w > 0 && (size_t)w < cap - n ? 0 : -1;
}

/* An oversight query through focald's API (audited there, see the top). */
static int audit_query_cmd(struct audit_opts *o, const char *subject, const char *user,
			   bool alerts)
{
	const char *base = o->url ? o->url : getenv("FOCAL_URL");
	const char *cacert = o->cacert ? o->cacert : getenv("FOCAL_CACERT");
	char url[8192], auth[128] = "", errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	enum audit_query_format fmt;
	char *data = NULL;
	size_t len = 0;
	FILE *mem = NULL;
	CURL *curl = NULL;
	long status = 0;
	int rc = 1;

	if (audit_query_format_parse(o->format ? o->format : "jsonl", &fmt) != FOCAL_OK) {
		fprintf(stderr, "focal audit: --format: json, jsonl or csv\n");
		return 2;
	}
	if (o->has_log) {
		fprintf(stderr, "focal audit: oversight queries go through focald, which audits "
				"them (--url, after `focal login`); --log is for verify and prove\n");
		return 2;
	}
	if ((curl = curl_easy_init()) == NULL || (mem = open_memstream(&data, &len)) == NULL)
		goto out;
	snprintf(url, sizeof(url), "%s/v1/audit/%s?format=%s",
		 base ? base : "https://127.0.0.1:8443", alerts ? "alerts" : "lookups",
		 o->format ? o->format : "jsonl");
	if (audit_url_param(curl, url, sizeof(url), "subject", subject) != 0 ||
	    audit_url_param(curl, url, sizeof(url), "user", user) != 0 ||
	    audit_url_param(curl, url, sizeof(url), "from", o->from_s) != 0 ||
	    audit_url_param(curl, url, sizeof(url), "to", o->to_s) != 0) {
		fprintf(stderr, "focal audit: query too long\n");
		goto out;
	}
	if (cli_token_header(auth, sizeof(auth)) == 0)
		hdrs = curl_slist_append(hdrs, auth);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, mem);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
	if (cacert != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);
	if (curl_easy_perform(curl) != CURLE_OK) {
		fprintf(stderr, "focal audit: cannot reach focald: %s\n", errbuf);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	fclose(mem);
	mem = NULL;
	if (status != 200) {
		fprintf(stderr, "focal audit: focald answered %ld: %.*s%s\n", status, (int)len,
			data ? data : "", status == 401 ? " (focal login first)" : "");
		goto out;
	}
	fwrite(data, 1, len, stdout);
	if (fmt == AUDIT_FORMAT_JSON)
		fputc('\n', stdout);
	rc = 0;
out:
	if (mem != NULL)
		fclose(mem);
	free(data);
	sodium_memzero(auth, sizeof(auth));
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	struct audit_opts o = { 0 };
	struct focal_err err = { 0 };
	const char *sub;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		audit_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	r = audit_parse(argc - 1, argv + 1, &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (strcmp(sub, "keygen") == 0) {
		if (optind >= argc - 1) {
			fprintf(stderr, "focal audit keygen: name the private key file\n");
			return 2;
		}
		if (audit_log_keygen(argv[1 + optind], o.pub, &err) != FOCAL_OK) {
			fprintf(stderr, "focal audit keygen: %s\n", err.msg);
			return 1;
		}
		printf("wrote %s%s%s\n", argv[1 + optind], o.pub ? " and " : "", o.pub ? o.pub : "");
		return 0;
	}
	if (strcmp(sub, "verify") == 0)
		return audit_verify_cmd(&o);
	if (strcmp(sub, "prove") == 0)
		return audit_prove_cmd(&o);
	if (strcmp(sub, "alerts") == 0)
		return audit_query_cmd(&o, NULL, o.user, true);
	if (strcmp(sub, "who-looked-up") == 0 || strcmp(sub, "user-activity") == 0) {
		bool who = sub[0] == 'w';

		if (optind >= argc - 1) {
			fprintf(stderr, "focal audit %s: name the %s\n", sub, who ? "subject" : "user");
			return 2;
		}
		return audit_query_cmd(&o, who ? argv[1 + optind] : NULL,
				       who ? o.user : argv[1 + optind], false);
	}
	fprintf(stderr, "focal audit: unknown command \"%s\"\n", sub);
	audit_usage(stderr);
	return 2;
}
