/*
 * fuzz_auth_request: libFuzzer harness for what a client controls at login
 * and on every authenticated request: the Cookie and Authorization headers
 * (token extraction, then a session lookup), and the text fields of a login
 * (password policy, recovery-code parsing, username, clearance).
 *
 * The input is split at its first newline: the first part is the Cookie
 * header, the rest the Authorization header; each part is also fed to the
 * text checks.  Contract checked besides the sanitizers: an extracted token
 * fits its buffer and comes from the header it names; a lookup of anything
 * without a session table is denied.
 */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/totp.h"
#include "auth/user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text_checks(const char *s)
{
	unsigned char h[TOTP_RECOVERY_HASH];
	enum classification c;

	(void)password_check_policy(s, "someone", NULL);
	(void)totp_recovery_hash(s, h);
	(void)user_name_valid(s);
	(void)user_clearance_parse(s, &c);
	(void)user_role_valid(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *nl, buf[128];
	struct evhttp_request *req = NULL;
	struct auth_principal p;
	const char *tok;
	bool cookie = false;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) != size) { /* headers never hold NUL */
		free(text);
		return 0;
	}
	nl = strchr(text, '\n');
	if (nl != NULL)
		*nl = '\0';
	text_checks(text);
	if (nl != NULL)
		text_checks(nl + 1);
	req = evhttp_request_new(NULL, NULL);
	if (req != NULL) {
		struct evkeyvalq *h = evhttp_request_get_input_headers(req);

		evhttp_add_header(h, "Cookie", text);
		if (nl != NULL)
			evhttp_add_header(h, "Authorization", nl + 1);
		tok = auth_request_token(req, buf, sizeof(buf), &cookie);
		if (tok != NULL) {
			if (strlen(tok) >= sizeof(buf))
				abort();
			if (cookie && strstr(text, tok) == NULL)
				abort();
			if (session_lookup(tok, "", &p, NULL, NULL, NULL) == FOCAL_OK)
				abort(); /* no session table: nothing may pass */
		}
		evhttp_request_free(req);
	}
	free(text);
	return 0;
}
