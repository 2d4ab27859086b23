/* test_metrics.c -- GET /metrics (DESIGN 8) through nginx, against the stack
 * tests/http/run-integration starts (after the other suites).
 *
 * Every scrape is checked by a strict parser of the text exposition format
 * (version 0.0.4) written here: each line is a comment (# HELP / # TYPE) or
 * `name{label="value",...} value`; names and label names are valid, label
 * values use only the escapes \\ \" \n, each family has one TYPE before its
 * samples and its samples are contiguous, a histogram's buckets are
 * cumulative with le ascending and +Inf equal to its _count.
 *
 * Covers: the format and Content-Type; claims, ships and requests counted
 * (per route pattern, never a raw id; unmatched paths under one label);
 * counts of another process (rows as its flush would add) summed; the
 * metrics role reads /metrics and nothing else; readonly sees its tenant's
 * jobs only, a metrics token every tenant's; the job count's age; timers'
 * leader states (a silent copy degraded); the stream gauges equal to what
 * GET /v1/status reads; no counter goes down when the worker is killed and
 * started again.
 *
 * METRICS_ONLY=name[,name] runs only those tests.
 */
#include <ctype.h>
#include <signal.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"

static char *metrics_token; /* a token of the metrics role */

/* ---- the strict parser ----------------------------------------------------- */

#define MAX_SAMPLES 20000
#define MAX_FAMILIES 64

struct sample {
	char name[128];
	char labels[512]; /* decoded, "k=v;k=v" in the order written */
	double value;
};

struct exposition {
	struct sample *s;
	size_t n;
	char family[MAX_FAMILIES][128];
	char type[MAX_FAMILIES][16];
	size_t nfam;
	char error[1024]; /* "" when it parsed */
};

static bool name_ok(const char *s, size_t n, bool colon)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || (colon && s[0] == ':')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || (colon && s[i] == ':')))
			return false;
	return true;
}

static bool value_ok(const char *s, double *out)
{
	char *end;

	if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0 || strcmp(s, "NaN") == 0) {
		*out = strcmp(s, "NaN") == 0 ? NAN : s[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	if (*s == '\0' || isspace((unsigned char)*s))
		return false;
	*out = strtod(s, &end);
	return *end == '\0' && !isinf(*out) && !isnan(*out);
}

static int family_of(struct exposition *x, const char *name)
{
	for (size_t i = 0; i < x->nfam; i++)
		if (strcmp(x->family[i], name) == 0)
			return (int)i;
	return -1;
}

/* The family a sample belongs to: itself, or a histogram's base name. */
static int sample_family(struct exposition *x, const char *name)
{
	static const char *const SUFFIXES[] = {"_bucket", "_sum", "_count"};
	int f = family_of(x, name);

	if (f >= 0)
		return f;
	for (size_t k = 0; k < 3; k++) {
		size_t n = strlen(name), m = strlen(SUFFIXES[k]);
		char base[128];

		if (n > m && strcmp(name + n - m, SUFFIXES[k]) == 0) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - m), name);
			f = family_of(x, base);
			if (f >= 0 && strcmp(x->type[f], "histogram") == 0)
				return f;
		}
	}
	return -1;
}

/* One sample line into x->s[x->n]; false with x->error set. */
static bool parse_sample(struct exposition *x, const char *line)
{
	struct sample *s = &x->s[x->n];
	const char *p = line, *q;
	size_t o = 0;

	while (*p != '\0' && *p != '{' && *p != ' ')
		p++;
	if (!name_ok(line, (size_t)(p - line), true) || (size_t)(p - line) >= sizeof(s->name))
		return snprintf(x->error, sizeof(x->error), "bad metric name: %s", line), false;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)(p - line), line);
	s->labels[0] = '\0';
	if (*p == '{') {
		p++;
		while (*p != '}') {
			q = p;
			while (*p != '\0' && *p != '=')
				p++;
			if (!name_ok(q, (size_t)(p - q), false) || p[0] != '=' || p[1] != '"')
				return snprintf(x->error, sizeof(x->error), "bad label: %s", line), false;
			o += (size_t)snprintf(s->labels + o, sizeof(s->labels) - o, "%s%.*s=",
					      o ? ";" : "", (int)(p - q), q);
			for (p += 2; *p != '"'; p++) {
				char c = *p;

				if (c == '\0' || c == '\n')
					return snprintf(x->error, sizeof(x->error), "open label: %s",
							line), false;
				if (c == '\\') {
					p++;
					if (*p != '\\' && *p != '"' && *p != 'n')
						return snprintf(x->error, sizeof(x->error),
								"bad escape: %s", line), false;
					c = *p == 'n' ? '\n' : *p;
				}
				if (o + 2 < sizeof(s->labels))
					s->labels[o++] = c;
			}
			s->labels[o] = '\0';
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return snprintf(x->error, sizeof(x->error), "bad label list: %s", line),
				       false;
		}
		p++;
	}
	if (*p != ' ' || !value_ok(p + 1, &s->value))
		return snprintf(x->error, sizeof(x->error), "bad value: %s", line), false;
	return true;
}

/* The label k of s into out ("" when absent). */
static const char *label(const struct sample *s, const char *k, char *out, size_t cap)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "%s=", k);
	out[0] = '\0';
	for (p = s->labels; p != NULL && *p != '\0'; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
		if (strncmp(p, key, strlen(key)) == 0) {
			snprintf(out, cap, "%.*s", (int)strcspn(p + strlen(key), ";"), p + strlen(key));
			break;
		}
	return out;
}

/* s's labels without le: the series a histogram sample belongs to. */
static void series_of(const struct sample *s, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (const char *p = s->labels; *p != '\0';) {
		size_t n = strcspn(p, ";");

		if (strncmp(p, "le=", 3) != 0 && o < cap)
			o += (size_t)snprintf(out + o, cap - o, "%.*s;", (int)n, p);
		p += n + (p[n] == ';');
	}
}

/* name ends with suffix, with something before it. */
static bool ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	return n > m && strcmp(name + n - m, suffix) == 0;
}

/* Every histogram series: le ascending, counts not decreasing, +Inf last and
 * equal to its _count, and a _sum. */
static bool check_histograms(struct exposition *x)
{
	for (size_t i = 0; i < x->n; i++) {
		char series[512], other[512], le[32];
		double last_le = -INFINITY, last = 0, count = -1;
		bool inf = false, sum = false, first = true;
		int f = sample_family(x, x->s[i].name);

		if (strcmp(x->type[f], "histogram") != 0 || !ends_with(x->s[i].name, "_bucket"))
			continue;
		series_of(&x->s[i], series, sizeof(series));
		for (size_t k = 0; k < i && first; k++) /* checked with the first of its series */
			if (sample_family(x, x->s[k].name) == f && ends_with(x->s[k].name, "_bucket")) {
				series_of(&x->s[k], other, sizeof(other));
				first = strcmp(other, series) != 0;
			}
		if (!first)
			continue;
		for (size_t k = i; k < x->n; k++) {
			const struct sample *s = &x->s[k];
			double b;

			if (sample_family(x, s->name) != f)
				continue;
			series_of(s, other, sizeof(other));
			if (strcmp(other, series) != 0)
				continue;
			if (ends_with(s->name, "_bucket")) {
				label(s, "le", le, sizeof(le));
				if (!value_ok(le, &b) || b <= last_le || s->value < last || inf)
					return snprintf(x->error, sizeof(x->error),
							"histogram %s{%s} not cumulative at le %s",
							x->family[f], series, le), false;
				last_le = b;
				last = s->value;
				inf = isinf(b);
			} else if (ends_with(s->name, "_count")) {
				count = s->value;
			} else if (ends_with(s->name, "_sum")) {
				sum = true;
			}
		}
		if (!inf || count != last || !sum)
			return snprintf(x->error, sizeof(x->error),
					"histogram %s{%s}: +Inf %s, _count %g vs %g, _sum %s",
					x->family[f], series, inf ? "present" : "missing", count, last,
					sum ? "present" : "missing"), false;
	}
	return true;
}

/* Parses text strictly. x->error is "" when it is a valid exposition. */
static void parse(const char *text, struct exposition *x)
{
	char *copy = strdup(text), *save = NULL;
	int current = -1;
	bool closed[MAX_FAMILIES] = {false};

	memset(x, 0, sizeof(*x));
	x->s = calloc(MAX_SAMPLES, sizeof(*x->s));
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		snprintf(x->error, sizeof(x->error), "the last line has no newline");
	for (char *line = strtok_r(copy, "\n", &save); line != NULL && x->error[0] == '\0';
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[16], extra[8];
		int f;

		if (strncmp(line, "# HELP ", 7) == 0) {
			if (sscanf(line + 7, "%127s", name) != 1 || !name_ok(name, strlen(name), true))
				snprintf(x->error, sizeof(x->error), "bad HELP: %s", line);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			if (sscanf(line + 7, "%127s %15s %7s", name, type, extra) != 2 ||
			    (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram") &&
			     strcmp(type, "summary") && strcmp(type, "untyped")))
				snprintf(x->error, sizeof(x->error), "bad TYPE: %s", line);
			else if (family_of(x, name) >= 0)
				snprintf(x->error, sizeof(x->error), "second TYPE for %s", name);
			else if (x->nfam < MAX_FAMILIES) {
				snprintf(x->family[x->nfam], sizeof(x->family[0]), "%s", name);
				snprintf(x->type[x->nfam++], sizeof(x->type[0]), "%s", type);
			}
			continue;
		}
		if (line[0] == '#')
			continue;
		if (x->n >= MAX_SAMPLES || !parse_sample(x, line))
			break;
		f = sample_family(x, x->s[x->n].name);
		if (f < 0) {
			snprintf(x->error, sizeof(x->error), "sample without a TYPE: %s", line);
			break;
		}
		if (f != current) {
			if (closed[f]) {
				snprintf(x->error, sizeof(x->error), "family %s not contiguous", x->family[f]);
				break;
			}
			if (current >= 0)
				closed[current] = true;
			current = f;
		}
		x->n++;
	}
	if (x->error[0] == '\0')
		check_histograms(x);
	free(copy);
}

/* The sum of the samples named name whose labels contain every "k=v" of
 * want (";"-separated; "" for any). -1 when none. */
static double value_of(const struct exposition *x, const char *name, const char *want)
{
	double v = -1;

	for (size_t i = 0; i < x->n; i++) {
		char w[256], *save = NULL;
		bool all = strcmp(x->s[i].name, name) == 0;

		snprintf(w, sizeof(w), "%s", want);
		for (char *kv = strtok_r(w, ";", &save); kv != NULL && all; kv = strtok_r(NULL, ";", &save)) {
			char k[64], got[256];

			snprintf(k, sizeof(k), "%.*s", (int)strcspn(kv, "="), kv);
			all = strcmp(label(&x->s[i], k, got, sizeof(got)), kv + strlen(k) + 1) == 0;
		}
		if (all)
			v = (v < 0 ? 0 : v) + x->s[i].value;
	}
	return v;
}

/* GET /metrics with token; asserts 200, the Content-Type and that it parses. */
#define SCRAPE(tok, x) scrape_at((tok), (x), __LINE__)
static void scrape_at(const char *token, struct exposition *x, int line)
{
	struct http_resp r = call("GET", "/metrics", token, NULL, NULL);

	expect_status_at(&r, 200, __FILE__, line);
	CHECK_AT(strncmp(r.content_type, "text/plain; version=0.0.4", 25) == 0, line,
		 "Content-Type text/plain; version=0.0.4");
	parse(r.body != NULL ? r.body : "", x);
	if (x->error[0] != '\0')
		fprintf(stderr, "\n  line %d: the scrape does not parse: %s\n", line, x->error);
	CHECK_AT(x->error[0] == '\0', line, "the scrape parses as the exposition format");
	http_resp_free(&r);
}

static void done(struct exposition *x)
{
	free(x->s);
	x->s = NULL;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_parser_refuses_what_is_not_the_format(void)
{
	static const char *const BAD[] = {
		"x 1\n",							    /* no TYPE */
		"# TYPE x gauge\nx{a=\"b} 1\n",					    /* open label */
		"# TYPE x gauge\nx{a=\"\\t\"} 1\n",				    /* bad escape */
		"# TYPE x gauge\nx{1a=\"b\"} 1\n",				    /* bad label name */
		"# TYPE x gauge\nx one\n",					    /* bad value */
		"# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx 2\n",		    /* not contiguous */
		"# TYPE x gauge\n# TYPE x gauge\n",				    /* second TYPE */
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
		"h_sum 1\nh_count 1\n",						    /* not cumulative */
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 2\n"
		"h_sum 1\nh_count 3\n",						    /* +Inf != count */
		"# TYPE x gauge\nx 1",						    /* no newline */
	};
	struct exposition x;

	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		parse(BAD[i], &x);
		if (x.error[0] == '\0')
			fprintf(stderr, "\n  accepted: %s\n", BAD[i]);
		CU_ASSERT(x.error[0] != '\0');
		done(&x);
	}
	parse("# HELP h a\n# TYPE h histogram\nh_bucket{r=\"a\\\"\\n\",le=\"1\"} 1\n"
	      "h_bucket{r=\"a\\\"\\n\",le=\"+Inf\"} 2\nh_sum{r=\"a\\\"\\n\"} 0.5\n"
	      "h_count{r=\"a\\\"\\n\"} 2\n", &x);
	CU_ASSERT_STRING_EQUAL(x.error, "");
	done(&x);
}

static void test_scrape_parses_with_every_family(void)
{
	static const char *const FAMILIES[][2] = {
		{"conductor_jobs", "gauge"},
		{"conductor_claims_total", "counter"},
		{"conductor_jobs_shipped_total", "counter"},
		{"conductor_http_requests_total", "counter"},
		{"conductor_http_request_duration_seconds", "histogram"},
		{"conductor_leases_reaped_total", "counter"},
		{"conductor_stream_depth", "gauge"},
		{"conductor_stream_pending", "gauge"},
		{"conductor_runtimes", "gauge"},
		{"conductor_workers", "gauge"},
		{"conductor_leader", "gauge"},
	};
	struct exposition x;

	SCRAPE(metrics_token, &x);
	for (size_t i = 0; i < sizeof(FAMILIES) / sizeof(FAMILIES[0]); i++) {
		int f = family_of(&x, FAMILIES[i][0]);

		if (f < 0)
			fprintf(stderr, "\n  no family %s\n", FAMILIES[i][0]);
		CU_ASSERT_FATAL(f >= 0);
		CU_ASSERT_STRING_EQUAL(x.type[f], FAMILIES[i][1]);
	}
	CU_ASSERT(x.n > 0);
	done(&x);
}

static void test_claims_and_ships_counted(void)
{
	struct tenant *t = tenant_new("count");
	struct exposition x;
	struct claimed c;
	double claims, shipped;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SCRAPE(metrics_token, &x);
	claims = value_of(&x, "conductor_claims_total", "");
	shipped = value_of(&x, "conductor_jobs_shipped_total", "");
	done(&x);
	for (int i = 0; i < 3; i++) {
		r = call("POST", "/v1/fleet/jobs", t->submitter, "{\"body\":\"m\"}", NULL);
		EXPECT_STATUS(r, 201);
		http_resp_free(&r);
	}
	r = call("POST", "/v1/fleet/claim", t->worker,
		 "{\"factory_id\":\"f-m\",\"max_jobs\":3,\"lease_ttl_s\":600}", NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_EQUAL_FATAL(claimed_of(&r, "f-m", &c, __FILE__, __LINE__), 3);
	http_resp_free(&r);
	for (int i = 0; i < 2; i++) {
		char *path = fmt("/v1/fleet/jobs/%s", c.id[i]);

		r = callf("PATCH", path, t->worker,
			  "{\"factory_id\":\"f-m\",\"lease_epoch\":%" PRId64 ",\"stage\":\"shipped\"}",
			  c.epoch[i]);
		EXPECT_STATUS(r, 200);
		http_resp_free(&r);
		free(path);
	}
	SCRAPE(metrics_token, &x);
	EXPECT_INT((int64_t)value_of(&x, "conductor_claims_total", ""), (int64_t)claims + 3);
	EXPECT_INT((int64_t)value_of(&x, "conductor_jobs_shipped_total", ""), (int64_t)shipped + 2);
	done(&x);
}

static void test_requests_counted_by_route_pattern(void)
{
	struct tenant *t = tenant_new("routes");
	struct exposition x;
	double got, missing, h;
	struct http_resp r;
	char id[IDLEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	r = call("POST", "/v1/fleet/jobs", t->submitter, "{\"body\":\"m\"}", NULL);
	EXPECT_STATUS(r, 201);
	snprintf(id, sizeof(id), "%s", str_at(obj_at(data_of(&r), "job"), "id"));
	http_resp_free(&r);
	SCRAPE(metrics_token, &x);
	got = value_of(&x, "conductor_http_requests_total", "route=/v1/fleet/jobs/{id};status=200");
	missing = value_of(&x, "conductor_http_requests_total", "route=unmatched;status=404");
	h = value_of(&x, "conductor_http_request_duration_seconds_count", "route=/v1/fleet/jobs/{id}");
	done(&x);
	for (int i = 0; i < 4; i++) {
		char *path = fmt("/v1/fleet/jobs/%s", id);

		r = call("GET", path, t->reader, NULL, NULL);
		EXPECT_STATUS(r, 200);
		http_resp_free(&r);
		free(path);
	}
	r = call("GET", "/v1/no-such-route-98765", t->reader, NULL, NULL);
	EXPECT_STATUS(r, 404);
	http_resp_free(&r);
	SCRAPE(metrics_token, &x);
	EXPECT_INT((int64_t)value_of(&x, "conductor_http_requests_total",
				     "route=/v1/fleet/jobs/{id};status=200"),
		   (int64_t)(got < 0 ? 0 : got) + 4);
	EXPECT_INT((int64_t)value_of(&x, "conductor_http_requests_total", "route=unmatched;status=404"),
		   (int64_t)(missing < 0 ? 0 : missing) + 1);
	EXPECT_INT((int64_t)value_of(&x, "conductor_http_request_duration_seconds_count",
				     "route=/v1/fleet/jobs/{id}"),
		   (int64_t)(h < 0 ? 0 : h) + 4);
	/* no raw path in any label: no job id, no unmatched path */
	for (size_t i = 0; i < x.n; i++) {
		char route[256];

		label(&x.s[i], "route", route, sizeof(route));
		CU_ASSERT_PTR_NULL(strstr(route, id));
		CU_ASSERT_PTR_NULL(strstr(route, "98765"));
	}
	done(&x);
}

static void test_counts_of_other_processes_summed(void)
{
	struct exposition x;
	double before;

	SCRAPE(metrics_token, &x);
	before = value_of(&x, "conductor_leases_reaped_total", "");
	done(&x);
	/* what another process's flush adds (data/db_metrics.c) */
	CU_ASSERT_EQUAL(pg_cmd(NULL, "INSERT INTO metrics_counters AS m (name, value)"
				     " VALUES ('conductor_leases_reaped_total', 7)"
				     " ON CONFLICT (name, route, status, le)"
				     " DO UPDATE SET value = m.value + 7", NULL), 1);
	SCRAPE(metrics_token, &x);
	EXPECT_INT((int64_t)value_of(&x, "conductor_leases_reaped_total", ""), (int64_t)before + 7);
	done(&x);
}

static void test_metrics_role_reads_metrics_only(void)
{
	static const char *const ELSEWHERE[][2] = {
		{"GET", "/v1/whoami"},	   {"GET", "/v1/status"},
		{"GET", "/v1/fleet/jobs"}, {"GET", "/v1/system/state"},
		{"POST", "/v1/fleet/claim"},
	};
	struct tenant *t = tenant_new("roles");
	struct exposition x;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t i = 0; i < sizeof(ELSEWHERE) / sizeof(ELSEWHERE[0]); i++) {
		r = call(ELSEWHERE[i][0], ELSEWHERE[i][1], metrics_token,
			 strcmp(ELSEWHERE[i][0], "POST") == 0 ? "{}" : NULL, NULL);
		EXPECT_ERROR(r, 403, "forbidden");
		http_resp_free(&r);
	}
	SCRAPE(t->reader, &x); /* readonly reads it too */
	done(&x);
	r = call("GET", "/metrics", t->worker, NULL, NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("GET", "/metrics", t->submitter, NULL, NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("GET", "/metrics", NULL, NULL, NULL);
	EXPECT_STATUS(r, 401);
	http_resp_free(&r);
}

static void test_jobs_by_tenant_and_stage(void)
{
	struct tenant *a = tenant_new("jobs-a"), *b = tenant_new("jobs-b");
	struct exposition x;
	struct http_resp r;
	char *want;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (int i = 0; i < 2; i++) {
		r = call("POST", "/v1/fleet/jobs", a->submitter, "{\"body\":\"m\"}", NULL);
		EXPECT_STATUS(r, 201);
		http_resp_free(&r);
	}
	r = call("POST", "/v1/fleet/jobs", b->submitter, "{\"body\":\"m\"}", NULL);
	EXPECT_STATUS(r, 201);
	http_resp_free(&r);
	/* the stored count is fresh: a new job waits for the next recount */
	CU_ASSERT_EQUAL(pg_cmd(NULL, "UPDATE metrics_jobs_counted SET counted_at = now()", NULL), 1);
	SCRAPE(metrics_token, &x);
	want = fmt("tenant=%s;stage=queued", a->name);
	CU_ASSERT(value_of(&x, "conductor_jobs", want) < 2);
	done(&x);
	/* due: recounted */
	CU_ASSERT_EQUAL(pg_cmd(NULL, "UPDATE metrics_jobs_counted SET counted_at = '-infinity'", NULL), 1);
	SCRAPE(metrics_token, &x);
	EXPECT_INT((int64_t)value_of(&x, "conductor_jobs", want), 2);
	EXPECT_INT((int64_t)value_of(&x, "conductor_jobs_count_age_seconds", ""), 0);
	free(want);
	want = fmt("tenant=%s;stage=queued", b->name);
	EXPECT_INT((int64_t)value_of(&x, "conductor_jobs", want), 1);
	done(&x);
	/* readonly of b: b's jobs, never a's */
	SCRAPE(b->reader, &x);
	EXPECT_INT((int64_t)value_of(&x, "conductor_jobs", want), 1);
	free(want);
	want = fmt("tenant=%s", a->name);
	CU_ASSERT(value_of(&x, "conductor_jobs", want) < 0);
	for (size_t i = 0; i < x.n; i++) {
		char tn[128];

		if (strcmp(x.s[i].name, "conductor_jobs") == 0)
			EXPECT_STR(label(&x.s[i], "tenant", tn, sizeof(tn)), b->name);
	}
	free(want);
	done(&x);
}

static void test_leader_states_of_timers(void)
{
	struct exposition x;

	CU_ASSERT_EQUAL(pg_cmd(NULL, "INSERT INTO timers (name, holder_id, host, state, term,"
				     " stale_after_s) VALUES ('metrics-t', 'h1', 'h', 'leader', 1, 60),"
				     " ('metrics-t', 'h2', 'h', 'standby', 1, 60),"
				     " ('metrics-t', 'h3', 'h', 'standby', 1, 60)", NULL), 3);
	/* h3 silent past its stale time: degraded, whatever it last said */
	CU_ASSERT_EQUAL(pg_cmd(NULL, "UPDATE timers SET updated_at = now() - interval '1 hour'"
				     " WHERE name = 'metrics-t' AND holder_id = 'h3'", NULL), 1);
	SCRAPE(metrics_token, &x);
	EXPECT_INT((int64_t)value_of(&x, "conductor_leader", "timer=metrics-t;state=leader"), 1);
	EXPECT_INT((int64_t)value_of(&x, "conductor_leader", "timer=metrics-t;state=standby"), 1);
	EXPECT_INT((int64_t)value_of(&x, "conductor_leader", "timer=metrics-t;state=degraded"), 1);
	done(&x);
	pg_cmd(NULL, "DELETE FROM timers WHERE name = 'metrics-t'", NULL);
}

/* A conductor-reaper pass (another process) counts the leases it expires:
 * its counts reach the scrape through PostgreSQL. */
static void test_leases_reaped_counted_by_the_reaper(void)
{
	struct tenant *t = tenant_new("reaped");
	const char *reaper = getenv("CONDUCTOR_REAPER");
	struct exposition x;
	struct claimed c;
	struct http_resp r;
	double before;
	char *cmd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reaper);
	r = call("POST", "/v1/fleet/jobs", t->submitter, "{\"body\":\"m\"}", NULL);
	EXPECT_STATUS(r, 201);
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/claim", t->worker,
		 "{\"factory_id\":\"f-r\",\"max_jobs\":1,\"lease_ttl_s\":600}", NULL);
	CU_ASSERT_EQUAL_FATAL(claimed_of(&r, "f-r", &c, __FILE__, __LINE__), 1);
	http_resp_free(&r);
	SCRAPE(metrics_token, &x);
	before = value_of(&x, "conductor_leases_reaped_total", "");
	done(&x);
	CU_ASSERT_EQUAL(pg_cmd(NULL, "UPDATE jobs SET lease_expires_at = now() - interval '1 minute'"
				     " WHERE id = $1", c.id[0], NULL), 1);
	/* a reaper of an earlier suite may still hold the lease: this pass leads */
	pg_cmd(NULL, "UPDATE leader_leases SET lease_expires_at = now() - interval '1 second'"
		     " WHERE tenant_id = 0 AND name = 'reaper'", NULL);
	cmd = fmt("'%s' --once >/dev/null 2>&1", reaper);
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(cmd);
	SCRAPE(metrics_token, &x);
	CU_ASSERT(value_of(&x, "conductor_leases_reaped_total", "") >= before + 1);
	done(&x);
}

/* The pid in the stack's run/fcgi-worker.pid; 0 when none. */
static long worker_pid(void)
{
	char *path = fmt("%s/run/fcgi-worker.pid", getenv("CONDUCTOR_STACK_DIR"));
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (f == NULL || fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	if (f != NULL)
		fclose(f);
	free(path);
	return pid;
}

/* Counters are sums in PostgreSQL: a worker killed (SIGKILL) and started
 * again by its supervisor starts counting from zero, and no counter of the
 * scrape goes down. */
static void test_counters_survive_a_restart(void)
{
	struct exposition a, b;
	long old = worker_pid();
	int compared = 0;

	CU_ASSERT_FATAL(getenv("CONDUCTOR_STACK_DIR") != NULL && old > 0);
	SCRAPE(metrics_token, &a); /* this process's counts flushed */
	CU_ASSERT_EQUAL_FATAL(kill((pid_t)old, SIGKILL), 0);
	for (int i = 0; i < 250 && (worker_pid() == old || worker_pid() == 0); i++)
		usleep(20000);
	for (int i = 0; i < 250; i++) {
		struct http_resp r = call("GET", "/healthz", NULL, NULL, NULL);
		bool up = r.status == 200;

		http_resp_free(&r);
		if (up)
			break;
		usleep(20000);
	}
	CU_ASSERT_NOT_EQUAL(worker_pid(), old);
	SCRAPE(metrics_token, &b);
	for (size_t i = 0; i < a.n; i++) {
		int f = sample_family(&a, a.s[i].name);
		double after = -1;

		if (strcmp(a.type[f], "counter") != 0 && strcmp(a.type[f], "histogram") != 0)
			continue;
		for (size_t k = 0; k < b.n; k++)
			if (strcmp(b.s[k].name, a.s[i].name) == 0 &&
			    strcmp(b.s[k].labels, a.s[i].labels) == 0)
				after = b.s[k].value;
		if (after < a.s[i].value)
			fprintf(stderr, "\n  %s{%s}: %g before the restart, %g after\n", a.s[i].name,
				a.s[i].labels, a.s[i].value, after);
		CU_ASSERT(after >= a.s[i].value);
		compared++;
	}
	CU_ASSERT(compared > 10);
	done(&a);
	done(&b);
}

/* The stream gauges say what GET /v1/status says of each configured stream
 * (run-integration gives conductor-fcgi two). */
static void test_streams_as_status_reads_them(void)
{
	struct tenant *t = tenant_new("streams");
	struct json_object *items;
	struct exposition x;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	r = call("GET", "/v1/status", t->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	items = obj_at(obj_at(data_of(&r), "streams"), "items");
	CU_ASSERT(len_of(items) >= 2);
	SCRAPE(metrics_token, &x);
	for (size_t i = 0; i < len_of(items); i++) {
		struct json_object *it = item_at(items, i);
		char *want = fmt("stream=%s", str_at(it, "stream"));

		EXPECT_INT((int64_t)value_of(&x, "conductor_stream_depth", want), int_at(it, "depth"));
		EXPECT_INT((int64_t)value_of(&x, "conductor_stream_pending", want),
			   int_at(it, "pending"));
		CU_ASSERT(value_of(&x, "conductor_stream_oldest_pending_age_seconds", want) >= 0);
		free(want);
	}
	done(&x);
	http_resp_free(&r);
}

static CU_TestInfo TESTS[] = {
	{"parser_refuses_what_is_not_the_format", test_parser_refuses_what_is_not_the_format},
	{"scrape_parses_with_every_family", test_scrape_parses_with_every_family},
	{"claims_and_ships_counted", test_claims_and_ships_counted},
	{"requests_counted_by_route_pattern", test_requests_counted_by_route_pattern},
	{"counts_of_other_processes_summed", test_counts_of_other_processes_summed},
	{"metrics_role_reads_metrics_only", test_metrics_role_reads_metrics_only},
	{"jobs_by_tenant_and_stage", test_jobs_by_tenant_and_stage},
	{"leader_states_of_timers", test_leader_states_of_timers},
	{"streams_as_status_reads_them", test_streams_as_status_reads_them},
	{"counters_survive_a_restart", test_counters_survive_a_restart},
	{"leases_reaped_counted_by_the_reaper", test_leases_reaped_counted_by_the_reaper},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite metrics = {.name = "metrics", .tenant_prefix = "met"};
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "token create --role metrics --name metrics-%d", (int)getpid());
	metrics_token = ctl_run(name);
	if (metrics_token == NULL) {
		fprintf(stderr, "test_metrics: conductorctl could not create a metrics token\n");
		return 1;
	}
	rc = suite_run(&metrics, TESTS);
	free(metrics_token);
	return rc;
}
