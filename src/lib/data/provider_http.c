/* provider_http.c -- the calls and offer lists the HTTP providers share.
 * See provider_http.h. */
#include <stdio.h>
#include <string.h>

#include "data/provider_http.h"

enum cd_err provider_http_call(const struct config *cfg, const struct provider_api *api,
                               const char *method, const char *path, const char *body,
                               bool idempotent, struct provider_call *c, struct cd_error *e)
{
	struct httpc_limits lim;

	memset(&c->resp, 0, sizeof(c->resp));
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (!api->configured)
		return cd_fail(e, CD_CONFIG, api->who, "%s is not configured: set %s.", api->who,
		               api->missing);
	if (!httpc_url(c->url, sizeof(c->url), api->base, path))
		return cd_fail(e, CD_CONFIG, api->who, "%s: the API URL is too long.", api->who);
	httpc_limits_from_config(cfg, &lim);
	c->req = (struct httpc_req){.who = api->who,
	                            .method = method,
	                            .url = c->url,
	                            .bearer = api->key,
	                            .body = body,
	                            .idempotent = idempotent};
	return httpc_call(&lim, &c->req, &c->resp, e);
}

enum cd_err provider_http_create(const struct config *cfg, const struct provider_api *api,
                                 const char *path, struct json_object *body,
                                 const struct provider_offer *offer,
                                 bool (*parse)(struct json_object *, struct provider_instance *),
                                 struct provider_instance *out, struct cd_error *e)
{
	struct provider_instance inst;
	struct provider_call c;
	long st;
	/* not idempotent: a create is retried only when it cannot have happened */
	enum cd_err rc =
	    provider_http_call(cfg, api, "POST", path,
	                       json_object_to_json_string_ext(
	                           body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	                       false, &c, e);

	if (rc != CD_OK)
		goto out;
	st = c.resp.status;
	if ((st != 200 && st != 201 && st != 202) || !parse(c.resp.json, &inst)) {
		rc = httpc_fail_status(&c.req, &c.resp, path, e);
		goto out;
	}
	if (inst.gpu[0] == '\0')
		snprintf(inst.gpu, sizeof(inst.gpu), "%s", offer->gpu);
	if (inst.price_per_hour <= 0)
		inst.price_per_hour = offer->price_per_hour;
	*out = inst;
out:
	provider_http_done(&c);
	return rc;
}

/* method <collection>/<id><suffix> into c, the status checked (see
 * provider_http_action()). */
static enum cd_err item(const struct config *cfg, const struct provider_api *api,
                        const char *method, const char *collection, const char *id,
                        const char *suffix, const char *body, const long *ok, bool gone_ok,
                        struct provider_call *c, struct cd_error *e)
{
	char path[160];
	enum cd_err rc;

	memset(&c->resp, 0, sizeof(c->resp));
	if (!httpc_id_ok(id))
		return cd_fail(e, CD_INVALID, "provider_id",
		               "%s: an instance id is 1 to 64 letters, digits, _ or -.", api->who);
	snprintf(path, sizeof(path), "%s/%s%s", collection, id, suffix);
	rc = provider_http_call(cfg, api, method, path, body, true, c, e);
	if (rc != CD_OK)
		return rc;
	if (gone_ok && c->resp.status == 404)
		return CD_OK;
	for (; *ok != 0; ok++)
		if (c->resp.status == *ok)
			return CD_OK;
	return httpc_fail_status(&c->req, &c->resp, c->path, e);
}

enum cd_err provider_http_status(const struct config *cfg, const struct provider_api *api,
                                 const char *collection, const char *id,
                                 bool (*parse)(struct json_object *, struct provider_instance *),
                                 struct provider_instance *out, struct cd_error *e)
{
	static const long ok[] = {200, 0};
	struct provider_instance inst;
	struct provider_call c;
	enum cd_err rc = item(cfg, api, "GET", collection, id, "", NULL, ok, true, &c, e);

	if (rc != CD_OK)
		goto out;
	if (c.resp.status == 404) {
		memset(&inst, 0, sizeof(inst));
		snprintf(inst.provider_id, sizeof(inst.provider_id), "%s", id);
		snprintf(inst.state, sizeof(inst.state), "gone");
	} else if (!parse(c.resp.json, &inst)) {
		rc = cd_fail(
		    e, CD_UPSTREAM, api->who,
		    "%s answered HTTP 200 to GET %s with something that is not an instance.",
		    api->who, c.path);
		goto out;
	}
	*out = inst;
out:
	provider_http_done(&c);
	return rc;
}

enum cd_err provider_http_action(const struct config *cfg, const struct provider_api *api,
                                 const char *method, const char *collection, const char *id,
                                 const char *suffix, const char *body, const long *ok, bool gone_ok,
                                 struct cd_error *e)
{
	struct provider_call c;
	enum cd_err rc = item(cfg, api, method, collection, id, suffix, body, ok, gone_ok, &c, e);

	provider_http_done(&c);
	return rc;
}

void provider_http_done(struct provider_call *c)
{
	httpc_resp_free(&c->resp);
}

void provider_offer_set(struct provider_offer *o, const char *who, const char *gpu, int gpu_mem_gb,
                        double price_per_hour, const char *region)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->provider, sizeof(o->provider), "%s", who);
	snprintf(o->gpu, sizeof(o->gpu), "%s", gpu);
	snprintf(o->region, sizeof(o->region), "%s", region);
	o->gpu_mem_gb = gpu_mem_gb;
	o->price_per_hour = price_per_hour;
}

void provider_offer_keep(struct provider_offer *out, size_t cap, size_t *n,
                         const struct provider_offer *o)
{
	size_t i;

	if (cap == 0 || (*n == cap && out[cap - 1].price_per_hour <= o->price_per_hour))
		return;
	i = *n < cap ? *n : cap - 1;
	while (i > 0 && out[i - 1].price_per_hour > o->price_per_hour) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = *o;
	if (*n < cap)
		(*n)++;
}
