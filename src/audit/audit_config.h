/*
 * audit_config: the parsed `audit:` section (private to src/audit; see
 * docs/configuration.md).
 */
#ifndef FOCAL_AUDIT_CONFIG_H
#define FOCAL_AUDIT_CONFIG_H

#include <stdbool.h>

#include "audit/audit_misuse.h"

struct audit_config {
	char *dir;          /* NULL: "audit" next to the configuration file */
	char *key;          /* NULL: <dir>/audit-key.pem, generated on first start */
	long checkpoint_ms; /* longest time between checkpoints while entries arrive */
	long max_pending;   /* entries waiting for the writer before new ones are refused */
	bool sign_every_commit; /* a signed checkpoint with every group commit (default) */
	struct audit_misuse_config misuse;
};

/* The open log's signing key (its public half verifies; NULL when closed). */
#include <openssl/evp.h>
EVP_PKEY *audit_signing_key(void);

#endif
