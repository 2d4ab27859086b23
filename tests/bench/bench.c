/* bench.c -- conductor-bench: the fleet benchmark's load generator.
 *
 * Driven by tools/bench, which starts (or finds) a stack and prints the
 * summary. Modes, each printing one line `key value ...` for tools/bench:
 *   load N             queue N jobs in tenant `bench` (one INSERT ... SELECT)
 *   http C             C threads claim one job and ship it with one fenced
 *                      PATCH, through nginx, until the queue is empty
 *   sql C              the same claim and ship straight at PostgreSQL with C
 *                      threads: jobs_claim (the lock and the claim statement
 *                      in one transaction) and db_jobs_transition in one, the
 *                      very functions the routes call, with no HTTP or JSON
 *   batch C            claim max_jobs 32, ship all with one jobs:transition
 *   cost N F K         claim cost with N queued and F finished rows: time
 *                      per claim over K single claims
 * Environment: CONDUCTOR_URL, CONDUCTOR_DATABASE_URL, BENCH_TOKEN (worker).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "base/err.h"
#include "data/db.h"
#include "data/db_jobs.h"
#include "domain/jobs.h"

#define MAX_SAMPLES 2000000

static const char *db_url, *base_url, *token;
static int64_t tenant_id;
static double *claim_ms;		/* latency samples of claims */
static atomic_long nsamples, shipped;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "conductor-bench: %s\n", what);
	exit(1);
}

static PGconn *connect_db(void)
{
	PGconn *c = PQconnectdb(db_url);

	if (PQstatus(c) != CONNECTION_OK)
		die(PQerrorMessage(c));
	return c;
}

static void exec_sql(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die(PQresultErrorMessage(r));
	PQclear(r);
}

/* The bench tenant (created if absent); its id in tenant_id. */
static void find_tenant(void)
{
	PGconn *c = connect_db();
	PGresult *r;

	exec_sql(c, "INSERT INTO tenants (name) VALUES ('bench') ON CONFLICT DO NOTHING");
	r = PQexec(c, "SELECT id FROM tenants WHERE name = 'bench'");
	tenant_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
}

/* Queues n jobs and adds f finished (shipped) ones, then ANALYZE. */
static void load(long n, long f)
{
	PGconn *c = connect_db();
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO jobs (tenant_id, content_hash, stage, body, created_at)"
		 " SELECT %" PRId64 ", 'bench', 'queued', 'bench job ' || g,"
		 "        now() - make_interval(secs => %ld - g)"
		 "   FROM generate_series(1, %ld) g",
		 tenant_id, n, n);
	exec_sql(c, sql);
	if (f > 0) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO jobs (tenant_id, content_hash, stage, finished_at, lease_status)"
			 " SELECT %" PRId64 ", 'bench', 'shipped', now(), 'released'"
			 "   FROM generate_series(1, %ld) g",
			 tenant_id, f);
		exec_sql(c, sql);
	}
	exec_sql(c, "ANALYZE jobs");
	PQfinish(c);
}

static void reset_bench(void)
{
	PGconn *c = connect_db();
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "DELETE FROM runs WHERE tenant_id = %" PRId64 ";"
		 "DELETE FROM jobs WHERE tenant_id = %" PRId64 ";"
		 "DELETE FROM factories WHERE tenant_id = %" PRId64 ";",
		 tenant_id, tenant_id, tenant_id);
	exec_sql(c, sql);
	/* job_events refuses DELETE except to the retention pass's setting */
	snprintf(sql, sizeof(sql),
		 "BEGIN; SET LOCAL conductor.retention = 'on';"
		 " DELETE FROM job_events WHERE tenant_id = %" PRId64 "; COMMIT",
		 tenant_id);
	exec_sql(c, sql);
	exec_sql(c, "VACUUM ANALYZE jobs");
	PQfinish(c);
}

static void record(double ms)
{
	long i = atomic_fetch_add(&nsamples, 1);

	if (i < MAX_SAMPLES)
		claim_ms[i] = ms;
}

/* ---- HTTP client -------------------------------------------------------- */

struct sink {
	char *data;
	size_t len, cap;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;

	if (s->len + add + 1 > s->cap) {
		s->cap = (s->len + add + 1) * 2;
		s->data = realloc(s->data, s->cap);
	}
	memcpy(s->data + s->len, p, add);
	s->len += add;
	s->data[s->len] = '\0';
	return add;
}

struct client {
	CURL *c;
	struct curl_slist *h;
	struct sink s;
};

static void client_init(struct client *cl)
{
	char auth[128];

	memset(cl, 0, sizeof(*cl));
	cl->c = curl_easy_init();
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	cl->h = curl_slist_append(NULL, auth);
	cl->h = curl_slist_append(cl->h, "Content-Type: application/json");
	cl->h = curl_slist_append(cl->h, "Expect:");
	curl_easy_setopt(cl->c, CURLOPT_HTTPHEADER, cl->h);
	curl_easy_setopt(cl->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cl->c, CURLOPT_WRITEDATA, &cl->s);
	curl_easy_setopt(cl->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cl->c, CURLOPT_TCP_NODELAY, 1L);
}

static void client_free(struct client *cl)
{
	curl_slist_free_all(cl->h);
	curl_easy_cleanup(cl->c);
	free(cl->s.data);
}

static long call(struct client *cl, const char *method, const char *path, const char *body)
{
	char url[512];
	long status = 0;

	snprintf(url, sizeof(url), "%s%s", base_url, path);
	cl->s.len = 0;
	if (cl->s.data)
		cl->s.data[0] = '\0';
	curl_easy_setopt(cl->c, CURLOPT_URL, url);
	curl_easy_setopt(cl->c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(cl->c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(cl->c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(cl->c, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* Finds the next job of a claim answer from p: id and lease epoch.
 * job_json() writes "id" : "N" first and "lease" : {"epoch" : E ... */
static const char *next_job(const char *p, int64_t *id, int64_t *epoch)
{
	const char *i = strstr(p, "{\"id\" : \"");
	const char *e;

	if (i == NULL)
		return NULL;
	*id = strtoll(i + 9, NULL, 10);
	e = strstr(i, "\"epoch\" : ");
	if (e == NULL)
		return NULL;
	*epoch = strtoll(e + 10, NULL, 10);
	return e;
}

struct worker_arg {
	int index, batch;
};

static void *http_worker(void *p)
{
	struct worker_arg *a = p;
	struct client cl;
	char body[256], path[64];
	int empty = 0;

	client_init(&cl);
	while (empty < 2) {
		double t0 = now_s();
		int64_t id, epoch;
		const char *cur;
		long st;

		snprintf(body, sizeof(body), "{\"factory_id\":\"bench-%d\",\"max_jobs\":%d}", a->index,
			 a->batch);
		st = call(&cl, "POST", "/v1/fleet/claim", body);
		if (st != 200)
			die("claim failed");
		if (a->batch == 1)
			record((now_s() - t0) * 1e3);
		cur = cl.s.data;
		if ((cur = next_job(cur, &id, &epoch)) == NULL) {
			empty++;
			continue;
		}
		empty = 0;
		if (a->batch == 1) {
			snprintf(path, sizeof(path), "/v1/fleet/jobs/%" PRId64, id);
			snprintf(body, sizeof(body),
				 "{\"factory_id\":\"bench-%d\",\"lease_epoch\":%" PRId64
				 ",\"stage\":\"shipped\"}",
				 a->index, epoch);
			if (call(&cl, "PATCH", path, body) != 200)
				die("ship failed");
			atomic_fetch_add(&shipped, 1);
			continue;
		}
		/* batched: one transition request for every job claimed */
		{
			char *items = malloc(64 * 1024);
			size_t used = 0;
			int n = 0;

			used += (size_t)snprintf(items, 64 * 1024, "{\"items\":[");
			do {
				used += (size_t)snprintf(items + used, 64 * 1024 - used,
							 "%s{\"id\":\"%" PRId64 "\",\"factory_id\":\"bench-%d\","
							 "\"lease_epoch\":%" PRId64 ",\"stage\":\"shipped\"}",
							 n ? "," : "", id, a->index, epoch);
				n++;
			} while ((cur = next_job(cur, &id, &epoch)) != NULL);
			snprintf(items + used, 64 * 1024 - used, "]}");
			if (call(&cl, "POST", "/v1/fleet/jobs:transition", items) != 200)
				die("batched ship failed");
			atomic_fetch_add(&shipped, n);
			free(items);
		}
	}
	client_free(&cl);
	return NULL;
}

static void *sql_worker(void *p)
{
	struct worker_arg *a = p;
	char factory[32];
	struct cd_error e;
	struct db *db;
	int empty = 0;

	snprintf(factory, sizeof(factory), "bench-sql-%d", a->index);
	/* planned as conductor-fcgi plans them (request.c) */
	if (db_open(db_url, &db, &e) != CD_OK || db_use_generic_plans(db, &e) != CD_OK)
		die(e.message);
	while (empty < 2) {
		struct claim_request c = {factory, "[]", 1, 60};
		double t0 = now_s();
		char *out = NULL;
		int64_t id, epoch;
		int count;

		if (jobs_claim(db, tenant_id, &c, 0, &out, &count, &e) != CD_OK)
			die(e.message);
		record((now_s() - t0) * 1e3);
		if (count == 0) {
			empty++;
			free(out);
			continue;
		}
		empty = 0;
		next_job(out, &id, &epoch);
		free(out);
		{
			struct transition t = {.f = {id, factory, epoch, 0}, .stage = "shipped"};
			char items[512];

			snprintf(items, sizeof(items),
				 "[{\"ord\":0,\"id\":%" PRId64 ",\"factory_id\":\"%s\","
				 "\"lease_epoch\":%" PRId64 ",\"if_rev\":0,\"stage\":\"shipped\","
				 "\"sources\":[\"assigned\",\"building\",\"review\",\"testing\"]}]",
				 id, factory, epoch);
			if (db_begin(db, &e) != CD_OK ||
			    db_jobs_transition(db, tenant_id, items, &t, 1, true, &e) != CD_OK ||
			    t.rc != CD_OK || db_commit(db, &e) != CD_OK)
				die(t.rc != CD_OK ? t.err.message : e.message);
			free(t.state);
		}
		atomic_fetch_add(&shipped, 1);
	}
	db_close(db);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double q)
{
	long n = atomic_load(&nsamples);

	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	if (n == 0)
		return 0;
	return claim_ms[(long)(q * (double)(n - 1))];
}

static void run(void *(*fn)(void *), int threads, int batch, const char *label)
{
	pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
	struct worker_arg *args = calloc((size_t)threads, sizeof(*args));
	double t0 = now_s(), secs;
	long n;

	atomic_store(&nsamples, 0);
	atomic_store(&shipped, 0);
	for (int i = 0; i < threads; i++) {
		args[i] = (struct worker_arg){i, batch};
		pthread_create(&tids[i], NULL, fn, &args[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	secs = now_s() - t0;
	n = atomic_load(&nsamples);
	qsort(claim_ms, (size_t)(n > MAX_SAMPLES ? MAX_SAMPLES : n), sizeof(double), cmp_double);
	printf("%s jobs %ld secs %.3f jobs_per_s %.0f p50_ms %.3f p99_ms %.3f p999_ms %.3f\n", label,
	       atomic_load(&shipped), secs, (double)atomic_load(&shipped) / secs, pct(0.5),
	       pct(0.99), pct(0.999));
	free(tids);
	free(args);
}

/* Claim cost: k single claims (and ships) by one connection, time each. */
static void cost(long queued, long finished, int k)
{
	struct cd_error e;
	struct db *db;
	double total = 0;

	reset_bench();
	load(queued, finished);
	if (db_open(db_url, &db, &e) != CD_OK)
		die(e.message);
	for (int i = 0; i < k; i++) {
		struct claim_request c = {"bench-cost", "[]", 1, 60};
		char *out = NULL;
		int count;
		double t0 = now_s();

		if (jobs_claim(db, tenant_id, &c, 0, &out, &count, &e) != CD_OK || count != 1)
			die("cost claim failed");
		total += now_s() - t0;
		free(out);
	}
	db_close(db);
	printf("cost queued %ld finished %ld per_claim_ms %.4f\n", queued, finished, total * 1e3 / k);
}

int main(int argc, char **argv)
{
	db_url = getenv("CONDUCTOR_DATABASE_URL");
	base_url = getenv("CONDUCTOR_URL");
	token = getenv("BENCH_TOKEN");
	if (argc < 3 || db_url == NULL)
		die("usage: conductor-bench load N | http C | sql C | batch C | cost N F K | reset");
	claim_ms = calloc(MAX_SAMPLES, sizeof(double));
	curl_global_init(CURL_GLOBAL_ALL);
	find_tenant();
	if (strcmp(argv[1], "load") == 0) {
		reset_bench();
		load(atol(argv[2]), 0);
		printf("load jobs %ld\n", atol(argv[2]));
	} else if (strcmp(argv[1], "http") == 0 || strcmp(argv[1], "batch") == 0) {
		if (base_url == NULL || token == NULL)
			die("CONDUCTOR_URL and BENCH_TOKEN are required");
		run(http_worker, atoi(argv[2]), argv[1][0] == 'b' ? 32 : 1, argv[1]);
	} else if (strcmp(argv[1], "sql") == 0) {
		run(sql_worker, atoi(argv[2]), 1, "sql");
	} else if (strcmp(argv[1], "cost") == 0 && argc >= 5) {
		cost(atol(argv[2]), atol(argv[3]), atoi(argv[4]));
	} else {
		die("unknown mode");
	}
	free(claim_ms);
	curl_global_cleanup();
	return 0;
}
