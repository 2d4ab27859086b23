/* test_fleet.c -- the fleet API's integration suite (DESIGN 4): real
 * PostgreSQL, Redis, nginx and conductor-fcgi started by
 * tests/http/run-integration, spoken to over HTTP through nginx, after
 * test_http has run in the same stack.
 *
 * Covers: 64 claimers over 20 000 jobs (each claimed exactly once), ten
 * claimers for one job, claim selection (priority, age, capabilities,
 * not_before, seats), fencing after release, reap and cancel, If-Match,
 * idempotent submit (replay, supersede, conflict), dependencies (hard, soft,
 * by key and id, unknown, cycles, two deps shipped at once, a dep shipped
 * while submits name it), retries and runs, tenant isolation, roles, mutated
 * bodies, batched transitions, long-polling claims (woken by a submit, an
 * unblock and a requeue; told to back off past the long-poll slots), and the
 * append-only event history.
 *
 * Every test works in tenants of its own (created here, named
 * fleet-<what>-<run tag>, tokens f-<what>-<run tag>-<s|w|r>), so the tests
 * are independent of each other and of earlier runs in the same database.
 * libpq is used directly only for what the API cannot do: moving a job's
 * not_before or lease into the past, counting rows, bulk-loading a busy
 * tenant's history, ANALYZE, and trying to rewrite job_events.
 *
 * CUnit's assertions are not thread-safe: worker threads only record what
 * they saw, and the main thread asserts after joining them.
 *
 * Longer than STYLE's ~800 lines because the build names one source per
 * integration program; it is cut in banner sections numbered like the
 * guarantees they test. FLEET_ONLY=name[,name] runs only those tests.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "expect.h"

/* ---- HTTP ----------------------------------------------------------------- */

/* /v1/fleet/jobs/<id><suffix> into out. */
static const char *job_path(char *out, size_t cap, const char *id, const char *suffix)
{
	snprintf(out, cap, "/v1/fleet/jobs/%s%s", id, suffix ? suffix : "");
	return out;
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000L + (now.tv_nsec - since->tv_nsec) / 1000000L;
}

/* ---- jobs ----------------------------------------------------------------- */

/* Submits body as t's submitter, expects 201; id (IDLEN) gets the new id and
 * stage (IDLEN, or NULL) its stage. */
#define SUBMIT(t, body, id, stage) submit_at((t), (body), (id), (stage), __LINE__)
static void submit_at(const struct tenant *t, const char *body, char *id, char *stage, int line)
{
	struct http_resp r = call("POST", "/v1/fleet/jobs", t->submitter, body, NULL);
	struct json_object *job = obj_at(data_of(&r), "job");

	expect_status_at(&r, 201, __FILE__, line);
	CHECK_AT(strcmp(str_at(data_of(&r), "outcome"), "created") == 0, line, "outcome created");
	snprintf(id, IDLEN, "%s", str_at(job, "id"));
	if (stage != NULL)
		snprintf(stage, IDLEN, "%s", str_at(job, "stage"));
	http_resp_free(&r);
}

/* {"jobs":[item, item, ...]} with n items (new string). */
static char *batch_of(int n, const char *item)
{
	size_t il = strlen(item), cap = 16 + (size_t)n * (il + 1);
	char *s = malloc(cap), *p = s;

	p += sprintf(p, "{\"jobs\":[");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, item, il);
		p += il;
	}
	strcpy(p, "]}");
	return s;
}

/* POSTs a batch body, expects 201, copies up to cap ids; returns the count. */
#define SUBMIT_BATCH(t, body, ids, cap) submit_batch_at((t), (body), (ids), (cap), __LINE__)
static int submit_batch_at(const struct tenant *t, const char *body, char (*ids)[IDLEN], int cap,
                           int line)
{
	struct http_resp r = call("POST", "/v1/fleet/jobs:batch", t->submitter, body, NULL);
	struct json_object *arr = obj_at(data_of(&r), "jobs");
	int n = 0;

	memset(ids, 0, (size_t)cap * IDLEN);
	expect_status_at(&r, 201, __FILE__, line);
	for (size_t i = 0; i < len_of(arr) && n < cap; i++)
		snprintf(ids[n++], IDLEN, "%s", str_at(item_at(arr, i), "id"));
	http_resp_free(&r);
	return n;
}

/* Claims as t's worker (caps: a JSON array or NULL), expects 200; fills out
 * in answer order and returns how many jobs came. */
#define CLAIM(t, factory, caps, max, out) claim_at((t), (factory), (caps), (max), (out), __LINE__)
static int claim_at(const struct tenant *t, const char *factory, const char *caps, int max_jobs,
                    struct claimed *out, int line)
{
	struct http_resp r;

	if (caps != NULL)
		r = callf("POST", "/v1/fleet/claim", t->worker,
		          "{\"factory_id\":\"%s\",\"capabilities\":%s,\"max_jobs\":%d,\"lease_ttl_"
		          "s\":600}",
		          factory, caps, max_jobs);
	else
		r = callf("POST", "/v1/fleet/claim", t->worker,
		          "{\"factory_id\":\"%s\",\"max_jobs\":%d,\"lease_ttl_s\":600}", factory,
		          max_jobs);
	expect_status_at(&r, 200, __FILE__, line);
	claimed_of(&r, factory, out, __FILE__, line);
	http_resp_free(&r);
	return out->n;
}

/* PATCH /v1/fleet/jobs/<id> as t's worker; extra is appended inside the body
 * (",\"result\":{...}") and if_match, when given, is the If-Match value. */
static struct http_resp patch_job(const struct tenant *t, const char *id, const char *factory,
                                  int64_t epoch, const char *stage, const char *extra,
                                  const char *if_match)
{
	char path[96], hdr[80];
	const char *h[2] = {NULL, NULL};
	struct http_resp r;
	char *body;

	if (if_match != NULL) {
		snprintf(hdr, sizeof(hdr), "If-Match: %s", if_match);
		h[0] = hdr;
	}
	body = fmt("{\"factory_id\":\"%s\",\"lease_epoch\":%" PRId64 ",\"stage\":\"%s\"%s}",
	           factory, epoch, stage, extra ? extra : "");
	r = call("PATCH", job_path(path, sizeof(path), id, NULL), t->worker, body, h);
	free(body);
	return r;
}

/* A PATCH that must answer 200 with data.stage == want. */
#define PATCH_OK(t, id, f, epoch, stage, extra, want)                                              \
	patch_ok_at((t), (id), (f), (epoch), (stage), (extra), (want), __LINE__)
static void patch_ok_at(const struct tenant *t, const char *id, const char *factory, int64_t epoch,
                        const char *stage, const char *extra, const char *want, int line)
{
	struct http_resp r = patch_job(t, id, factory, epoch, stage, extra, NULL);

	if (expect_status_at(&r, 200, __FILE__, line)) {
		CHECK_AT(strcmp(str_at(data_of(&r), "stage"), want) == 0, line,
		         "stage after PATCH");
		if (strcmp(str_at(data_of(&r), "stage"), want) != 0)
			fprintf(stderr, "\n  line %d: want stage %s, got %s\n", line, want, r.body);
	}
	http_resp_free(&r);
}

/* The kinds of a job's events, oldest first, joined by ','; follows pages. */
static void event_kinds(const struct tenant *t, const char *id, char *out, size_t cap)
{
	char path[160], cursor[32] = "";
	size_t o = 0;

	out[0] = '\0';
	for (int page = 0; page < 50; page++) {
		char base[96];
		struct http_resp r;
		struct json_object *items;
		const char *next;

		job_path(base, sizeof(base), id, "/events");
		snprintf(path, sizeof(path), "%s?limit=500%s%s", base, cursor[0] ? "&cursor=" : "",
		         cursor);
		r = call("GET", path, t->reader, NULL, NULL);
		CU_ASSERT_EQUAL(r.status, 200);
		items = obj_at(data_of(&r), "items");
		for (size_t i = 0; i < len_of(items); i++)
			o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? "," : "",
			                      str_at(item_at(items, i), "kind"));
		next = str_at(data_of(&r), "next_cursor");
		snprintf(cursor, sizeof(cursor), "%s", next);
		http_resp_free(&r);
		if (cursor[0] == '\0')
			break;
	}
}

/* Does a comma list contain word? */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* ---- 1. 64 claimers over 20 000 jobs ------------------------------------ */

#define RACE_JOBS     20000
#define RACE_BATCH    1000
#define RACE_LOADERS  4
#define RACE_THREADS  64
#define RACE_MAX_JOBS 10

struct race_loader {
	const struct tenant *t;
	int first, count; /* batches [first, first + count) */
	int64_t *ids;     /* RACE_JOBS slots, shared; each loader fills its own */
	int errors;
	char err[256];
};

static void *race_load(void *arg)
{
	struct race_loader *l = arg;
	char *body = batch_of(RACE_BATCH, "{\"body\":\"race\"}");

	for (int b = l->first; b < l->first + l->count; b++) {
		struct http_resp r;
		struct json_object *arr;

		if (http_do("POST", "/v1/fleet/jobs:batch", l->t->submitter, body, strlen(body),
		            NULL, &r) != 0) {
			l->errors++;
			continue;
		}
		arr = obj_at(data_of(&r), "jobs");
		if (r.status != 201 || len_of(arr) != RACE_BATCH) {
			l->errors++;
			snprintf(l->err, sizeof(l->err), "batch %d: %ld %.200s", b, r.status,
			         r.body);
		}
		for (size_t i = 0; i < len_of(arr) && i < RACE_BATCH; i++)
			l->ids[(size_t)b * RACE_BATCH + i] =
			    strtoll(str_at(item_at(arr, i), "id"), NULL, 10);
		http_resp_free(&r);
	}
	free(body);
	return NULL;
}

struct race_claimer {
	const struct tenant *t;
	pthread_barrier_t *start;
	int index;
	int64_t *ids, *epochs; /* what this thread was given, in order */
	size_t n, cap;
	int claims, errors;
	char err[256];
};

static void *race_claim(void *arg)
{
	struct race_claimer *c = arg;
	char factory[32], body[160];
	int empty = 0;

	snprintf(factory, sizeof(factory), "f-race-%02d", c->index);
	snprintf(body, sizeof(body), "{\"factory_id\":\"%s\",\"max_jobs\":%d,\"lease_ttl_s\":3600}",
	         factory, RACE_MAX_JOBS);
	pthread_barrier_wait(c->start);
	while (empty < 2 && c->errors < 10) {
		struct http_resp r;
		struct json_object *arr;

		if (http_do("POST", "/v1/fleet/claim", c->t->worker, body, strlen(body), NULL,
		            &r) != 0) {
			c->errors++;
			snprintf(c->err, sizeof(c->err), "no answer to a claim (transport error)");
			continue;
		}
		c->claims++;
		arr = obj_at(data_of(&r), "jobs");
		if (r.status != 200 || arr == NULL) {
			c->errors++;
			snprintf(c->err, sizeof(c->err), "%ld %.200s", r.status, r.body);
			http_resp_free(&r);
			continue;
		}
		empty = len_of(arr) == 0 ? empty + 1 : 0;
		for (size_t i = 0; i < len_of(arr); i++) {
			struct json_object *j = item_at(arr, i);

			if (c->n == c->cap) {
				c->cap *= 2;
				c->ids = realloc(c->ids, c->cap * sizeof(*c->ids));
				c->epochs = realloc(c->epochs, c->cap * sizeof(*c->epochs));
			}
			c->ids[c->n] = strtoll(str_at(j, "id"), NULL, 10);
			c->epochs[c->n] = int_at(obj_at(j, "lease"), "epoch");
			c->n++;
			if (strcmp(str_at(j, "stage"), "assigned") != 0 ||
			    strcmp(str_at(obj_at(j, "lease"), "holder"), factory) != 0) {
				c->errors++;
				snprintf(c->err, sizeof(c->err), "job %s: %s held by %s",
				         str_at(j, "id"), str_at(j, "stage"),
				         str_at(obj_at(j, "lease"), "holder"));
			}
		}
		http_resp_free(&r);
	}
	return NULL;
}

static void test_64_claimers_20000_jobs_each_claimed_once(void)
{
	struct tenant *t = tenant_new("race");
	int64_t *loaded, *all;
	struct race_loader loaders[RACE_LOADERS];
	struct race_claimer claimers[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	pthread_barrier_t start;
	struct timespec t0;
	size_t total = 0, dups = 0, mismatched = 0, bad_epochs = 0;
	int load_errors = 0, claim_errors = 0, claims = 0;
	long load_ms, claim_ms;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	loaded = calloc(RACE_JOBS, sizeof(int64_t));
	/* load: 20 batches of 1000, four at a time */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < RACE_LOADERS; i++) {
		int per = RACE_JOBS / RACE_BATCH / RACE_LOADERS;

		loaders[i] =
		    (struct race_loader){.t = t, .first = i * per, .count = per, .ids = loaded};
		pthread_create(&th[i], NULL, race_load, &loaders[i]);
	}
	for (int i = 0; i < RACE_LOADERS; i++) {
		pthread_join(th[i], NULL);
		load_errors += loaders[i].errors;
		if (loaders[i].errors)
			fprintf(stderr, "\n  loader %d: %s\n", i, loaders[i].err);
	}
	load_ms = elapsed_ms(&t0);
	CU_ASSERT_EQUAL(load_errors, 0);
	CU_ASSERT_EQUAL(
	    pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND stage = 'queued'", t->tid,
	           NULL),
	    RACE_JOBS);

	/* claim: 64 threads released together, each until two empty answers */
	pthread_barrier_init(&start, NULL, RACE_THREADS + 1);
	for (int i = 0; i < RACE_THREADS; i++) {
		claimers[i] =
		    (struct race_claimer){.t = t, .start = &start, .index = i, .cap = 512};
		claimers[i].ids = malloc(claimers[i].cap * sizeof(int64_t));
		claimers[i].epochs = malloc(claimers[i].cap * sizeof(int64_t));
		pthread_create(&th[i], NULL, race_claim, &claimers[i]);
	}
	pthread_barrier_wait(&start);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < RACE_THREADS; i++) {
		pthread_join(th[i], NULL);
		total += claimers[i].n;
		claims += claimers[i].claims;
		claim_errors += claimers[i].errors;
		if (claimers[i].errors)
			fprintf(stderr, "\n  claimer %d: %s\n", i, claimers[i].err);
	}
	claim_ms = elapsed_ms(&t0);
	pthread_barrier_destroy(&start);
	fprintf(stderr,
	        "\n  race: %d jobs loaded in %ld ms; %d threads claimed %zu in %ld ms "
	        "(%d claim requests)\n",
	        RACE_JOBS, load_ms, RACE_THREADS, total, claim_ms, claims);

	/* every job exactly once, and nothing else */
	all = malloc((total ? total : 1) * sizeof(int64_t));
	total = 0;
	for (int i = 0; i < RACE_THREADS; i++) {
		for (size_t k = 0; k < claimers[i].n; k++) {
			all[total++] = claimers[i].ids[k];
			bad_epochs += claimers[i].epochs[k] != 1;
		}
		free(claimers[i].ids);
		free(claimers[i].epochs);
	}
	qsort(all, total, sizeof(int64_t), cmp_i64);
	qsort(loaded, RACE_JOBS, sizeof(int64_t), cmp_i64);
	for (size_t i = 1; i < total; i++)
		dups += all[i] == all[i - 1];
	for (size_t i = 0; i < total && i < RACE_JOBS; i++)
		mismatched += all[i] != loaded[i];
	CU_ASSERT_EQUAL(claim_errors, 0);
	CU_ASSERT_EQUAL(dups, 0);
	CU_ASSERT_EQUAL(total, RACE_JOBS);
	CU_ASSERT_EQUAL(mismatched, 0);
	CU_ASSERT_EQUAL(bad_epochs, 0);
	if (dups || total != RACE_JOBS || mismatched)
		fprintf(stderr,
		        "\n  race: %zu claimed twice, %zu claimed in all, %zu not of the load\n",
		        dups, total, mismatched);
	/* and the database agrees: one lease, one run, one claimed event each
	 * (job_runs and job_history: sql/012_lean_lifecycle.sql) */
	CU_ASSERT_EQUAL(
	    pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND stage = 'assigned'"
	           " AND lease_status = 'held' AND lease_epoch = 1 AND attempts = 1",
	           t->tid, NULL),
	    RACE_JOBS);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_runs WHERE tenant_id = $1", t->tid, NULL),
	                RACE_JOBS);
	CU_ASSERT_EQUAL(
	    pg_int("SELECT count(DISTINCT job_id) FROM job_runs WHERE tenant_id = $1", t->tid, NULL),
	    RACE_JOBS);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_history WHERE tenant_id = $1"
	                       " AND kind = 'claimed'",
	                       t->tid, NULL),
	                RACE_JOBS);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs j JOIN job_runs r ON r.job_id = j.id"
	                       " WHERE j.tenant_id = $1 AND r.factory_id = j.lease_holder",
	                       t->tid, NULL),
	                RACE_JOBS);
	free(all);
	free(loaded);
}

/* Deps given by idempotency_key must resolve whatever plan PostgreSQL picks.
 * Regression: for a tenant with many jobs and fresh statistics the planner
 * answered SQL_RESOLVE_DEPS (db_jobs.c) with a BitmapOr whose jobs_pkey probe
 * cast every ref to bigint before the regex guard ran, so any key that was
 * not a number failed with 400 "invalid input syntax for type bigint". The
 * tenant gets 20 000 finished jobs straight from SQL (the API would take
 * seconds) and ANALYZE makes the statistics current, so the test does not
 * depend on autovacuum's timing. */
static void test_deps_by_key_in_a_busy_tenant(void)
{
	struct tenant *t = tenant_new("dep-busy");
	char a[IDLEN], state[6], *batch;
	int refused = 0;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	batch = batch_of(12, "{\"deps\":[\"base\"]}");
	CU_ASSERT_EQUAL(
	    pg_cmd(state,
	           "INSERT INTO jobs (tenant_id, content_hash, stage, finished_at)"
	           " SELECT $1, 'bulk', 'shipped', now() FROM generate_series(1, 20000)",
	           t->tid, NULL),
	    20000);
	CU_ASSERT_EQUAL(pg_cmd(state, "ANALYZE jobs", NULL), 0);
	SUBMIT(t, "{\"idempotency_key\":\"base\"}", a, NULL);
	r = call("POST", "/v1/fleet/jobs:batch", t->submitter, batch, NULL);
	EXPECT_STATUS(r, 201);
	CU_ASSERT_EQUAL(len_of(obj_at(data_of(&r), "jobs")), 12);
	http_resp_free(&r);
	free(batch);
	CU_ASSERT_EQUAL(
	    pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND stage = 'blocked'", t->tid,
	           NULL),
	    12);
	/* and one at a time, whichever connection each lands on */
	for (int i = 0; i < 12; i++) {
		r = call("POST", "/v1/fleet/jobs", t->submitter, "{\"deps\":[\"base\"]}", NULL);
		if (r.status != 201 ||
		    strcmp(str_at(obj_at(data_of(&r), "job"), "stage"), "blocked") != 0) {
			if (refused++ == 0)
				fprintf(stderr, "\n  deps [\"base\"] -> %ld %s\n", r.status,
				        r.body);
		}
		http_resp_free(&r);
	}
	CU_ASSERT_EQUAL(refused, 0);
	/* an unknown key is a 400 naming the dep, not a database error */
	refused = 0;
	for (int i = 0; i < 6; i++) {
		r = call("POST", "/v1/fleet/jobs", t->submitter, "{\"deps\":[\"no-such-key\"]}",
		         NULL);
		if (r.status != 400 || strcmp(field_of(&r), "deps[0]") != 0) {
			if (refused++ == 0)
				fprintf(stderr, "\n  deps [\"no-such-key\"] -> %ld %s\n", r.status,
				        r.body);
		}
		http_resp_free(&r);
	}
	CU_ASSERT_EQUAL(refused, 0);
}

/* ---- 2. ten claimers, one job --------------------------------------------- */

struct racer {
	const struct tenant *t;
	pthread_barrier_t *go;
	char factory[32];
	int max_jobs;
	long status;
	int n;
	char id[IDLEN];
};

static void *race_claim_once(void *arg)
{
	struct racer *c = arg;
	char body[160];
	struct http_resp r;

	snprintf(body, sizeof(body), "{\"factory_id\":\"%s\",\"max_jobs\":%d,\"lease_ttl_s\":600}",
	         c->factory, c->max_jobs);
	pthread_barrier_wait(c->go);
	if (http_do("POST", "/v1/fleet/claim", c->t->worker, body, strlen(body), NULL, &r) != 0)
		return NULL;
	c->status = r.status;
	c->n = (int)len_of(obj_at(data_of(&r), "jobs"));
	snprintf(c->id, IDLEN, "%s", str_at(item_at(obj_at(data_of(&r), "jobs"), 0), "id"));
	http_resp_free(&r);
	return NULL;
}

/* Starts n racers together (same factory when shared is set); returns the
 * jobs they got in all and fills winner with the last taker's factory. */
static int race_claims(const struct tenant *t, int n, int max_jobs, const char *shared,
                       char *winner, char *won_id)
{
	struct racer c[16];
	pthread_t th[16];
	pthread_barrier_t go;
	int got = 0, ok = 0;

	pthread_barrier_init(&go, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		c[i] = (struct racer){.t = t, .go = &go, .max_jobs = max_jobs};
		if (shared != NULL)
			snprintf(c[i].factory, sizeof(c[i].factory), "%s", shared);
		else
			snprintf(c[i].factory, sizeof(c[i].factory), "f-racer-%d", i);
		pthread_create(&th[i], NULL, race_claim_once, &c[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		ok += c[i].status == 200;
		got += c[i].n;
		if (c[i].n > 0 && winner != NULL) {
			strcpy(winner, c[i].factory);
			strcpy(won_id, c[i].id);
		}
	}
	pthread_barrier_destroy(&go);
	CU_ASSERT_EQUAL(ok, n);
	return got;
}

static void test_ten_claimers_one_job_one_winner(void)
{
	struct tenant *t = tenant_new("one");
	int rounds_ok = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int round = 0; round < 10; round++) {
		char id[IDLEN], winner[32] = "", won[IDLEN] = "";
		struct snap s;
		int got;

		SUBMIT(t, "{\"body\":\"one\"}", id, NULL);
		got = race_claims(t, 10, 1, NULL, winner, won);
		s = snap_job(t, id);
		CU_ASSERT_EQUAL(got, 1);
		CU_ASSERT_STRING_EQUAL(won, id);
		CU_ASSERT_STRING_EQUAL(s.holder, winner);
		CU_ASSERT_EQUAL(s.epoch, 1);
		CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_runs WHERE job_id = $1", id, NULL), 1);
		rounds_ok += got == 1;
	}
	CU_ASSERT_EQUAL(rounds_ok, 10);
}

/* ---- 3. selection ---------------------------------------------------------- */

static void test_claim_priority_then_age(void)
{
	static const char *const submits[] = {"low", "medium", "critical", NULL, "high"};
	static const int order[] = {2, 4, 1, 3,
	                            0}; /* critical, high, medium (older), medium, low */
	struct tenant *t = tenant_new("prio");
	char ids[5][IDLEN];
	struct claimed c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int i = 0; i < 5; i++) {
		char *body = submits[i]
		                 ? fmt("{\"priority\":\"%s\",\"body\":\"p%d\"}", submits[i], i)
		                 : fmt("{\"body\":\"p%d\"}", i); /* medium by default */

		SUBMIT(t, body, ids[i], NULL);
		free(body);
	}
	for (int k = 0; k < 5; k++) {
		CU_ASSERT_EQUAL(CLAIM(t, "f-prio", NULL, 1, &c), 1);
		CU_ASSERT_STRING_EQUAL(c.id[0], ids[order[k]]);
		CU_ASSERT_STRING_EQUAL(c.priority[0],
		                       submits[order[k]] ? submits[order[k]] : "medium");
	}
	CU_ASSERT_EQUAL(CLAIM(t, "f-prio", NULL, 1, &c), 0);

	/* several at once come in the same order */
	for (int i = 0; i < 5; i++) {
		char *body = submits[i] ? fmt("{\"priority\":\"%s\"}", submits[i]) : fmt("{}");

		SUBMIT(t, body, ids[i], NULL);
		free(body);
	}
	CU_ASSERT_EQUAL(CLAIM(t, "f-prio", NULL, 3, &c), 3);
	for (int k = 0; k < 3 && k < c.n; k++)
		CU_ASSERT_STRING_EQUAL(c.id[k], ids[order[k]]);
	CU_ASSERT_EQUAL(CLAIM(t, "f-prio", NULL, 10, &c), 2);
	CU_ASSERT_STRING_EQUAL(c.id[0], ids[order[3]]);
	CU_ASSERT_STRING_EQUAL(c.id[1], ids[order[4]]);
}

static void test_claim_capabilities_subset(void)
{
	struct tenant *t = tenant_new("caps");
	char gpu[IDLEN], plain[IDLEN], two[IDLEN];
	struct claimed c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"capabilities\":[\"gpu\"]}", gpu, NULL);
	CU_ASSERT_EQUAL(CLAIM(t, "f-cpu", "[\"cpu\"]", 10, &c), 0);
	CU_ASSERT_EQUAL(CLAIM(t, "f-none", NULL, 10, &c), 0);
	CU_ASSERT_EQUAL(CLAIM(t, "f-none", "[]", 10, &c), 0);
	CU_ASSERT_EQUAL(CLAIM(t, "f-both", "[\"gpu\",\"cpu\"]", 10, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], gpu);
	/* a job needing nothing goes to anyone */
	SUBMIT(t, "{}", plain, NULL);
	CU_ASSERT_EQUAL(CLAIM(t, "f-cpu", "[\"cpu\"]", 10, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], plain);
	/* every capability of the job, not just one */
	SUBMIT(t, "{\"capabilities\":[\"gpu\",\"cuda12\"]}", two, NULL);
	CU_ASSERT_EQUAL(CLAIM(t, "f-gpu", "[\"gpu\"]", 10, &c), 0);
	CU_ASSERT_EQUAL(CLAIM(t, "f-cuda", "[\"cuda12\",\"x\"]", 10, &c), 0);
	CU_ASSERT_EQUAL(CLAIM(t, "f-all", "[\"x\",\"cuda12\",\"gpu\"]", 10, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], two);
}

static void test_claim_respects_not_before(void)
{
	struct tenant *t = tenant_new("notbefore");
	char id[IDLEN], state[6];
	struct http_resp r;
	struct claimed c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"retry\":{\"max\":3,\"backoff_s\":30,\"on\":[\"failed\"]}}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-nb", NULL, 1, &c), 1);
	r = patch_job(t, id, "f-nb", c.epoch[0], "failed", NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "stage"), "queued");
	http_resp_free(&r);
	CU_ASSERT_EQUAL(pg_int("SELECT (not_before > now() + interval '25 seconds')::int FROM jobs"
	                       " WHERE id = $1",
	                       id, NULL),
	                1);
	/* queued, but not before its backoff */
	CU_ASSERT_EQUAL(CLAIM(t, "f-nb", NULL, 10, &c), 0);
	CU_ASSERT_EQUAL(CLAIM(t, "f-other", NULL, 10, &c), 0);
	CU_ASSERT_EQUAL(pg_cmd(state,
	                       "UPDATE jobs SET not_before = now() - interval '1 second'"
	                       " WHERE id = $1",
	                       id, NULL),
	                1);
	CU_ASSERT_EQUAL(CLAIM(t, "f-other", NULL, 10, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], id);
	CU_ASSERT_EQUAL(c.epoch[0], 2);
	CU_ASSERT_EQUAL(c.attempts[0], 2);
}

static void test_claim_respects_seats(void)
{
	struct tenant *t = tenant_new("seats");
	char *batch;
	char ids[5][IDLEN];
	struct http_resp r;
	struct claimed c, c2;
	struct json_object *me = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	batch = batch_of(5, "{}");
	CU_ASSERT_EQUAL(SUBMIT_BATCH(t, batch, ids, 5), 5);
	free(batch);
	r = call("POST", "/v1/fleet/factories/heartbeat", t->worker,
	         "{\"factory_id\":\"f-seat\",\"capabilities\":[\"cpu\"],\"health\":\"ok\","
	         "\"load\":0.25,\"seat_limit\":2,\"descriptor\":{\"host\":\"h1\"}}",
	         NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_EQUAL(int_at(data_of(&r), "seat_limit"), 2);
	http_resp_free(&r);
	CU_ASSERT_EQUAL(CLAIM(t, "f-seat", NULL, 10, &c), 2);
	CU_ASSERT_EQUAL(CLAIM(t, "f-seat", NULL, 10, &c2), 0);
	/* the worker list shows it, fresh, with its two leases */
	r = call("GET", "/v1/fleet/factories", t->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	for (size_t i = 0; i < len_of(data_of(&r)); i++)
		if (strcmp(str_at(item_at(data_of(&r), i), "factory_id"), "f-seat") == 0)
			me = item_at(data_of(&r), i);
	CU_ASSERT_PTR_NOT_NULL(me);
	CU_ASSERT_EQUAL(int_at(me, "seat_limit"), 2);
	CU_ASSERT_EQUAL(int_at(me, "held"), 2);
	CU_ASSERT(obj_at(me, "stale") != NULL && !bool_at(me, "stale"));
	CU_ASSERT_STRING_EQUAL(str_at(me, "health"), "ok");
	http_resp_free(&r);
	/* a finished job frees its seat */
	PATCH_OK(t, c.id[0], "f-seat", c.epoch[0], "shipped", NULL, "shipped");
	CU_ASSERT_EQUAL(CLAIM(t, "f-seat", NULL, 10, &c2), 1);
	CU_ASSERT_EQUAL(CLAIM(t, "f-seat", NULL, 10, &c2), 0);
	/* a worker that never sent a heartbeat is limited by max_jobs alone */
	CU_ASSERT_EQUAL(CLAIM(t, "f-noheartbeat", NULL, 10, &c2), 2);
}

/* The seat count must hold when one worker sends several claims at once
 * (a multi-threaded worker): never more leases than seat_limit. */
static void test_seats_hold_under_concurrent_claims(void)
{
	struct tenant *t = tenant_new("seatrace");
	char *batch, ids[400][IDLEN];
	int over = 0, worst = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	batch = batch_of(400, "{}");
	CU_ASSERT_EQUAL(SUBMIT_BATCH(t, batch, ids, 400), 400);
	free(batch);
	/* ten rounds, each a fresh worker with two seats and sixteen claims at once */
	for (int round = 0; round < 10; round++) {
		char factory[32];
		struct http_resp r;
		int got;

		snprintf(factory, sizeof(factory), "f-shared-%d", round);
		r = callf("POST", "/v1/fleet/factories/heartbeat", t->worker,
		          "{\"factory_id\":\"%s\",\"seat_limit\":2}", factory);
		EXPECT_STATUS(r, 200);
		http_resp_free(&r);
		got = race_claims(t, 16, 5, factory, NULL, NULL);
		CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND"
		                       " lease_holder = $2 AND lease_status = 'held'",
		                       t->tid, factory, NULL),
		                got);
		over += got > 2;
		worst = got > worst ? got : worst;
	}
	CU_ASSERT_EQUAL(over, 0);
	if (over > 0)
		fprintf(stderr,
		        "\n  seat_limit 2: in %d of 10 rounds, 16 concurrent claims by one worker"
		        " got more (up to %d jobs)\n",
		        over, worst);
}

/* ---- 4. fencing ------------------------------------------------------------ */

static void test_fencing_after_release_and_reclaim(void)
{
	struct tenant *t = tenant_new("fence-rel");
	char id[IDLEN], path[128];
	struct claimed c1, c2;
	struct http_resp r;
	struct snap before, after;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-one", NULL, 1, &c1), 1);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/release"), t->worker,
	          "{\"factory_id\":\"f-one\",\"lease_epoch\":%" PRId64 "}", c1.epoch[0]);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "stage"), "queued");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(data_of(&r), "lease"), "status"), "released");
	http_resp_free(&r);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-two", NULL, 1, &c2), 1);
	CU_ASSERT_STRING_EQUAL(c2.id[0], id);
	CU_ASSERT_EQUAL(c2.epoch[0], c1.epoch[0] + 1);
	before = snap_job(t, id);

	/* the first holder, old epoch: every fenced call refused, nothing changes */
	r = patch_job(t, id, "f-one", c1.epoch[0], "building", NULL, NULL);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	r = patch_job(t, id, "f-one", c1.epoch[0], "shipped", ",\"result\":{\"zombie\":true}",
	              NULL);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), t->worker,
	          "{\"factory_id\":\"f-one\",\"lease_epoch\":%" PRId64 ",\"ttl_s\":60}",
	          c1.epoch[0]);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/release"), t->worker,
	          "{\"factory_id\":\"f-one\",\"lease_epoch\":%" PRId64 "}", c1.epoch[0]);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	/* the right epoch from the wrong worker is stale too: PATCH, renew, release */
	r = patch_job(t, id, "f-one", c2.epoch[0], "building", NULL, NULL);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), t->worker,
	          "{\"factory_id\":\"f-one\",\"lease_epoch\":%" PRId64 ",\"ttl_s\":3600}",
	          c2.epoch[0]);
	EXPECT_ERROR(r, 409, "stale_epoch");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "lease_epoch");
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/release"), t->worker,
	          "{\"factory_id\":\"f-one\",\"lease_epoch\":%" PRId64 "}", c2.epoch[0]);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	after = snap_job(t, id);
	EXPECT_UNCHANGED(before, after);
	CU_ASSERT_STRING_EQUAL(after.holder, "f-two");
	CU_ASSERT_EQUAL(
	    pg_int("SELECT count(*) FROM jobs WHERE id = $1 AND result IS NULL", id, NULL), 1);

	/* the current holder goes on; renew is recorded */
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), t->worker,
	          "{\"factory_id\":\"f-two\",\"lease_epoch\":%" PRId64 ",\"ttl_s\":120}",
	          c2.epoch[0]);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_EQUAL(int_at(obj_at(data_of(&r), "lease"), "renewals"), 1);
	http_resp_free(&r);
	CU_ASSERT_EQUAL(pg_int("SELECT (lease_expires_at > now() + interval '100 seconds')::int"
	                       " FROM jobs WHERE id = $1",
	                       id, NULL),
	                1);
	PATCH_OK(t, id, "f-two", c2.epoch[0], "building", NULL, "building");
	/* never backward */
	r = patch_job(t, id, "f-two", c2.epoch[0], "assigned", NULL, NULL);
	EXPECT_ERROR(r, 409, "invalid_transition");
	http_resp_free(&r);
	PATCH_OK(t, id, "f-two", c2.epoch[0], "building", NULL,
	         "building"); /* same stage is fine */
	PATCH_OK(t, id, "f-two", c2.epoch[0], "shipped", NULL, "shipped");
	/* a shipped job's lease is over: the holder too is fenced out now */
	r = patch_job(t, id, "f-two", c2.epoch[0], "shipped", NULL, NULL);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
}

static void test_fencing_after_reap(void)
{
	struct tenant *t = tenant_new("fence-reap");
	char id[IDLEN], path[128], state[6];
	struct claimed c1, c2;
	struct http_resp r;
	struct snap before, after;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-zombie", NULL, 1, &c1), 1);
	PATCH_OK(t, id, "f-zombie", c1.epoch[0], "building", NULL, "building");
	/* what the reaper does to an expired lease */
	CU_ASSERT_EQUAL(
	    pg_cmd(state,
	           "UPDATE jobs SET lease_epoch = lease_epoch + 1,"
	           " lease_status = 'expired', lease_expires_at = now() - interval '1 s',"
	           " stage = 'queued', rev = rev + 1 WHERE id = $1",
	           id, NULL),
	    1);
	before = snap_job(t, id);
	CU_ASSERT_STRING_EQUAL(before.stage, "queued");
	r = patch_job(t, id, "f-zombie", c1.epoch[0], "shipped", NULL, NULL);
	EXPECT_ERROR(r, 409, "stale_epoch");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "lease_epoch");
	http_resp_free(&r);
	r = patch_job(t, id, "f-zombie", c1.epoch[0] + 1, "testing", NULL, NULL); /* not held */
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), t->worker,
	          "{\"factory_id\":\"f-zombie\",\"lease_epoch\":%" PRId64 "}", c1.epoch[0]);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	after = snap_job(t, id);
	EXPECT_UNCHANGED(before, after);
	/* claimed again by another worker: the zombie still cannot write */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-fresh", NULL, 1, &c2), 1);
	CU_ASSERT_EQUAL(c2.epoch[0], c1.epoch[0] + 2);
	before = snap_job(t, id);
	r = patch_job(t, id, "f-zombie", c1.epoch[0], "shipped", NULL, NULL);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	r = callf("POST", "/v1/fleet/jobs:transition", t->worker,
	          "{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-zombie\",\"lease_epoch\":%" PRId64
	          ",\"stage\":\"shipped\"}]}",
	          id, c1.epoch[0]);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_FALSE(bool_at(item_at(obj_at(data_of(&r), "items"), 0), "ok"));
	CU_ASSERT_STRING_EQUAL(str_at(item_at(obj_at(data_of(&r), "items"), 0), "error"),
	                       "stale_epoch");
	http_resp_free(&r);
	after = snap_job(t, id);
	EXPECT_UNCHANGED(before, after);
	PATCH_OK(t, id, "f-fresh", c2.epoch[0], "shipped", NULL, "shipped");
}

static void test_fencing_after_cancel(void)
{
	struct tenant *t = tenant_new("fence-cancel");
	char id[IDLEN], path[128];
	struct claimed c;
	struct http_resp r;
	struct snap before, after;
	char kinds[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-worker", NULL, 1, &c), 1);
	PATCH_OK(t, id, "f-worker", c.epoch[0], "review", NULL, "review");
	r = call("POST", job_path(path, sizeof(path), id, "/cancel"), t->submitter, "{}", NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "stage"), "cancelled");
	CU_ASSERT_EQUAL(int_at(obj_at(data_of(&r), "lease"), "epoch"), c.epoch[0] + 1);
	http_resp_free(&r);
	before = snap_job(t, id);
	CU_ASSERT_STRING_EQUAL(before.stage, "cancelled");
	r = patch_job(t, id, "f-worker", c.epoch[0], "shipped", NULL, NULL);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	r = patch_job(t, id, "f-worker", c.epoch[0] + 1, "shipped", NULL, NULL);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), t->worker,
	          "{\"factory_id\":\"f-worker\",\"lease_epoch\":%" PRId64 "}", c.epoch[0]);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	after = snap_job(t, id);
	EXPECT_UNCHANGED(before, after);
	/* a final job cannot be cancelled again */
	r = call("POST", job_path(path, sizeof(path), id, "/cancel"), t->submitter, "{}", NULL);
	EXPECT_ERROR(r, 409, "invalid_transition");
	http_resp_free(&r);
	after = snap_job(t, id);
	EXPECT_UNCHANGED(before, after);
	event_kinds(t, id, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,claimed,stage_changed,cancelled");
	/* the run ended with the cancel */
	r = call("GET", job_path(path, sizeof(path), id, "/runs"), t->reader, NULL, NULL);
	CU_ASSERT_EQUAL(len_of(data_of(&r)), 1);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "exit"), "cancelled");
	http_resp_free(&r);
	/* a queued job is cancelled too, and is never claimed */
	SUBMIT(t, "{}", id, NULL);
	r = call("POST", job_path(path, sizeof(path), id, "/cancel"), t->submitter, "{}", NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	CU_ASSERT_EQUAL(CLAIM(t, "f-worker", NULL, 10, &c), 0);
}

static void test_if_match(void)
{
	struct tenant *t = tenant_new("ifmatch");
	char id[IDLEN], quoted[40];
	struct claimed c;
	struct http_resp r;
	struct snap before, after;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-im", NULL, 1, &c), 1);
	before = snap_job(t, id);
	snprintf(quoted, sizeof(quoted), "\"%" PRId64 "\"", before.rev + 5);
	r = patch_job(t, id, "f-im", c.epoch[0], "building", NULL, quoted);
	EXPECT_ERROR(r, 412, "precondition_failed");
	http_resp_free(&r);
	snprintf(quoted, sizeof(quoted), "\"%" PRId64 "\"", before.rev - 1);
	r = patch_job(t, id, "f-im", c.epoch[0], "building", NULL, quoted);
	EXPECT_ERROR(r, 412, "precondition_failed");
	http_resp_free(&r);
	r = patch_job(t, id, "f-im", c.epoch[0], "building", NULL, "W/\"x\"");
	EXPECT_ERROR(r, 400, "invalid_request");
	http_resp_free(&r);
	after = snap_job(t, id);
	EXPECT_UNCHANGED(before, after);
	/* the stale epoch is reported before the rev */
	snprintf(quoted, sizeof(quoted), "\"%" PRId64 "\"", before.rev + 5);
	r = patch_job(t, id, "f-im", c.epoch[0] + 1, "building", NULL, quoted);
	EXPECT_ERROR(r, 409, "stale_epoch");
	http_resp_free(&r);
	/* the current rev passes, and bumps the rev */
	snprintf(quoted, sizeof(quoted), "\"%" PRId64 "\"", before.rev);
	r = patch_job(t, id, "f-im", c.epoch[0], "building", NULL, quoted);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_EQUAL(int_at(data_of(&r), "rev"), before.rev + 1);
	http_resp_free(&r);
	/* and that rev is now stale */
	r = patch_job(t, id, "f-im", c.epoch[0], "testing", NULL, quoted);
	EXPECT_ERROR(r, 412, "precondition_failed");
	http_resp_free(&r);
}

/* DESIGN 4: release -> "job back to queued (or stays in its stage if
 * requeue:false and it is final)". A job a worker holds is never final, so
 * requeue:false on an active job must not leave it in an active stage with
 * no lease, where no claim, PATCH or reaper pass can ever reach it. */
static void test_release_without_requeue_leaves_no_orphan(void)
{
	struct tenant *t = tenant_new("release");
	char id[IDLEN], path[128];
	struct claimed c;
	struct http_resp r;
	struct snap s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-rel", NULL, 1, &c), 1);
	PATCH_OK(t, id, "f-rel", c.epoch[0], "building", NULL, "building");
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/release"), t->worker,
	          "{\"factory_id\":\"f-rel\",\"lease_epoch\":%" PRId64 ",\"requeue\":false}",
	          c.epoch[0]);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	s = snap_job(t, id);
	CU_ASSERT_STRING_EQUAL(s.lease_status, "released");
	/* either back in the queue, or still held: never active and lease-less */
	CU_ASSERT(strcmp(s.stage, "queued") == 0);
	if (strcmp(s.stage, "queued") != 0)
		fprintf(stderr, "\n  release requeue:false left job %s in stage %s with lease %s\n",
		        id, s.stage, s.lease_status);
	/* requeue (the default) puts it back and a claim gets it, attempt 2 */
	SUBMIT(t, "{}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-rel2", NULL, 1, &c), 1);
	r = callf("POST", job_path(path, sizeof(path), c.id[0], "/lease/release"), t->worker,
	          "{\"factory_id\":\"f-rel2\",\"lease_epoch\":%" PRId64 "}", c.epoch[0]);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "stage"), "queued");
	http_resp_free(&r);
	{
		char kinds[256];
		char held[IDLEN];

		snprintf(held, sizeof(held), "%s", c.id[0]);
		event_kinds(t, held, kinds, sizeof(kinds));
		CU_ASSERT(has_word(kinds, "released"));
		CU_ASSERT(has_word(kinds, "requeued"));
		r = call("GET", job_path(path, sizeof(path), held, "/runs"), t->reader, NULL, NULL);
		CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "exit"), "released");
		http_resp_free(&r);
	}
}

/* ---- 5. idempotency ---------------------------------------------------------- */

static void test_idempotent_submit(void)
{
	struct tenant *t = tenant_new("idem");
	const char *v1 = "{\"idempotency_key\":\"k1\",\"body\":\"v1\",\"priority\":\"high\"}";
	const char *v1_reordered =
	    "{\"priority\":\"high\",\"body\":\"v1\",\"idempotency_key\":\"k1\"}";
	const char *v2 = "{\"idempotency_key\":\"k1\",\"body\":\"v2\",\"priority\":\"high\"}";
	const char *v3 = "{\"idempotency_key\":\"k1\",\"body\":\"v3\"}";
	char id[IDLEN], path[96], kinds[256];
	struct claimed c;
	struct http_resp r;
	int64_t rev;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	r = call("POST", "/v1/fleet/jobs", t->submitter, v1, NULL);
	EXPECT_STATUS(r, 201);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "outcome"), "created");
	CU_ASSERT(obj_at(data_of(&r), "replayed") != NULL && !bool_at(data_of(&r), "replayed"));
	snprintf(id, sizeof(id), "%s", str_at(obj_at(data_of(&r), "job"), "id"));
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(data_of(&r), "job"), "idempotency_key"), "k1");
	rev = int_at(obj_at(data_of(&r), "job"), "rev");
	http_resp_free(&r);

	/* replay: same content (keys in any order) -> the same job, untouched */
	for (int i = 0; i < 2; i++) {
		r = call("POST", "/v1/fleet/jobs", t->submitter, i ? v1_reordered : v1, NULL);
		EXPECT_STATUS(r, 200);
		CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "outcome"), "replayed");
		CU_ASSERT_TRUE(bool_at(data_of(&r), "replayed"));
		CU_ASSERT_STRING_EQUAL(str_at(obj_at(data_of(&r), "job"), "id"), id);
		CU_ASSERT_EQUAL(int_at(obj_at(data_of(&r), "job"), "rev"), rev);
		http_resp_free(&r);
	}
	/* supersede: other content while queued -> same id, new content */
	r = call("POST", "/v1/fleet/jobs", t->submitter, v2, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "outcome"), "superseded");
	CU_ASSERT(obj_at(data_of(&r), "replayed") != NULL && !bool_at(data_of(&r), "replayed"));
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(data_of(&r), "job"), "id"), id);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(data_of(&r), "job"), "body"), "v2");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(data_of(&r), "job"), "stage"), "queued");
	CU_ASSERT(int_at(obj_at(data_of(&r), "job"), "rev") > rev);
	http_resp_free(&r);
	r = call("GET", job_path(path, sizeof(path), id, NULL), t->reader, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "body"), "v2");
	http_resp_free(&r);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1", t->tid, NULL), 1);

	/* claimed: the same content still replays; other content conflicts */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-idem", NULL, 1, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], id);
	r = call("POST", "/v1/fleet/jobs", t->submitter, v2, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_TRUE(bool_at(data_of(&r), "replayed"));
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/jobs", t->submitter, v3, NULL);
	EXPECT_ERROR(r, 409, "idempotency_conflict");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "idempotency_key");
	http_resp_free(&r);
	r = call("GET", job_path(path, sizeof(path), id, NULL), t->reader, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "body"), "v2");
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "stage"), "assigned");
	http_resp_free(&r);
	event_kinds(t, id, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,superseded,claimed");
	/* keys are per tenant: another tenant's k1 is a new job */
	{
		struct tenant *u = tenant_new("idem2");
		char other[IDLEN];

		CU_ASSERT_PTR_NOT_NULL_FATAL(u);
		SUBMIT(u, v3, other, NULL);
		CU_ASSERT_STRING_NOT_EQUAL(other, id);
	}
}

/* ---- 6. dependencies -------------------------------------------------------- */

static void test_hard_dependency_by_key(void)
{
	struct tenant *t = tenant_new("dep-hard");
	char a[IDLEN], b[IDLEN], late[IDLEN], stage[IDLEN], kinds[256];
	struct claimed c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"idempotency_key\":\"a\"}", a, stage);
	CU_ASSERT_STRING_EQUAL(stage, "queued");
	SUBMIT(t, "{\"idempotency_key\":\"b\",\"deps\":[\"a\"]}", b, stage);
	CU_ASSERT_STRING_EQUAL(stage, "blocked");
	CU_ASSERT_STRING_EQUAL(snap_job(t, b).stage, "blocked");
	/* a blocked job is not claimable: only a comes */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-dep", NULL, 10, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], a);
	PATCH_OK(t, a, "f-dep", c.epoch[0], "testing", NULL, "testing");
	CU_ASSERT_STRING_EQUAL(snap_job(t, b).stage, "blocked"); /* hard: testing is not enough */
	PATCH_OK(t, a, "f-dep", c.epoch[0], "shipped", NULL, "shipped");
	CU_ASSERT_STRING_EQUAL(snap_job(t, b).stage, "queued"); /* in the same transaction */
	event_kinds(t, b, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,unblocked");
	CU_ASSERT_EQUAL(CLAIM(t, "f-dep", NULL, 10, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], b);
	/* a dep that has shipped already does not block */
	SUBMIT(t, "{\"deps\":[\"a\"]}", late, stage);
	CU_ASSERT_STRING_EQUAL(stage, "queued");
}

static void test_soft_dependency_by_id(void)
{
	struct tenant *t = tenant_new("dep-soft");
	char a[IDLEN], b[IDLEN], h[IDLEN], stage[IDLEN];
	struct claimed c;
	char *body;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"capabilities\":[\"dep\"]}", a, NULL);
	body = fmt("{\"deps\":[\"%s\"],\"deps_mode\":\"soft\"}", a);
	SUBMIT(t, body, b, stage);
	free(body);
	CU_ASSERT_STRING_EQUAL(stage, "blocked");
	body = fmt("{\"deps\":[\"%s\"],\"deps_mode\":\"hard\"}", a);
	SUBMIT(t, body, h, stage);
	free(body);
	CU_ASSERT_STRING_EQUAL(stage, "blocked");
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-dep", "[\"dep\"]", 1, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], a);
	PATCH_OK(t, a, "f-dep", c.epoch[0], "building", NULL, "building");
	CU_ASSERT_STRING_EQUAL(snap_job(t, b).stage, "blocked");
	PATCH_OK(t, a, "f-dep", c.epoch[0], "review", NULL, "review");
	CU_ASSERT_STRING_EQUAL(snap_job(t, b).stage, "blocked");
	PATCH_OK(t, a, "f-dep", c.epoch[0], "testing", NULL, "testing");
	CU_ASSERT_STRING_EQUAL(snap_job(t, b).stage, "queued");
	CU_ASSERT_STRING_EQUAL(snap_job(t, h).stage, "blocked");
	PATCH_OK(t, a, "f-dep", c.epoch[0], "shipped", NULL, "shipped");
	CU_ASSERT_STRING_EQUAL(snap_job(t, h).stage, "queued");
}

static void test_unknown_dependency_400(void)
{
	struct tenant *t = tenant_new("dep-unknown");
	struct tenant *u = tenant_new("dep-other");
	char a[IDLEN], foreign[IDLEN];
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	SUBMIT(t, "{\"idempotency_key\":\"known\"}", a, NULL);
	SUBMIT(u, "{\"idempotency_key\":\"theirs\"}", foreign, NULL);
	r = call("POST", "/v1/fleet/jobs", t->submitter, "{\"deps\":[\"nosuchkey\"]}", NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "deps[0]");
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/jobs", t->submitter, "{\"deps\":[\"known\",\"999999999999\"]}",
	         NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "deps[1]");
	http_resp_free(&r);
	/* another tenant's job, by id or by key, is unknown here */
	r = callf("POST", "/v1/fleet/jobs", t->submitter, "{\"deps\":[\"%s\"]}", foreign);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "deps[0]");
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/jobs", t->submitter, "{\"deps\":[\"theirs\"]}", NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	http_resp_free(&r);
	/* in a batch the field names the item; nothing of the batch is written */
	r = call("POST", "/v1/fleet/jobs:batch", t->submitter,
	         "{\"jobs\":[{\"idempotency_key\":\"ok1\"},{\"deps\":[\"known\",\"ghost\"]}]}",
	         NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "jobs[1].deps[1]");
	http_resp_free(&r);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1", t->tid, NULL), 1);
}

/* A dep string that is one job's idempotency_key and another job's id
 * resolves the same way whether or not the id's job has a key of its own:
 * to the key's job (db_jobs.c SQL_RESOLVE_DEPS orders key matches first). */
static void test_dep_key_preferred_over_id(void)
{
	struct tenant *t = tenant_new("dep-keyid");
	char bare[IDLEN], keyed[IDLEN], by_key[IDLEN], holder[IDLEN], dep[IDLEN], path[96];
	struct json_object *d;
	struct http_resp r;
	char *body;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int has_key = 0; has_key < 2; has_key++) {
		/* job A (its id is the string), job B whose key is that same string */
		SUBMIT(t, has_key ? "{\"idempotency_key\":\"other-key\"}" : "{\"body\":\"no key\"}",
		       has_key ? keyed : bare, NULL);
		body = fmt("{\"idempotency_key\":\"%s\"}", has_key ? keyed : bare);
		SUBMIT(t, body, by_key, NULL);
		free(body);
		body = fmt("{\"deps\":[\"%s\"]}", has_key ? keyed : bare);
		SUBMIT(t, body, holder, NULL);
		free(body);
		r = call("GET", job_path(path, sizeof(path), holder, NULL), t->reader, NULL, NULL);
		d = item_at(obj_at(data_of(&r), "deps"), 0);
		snprintf(dep, sizeof(dep), "%s", d != NULL ? json_object_get_string(d) : "");
		http_resp_free(&r);
		CU_ASSERT_STRING_EQUAL(dep, by_key);
		if (strcmp(dep, by_key) != 0)
			fprintf(
			    stderr,
			    "\n  dep \"%s\" (id of a job %s key; key of job %s) resolved to %s\n",
			    has_key ? keyed : bare, has_key ? "with another" : "without a", by_key,
			    dep);
	}
}

static void test_batch_dependencies_and_cycles(void)
{
	struct tenant *t = tenant_new("dep-batch");
	char ids[4][IDLEN], id[IDLEN], path[96];
	struct http_resp r;
	struct json_object *jobs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* a cycle: 422 naming its keys, nothing written */
	r = call("POST", "/v1/fleet/jobs:batch", t->submitter,
	         "{\"jobs\":[{\"idempotency_key\":\"c0\"},"
	         "{\"idempotency_key\":\"c1\",\"deps\":[\"c2\"]},"
	         "{\"idempotency_key\":\"c2\",\"deps\":[\"c3\"]},"
	         "{\"idempotency_key\":\"c3\",\"deps\":[\"c1\"]}]}",
	         NULL);
	EXPECT_ERROR(r, 422, "dependency_cycle");
	CU_ASSERT_PTR_NOT_NULL(strstr(str_at(r.json, "message"), "c1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str_at(r.json, "message"), "c2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str_at(r.json, "message"), "c3"));
	CU_ASSERT_PTR_NULL(strstr(str_at(r.json, "message"), "c0"));
	http_resp_free(&r);
	r = call("GET", "/v1/fleet/jobs", t->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_EQUAL(len_of(obj_at(data_of(&r), "items")), 0);
	http_resp_free(&r);
	SUBMIT(t, "{\"idempotency_key\":\"c0\"}", id, NULL); /* 201 created: it was never written */
	SUBMIT(t, "{\"idempotency_key\":\"c1\"}", id, NULL);
	/* a job depending on itself */
	r = call("POST", "/v1/fleet/jobs:batch", t->submitter,
	         "{\"jobs\":[{\"idempotency_key\":\"self\",\"deps\":[\"self\"]}]}", NULL);
	EXPECT_ERROR(r, 422, "dependency_cycle");
	CU_ASSERT_PTR_NOT_NULL(strstr(str_at(r.json, "message"), "self"));
	http_resp_free(&r);

	/* deps by batch key, in any order of the batch */
	r = call("POST", "/v1/fleet/jobs:batch", t->submitter,
	         "{\"jobs\":[{\"idempotency_key\":\"d2\",\"deps\":[\"d1\"]},"
	         "{\"idempotency_key\":\"d1\"},"
	         "{\"idempotency_key\":\"d3\",\"deps\":[\"d1\",\"d2\",\"c0\"]},"
	         "{\"body\":\"no key\"}]}",
	         NULL);
	EXPECT_STATUS(r, 201);
	jobs = obj_at(data_of(&r), "jobs");
	CU_ASSERT_EQUAL(len_of(jobs), 4);
	for (size_t i = 0; i < len_of(jobs) && i < 4; i++) {
		snprintf(ids[i], IDLEN, "%s", str_at(item_at(jobs, i), "id"));
		CU_ASSERT_STRING_EQUAL(str_at(item_at(jobs, i), "outcome"), "created");
	}
	CU_ASSERT_STRING_EQUAL(str_at(item_at(jobs, 0), "idempotency_key"), "d2");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(jobs, 1), "idempotency_key"), "d1");
	CU_ASSERT_PTR_NULL(obj_at(item_at(jobs, 3), "idempotency_key")); /* null */
	http_resp_free(&r);
	CU_ASSERT_STRING_EQUAL(snap_job(t, ids[0]).stage, "blocked");
	CU_ASSERT_STRING_EQUAL(snap_job(t, ids[1]).stage, "queued");
	CU_ASSERT_STRING_EQUAL(snap_job(t, ids[2]).stage, "blocked");
	CU_ASSERT_STRING_EQUAL(snap_job(t, ids[3]).stage, "queued");
	r = call("GET", job_path(path, sizeof(path), ids[2], NULL), t->reader, NULL, NULL);
	CU_ASSERT_EQUAL(len_of(obj_at(data_of(&r), "deps")), 3);
	http_resp_free(&r);
	/* the same batch again replays every item */
	r = call("POST", "/v1/fleet/jobs:batch", t->submitter,
	         "{\"jobs\":[{\"idempotency_key\":\"d1\"},{\"idempotency_key\":\"d2\",\"deps\":["
	         "\"d1\"]}]}",
	         NULL);
	EXPECT_STATUS(r, 201);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(obj_at(data_of(&r), "jobs"), 0), "outcome"),
	                       "replayed");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(obj_at(data_of(&r), "jobs"), 1), "outcome"),
	                       "replayed");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(obj_at(data_of(&r), "jobs"), 0), "id"), ids[1]);
	http_resp_free(&r);
	/* a key twice in one batch */
	r = call("POST", "/v1/fleet/jobs:batch", t->submitter,
	         "{\"jobs\":[{\"idempotency_key\":\"twice\"},{\"idempotency_key\":\"twice\"}]}",
	         NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "jobs[1].idempotency_key");
	http_resp_free(&r);
}

/* A supersede that would close a cycle through stored jobs is refused and
 * changes nothing. */
static void test_supersede_cycle_refused(void)
{
	struct tenant *t = tenant_new("dep-super");
	char p[IDLEN], q[IDLEN], stage[IDLEN];
	struct http_resp r;
	struct snap before, after;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"idempotency_key\":\"p\"}", p, NULL);
	SUBMIT(t, "{\"idempotency_key\":\"q\",\"deps\":[\"p\"]}", q, stage);
	CU_ASSERT_STRING_EQUAL(stage, "blocked");
	before = snap_job(t, p);
	r = call("POST", "/v1/fleet/jobs", t->submitter,
	         "{\"idempotency_key\":\"p\",\"deps\":[\"q\"]}", NULL);
	EXPECT_ERROR(r, 422, "dependency_cycle");
	http_resp_free(&r);
	after = snap_job(t, p);
	EXPECT_UNCHANGED(before, after);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_deps WHERE job_id = $1", p, NULL), 0);
}

struct shipper {
	const struct tenant *t;
	pthread_barrier_t *go;
	const char *id, *factory;
	int64_t epoch;
	long status;
};

static void *ship_at_once(void *arg)
{
	struct shipper *s = arg;
	char path[96], body[160];
	struct http_resp r;

	snprintf(body, sizeof(body),
	         "{\"factory_id\":\"%s\",\"lease_epoch\":%" PRId64 ",\"stage\":\"shipped\"}",
	         s->factory, s->epoch);
	job_path(path, sizeof(path), s->id, NULL);
	pthread_barrier_wait(s->go);
	if (http_do("PATCH", path, s->t->worker, body, strlen(body), NULL, &r) == 0) {
		s->status = r.status;
		http_resp_free(&r);
	}
	return NULL;
}

/* C waits for A1 and A2, shipped by two workers at the same moment: whichever
 * commits second must see the other's ship and queue C. */
static void test_two_deps_shipped_at_once(void)
{
	struct tenant *t = tenant_new("dep-race");
	int queued = 0, shipped_ok = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int round = 0; round < 20; round++) {
		char ids[3][IDLEN];
		struct claimed c1, c2;
		struct shipper s[2];
		pthread_t th[2];
		pthread_barrier_t go;
		struct snap cs;
		char *body;
		int n;

		/* deps by id: this test is about the race, not about resolving keys */
		n = SUBMIT_BATCH(t,
		                 "{\"jobs\":[{\"capabilities\":[\"race-a\"]},"
		                 "{\"capabilities\":[\"race-a\"]}]}",
		                 ids, 2);
		CU_ASSERT_EQUAL_FATAL(n, 2);
		body =
		    fmt("{\"capabilities\":[\"race-c\"],\"deps\":[\"%s\",\"%s\"]}", ids[0], ids[1]);
		SUBMIT(t, body, ids[2], NULL);
		free(body);
		CU_ASSERT_STRING_EQUAL(snap_job(t, ids[2]).stage, "blocked");
		CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-ship-1", "[\"race-a\"]", 1, &c1), 1);
		CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-ship-2", "[\"race-a\"]", 1, &c2), 1);
		CU_ASSERT_STRING_NOT_EQUAL(c1.id[0], c2.id[0]);
		pthread_barrier_init(&go, NULL, 2);
		s[0] = (struct shipper){t, &go, c1.id[0], "f-ship-1", c1.epoch[0], 0};
		s[1] = (struct shipper){t, &go, c2.id[0], "f-ship-2", c2.epoch[0], 0};
		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, ship_at_once, &s[i]);
		for (int i = 0; i < 2; i++) {
			pthread_join(th[i], NULL);
			shipped_ok += s[i].status == 200;
		}
		pthread_barrier_destroy(&go);
		cs = snap_job(t, ids[2]);
		queued += strcmp(cs.stage, "queued") == 0;
		if (strcmp(cs.stage, "queued") != 0)
			fprintf(stderr, "\n  round %d: both deps shipped, C is %s\n", round,
			        cs.stage);
	}
	CU_ASSERT_EQUAL(shipped_ok, 40);
	CU_ASSERT_EQUAL(queued, 20);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE tenant_id = $1"
	                       " AND kind = 'unblocked'",
	                       t->tid, NULL),
	                20);
}

/* DESIGN 4: "A dep that ends dead_letter/cancelled leaves dependents blocked
 * and records an event." */
struct dependent {
	const struct tenant *t;
	pthread_barrier_t *go;
	const char *dep;
	long status;
};

static void *submit_at_once(void *arg)
{
	struct dependent *d = arg;
	char body[128];
	struct http_resp r;

	snprintf(body, sizeof(body), "{\"capabilities\":[\"race-d\"],\"deps\":[\"%s\"]}", d->dep);
	pthread_barrier_wait(d->go);
	if (http_do("POST", "/v1/fleet/jobs", d->t->submitter, body, strlen(body), NULL, &r) == 0) {
		d->status = r.status;
		http_resp_free(&r);
	}
	return NULL;
}

#define DEP_ROUNDS     20
#define DEP_SUBMITTERS 8

/* A dep ships while DEP_SUBMITTERS submits name it, all at the same moment:
 * each submit either sees it shipped (queued) or is seen by the ship among
 * its dependents (unblocked), because a submit locks its deps FOR SHARE
 * until it commits. Without that lock some dependents stay blocked for
 * ever, every dep shipped. */
static void test_submit_while_its_dep_ships(void)
{
	struct tenant *t = tenant_new("dep-submit");
	int created = 0, shipped_ok = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int round = 0; round < DEP_ROUNDS; round++) {
		struct dependent d[DEP_SUBMITTERS];
		pthread_t th[DEP_SUBMITTERS + 1];
		pthread_barrier_t go;
		struct claimed c;
		struct shipper s;
		char dep[IDLEN];

		SUBMIT(t, "{\"capabilities\":[\"race-dep\"]}", dep, NULL);
		CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-dep", "[\"race-dep\"]", 1, &c), 1);
		pthread_barrier_init(&go, NULL, DEP_SUBMITTERS + 1);
		s = (struct shipper){t, &go, c.id[0], "f-dep", c.epoch[0], 0};
		pthread_create(&th[DEP_SUBMITTERS], NULL, ship_at_once, &s);
		for (int i = 0; i < DEP_SUBMITTERS; i++) {
			d[i] = (struct dependent){t, &go, dep, 0};
			pthread_create(&th[i], NULL, submit_at_once, &d[i]);
		}
		for (int i = 0; i <= DEP_SUBMITTERS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);
		shipped_ok += s.status == 200;
		for (int i = 0; i < DEP_SUBMITTERS; i++)
			created += d[i].status == 201;
	}
	EXPECT_INT(shipped_ok, DEP_ROUNDS);
	EXPECT_INT(created, DEP_ROUNDS * DEP_SUBMITTERS);
	/* no job is blocked with every dep shipped */
	EXPECT_INT(
	    pg_int("SELECT count(*) FROM jobs j WHERE j.tenant_id = $1 AND j.stage = 'blocked'"
	           " AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs x ON x.id = d.dep_id"
	           "                  WHERE d.job_id = j.id AND x.stage <> 'shipped')",
	           t->tid, NULL),
	    0);
	EXPECT_INT(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND stage = 'queued'"
	                  " AND capabilities = '{race-d}'",
	                  t->tid, NULL),
	           DEP_ROUNDS * DEP_SUBMITTERS);
}

static void test_dependency_that_fails_leaves_dependent_blocked(void)
{
	struct tenant *t = tenant_new("dep-fail");
	char a[IDLEN], b[IDLEN], x[IDLEN], y[IDLEN], path[96], kinds[256];
	struct claimed c;
	struct http_resp r;
	char *body;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"retry\":{\"max\":0}}", a, NULL);
	body = fmt("{\"deps\":[\"%s\"]}", a); /* by id: not about resolving keys */
	SUBMIT(t, body, b, NULL);
	free(body);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-df", NULL, 1, &c), 1);
	PATCH_OK(t, a, "f-df", c.epoch[0], "failed", NULL, "dead_letter");
	CU_ASSERT_STRING_EQUAL(snap_job(t, b).stage, "blocked");
	event_kinds(t, b, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,dependency_failed"); /* why it stays blocked */
	/* cancelled dep */
	SUBMIT(t, "{}", x, NULL);
	body = fmt("{\"deps\":[\"%s\"]}", x);
	SUBMIT(t, body, y, NULL);
	free(body);
	r = call("POST", job_path(path, sizeof(path), x, "/cancel"), t->submitter, "{}", NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	CU_ASSERT_STRING_EQUAL(snap_job(t, y).stage, "blocked");
	event_kinds(t, y, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,dependency_cancelled");
}

/* jobs:transition locks the dependents of every item that targets shipped
 * in the transition's own round trip, before the fences are known
 * (db_jobs.c). In a batch where one item ships and one is stale, the
 * shipped one's dependent is unblocked (fails when the lock's answer is
 * lost: tried) and the stale one's stays blocked (held by the unblock's
 * re-check of every dep, whatever ids it is given). */
static void test_transition_unblocks_only_what_shipped(void)
{
	struct tenant *t = tenant_new("dep-stale");
	char a[IDLEN], b[IDLEN], da[IDLEN], db[IDLEN], kinds[256];
	struct claimed c;
	struct http_resp r;
	struct json_object *items;
	char *body;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", a, NULL);
	SUBMIT(t, "{}", b, NULL);
	body = fmt("{\"deps\":[\"%s\"]}", a);
	SUBMIT(t, body, da, NULL);
	free(body);
	body = fmt("{\"deps\":[\"%s\"]}", b);
	SUBMIT(t, body, db, NULL);
	free(body);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-ds", NULL, 2, &c), 2);
	CU_ASSERT_STRING_EQUAL_FATAL(c.id[0], a);
	CU_ASSERT_STRING_EQUAL_FATAL(c.id[1], b);
	r = callf("POST", "/v1/fleet/jobs:transition", t->worker,
	          "{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-ds\",\"lease_epoch\":%" PRId64
	          ",\"stage\":\"shipped\"},{\"id\":\"%s\",\"factory_id\":\"f-ds\","
	          "\"lease_epoch\":%" PRId64 ",\"stage\":\"shipped\"}]}",
	          a, c.epoch[0], b, c.epoch[1] + 1);
	EXPECT_STATUS(r, 200);
	items = obj_at(data_of(&r), "items");
	CU_ASSERT_TRUE(bool_at(item_at(items, 0), "ok"));
	CU_ASSERT_STRING_EQUAL(str_at(item_at(items, 1), "error"), "stale_epoch");
	http_resp_free(&r);
	CU_ASSERT_STRING_EQUAL(snap_job(t, da).stage, "queued");
	CU_ASSERT_STRING_EQUAL(snap_job(t, b).stage, "assigned");
	CU_ASSERT_STRING_EQUAL(snap_job(t, db).stage, "blocked");
	event_kinds(t, db, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted");
}

/* ---- 7. retries and runs ------------------------------------------------------ */

static void test_retry_backoff_then_dead_letter(void)
{
	struct tenant *t = tenant_new("retry");
	char id[IDLEN], path[96], state[6], kinds[512], extra[200];
	struct claimed c;
	struct http_resp r;
	struct json_object *runs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"retry\":{\"max\":2,\"backoff_s\":30,\"on\":[\"failed\"]}}", id, NULL);
	for (int attempt = 1; attempt <= 3; attempt++) {
		char factory[32];

		snprintf(factory, sizeof(factory), "f-retry-%d", attempt);
		CU_ASSERT_EQUAL_FATAL(CLAIM(t, factory, NULL, 1, &c), 1);
		CU_ASSERT_EQUAL(c.attempts[0], attempt);
		snprintf(extra, sizeof(extra),
		         ",\"result\":{\"attempt\":%d},\"insights\":{\"model\":"
		         "\"m%d\",\"tokens_in\":%d,\"cost_usd\":0.5,\"estimated\":true}",
		         attempt, attempt, attempt * 100);
		r = patch_job(t, id, factory, c.epoch[0], "failed", extra, NULL);
		EXPECT_STATUS(r, 200);
		if (attempt < 3) {
			/* queued again, after backoff_s x 2^(attempt-1) */
			char lo[16], hi[16];

			CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "stage"), "queued");
			snprintf(lo, sizeof(lo), "%d", 30 * (1 << (attempt - 1)) - 5);
			snprintf(hi, sizeof(hi), "%d", 30 * (1 << (attempt - 1)) + 5);
			CU_ASSERT_EQUAL(
			    pg_int(
			        "SELECT (not_before BETWEEN now() + make_interval(secs => $2::int)"
			        " AND now() + make_interval(secs => $3::int))::int"
			        " FROM jobs WHERE id = $1",
			        id, lo, hi, NULL),
			    1);
			CU_ASSERT_EQUAL(CLAIM(t, factory, NULL, 1, &c), 0);
			CU_ASSERT_EQUAL(pg_cmd(state,
			                       "UPDATE jobs SET not_before = now() WHERE id = $1",
			                       id, NULL),
			                1);
		} else {
			CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "stage"), "dead_letter");
		}
		http_resp_free(&r);
	}
	CU_ASSERT_EQUAL(
	    pg_int("SELECT (finished_at IS NOT NULL)::int FROM jobs WHERE id = $1", id, NULL), 1);
	CU_ASSERT_EQUAL(CLAIM(t, "f-retry-4", NULL, 1, &c), 0);
	/* one run per attempt, each ended failed, with its insights and result */
	r = call("GET", job_path(path, sizeof(path), id, "/runs"), t->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	runs = data_of(&r);
	CU_ASSERT_EQUAL(len_of(runs), 3);
	for (size_t i = 0; i < len_of(runs); i++) {
		struct json_object *run = item_at(runs, i);
		char model[24], factory[32];

		snprintf(model, sizeof(model), "m%zu", i + 1);
		snprintf(factory, sizeof(factory), "f-retry-%zu", i + 1);
		CU_ASSERT_EQUAL(int_at(run, "attempt"), (int64_t)i + 1);
		CU_ASSERT_EQUAL(int_at(run, "lease_epoch"), (int64_t)i + 1);
		CU_ASSERT_STRING_EQUAL(str_at(run, "factory_id"), factory);
		CU_ASSERT_STRING_EQUAL(str_at(run, "exit"), "failed");
		CU_ASSERT(strlen(str_at(run, "ended_at")) > 0);
		CU_ASSERT_STRING_EQUAL(str_at(obj_at(run, "insights"), "model"), model);
		CU_ASSERT_EQUAL(int_at(obj_at(run, "insights"), "tokens_in"),
		                ((int64_t)i + 1) * 100);
		CU_ASSERT_TRUE(bool_at(obj_at(run, "insights"), "estimated"));
		CU_ASSERT_EQUAL(int_at(obj_at(run, "result"), "attempt"), (int64_t)i + 1);
	}
	http_resp_free(&r);
	event_kinds(t, id, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,claimed,failed,requeued,claimed,failed,requeued,"
	                              "claimed,failed,dead_lettered");
}

static void test_retry_max_zero_and_no_retry_on_failed(void)
{
	struct tenant *t = tenant_new("retry0");
	char id[IDLEN], id2[IDLEN], path[96];
	struct claimed c;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"retry\":{\"max\":0}}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-r0", NULL, 1, &c), 1);
	/* insights given on the way are kept in the run */
	PATCH_OK(
	    t, id, "f-r0", c.epoch[0], "building",
	    ",\"insights\":{\"model\":\"early\",\"turns\":4},\"checkpoint\":{\"wip_branch\":\"w\"}",
	    "building");
	r = call("GET", job_path(path, sizeof(path), id, "/runs"), t->reader, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(data_of(&r), 0), "insights"), "model"),
	                       "early");
	CU_ASSERT_EQUAL(strlen(str_at(item_at(data_of(&r), 0), "exit")), 0); /* still running */
	http_resp_free(&r);
	PATCH_OK(t, id, "f-r0", c.epoch[0], "failed", NULL, "dead_letter");
	r = call("GET", job_path(path, sizeof(path), id, "/runs"), t->reader, NULL, NULL);
	CU_ASSERT_EQUAL(len_of(data_of(&r)), 1);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "exit"), "failed");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(data_of(&r), 0), "insights"), "model"),
	                       "early");
	http_resp_free(&r);
	r = call("GET", job_path(path, sizeof(path), id, NULL), t->reader, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(data_of(&r), "checkpoint"), "wip_branch"), "w");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(data_of(&r), "lease"), "status"), "released");
	http_resp_free(&r);
	/* retry.on without "failed": a failure is final */
	SUBMIT(t, "{\"retry\":{\"max\":5,\"on\":[\"lease_expired\"]}}", id2, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-r0", NULL, 1, &c), 1);
	PATCH_OK(t, id2, "f-r0", c.epoch[0], "failed", NULL, "failed");
	CU_ASSERT_EQUAL(CLAIM(t, "f-r0", NULL, 1, &c), 0);
	/* a final job cannot be cancelled */
	r = call("POST", job_path(path, sizeof(path), id2, "/cancel"), t->submitter, "{}", NULL);
	EXPECT_ERROR(r, 409, "invalid_transition");
	http_resp_free(&r);
}

/* ---- 8. tenants ---------------------------------------------------------------- */

static void test_tenant_isolation(void)
{
	struct tenant *a = tenant_new("iso-a"), *b = tenant_new("iso-b");
	static const char *const reads[] = {"", "/runs", "/events", "/artifacts"};
	char id[IDLEN], path[128], mine[IDLEN];
	struct claimed c, cb;
	struct http_resp r;
	struct snap before, after;
	char *batch;
	char ids[5][IDLEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	batch = batch_of(5, "{\"body\":\"a's\"}");
	SUBMIT(a, "{\"idempotency_key\":\"secret\"}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(a, "f-same-name", NULL, 1, &c), 1);
	before = snap_job(a, id);
	for (size_t i = 0; i < 4; i++) {
		const char *toks[] = {b->reader, b->submitter};

		for (int k = 0; k < 2; k++) {
			r = call("GET", job_path(path, sizeof(path), id, reads[i]), toks[k], NULL,
			         NULL);
			EXPECT_ERROR(r, 404, "job_not_found");
			http_resp_free(&r);
		}
	}
	/* the same factory name and the right epoch, from the other tenant */
	r = patch_job(b, id, "f-same-name", c.epoch[0], "shipped", NULL, NULL);
	EXPECT_ERROR(r, 404, "job_not_found");
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), b->worker,
	          "{\"factory_id\":\"f-same-name\",\"lease_epoch\":%" PRId64 "}", c.epoch[0]);
	EXPECT_ERROR(r, 404, "job_not_found");
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/release"), b->worker,
	          "{\"factory_id\":\"f-same-name\",\"lease_epoch\":%" PRId64 "}", c.epoch[0]);
	EXPECT_ERROR(r, 404, "job_not_found");
	http_resp_free(&r);
	r = callf(
	    "POST", "/v1/fleet/jobs:transition", b->worker,
	    "{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-same-name\",\"lease_epoch\":%" PRId64
	    ",\"stage\":\"shipped\"}]}",
	    id, c.epoch[0]);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(obj_at(data_of(&r), "items"), 0), "error"),
	                       "job_not_found");
	http_resp_free(&r);
	r = call("POST", job_path(path, sizeof(path), id, "/cancel"), b->submitter, "{}", NULL);
	EXPECT_ERROR(r, 404, "job_not_found");
	http_resp_free(&r);
	r = call("POST", job_path(path, sizeof(path), id, "/artifacts"), b->worker,
	         "{\"uri\":\"s3://b/x\"}", NULL);
	EXPECT_ERROR(r, 404, "job_not_found");
	http_resp_free(&r);
	/* the other tenant's key is free in b, and replaying it does not reach a's job */
	SUBMIT(b, "{\"idempotency_key\":\"secret\"}", mine, NULL);
	CU_ASSERT_STRING_NOT_EQUAL(mine, id);
	after = snap_job(a, id);
	EXPECT_UNCHANGED(before, after);

	/* b's claims never return a's queued jobs */
	CU_ASSERT_EQUAL(SUBMIT_BATCH(a, batch, ids, 5), 5);
	free(batch);
	CU_ASSERT_EQUAL(CLAIM(b, "f-b", NULL, 100, &cb), 1);
	CU_ASSERT_STRING_EQUAL(cb.id[0], mine);
	CU_ASSERT_EQUAL(CLAIM(b, "f-same-name", NULL, 100, &cb), 0);
	r = call("GET", "/v1/fleet/jobs", b->reader, NULL, NULL);
	CU_ASSERT_EQUAL(len_of(obj_at(data_of(&r), "items")), 1);
	http_resp_free(&r);
	CU_ASSERT_EQUAL(CLAIM(a, "f-a", NULL, 100, &c), 5);
}

/* ---- 9. roles ---------------------------------------------------------------- */

static void test_roles_on_fleet_routes(void)
{
	struct tenant *t = tenant_new("roles");
	const char *claim = "{\"factory_id\":\"f-role\"}";
	char id[IDLEN], path[96];
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	r = call("POST", "/v1/fleet/claim", t->reader, claim, NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/claim", t->submitter, claim, NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/jobs", t->worker, "{}", NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/jobs:batch", t->worker, "{\"jobs\":[{}]}", NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/jobs", t->reader, "{}", NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("PATCH", job_path(path, sizeof(path), id, NULL), t->submitter,
	         "{\"factory_id\":\"f\",\"lease_epoch\":1,\"stage\":\"shipped\"}", NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("POST", job_path(path, sizeof(path), id, "/cancel"), t->worker, "{}", NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/factories/heartbeat", t->reader, "{\"factory_id\":\"f\"}",
	         NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	/* nothing was claimed or changed by the refused calls */
	CU_ASSERT_STRING_EQUAL(snap_job(t, id).stage, "queued");
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1", t->tid, NULL), 1);
}

/* ---- field tables: the 400 names the field ----------------------------------- */

struct refusal {
	int who; /* 0 submitter, 1 worker */
	const char *method, *path, *body, *field;
};

static void test_bodies_validated_naming_the_field(void)
{
	struct tenant *t = tenant_new("fields");
	char id[IDLEN], jp[96], *big;
	struct claimed c;
	struct http_resp r;
	struct snap before, after;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-fields", NULL, 1, &c), 1);
	job_path(jp, sizeof(jp), id, NULL);
	{
		const struct refusal cases[] = {
		    {1, "POST", "/v1/fleet/claim", "{\"max_jobs\":1}", "factory_id"},
		    {1, "POST", "/v1/fleet/claim", "{\"factory_id\":\"f\",\"max_jobs\":0}",
		     "max_jobs"},
		    {1, "POST", "/v1/fleet/claim", "{\"factory_id\":\"f\",\"max_jobs\":101}",
		     "max_jobs"},
		    {1, "POST", "/v1/fleet/claim", "{\"factory_id\":\"f\",\"lease_ttl_s\":4}",
		     "lease_ttl_s"},
		    {1, "POST", "/v1/fleet/claim", "{\"factory_id\":\"f\",\"wait_ms\":30001}",
		     "wait_ms"},
		    {1, "POST", "/v1/fleet/claim",
		     "{\"factory_id\":\"f\",\"capabilities\":\"gpu\"}", "capabilities"},
		    {1, "POST", "/v1/fleet/claim", "{\"factory_id\":\"f\",\"tenant\":\"x\"}",
		     "tenant"},
		    {0, "POST", "/v1/fleet/jobs", "{\"priority\":\"urgent\"}", "priority"},
		    {0, "POST", "/v1/fleet/jobs", "{\"deps_mode\":\"loose\"}", "deps_mode"},
		    {0, "POST", "/v1/fleet/jobs", "{\"deps\":[1]}", "deps"},
		    {0, "POST", "/v1/fleet/jobs", "{\"retry\":{\"max\":101}}", "retry.max"},
		    {0, "POST", "/v1/fleet/jobs", "{\"retry\":{\"on\":[\"nope\"]}}", "retry.on[0]"},
		    {0, "POST", "/v1/fleet/jobs", "{\"budget\":{\"usd\":-1}}", "budget.usd"},
		    {0, "POST", "/v1/fleet/jobs", "{\"manifest\":[1]}", "manifest"},
		    {0, "POST", "/v1/fleet/jobs", "{\"idempotency_key\":\"\"}", "idempotency_key"},
		    {0, "POST", "/v1/fleet/jobs:batch", "{\"jobs\":[]}", "jobs"},
		    {0, "POST", "/v1/fleet/jobs:batch", "{\"jobs\":[{},{\"priority\":\"urgent\"}]}",
		     "jobs[1].priority"},
		    {0, "POST", "/v1/fleet/jobs:batch", "{\"jobs\":[{},{\"retry\":{\"max\":-1}}]}",
		     "jobs[1].retry.max"},
		    {0, "POST", "/v1/fleet/jobs:batch",
		     "{\"jobs\":[{},{\"retry\":{\"on\":[\"nope\"]}}]}", "jobs[1].retry.on[0]"},
		    {0, "POST", "/v1/fleet/jobs:batch", "{\"jobs\":[{},{\"bogus\":1}]}",
		     "jobs[1].bogus"},
		    {1, "PATCH", jp,
		     "{\"factory_id\":\"f-fields\",\"lease_epoch\":1,\"stage\":\"bogus\"}",
		     "stage"},
		    {1, "PATCH", jp,
		     "{\"factory_id\":\"f-fields\",\"lease_epoch\":0,\"stage\":\"building\"}",
		     "lease_epoch"},
		    {1, "PATCH", jp, "{\"factory_id\":\"f-fields\",\"stage\":\"building\"}",
		     "lease_epoch"},
		    {1, "PATCH", jp,
		     "{\"factory_id\":\"f-fields\",\"lease_epoch\":1,\"stage\":\"building\","
		     "\"insights\":{\"tokens_in\":-5}}",
		     "insights.tokens_in"},
		    {1, "PATCH", jp,
		     "{\"factory_id\":\"f-fields\",\"lease_epoch\":1,\"stage\":\"building\","
		     "\"insights\":{\"mood\":\"good\"}}",
		     "insights.mood"},
		    {1, "POST", "/v1/fleet/jobs:transition", "{\"items\":[]}", "items"},
		    {1, "POST", "/v1/fleet/jobs:transition",
		     "{\"items\":[{\"id\":\"x1\",\"factory_id\":\"f\","
		     "\"lease_epoch\":1,\"stage\":\"shipped\"}]}",
		     "items[0].id"},
		    {1, "POST", "/v1/fleet/jobs:transition",
		     "{\"items\":[{\"id\":\"1\",\"factory_id\":\"f\","
		     "\"lease_epoch\":1,\"stage\":\"shipped\",\"insights\":{\"turns\":-1}}]}",
		     "items[0].insights.turns"},
		    {1, "POST", "/v1/fleet/factories/heartbeat",
		     "{\"factory_id\":\"f\",\"health\":\"meh\"}", "health"},
		    {1, "POST", "/v1/fleet/factories/heartbeat",
		     "{\"factory_id\":\"f\",\"seat_limit\":0}", "seat_limit"},
		    {1, "POST", "/v1/fleet/factories/heartbeat", "{\"seat_limit\":2}",
		     "factory_id"},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct refusal *k = &cases[i];

			EXPECT_REFUSED(k->who ? t->worker : t->submitter, k->method, k->path,
			               k->body, k->field);
		}
	}
	/* 1001 jobs in one batch */
	big = batch_of(1001, "{}");
	r = call("POST", "/v1/fleet/jobs:batch", t->submitter, big, NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "jobs");
	http_resp_free(&r);
	free(big);
	/* a refused stage leaves the job as it was */
	before = snap_job(t, id);
	r = patch_job(t, id, "f-fields", c.epoch[0], "queued", NULL, NULL);
	EXPECT_ERROR(r, 409, "invalid_transition");
	http_resp_free(&r);
	r = patch_job(t, id, "f-fields", c.epoch[0], "cancelled", NULL, NULL);
	EXPECT_ERROR(r, 409, "invalid_transition");
	http_resp_free(&r);
	after = snap_job(t, id);
	EXPECT_UNCHANGED(before, after);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1", t->tid, NULL), 1);
}

/* ---- 10. mutated bodies ---------------------------------------------------- */

static unsigned long long fuzz_state = 0x9e3779b97f4a7c15ULL;

static unsigned fuzz_next(void)
{
	fuzz_state = fuzz_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(fuzz_state >> 33);
}

static void test_mutated_bodies_never_5xx(void)
{
	static const char alphabet[] = "{}[]\",:\\ 0123456789eE.-+truefalsnul\x01\x7f\xc3\xa9\xff";
	struct tenant *t = tenant_new("fuzz");
	char id[IDLEN], patch_path[96], *seeds[6];
	const char *paths[6], *methods[6], *tokens[6];
	struct claimed c;
	int bad = 0, sent = 0, by_status[6] = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"capabilities\":[\"a\"]}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-fuzz", "[\"a\",\"b\"]", 1, &c), 1);
	job_path(patch_path, sizeof(patch_path), id, NULL);
	seeds[0] =
	    fmt("{\"idempotency_key\":\"fz\",\"priority\":\"high\",\"capabilities\":[\"a\",\"b\"],"
	        "\"deps\":[\"%s\"],\"deps_mode\":\"soft\",\"body\":\"hello\",\"manifest\":{\"k\":["
	        "1,2]},"
	        "\"engine_class\":\"e\",\"profile\":\"p\",\"budget\":{\"usd\":1.5,\"tokens\":10,"
	        "\"wall_s\":60},\"retry\":{\"max\":2,\"backoff_s\":5,\"on\":[\"failed\"]}}",
	        id);
	seeds[1] = fmt("{\"factory_id\":\"f-fuzz\",\"capabilities\":[\"a\"],\"max_jobs\":2,"
	               "\"lease_ttl_s\":30}");
	seeds[2] =
	    fmt("{\"factory_id\":\"f-fuzz\",\"lease_epoch\":%" PRId64 ",\"stage\":\"building\","
	        "\"checkpoint\":{\"wip_branch\":\"b\"},\"result\":{\"ok\":true},"
	        "\"insights\":{\"model\":\"m\",\"tokens_in\":5,\"cost_usd\":0.1}}",
	        c.epoch[0]);
	seeds[3] =
	    fmt("{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-fuzz\",\"lease_epoch\":%" PRId64
	        ",\"stage\":\"review\",\"insights\":{\"turns\":3}}]}",
	        id, c.epoch[0]);
	seeds[4] = fmt("{\"factory_id\":\"f-fuzz\",\"capabilities\":[\"a\"],\"health\":\"ok\","
	               "\"load\":0.5,\"seat_limit\":3,\"descriptor\":{\"host\":\"h\"}}");
	seeds[5] = fmt("{\"jobs\":[{\"idempotency_key\":\"b1\"},{\"idempotency_key\":\"b2\","
	               "\"deps\":[\"b1\"],\"priority\":\"low\"}]}");
	paths[0] = "/v1/fleet/jobs", methods[0] = "POST", tokens[0] = t->submitter;
	paths[1] = "/v1/fleet/claim", methods[1] = "POST", tokens[1] = t->worker;
	paths[2] = patch_path, methods[2] = "PATCH", tokens[2] = t->worker;
	paths[3] = "/v1/fleet/jobs:transition", methods[3] = "POST", tokens[3] = t->worker;
	paths[4] = "/v1/fleet/factories/heartbeat", methods[4] = "POST", tokens[4] = t->worker;
	paths[5] = "/v1/fleet/jobs:batch", methods[5] = "POST", tokens[5] = t->submitter;
	for (int i = 0; i < 300; i++) {
		int s = i % 6;
		size_t len = strlen(seeds[s]);
		char body[1024];
		struct http_resp r;

		memcpy(body, seeds[s], len);
		for (int m = 0; m < 1 + (int)(fuzz_next() % 4); m++) {
			unsigned op = fuzz_next() % 8, at = len ? fuzz_next() % (unsigned)len : 0;
			char ch = (fuzz_next() % 4 == 0)
			              ? (char)(fuzz_next() & 0xff)
			              : alphabet[fuzz_next() % (sizeof(alphabet) - 1)];

			if (op < 3 && len > 0) { /* tweak a value, keeping JSON valid */
				if (body[at] >= '0' && body[at] <= '9')
					body[at] = (char)('0' + fuzz_next() % 10);
				else if (body[at] >= 'a' && body[at] <= 'z')
					body[at] = (char)('a' + fuzz_next() % 26);
			} else if (op < 5 && len > 0) { /* flip a byte */
				body[at] = ch;
			} else if (op < 7 && len < sizeof(body) - 1) { /* insert one */
				memmove(body + at + 1, body + at, len - at);
				body[at] = ch;
				len++;
			} else { /* truncate */
				len = at;
			}
		}
		if (http_do(methods[s], paths[s], tokens[s], body, len, NULL, &r) != 0) {
			bad++;
			continue;
		}
		sent++;
		if (r.status >= 500 || r.json == NULL ||
		    !json_object_is_type(r.json, json_type_object) ||
		    obj_at(r.json, "ok") == NULL || strlen(str_at(r.json, "request_id")) == 0 ||
		    (!bool_at(r.json, "ok") && strlen(str_at(r.json, "error")) == 0) ||
		    (bool_at(r.json, "ok") && obj_at(r.json, "data") == NULL)) {
			bad++;
			fprintf(stderr, "\n  %s %s with %.*s -> %ld %s\n", methods[s], paths[s],
			        (int)len, body, r.status, r.body);
		}
		by_status[r.status < 300    ? 0
		          : r.status == 400 ? 1
		          : r.status == 403 ? 2
		          : r.status == 404 ? 3
		          : r.status < 500  ? 4
		                            : 5]++;
		http_resp_free(&r);
	}
	fprintf(stderr,
	        "\n  mutations: %d sent; 2xx %d, 400 %d, 403 %d, 404 %d, other 4xx %d, "
	        "5xx %d\n",
	        sent, by_status[0], by_status[1], by_status[2], by_status[3], by_status[4],
	        by_status[5]);
	CU_ASSERT_EQUAL(sent, 300);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(by_status[1] > 100); /* most mutations are refused as bad requests */
	CU_ASSERT(by_status[0] + by_status[3] + by_status[4] > 10); /* and some get past parsing */
	for (int i = 0; i < 6; i++)
		free(seeds[i]);
}

/* ---- 11. batched transitions ------------------------------------------------ */

static void test_batched_transitions(void)
{
	struct tenant *t = tenant_new("transition");
	char *batch, ids[35][IDLEN];
	char *body, *p;
	char path[96];
	struct claimed c, rest;
	struct http_resp r;
	struct json_object *items;
	int ok = 0;
	int64_t e1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	batch = batch_of(35, "{}");
	CU_ASSERT_EQUAL(SUBMIT_BATCH(t, batch, ids, 35), 35);
	free(batch);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-tr", NULL, 32, &c), 32);
	body = p = malloc(32 * 160 + 32);
	p += sprintf(p, "{\"items\":[");
	for (int i = 0; i < 32; i++)
		p += sprintf(p,
		             "%s{\"id\":\"%s\",\"factory_id\":\"f-tr\",\"lease_epoch\":%" PRId64
		             ",\"stage\":\"shipped\",\"result\":{\"n\":%d}}",
		             i ? "," : "", c.id[i], c.epoch[i], i);
	strcpy(p, "]}");
	r = call("POST", "/v1/fleet/jobs:transition", t->worker, body, NULL);
	free(body);
	EXPECT_STATUS(r, 200);
	items = obj_at(data_of(&r), "items");
	CU_ASSERT_EQUAL(len_of(items), 32);
	for (size_t i = 0; i < len_of(items) && i < 32; i++) {
		ok += bool_at(item_at(items, i), "ok") &&
		      strcmp(str_at(item_at(items, i), "stage"), "shipped") == 0;
		CU_ASSERT_STRING_EQUAL(str_at(item_at(items, i), "id"),
		                       c.id[i]); /* request order */
	}
	CU_ASSERT_EQUAL(ok, 32);
	http_resp_free(&r);
	CU_ASSERT_EQUAL(
	    pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND stage = 'shipped'"
	           " AND result IS NOT NULL",
	           t->tid, NULL),
	    32);
	CU_ASSERT_EQUAL(
	    pg_int("SELECT count(*) FROM runs WHERE tenant_id = $1 AND exit = 'shipped'", t->tid,
	           NULL),
	    32);

	/* one stale item among good ones: answered alone, the others still commit */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-tr", NULL, 3, &rest), 3);
	e1 = rest.epoch[0];
	r = callf("POST", job_path(path, sizeof(path), rest.id[0], "/lease/release"), t->worker,
	          "{\"factory_id\":\"f-tr\",\"lease_epoch\":%" PRId64 "}", e1);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-tr", NULL, 1, &c), 1);
	CU_ASSERT_STRING_EQUAL(c.id[0], rest.id[0]);
	r = callf("POST", "/v1/fleet/jobs:transition", t->worker,
	          "{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-tr\",\"lease_epoch\":%" PRId64
	          ",\"stage\":\"shipped\"},{\"id\":\"%s\",\"factory_id\":\"f-tr\",\"lease_epoch\":"
	          "%" PRId64 ",\"stage\":\"shipped\"},{\"id\":\"%s\",\"factory_id\":\"f-tr\","
	          "\"lease_epoch\":%" PRId64 ",\"stage\":\"building\"}]}",
	          rest.id[0], e1, rest.id[1], rest.epoch[1], rest.id[2], rest.epoch[2]);
	EXPECT_STATUS(r, 200);
	items = obj_at(data_of(&r), "items");
	CU_ASSERT_EQUAL(len_of(items), 3);
	CU_ASSERT_FALSE(bool_at(item_at(items, 0), "ok"));
	CU_ASSERT_STRING_EQUAL(str_at(item_at(items, 0), "error"), "stale_epoch");
	CU_ASSERT(strlen(str_at(item_at(items, 0), "message")) > 10);
	CU_ASSERT_TRUE(bool_at(item_at(items, 1), "ok"));
	CU_ASSERT_STRING_EQUAL(str_at(item_at(items, 1), "stage"), "shipped");
	CU_ASSERT_TRUE(bool_at(item_at(items, 2), "ok"));
	CU_ASSERT_STRING_EQUAL(str_at(item_at(items, 2), "stage"), "building");
	http_resp_free(&r);
	CU_ASSERT_STRING_EQUAL(snap_job(t, rest.id[0]).stage, "assigned");
	CU_ASSERT_EQUAL(snap_job(t, rest.id[0]).epoch, c.epoch[0]);
	/* unknown job, backward move, and an invalid target, each answered alone */
	r = callf(
	    "POST", "/v1/fleet/jobs:transition", t->worker,
	    "{\"items\":[{\"id\":\"999999999999\",\"factory_id\":\"f-tr\",\"lease_epoch\":1,"
	    "\"stage\":\"shipped\"},{\"id\":\"%s\",\"factory_id\":\"f-tr\",\"lease_epoch\":%" PRId64
	    ",\"stage\":\"assigned\"},{\"id\":\"%s\",\"factory_id\":\"f-tr\",\"lease_epoch\":"
	    "%" PRId64 ",\"stage\":\"queued\"}]}",
	    rest.id[2], rest.epoch[2], c.id[0], c.epoch[0]);
	EXPECT_STATUS(r, 200);
	items = obj_at(data_of(&r), "items");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(items, 0), "error"), "job_not_found");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(items, 1), "error"), "invalid_transition");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(items, 2), "error"), "invalid_transition");
	http_resp_free(&r);
	CU_ASSERT_STRING_EQUAL(snap_job(t, rest.id[2]).stage, "building");
	/* the same job twice in one request is a bad request */
	r = callf(
	    "POST", "/v1/fleet/jobs:transition", t->worker,
	    "{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-tr\",\"lease_epoch\":%" PRId64
	    ",\"stage\":\"review\"},{\"id\":\"%s\",\"factory_id\":\"f-tr\",\"lease_epoch\":%" PRId64
	    ",\"stage\":\"testing\"}]}",
	    rest.id[2], rest.epoch[2], rest.id[2], rest.epoch[2]);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "items[1]");
	http_resp_free(&r);
	CU_ASSERT_STRING_EQUAL(snap_job(t, rest.id[2]).stage, "building");
}

/* ---- 12. long-polling claim -------------------------------------------------- */

struct poller {
	const struct tenant *t;
	int wait_ms;
	long elapsed_ms, status;
	int64_t waited_ms; /* what the answer says it waited */
	int n;
	char id[IDLEN], retry_after[32];
};

static void *poll_claim(void *arg)
{
	struct poller *p = arg;
	char body[128];
	struct timespec t0;
	struct http_resp r;

	snprintf(body, sizeof(body), "{\"factory_id\":\"f-poll\",\"wait_ms\":%d}", p->wait_ms);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (http_do("POST", "/v1/fleet/claim", p->t->worker, body, strlen(body), NULL, &r) != 0)
		return NULL;
	p->elapsed_ms = elapsed_ms(&t0);
	p->status = r.status;
	p->n = (int)len_of(obj_at(data_of(&r), "jobs"));
	p->waited_ms = int_at(data_of(&r), "waited_ms");
	snprintf(p->retry_after, sizeof(p->retry_after), "%s", r.retry_after);
	snprintf(p->id, IDLEN, "%s", str_at(item_at(obj_at(data_of(&r), "jobs"), 0), "id"));
	http_resp_free(&r);
	return NULL;
}

static void test_long_poll_claim_wakes_on_submit(void)
{
	struct tenant *t = tenant_new("poll");
	struct poller p = {.wait_ms = 5000};
	struct timespec t0;
	pthread_t th;
	char id[IDLEN];
	long since_submit;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	p.t = t;
	pthread_create(&th, NULL, poll_claim, &p);
	/* Submit 1.2 s into the wait: jobs_claim() re-checks each second even
	 * without a notification, so a claim woken by that re-check would answer
	 * some 800 ms after the submit, and one woken by NOTIFY at once. */
	usleep(1200 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	SUBMIT(t, "{\"body\":\"wake up\"}", id, NULL);
	pthread_join(th, NULL);
	since_submit = elapsed_ms(&t0);
	fprintf(stderr, "\n  long poll: answered after %ld ms, %ld ms after the submit\n",
	        p.elapsed_ms, since_submit);
	CU_ASSERT_EQUAL(p.status, 200);
	CU_ASSERT_EQUAL(p.n, 1);
	CU_ASSERT_STRING_EQUAL(p.id, id);
	CU_ASSERT(p.elapsed_ms >= 1000); /* it waited for the job */
	CU_ASSERT(p.elapsed_ms < 4000);
	CU_ASSERT(since_submit < 600); /* woken by the submit, not by a periodic re-check */
	CU_ASSERT(p.waited_ms >= 1000 && p.waited_ms <= p.elapsed_ms);
	CU_ASSERT_STRING_EQUAL(p.retry_after, "");

	/* nothing comes: an empty answer once the wait ends */
	p = (struct poller){.t = t, .wait_ms = 1200};
	poll_claim(&p);
	CU_ASSERT_EQUAL(p.status, 200);
	CU_ASSERT_EQUAL(p.n, 0);
	CU_ASSERT(p.elapsed_ms >= 1100 && p.elapsed_ms < 4000);
}

/* Starts p (a claim of t waiting up to 5 s, as f-poll) in th and returns
 * 1.2 s into its wait, with the time in t0: jobs_claim() re-checks each
 * second even without a notification, so a claim woken by that re-check
 * would answer some 800 ms after what the caller does next, and one woken
 * by NOTIFY at once. */
static void poll_start(struct poller *p, const struct tenant *t, pthread_t *th, struct timespec *t0)
{
	*p = (struct poller){.t = t, .wait_ms = 5000};
	pthread_create(th, NULL, poll_claim, p);
	usleep(1200 * 1000);
	clock_gettime(CLOCK_MONOTONIC, t0);
}

/* Joins p and checks that it got job id less than 600 ms after t0. */
#define POLL_WOKEN(p, th, t0, id, what) poll_woken_at(&(p), (th), &(t0), (id), (what), __LINE__)
static void poll_woken_at(struct poller *p, pthread_t th, const struct timespec *t0, const char *id,
                          const char *what, int line)
{
	long since;

	pthread_join(th, NULL);
	since = elapsed_ms(t0);
	fprintf(stderr, "\n  long poll: answered after %ld ms, %ld ms after the %s\n",
	        p->elapsed_ms, since, what);
	expect_int_at(p->status, 200, __FILE__, line);
	expect_int_at(p->n, 1, __FILE__, line);
	expect_str_at(p->id, id, __FILE__, line);
	CHECK_AT(since < 600, line, "woken by NOTIFY, not by a periodic re-check");
}

/* A blocked job whose dep ships, and a job requeued with backoff_s 0, wake
 * a waiting claim at once: unblocks and requeues NOTIFY like submits. */
static void test_long_poll_claim_wakes_on_unblock_and_requeue(void)
{
	struct tenant *t = tenant_new("poll-wake");
	char dep[IDLEN], job[IDLEN], stage[IDLEN], *body;
	struct claimed c;
	struct poller p;
	struct timespec t0;
	pthread_t th;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* the waiting claim asks for no capability: it can take the dependent,
	 * never the dep */
	SUBMIT(t, "{\"capabilities\":[\"poll-dep\"]}", dep, NULL);
	body = fmt("{\"deps\":[\"%s\"]}", dep);
	SUBMIT(t, body, job, stage);
	free(body);
	CU_ASSERT_STRING_EQUAL(stage, "blocked");
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-dep", "[\"poll-dep\"]", 1, &c), 1);
	poll_start(&p, t, &th, &t0);
	PATCH_OK(t, dep, "f-dep", c.epoch[0], "shipped", NULL, "shipped");
	POLL_WOKEN(p, th, t0, job, "dep shipped");

	SUBMIT(t, "{\"retry\":{\"max\":3,\"backoff_s\":0}}", job, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-first", NULL, 1, &c), 1);
	CU_ASSERT_STRING_EQUAL_FATAL(c.id[0], job);
	poll_start(&p, t, &th, &t0);
	PATCH_OK(t, job, "f-first", c.epoch[0], "failed", NULL, "queued");
	POLL_WOKEN(p, th, t0, job, "requeue");
}

#define POLLERS 6 /* more than the test stack's long-poll slots (8 threads / 2) */

/* Claims past CONDUCTOR_CLAIM_WAIT_MAX cannot wait: they answer at once and
 * say so (waited_ms, Retry-After), so that a client backs off; the claims
 * that could wait say how long they did, without Retry-After. */
static void test_long_poll_past_the_slots_says_so(void)
{
	struct tenant *t = tenant_new("poll-full");
	struct poller p[POLLERS];
	pthread_t th[POLLERS];
	int waited = 0, refused = 0;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int i = 0; i < POLLERS; i++) {
		p[i] = (struct poller){.t = t, .wait_ms = 2000};
		pthread_create(&th[i], NULL, poll_claim, &p[i]);
	}
	for (int i = 0; i < POLLERS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_INT(p[i].status, 200);
		EXPECT_INT(p[i].n, 0);
		if (p[i].waited_ms >= 1900) { /* it waited the whole wait */
			waited++;
			EXPECT_STR(p[i].retry_after, "");
			CU_ASSERT(p[i].elapsed_ms >= 1900);
		} else {
			refused++;
			EXPECT_INT(p[i].waited_ms, 0);
			EXPECT_STR(p[i].retry_after, "1");
			CU_ASSERT(p[i].elapsed_ms < 1500);
		}
	}
	fprintf(stderr, "\n  long poll: %d of %d claims waited, %d were told to retry\n", waited,
	        POLLERS, refused);
	CU_ASSERT(waited >= 1);
	CU_ASSERT(refused >= 1);
	/* a claim that did not ask to wait is not told to back off */
	r = call("POST", "/v1/fleet/claim", t->worker, "{\"factory_id\":\"f-now\"}", NULL);
	EXPECT_STATUS(r, 200);
	EXPECT_INT(int_at(data_of(&r), "waited_ms"), 0);
	EXPECT_STR(r.retry_after, "");
	http_resp_free(&r);
}

/* ---- 13. events ---------------------------------------------------------------- */

static void test_event_history_ordered_and_append_only(void)
{
	struct tenant *t = tenant_new("events");
	char id[IDLEN], path[160], kinds[512], again[512], state[6];
	struct claimed c;
	struct http_resp r;
	struct json_object *items;
	int64_t last = 0;
	int pages = 0;
	size_t seen = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-ev", NULL, 1, &c), 1);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), t->worker,
	          "{\"factory_id\":\"f-ev\",\"lease_epoch\":%" PRId64 ",\"ttl_s\":300}",
	          c.epoch[0]);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	PATCH_OK(t, id, "f-ev", c.epoch[0], "building", NULL, "building");
	PATCH_OK(t, id, "f-ev", c.epoch[0], "testing", NULL, "testing");
	PATCH_OK(t, id, "f-ev", c.epoch[0], "shipped", ",\"result\":{\"pr\":42}", "shipped");
	event_kinds(t, id, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,claimed,renewed,stage_changed,stage_changed,"
	                              "stage_changed");
	/* full detail, one page */
	r = call("GET", job_path(path, sizeof(path), id, "/events"), t->reader, NULL, NULL);
	items = obj_at(data_of(&r), "items");
	CU_ASSERT_PTR_NULL(json_object_get_string(obj_at(data_of(&r), "next_cursor")));
	for (size_t i = 0; i < len_of(items); i++) {
		int64_t evid = strtoll(str_at(item_at(items, i), "id"), NULL, 10);

		CU_ASSERT(evid > last); /* ordered */
		CU_ASSERT(strlen(str_at(item_at(items, i), "at")) >= 20);
		last = evid;
	}
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(items, 1), "data"), "factory_id"), "f-ev");
	CU_ASSERT_EQUAL(int_at(obj_at(item_at(items, 1), "data"), "epoch"), c.epoch[0]);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(items, 3), "data"), "from"), "assigned");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(items, 3), "data"), "to"), "building");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(items, 5), "data"), "from"), "testing");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(items, 5), "data"), "to"), "shipped");
	http_resp_free(&r);
	/* pages of two walk the same history */
	path[0] = '\0';
	{
		char cursor[32] = "", base[96];

		job_path(base, sizeof(base), id, "/events");
		do {
			snprintf(path, sizeof(path), "%s?limit=2%s%s", base,
			         cursor[0] ? "&cursor=" : "", cursor);
			r = call("GET", path, t->reader, NULL, NULL);
			EXPECT_STATUS(r, 200);
			seen += len_of(obj_at(data_of(&r), "items"));
			snprintf(cursor, sizeof(cursor), "%s", str_at(data_of(&r), "next_cursor"));
			http_resp_free(&r);
		} while (cursor[0] != '\0' && ++pages < 10);
	}
	CU_ASSERT_EQUAL(seen, 6);

	/* append-only: neither UPDATE nor DELETE goes through (in a transaction
	 * rolled back, so a broken guarantee cannot take other tests' rows) */
	CU_ASSERT_EQUAL(pg_cmd(state, "BEGIN", NULL), 0);
	CU_ASSERT_EQUAL(
	    pg_cmd(state, "UPDATE job_events SET kind = 'x' WHERE job_id = $1", id, NULL), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	pg_cmd(state, "ROLLBACK", NULL);
	CU_ASSERT_EQUAL(pg_cmd(state, "BEGIN", NULL), 0);
	CU_ASSERT_EQUAL(pg_cmd(state, "UPDATE job_events SET kind = 'x'", NULL), -1);
	pg_cmd(state, "ROLLBACK", NULL);
	CU_ASSERT_EQUAL(pg_cmd(state, "BEGIN", NULL), 0);
	CU_ASSERT_EQUAL(pg_cmd(state, "DELETE FROM job_events WHERE job_id = $1", id, NULL), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	pg_cmd(state, "ROLLBACK", NULL);
	CU_ASSERT_EQUAL(pg_cmd(state, "BEGIN", NULL), 0);
	CU_ASSERT_EQUAL(pg_cmd(state, "DELETE FROM job_events", NULL), -1);
	pg_cmd(state, "ROLLBACK", NULL);
	/* a run is history too: written once when it ends, never rewritten */
	CU_ASSERT_EQUAL(pg_cmd(state, "BEGIN", NULL), 0);
	CU_ASSERT_EQUAL(pg_cmd(state, "UPDATE runs SET exit = 'x' WHERE job_id = $1", id, NULL), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	pg_cmd(state, "ROLLBACK", NULL);
	event_kinds(t, id, again, sizeof(again));
	CU_ASSERT_STRING_EQUAL(again, kinds);
	CU_ASSERT_EQUAL(
	    pg_int("SELECT count(*) FROM job_events WHERE job_id = $1 AND kind = 'x'", id, NULL),
	    0);
}

/* One page of a job's events with limit (0: the default) after cursor ("":
 * from the start); the items as a JSON text into out, the next cursor into
 * next (cap 32). */
static void events_page(const struct tenant *t, const char *id, int limit, const char *cursor,
                        char *out, size_t cap, char *next)
{
	char base[96], path[160];
	struct http_resp r;

	job_path(base, sizeof(base), id, "/events");
	snprintf(path, sizeof(path), "%s?limit=%d%s%s", base, limit ? limit : 500,
	         cursor[0] ? "&cursor=" : "", cursor);
	r = call("GET", path, t->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	snprintf(out, cap, "%s",
	         json_object_to_json_string_ext(obj_at(data_of(&r), "items"), JSON_C_TO_STRING_PLAIN));
	snprintf(next, 32, "%s", str_at(data_of(&r), "next_cursor"));
	http_resp_free(&r);
}

/* data.<key> of event i of a page (items as JSON text), as text ("" when absent). */
static const char *event_data(const char *items, size_t i, const char *key, char *out, size_t cap)
{
	struct json_object *arr = json_tokener_parse(items), *v = NULL;

	out[0] = '\0';
	if (arr != NULL && i < json_object_array_length(arr) &&
	    json_object_object_get_ex(obj_at(json_object_array_get_idx(arr, i), "data"), key, &v))
		snprintf(out, cap, "%s", json_object_get_string(v));
	json_object_put(arr);
	return out;
}

/* The whole history of a job that lives three attempts (released, failed
 * and retried, shipped through jobs:transition) and of one cancelled while
 * held: every event, in the order things happened, with its detail; pages
 * of one walk exactly the same items as one page of 500 (the lean lifecycle
 * reads the claimed and shipped events from the runs: this says it shows
 * the same history). The runs: one per attempt, each with its end. */
static void test_event_history_complete_across_attempts(void)
{
	struct tenant *t = tenant_new("history");
	char id[IDLEN], id2[IDLEN], path[160], kinds[512], cursor[32] = "", next[32];
	char all[8192], one[2048], paged[8192] = "[", v[64];
	struct claimed a, b, c;
	struct http_resp r;
	struct json_object *runs;
	int pages = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"retry\":{\"max\":3,\"backoff_s\":0}}", id, NULL);
	/* attempt 1: renewed, then released */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-a", NULL, 1, &a), 1);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), t->worker,
	          "{\"factory_id\":\"f-a\",\"lease_epoch\":%" PRId64 ",\"ttl_s\":300}", a.epoch[0]);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/release"), t->worker,
	          "{\"factory_id\":\"f-a\",\"lease_epoch\":%" PRId64 "}", a.epoch[0]);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	/* attempt 2: failed, retried at once (backoff 0) */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-b", NULL, 1, &b), 1);
	PATCH_OK(t, id, "f-b", b.epoch[0], "failed", ",\"insights\":{\"turns\":2}", "queued");
	/* attempt 3: building by PATCH, shipped by jobs:transition */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-c", NULL, 1, &c), 1);
	PATCH_OK(t, id, "f-c", c.epoch[0], "building", ",\"result\":{\"step\":1}", "building");
	r = callf("POST", "/v1/fleet/jobs:transition", t->worker,
	          "{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-c\",\"lease_epoch\":%" PRId64
	          ",\"stage\":\"shipped\",\"insights\":{\"turns\":7}}]}",
	          id, c.epoch[0]);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);

	event_kinds(t, id, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,claimed,renewed,released,requeued,claimed,failed,"
	                              "requeued,claimed,stage_changed,stage_changed");
	events_page(t, id, 0, "", all, sizeof(all), next);
	CU_ASSERT_STRING_EQUAL(next, "");
	/* each claim says who, which epoch, which attempt */
	CU_ASSERT_STRING_EQUAL(event_data(all, 1, "factory_id", v, sizeof(v)), "f-a");
	CU_ASSERT_EQUAL(strtoll(event_data(all, 1, "epoch", v, sizeof(v)), NULL, 10), a.epoch[0]);
	CU_ASSERT_STRING_EQUAL(event_data(all, 1, "attempt", v, sizeof(v)), "1");
	CU_ASSERT_STRING_EQUAL(event_data(all, 5, "factory_id", v, sizeof(v)), "f-b");
	CU_ASSERT_STRING_EQUAL(event_data(all, 5, "attempt", v, sizeof(v)), "2");
	CU_ASSERT_STRING_EQUAL(event_data(all, 8, "factory_id", v, sizeof(v)), "f-c");
	CU_ASSERT_EQUAL(strtoll(event_data(all, 8, "epoch", v, sizeof(v)), NULL, 10), c.epoch[0]);
	CU_ASSERT_STRING_EQUAL(event_data(all, 8, "attempt", v, sizeof(v)), "3");
	CU_ASSERT_STRING_EQUAL(event_data(all, 6, "from", v, sizeof(v)), "assigned");
	CU_ASSERT_STRING_EQUAL(event_data(all, 6, "to", v, sizeof(v)), "queued");
	CU_ASSERT_STRING_EQUAL(event_data(all, 9, "to", v, sizeof(v)), "building");
	CU_ASSERT_STRING_EQUAL(event_data(all, 10, "from", v, sizeof(v)), "building");
	CU_ASSERT_STRING_EQUAL(event_data(all, 10, "to", v, sizeof(v)), "shipped");
	CU_ASSERT_STRING_EQUAL(event_data(all, 10, "factory_id", v, sizeof(v)), "f-c");
	CU_ASSERT_EQUAL(strtoll(event_data(all, 10, "epoch", v, sizeof(v)), NULL, 10), c.epoch[0]);
	/* pages of one: the same items, the same order */
	do {
		events_page(t, id, 1, cursor, one, sizeof(one), next);
		if (strcmp(one, "[]") != 0) {
			size_t n = strlen(paged);

			snprintf(paged + n, sizeof(paged) - n, "%s%.*s", n > 1 ? "," : "",
			         (int)strlen(one) - 2, one + 1);
		}
		snprintf(cursor, sizeof(cursor), "%s", next);
	} while (cursor[0] != '\0' && ++pages < 20);
	strcat(paged, "]");
	CU_ASSERT_STRING_EQUAL(paged, all);

	/* one run per attempt, each ended, in order */
	r = call("GET", job_path(path, sizeof(path), id, "/runs"), t->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	runs = data_of(&r);
	CU_ASSERT_EQUAL_FATAL(len_of(runs), 3);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(runs, 0), "exit"), "released");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(runs, 0), "factory_id"), "f-a");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(runs, 1), "exit"), "failed");
	CU_ASSERT_EQUAL(int_at(obj_at(item_at(runs, 1), "insights"), "turns"), 2);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(runs, 2), "exit"), "shipped");
	CU_ASSERT_EQUAL(int_at(item_at(runs, 2), "attempt"), 3);
	CU_ASSERT_EQUAL(int_at(item_at(runs, 2), "lease_epoch"), c.epoch[0]);
	CU_ASSERT_EQUAL(int_at(obj_at(item_at(runs, 2), "result"), "step"), 1);
	CU_ASSERT_EQUAL(int_at(obj_at(item_at(runs, 2), "insights"), "turns"), 7);
	for (size_t i = 0; i < len_of(runs); i++)
		CU_ASSERT(strlen(str_at(item_at(runs, i), "ended_at")) >= 20);
	http_resp_free(&r);

	/* a job cancelled while held: claimed, then cancelled; its one run
	 * still open until then, ended by the cancel */
	SUBMIT(t, "{}", id2, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-d", NULL, 1, &a), 1);
	r = call("GET", job_path(path, sizeof(path), id2, "/runs"), t->reader, NULL, NULL);
	CU_ASSERT_EQUAL(len_of(data_of(&r)), 1);
	CU_ASSERT_PTR_NULL(json_object_get_string(obj_at(item_at(data_of(&r), 0), "ended_at")));
	CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "factory_id"), "f-d");
	http_resp_free(&r);
	r = call("POST", job_path(path, sizeof(path), id2, "/cancel"), t->submitter, "{}", NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	event_kinds(t, id2, kinds, sizeof(kinds));
	CU_ASSERT_STRING_EQUAL(kinds, "submitted,claimed,cancelled");
	r = call("GET", job_path(path, sizeof(path), id2, "/runs"), t->reader, NULL, NULL);
	CU_ASSERT_EQUAL(len_of(data_of(&r)), 1);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "exit"), "cancelled");
	http_resp_free(&r);
}

#define LEAN_JOBS 20

/* The rows a tenant's lifecycle wrote so far: the job updates (each bumps
 * rev), and the runs and events inserted (runs refuse UPDATE, events
 * refuse UPDATE and DELETE). */
static long rows_written(const struct tenant *t)
{
	return pg_int("SELECT (SELECT coalesce(sum(rev), 0) FROM jobs WHERE tenant_id = $1)"
	              "     + (SELECT count(*) FROM runs WHERE tenant_id = $1)"
	              "     + (SELECT count(*) FROM job_events WHERE tenant_id = $1)",
	              t->tid, NULL);
}

/* Issue 17: the common lifecycle -- claim, then ship, no dependents --
 * writes at most three rows a job (the claim's UPDATE, the ship's UPDATE,
 * the run's INSERT), shipped one at a time by PATCH or in a batch by
 * jobs:transition. */
static void test_lifecycle_three_row_writes(void)
{
	struct tenant *t = tenant_new("lean");
	char ids[LEAN_JOBS][IDLEN], items[4096] = "";
	struct claimed c;
	struct http_resp r;
	long before;
	char *body;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	body = batch_of(LEAN_JOBS, "{}");
	CU_ASSERT_EQUAL_FATAL(SUBMIT_BATCH(t, body, ids, LEAN_JOBS), LEAN_JOBS);
	free(body);
	before = rows_written(t);
	/* half one at a time: claim 1, PATCH shipped */
	for (int i = 0; i < LEAN_JOBS / 2; i++) {
		CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-lean", NULL, 1, &c), 1);
		PATCH_OK(t, c.id[0], "f-lean", c.epoch[0], "shipped", NULL, "shipped");
	}
	/* half in one batch: claim them all, one jobs:transition */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-lean", NULL, LEAN_JOBS / 2, &c), LEAN_JOBS / 2);
	for (int i = 0; i < c.n; i++)
		snprintf(items + strlen(items), sizeof(items) - strlen(items),
		         "%s{\"id\":\"%s\",\"factory_id\":\"f-lean\",\"lease_epoch\":%" PRId64
		         ",\"stage\":\"shipped\"}",
		         i ? "," : "", c.id[i], c.epoch[i]);
	r = callf("POST", "/v1/fleet/jobs:transition", t->worker, "{\"items\":[%s]}", items);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND stage = 'shipped'",
	                       t->tid, NULL),
	                LEAN_JOBS);
	CU_ASSERT_EQUAL(rows_written(t) - before, 3 * LEAN_JOBS);
	if (rows_written(t) - before != 3 * LEAN_JOBS)
		fprintf(stderr, "\n  %ld rows written for %d lifecycles\n", rows_written(t) - before,
		        LEAN_JOBS);
	/* and the history still shows each claim and ship */
	for (int i = 0; i < LEAN_JOBS; i++) {
		char kinds[128];

		event_kinds(t, ids[i], kinds, sizeof(kinds));
		CU_ASSERT_STRING_EQUAL(kinds, "submitted,claimed,stage_changed");
	}
}

/* ---- reads, artifacts -------------------------------------------------------- */

static void test_list_pages_newest_first(void)
{
	struct tenant *t = tenant_new("list");
	char ids[5][IDLEN], path[128], cursor[32] = "";
	struct claimed c;
	struct http_resp r;
	int got = 0, pages = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int i = 0; i < 5; i++)
		SUBMIT(t, "{\"body\":\"listed\"}", ids[i], NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-list", NULL, 1, &c), 1); /* ids[0], the oldest */
	do {
		struct json_object *items;

		snprintf(path, sizeof(path), "/v1/fleet/jobs?limit=2%s%s",
		         cursor[0] ? "&cursor=" : "", cursor);
		r = call("GET", path, t->reader, NULL, NULL);
		EXPECT_STATUS(r, 200);
		items = obj_at(data_of(&r), "items");
		for (size_t i = 0; i < len_of(items); i++, got++) {
			if (got < 5)
				CU_ASSERT_STRING_EQUAL(str_at(item_at(items, i), "id"),
				                       ids[4 - got]);
			CU_ASSERT_PTR_NULL(
			    json_object_get_string(obj_at(item_at(items, i), "body")));
		}
		snprintf(cursor, sizeof(cursor), "%s", str_at(data_of(&r), "next_cursor"));
		http_resp_free(&r);
	} while (cursor[0] != '\0' && ++pages < 10);
	CU_ASSERT_EQUAL(got, 5);
	r = call("GET", "/v1/fleet/jobs?stage=assigned", t->submitter, NULL, NULL);
	CU_ASSERT_EQUAL(len_of(obj_at(data_of(&r), "items")), 1);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(obj_at(data_of(&r), "items"), 0), "id"), ids[0]);
	http_resp_free(&r);
	r = call("GET", "/v1/fleet/jobs?stage=nonsense", t->reader, NULL, NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "stage");
	http_resp_free(&r);
	r = call("GET", "/v1/fleet/jobs/abc", t->reader, NULL, NULL);
	EXPECT_ERROR(r, 404, "job_not_found");
	http_resp_free(&r);
}

static void test_artifacts(void)
{
	struct tenant *t = tenant_new("artifacts");
	char id[IDLEN], path[96];
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{}", id, NULL);
	job_path(path, sizeof(path), id, "/artifacts");
	r = call("POST", path, t->worker,
	         "{\"uri\":\"s3://bucket/"
	         "log.txt\",\"sha256\":"
	         "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
	         "\"bytes\":1234,\"kind\":\"log\"}",
	         NULL);
	EXPECT_STATUS(r, 201);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "kind"), "log");
	http_resp_free(&r);
	r = call("POST", path, t->worker, "{\"uri\":\"s3://bucket/b\",\"sha256\":\"XYZ\"}", NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	http_resp_free(&r);
	r = call("GET", path, t->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_EQUAL(len_of(data_of(&r)), 1);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "uri"), "s3://bucket/log.txt");
	CU_ASSERT_EQUAL(int_at(item_at(data_of(&r), 0), "bytes"), 1234);
	http_resp_free(&r);
}

/* ---- suite ------------------------------------------------------------------ */


/* The name of token (GET /v1/whoami), into out. */
static const char *token_name(const char *token, char *out, size_t cap)
{
	struct http_resp r = call("GET", "/v1/whoami", token, NULL, NULL);

	snprintf(out, cap, "%s", r.status == 200 ? str_at(data_of(&r), "name") : "?");
	http_resp_free(&r);
	return out;
}

/* Every event of a job names who caused it (DESIGN 4, issue 18): the
 * submitter's token for the submit, the worker's for each claim, renewal,
 * release, failure and ship (the claims and the ship are not rows, sql/014:
 * theirs ride on the job row and the run), and the canceller's. The reaper's
 * own events name it and its term: test_reaper's expired_lease_names_reaper. */
static void test_every_event_names_its_actor(void)
{
	static const char *const BY_WORKER[] = {"claimed", "renewed", "released", "requeued",
						"failed", "stage_changed"};
	struct tenant *t = tenant_new("actor");
	char id[IDLEN], id2[IDLEN], path[160], sub[160], wrk[160];
	struct claimed a, b, c;
	struct http_resp r;
	struct json_object *items;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	token_name(t->submitter, sub, sizeof(sub));
	token_name(t->worker, wrk, sizeof(wrk));
	SUBMIT(t, "{\"retry\":{\"max\":3,\"backoff_s\":0}}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-a", NULL, 1, &a), 1);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/renew"), t->worker,
	          "{\"factory_id\":\"f-a\",\"lease_epoch\":%" PRId64 ",\"ttl_s\":300}", a.epoch[0]);
	http_resp_free(&r);
	r = callf("POST", job_path(path, sizeof(path), id, "/lease/release"), t->worker,
	          "{\"factory_id\":\"f-a\",\"lease_epoch\":%" PRId64 "}", a.epoch[0]);
	http_resp_free(&r);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-b", NULL, 1, &b), 1);
	PATCH_OK(t, id, "f-b", b.epoch[0], "failed", "", "queued");
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-c", NULL, 1, &c), 1);
	r = callf("POST", "/v1/fleet/jobs:transition", t->worker,
	          "{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-c\",\"lease_epoch\":%" PRId64
	          ",\"stage\":\"shipped\"}]}",
	          id, c.epoch[0]);
	http_resp_free(&r);
	r = call("GET", job_path(path, sizeof(path), id, "/events?limit=500"), t->reader, NULL,
	         NULL);
	items = obj_at(data_of(&r), "items");
	n = len_of(items);
	CU_ASSERT_EQUAL(n, 10);
	for (size_t i = 0; i < n; i++) {
		struct json_object *ev = item_at(items, i), *actor = obj_at(ev, "actor");
		const char *kind = str_at(ev, "kind");
		bool by_worker = false;

		for (size_t k = 0; k < sizeof(BY_WORKER) / sizeof(BY_WORKER[0]); k++)
			by_worker |= strcmp(kind, BY_WORKER[k]) == 0;
		if (actor == NULL)
			fprintf(stderr, "\n  event %zu (%s) has no actor", i, kind);
		CU_ASSERT_PTR_NOT_NULL(actor);
		CU_ASSERT_STRING_EQUAL(str_at(actor, "name"), by_worker ? wrk : sub);
		CU_ASSERT_STRING_EQUAL(str_at(actor, "role"), by_worker ? "worker" : "submitter");
	}
	http_resp_free(&r);
	/* a job cancelled while held: the canceller, and the run it ended keeps
	 * the claim's actor */
	SUBMIT(t, "{}", id2, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-d", NULL, 1, &a), 1);
	r = call("POST", job_path(path, sizeof(path), id2, "/cancel"), t->submitter, "{}", NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	r = call("GET", job_path(path, sizeof(path), id2, "/events?limit=500"), t->reader, NULL,
	         NULL);
	items = obj_at(data_of(&r), "items");
	CU_ASSERT_EQUAL_FATAL(len_of(items), 3);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(items, 1), "actor"), "name"), wrk);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(items, 2), "kind"), "cancelled");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(item_at(items, 2), "actor"), "name"), sub);
	http_resp_free(&r);
}


/* The engine a run actually used (issue 18): reported with a PATCH (kept
 * while the attempt runs) or with jobs:transition, recorded on the run;
 * without a report the run shows the job's engine_class. */
static void test_run_records_reported_engine(void)
{
	struct tenant *t = tenant_new("engine");
	char id[IDLEN], id2[IDLEN], path[160];
	struct claimed a, b;
	struct http_resp r;
	struct json_object *runs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	SUBMIT(t, "{\"engine_class\":\"gpu-any\"}", id, NULL);
	SUBMIT(t, "{\"engine_class\":\"gpu-any\"}", id2, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-e", NULL, 1, &a), 1);
	PATCH_OK(t, id, "f-e", a.epoch[0], "building", ",\"engine\":\"vllm-0.6\"", "building");
	/* the running attempt shows it already */
	r = call("GET", job_path(path, sizeof(path), id, "/runs"), t->reader, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "engine"), "vllm-0.6");
	http_resp_free(&r);
	PATCH_OK(t, id, "f-e", a.epoch[0], "shipped", "", "shipped");
	r = call("GET", job_path(path, sizeof(path), id, "/runs"), t->reader, NULL, NULL);
	runs = data_of(&r);
	CU_ASSERT_EQUAL(len_of(runs), 1);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(runs, 0), "engine"), "vllm-0.6");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(runs, 0), "exit"), "shipped");
	http_resp_free(&r);
	/* by jobs:transition; and a bad engine is a 400 naming it */
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-e", NULL, 1, &b), 1);
	EXPECT_REFUSED(t->worker, "POST", "/v1/fleet/jobs:transition",
	               "{\"items\":[{\"id\":\"1\",\"factory_id\":\"f-e\",\"lease_epoch\":1,"
	               "\"stage\":\"shipped\",\"engine\":\"\"}]}",
	               "items[0].engine");
	r = callf("POST", "/v1/fleet/jobs:transition", t->worker,
	          "{\"items\":[{\"id\":\"%s\",\"factory_id\":\"f-e\",\"lease_epoch\":%" PRId64
	          ",\"stage\":\"shipped\",\"engine\":\"sglang\"}]}",
	          id2, b.epoch[0]);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	r = call("GET", job_path(path, sizeof(path), id2, "/runs"), t->reader, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "engine"), "sglang");
	http_resp_free(&r);
	/* no report: the job's engine_class */
	SUBMIT(t, "{\"engine_class\":\"gpu-any\"}", id, NULL);
	CU_ASSERT_EQUAL_FATAL(CLAIM(t, "f-e", NULL, 1, &a), 1);
	PATCH_OK(t, id, "f-e", a.epoch[0], "shipped", "", "shipped");
	r = call("GET", job_path(path, sizeof(path), id, "/runs"), t->reader, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(str_at(item_at(data_of(&r), 0), "engine"), "gpu-any");
	http_resp_free(&r);
}

static CU_TestInfo TESTS[] = {
    {"64_claimers_20000_jobs_each_claimed_once", test_64_claimers_20000_jobs_each_claimed_once},
    {"ten_claimers_one_job_one_winner", test_ten_claimers_one_job_one_winner},
    {"claim_priority_then_age", test_claim_priority_then_age},
    {"claim_capabilities_subset", test_claim_capabilities_subset},
    {"claim_respects_not_before", test_claim_respects_not_before},
    {"claim_respects_seats", test_claim_respects_seats},
    {"seats_hold_under_concurrent_claims", test_seats_hold_under_concurrent_claims},
    {"fencing_after_release_and_reclaim", test_fencing_after_release_and_reclaim},
    {"fencing_after_reap", test_fencing_after_reap},
    {"fencing_after_cancel", test_fencing_after_cancel},
    {"if_match", test_if_match},
    {"release_without_requeue_leaves_no_orphan", test_release_without_requeue_leaves_no_orphan},
    {"idempotent_submit", test_idempotent_submit},
    {"hard_dependency_by_key", test_hard_dependency_by_key},
    {"soft_dependency_by_id", test_soft_dependency_by_id},
    {"unknown_dependency_400", test_unknown_dependency_400},
    {"dep_key_preferred_over_id", test_dep_key_preferred_over_id},
    {"batch_dependencies_and_cycles", test_batch_dependencies_and_cycles},
    {"supersede_cycle_refused", test_supersede_cycle_refused},
    {"two_deps_shipped_at_once", test_two_deps_shipped_at_once},
    {"submit_while_its_dep_ships", test_submit_while_its_dep_ships},
    {"transition_unblocks_only_what_shipped", test_transition_unblocks_only_what_shipped},
    {"dependency_that_fails_leaves_dependent_blocked",
     test_dependency_that_fails_leaves_dependent_blocked},
    {"retry_backoff_then_dead_letter", test_retry_backoff_then_dead_letter},
    {"retry_max_zero_and_no_retry_on_failed", test_retry_max_zero_and_no_retry_on_failed},
    {"tenant_isolation", test_tenant_isolation},
    {"roles_on_fleet_routes", test_roles_on_fleet_routes},
    {"bodies_validated_naming_the_field", test_bodies_validated_naming_the_field},
    {"mutated_bodies_never_5xx", test_mutated_bodies_never_5xx},
    {"batched_transitions", test_batched_transitions},
    {"long_poll_claim_wakes_on_submit", test_long_poll_claim_wakes_on_submit},
    {"long_poll_claim_wakes_on_unblock_and_requeue",
     test_long_poll_claim_wakes_on_unblock_and_requeue},
    {"long_poll_past_the_slots_says_so", test_long_poll_past_the_slots_says_so},
    {"event_history_ordered_and_append_only", test_event_history_ordered_and_append_only},
    {"event_history_complete_across_attempts", test_event_history_complete_across_attempts},
    {"every_event_names_its_actor", test_every_event_names_its_actor},
    {"run_records_reported_engine", test_run_records_reported_engine},
    {"lifecycle_three_row_writes", test_lifecycle_three_row_writes},
    {"list_pages_newest_first", test_list_pages_newest_first},
    {"artifacts", test_artifacts},
    /* last: its ANALYZE changes the plans every later submit would get */
    {"deps_by_key_in_a_busy_tenant", test_deps_by_key_in_a_busy_tenant},
    CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite fleet = {
	    .name = "fleet", .tenant_prefix = "fleet", .control_roles = false};

	return suite_run(&fleet, TESTS);
}
