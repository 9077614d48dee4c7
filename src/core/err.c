/*
 * err: formatting of Focal's error messages (see err.h for the convention).
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int focal_err_set(struct focal_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int focal_err_prefix(struct focal_err *err, const char *fmt, ...)
{
	char prefix[FOCAL_ERR_MSG_MAX];
	char old[FOCAL_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return 0;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return err->code;
}

void focal_err_clear(struct focal_err *err)
{
	if (err == NULL)
		return;
	err->code = FOCAL_OK;
	err->msg[0] = '\0';
}

const char *focal_rc_name(int code)
{
	switch (code) {
	case FOCAL_OK: return "ok";
	case FOCAL_E_NOMEM: return "nomem";
	case FOCAL_E_INVAL: return "invalid";
	case FOCAL_E_IO: return "io";
	case FOCAL_E_CONFIG: return "config";
	case FOCAL_E_TIMEOUT: return "timeout";
	case FOCAL_E_SOURCE: return "source";
	case FOCAL_E_LIMIT: return "limit";
	case FOCAL_E_TLS: return "tls";
	case FOCAL_E_INTERNAL: return "internal";
	case FOCAL_E_DENIED: return "denied";
	case FOCAL_E_UNAVAIL: return "unavailable";
	default: return "unknown";
	}
}
