/* provider_http.h -- what the HTTP providers (provider_runpod.c,
 * provider_digitalocean.c) share: calls to an API with its own base URL and
 * key -- a create, a status, an action on one instance -- each answer's
 * status checked, and the offers kept cheapest first. An adapter only says
 * what to send and how to read the answer. Through httpc.c, so every rule of
 * httpc.h holds (time budget, bounded retries, a create never retried once it
 * may have happened, the key never in a log or a message).
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
	const char *who;     /* the provider's name */
	const char *base;    /* base URL ("https://rest.runpod.io/v1") */
	const char *key;     /* bearer key: a secret */
	bool configured;     /* false: every call is CD_CONFIG, nothing is sent */
	const char *missing; /* what to set when it is not ("CONDUCTOR_DO_API_KEY") */
};

/* The request and answer of one call. Free with provider_http_done(). */
struct provider_call {
	struct httpc_req req;
	struct httpc_resp resp;
	char url[1200];
	char path[160];
};

/* method api->base + path with body (JSON or NULL) into c (freed with
 * provider_http_done() whatever the result). idempotent: see httpc.h.
 * Returns httpc_call()'s result; CD_CONFIG when api is not configured or the
 * URL does not fit. */
enum cd_err provider_http_call(const struct config *cfg, const struct provider_api *api,
                               const char *method, const char *path, const char *body,
                               bool idempotent, struct provider_call *c, struct cd_error *e);

/* Creates an instance: POST api->base + path with body (borrowed), never
 * retried once it may have happened; a 200, 201 or 202 whose body parse()
 * reads is success (parse: the provider's reader of an answer about one
 * instance, the whole JSON body; false when it is not one). out: the instance, its GPU and price
 * from offer when the answer left them out. */
enum cd_err provider_http_create(const struct config *cfg, const struct provider_api *api,
                                 const char *path, struct json_object *body,
                                 const struct provider_offer *offer,
                                 bool (*parse)(struct json_object *, struct provider_instance *),
                                 struct provider_instance *out, struct cd_error *e);

/* GET api->base + <collection>/<id>: out is what parse() reads of a 200, or
 * state "gone" on a 404. */
enum cd_err provider_http_status(const struct config *cfg, const struct provider_api *api,
                                 const char *collection, const char *id,
                                 bool (*parse)(struct json_object *, struct provider_instance *),
                                 struct provider_instance *out, struct cd_error *e);

/* method api->base + <collection>/<id><suffix> with body (JSON or NULL; the
 * call is idempotent: retried) and the status checked: ok lists the statuses
 * that mean success (ending with 0); with gone_ok a 404 is success too.
 * CD_INVALID (field provider_id) for an id that is no path segment, before
 * anything is sent; CD_UPSTREAM naming the status for any other answer. */
enum cd_err provider_http_action(const struct config *cfg, const struct provider_api *api,
                                 const char *method, const char *collection, const char *id,
                                 const char *suffix, const char *body, const long *ok, bool gone_ok,
                                 struct cd_error *e);

/* Frees what c holds. */
void provider_http_done(struct provider_call *c);

/* Fills o (all of it) with one offer of provider who. */
void provider_offer_set(struct provider_offer *o, const char *who, const char *gpu, int gpu_mem_gb,
                        double price_per_hour, const char *region);

/* Adds o to out[0..*n), which stays in order of price, keeping the cheapest
 * cap offers. */
void provider_offer_keep(struct provider_offer *out, size_t cap, size_t *n,
                         const struct provider_offer *o);

#endif
