/* provider_runpod.c -- RunPod behind the provider vtable (provider.h).
 *
 * What it follows (RunPod's public documentation, docs.runpod.io):
 *   - pods, REST API v1 (base CONDUCTOR_RUNPOD_API_URL, https://rest.runpod.io/v1):
 *       POST   /pods             {name, imageName, gpuTypeIds[], gpuCount,
 *                                 cloudType SECURE|COMMUNITY, computeType GPU}
 *                                 -> 201 the pod
 *       GET    /pods/{podId}     -> 200 the pod, 404 when it is gone
 *       POST   /pods/{podId}/stop -> 200
 *       DELETE /pods/{podId}     -> 200 or 204
 *     a pod: {id, name, desiredStatus RUNNING|EXITED|TERMINATED, costPerHr,
 *     publicIp, machine {gpuTypeId}, ...};
 *   - GPU types, prices and stock: the REST API has no listing, RunPod's
 *     GraphQL API has (CONDUCTOR_RUNPOD_GRAPHQL_URL, https://api.runpod.io/graphql):
 *       gpuTypes { id memoryInGb secureCloud communityCloud securePrice
 *                  communityPrice lowestPrice(input: {gpuCount, secureCloud})
 *                  { uninterruptablePrice stockStatus } }
 *     lowestPrice is null, or its stockStatus null, when nothing is in stock.
 * Both take the API key as "Authorization: Bearer". The offer's region is
 * the cloud type (CONDUCTOR_RUNPOD_CLOUD_TYPE), so a pod starts where it was
 * priced.
 *
 * A pod's states: RUNNING without a public IP yet -> starting, RUNNING with
 * one -> running, EXITED -> stopped, TERMINATED or 404 -> gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "data/provider_http.h"

#define WHO "runpod"

/* The GPU types with their on-demand price and stock for one GPU in the
 * configured cloud ($input: {gpuCount: 1, secureCloud: true|false}). */
static const char GQL_GPU_TYPES[] =
    "query GpuTypes($input: GpuLowestPriceInput) { gpuTypes { id displayName memoryInGb "
    "secureCloud communityCloud securePrice communityPrice lowestPrice(input: $input) "
    "{ uninterruptablePrice stockStatus } } }";

static bool configured(const struct provider_ctx *ctx)
{
	const struct config *c = ctx->cfg;

	return c->runpod_api_key[0] != '\0' && c->runpod_api_url[0] != '\0' &&
	       c->runpod_graphql_url[0] != '\0' && c->runpod_image[0] != '\0';
}

/* The REST API (pods) or the GraphQL API (GPU types) with the key. */
static struct provider_api api_of(const struct provider_ctx *ctx, bool graphql)
{
	const struct config *c = ctx->cfg;

	return (struct provider_api){.who = WHO,
	                             .base = graphql ? c->runpod_graphql_url : c->runpod_api_url,
	                             .key = c->runpod_api_key,
	                             .configured = configured(ctx),
	                             .missing =
	                                 "CONDUCTOR_RUNPOD_API_KEY (and the URLs, the image)"};
}

static bool secure_cloud(const char *cloud_type)
{
	return strcmp(cloud_type, "COMMUNITY") != 0;
}

/* The offer of one GPU type, when it meets need and is in stock. */
static bool offer_of(struct json_object *t, const struct provider_need *need, const char *cloud,
                     struct provider_offer *o)
{
	bool secure = secure_cloud(cloud);
	struct json_object *lowest = json_get(t, "lowestPrice");
	const char *id = json_get_string(t, "id", "");
	const char *stock = json_get_string(lowest, "stockStatus", "");
	int mem = (int)json_get_int(t, "memoryInGb", 0);
	double price = httpc_num(lowest, "uninterruptablePrice");

	if (id[0] == '\0' || strlen(id) >= sizeof(o->gpu) || stock[0] == '\0')
		return false;
	if (!json_get_bool(t, secure ? "secureCloud" : "communityCloud", false))
		return false;
	if (need->gpu_mem_gb > 0 && mem < need->gpu_mem_gb)
		return false;
	if (price <= 0)
		price = httpc_num(t, secure ? "securePrice" : "communityPrice");
	if (price <= 0)
		return false;
	provider_offer_set(o, WHO, id, mem, price, cloud);
	return true;
}

static enum cd_err availability(const struct provider_ctx *ctx, const struct provider_need *need,
                                struct provider_offer *out, size_t cap, size_t *n,
                                struct cd_error *e)
{
	const char *cloud = ctx->cfg->runpod_cloud_type;
	struct provider_api api = api_of(ctx, true);
	struct json_object *body = json_object_new_object(), *vars = json_object_new_object(),
	                   *input = json_object_new_object(), *types;
	struct provider_call c;
	size_t got = 0;
	enum cd_err rc;

	json_object_object_add(input, "gpuCount", json_object_new_int(1));
	json_object_object_add(input, "secureCloud", json_object_new_boolean(secure_cloud(cloud)));
	json_object_object_add(vars, "input", input);
	json_object_object_add(body, "query", json_object_new_string(GQL_GPU_TYPES));
	json_object_object_add(body, "variables", vars);
	/* a query changes nothing: safe to send again */
	rc = provider_http_call(ctx->cfg, &api, "POST", "",
	                        json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), true,
	                        &c, e);
	if (rc != CD_OK)
		goto out;
	types = json_get(json_get(c.resp.json, "data"), "gpuTypes");
	if (c.resp.status != 200 || !json_object_is_type(types, json_type_array)) {
		rc = httpc_fail_status(&c.req, &c.resp, "the GPU types query", e);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(types); i++) {
		struct provider_offer o;

		if (offer_of(json_object_array_get_idx(types, i), need, cloud, &o))
			provider_offer_keep(out, cap, &got, &o);
	}
	*n = got;
	rc = CD_OK;
out:
	json_object_put(body);
	provider_http_done(&c);
	return rc;
}

/* A pod's JSON into out; false when it is not a pod. */
static bool pod_of(struct json_object *pod, struct provider_instance *out)
{
	const char *id = json_get_string(pod, "id", "");
	const char *desired = json_get_string(pod, "desiredStatus", "");
	const char *ip = json_get_string(pod, "publicIp", "");
	const char *gpu = json_get_string(json_get(pod, "machine"), "gpuTypeId", "");

	if (id[0] == '\0' || strlen(id) >= sizeof(out->provider_id))
		return false;
	memset(out, 0, sizeof(*out));
	snprintf(out->provider_id, sizeof(out->provider_id), "%s", id);
	if (strcmp(desired, "RUNNING") == 0)
		snprintf(out->state, sizeof(out->state), "%s", ip[0] ? "running" : "starting");
	else if (strcmp(desired, "EXITED") == 0)
		snprintf(out->state, sizeof(out->state), "stopped");
	else if (strcmp(desired, "TERMINATED") == 0)
		snprintf(out->state, sizeof(out->state), "gone");
	else
		snprintf(out->state, sizeof(out->state), "starting");
	snprintf(out->gpu, sizeof(out->gpu), "%s", gpu);
	snprintf(out->address, sizeof(out->address), "%s", ip);
	out->price_per_hour = httpc_num(pod, "costPerHr");
	return true;
}

static enum cd_err start(const struct provider_ctx *ctx, const struct provider_offer *offer,
                         const char *name, struct provider_instance *out, struct cd_error *e)
{
	struct provider_api api = api_of(ctx, false);
	struct json_object *body = json_object_new_object(), *gpus = json_object_new_array();
	const char *cloud = offer->region[0] ? offer->region : ctx->cfg->runpod_cloud_type;
	enum cd_err rc;

	json_object_array_add(gpus, json_object_new_string(offer->gpu));
	json_object_object_add(body, "name", json_object_new_string(name));
	json_object_object_add(body, "imageName", json_object_new_string(ctx->cfg->runpod_image));
	json_object_object_add(body, "computeType", json_object_new_string("GPU"));
	json_object_object_add(body, "gpuTypeIds", gpus);
	json_object_object_add(body, "gpuCount", json_object_new_int(1));
	json_object_object_add(body, "cloudType", json_object_new_string(cloud));
	rc = provider_http_create(ctx->cfg, &api, "/pods", body, offer, pod_of, out, e);
	json_object_put(body);
	return rc;
}

static enum cd_err stop(const struct provider_ctx *ctx, const char *provider_id, struct cd_error *e)
{
	static const long ok[] = {200, 204, 0};
	struct provider_api api = api_of(ctx, false);

	return provider_http_action(ctx->cfg, &api, "POST", "/pods", provider_id, "/stop", NULL, ok,
	                            false, e);
}

static enum cd_err status(const struct provider_ctx *ctx, const char *provider_id,
                          struct provider_instance *out, struct cd_error *e)
{
	struct provider_api api = api_of(ctx, false);

	return provider_http_status(ctx->cfg, &api, "/pods", provider_id, pod_of, out, e);
}

static enum cd_err destroy(const struct provider_ctx *ctx, const char *provider_id,
                           struct cd_error *e)
{
	static const long ok[] = {200, 202, 204, 0};
	struct provider_api api = api_of(ctx, false);

	return provider_http_action(ctx->cfg, &api, "DELETE", "/pods", provider_id, "", NULL, ok,
	                            true, e);
}

const struct provider provider_runpod = {
    .name = WHO,
    .configured = configured,
    .availability = availability,
    .start = start,
    .stop = stop,
    .status = status,
    .destroy = destroy,
};
