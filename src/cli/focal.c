/*
 * focal: the command-line tool.  For now: `focal search "text"` against a
 * running focald over HTTPS (certificate verified against --cacert), printed
 * as a briefing or as JSON.  Administration commands join as their issues land.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/render.h"

#define FOCAL_CLI_MAX_RESPONSE (64u * 1024u * 1024u)

struct response {
	char *data;
	size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t add = size * n;
	char *p;

	if (r->len + add > FOCAL_CLI_MAX_RESPONSE)
		return 0;
	p = realloc(r->data, r->len + add + 1);
	if (p == NULL)
		return 0;
	memcpy(p + r->len, ptr, add);
	r->len += add;
	p[r->len] = '\0';
	r->data = p;
	return add;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: focal search [--json [--records]] [--url URL] [--cacert FILE]\n"
		   "                    [--purpose P] [--case REF] [--justification TEXT]\n"
		   "                    [--export csv|jsonl] \"text\"\n"
		   "  --records adds each source's raw records (with their entity) to the JSON\n"
		   "  briefing; the printed briefing never shows them\n"
		   "  --export writes the records to stdout for a case file (needs --purpose,\n"
		   "  --case and the policy's export permission)\n"
		   "  URL defaults to $FOCAL_URL or https://127.0.0.1:8443\n"
		   "  FILE defaults to $FOCAL_CACERT (the CA that signed focald's certificate)\n");
}

static int cmd_search(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },   { "url", required_argument, NULL, 'u' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "purpose", required_argument, NULL, 'p' },
		{ "case", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
		{ "justification", required_argument, NULL, 'J' },
		{ "export", required_argument, NULL, 'x' },
		{ "records", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = getenv("FOCAL_URL"), *cacert = getenv("FOCAL_CACERT");
	const char *purpose = NULL, *case_ref = NULL, *justification = NULL, *export = NULL;
	struct response resp = { 0 };
	struct curl_slist *hdrs = NULL;
	char endpoint[1024], errbuf[CURL_ERROR_SIZE] = "", auth[128];
	bool json_out = false, records = false;
	json_t *req = NULL, *b = NULL;
	char *body = NULL;
	long status = 0;
	CURL *curl = NULL;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json_out = true; break;
		case 'u': url = optarg; break;
		case 'c': cacert = optarg; break;
		case 'p': purpose = optarg; break;
		case 'r': case_ref = optarg; break;
		case 'J': justification = optarg; break;
		case 'x': export = optarg; break;
		case 'R': records = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (records && (!json_out || export != NULL)) {
		/* asked for and never shown: the bytes would be sent for nothing */
		fprintf(stderr, "focal: --records goes with --json (and not with --export)\n");
		return 2;
	}
	snprintf(endpoint, sizeof(endpoint), "%s/v1/search", url ? url : "https://127.0.0.1:8443");
	req = json_pack("{s:s}", "q", argv[optind]);
	if (req == NULL) {
		fprintf(stderr, "focal: the search text must be UTF-8\n");
		return 2;
	}
	if (purpose != NULL)
		json_object_set_new(req, "purpose", json_string(purpose));
	if (case_ref != NULL)
		json_object_set_new(req, "case_ref", json_string(case_ref));
	if (justification != NULL)
		json_object_set_new(req, "justification", json_string(justification));
	if (export != NULL)
		json_object_set_new(req, "export", json_string(export));
	if (records)
		json_object_set_new(req, "records", json_true());
	body = json_dumps(req, JSON_COMPACT);
	curl = curl_easy_init();
	if (body == NULL || curl == NULL)
		goto out;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (cli_token_header(auth, sizeof(auth)) == 0) /* from `focal login` */
		hdrs = curl_slist_append(hdrs, auth);
	sodium_memzero(auth, sizeof(auth));
	curl_easy_setopt(curl, CURLOPT_URL, endpoint);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	if (cacert != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);
	if (curl_easy_perform(curl) != CURLE_OK) {
		fprintf(stderr, "focal: cannot reach %s: %s\n", endpoint, errbuf);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	b = resp.data ? json_loads(resp.data, 0, NULL) : NULL;
	if (status != 200) {
		const char *msg = json_string_value(
			json_object_get(json_object_get(b, "error"), "message"));

		fprintf(stderr, "focal: %s refused (HTTP %ld): %s\n", export ? "export" : "search",
			status, msg ? msg : "no explanation");
		goto out;
	}
	if (export != NULL) {
		/* the file as focald sent it, byte for byte: its lines' digests are
		 * in the audit log */
		if (resp.data != NULL && fwrite(resp.data, 1, resp.len, stdout) != resp.len)
			goto out;
		rc = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	if (b == NULL) {
		fprintf(stderr, "focal: focald answered something that is not JSON\n");
		goto out;
	}
	if (json_out)
		json_dumpf(b, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	else
		render_briefing(b, stdout, isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL);
	if (json_out)
		putchar('\n');
	rc = 0;
out:
	json_decref(req);
	json_decref(b);
	free(body);
	free(resp.data);
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return rc;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
} focal_commands[] = {
	{ "search", cmd_search, "search every source; the briefing, warnings first" },
	{ "login", cmd_login, "open a session (password + TOTP) for the commands below" },
	{ "logout", cmd_logout, "end the session and forget its token" },
	{ "user", cmd_user, "provision accounts (add, disable, enable, roles, list, reset-mfa)" },
	{ "policy", cmd_policy, "check the access policy, explain a decision" },
	{ "audit", cmd_audit, "verify the audit log, proofs, oversight queries, misuse alerts" },
};

/* The command list: what `focal` and `focal --help` print. */
static void focal_usage(FILE *f)
{
	fprintf(f, "usage: focal COMMAND [OPTIONS]   (focal COMMAND --help for its options)\n");
	for (size_t i = 0; i < sizeof(focal_commands) / sizeof(focal_commands[0]); i++)
		fprintf(f, "  %-8s %s\n", focal_commands[i].name, focal_commands[i].what);
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		focal_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(focal_commands) / sizeof(focal_commands[0]); i++) {
		if (strcmp(argv[1], focal_commands[i].name) != 0)
			continue;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = focal_commands[i].run(argc - 1, argv + 1);
		curl_global_cleanup();
		return rc;
	}
	fprintf(stderr, "focal: unknown command \"%s\"\n", argv[1]);
	focal_usage(stderr);
	return 2;
}
