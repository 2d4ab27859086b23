/* provider.h -- the one interface of the GPU runtime providers (DESIGN
 * section 6): a const vtable per provider, one file each
 * (provider_runpod.c, provider_digitalocean.c, provider_manual.c), all in
 * data/ because they do I/O (libcurl through httpc.c; the manual provider
 * through PostgreSQL).
 *
 * Entry points: provider_find() by name, provider_configured_order() for the
 * order (CONDUCTOR_PROVIDERS). The watcher and the runtime routes walk the
 * configured order, gather every offer that meets a pool's need through
 * availability(), and start the cheapest (cost packing, domain/).
 *
 * Rules every adapter keeps:
 *   - every call is bounded in time (connect and total timeouts, a few
 *     retries with backoff on 429 and 5xx; never a hang);
 *   - an API key never reaches a log line, an error message or an event;
 *   - a failure is CD_UPSTREAM with e->field = the provider's name and a
 *     message naming the provider and the HTTP status it answered (0 when it
 *     did not answer), or CD_CONFIG when the provider is not configured
 *     (no key, no URL);
 *   - out-structs are filled only on CD_OK.
 * Thread-safety: every function may be called from any thread with its own
 * struct provider_ctx.
 */
#ifndef CD_PROVIDER_H
#define CD_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/err.h"
#include "data/db.h"

#define PROVIDER_OFFERS_MAX 32 /* offers one availability() call may return */

/* What a pool needs of one instance. */
struct provider_need {
	const char *pool;	/* the pool's name, used in the instance's name */
	int gpu_mem_gb;		/* at least this much GPU memory; 0: any */
	const char *capability;	/* the capability the pool serves ("" when none) */
};

/* One thing a provider can start now, and its price. */
struct provider_offer {
	char provider[32];	/* the provider's name ("runpod") */
	char gpu[64];		/* the provider's GPU type id or size slug */
	int gpu_mem_gb;
	double price_per_hour;	/* USD */
	char region[32];	/* cloud type (runpod), region (digitalocean), "" */
	char machine_id[64];	/* manual: the registered machine's id; "" otherwise */
};

/* An instance as the provider sees it. */
struct provider_instance {
	char provider_id[128];	/* the provider's id (pod id, droplet id, machine id) */
	char state[24];		/* starting, running, stopped, gone */
	char gpu[64];
	double price_per_hour;
	char address[128];	/* an address the provider gave, "" when none yet */
};

/* What a provider call may use: the configuration (URLs, keys, timeouts) and,
 * for the manual provider, a database connection. Borrowed. */
struct provider_ctx {
	const struct config *cfg;
	struct db *db;
};

struct provider {
	const char *name;	/* "runpod", "digitalocean", "manual" */

	/* Is the provider configured (its key and URL set)? No I/O. */
	bool (*configured)(const struct provider_ctx *ctx);

	/* The offers that meet need and can start now (capacity, healthy API).
	 * out: up to cap offers; n: how many (0 is not an error: no capacity). */
	enum cd_err (*availability)(const struct provider_ctx *ctx,
				    const struct provider_need *need, struct provider_offer *out,
				    size_t cap, size_t *n, struct cd_error *e);

	/* Starts one instance of offer, named name (<pool>-<unique>).
	 * out: the new instance. */
	enum cd_err (*start)(const struct provider_ctx *ctx, const struct provider_offer *offer,
			     const char *name, struct provider_instance *out, struct cd_error *e);

	/* Stops (powers off) the instance; it can be started again or destroyed. */
	enum cd_err (*stop)(const struct provider_ctx *ctx, const char *provider_id,
			    struct cd_error *e);

	/* The instance's state now (state "gone" when the provider no longer
	 * knows it). */
	enum cd_err (*status)(const struct provider_ctx *ctx, const char *provider_id,
			      struct provider_instance *out, struct cd_error *e);

	/* Deletes the instance for good (billing ends). Deleting one that is
	 * gone already is CD_OK. */
	enum cd_err (*destroy)(const struct provider_ctx *ctx, const char *provider_id,
			       struct cd_error *e);
};

/* The provider named name, or NULL. Borrowed (static). */
const struct provider *provider_find(const char *name);

/* The providers of cfg->providers, in its order, into out (up to cap);
 * n: how many. Names are validated at configuration load. */
void provider_configured_order(const struct config *cfg, const struct provider **out, size_t cap,
			       size_t *n);

#endif
