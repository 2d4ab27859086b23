/* bench.c -- conductor-bench: the fleet benchmark's load generator.
 *
 * Driven by tools/bench, which starts (or finds) a stack and prints the
 * summary. Modes, each printing one line `key value ...` for tools/bench:
 *   load N             queue N jobs in tenant `bench` (one INSERT ... SELECT)
 *   http C             C threads claim one job and ship it with one fenced
 *                      PATCH, through nginx, until the queue is empty
 *   sql C              the same claim and ship straight at PostgreSQL with C
 *                      threads: jobs_claim (the lock and the claim statement
 *                      in one transaction) and db_leases_transition in one, the
 *                      very functions the routes call, with no HTTP or JSON
 *   batch C            claim max_jobs 32, ship all with one jobs:transition
 *   batch-sql C        the batched ceiling: jobs_claim with max_jobs 32 and
 *                      jobs_transition_many over what it got, straight at
 *                      PostgreSQL with C threads (what batch's routes call)
 *   cost N F K         claim cost with N queued and F finished rows: time
 *                      per claim over K single claims
 *   metrics N K        GET /metrics with N queued jobs (BENCH_METRICS_TOKEN):
 *                      K scrapes that find the job count fresh (the usual
 *                      scrape), K that recount it (one per 10 s at most)
 *   poll C S W         C threads long-poll claims (wait_ms W) on an empty
 *                      queue for S seconds, through nginx, each honouring
 *                      the answer's Retry-After: the claim rate of clients
 *                      past CONDUCTOR_CLAIM_WAIT_MAX
 *   floor C B          the physical floor (tools/bench --floor): on a lean
 *                      table of its own (schema bench_floor: one jobs table,
 *                      one partial index for the claim), C connections claim
 *                      B jobs with SKIP LOCKED and complete them with one
 *                      fenced UPDATE, durably, until the queue is empty
 *   routing R S        result routing latency: R results a second for S
 *                      seconds through a router thread (domain/routing.c),
 *                      each timed from its XADD to its arrival in its app's
 *                      stream; needs CONDUCTOR_REDIS_URL only
 * Environment: CONDUCTOR_URL, CONDUCTOR_DATABASE_URL, BENCH_TOKEN (worker),
 * BENCH_JOBS (floor: the jobs queued, default 20000),
 * CONDUCTOR_REDIS_URL (routing), BENCH_METRICS_TOKEN (metrics).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "data/db.h"
#include "data/db_jobs.h"
#include "data/db_leases.h"
#include "domain/jobs.h"
#include "domain/routing.h"

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

/* A minimal HTTP/1.1 keep-alive client for the stack on loopback: one
 * request at a time per connection, answers read by Content-Length (nginx
 * sends one with every conductor answer). The generator shares the machine's
 * cores with the stack it measures; libcurl spent ~145 us of CPU per job
 * (two requests), this ~a third of that. */

struct client {
	int fd;
	char *buf; /* the last answer: status line, headers, body */
	size_t len, cap;
	const char *body; /* into buf, NUL-terminated */
};

static struct sockaddr_in server; /* CONDUCTOR_URL, http://IPv4:PORT */

static void parse_base_url(void)
{
	char host[64];
	int port;

	if (sscanf(base_url, "http://%63[^:/]:%d", host, &port) != 2 || port <= 0 ||
	    port > 65535 || inet_pton(AF_INET, host, &server.sin_addr) != 1)
		die("CONDUCTOR_URL must be http://IPv4:PORT");
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)port);
}

static void client_connect(struct client *cl)
{
	int one = 1;

	cl->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&server, sizeof(server)) != 0)
		die("cannot connect to CONDUCTOR_URL");
	setsockopt(cl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void client_init(struct client *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->cap = 64 * 1024;
	cl->buf = malloc(cl->cap);
	if (cl->buf == NULL)
		die("out of memory");
	client_connect(cl);
}

static void client_free(struct client *cl)
{
	close(cl->fd);
	free(cl->buf);
}

/* Sends the head and the body in one segment (one wake-up of nginx). */
static void send_request(int fd, const char *head, const char *body, size_t n)
{
	struct iovec iov[2] = {{(void *)head, strlen(head)}, {(void *)body, n}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};

	while (iov[0].iov_len + iov[1].iov_len > 0) {
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (w <= 0)
			die("the server closed the connection");
		for (int i = 0; i < 2; i++) {
			size_t d = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;

			iov[i].iov_base = (char *)iov[i].iov_base + d;
			iov[i].iov_len -= d;
			w -= (ssize_t)d;
		}
	}
}

/* Reads one whole answer into cl->buf; its status. keep: false when the
 * server will close the connection after it (Connection: close). */
static long read_answer(struct client *cl, bool *keep)
{
	size_t head = 0, want = 0;

	cl->len = 0;
	while (head == 0 || cl->len < want) {
		ssize_t r;

		if (cl->len + 1 >= cl->cap) {
			cl->cap *= 2;
			cl->buf = realloc(cl->buf, cl->cap);
			if (cl->buf == NULL)
				die("out of memory");
		}
		r = read(cl->fd, cl->buf + cl->len, cl->cap - cl->len - 1);
		if (r <= 0)
			die("the server closed the connection mid-answer");
		cl->len += (size_t)r;
		cl->buf[cl->len] = '\0';
		if (head == 0) {
			char *end = strstr(cl->buf, "\r\n\r\n"), *length;

			if (end == NULL)
				continue;
			*end = '\0'; /* the header search stops here */
			length = strcasestr(cl->buf, "\r\nContent-Length:");
			if (length == NULL)
				die("an answer without Content-Length");
			*keep = strcasestr(cl->buf, "\r\nConnection: close") == NULL;
			*end = '\r';
			head = (size_t)(end + 4 - cl->buf);
			want = head + strtoul(length + 17, NULL, 10);
		}
	}
	cl->body = cl->buf + head;
	return strtol(cl->buf + 9, NULL, 10); /* "HTTP/1.1 200 OK" */
}

static long call(struct client *cl, const char *method, const char *path, const char *body)
{
	char head[512];
	size_t n = strlen(body);
	bool keep = true;
	long status;

	snprintf(head, sizeof(head),
		 "%s %s HTTP/1.1\r\nHost: conductor\r\nAuthorization: Bearer %s\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		 method, path, token, n);
	send_request(cl->fd, head, body, n);
	status = read_answer(cl, &keep);
	if (!keep) { /* nginx's keepalive_requests: a fresh connection */
		close(cl->fd);
		client_connect(cl);
	}
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

/* The items of a jobs:transition (jobs_transition_many) for every job of a
 * claim's answer: each shipped under the worker's factory id and the job's
 * epoch. */
static struct json_object *ship_items(const char *claimed, const char *factory, int *n)
{
	struct json_object *items = json_object_new_array();
	const char *cur = claimed;
	int64_t id, epoch;
	char ids[24];

	*n = 0;
	while ((cur = next_job(cur, &id, &epoch)) != NULL) {
		struct json_object *it = json_object_new_object();

		snprintf(ids, sizeof(ids), "%" PRId64, id);
		json_object_object_add(it, "id", json_object_new_string(ids));
		json_object_object_add(it, "factory_id", json_object_new_string(factory));
		json_object_object_add(it, "lease_epoch", json_object_new_int64(epoch));
		json_object_object_add(it, "stage", json_object_new_string("shipped"));
		json_object_array_add(items, it);
		(*n)++;
	}
	return items;
}

static void *http_worker(void *p)
{
	struct worker_arg *a = p;
	struct client cl;
	char factory[32], body[256], path[64];
	int empty = 0;

	snprintf(factory, sizeof(factory), "bench-%d", a->index);
	client_init(&cl);
	while (empty < 2) {
		double t0 = now_s();
		int64_t id, epoch;
		long st;

		snprintf(body, sizeof(body), "{\"factory_id\":\"%s\",\"max_jobs\":%d}", factory,
			 a->batch);
		st = call(&cl, "POST", "/v1/fleet/claim", body);
		if (st != 200)
			die("claim failed");
		if (a->batch == 1)
			record((now_s() - t0) * 1e3);
		if (next_job(cl.body, &id, &epoch) == NULL) {
			empty++;
			continue;
		}
		empty = 0;
		if (a->batch == 1) {
			snprintf(path, sizeof(path), "/v1/fleet/jobs/%" PRId64, id);
			snprintf(body, sizeof(body),
				 "{\"factory_id\":\"%s\",\"lease_epoch\":%" PRId64
				 ",\"stage\":\"shipped\"}",
				 factory, epoch);
			if (call(&cl, "PATCH", path, body) != 200)
				die("ship failed");
			atomic_fetch_add(&shipped, 1);
			continue;
		}
		/* batched: one transition request for every job claimed */
		{
			struct json_object *req = json_object_new_object();
			int n;

			json_object_object_add(req, "items", ship_items(cl.body, factory, &n));
			if (call(&cl, "POST", "/v1/fleet/jobs:transition",
				 json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN)) != 200)
				die("batched ship failed");
			atomic_fetch_add(&shipped, n);
			json_object_put(req);
		}
	}
	client_free(&cl);
	return NULL;
}

/* ---- long-poll claims on an empty queue --------------------------------- */

static atomic_long polls, told_to_wait;
static double poll_until;
static int poll_wait_ms;

/* The seconds of the last answer's Retry-After header; 0 when it has none. */
static long retry_after(const struct client *cl)
{
	const char *h = strcasestr(cl->buf, "\r\nRetry-After:");

	return h != NULL && h < cl->body ? strtol(h + 14, NULL, 10) : 0;
}

/* Claims with wait_ms until poll_until, sleeping what Retry-After says. */
static void *poll_worker(void *p)
{
	struct worker_arg *a = p;
	struct client cl;
	char body[128];

	snprintf(body, sizeof(body), "{\"factory_id\":\"poll-%d\",\"wait_ms\":%d}", a->index,
		 poll_wait_ms);
	client_init(&cl);
	while (now_s() < poll_until) {
		long wait_s;

		if (call(&cl, "POST", "/v1/fleet/claim", body) != 200)
			die("claim failed");
		atomic_fetch_add(&polls, 1);
		if ((wait_s = retry_after(&cl)) > 0) {
			atomic_fetch_add(&told_to_wait, 1);
			sleep((unsigned)wait_s);
		}
	}
	client_free(&cl);
	return NULL;
}

static void poll_storm(int threads, int secs, int wait_ms)
{
	pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
	struct worker_arg *args = calloc((size_t)threads, sizeof(*args));
	double t0;

	reset_bench();
	poll_wait_ms = wait_ms;
	t0 = now_s();
	poll_until = t0 + secs;
	for (int i = 0; i < threads; i++) {
		args[i] = (struct worker_arg){i, 1};
		pthread_create(&tids[i], NULL, poll_worker, &args[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	t0 = now_s() - t0;
	printf("poll clients %d wait_ms %d secs %.1f claims %ld claims_per_s %.1f retry_after %ld\n",
	       threads, wait_ms, t0, atomic_load(&polls), (double)atomic_load(&polls) / t0,
	       atomic_load(&told_to_wait));
	free(tids);
	free(args);
}

/* Ships every job of a claim's answer with one jobs_transition_many (what
 * the jobs:transition route calls). */
static void ship_all(struct db *db, const char *factory, const char *claimed, int count)
{
	struct json_object *items;
	char *answer = NULL;
	struct cd_error e;
	int n;

	items = ship_items(claimed, factory, &n);
	if (n != count)
		die("batch-sql: the claim's answer lists fewer jobs than it counts");
	if (jobs_transition_many(db, tenant_id, items, &answer, &e) != CD_OK)
		die(e.message);
	if (strstr(answer, "\"ok\":false") != NULL)
		die("batch-sql: a transition was refused");
	free(answer);
	json_object_put(items);
}

/* Ships the one job of a claim's answer: the fenced transition in its
 * transaction, as PATCH does. */
static void ship_one(struct db *db, const char *factory, const char *claimed)
{
	int64_t id, epoch;
	struct transition t;
	struct cd_error e;
	char items[512];

	next_job(claimed, &id, &epoch);
	t = (struct transition){.f = {id, factory, epoch, 0}, .stage = "shipped"};
	snprintf(items, sizeof(items),
		 "[{\"ord\":0,\"id\":%" PRId64 ",\"factory_id\":\"%s\","
		 "\"lease_epoch\":%" PRId64 ",\"if_rev\":0,\"stage\":\"shipped\","
		 "\"sources\":[\"assigned\",\"building\",\"review\",\"testing\"]}]",
		 id, factory, epoch);
	if (db_begin(db, &e) != CD_OK ||
	    db_leases_transition(db, tenant_id, items, &t, 1, true, &e) != CD_OK || t.rc != CD_OK ||
	    db_commit(db, &e) != CD_OK)
		die(t.rc != CD_OK ? t.err.message : e.message);
	free(t.state);
}

/* sql and batch-sql: claim a->batch jobs and ship them straight at
 * PostgreSQL, through the functions the routes call. */
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
		struct claim_request c = {factory, "[]", a->batch, 60};
		double t0 = now_s();
		char *out = NULL;
		int count;

		if (jobs_claim(db, tenant_id, &c, 0, &out, &count, NULL, &e) != CD_OK)
			die(e.message);
		if (a->batch == 1)
			record((now_s() - t0) * 1e3);
		if (count == 0) {
			empty++;
			free(out);
			continue;
		}
		empty = 0;
		if (a->batch == 1)
			ship_one(db, factory, out);
		else
			ship_all(db, factory, out, count);
		free(out);
		atomic_fetch_add(&shipped, count);
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

		if (jobs_claim(db, tenant_id, &c, 0, &out, &count, NULL, &e) != CD_OK || count != 1)
			die("cost claim failed");
		total += now_s() - t0;
		free(out);
	}
	db_close(db);
	printf("cost queued %ld finished %ld per_claim_ms %.4f\n", queued, finished, total * 1e3 / k);
}

/* ---- the floor ---------------------------------------------------------- */

/* The smallest durable fenced lifecycle PostgreSQL can do, measured beside
 * conductor in the same run (issue 17): a jobs table with only what a lease
 * needs and one partial index for the claim (plus its primary key, which the
 * fenced complete finds rows by); claim with SKIP LOCKED, then one fenced
 * UPDATE for what was claimed. No JSON, no events, no runs, no tenancy
 * rules: what any queue on this PostgreSQL must at least write. The bench
 * owns schema bench_floor and drops it when done. */
static const char FLOOR_SCHEMA[] =
	"SET client_min_messages = warning;"
	"DROP SCHEMA IF EXISTS bench_floor CASCADE;"
	"CREATE SCHEMA bench_floor;"
	"CREATE TABLE bench_floor.jobs ("
	"  id bigserial PRIMARY KEY,"
	"  tenant bigint NOT NULL,"
	"  stage text NOT NULL,"
	"  priority int NOT NULL DEFAULT 0,"
	"  created_at timestamptz NOT NULL DEFAULT now(),"
	"  lease_epoch bigint NOT NULL DEFAULT 0,"
	"  lease_holder text,"
	"  lease_expires_at timestamptz);"
	"CREATE INDEX jobs_claim ON bench_floor.jobs (tenant, priority, created_at, id)"
	"  WHERE stage = 'queued';";

/* $1 tenant, $2 holder, $3 how many: ids and epochs of what it leased. */
static const char FLOOR_CLAIM[] =
	"UPDATE bench_floor.jobs j SET stage = 'assigned', lease_epoch = j.lease_epoch + 1,"
	"       lease_holder = $2, lease_expires_at = now() + interval '60 seconds'"
	"  FROM (SELECT id FROM bench_floor.jobs"
	"         WHERE tenant = $1 AND stage = 'queued'"
	"         ORDER BY priority, created_at, id LIMIT $3"
	"         FOR UPDATE SKIP LOCKED) p"
	" WHERE j.id = p.id"
	" RETURNING j.id, j.lease_epoch";

/* $1 ids, $2 their epochs, $3 holder: each job completed only under the
 * lease it was claimed with. */
static const char FLOOR_COMPLETE[] =
	"UPDATE bench_floor.jobs j SET stage = 'shipped', lease_holder = NULL,"
	"       lease_expires_at = NULL"
	"  FROM unnest($1::bigint[], $2::bigint[]) AS f(id, epoch)"
	" WHERE j.id = f.id AND j.lease_epoch = f.epoch AND j.lease_holder = $3"
	"   AND j.stage = 'assigned'";

static void floor_load(long n)
{
	PGconn *c = connect_db();
	char sql[512];

	exec_sql(c, FLOOR_SCHEMA);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO bench_floor.jobs (tenant, stage, created_at)"
		 " SELECT 1, 'queued', now() - make_interval(secs => %ld - g)"
		 "   FROM generate_series(1, %ld) g",
		 n, n);
	exec_sql(c, sql);
	exec_sql(c, "VACUUM ANALYZE bench_floor.jobs");
	PQfinish(c);
}

static PGresult *exec_checked(PGconn *c, const char *name, int n, const char *const *p)
{
	PGresult *r = PQexecPrepared(c, name, n, p, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die(PQresultErrorMessage(r));
	return r;
}

/* Claims a->batch at a time and completes them, until two claims in a row
 * find nothing. Each statement is its own durable transaction. */
static void *floor_worker(void *p)
{
	struct worker_arg *a = p;
	PGconn *c = connect_db();
	char holder[32];
	struct buf ids, epochs;
	int empty = 0;

	snprintf(holder, sizeof(holder), "floor-%d", a->index);
	exec_sql(c, "SET synchronous_commit = on");
	PQclear(PQprepare(c, "claim", FLOOR_CLAIM, 0, NULL));
	PQclear(PQprepare(c, "complete", FLOOR_COMPLETE, 0, NULL));
	buf_init(&ids, 64 * 1024);
	buf_init(&epochs, 64 * 1024);
	while (empty < 2) {
		char m[16];
		const char *cp[3] = {"1", holder, m}, *fp[3];
		double t0 = now_s();
		PGresult *r;
		int n;

		snprintf(m, sizeof(m), "%d", a->batch);
		r = exec_checked(c, "claim", 3, cp);
		record((now_s() - t0) * 1e3);
		n = PQntuples(r);
		if (n == 0) {
			empty++;
			PQclear(r);
			continue;
		}
		empty = 0;
		buf_reset(&ids);
		buf_reset(&epochs);
		for (int i = 0; i < n; i++) {
			buf_printf(&ids, "%s%s", i ? "," : "{", PQgetvalue(r, i, 0));
			buf_printf(&epochs, "%s%s", i ? "," : "{", PQgetvalue(r, i, 1));
		}
		buf_append(&ids, "}", 1);
		buf_append(&epochs, "}", 1);
		PQclear(r);
		fp[0] = buf_str(&ids);
		fp[1] = buf_str(&epochs);
		fp[2] = holder;
		r = exec_checked(c, "complete", 3, fp);
		if (atoi(PQcmdTuples(r)) != n)
			die("floor: a fenced complete missed a job it had claimed");
		PQclear(r);
		atomic_fetch_add(&shipped, n);
	}
	buf_reset(&ids);
	buf_reset(&epochs);
	PQfinish(c);
	return NULL;
}

static void floor_drop(void)
{
	PGconn *c = connect_db();

	exec_sql(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS bench_floor CASCADE");
	PQfinish(c);
}

/* ---- routing latency ----------------------------------------------------- */

/* A results stream and an app stream of this run's own (deleted at the end):
 * the producer XADDs to the first on a fixed schedule, a router thread moves
 * each entry to the second, a reader blocked in XREAD there records each
 * entry's age (its t field: CLOCK_MONOTONIC ns when added; one machine). */
static char route_res[64], route_app[64];
static atomic_long route_seen;

static redisContext *redis_connect(void)
{
	const char *url = getenv("CONDUCTOR_REDIS_URL");
	struct redis_target rt;
	redisContext *c;

	if (url == NULL || config_parse_redis_url(url, &rt, NULL) != CD_OK)
		die("CONDUCTOR_REDIS_URL is missing or wrong");
	c = rt.path[0] ? redisConnectUnix(rt.path) : redisConnect(rt.host, rt.port);
	if (c == NULL || c->err)
		die("Redis does not answer");
	return c;
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Reads route_app until `*(long *)want` entries came or 5 s pass without one. */
static void *route_reader(void *arg)
{
	long want = *(long *)arg;
	redisContext *c = redis_connect();
	char last[64] = "0-0";
	double idle_since = now_s();

	while (atomic_load(&route_seen) < want && now_s() - idle_since < 5) {
		redisReply *r = redisCommand(c, "XREAD COUNT 100 BLOCK 100 STREAMS %s %s", route_app, last);

		if (r == NULL)
			die("XREAD failed");
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
			const redisReply *list = r->element[0]->element[1];
			long long now = mono_ns();

			for (size_t i = 0; i < list->elements; i++) {
				const redisReply *en = list->element[i], *f = en->element[1];

				for (size_t k = 0; k + 1 < f->elements; k += 2)
					if (strcmp(f->element[k]->str, "t") == 0)
						record((double)(now - atoll(f->element[k + 1]->str)) / 1e6);
				snprintf(last, sizeof(last), "%s", en->element[0]->str);
				atomic_fetch_add(&route_seen, 1);
			}
			idle_since = now_s();
		}
		freeReplyObject(r);
	}
	redisFree(c);
	return NULL;
}

static void routing_latency(long rate, long secs)
{
	long n = rate * secs;
	redisContext *c = redis_connect();
	struct routing_thread *router = NULL;
	struct routing_counts counts = {0};
	struct config cfg;
	struct cd_error e;
	pthread_t reader;
	long long t0;
	double began;

	snprintf(route_res, sizeof(route_res), "bench-results-%d", (int)getpid());
	snprintf(route_app, sizeof(route_app), "results:bench-%d", (int)getpid());
	if (config_load(&cfg, NULL, &e) != CD_OK ||
	    config_set(&cfg, "results_streams", route_res, &e) != CD_OK)
		die(e.message);
	log_set_level(LOG_WARN);
	if (routing_start_thread(&cfg, "bench", &router, &e) != CD_OK)
		die(e.message);
	pthread_create(&reader, NULL, route_reader, &n);
	usleep(300 * 1000); /* the router has made its group and blocks */
	t0 = mono_ns();
	began = now_s();
	for (long i = 0; i < n; i++) {
		long long due = t0 + i * 1000000000LL / rate;
		struct timespec at = {(time_t)(due / 1000000000LL), (long)(due % 1000000000LL)};
		char t[32];
		redisReply *r;

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
		snprintf(t, sizeof(t), "%lld", mono_ns());
		r = redisCommand(c, "XADD %s * t %s source bench reply_to %s", route_res, t, route_app);
		if (r == NULL || r->type != REDIS_REPLY_STRING)
			die("XADD failed");
		freeReplyObject(r);
	}
	pthread_join(reader, NULL);
	routing_stop_thread(router, &counts);
	freeReplyObject(redisCommand(c, "DEL %s %s", route_res, route_app));
	redisFree(c);
	config_free(&cfg);
	n = atomic_load(&nsamples);
	qsort(claim_ms, (size_t)(n > MAX_SAMPLES ? MAX_SAMPLES : n), sizeof(double), cmp_double);
	printf("routing results %ld arrived %ld secs %.1f rate %ld routed %ld errors %ld"
	       " p50_ms %.3f p99_ms %.3f p999_ms %.3f max_ms %.3f\n",
	       rate * secs, atomic_load(&route_seen), now_s() - began, rate, counts.routed,
	       counts.errors, pct(0.5), pct(0.99), pct(0.999), pct(1.0));
}

/* One GET /metrics; its time in ms. */
static double scrape_ms(struct client *cl, size_t *bytes)
{
	double t0 = now_s();

	if (call(cl, "GET", "/metrics", "") != 200)
		die("GET /metrics failed");
	*bytes = strlen(cl->body);
	return (now_s() - t0) * 1e3;
}

/* Scrape time with n queued jobs: k scrapes with a fresh job count, k that
 * recount (the stored count made due before each). */
static void metrics(long n, int k)
{
	PGconn *c = connect_db();
	struct client cl;
	double fresh = 0, recount = 0;
	size_t bytes = 0;

	reset_bench();
	load(n, 0);
	client_init(&cl);
	for (int i = 0; i < k; i++) {
		exec_sql(c, "UPDATE metrics_jobs_counted SET counted_at = '-infinity'");
		recount += scrape_ms(&cl, &bytes);
		fresh += scrape_ms(&cl, &bytes); /* the count just made is fresh */
	}
	client_free(&cl);
	PQfinish(c);
	printf("metrics queued %ld fresh_ms %.2f recount_ms %.2f bytes %zu\n", n, fresh / k,
	       recount / k, bytes);
}

int main(int argc, char **argv)
{
	db_url = getenv("CONDUCTOR_DATABASE_URL");
	base_url = getenv("CONDUCTOR_URL");
	token = getenv("BENCH_TOKEN");
	if (argc >= 4 && strcmp(argv[1], "routing") == 0) {
		claim_ms = calloc(MAX_SAMPLES, sizeof(double));
		routing_latency(atol(argv[2]), atol(argv[3]));
		free(claim_ms);
		return 0;
	}
	if (argc < 3 || db_url == NULL)
		die("usage: conductor-bench load N | http C | sql C | batch C | batch-sql C | cost N F K |"
		    " poll C S W | routing R S | metrics N K | floor C B");
	claim_ms = calloc(MAX_SAMPLES, sizeof(double));
	find_tenant();
	if (strcmp(argv[1], "load") == 0) {
		reset_bench();
		load(atol(argv[2]), 0);
		printf("load jobs %ld\n", atol(argv[2]));
	} else if (strcmp(argv[1], "http") == 0 || strcmp(argv[1], "batch") == 0) {
		if (base_url == NULL || token == NULL)
			die("CONDUCTOR_URL and BENCH_TOKEN are required");
		parse_base_url();
		run(http_worker, atoi(argv[2]), argv[1][0] == 'b' ? 32 : 1, argv[1]);
	} else if (strcmp(argv[1], "sql") == 0) {
		run(sql_worker, atoi(argv[2]), 1, "sql");
	} else if (strcmp(argv[1], "batch-sql") == 0) {
		run(sql_worker, atoi(argv[2]), 32, "batch-sql");
	} else if (strcmp(argv[1], "poll") == 0 && argc >= 5) {
		if (base_url == NULL || token == NULL)
			die("CONDUCTOR_URL and BENCH_TOKEN are required");
		parse_base_url();
		poll_storm(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	} else if (strcmp(argv[1], "metrics") == 0 && argc >= 4) {
		token = getenv("BENCH_METRICS_TOKEN");
		if (base_url == NULL || token == NULL)
			die("CONDUCTOR_URL and BENCH_METRICS_TOKEN are required");
		parse_base_url();
		metrics(atol(argv[2]), atoi(argv[3]));
	} else if (strcmp(argv[1], "floor") == 0 && argc >= 4) {
		const char *n = getenv("BENCH_JOBS");

		floor_load(n != NULL ? atol(n) : 20000);
		run(floor_worker, atoi(argv[2]), atoi(argv[3]), atoi(argv[3]) == 1 ? "floor" : "floor-batch");
		floor_drop();
	} else if (strcmp(argv[1], "cost") == 0 && argc >= 5) {
		cost(atol(argv[2]), atol(argv[3]), atoi(argv[4]));
	} else {
		die("unknown mode");
	}
	free(claim_ms);
	return 0;
}
