/*
 * tls: server TLS context (see tls.h).
 */
#include "http/tls.h"

#include <openssl/err.h>

void tls_error_string(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown TLS error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

int tls_server_ctx(const struct server_config *cfg, SSL_CTX **out, struct focal_err *err)
{
	SSL_CTX *ctx;
	char why[256];
	int rc;

	*out = NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return focal_err_set(err, FOCAL_E_TLS, "cannot create TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	/* TLS 1.2: ECDHE with AEAD only; TLS 1.3 suites are all AEAD already */
	if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
		rc = focal_err_set(err, FOCAL_E_TLS, "cannot set cipher list");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		tls_error_string(why, sizeof(why));
		rc = focal_err_set(err, FOCAL_E_TLS, "tls_cert %s: %s", cfg->tls_cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_error_string(why, sizeof(why));
		rc = focal_err_set(err, FOCAL_E_TLS, "tls_key %s: %s", cfg->tls_key, why);
		goto fail;
	}
	if (cfg->tls_client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca, NULL) != 1) {
			tls_error_string(why, sizeof(why));
			rc = focal_err_set(err, FOCAL_E_TLS, "tls_client_ca %s: %s",
					   cfg->tls_client_ca, why);
			goto fail;
		}
		/* asked, verified if presented; which routes require it is policy */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	*out = ctx;
	return FOCAL_OK;
fail:
	SSL_CTX_free(ctx);
	return rc;
}
