/*
 * render: terminal rendering of a briefing (see render.h).
 */
#include "cli/render.h"

#include <string.h>

struct palette {
	const char *alert, *head, *dim, *ok, *bad, *off;
};

static const struct palette colours = { "\033[1;97;41m", "\033[1m", "\033[2m", "\033[32m",
					"\033[31m", "\033[0m" };
static const struct palette plain = { "", "", "", "", "", "" };

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void render_fields(const json_t *fields, FILE *out)
{
	const char *k;
	json_t *v;
	int first = 1;

	json_object_foreach((json_t *)fields, k, v) {
		fprintf(out, "%s%s: %s", first ? "" : ", ", k, json_string_value(v));
		first = 0;
	}
}

static void render_alerts(const json_t *alerts, FILE *out, const struct palette *p)
{
	size_t i;
	json_t *a;

	if (json_array_size(alerts) == 0) {
		fprintf(out, "%sNo warnings.%s\n\n", p->ok, p->off);
		return;
	}
	fprintf(out, "%s WARNINGS (%zu) %s\n", p->alert, json_array_size(alerts), p->off);
	json_array_foreach(alerts, i, a) {
		const json_t *f = json_object_get(a, "fields");

		fprintf(out, "%s! %s%s  %s", p->bad, str(f, "category"), p->off,
			str(a, "rank"));
		if (*str(f, "subject_name") || *str(f, "plate") || *str(f, "serial"))
			fprintf(out, " — %s%s%s", str(f, "subject_name"), str(f, "plate"),
				str(f, "serial"));
		fprintf(out, "\n");
		if (*str(f, "instruction"))
			fprintf(out, "    %sInstruction:%s %s\n", p->head, p->off,
				str(f, "instruction"));
		fprintf(out, "    %s(source: %s)%s\n", p->dim, str(a, "source"), p->off);
	}
	fprintf(out, "\n");
}

static void render_records(const json_t *records, FILE *out, const struct palette *p)
{
	size_t i;
	json_t *r;

	fprintf(out, "%sRecords (%zu)%s\n", p->head, json_array_size(records), p->off);
	json_array_foreach(records, i, r) {
		fprintf(out, "  %-8s ", str(r, "type"));
		render_fields(json_object_get(r, "fields"), out);
		fprintf(out, "  %s[%s]%s\n", p->dim, str(r, "source"), p->off);
	}
	fprintf(out, "\n");
}

static void render_sources(const json_t *sources, FILE *out, const struct palette *p)
{
	size_t i;
	json_t *s;

	fprintf(out, "%sSources%s\n", p->head, p->off);
	json_array_foreach(sources, i, s) {
		const char *st = str(s, "status");
		int good = strcmp(st, "ok") == 0;

		fprintf(out, "  %s%-11s%s %-28s %4lld rows %7.1f ms", good ? p->ok : p->bad, st,
			p->off, str(s, "name"),
			(long long)json_integer_value(json_object_get(s, "rows")),
			json_number_value(json_object_get(s, "ms")));
		if (*str(s, "reason"))
			fprintf(out, "  %s%s%s", p->dim, str(s, "reason"), p->off);
		fprintf(out, "\n");
	}
}

void render_briefing(const json_t *b, FILE *out, bool colour)
{
	const struct palette *p = colour ? &colours : &plain;
	const json_t *q = json_object_get(json_object_get(b, "query"), "interpretations");
	const json_t *sum = json_object_get(b, "summary");
	size_t i;
	json_t *qi;

	json_array_foreach(q, i, qi)
		fprintf(out, "%sRead as:%s %s\n", p->dim, p->off, str(qi, "read_as"));
	fprintf(out, "\n");
	render_alerts(json_object_get(b, "alerts"), out, p);
	render_records(json_object_get(b, "records"), out, p);
	render_sources(json_object_get(b, "sources"), out, p);
	fprintf(out, "\n%s%lld sources asked, %lld not searched (%s); %.1f ms%s\n", p->dim,
		(long long)json_integer_value(json_object_get(sum, "sources_asked")),
		(long long)json_integer_value(json_object_get(sum, "sources_not_searched")),
		str(sum, "not_searched_reason"), json_number_value(json_object_get(b, "elapsed_ms")),
		p->off);
}
