/*
 * err: the one error convention of Focal.
 *
 * Every fallible function returns 0 on success or a negative FOCAL_E_* code, and
 * fills an optional struct focal_err with a message that can be shown to the
 * caller as is (an administrator, an officer's client, a log line).  Messages say
 * what was wrong and where (file:line:column for configuration).
 */
#ifndef FOCAL_ERR_H
#define FOCAL_ERR_H

#include <stddef.h>

enum focal_rc {
	FOCAL_OK = 0,
	FOCAL_E_NOMEM = -1,    /* allocation failed */
	FOCAL_E_INVAL = -2,    /* bad input from outside (request, query, file) */
	FOCAL_E_IO = -3,       /* operating system or file error */
	FOCAL_E_CONFIG = -4,   /* invalid configuration */
	FOCAL_E_TIMEOUT = -5,  /* a deadline passed */
	FOCAL_E_SOURCE = -6,   /* a back-end source failed or answered garbage */
	FOCAL_E_LIMIT = -7,    /* a size or count limit was hit */
	FOCAL_E_TLS = -8,      /* TLS setup or handshake failed */
	FOCAL_E_INTERNAL = -9, /* our bug or an impossible library state */
	FOCAL_E_DENIED = -10,  /* not allowed (authentication, policy) */
	FOCAL_E_UNAVAIL = -11, /* temporarily unavailable (circuit open, shutting down) */
};

#define FOCAL_ERR_MSG_MAX 512

struct focal_err {
	int code;
	char msg[FOCAL_ERR_MSG_MAX];
};

/* Sets err (which may be NULL) and returns code, so callers can write
 * `return focal_err_set(err, FOCAL_E_INVAL, "...")`. */
int focal_err_set(struct focal_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (used to add context while an error
 * travels up, e.g. the source name). Returns err->code. */
int focal_err_prefix(struct focal_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void focal_err_clear(struct focal_err *err);

/* A short stable name of a code ("config", "timeout", ...) for logs and JSON. */
const char *focal_rc_name(int code);

#endif
