/*
 * source_ldap: the LDAP connector (connector_ldap in source.h).
 *
 * libldap decodes BER and frames messages; what is ours is what happens to
 * each message of a search: entries mapped into records (attributes by
 * name, several values joined, binary values left out, the DN), references
 * and intermediate responses ignored, the final result code turned into a
 * status (size and time limits, missing base, referral).  That step, and
 * the socket set-up that bounds an incoming message, are exposed here so the
 * connector and the fuzz harness (fuzz/fuzz_ldap_answer.c) run the same code.
 */
#ifndef FOCAL_SOURCE_LDAP_H
#define FOCAL_SOURCE_LDAP_H

#include <stdbool.h>
#include <stddef.h>

#include <ldap.h>

#include "sources/source.h"

/* What the connection does after one message (source_ldap_search_message). */
enum source_ldap_next {
	SOURCE_LDAP_MORE,   /* read the next message */
	SOURCE_LDAP_FINISH, /* the search is over: finish with *st, keep the connection */
	SOURCE_LDAP_STOP,   /* limit reached or mapping failed: finish with *st and
			     * abandon the rest of the search */
	SOURCE_LDAP_CLOSE,  /* finish with *st and close the connection */
	SOURCE_LDAP_BROKEN, /* not an answer to a search: close, fail (reason) */
};

/* Handles one message of call's search (msg's ID already matched; msg is
 * freed here).  On anything but SOURCE_LDAP_MORE, *st is the status to
 * finish with (SOURCE_OK may stand for truncated: source_call_finish reads
 * call->status) and reason is filled unless *st is SOURCE_OK.  Search
 * diagnostics are never quoted: they may repeat the officer's terms. */
enum source_ldap_next source_ldap_search_message(struct source_call *call, LDAP *ld,
						 LDAPMessage *msg, enum source_status *st,
						 char *reason, size_t reasonsz);

/* Takes the next complete message libldap has, without waiting
 * (ldap_result, LDAP_MSG_ONE, zero timeout).  Returns 1 and sets *msg (the
 * caller's, ldap_msgfree), 0 when no message is complete yet, or -1 when the
 * connection is lost or the server sent something that is not an LDAP
 * message (LDAP_OPT_RESULT_CODE says what). */
int source_ldap_next_message(LDAP *ld, LDAPMessage **msg);

/* Sets what every handle of the connector gets: LDAPv3, referrals not
 * chased (libldap would connect and bind elsewhere, synchronously), waits
 * bounded by deadline_ms, and with connect_async a nonblocking connect().
 * Returns 0, or -1 if libldap refused an option. */
int source_ldap_set_options(LDAP *ld, long deadline_ms, bool connect_async);

/* Prepares a connected handle's socket for the loop: nonblocking (libldap
 * leaves it blocking after connecting, and a blocking read of a partial
 * message would stall the loop), and one incoming message bounded by
 * max_bytes plus some slack, so a garbage BER length cannot make libldap
 * allocate gigabytes.  Returns 0, or -1 if the socket cannot be set up. */
int source_ldap_socket_ready(LDAP *ld, long max_bytes);

#endif
