/*
 * totp: time-based one-time passwords (RFC 6238, via liboath) — secrets,
 * enrolment (otpauth URI, QR code as PNG data URI and as terminal text),
 * verification with a ±1 step window and replay refusal, and one-time
 * recovery codes.
 *
 * Codes are 6 digits, 30-second steps, HMAC-SHA1 (what every authenticator
 * app supports).  Pure functions: storing the secret (sealed, secret.h) and
 * the last accepted step is the caller's (user.c, auth.c).
 */
#ifndef FOCAL_TOTP_H
#define FOCAL_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TOTP_SECRET_BYTES 20  /* 160 bits (RFC 4226 recommendation) */
#define TOTP_STEP_S 30
#define TOTP_DIGITS 6
#define TOTP_RECOVERY_CODES 10
#define TOTP_RECOVERY_LEN 19  /* "xxxx-xxxx-xxxx-xxxx": 16 base32 chars, 80 bits */
#define TOTP_RECOVERY_HASH 32 /* SHA-256 */

/* Once per process (liboath global state); thread-safe. */
int totp_init(struct focal_err *err);

void totp_secret_new(unsigned char secret[TOTP_SECRET_BYTES]);

/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
 * (malloc'd, the caller wipes and frees it: it contains the secret). */
int totp_uri(const unsigned char *secret, size_t len, const char *issuer, const char *account,
	     char **out, struct focal_err *err);
/* The QR code of text as "data:image/png;base64,..." (malloc'd). */
int totp_qr_png_data_uri(const char *text, char **out, struct focal_err *err);
/* The QR code of text for a terminal: two modules per character cell with
 * Unicode half blocks, dark on light, with a quiet zone (malloc'd). */
int totp_qr_terminal(const char *text, char **out, struct focal_err *err);

/* The code for step (tests, the CLI's self-check). */
int totp_code(const unsigned char *secret, size_t len, int64_t step, char out[TOTP_DIGITS + 1]);
/* Step of Unix time t. */
int64_t totp_step(int64_t t);

/* Verifies code (exactly 6 digits) at Unix time now, accepting the
 * steps now-1, now, now+1 but only those after last_step (each code once).
 * FOCAL_OK and *step = the matched step, or FOCAL_E_DENIED. */
int totp_verify(const unsigned char *secret, size_t len, const char *code, int64_t now,
		int64_t last_step, int64_t *step);

/* Recovery codes: fills codes[i] (TOTP_RECOVERY_LEN+1 bytes each, shown once)
 * and hashes[i]. */
void totp_recovery_new(char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN + 1],
		       unsigned char hashes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_HASH]);
/* Hash of a code as typed (case, spaces and dashes ignored).  false when it
 * cannot be a recovery code. */
bool totp_recovery_hash(const char *typed, unsigned char hash[TOTP_RECOVERY_HASH]);

#endif
