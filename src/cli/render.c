/*
 * render: terminal rendering of a briefing (see render.h).
 *
 * Reads the briefing JSON only (the same document the API returns), so the
 * CLI shows exactly what any other client would.  Every value that came from
 * a source is printed through put_text(), which replaces control characters:
 * a source must not be able to move the cursor or recolour the screen of the
 * officer reading its answer.
 */
#include "cli/render.h"

#include <string.h>

struct palette {
	const char *alert, *head, *dim, *ok, *bad, *off;
};

/* warnings: bold white on red, the highest contrast a terminal offers */
static const struct palette colours = { "\033[1;97;41m", "\033[1m", "\033[2m", "\033[32m",
					"\033[1;31m", "\033[0m" };
static const struct palette plain = { "", "", "", "", "", "" };

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Writes s with control characters (C0, DEL, C1) replaced by '?'. */
static void put_text(FILE *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; u[i] != '\0'; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f) {
			fputc('?', out);
		} else if (u[i] == 0xC2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F) {
			fputc('?', out); /* U+0080..U+009F, e.g. CSI */
			i++;
		} else {
			fputc(u[i], out);
		}
	}
}

static const char *rank_title(const char *rank)
{
	static const struct {
		const char *rank, *title;
	} titles[] = {
		{ "armed_dangerous", "ARMED / DANGEROUS" },
		{ "wanted", "WANTED" },
		{ "violence_against_police", "VIOLENCE AGAINST POLICE" },
		{ "vulnerable_missing", "VULNERABLE / MISSING" },
	};

	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (strcmp(rank, titles[i].rank) == 0)
			return titles[i].title;
	return "WARNING";
}

/* The entity with id, among entities and possible matches. */
static const json_t *find_entity(const json_t *b, const char *id)
{
	static const char *const lists[] = { "entities", "possible_matches" };

	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *e;

		json_array_foreach(json_object_get(b, lists[l]), i, e)
			if (strcmp(str(e, "id"), id) == 0)
				return e;
	}
	return NULL;
}

/* "Jan Peeters, 1985-07-30 (e1)" for each id of arr, comma separated. */
static void put_entity_refs(FILE *out, const json_t *b, const json_t *arr)
{
	size_t i;
	json_t *id;

	json_array_foreach(arr, i, id) {
		const json_t *e = find_entity(b, json_string_value(id) ? json_string_value(id) : "");

		fputs(i > 0 ? "; " : "", out);
		put_text(out, e != NULL ? str(e, "label") : "?");
		fprintf(out, " (%s)", json_string_value(id) ? json_string_value(id) : "?");
	}
}

static const char *plural(long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* What a policy reason means to an officer (docs/policy.md); a deny rule's own
 * reason word is printed as written. */
static void put_denied_reason(FILE *out, const json_t *d)
{
	const char *reason = str(d, "reason");
	const json_t *req = json_object_get(d, "required");
	size_t i;
	json_t *r;

	if (strcmp(reason, "needs_purpose") == 0) {
		if (json_array_size(req) == 0) {
			fputs("purpose and case reference", out);
		} else {
			json_array_foreach(req, i, r) {
				const char *w = json_string_value(r) ? json_string_value(r) : "";

				fputs(i > 0 ? " and " : "", out);
				put_text(out, strcmp(w, "case_ref") == 0 ? "case reference" : w);
			}
		}
		fputs(" needed", out);
	} else if (strcmp(reason, "clearance") == 0) {
		fputs("above your clearance", out);
	} else if (strcmp(reason, "not_permitted") == 0) {
		fputs("not permitted by the access policy", out);
	} else if (strcmp(reason, "no_policy") == 0) {
		fputs("no access policy loaded", out);
	} else {
		put_text(out, reason);
	}
}

/*
 * No alert: "No warnings." only when every source that could answer was
 * searched and answered.  Otherwise the line says what was left out (denied
 * by the policy, failed, not asked), so that silence is never read as
 * "nothing known"; the web app says the same (web/js/officer.js).
 */
static void render_no_warnings(const json_t *b, FILE *out, const struct palette *p)
{
	const json_t *sum = json_object_get(b, "summary");
	const json_t *denied = json_object_get(json_object_get(b, "policy"), "denied");
	long long failed = json_integer_value(json_object_get(sum, "calls_failed"));
	long long skipped = json_integer_value(json_object_get(sum, "sources_not_searched"));
	const char *sep = " — ";
	size_t i;
	json_t *d;

	if (json_array_size(denied) == 0 && failed <= 0 && skipped <= 0) {
		fprintf(out, "%sNo warnings.%s\n\n", p->ok, p->off);
		return;
	}
	fprintf(out, "%sNo warnings from the sources searched%s", p->bad, p->off);
	json_array_foreach(denied, i, d) {
		long long n = json_integer_value(json_object_get(d, "source_count"));

		fprintf(out, "%s%lld %s not searched: ", sep, n, plural(n, "source", "sources"));
		put_denied_reason(out, d);
		sep = "; ";
	}
	if (failed > 0) {
		fprintf(out, "%s%lld %s failed", sep, failed, plural(failed, "source answer", "source answers"));
		sep = "; ";
	}
	if (skipped > 0) {
		fprintf(out, "%s%lld %s not searched: ", sep, skipped, plural(skipped, "source", "sources"));
		put_text(out, *str(sum, "not_searched_reason") ? str(sum, "not_searched_reason") : "not asked");
	}
	fputs(".\n\n", out);
}

static void render_alerts(const json_t *b, FILE *out, const struct palette *p)
{
	const json_t *alerts = json_object_get(b, "alerts");
	size_t i;
	json_t *a;

	if (json_array_size(alerts) == 0) {
		render_no_warnings(b, out, p);
		return;
	}
	fprintf(out, "%s!! WARNINGS (%zu) !!%s\n", p->alert, json_array_size(alerts), p->off);
	json_array_foreach(alerts, i, a) {
		const json_t *f = json_object_get(a, "fields");

		fprintf(out, "%s! %s%s ", p->alert, rank_title(str(a, "rank")), p->off);
		fprintf(out, " %s", p->bad);
		put_text(out, str(f, "category"));
		fprintf(out, "%s", p->off);
		if (*str(f, "subject_name") || *str(f, "plate") || *str(f, "serial")) {
			fputs(" — ", out);
			put_text(out, str(f, "subject_name"));
			put_text(out, str(f, "plate"));
			put_text(out, str(f, "serial"));
		}
		fputc('\n', out);
		if (*str(f, "instruction")) {
			fprintf(out, "    %sInstruction:%s ", p->head, p->off);
			put_text(out, str(f, "instruction"));
			fputc('\n', out);
		}
		if (json_array_size(json_object_get(a, "concerns")) > 0) {
			fprintf(out, "    %sConcerns:%s ", p->head, p->off);
			put_entity_refs(out, b, json_object_get(a, "concerns"));
			fputc('\n', out);
		}
		if (json_array_size(json_object_get(a, "possibly_concerns")) > 0) {
			fprintf(out, "    %sPossibly:%s ", p->head, p->off);
			put_entity_refs(out, b, json_object_get(a, "possibly_concerns"));
			fputc('\n', out);
		}
		fprintf(out, "    %s[", p->dim);
		put_text(out, str(a, "source"));
		fprintf(out, "]%s\n", p->off);
	}
	fputc('\n', out);
}

/* One card: the label, its alerts, every fact with its sources. */
static void render_card(const json_t *b, const json_t *e, FILE *out, const struct palette *p)
{
	const json_t *alerts = json_object_get(b, "alerts");
	const char *field;
	json_t *values, *x;
	size_t i;

	fprintf(out, "  %s%s %-7s ", p->head, str(e, "id"), str(e, "type"));
	put_text(out, str(e, "label"));
	fprintf(out, "%s", p->off);
	json_array_foreach(json_object_get(e, "alerts"), i, x) {
		const json_t *a = json_array_get(alerts, (size_t)json_integer_value(x));

		fprintf(out, "  %s %s %s", p->alert, rank_title(str(a, "rank")), p->off);
	}
	if (json_array_size(json_object_get(e, "possible_alerts")) > 0)
		fprintf(out, "  %s(%zu warning(s) may concern this)%s", p->bad,
			json_array_size(json_object_get(e, "possible_alerts")), p->off);
	fputc('\n', out);
	json_object_foreach(json_object_get(e, "facts"), field, values) {
		bool conflict = false;
		json_t *v;

		json_array_foreach(values, i, v)
			conflict |= json_is_true(json_object_get(v, "conflict"));
		fprintf(out, "      %-22s ", field);
		if (conflict)
			fprintf(out, "%sCONFLICT:%s ", p->bad, p->off);
		json_array_foreach(values, i, v) {
			size_t k;
			json_t *src;

			fputs(i > 0 ? " | " : "", out);
			put_text(out, str(v, "value"));
			fprintf(out, " %s[", p->dim);
			json_array_foreach(json_object_get(v, "sources"), k, src) {
				fputs(k > 0 ? ", " : "", out);
				put_text(out, json_string_value(src) ? json_string_value(src) : "");
			}
			fprintf(out, "]%s", p->off);
		}
		fputc('\n', out);
	}
	json_array_foreach(json_object_get(e, "related"), i, x) {
		json_t *ids = json_pack("[O]", json_object_get(x, "entity"));

		fprintf(out, "      %-22s ", str(x, "relation"));
		put_entity_refs(out, b, ids);
		fputc('\n', out);
		json_decref(ids);
	}
	if (json_array_size(json_object_get(e, "possible_matches")) > 0) {
		fprintf(out, "      %-22s ", "possible match");
		put_entity_refs(out, b, json_object_get(e, "possible_matches"));
		fputc('\n', out);
	}
	json_array_foreach(json_object_get(e, "may_be"), i, x) {
		json_t *ids = json_pack("[O]", json_object_get(x, "entity"));

		fprintf(out, "      %smay be%s                 ", p->bad, p->off);
		put_entity_refs(out, b, ids);
		fprintf(out, ": %s\n", str(x, "explanation"));
		json_decref(ids);
	}
}

static void render_entities(const json_t *b, FILE *out, const struct palette *p)
{
	const json_t *entities = json_object_get(b, "entities");
	static const char *const kinds[] = { "person", "vehicle", "firearm", "address", "report" };
	size_t i, shown = 0;
	json_t *e;

	fprintf(out, "%sRecords%s (", p->head, p->off);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t n = 0;

		json_array_foreach(entities, i, e)
			n += strcmp(str(e, "type"), kinds[k]) == 0;
		if (n > 0)
			fprintf(out, "%s%zu %s%s", shown++ ? ", " : "", n, kinds[k], n > 1 ? "s" : "");
	}
	fprintf(out, "%s)\n", shown ? "" : "none");
	json_array_foreach(entities, i, e)
		render_card(b, e, out, p);
	fputc('\n', out);
}

static void render_possible(const json_t *b, FILE *out, const struct palette *p)
{
	const json_t *possible = json_object_get(b, "possible_matches");
	size_t i;
	json_t *e;

	if (json_array_size(possible) == 0)
		return;
	fprintf(out, "%sPossible matches (%zu)%s — not merged, check before relying on them\n",
		p->head, json_array_size(possible), p->off);
	json_array_foreach(possible, i, e)
		render_card(b, e, out, p);
	fputc('\n', out);
}

static void render_sources(const json_t *sources, FILE *out, const struct palette *p)
{
	size_t i;
	json_t *s;

	fprintf(out, "%sSources%s\n", p->head, p->off);
	json_array_foreach(sources, i, s) {
		const char *st = str(s, "status");
		int good = strcmp(st, "ok") == 0;

		fprintf(out, "  %s%-11s%s ", good ? p->ok : p->bad, st, p->off);
		put_text(out, str(s, "name"));
		fprintf(out, "%*s %4lld rows %7.1f ms",
			(int)(strlen(str(s, "name")) < 28 ? 28 - strlen(str(s, "name")) : 0), "",
			(long long)json_integer_value(json_object_get(s, "rows")),
			json_number_value(json_object_get(s, "ms")));
		if (*str(s, "reason")) {
			fprintf(out, "  %s", p->dim);
			put_text(out, str(s, "reason"));
			fprintf(out, "%s", p->off);
		}
		fputc('\n', out);
	}
}

void render_briefing(const json_t *b, FILE *out, bool colour)
{
	const struct palette *p = colour ? &colours : &plain;
	const json_t *q = json_object_get(json_object_get(b, "query"), "interpretations");
	const json_t *sum = json_object_get(b, "summary");
	size_t i;
	json_t *qi;

	json_array_foreach(q, i, qi) {
		fprintf(out, "%sRead as:%s ", p->dim, p->off);
		put_text(out, str(qi, "read_as"));
		fputc('\n', out);
	}
	fputc('\n', out);
	render_alerts(b, out, p);
	render_entities(b, out, p);
	render_possible(b, out, p);
	render_sources(json_object_get(b, "sources"), out, p);
	fprintf(out, "\n%s%lld sources asked, %lld not searched (%s); %.1f ms%s\n", p->dim,
		(long long)json_integer_value(json_object_get(sum, "sources_asked")),
		(long long)json_integer_value(json_object_get(sum, "sources_not_searched")),
		str(sum, "not_searched_reason"), json_number_value(json_object_get(b, "elapsed_ms")),
		p->off);
	/* the access policy: how many sources were kept out and why (never which) */
	json_array_foreach(json_object_get(json_object_get(b, "policy"), "denied"), i, qi) {
		const json_t *req = json_object_get(qi, "required");

		fprintf(out, "%s%lld sources not searched: ", p->dim,
			(long long)json_integer_value(json_object_get(qi, "source_count")));
		/* a deny rule's reason is the policy author's text: no control characters */
		put_text(out, str(qi, "reason"));
		fprintf(out, "%s%s%s%s\n", req ? " (give " : "",
			req && json_string_value(json_array_get(req, 0)) ?
				json_string_value(json_array_get(req, 0)) : "",
			json_array_size(req) > 1 ? " and case_ref" : "", req ? ")" : "");
		fputs(p->off, out);
	}
}
