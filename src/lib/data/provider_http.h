/* provider_http.h -- what the HTTP providers (provider_runpod.c,
 * provider_digitalocean.c) share: one call to an API with its own base URL
 * and key, the answer's status checked against a list, and the offers kept
 * cheapest first. Through httpc.c, so every rule of httpc.h holds (time
 * budget, bounded retries, the key never in a log or a message).
 * Thread-safety: reentrant.
 */
#ifndef CD_PROVIDER_HTTP_H
#define CD_PROVIDER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "data/httpc.h"
#include "data/provider.h"

/* One provider's API, borrowed from the configuration. */
struct provider_api {
	const char *who;  /* the provider's name */
	const char *base; /* base URL ("https://rest.runpod.io/v1") */
	const char *key;  /* bearer key: a secret */
};

/* The request and answer of one call. Free with provider_http_done(). */
struct provider_call {
	struct httpc_req req;
	struct httpc_resp resp;
	char url[1200];
	char path[160];
};

/* method api->base + path with body (JSON or NULL) into c. idempotent: see
 * httpc.h. Returns httpc_call()'s result, CD_CONFIG when the URL does not fit. */
enum cd_err provider_http_call(const struct config *cfg, const struct provider_api *api,
                               const char *method, const char *path, const char *body,
                               bool idempotent, struct provider_call *c, struct cd_error *e);

/* method api->base + <collection>/<id><suffix> (idempotent) and the status
 * checked: ok lists the statuses that mean success (ending with 0); with
 * gone_ok a 404 is success too (c->resp.status tells). CD_INVALID (field
 * provider_id) for an id that is no path segment; CD_UPSTREAM naming the
 * status for any other answer. */
enum cd_err provider_http_item(const struct config *cfg, const struct provider_api *api,
                               const char *method, const char *collection, const char *id,
                               const char *suffix, const char *body, const long *ok, bool gone_ok,
                               struct provider_call *c, struct cd_error *e);

/* Frees what c holds. */
void provider_http_done(struct provider_call *c);

/* Fills o (all of it) with one offer of provider who. */
void provider_offer_set(struct provider_offer *o, const char *who, const char *gpu, int gpu_mem_gb,
                        double price_per_hour, const char *region);

/* What the provider's answer about a new instance left out (its GPU, its
 * price), taken from the offer it was started from. */
void provider_instance_from_offer(struct provider_instance *inst,
                                  const struct provider_offer *offer);

/* Fills out as an instance the provider no longer knows (state "gone"). */
void provider_instance_gone(struct provider_instance *out, const char *provider_id);

/* Adds o to out[0..*n), which stays in order of price, keeping the cheapest
 * cap offers. */
void provider_offer_keep(struct provider_offer *out, size_t cap, size_t *n,
                         const struct provider_offer *o);

#endif
