/*
 * fuzz_ldap_answer: a directory's answer is untrusted bytes.  The input is
 * what the server sends back after our search request: BER-encoded LDAP
 * messages, exactly as they would come over the wire.
 *
 * Why drive libldap over a socketpair rather than feed synthetic entries to
 * the entry-to-record step: what we could build by hand would only ever be
 * entries libldap's own encoder produces, while the interesting inputs are
 * the ones a broken or hostile server sends: wrong message IDs, unsolicited
 * notices (ID 0), references and intermediate responses in the middle of a
 * search, result codes we do not expect, attributes without values, values
 * with NULs or invalid UTF-8, garbage BER lengths.  libldap decodes those
 * (ldap_init_fd on one end of a socketpair; the connector's handle options
 * and socket set-up, source_ldap_set_options and source_ldap_socket_ready;
 * one ldap_search_ext; then source_ldap_next_message, the connector's
 * ldap_result with a zero timeout) and each message it gives goes through
 * source_ldap_search_message, the connector's own handling, with the same
 * dispatch by message ID as the connector.  It stays fast and deterministic:
 * the whole input is written and the write side shut before reading, so no
 * call ever waits (a partial message meets EOF, which libldap reports as a
 * lost connection), and nothing runs on an event loop.
 *
 * Checked beyond "no crash": records_check.h's contract after every message
 * (row limit, NUL-free UTF-8 values of bounded size, exact byte account); a
 * finished call's reason is one printable line, and empty for SOURCE_OK.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldap.h>
#include <openldap.h>

#include "core/config.h"
#include "sources/source.h"
#include "sources/source_ldap.h"

#include "records_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);

/* Two leaks inside libldap 2.5 (Debian 12), both libldap's and both
 * bounded to one per connection, because the connector drops a connection
 * on either (an unsolicited message, a read error):
 *  - the matched DN and diagnostic message of an unsolicited notification
 *    (message ID 0): try_read1msg decodes them ("{eAA") into a request on its
 *    own stack (dummy_lr) that it never frees;
 *  - the request of a message whose ID matches but whose body cannot be
 *    decoded (e.g. no protocolOp): try_read1msg has taken a reference to the
 *    request (ldap_find_request_by_msgid) and returns the decoding error
 *    without giving it back, so ldap_unbind_ext skips it (refcnt > 0).
 * They are suppressed by where they are allocated: ber_get_stringa_null
 * only decodes such "A" strings (the connector's search path never asks
 * libldap for them: ldap_parse_result gets NULL for both), and
 * ldap_pvt_search only builds and queues the search request.  liblber has
 * no frame pointers, so the suppressions can only see those functions when
 * allocations are unwound the slow way (about 3x slower here; still
 * hundreds of runs a second). */
const char *__lsan_default_suppressions(void)
{
	return "leak:ber_get_stringa_null\nleak:ldap_pvt_search\n";
}

const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

#define MAX_ROWS 5
#define MAX_BYTES 4096
#define MAX_INPUT (60 * 1024) /* fits the socketpair's buffer in one write */
#define MAX_MESSAGES 4096

static const char cfg_text[] =
	"server: {tls_cert: c.pem, tls_key: k.pem}\n"
	"sources:\n"
	"  - name: directory\n"
	"    kind: ldap\n"
	"    owner: fuzz\n"
	"    classification: restricted\n"
	"    max_rows: 5\n"
	"    max_bytes: 4096\n"
	"    connection: {uri: \"ldap://127.0.0.1:1\", base: \"ou=people,dc=focal,dc=test\"}\n"
	"    queries: {person: \"(&(objectClass=person)(sn={family_name}))\"}\n"
	"    map:\n"
	"      person: {family_name: sn, given_name: givenName, national_number: employeeNumber,\n"
	"               alias: cn}\n"
	"      alert: {when: focalAlert, category: focalAlert, instruction: description,\n"
	"              subject_name: dn}\n";

static struct config *cfg;
static struct source_set *set;
static struct loop loop; /* only its address is used: nothing runs on it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *attrs[] = { "sn", "givenName", "employeeNumber", "cn", "focalAlert",
				 "description", NULL };
	struct timeval tl = { 5, 0 };
	struct source_call call;
	struct query q;
	enum source_ldap_next next = SOURCE_LDAP_MORE;
	enum source_status st = SOURCE_PENDING;
	char reason[256];
	LDAP *ld = NULL;
	int sv[2], msgid = -1;

	if (cfg == NULL) {
		struct focal_err err;

		/* libldap writes to a peer that may be gone: an error, not a signal */
		signal(SIGPIPE, SIG_IGN);
		if (config_load_string("fuzz.yaml", cfg_text, strlen(cfg_text), &cfg, &err) != 0 ||
		    source_set_new(&loop, cfg, &set, &err) != 0)
			abort();
	}
	if (size > MAX_INPUT)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	if (ldap_init_fd(sv[0], LDAP_PROTO_TCP, NULL, &ld) != LDAP_SUCCESS ||
	    source_ldap_set_options(ld, 2000, false) != 0 ||
	    source_ldap_socket_ready(ld, MAX_BYTES) != 0 ||
	    ldap_search_ext(ld, "ou=people,dc=focal,dc=test", LDAP_SCOPE_SUBTREE,
			    "(&(objectClass=person)(sn=Peeters))", attrs, 0, NULL, NULL, &tl,
			    MAX_ROWS + 1, &msgid) != LDAP_SUCCESS)
		abort();
	/* the server's whole answer, then end of stream */
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);

	memset(&q, 0, sizeof(q));
	q.kind = QUERY_PERSON;
	source_call_init(&call, &set->rt[0], &q, NULL, NULL);
	for (int n = 0; n < MAX_MESSAGES && next == SOURCE_LDAP_MORE; n++) {
		LDAPMessage *msg = NULL;
		int id;

		if (source_ldap_next_message(ld, &msg) <= 0)
			break; /* end of the input (or a BER error): connection lost */
		id = ldap_msgid(msg);
		if (id == 0) { /* unsolicited notice: the connector drops the connection */
			ldap_msgfree(msg);
			break;
		}
		if (id != msgid) { /* late answer to something else */
			ldap_msgfree(msg);
			continue;
		}
		next = source_ldap_search_message(&call, ld, msg, &st, reason, sizeof(reason));
		records_check(&call, MAX_ROWS, MAX_BYTES);
	}
	if (next == SOURCE_LDAP_STOP)
		ldap_abandon_ext(ld, msgid, NULL, NULL); /* as the connector does */
	if (next != SOURCE_LDAP_MORE) {
		if (st == SOURCE_OK && reason[0] != '\0')
			abort(); /* OK carries no reason */
		records_check_reason(reason);
	}
	source_call_clear(&call);
	ldap_unbind_ext(ld, NULL, NULL); /* closes sv[0] */
	close(sv[1]);
	return 0;
}
