/*
 * totp: see totp.h.
 */
#include "auth/totp.h"

#include <liboath/oath.h>
#include <png.h>
#include <pthread.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOTP_QR_SCALE 6 /* pixels per module in the PNG */
#define TOTP_QR_QUIET 4 /* quiet zone, modules (ISO 18004) */

static pthread_once_t totp_once = PTHREAD_ONCE_INIT;
static int totp_init_rc;

static void totp_do_init(void)
{
	totp_init_rc = oath_init() == OATH_OK && sodium_init() >= 0 ? FOCAL_OK : FOCAL_E_INTERNAL;
}

int totp_init(struct focal_err *err)
{
	pthread_once(&totp_once, totp_do_init);
	if (totp_init_rc != FOCAL_OK)
		return focal_err_set(err, FOCAL_E_INTERNAL, "liboath: initialisation failed");
	return FOCAL_OK;
}

void totp_secret_new(unsigned char secret[TOTP_SECRET_BYTES])
{
	randombytes_buf(secret, TOTP_SECRET_BYTES);
}

int64_t totp_step(int64_t t)
{
	return t / TOTP_STEP_S;
}

/* Percent-encodes s for an otpauth label or query value. */
static void totp_pct(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, cap - o, "%%%02X", c);
			o += 3;
		}
	}
	out[o] = '\0';
}

int totp_uri(const unsigned char *secret, size_t len, const char *issuer, const char *account,
	     char **out, struct focal_err *err)
{
	char iss[256], acc[256], *b32 = NULL, *uri = NULL;
	size_t b32len = 0, cap;

	*out = NULL;
	if (totp_init(err) != 0)
		return FOCAL_E_INTERNAL;
	if (oath_base32_encode((const char *)secret, len, &b32, &b32len) != OATH_OK)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	while (b32len > 0 && b32[b32len - 1] == '=')
		b32[--b32len] = '\0'; /* authenticator apps want no padding */
	totp_pct(iss, sizeof(iss), issuer);
	totp_pct(acc, sizeof(acc), account);
	cap = strlen(iss) * 2 + strlen(acc) + b32len + 128;
	if ((uri = malloc(cap)) == NULL) {
		sodium_memzero(b32, b32len);
		free(b32);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	snprintf(uri, cap,
		 "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d", iss,
		 acc, b32, iss, TOTP_DIGITS, TOTP_STEP_S);
	sodium_memzero(b32, b32len);
	free(b32);
	*out = uri;
	return FOCAL_OK;
}

static QRcode *totp_qr(const char *text, struct focal_err *err)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	if (qr == NULL)
		focal_err_set(err, FOCAL_E_INTERNAL, "QR encoding failed");
	return qr;
}

static bool totp_dark(const QRcode *qr, int x, int y)
{
	x -= TOTP_QR_QUIET;
	y -= TOTP_QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return (qr->data[y * qr->width + x] & 1) != 0;
}

struct totp_buf {
	unsigned char *p;
	size_t len, cap;
	bool failed;
};

static void totp_png_write(png_structp png, png_bytep data, png_size_t len)
{
	struct totp_buf *b = png_get_io_ptr(png);

	if (b->failed)
		return;
	if (b->len + len > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + len;
		unsigned char *p = realloc(b->p, cap);

		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void totp_png_flush(png_structp png)
{
	(void)png;
}

/* Encodes qr as a 1-bit greyscale PNG into b.  libpng reports errors by
 * longjmp, so nothing that needs freeing may be allocated between setjmp and
 * the end except what the png structs own and b. */
static int totp_png(const QRcode *qr, struct totp_buf *b, struct focal_err *err)
{
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep volatile row = NULL;
	int size = (qr->width + 2 * TOTP_QR_QUIET) * TOTP_QR_SCALE;
	volatile int rc = FOCAL_E_INTERNAL;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL)
		goto out;
	if ((row = calloc(1, (size_t)size / 8 + 1)) == NULL)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_set_write_fn(png, b, totp_png_write, totp_png_flush);
	png_set_IHDR(png, info, (png_uint_32)size, (png_uint_32)size, 1, PNG_COLOR_TYPE_GRAY,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < size; y++) {
		memset(row, 0, (size_t)size / 8 + 1);
		for (int x = 0; x < size; x++)
			if (!totp_dark(qr, x / TOTP_QR_SCALE, y / TOTP_QR_SCALE))
				row[x / 8] |= (png_byte)(0x80 >> (x % 8)); /* 1 = white */
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	rc = b->failed ? FOCAL_E_NOMEM : FOCAL_OK;
out:
	png_destroy_write_struct(&png, &info);
	free(row);
	if (rc != FOCAL_OK)
		focal_err_set(err, rc, "PNG encoding failed");
	return rc;
}

int totp_qr_png_data_uri(const char *text, char **out, struct focal_err *err)
{
	static const char prefix[] = "data:image/png;base64,";
	struct totp_buf b = { 0 };
	QRcode *qr = NULL;
	char *uri = NULL;
	size_t b64;
	int rc;

	*out = NULL;
	if ((qr = totp_qr(text, err)) == NULL)
		return FOCAL_E_INTERNAL;
	if ((rc = totp_png(qr, &b, err)) != 0)
		goto out;
	b64 = sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_ORIGINAL);
	if ((uri = malloc(sizeof(prefix) - 1 + b64)) == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(uri, prefix, sizeof(prefix) - 1);
	sodium_bin2base64(uri + sizeof(prefix) - 1, b64, b.p, b.len,
			  sodium_base64_VARIANT_ORIGINAL);
	*out = uri;
out:
	QRcode_free(qr);
	if (b.p != NULL)
		sodium_memzero(b.p, b.len); /* it encodes the secret */
	free(b.p);
	return rc;
}

int totp_qr_terminal(const char *text, char **out, struct focal_err *err)
{
	/* each cell shows two modules (upper, lower) with a half block; the
	 * terminal's ink (light on the usual dark terminal) draws the light
	 * modules, so the code reads as dark-on-light like on paper */
	static const char *const cell[4] = { "\u2588", "\u2580", "\u2584", " " };
	QRcode *qr = NULL;
	char *s = NULL;
	size_t o = 0, cap;
	int size;

	*out = NULL;
	if ((qr = totp_qr(text, err)) == NULL)
		return FOCAL_E_INTERNAL;
	size = qr->width + 2 * TOTP_QR_QUIET;
	cap = (size_t)size * (size_t)(size / 2 + 1) * 4 + (size_t)(size / 2 + 1) + 1;
	if ((s = malloc(cap)) == NULL) {
		QRcode_free(qr);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	for (int y = 0; y < size; y += 2) {
		for (int x = 0; x < size; x++) {
			int k = (totp_dark(qr, x, y) ? 2 : 0) | (totp_dark(qr, x, y + 1) ? 1 : 0);
			const char *c = cell[k];
			size_t n = strlen(c);

			memcpy(s + o, c, n);
			o += n;
		}
		s[o++] = '\n';
	}
	s[o] = '\0';
	QRcode_free(qr);
	*out = s;
	return FOCAL_OK;
}

int totp_code(const unsigned char *secret, size_t len, int64_t step, char out[TOTP_DIGITS + 1])
{
	if (totp_init(NULL) != 0)
		return FOCAL_E_INTERNAL;
	if (oath_totp_generate((const char *)secret, len, (time_t)(step * TOTP_STEP_S),
			       TOTP_STEP_S, 0, TOTP_DIGITS, out) != OATH_OK)
		return FOCAL_E_INTERNAL;
	return FOCAL_OK;
}

int totp_verify(const unsigned char *secret, size_t len, const char *code, int64_t now,
		int64_t last_step, int64_t *step)
{
	int pos = 0, r;

	*step = 0;
	if (totp_init(NULL) != 0 || strlen(code) != TOTP_DIGITS)
		return FOCAL_E_DENIED;
	for (size_t i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return FOCAL_E_DENIED;
	r = oath_totp_validate2((const char *)secret, len, (time_t)now, TOTP_STEP_S, 0, 1, &pos,
				code);
	if (r < 0)
		return FOCAL_E_DENIED;
	if (totp_step(now) + pos <= last_step)
		return FOCAL_E_DENIED; /* replay of a code (or an older one) already used */
	*step = totp_step(now) + pos;
	return FOCAL_OK;
}

/* Lower-case RFC 4648 base32 alphabet without the padding. */
static const char totp_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

bool totp_recovery_hash(const char *typed, unsigned char hash[TOTP_RECOVERY_HASH])
{
	char norm[17];
	size_t n = 0;

	for (const char *p = typed; *p != '\0'; p++) {
		char c = *p;

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (strchr(totp_b32, c) == NULL || c == '\0' || n >= 16)
			return false;
		norm[n++] = c;
	}
	if (n != 16)
		return false;
	norm[n] = '\0';
	/* 80 random bits: a plain hash suffices (no dictionary to try) */
	crypto_hash_sha256(hash, (const unsigned char *)norm, n);
	sodium_memzero(norm, sizeof(norm));
	return true;
}

void totp_recovery_new(char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN + 1],
		       unsigned char hashes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_HASH])
{
	for (size_t i = 0; i < TOTP_RECOVERY_CODES; i++) {
		size_t o = 0;

		for (size_t j = 0; j < 16; j++) {
			if (j > 0 && j % 4 == 0)
				codes[i][o++] = '-';
			codes[i][o++] = totp_b32[randombytes_uniform(32)];
		}
		codes[i][o] = '\0';
		totp_recovery_hash(codes[i], hashes[i]);
	}
}
