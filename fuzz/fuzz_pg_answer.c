/*
 * fuzz_pg_answer: a PostgreSQL server's answer is untrusted.  libpq parses
 * the wire protocol (and is fuzzed upstream); what is ours is the step after
 * it, source_pg_result (source_pg.c): column lookup (PQfnumber, then a
 * case-insensitive match), the per-query column index cache, NULLs, odd
 * bytes (a SQL_ASCII database passes anything through), huge values, row and
 * byte limits, error and unexpected statuses.  The harness builds PGresults
 * with libpq's own constructors (PQmakeEmptyPGresult, PQsetResultAttrs,
 * PQsetvalue) from the input and feeds them, one after the other as a
 * single-row-mode answer would arrive, to a call of a fixed postgres source.
 *
 * Input, repeated until it runs out or the call is finished:
 *   header byte: bits 0-2 the result status (see statuses[]), bits 3-7 the
 *                number of columns (mod 9)
 *   per column:  a byte t: t < 0x80 names a column from names[] (the mapped
 *                ones and variants); otherwise (t & 0x3f) bytes of raw name
 *   a byte:      the number of rows (mod 4)
 *   per value:   0 = NULL; 1 = a huge value (two bytes: size / 64, one byte
 *                repeated); otherwise (v - 2) raw bytes
 *
 * Checked beyond "no crash": records_check.h's contract after every result
 * (row limit, NUL-free UTF-8 values of bounded size, exact byte account); a
 * finished call's reason is one printable line, and empty for SOURCE_OK.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/config.h"
#include "sources/mapping.h"
#include "sources/source.h"
#include "sources/source_pg.h"

#include "records_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROWS 5
#define MAX_BYTES 4096

static const char cfg_text[] =
	"server: {tls_cert: c.pem, tls_key: k.pem}\n"
	"sources:\n"
	"  - name: register\n"
	"    kind: postgres\n"
	"    owner: fuzz\n"
	"    classification: restricted\n"
	"    max_rows: 5\n"
	"    max_bytes: 4096\n"
	"    connection: {conninfo: \"host=127.0.0.1 dbname=x user=y\"}\n"
	"    queries: {person: \"SELECT * FROM p WHERE naam = :family_name\"}\n"
	"    map:\n"
	"      person: {family_name: naam, given_name: voornaam, national_number: RRN,\n"
	"               birth_date: Geboortedatum}\n"
	"      alert: {when: signalering, category: signalering, instruction: instructie,\n"
	"              severity: {value: high}}\n";

static const ExecStatusType statuses[8] = {
	PGRES_SINGLE_TUPLE, PGRES_SINGLE_TUPLE, PGRES_SINGLE_TUPLE, PGRES_TUPLES_OK,
	PGRES_FATAL_ERROR,  PGRES_NONFATAL_ERROR, PGRES_COMMAND_OK, PGRES_BAD_RESPONSE,
};

static const char *const names[] = {
	"naam", "voornaam", "rrn", "RRN", "geboortedatum", "Geboortedatum", "signalering",
	"instructie", "NAAM", "Naam", "", "naam ", "\"naam\"", "?column?", "naam", "signalering",
};

static struct config *cfg;
static struct source_set *set;
static struct loop loop; /* only its address is used: nothing runs on it */

struct input {
	const uint8_t *p;
	size_t left;
};

static int next_byte(struct input *in)
{
	if (in->left == 0)
		return -1;
	in->left--;
	return *in->p++;
}

/* Builds the next result from the input; NULL when the input has run out. */
static PGresult *next_result(struct input *in, char *buf, size_t bufsz)
{
	PGresAttDesc attrs[8];
	char namebuf[8][64];
	PGresult *res;
	int h, nf, nt;

	if ((h = next_byte(in)) < 0)
		return NULL;
	res = PQmakeEmptyPGresult(NULL, statuses[h & 7]);
	if (res == NULL)
		abort();
	nf = (h >> 3) % 9;
	memset(attrs, 0, sizeof(attrs));
	for (int f = 0; f < nf; f++) {
		int t = next_byte(in);

		if (t < 0) {
			nf = f;
			break;
		}
		if (t < 0x80) {
			attrs[f].name = (char *)names[(size_t)t % (sizeof(names) / sizeof(names[0]))];
		} else {
			size_t len = (size_t)(t & 0x3f);

			if (len > in->left)
				len = in->left;
			memcpy(namebuf[f], in->p, len); /* a NUL inside ends the name */
			namebuf[f][len] = '\0';
			in->p += len;
			in->left -= len;
			attrs[f].name = namebuf[f];
		}
		attrs[f].typid = 25; /* text */
		attrs[f].typlen = -1;
		attrs[f].atttypmod = -1;
	}
	if (nf > 0 && !PQsetResultAttrs(res, nf, attrs))
		abort();
	nt = nf > 0 ? next_byte(in) : -1;
	nt = nt < 0 ? 0 : nt % 4;
	for (int t = 0; t < nt; t++) {
		for (int f = 0; f < nf; f++) {
			int v = next_byte(in);
			int ok;

			if (v <= 0) {
				ok = PQsetvalue(res, t, f, NULL, -1);
			} else if (v == 1) {
				int hi = next_byte(in), lo = next_byte(in), fill = next_byte(in);
				size_t len = ((size_t)(hi < 0 ? 0 : hi) << 8 | (size_t)(lo < 0 ? 0 : lo)) * 4;

				if (len > bufsz)
					len = bufsz;
				memset(buf, fill < 0 ? 'x' : fill, len);
				ok = PQsetvalue(res, t, f, buf, (int)len);
			} else {
				size_t len = (size_t)(v - 2);

				if (len > in->left)
					len = in->left;
				ok = PQsetvalue(res, t, f, (char *)in->p, (int)len);
				in->p += len;
				in->left -= len;
			}
			if (!ok)
				abort();
		}
	}
	return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *big;
	const size_t bigsz = 256 * 1024;
	struct input in = { data, size };
	struct source_call call;
	enum source_pg_next next = SOURCE_PG_MORE;
	enum source_status st = SOURCE_PENDING;
	struct query q;
	char reason[256];
	int *colidx;
	PGresult *res;

	if (cfg == NULL) {
		struct focal_err err;

		if (config_load_string("fuzz.yaml", cfg_text, strlen(cfg_text), &cfg, &err) != 0 ||
		    source_set_new(&loop, cfg, &set, &err) != 0 || (big = malloc(bigsz)) == NULL)
			abort();
	}
	memset(&q, 0, sizeof(q));
	q.kind = QUERY_PERSON;
	source_call_init(&call, &set->rt[0], &q, NULL, NULL);
	colidx = source_pg_colidx_new(call.def);
	if (colidx == NULL)
		abort();
	while (next == SOURCE_PG_MORE && (res = next_result(&in, big, bigsz)) != NULL) {
		next = source_pg_result(&call, res, colidx, &st, reason, sizeof(reason));
		PQclear(res);
		records_check(&call, MAX_ROWS, MAX_BYTES);
	}
	if (next != SOURCE_PG_MORE) {
		if (next == SOURCE_PG_FINISH && st == SOURCE_OK && reason[0] != '\0')
			abort(); /* OK carries no reason */
		records_check_reason(reason);
	}
	free(colidx);
	source_call_clear(&call);
	return 0;
}
