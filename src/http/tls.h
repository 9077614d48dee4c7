/*
 * tls: the server's TLS context (OpenSSL 3).
 *
 * TLS 1.2 minimum with forward-secret AEAD suites only, server cipher
 * preference, no compression, no renegotiation, session tickets off (keys
 * would otherwise outlive a restart's intent).  When a client CA is configured
 * the server asks vehicle terminals for their device certificate (mutual TLS).
 */
#ifndef FOCAL_TLS_H
#define FOCAL_TLS_H

#include <openssl/ssl.h>

#include "core/config.h"
#include "core/err.h"

/* Builds the context from cfg's certificate, key and optional client CA. */
int tls_server_ctx(const struct server_config *cfg, SSL_CTX **out, struct focal_err *err);

/* The first OpenSSL error as text (for messages), and clears the queue. */
void tls_error_string(char *buf, size_t len);

#endif
