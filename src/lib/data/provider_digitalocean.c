/* provider_digitalocean.c -- DigitalOcean GPU droplets behind the provider
 * vtable (provider.h).
 *
 * What it follows (DigitalOcean's API reference, docs.digitalocean.com/reference/api,
 * base CONDUCTOR_DO_API_URL, https://api.digitalocean.com/v2, "Authorization: Bearer"):
 *   GET    /sizes?per_page=200&page=N  -> {sizes: [{slug, available, price_hourly,
 *                                         regions[], gpu_info {count, model,
 *                                         vram {amount, unit}}, ...}], meta {total}}
 *   POST   /droplets {name, region, size, image, tags[]} -> 202 {droplet}
 *   GET    /droplets/{id}              -> 200 {droplet}, 404 when it is gone
 *   POST   /droplets/{id}/actions {"type": "power_off"} -> 201 {action}
 *   DELETE /droplets/{id}              -> 204
 *   errors: {id, message}, e.g. 401 {"id": "unauthorized", ...}.
 * A droplet: {id (a number), name, status new|active|off|archive, size_slug,
 * size {price_hourly}, networks {v4: [{ip_address, type public|private}]}}.
 *
 * An offer is a size with gpu_info whose per-GPU memory meets the need, that
 * is available and lists the configured region (CONDUCTOR_DO_REGION).
 * States: new -> starting, active -> running, off -> stopped, archive or 404
 * -> gone.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "data/provider_http.h"

#define WHO             "digitalocean"
#define SIZES_PER_PAGE  200
#define SIZES_PAGES_MAX 5 /* 1 000 sizes: far more than DigitalOcean lists */

static bool configured(const struct provider_ctx *ctx)
{
	const struct config *c = ctx->cfg;

	return c->do_api_key[0] != '\0' && c->do_api_url[0] != '\0' && c->do_region[0] != '\0' &&
	       c->do_image[0] != '\0';
}

static struct provider_api api_of(const struct provider_ctx *ctx)
{
	const struct config *c = ctx->cfg;

	return (struct provider_api){
	    .who = WHO,
	    .base = c->do_api_url,
	    .key = c->do_api_key,
	    .configured = configured(ctx),
	    .missing = "CONDUCTOR_DO_API_KEY (and CONDUCTOR_DO_REGION, CONDUCTOR_DO_IMAGE)"};
}

static bool lists(struct json_object *arr, const char *s)
{
	for (size_t i = 0;
	     json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), s) == 0)
			return true;
	}
	return false;
}

/* The offer of one size, when it is a GPU size that meets need and can be
 * created in region now. */
static bool offer_of(struct json_object *size, const struct provider_need *need, const char *region,
                     struct provider_offer *o)
{
	struct json_object *gpu = json_get(size, "gpu_info");
	struct json_object *vram = json_get(gpu, "vram");
	const char *slug = json_get_string(size, "slug", "");
	const char *unit = json_get_string(vram, "unit", "gib");
	double amount = httpc_num(vram, "amount");
	double price = httpc_num(size, "price_hourly");
	int mem;

	if (gpu == NULL || slug[0] == '\0' || strlen(slug) >= sizeof(o->gpu))
		return false;
	if (!json_get_bool(size, "available", false) || !lists(json_get(size, "regions"), region))
		return false;
	/* gib and gb are within 7%: a need is written in whole GB of a GPU's
	 * marketing size (24, 48, 80), which is what DigitalOcean's amount is */
	mem = (int)(strcasecmp(unit, "mib") == 0 ? amount / 1024 : amount);
	if (mem <= 0 || (need->gpu_mem_gb > 0 && mem < need->gpu_mem_gb) || price <= 0)
		return false;
	provider_offer_set(o, WHO, slug, mem, price, region);
	return true;
}

static enum cd_err availability(const struct provider_ctx *ctx, const struct provider_need *need,
                                struct provider_offer *out, size_t cap, size_t *n,
                                struct cd_error *e)
{
	struct provider_api api = api_of(ctx);
	struct provider_call c = {0};
	size_t got = 0;
	enum cd_err rc = CD_OK;

	for (int page = 1; page <= SIZES_PAGES_MAX; page++) {
		struct json_object *sizes;
		char path[64];
		size_t len;

		snprintf(path, sizeof(path), "/sizes?per_page=%d&page=%d", SIZES_PER_PAGE, page);
		provider_http_done(&c);
		rc = provider_http_call(ctx->cfg, &api, "GET", path, NULL, true, &c, e);
		if (rc != CD_OK)
			goto out;
		sizes = json_get(c.resp.json, "sizes");
		if (c.resp.status != 200 || !json_object_is_type(sizes, json_type_array)) {
			rc = httpc_fail_status(&c.req, &c.resp, "/sizes", e);
			goto out;
		}
		len = json_object_array_length(sizes);
		for (size_t i = 0; i < len; i++) {
			struct provider_offer o;

			if (offer_of(json_object_array_get_idx(sizes, i), need, ctx->cfg->do_region,
			             &o))
				provider_offer_keep(out, cap, &got, &o);
		}
		if (len < SIZES_PER_PAGE)
			break;
	}
	*n = got;
out:
	provider_http_done(&c);
	return rc;
}

/* An answer {"droplet": {...}} into out; false when it is not one. */
static bool droplet_of(struct json_object *answer, struct provider_instance *out)
{
	struct json_object *d = json_get(answer, "droplet");
	struct json_object *id = json_get(d, "id"), *v4 = json_get(json_get(d, "networks"), "v4");
	const char *st = json_get_string(d, "status", "");

	if (!json_object_is_type(id, json_type_int) || json_object_get_int64(id) <= 0)
		return false;
	memset(out, 0, sizeof(*out));
	snprintf(out->provider_id, sizeof(out->provider_id), "%" PRId64, json_object_get_int64(id));
	snprintf(out->state, sizeof(out->state), "%s",
	         strcmp(st, "active") == 0    ? "running"
	         : strcmp(st, "off") == 0     ? "stopped"
	         : strcmp(st, "archive") == 0 ? "gone"
	                                      : "starting");
	snprintf(out->gpu, sizeof(out->gpu), "%s", json_get_string(d, "size_slug", ""));
	out->price_per_hour = httpc_num(json_get(d, "size"), "price_hourly");
	for (size_t i = 0;
	     json_object_is_type(v4, json_type_array) && i < json_object_array_length(v4); i++) {
		struct json_object *net = json_object_array_get_idx(v4, i);

		if (strcmp(json_get_string(net, "type", ""), "public") == 0)
			snprintf(out->address, sizeof(out->address), "%s",
			         json_get_string(net, "ip_address", ""));
	}
	return true;
}

/* DigitalOcean takes hostnames only: letters, digits, '.' and '-'. */
static void hostname_of(const char *name, char *out, size_t cap)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < cap; i++)
		out[i] = isalnum((unsigned char)name[i]) || name[i] == '.' || name[i] == '-'
		             ? name[i]
		             : '-';
	out[i] = '\0';
}

static enum cd_err start(const struct provider_ctx *ctx, const struct provider_offer *offer,
                         const char *name, struct provider_instance *out, struct cd_error *e)
{
	struct provider_api api = api_of(ctx);
	struct json_object *body = json_object_new_object(), *tags = json_object_new_array();
	const char *region = offer->region[0] ? offer->region : ctx->cfg->do_region;
	char host[64];
	enum cd_err rc;

	hostname_of(name, host, sizeof(host));
	json_object_array_add(tags, json_object_new_string("conductor"));
	json_object_object_add(body, "name", json_object_new_string(host));
	json_object_object_add(body, "region", json_object_new_string(region));
	json_object_object_add(body, "size", json_object_new_string(offer->gpu));
	json_object_object_add(body, "image", json_object_new_string(ctx->cfg->do_image));
	json_object_object_add(body, "tags", tags);
	rc = provider_http_create(ctx->cfg, &api, "/droplets", body, offer, droplet_of, out, e);
	json_object_put(body);
	return rc;
}

static enum cd_err stop(const struct provider_ctx *ctx, const char *provider_id, struct cd_error *e)
{
	static const long ok[] = {200, 201, 0};
	struct provider_api api = api_of(ctx);

	/* powering off twice is harmless: idempotent, so retried */
	return provider_http_action(ctx->cfg, &api, "POST", "/droplets", provider_id, "/actions",
	                            "{\"type\":\"power_off\"}", ok, false, e);
}

static enum cd_err status(const struct provider_ctx *ctx, const char *provider_id,
                          struct provider_instance *out, struct cd_error *e)
{
	struct provider_api api = api_of(ctx);

	return provider_http_status(ctx->cfg, &api, "/droplets", provider_id, droplet_of, out, e);
}

static enum cd_err destroy(const struct provider_ctx *ctx, const char *provider_id,
                           struct cd_error *e)
{
	static const long ok[] = {200, 202, 204, 0};
	struct provider_api api = api_of(ctx);

	return provider_http_action(ctx->cfg, &api, "DELETE", "/droplets", provider_id, "", NULL,
	                            ok, true, e);
}

const struct provider provider_digitalocean = {
    .name = WHO,
    .configured = configured,
    .availability = availability,
    .start = start,
    .stop = stop,
    .status = status,
    .destroy = destroy,
};
