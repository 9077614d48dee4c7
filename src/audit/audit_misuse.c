/*
 * audit_misuse: misuse signals (see audit_misuse.h).
 */
#include "audit/audit_misuse.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/principal.h"
#include "core/cfgnode.h"
#include "core/log.h"
#include "search/normalize.h"
#include "search/query.h"

/* --- configuration -------------------------------------------------------- */

/* The comparison key of a flagged entry or a searched value: an identifier
 * (digits and letters only) when it holds a digit, else a name key. */
static int audit_misuse_key(const char *in, char *out, size_t outlen)
{
	return strpbrk(in, "0123456789") != NULL ? normalize_identifier(in, out, outlen)
						 : normalize_key(in, out, outlen);
}

static int audit_misuse_hours(const struct cfg_node *v, struct audit_shift *s,
			      struct focal_err *err)
{
	const char *t = cfg_scalar(v);
	int h1, m1, h2, m2, used = 0;

	if (t == NULL || sscanf(t, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &used) != 4 ||
	    t[used] != '\0' || h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 ||
	    m2 < 0 || m2 > 59 || h1 * 60 + m1 > 1440 || h2 * 60 + m2 > 1440)
		return cfg_error(v, err, "expected hours as \"HH:MM-HH:MM\" (local time), got \"%s\"",
				 t ? t : "");
	s->start_min = h1 * 60 + m1;
	s->end_min = h2 * 60 + m2;
	return FOCAL_OK;
}

static int audit_misuse_shifts(const struct cfg_node *map, struct audit_shift **out, size_t *n,
			       struct focal_err *err)
{
	size_t len = cfg_len(map);
	int rc;

	if ((rc = cfg_expect_map(map, "shifts", err)) != 0)
		return rc;
	*out = calloc(len ? len : 1, sizeof(**out));
	if (*out == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		struct cfg_node k, v;

		cfg_map_at(map, i, &k, &v);
		if ((rc = cfg_node_string(&k, "a user or unit", &(*out)[i].who, err)) != 0)
			return rc;
		(*n)++;
		if ((rc = audit_misuse_hours(&v, &(*out)[i], err)) != 0)
			return rc;
	}
	return FOCAL_OK;
}

int audit_misuse_config_parse(const struct cfg_node *n, struct audit_misuse_config *out,
			      struct focal_err *err)
{
	static const char *const keys[] = { "rate_per_minute", "no_hit_streak", "flagged",
					    "shifts", NULL };
	static const char *const skeys[] = { "users", "units", NULL };
	struct cfg_node f, s, m;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n == NULL)
		return FOCAL_OK;
	if ((rc = cfg_expect_map(n, "alerts", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0 ||
	    (rc = cfg_get_long(n, "rate_per_minute", false, 0, 100000, &out->rate_per_minute,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "no_hit_streak", false, 0, 100000, &out->no_hit_streak, err)) != 0)
		return rc;
	if (cfg_map_get(n, "flagged", &f)) {
		size_t len = cfg_len(&f);

		if ((rc = cfg_expect_seq(&f, "flagged", err)) != 0)
			return rc;
		out->flagged = calloc(len ? len : 1, sizeof(char *));
		if (out->flagged == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		for (size_t i = 0; i < len; i++) {
			struct cfg_node item;
			char key[NORMALIZE_MAX];
			const char *t;

			cfg_seq_at(&f, i, &item);
			t = cfg_scalar(&item);
			if (t == NULL || audit_misuse_key(t, key, sizeof(key)) <= 0)
				return cfg_error(&item, err, "expected a national number or a name");
			if ((out->flagged[out->nflagged++] = strdup(key)) == NULL)
				return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		}
	}
	if (cfg_map_get(n, "shifts", &s)) {
		if ((rc = cfg_expect_map(&s, "shifts", err)) != 0 ||
		    (rc = cfg_check_keys(&s, skeys, err)) != 0)
			return rc;
		if (cfg_map_get(&s, "users", &m) &&
		    (rc = audit_misuse_shifts(&m, &out->users, &out->nusers, err)) != 0)
			return rc;
		if (cfg_map_get(&s, "units", &m) &&
		    (rc = audit_misuse_shifts(&m, &out->units, &out->nunits, err)) != 0)
			return rc;
	}
	return FOCAL_OK;
}

static void audit_misuse_shifts_free(struct audit_shift *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].who);
	free(s);
}

void audit_misuse_config_clear(struct audit_misuse_config *c)
{
	for (size_t i = 0; i < c->nflagged; i++)
		free(c->flagged[i]);
	free(c->flagged);
	audit_misuse_shifts_free(c->users, c->nusers);
	audit_misuse_shifts_free(c->units, c->nunits);
	memset(c, 0, sizeof(*c));
}

bool audit_misuse_in_shift(const struct audit_shift *s, int m)
{
	if (s->start_min <= s->end_min)
		return m >= s->start_min && m < s->end_min;
	return m >= s->start_min || m < s->end_min; /* a night shift spans midnight */
}

/* --- per-user state -------------------------------------------------------- */

#define MISUSE_USERS 4096 /* users tracked at once; the least recent is forgotten */

struct misuse_user {
	char user[PRINCIPAL_ID_MAX];
	int64_t window_start_ms; /* this minute's window */
	long in_window;
	int64_t rate_alerted_ms; /* last rate alert */
	long no_hits;
	int64_t last_ms;
};

static pthread_mutex_t misuse_mu = PTHREAD_MUTEX_INITIALIZER;
static struct misuse_user *misuse_users;
static size_t misuse_n;

static struct misuse_user *audit_misuse_user(const char *user, int64_t now)
{
	size_t oldest = 0;

	for (size_t i = 0; i < misuse_n; i++) {
		if (strcmp(misuse_users[i].user, user) == 0)
			return &misuse_users[i];
		if (misuse_users[i].last_ms < misuse_users[oldest].last_ms)
			oldest = i;
	}
	if (misuse_users == NULL) {
		misuse_users = calloc(MISUSE_USERS, sizeof(*misuse_users));
		if (misuse_users == NULL)
			return NULL;
	}
	if (misuse_n < MISUSE_USERS)
		oldest = misuse_n++;
	memset(&misuse_users[oldest], 0, sizeof(misuse_users[oldest]));
	snprintf(misuse_users[oldest].user, sizeof(misuse_users[oldest].user), "%s", user);
	misuse_users[oldest].window_start_ms = now;
	return &misuse_users[oldest];
}

void audit_misuse_reset(void)
{
	pthread_mutex_lock(&misuse_mu);
	free(misuse_users);
	misuse_users = NULL;
	misuse_n = 0;
	pthread_mutex_unlock(&misuse_mu);
}

/* Raises one alert: a log line and an audit entry. */
static void audit_misuse_alert(const char *rule, const struct auth_principal *who, uint64_t seq,
			       json_t *details)
{
	char type[64];
	struct focal_err err;

	snprintf(type, sizeof(type), "alert.%s", rule);
	json_object_set_new(details, "rule", json_string(rule));
	json_object_set_new(details, "search", json_integer((json_int_t)seq));
	log_emitj(LOG_WARN, "audit_alert", rule,
		  json_pack("{s:s, s:s, s:I, s:O}", "rule", rule, "user", who->user, "search",
			    (json_int_t)seq, "details", details));
	(void)audit_event(type, who, details, &err);
}

static bool audit_misuse_flagged(const struct audit_misuse_config *c, const char *value)
{
	char key[NORMALIZE_MAX];

	if (value == NULL || audit_misuse_key(value, key, sizeof(key)) <= 0)
		return false;
	for (size_t i = 0; i < c->nflagged; i++)
		if (strcmp(c->flagged[i], key) == 0)
			return true;
	return false;
}

/* The flagged person a request searches for, or NULL. */
static const char *audit_misuse_flagged_query(const struct audit_misuse_config *c,
					      const struct query_request *qr, char *buf, size_t cap)
{
	for (size_t i = 0; i < qr->ninterp; i++) {
		const struct query *q = &qr->interp[i];
		const char *nn = q->param[QP_NATIONAL_NUMBER];

		if (audit_misuse_flagged(c, nn))
			return snprintf(buf, cap, "%s", nn), buf;
		if (q->param[QP_FAMILY_NAME] != NULL) {
			/* a flagged name is matched in either order */
			snprintf(buf, cap, "%s %s", q->param[QP_GIVEN_NAME] ? q->param[QP_GIVEN_NAME] : "",
				 q->param[QP_FAMILY_NAME]);
			if (audit_misuse_flagged(c, buf))
				return buf;
			snprintf(buf, cap, "%s %s", q->param[QP_FAMILY_NAME],
				 q->param[QP_GIVEN_NAME] ? q->param[QP_GIVEN_NAME] : "");
			if (audit_misuse_flagged(c, buf))
				return buf;
		}
	}
	return NULL;
}

static const struct audit_shift *audit_misuse_shift_of(const struct audit_misuse_config *c,
						       const struct auth_principal *who)
{
	for (size_t i = 0; i < c->nusers; i++)
		if (strcmp(c->users[i].who, who->user) == 0)
			return &c->users[i];
	for (size_t i = 0; i < c->nunits; i++)
		if (who->unit[0] != '\0' && strcmp(c->units[i].who, who->unit) == 0)
			return &c->units[i];
	return NULL;
}

void audit_misuse_search_begin(const struct audit_misuse_config *c, const struct auth_principal *who,
			       const struct query_request *qr, uint64_t seq, int64_t now_ms)
{
	const struct audit_shift *shift;
	char buf[2 * QUERY_FIELD_MAX + 2];
	const char *flagged;
	long count = 0;
	bool rate = false;

	if (c == NULL)
		return;
	if (c->rate_per_minute > 0) {
		struct misuse_user *u;

		pthread_mutex_lock(&misuse_mu);
		u = audit_misuse_user(who->user, now_ms);
		if (u != NULL) {
			if (now_ms - u->window_start_ms >= 60000) {
				u->window_start_ms = now_ms;
				u->in_window = 0;
			}
			count = ++u->in_window;
			u->last_ms = now_ms;
			if (count > c->rate_per_minute && now_ms - u->rate_alerted_ms >= 60000) {
				u->rate_alerted_ms = now_ms;
				rate = true;
			}
		}
		pthread_mutex_unlock(&misuse_mu);
		if (rate)
			audit_misuse_alert("rate", who, seq,
					   json_pack("{s:I, s:I}", "searches_in_minute",
						     (json_int_t)count, "threshold",
						     (json_int_t)c->rate_per_minute));
	}
	if (c->nflagged > 0 && qr != NULL &&
	    (flagged = audit_misuse_flagged_query(c, qr, buf, sizeof(buf))) != NULL)
		audit_misuse_alert("flagged_person", who, seq,
				   json_pack("{s:s}", "subject", flagged));
	if ((shift = audit_misuse_shift_of(c, who)) != NULL) {
		time_t t = (time_t)(now_ms / 1000);
		struct tm tm;

		char hhmm[16];

		if (localtime_r(&t, &tm) != NULL &&
		    !audit_misuse_in_shift(shift, tm.tm_hour * 60 + tm.tm_min)) {
			snprintf(hhmm, sizeof(hhmm), "%02d:%02d", tm.tm_hour, tm.tm_min);
			audit_misuse_alert("outside_shift", who, seq,
					   json_pack("{s:s, s:s}", "shift_of", shift->who,
						     "local_time", hhmm));
		}
	}
}

void audit_misuse_search_end(const struct audit_misuse_config *c, const struct auth_principal *who,
			     size_t hits, uint64_t seq)
{
	struct misuse_user *u;
	long streak = 0;

	if (c == NULL || c->no_hit_streak <= 0)
		return;
	pthread_mutex_lock(&misuse_mu);
	u = audit_misuse_user(who->user, 0);
	if (u != NULL) {
		u->no_hits = hits > 0 ? 0 : u->no_hits + 1;
		streak = u->no_hits;
	}
	pthread_mutex_unlock(&misuse_mu);
	/* once per streak: when it reaches the threshold */
	if (streak == c->no_hit_streak)
		audit_misuse_alert("no_hits", who, seq,
				   json_pack("{s:I}", "searches_without_hit", (json_int_t)streak));
}
