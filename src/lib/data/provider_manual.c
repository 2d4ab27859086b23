/* provider_manual.c -- the `manual` provider: machines an operator
 * registered (runtime_machines, POST /v1/runtimes/manual). Nothing is called
 * over the network: starting an instance takes an idle machine, stopping
 * powers it "off" (stopped, not offered), destroying frees it (idle again).
 * The provider's id of an instance is the machine's id.
 *
 * Taking a machine is conditional on its being idle, so two starts racing
 * for one machine cannot both get it: the loser gets CD_UPSTREAM and the
 * watcher tries its next offer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/db_runtime.h"
#include "data/provider.h"

#define NAME "manual"

static bool manual_configured(const struct provider_ctx *ctx)
{
	return ctx->db != NULL;
}

/* The machine id of a provider id; 0 when it is not one. */
static int64_t machine_id(const char *provider_id)
{
	char *end;
	long long v = strtoll(provider_id, &end, 10);

	return end != provider_id && *end == '\0' && v > 0 ? (int64_t)v : 0;
}

static enum cd_err no_db(struct cd_error *e)
{
	return cd_fail(e, CD_CONFIG, NAME, "The manual provider needs the database.");
}

static enum cd_err manual_availability(const struct provider_ctx *ctx,
				       const struct provider_need *need,
				       struct provider_offer *out, size_t cap, size_t *n,
				       struct cd_error *e)
{
	struct runtime_machine m[PROVIDER_OFFERS_MAX];
	size_t k = 0;
	enum cd_err rc;

	*n = 0;
	if (!manual_configured(ctx))
		return no_db(e);
	rc = db_runtime_machines_idle(ctx->db, need->gpu_mem_gb, m,
				      cap < PROVIDER_OFFERS_MAX ? cap : PROVIDER_OFFERS_MAX, &k, e);
	if (rc != CD_OK)
		return rc;
	for (size_t i = 0; i < k; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		snprintf(out[i].provider, sizeof(out[i].provider), NAME);
		snprintf(out[i].gpu, sizeof(out[i].gpu), "%.63s", m[i].gpu);
		out[i].gpu_mem_gb = m[i].gpu_mem_gb;
		out[i].price_per_hour = m[i].price_per_hour;
		snprintf(out[i].machine_id, sizeof(out[i].machine_id), "%" PRId64, m[i].id);
	}
	*n = k;
	return CD_OK;
}

static void fill_instance(const struct runtime_machine *m, const char *state,
			  struct provider_instance *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->provider_id, sizeof(out->provider_id), "%" PRId64, m->id);
	snprintf(out->state, sizeof(out->state), "%s", state);
	snprintf(out->gpu, sizeof(out->gpu), "%.63s", m->gpu);
	out->price_per_hour = m->price_per_hour;
	snprintf(out->address, sizeof(out->address), "%.127s", m->address);
}

static enum cd_err manual_start(const struct provider_ctx *ctx, const struct provider_offer *offer,
				const char *name, struct provider_instance *out,
				struct cd_error *e)
{
	struct runtime_machine m;
	int64_t id = machine_id(offer->machine_id);
	bool taken = false;
	enum cd_err rc;

	(void)name;
	if (!manual_configured(ctx))
		return no_db(e);
	if (id == 0)
		return cd_fail(e, CD_UPSTREAM, NAME, "manual: the offer names no machine.");
	rc = db_runtime_machine_move(ctx->db, id, "idle", "running", &taken, &m, e);
	if (rc != CD_OK)
		return rc;
	if (!taken)
		return cd_fail(e, CD_UPSTREAM, NAME,
			       "manual: machine %" PRId64 " is no longer idle (taken or removed).", id);
	fill_instance(&m, "running", out);
	return CD_OK;
}

/* Moves the machine of provider_id from `from` to `to`; a machine that is
 * gone, or not in `from`, is left alone (idempotent). */
static enum cd_err move(const struct provider_ctx *ctx, const char *provider_id, const char *from,
			const char *to, struct cd_error *e)
{
	int64_t id = machine_id(provider_id);
	bool changed;

	if (!manual_configured(ctx))
		return no_db(e);
	if (id == 0)
		return cd_fail(e, CD_UPSTREAM, NAME, "manual: \"%s\" is not a machine id.", provider_id);
	return db_runtime_machine_move(ctx->db, id, from, to, &changed, NULL, e);
}

static enum cd_err manual_stop(const struct provider_ctx *ctx, const char *provider_id,
			       struct cd_error *e)
{
	return move(ctx, provider_id, "running", "stopped", e);
}

static enum cd_err manual_destroy(const struct provider_ctx *ctx, const char *provider_id,
				  struct cd_error *e)
{
	return move(ctx, provider_id, "*", "idle", e);
}

static enum cd_err manual_status(const struct provider_ctx *ctx, const char *provider_id,
				 struct provider_instance *out, struct cd_error *e)
{
	struct runtime_machine m;
	int64_t id = machine_id(provider_id);
	struct cd_error ge;
	enum cd_err rc;

	if (!manual_configured(ctx))
		return no_db(e);
	if (id == 0)
		return cd_fail(e, CD_UPSTREAM, NAME, "manual: \"%s\" is not a machine id.", provider_id);
	cd_error_reset(&ge);
	rc = db_runtime_machine_get(ctx->db, id, &m, &ge);
	if (rc == CD_NOT_FOUND) {
		memset(out, 0, sizeof(*out));
		snprintf(out->provider_id, sizeof(out->provider_id), "%s", provider_id);
		snprintf(out->state, sizeof(out->state), "gone");
		return CD_OK;
	}
	if (rc != CD_OK) {
		if (e != NULL)
			*e = ge;
		return rc;
	}
	/* an idle machine carries no instance any more */
	fill_instance(&m, strcmp(m.state, "idle") == 0 ? "gone" : m.state, out);
	return CD_OK;
}

const struct provider provider_manual = {
	.name = NAME,
	.configured = manual_configured,
	.availability = manual_availability,
	.start = manual_start,
	.stop = manual_stop,
	.status = manual_status,
	.destroy = manual_destroy,
};
