/* jobs.c -- the fleet's use cases over the data layer; see jobs.h.
 *
 * Each use case is one transaction. A serialization failure or deadlock
 * (40001, 40P01) is retried a few times here; anything else is returned.
 * Long-polling claims hold a worker thread, so at most `wait slots` of them
 * wait at once per process; the others answer immediately with what there
 * is, which keeps threads free for every other route.
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
#include "domain/deps.h"
#include "domain/jobs.h"
#include "domain/stages.h"

#define TX_ATTEMPTS 4

static atomic_int wait_slots_free = 0;

void jobs_set_wait_slots(int slots)
{
	atomic_store(&wait_slots_free, slots);
}

/* Runs step(ctx) inside BEGIN/COMMIT, retrying serialization failures. */
static enum cd_err in_tx(struct db *db, enum cd_err (*step)(struct db *, void *), void *ctx,
			 struct cd_error *e)
{
	enum cd_err rc = CD_INTERNAL;

	for (int attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
		rc = db_begin(db, e);
		if (rc != CD_OK)
			return rc;
		rc = step(db, ctx);
		if (rc == CD_OK)
			rc = db_commit(db, e);
		else
			db_rollback(db);
		if (rc == CD_OK || !db_is_retryable(e))
			return rc;
	}
	return rc;
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
	enum cd_err rc = in_tx(db, submit_step, &c, e);

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
		rc = in_tx(db, batch_step, &c, e);
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

static bool take_wait_slot(void)
{
	int free_now = atomic_load(&wait_slots_free);

	while (free_now > 0)
		if (atomic_compare_exchange_weak(&wait_slots_free, &free_now, free_now - 1))
			return true;
	return false;
}

enum cd_err jobs_claim(struct db *db, int64_t tenant, const struct claim_request *c, int wait_ms,
		       char **out, int *count, struct cd_error *e)
{
	long deadline = now_ms() + wait_ms;
	bool slot = false;
	enum cd_err rc;

	if (wait_ms > 0 && take_wait_slot()) {
		slot = true;
		/* LISTEN before the first attempt, so a NOTIFY between an empty
		 * claim and the wait is not lost. */
		if (db_listen_jobs(db, e) != CD_OK)
			slot = false;
		else
			db_drain_notifies(db);
	}
	for (;;) {
		long left;

		rc = db_jobs_claim(db, tenant, c, out, count, e);
		if (rc != CD_OK || *count > 0 || !slot)
			break;
		left = deadline - now_ms();
		if (left <= 0)
			break;
		free(*out);
		*out = NULL;
		db_wait_notify(db, (int)(left > 1000 ? 1000 : left)); /* re-check at least each second */
	}
	if (slot)
		atomic_fetch_add(&wait_slots_free, 1);
	return rc;
}

/* ---- fenced writes ------------------------------------------------------ */

/* The from-stages of target as a PostgreSQL text[] literal (stage names
 * are fixed identifiers, so this literal holds no client text). */
static enum cd_err sources_literal(const char *target, char *out, size_t cap, struct cd_error *e)
{
	enum stage to, from[STAGE_COUNT];
	size_t used = 0;
	int n;

	if (stages_check_target(target, &to, e) != CD_OK)
		return e ? e->err : CD_INVALID;
	n = stages_sources(to, from);
	out[used++] = '{';
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "",
					 stages_name(from[i]));
	snprintf(out + used, cap - used, "}");
	return CD_OK;
}

struct transition_ctx {
	int64_t tenant;
	const struct fence *f;
	struct transition t;
	char *out;
	char stage[16];
	struct cd_error *e;
};

static enum cd_err transition_step(struct db *db, void *p)
{
	struct transition_ctx *c = p;

	free(c->out);
	c->out = NULL;
	return db_jobs_transition(db, c->tenant, c->f, &c->t, &c->out, c->stage, c->e);
}

enum cd_err jobs_transition(struct db *db, int64_t tenant, const struct fence *f,
			    const char *stage, const char *checkpoint, const char *result,
			    const char *insights, char **out, char stage_out[16],
			    struct cd_error *e)
{
	char sources[128];
	struct transition_ctx c = {.tenant = tenant, .f = f, .e = e};
	enum cd_err rc = sources_literal(stage, sources, sizeof(sources), e);

	*out = NULL;
	if (rc != CD_OK)
		return rc;
	c.t = (struct transition){stage, sources, checkpoint, result, insights};
	rc = in_tx(db, transition_step, &c, e);
	if (rc == CD_OK) {
		*out = c.out;
		snprintf(stage_out, 16, "%s", c.stage);
	} else {
		free(c.out);
	}
	return rc;
}

static const char *json_text_or_null(struct json_object *o, const char *key)
{
	struct json_object *v = json_get(o, key);

	return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : NULL;
}

struct many_ctx {
	int64_t tenant;
	struct json_object *items;
	struct buf *out;
	struct cd_error *e;
};

/* One item of a batch: its own answer, never the batch's failure, unless
 * the database itself failed. */
static enum cd_err many_item(struct db *db, struct many_ctx *c, struct json_object *item)
{
	const char *id_s = json_get_string(item, "id", "0");
	struct fence f = {
		.id = strtoll(id_s, NULL, 10),
		.factory_id = json_get_string(item, "factory_id", ""),
		.epoch = json_get_int(item, "lease_epoch", 0),
	};
	const char *stage = json_get_string(item, "stage", "");
	char sources[128], ended[16] = "";
	struct transition t = {stage, sources, json_text_or_null(item, "checkpoint"),
			       json_text_or_null(item, "result"), json_text_or_null(item, "insights")};
	struct cd_error ie;
	char *job = NULL;
	enum cd_err rc;

	cd_error_reset(&ie);
	rc = sources_literal(stage, sources, sizeof(sources), &ie);
	if (rc == CD_OK)
		rc = db_jobs_transition(db, c->tenant, &f, &t, &job, ended, &ie);
	free(job);
	buf_puts(c->out, "{\"id\":\"");
	buf_json_escape(c->out, id_s, strlen(id_s));
	if (rc == CD_OK) {
		buf_printf(c->out, "\",\"ok\":true,\"stage\":\"%s\"}", ended);
		return CD_OK;
	}
	if (rc == CD_UNAVAILABLE || rc == CD_INTERNAL || db_is_retryable(&ie)) {
		*c->e = ie;
		return rc;
	}
	buf_printf(c->out, "\",\"ok\":false,\"error\":\"%s\",\"message\":\"",
		   ie.code[0] ? ie.code : cd_err_name(rc));
	buf_json_escape(c->out, ie.message, strlen(ie.message));
	buf_puts(c->out, "\"}");
	return CD_OK;
}

static enum cd_err many_step(struct db *db, void *p)
{
	struct many_ctx *c = p;
	size_t n = json_object_array_length(c->items);
	enum cd_err rc = CD_OK;

	buf_reset(c->out);
	buf_puts(c->out, "[");
	for (size_t i = 0; i < n && rc == CD_OK; i++) {
		if (i > 0)
			buf_puts(c->out, ",");
		rc = many_item(db, c, json_object_array_get_idx(c->items, i));
	}
	buf_puts(c->out, "]");
	return rc;
}

enum cd_err jobs_transition_many(struct db *db, int64_t tenant, struct json_object *items,
				 char **out, struct cd_error *e)
{
	struct buf result;
	struct many_ctx c = {.tenant = tenant, .items = items, .out = &result, .e = e};
	enum cd_err rc;

	*out = NULL;
	buf_init(&result, 1024 * 1024);
	rc = in_tx(db, many_step, &c, e);
	if (rc == CD_OK)
		*out = xstrdup(buf_str(&result));
	buf_reset(&result);
	return rc;
}

enum cd_err jobs_renew(struct db *db, int64_t tenant, const struct fence *f, int ttl_s,
		       char **out, struct cd_error *e)
{
	return db_jobs_renew(db, tenant, f, ttl_s, out, e);
}

struct release_ctx {
	int64_t tenant;
	const struct fence *f;
	bool requeue;
	char *out;
	struct cd_error *e;
};

static enum cd_err release_step(struct db *db, void *p)
{
	struct release_ctx *c = p;

	free(c->out);
	c->out = NULL;
	return db_jobs_release(db, c->tenant, c->f, c->requeue, &c->out, c->e);
}

enum cd_err jobs_release(struct db *db, int64_t tenant, const struct fence *f, bool requeue,
			 char **out, struct cd_error *e)
{
	struct release_ctx c = {.tenant = tenant, .f = f, .requeue = requeue, .e = e};
	enum cd_err rc = in_tx(db, release_step, &c, e);

	*out = rc == CD_OK ? c.out : NULL;
	if (rc != CD_OK)
		free(c.out);
	return rc;
}

enum cd_err jobs_cancel(struct db *db, int64_t tenant, int64_t id, const char *by, char **out,
			struct cd_error *e)
{
	return db_jobs_cancel(db, tenant, id, by, out, e);
}
