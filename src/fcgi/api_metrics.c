/* api_metrics.c -- GET /metrics (DESIGN 8): the Prometheus text exposition
 * format, version 0.0.4.
 *
 * The answer is a list of sections, one per row of SECTIONS, each writing
 * whole metric families (HELP, TYPE, samples) with base/metrics.h's writer.
 * Counters are the sums of every process's flushed counts (README,
 * Metrics): the scrape flushes this process's own first, so what it just
 * counted shows. Jobs by stage come from a stored count at most
 * METRICS_JOBS_TTL_S old (data/db_metrics.h: no full walk of jobs per
 * scrape); conductor_jobs_count_age_seconds says how old.
 *
 * Scope: admin and metrics tokens see every tenant's jobs and workers; a
 * readonly token its own tenant's. Counters, streams, runtimes and timers are
 * the system's own and the same for every caller.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/json.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/pools.h"
#include "data/db_metrics.h"
#include "data/db_timers.h"
#include "data/stream.h"
#include "fcgi/api.h"
#include "fcgi/handler.h"
#include "fcgi/response.h"

#define METRICS_JOBS_TTL_S 10 /* the longest a job count is reused */
#define METRICS_MAX_BYTES (8 * 1024 * 1024)
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes its families into b. tenant: 0 for every tenant. */
typedef enum cd_err (*metrics_section_fn)(struct request *req, struct db *db, int64_t tenant,
					  struct buf *b, struct cd_error *e);

/* The database's JSON answer (rc and text from the call), parsed; frees
 * text. out: new; caller puts. */
static enum cd_err parse_answer(enum cd_err rc, char *text, struct json_object **out,
				struct cd_error *e)
{
	*out = NULL;
	if (rc == CD_OK && (*out = json_tokener_parse(text)) == NULL)
		rc = cd_fail(e, CD_INTERNAL, NULL, "the database answered JSON that does not parse");
	free(text);
	return rc;
}

/* Element i of array row, as a string ("" when absent). */
static const char *at(struct json_object *row, size_t i)
{
	const char *s = json_object_get_string(json_object_array_get_idx(row, i));

	return s != NULL ? s : "";
}

static double num_at(struct json_object *row, size_t i)
{
	return json_object_get_double(json_object_array_get_idx(row, i));
}

/* ---- sections -------------------------------------------------------------- */

/* conductor_jobs{tenant,stage} and the age of that count. */
static enum cd_err section_jobs(struct request *req, struct db *db, int64_t tenant,
				struct buf *b, struct cd_error *e)
{
	struct json_object *a, *rows;
	char *text = NULL;
	enum cd_err rc;

	(void)req;
	rc = db_metrics_jobs(db, tenant, METRICS_JOBS_TTL_S, &text, e);
	rc = parse_answer(rc, text, &a, e);
	if (rc != CD_OK)
		return rc;
	rows = json_object_object_get(a, "jobs");
	metrics_family(b, "conductor_jobs", "gauge",
		       "Jobs by tenant and stage, as counted at most 10 s ago.");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *l[4] = {"tenant", at(r, 0), "stage", at(r, 1)};

		metrics_sample(b, "conductor_jobs", l, 2, num_at(r, 2));
	}
	metrics_family(b, "conductor_jobs_count_age_seconds", "gauge",
		       "How old the conductor_jobs count is.");
	metrics_sample(b, "conductor_jobs_count_age_seconds", NULL, 0,
		       json_object_get_double(json_object_object_get(a, "age_s")));
	json_object_put(a);
	return CD_OK;
}

/* The value of the stored counter name (0 when never counted). */
static double counter_value(struct json_object *rows, const char *name)
{
	double v = 0;

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);

		if (strcmp(at(r, 0), name) == 0)
			v += num_at(r, 4);
	}
	return v;
}

/* The plain counters: one sample each, 0 until first counted. */
static const struct {
	const char *name, *help;
} PLAIN_COUNTERS[] = {
	{"conductor_claims_total", "Jobs handed to workers by claims."},
	{"conductor_jobs_shipped_total", "Jobs that reached the shipped stage."},
	{"conductor_leases_reaped_total", "Expired leases the reaper took back."},
};

/* The counters of every process: the plain ones, the requests by route
 * pattern and status, and the latency histogram by route pattern. */
static enum cd_err section_counters(struct request *req, struct db *db, int64_t tenant,
				    struct buf *b, struct cd_error *e)
{
	static const char H[] = "conductor_http_request_duration_seconds";
	struct json_object *rows;
	char *text = NULL;
	enum cd_err rc;
	size_t n;

	(void)req, (void)tenant;
	rc = db_metrics_counters(db, &text, e);
	rc = parse_answer(rc, text, &rows, e);
	if (rc != CD_OK)
		return rc;
	n = json_object_array_length(rows);
	for (size_t i = 0; i < sizeof(PLAIN_COUNTERS) / sizeof(PLAIN_COUNTERS[0]); i++) {
		metrics_family(b, PLAIN_COUNTERS[i].name, "counter", PLAIN_COUNTERS[i].help);
		metrics_sample(b, PLAIN_COUNTERS[i].name, NULL, 0,
			       counter_value(rows, PLAIN_COUNTERS[i].name));
	}
	metrics_family(b, "conductor_http_requests_total", "counter",
		       "HTTP requests by route pattern and status.");
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *l[4] = {"route", at(r, 1), "status", at(r, 2)};

		if (strcmp(at(r, 0), "conductor_http_requests_total") == 0)
			metrics_sample(b, "conductor_http_requests_total", l, 2, num_at(r, 4));
	}
	metrics_family(b, H, "histogram", "HTTP request latency by route pattern.");
	/* rows come by route, then le ascending with +Inf last: the +Inf bucket
	 * closes a route with its _sum and _count */
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *l[4] = {"route", at(r, 1), "le", at(r, 3)};
		double sum = 0;

		if (strcmp(at(r, 0), "conductor_http_request_duration_seconds_bucket") != 0)
			continue;
		metrics_sample(b, "conductor_http_request_duration_seconds_bucket", l, 2, num_at(r, 4));
		if (strcmp(at(r, 3), "+Inf") != 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			struct json_object *s = json_object_array_get_idx(rows, k);

			if (strcmp(at(s, 0), "conductor_http_request_duration_seconds_sum") == 0 &&
			    strcmp(at(s, 1), at(r, 1)) == 0)
				sum = num_at(s, 4);
		}
		metrics_sample(b, "conductor_http_request_duration_seconds_sum", l, 1, sum);
		metrics_sample(b, "conductor_http_request_duration_seconds_count", l, 1, num_at(r, 4));
	}
	json_object_put(rows);
	return CD_OK;
}

/* The stream gauges: name, help, and which of a stream's three numbers. */
static const struct {
	const char *name, *help;
} STREAM_GAUGES[] = {
	{"conductor_stream_depth", "Entries in each task stream (XLEN)."},
	{"conductor_stream_pending", "Entries delivered and not acknowledged, per task stream."},
	{"conductor_stream_oldest_pending_age_seconds",
	 "Age of the oldest entry delivered and not acknowledged, per task stream."},
};

#define NSTREAM_GAUGES (sizeof(STREAM_GAUGES) / sizeof(STREAM_GAUGES[0]))
#define STREAMS_MAX 64

/* The stream gauges of every configured stream (as GET /v1/status reads
 * them). Redis down: the families without samples (and a warning); the
 * rest of the scrape answers. */
static enum cd_err section_streams(struct request *req, struct db *db, int64_t tenant,
				   struct buf *b, struct cd_error *e)
{
	const struct config *cfg = req->w->cfg;
	char names[STREAMS_MAX][POOL_STREAM_MAX];
	long v[STREAMS_MAX][NSTREAM_GAUGES];
	struct stream_conn *rs = NULL;
	struct cd_error re;
	size_t n = 0;

	(void)db, (void)tenant, (void)e;
	cd_error_reset(&re);
	if (cfg->streams != NULL && cfg->streams[0] != '\0')
		rs = redis_or_null(req, &re);
	for (const char *p = cfg->streams; rs != NULL && p != NULL && *p != '\0' && n < STREAMS_MAX;) {
		size_t len = strcspn(p, ",");

		snprintf(names[n], sizeof(names[n]), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
		if (stream_len(rs, names[n], &v[n][0], &re) != CD_OK ||
		    stream_pending_age(rs, names[n], cfg->stream_group, &v[n][1], &v[n][2], &re) != CD_OK)
			break;
		n++;
	}
	if (re.err != CD_OK) {
		log_warn("metrics: streams not read", "error", re.message);
		n = 0;
	}
	for (size_t g = 0; g < NSTREAM_GAUGES; g++) {
		metrics_family(b, STREAM_GAUGES[g].name, "gauge", STREAM_GAUGES[g].help);
		for (size_t i = 0; i < n; i++) {
			const char *l[2] = {"stream", names[i]};

			metrics_sample(b, STREAM_GAUGES[g].name, l, 1, (double)v[i][g]);
		}
	}
	return CD_OK;
}

/* conductor_runtimes{pool,state} and conductor_workers{health}. */
static enum cd_err section_gauges(struct request *req, struct db *db, int64_t tenant,
				  struct buf *b, struct cd_error *e)
{
	struct json_object *a, *rows;
	char *text = NULL;
	enum cd_err rc;

	rc = db_metrics_gauges(db, tenant, req->w->cfg->factory_stale_s, &text, e);
	rc = parse_answer(rc, text, &a, e);
	if (rc != CD_OK)
		return rc;
	metrics_family(b, "conductor_runtimes", "gauge", "Live runtime instances by pool and state.");
	rows = json_object_object_get(a, "runtimes");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *l[4] = {"pool", at(r, 0), "state", at(r, 1)};

		metrics_sample(b, "conductor_runtimes", l, 2, num_at(r, 2));
	}
	metrics_family(b, "conductor_workers", "gauge",
		       "Workers by health (stale: ok but silent past the stale threshold).");
	rows = json_object_object_get(a, "workers");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *l[2] = {"health", at(r, 0)};

		metrics_sample(b, "conductor_workers", l, 1, num_at(r, 1));
	}
	json_object_put(a);
	return CD_OK;
}

/* conductor_leader{timer,state}: the running copies of each timer by leader
 * state, read with db_timers.h's rule (a silent copy is degraded); every
 * state of a known timer is written, 0 when no copy is in it. */
static enum cd_err section_leader(struct request *req, struct db *db, int64_t tenant,
				  struct buf *b, struct cd_error *e)
{
	static const char *const STATES[] = {"leader", "standby", "degraded"};
	struct json_object *rows;
	char *text = NULL;
	enum cd_err rc;
	size_t n;

	(void)req, (void)tenant;
	rc = db_timers_list(db, &text, e);
	rc = parse_answer(rc, text, &rows, e);
	if (rc != CD_OK)
		return rc;
	metrics_family(b, "conductor_leader", "gauge",
		       "Running copies of each timer (reaper, watcher) by leader state.");
	n = json_object_array_length(rows);
	for (size_t i = 0; i < n; i++) {
		const char *name = json_get_string(json_object_array_get_idx(rows, i), "name", "");
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(json_get_string(json_object_array_get_idx(rows, k), "name", ""), name) == 0;
		for (size_t s = 0; s < 3 && !seen; s++) {
			const char *l[4] = {"timer", name, "state", STATES[s]};
			double c = 0;

			for (size_t k = 0; k < n; k++) {
				struct json_object *t = json_object_array_get_idx(rows, k);

				if (strcmp(json_get_string(t, "name", ""), name) == 0 &&
				    strcmp(json_get_string(t, "state", ""), STATES[s]) == 0)
					c++;
			}
			metrics_sample(b, "conductor_leader", l, 2, c);
		}
	}
	json_object_put(rows);
	return CD_OK;
}

/* ---- the answer ------------------------------------------------------------ */

/* THE sections, in answer order. */
static const metrics_section_fn SECTIONS[] = {
	section_jobs, section_counters, section_streams, section_gauges, section_leader,
};

/* GET /metrics   role: metrics, readonly (admin)
 * The Prometheus text exposition (text/plain; version=0.0.4). 503 when
 * PostgreSQL is down. */
void api_metrics_get(struct request *req)
{
	int64_t tenant = req->principal.role == ROLE_ADMIN || req->principal.role == ROLE_METRICS
				 ? 0
				 : req->principal.tenant_id;
	struct buf b;
	enum cd_err rc = CD_OK;

	if (db_metrics_flush(req->db, &req->err) != CD_OK)
		log_warn("metrics: flush failed", "error", req->err.message);
	cd_error_reset(&req->err);
	buf_init(&b, METRICS_MAX_BYTES);
	for (size_t i = 0; i < sizeof(SECTIONS) / sizeof(SECTIONS[0]) && rc == CD_OK; i++)
		rc = SECTIONS[i](req, req->db, tenant, &b, &req->err);
	if (rc == CD_OK && buf_overflowed(&b))
		rc = cd_fail(&req->err, CD_INTERNAL, NULL, "the metrics answer passed %d bytes",
			     METRICS_MAX_BYTES);
	if (rc != CD_OK) {
		reply_error(req, &req->err);
	} else {
		buf_reset(&req->out);
		buf_append(&req->out, buf_str(&b), strlen(buf_str(&b)));
		req->status = 200;
		req->out_type = METRICS_TYPE;
	}
	buf_reset(&b);
}
