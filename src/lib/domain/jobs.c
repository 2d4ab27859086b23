/* jobs.c -- the fleet's use cases over the data layer; see jobs.h.
 *
 * Each use case is one transaction. A serialization failure or deadlock
 * (40001, 40P01) is retried a few times here; anything else is returned.
 * Long-polling claims hold a worker thread, so at most `wait slots` of them
 * wait at once per process; the others answer immediately with what there
 * is, which keeps threads free for every other route, and say so
 * (claim_waited.cut_short), so that their clients back off instead of
 * asking again at once.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "domain/deps.h"
#include "domain/jobs.h"
#include "domain/stages.h"

static atomic_int wait_slots_free = 0;

void jobs_set_wait_slots(int slots)
{
	atomic_store(&wait_slots_free, slots);
}


/* ---- submit ------------------------------------------------------------- */

struct submit_ctx {
	int64_t tenant;
	const char *request, *key;
	enum submit_outcome outcome;
	int64_t id;
	char *out;
	struct cd_error *e;
};

static enum cd_err submit_step(struct db *db, void *p)
{
	struct submit_ctx *c = p;
	enum cd_err rc;

	free(c->out);
	c->out = NULL;
	rc = db_jobs_submit(db, c->tenant, c->request, c->key, "", &c->outcome, &c->id, c->e);
	if (rc == CD_OK && c->outcome != SUBMIT_REPLAYED)
		rc = db_jobs_notify(db, c->tenant, c->e);
	if (rc == CD_OK)
		rc = db_jobs_get(db, c->tenant, c->id, true, &c->out, c->e);
	return rc;
}

enum cd_err jobs_submit(struct db *db, int64_t tenant, struct json_object *request,
			enum submit_outcome *outcome, char **out, struct cd_error *e)
{
	struct submit_ctx c = {
		.tenant = tenant,
		.request = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN),
		.key = json_get_string(request, "idempotency_key", NULL),
		.e = e,
	};
	enum cd_err rc = db_run_tx(db, submit_step, &c, e);

	*outcome = c.outcome;
	*out = rc == CD_OK ? c.out : NULL;
	if (rc != CD_OK)
		free(c.out);
	return rc;
}

static const char *const OUTCOME_NAMES[] = {"created", "replayed", "superseded"};

struct batch_ctx {
	int64_t tenant;
	struct json_object *items;
	const size_t *order;
	struct buf *out;
	struct cd_error *e;
};

static enum cd_err batch_step(struct db *db, void *p)
{
	struct batch_ctx *c = p;
	size_t n = json_object_array_length(c->items);
	int64_t *ids = xcalloc(n ? n : 1, sizeof(*ids));
	enum submit_outcome *outcomes = xcalloc(n ? n : 1, sizeof(*outcomes));
	enum cd_err rc = CD_OK;

	for (size_t k = 0; k < n && rc == CD_OK; k++) {
		size_t i = c->order[k];
		struct json_object *item = json_object_array_get_idx(c->items, i);
		char where[32];

		snprintf(where, sizeof(where), "jobs[%zu].", i);
		rc = db_jobs_submit(db, c->tenant,
				    json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN),
				    json_get_string(item, "idempotency_key", NULL), where, &outcomes[i],
				    &ids[i], c->e);
	}
	if (rc == CD_OK)
		rc = db_jobs_notify(db, c->tenant, c->e);
	buf_reset(c->out);
	buf_puts(c->out, "[");
	for (size_t i = 0; rc == CD_OK && i < n; i++) {
		const char *key = json_get_string(json_object_array_get_idx(c->items, i),
						  "idempotency_key", NULL);

		buf_printf(c->out, "%s{\"id\":\"%" PRId64 "\",\"idempotency_key\":", i ? "," : "",
			   ids[i]);
		if (key != NULL) {
			buf_puts(c->out, "\"");
			buf_json_escape(c->out, key, strlen(key));
			buf_puts(c->out, "\"");
		} else {
			buf_puts(c->out, "null");
		}
		buf_printf(c->out, ",\"outcome\":\"%s\"}", OUTCOME_NAMES[outcomes[i]]);
	}
	buf_puts(c->out, "]");
	free(ids);
	free(outcomes);
	return rc;
}

/* Fills items[i] from the batch's objects (refs point into the json tree). */
static void collect_refs(struct json_object *objs, struct deps_item *items, const char ***refs)
{
	size_t n = json_object_array_length(objs);

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(objs, i);
		struct json_object *deps = json_get(o, "deps");
		size_t nd = deps ? json_object_array_length(deps) : 0;

		refs[i] = xcalloc(nd ? nd : 1, sizeof(char *));
		for (size_t d = 0; d < nd; d++)
			refs[i][d] = json_object_get_string(json_object_array_get_idx(deps, d));
		items[i].key = json_get_string(o, "idempotency_key", NULL);
		items[i].refs = refs[i];
		items[i].nrefs = nd;
	}
}

enum cd_err jobs_submit_batch(struct db *db, int64_t tenant, struct json_object *objs,
			      char **out, struct cd_error *e)
{
	size_t n = json_object_array_length(objs);
	struct deps_item *items = xcalloc(n ? n : 1, sizeof(*items));
	const char ***refs = xcalloc(n ? n : 1, sizeof(*refs));
	size_t *order = xcalloc(n ? n : 1, sizeof(*order));
	struct buf cycle, result;
	struct batch_ctx c = {.tenant = tenant, .items = objs, .order = order, .out = &result, .e = e};
	enum cd_err rc;

	*out = NULL;
	buf_init(&cycle, 64 * 1024);
	buf_init(&result, 4 * 1024 * 1024);
	collect_refs(objs, items, refs);
	rc = deps_order(items, n, order, &cycle, e);
	if (rc == CD_OK)
		rc = db_run_tx(db, batch_step, &c, e);
	if (rc == CD_OK)
		*out = xstrdup(buf_str(&result));
	for (size_t i = 0; i < n; i++)
		free(refs[i]);
	free(refs);
	free(items);
	free(order);
	buf_reset(&cycle);
	buf_reset(&result);
	return rc;
}

/* ---- claim -------------------------------------------------------------- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct claim_ctx {
	int64_t tenant;
	const struct claim_request *c;
	char *out;
	int count;
	struct cd_error *e;
};

/* A seat-limited worker: lock its row, then the claim statement, so that
 * concurrent claims of one worker count each other's leases. */
static enum cd_err claim_step(struct db *db, void *p)
{
	struct claim_ctx *cc = p;
	bool limited;
	enum cd_err rc;

	free(cc->out);
	cc->out = NULL;
	rc = db_leases_lock_factory(db, cc->tenant, cc->c->factory_id, cc->e);
	if (rc == CD_OK)
		rc = db_leases_claim(db, cc->tenant, cc->c, false, &cc->out, &cc->count, &limited,
				   cc->e);
	return rc;
}

static bool take_wait_slot(void)
{
	int free_now = atomic_load(&wait_slots_free);

	while (free_now > 0)
		if (atomic_compare_exchange_weak(&wait_slots_free, &free_now, free_now - 1))
			return true;
	return false;
}

enum cd_err jobs_claim(struct db *db, int64_t tenant, const struct claim_request *c, int wait_ms,
		       char **out, int *count, struct claim_waited *w, struct cd_error *e)
{
	long deadline = now_ms() + wait_ms, waited = 0;
	bool took = false, listening = false;
	enum cd_err rc;

	if (wait_ms > 0 && (took = take_wait_slot())) {
		/* LISTEN before the first attempt, so a NOTIFY between an empty
		 * claim and the wait is not lost. */
		listening = db_listen_jobs(db, e) == CD_OK;
		if (listening)
			db_drain_notifies(db);
	}
	for (;;) {
		struct claim_ctx cc = {tenant, c, NULL, 0, e};
		bool limited = false;
		long left, t0;

		/* Most workers set no seat limit: one statement, no transaction. */
		rc = db_leases_claim(db, tenant, c, true, out, count, &limited, e);
		if (rc == CD_OK && limited) {
			free(*out);
			rc = db_run_tx(db, claim_step, &cc, e);
			*out = cc.out;
			*count = cc.count;
		}
		if (rc != CD_OK || *count > 0 || !listening)
			break;
		left = deadline - now_ms();
		if (left <= 0)
			break;
		free(*out);
		*out = NULL;
		t0 = now_ms();
		db_wait_notify(db, (int)(left > 1000 ? 1000 : left)); /* re-check at least each second */
		waited += now_ms() - t0;
	}
	if (rc == CD_OK && *count > 0)
		metrics_count(METRICS_CLAIMS, (uint64_t)*count);
	if (took)
		atomic_fetch_add(&wait_slots_free, 1);
	if (w != NULL) {
		w->ms = waited;
		/* asked to wait, could not, and nothing came: the client backs off */
		w->cut_short = rc == CD_OK && wait_ms > 0 && !listening && *count == 0;
	}
	return rc;
}

/* ---- fenced writes ------------------------------------------------------ */

/* Appends the from-stages of target to arr (a JSON array); CD_INVALID or
 * CD_INVALID_TRANSITION when target is no PATCH target. */
static enum cd_err add_sources(struct json_object *arr, const char *target, struct cd_error *e)
{
	enum stage to, from[STAGE_COUNT];
	int n;

	if (stages_check_target(target, &to, e) != CD_OK)
		return e ? e->err : CD_INVALID;
	n = stages_sources(to, from);
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(stages_name(from[i])));
	return CD_OK;
}

/* Copies key of from (if present) into to. */
static void copy_key(struct json_object *to, struct json_object *from, const char *key)
{
	struct json_object *v = json_get(from, key);

	if (v != NULL)
		json_object_object_add(to, key, json_object_get(v));
}

/* Builds the items array for db_leases_transition from validated request
 * objects (each {id, factory_id, lease_epoch, stage, checkpoint?, result?,
 * insights?, engine?}); an item whose target stage is refused gets its outcome now. */
static struct json_object *build_items(struct json_object *objs, struct transition *t, size_t n,
				       const int64_t *if_rev)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(objs, i);
		struct json_object *it = json_object_new_object(), *src = json_object_new_array();

		t[i].f.id = strtoll(json_get_string(o, "id", "0"), NULL, 10);
		t[i].f.factory_id = json_get_string(o, "factory_id", "");
		t[i].f.epoch = json_get_int(o, "lease_epoch", 0);
		t[i].f.if_rev = if_rev ? if_rev[i] : 0;
		t[i].stage = json_get_string(o, "stage", "");
		cd_error_reset(&t[i].err);
		t[i].rc = add_sources(src, t[i].stage, &t[i].err);
		/* a soft dependent's dep is met by the most stages */
		t[i].unblocks = t[i].rc == CD_OK && stages_dep_met(stages_parse(t[i].stage), true);
		json_object_object_add(it, "ord", json_object_new_int64((int64_t)i));
		json_object_object_add(it, "id", json_object_new_int64(t[i].f.id));
		json_object_object_add(it, "factory_id", json_object_new_string(t[i].f.factory_id));
		json_object_object_add(it, "lease_epoch", json_object_new_int64(t[i].f.epoch));
		json_object_object_add(it, "if_rev", json_object_new_int64(t[i].f.if_rev));
		json_object_object_add(it, "stage", json_object_new_string(t[i].stage));
		json_object_object_add(it, "sources", src); /* empty when refused: matches nothing */
		copy_key(it, o, "checkpoint");
		copy_key(it, o, "result");
		copy_key(it, o, "insights");
		copy_key(it, o, "engine");
		json_object_array_add(arr, it);
	}
	return arr;
}

struct transition_ctx {
	int64_t tenant;
	const char *items;
	struct transition *t;
	size_t n;
	bool want_state; /* PATCH answers the job's state; jobs:transition does not */
	struct cd_error *e;
};

static enum cd_err transition_step(struct db *db, void *p)
{
	struct transition_ctx *c = p;

	for (size_t i = 0; i < c->n; i++) {
		free(c->t[i].state);
		c->t[i].state = NULL;
	}
	return db_leases_transition(db, c->tenant, c->items, c->t, c->n, c->want_state, c->e);
}

/* Runs n transitions (n <= TRANSITIONS_MAX) in one transaction. */
static enum cd_err run_transitions(struct db *db, int64_t tenant, struct json_object *objs,
				   struct transition *t, size_t n, const int64_t *if_rev,
				   bool want_state, struct cd_error *e)
{
	struct json_object *items = build_items(objs, t, n, if_rev);
	/* a refused target keeps its own answer, whatever the re-read says */
	struct cd_error saved[TRANSITIONS_MAX];
	enum cd_err pre[TRANSITIONS_MAX];
	struct transition_ctx c = {.tenant = tenant, .t = t, .n = n, .want_state = want_state,
				   .e = e};
	bool done = false;
	enum cd_err rc;

	for (size_t i = 0; i < n; i++) {
		pre[i] = t[i].rc;
		saved[i] = t[i].err;
		t[i].state = NULL;
	}
	c.items = json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN);
	/* one round trip where nothing fails; else the whole transaction */
	rc = db_leases_transition_fast(db, tenant, c.items, t, n, want_state, &done, e);
	if (rc == CD_OK && !done)
		rc = db_run_tx(db, transition_step, &c, e);
	for (size_t i = 0; rc == CD_OK && i < n; i++) {
		/* committed: a ship counts once, whatever the retries before */
		if (pre[i] == CD_OK && t[i].rc == CD_OK && strcmp(t[i].ended, "shipped") == 0)
			metrics_count(METRICS_SHIPPED, 1);
		if (pre[i] != CD_OK) {
			free(t[i].state);
			t[i].state = NULL;
			t[i].rc = pre[i];
			t[i].err = saved[i];
		}
	}
	json_object_put(items);
	return rc;
}

enum cd_err jobs_transition(struct db *db, int64_t tenant, struct json_object *request,
			    int64_t id, int64_t if_rev, char **out, struct cd_error *e)
{
	struct json_object *one = json_object_new_array();
	struct json_object *copy = NULL;
	struct transition t;
	char idbuf[24];
	enum cd_err rc;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	json_object_deep_copy(request, &copy, NULL);
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	json_object_object_add(copy, "id", json_object_new_string(idbuf));
	json_object_array_add(one, copy);
	rc = run_transitions(db, tenant, one, &t, 1, &if_rev, true, e);
	if (rc == CD_OK && t.rc != CD_OK) {
		*e = t.err;
		rc = t.rc;
	}
	if (rc == CD_OK)
		*out = t.state;
	else
		free(t.state);
	json_object_put(one);
	return rc;
}

enum cd_err jobs_transition_many(struct db *db, int64_t tenant, struct json_object *items,
				 char **out, struct cd_error *e)
{
	size_t n = json_object_array_length(items);
	struct transition *t = xcalloc(n ? n : 1, sizeof(*t));
	struct buf result;
	enum cd_err rc;

	*out = NULL;
	buf_init(&result, 1024 * 1024);
	if (n > TRANSITIONS_MAX) {
		rc = cd_fail(e, CD_INVALID, "items", "items may hold at most %d transitions.",
			     TRANSITIONS_MAX);
		goto out;
	}
	rc = run_transitions(db, tenant, items, t, n, NULL, false, e);
	if (rc != CD_OK)
		goto out;
	buf_puts(&result, "[");
	for (size_t i = 0; i < n; i++) {
		buf_printf(&result, "%s{\"id\":\"%" PRId64 "\",", i ? "," : "", t[i].f.id);
		if (t[i].rc == CD_OK) {
			buf_printf(&result, "\"ok\":true,\"stage\":\"%s\"}", t[i].ended);
			continue;
		}
		buf_printf(&result, "\"ok\":false,\"error\":\"%s\",\"message\":\"",
			   t[i].err.code[0] ? t[i].err.code : cd_err_name(t[i].rc));
		buf_json_escape(&result, t[i].err.message, strlen(t[i].err.message));
		buf_puts(&result, "\"}");
	}
	buf_puts(&result, "]");
	*out = xstrdup(buf_str(&result));
out:
	for (size_t i = 0; i < n; i++)
		free(t[i].state);
	free(t);
	buf_reset(&result);
	return rc;
}

enum cd_err jobs_renew(struct db *db, int64_t tenant, const struct fence *f, int ttl_s,
		       char **out, struct cd_error *e)
{
	return db_leases_renew(db, tenant, f, ttl_s, out, e);
}

/* A release or a cancel: one job, one transaction, the job's JSON back. */
struct one_job_ctx {
	int64_t tenant;
	const struct fence *f;	/* release */
	bool requeue;		/* release */
	int64_t id;		/* cancel */
	const char *by;		/* cancel */
	char *out;
	struct cd_error *e;
};

static enum cd_err release_step(struct db *db, void *p)
{
	struct one_job_ctx *c = p;

	free(c->out);
	c->out = NULL;
	return db_leases_release(db, c->tenant, c->f, c->requeue, &c->out, c->e);
}

static enum cd_err cancel_step(struct db *db, void *p)
{
	struct one_job_ctx *c = p;

	free(c->out);
	c->out = NULL;
	return db_leases_cancel(db, c->tenant, c->id, c->by, &c->out, c->e);
}

/* Runs step over c in one transaction; out: its answer on CD_OK. */
static enum cd_err one_job(struct db *db, enum cd_err (*step)(struct db *, void *),
			   struct one_job_ctx *c, char **out, struct cd_error *e)
{
	enum cd_err rc = db_run_tx(db, step, c, e);

	*out = rc == CD_OK ? c->out : NULL;
	if (rc != CD_OK)
		free(c->out);
	return rc;
}

enum cd_err jobs_release(struct db *db, int64_t tenant, const struct fence *f, bool requeue,
			 char **out, struct cd_error *e)
{
	struct one_job_ctx c = {.tenant = tenant, .f = f, .requeue = requeue, .e = e};

	return one_job(db, release_step, &c, out, e);
}

enum cd_err jobs_cancel(struct db *db, int64_t tenant, int64_t id, const char *by, char **out,
			struct cd_error *e)
{
	struct one_job_ctx c = {.tenant = tenant, .id = id, .by = by, .e = e};

	return one_job(db, cancel_step, &c, out, e);
}
