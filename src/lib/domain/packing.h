/* packing.h -- cost packing (DESIGN section 6): of the offers the
 * configured providers made for a pool, those that meet its GPU memory need,
 * cheapest per hour first. Pure: no I/O; tests/unit/test_packing.c.
 *
 * The first of the ranking is started; when its provider fails, the next is
 * tried, so the ranking is the whole fallback order. Ties keep the order the
 * offers came in (the provider order of CONDUCTOR_PROVIDERS, then each
 * provider's own order).
 */
#ifndef CD_PACKING_H
#define CD_PACKING_H

#include <stddef.h>

#include <json-c/json.h>

#include "data/provider.h"

/* Ranks offers[0..n) that have at least gpu_mem_gb of GPU memory, cheapest
 * first. out: their indexes (room for n); returns how many. */
size_t packing_rank(const struct provider_offer *offers, size_t n, int gpu_mem_gb, size_t *out);

/* offers[0..n) as a JSON array of {provider, gpu, gpu_mem_gb,
 * price_per_hour, region, fits}, for the spawn event. Returns new; the
 * caller puts it (json_object_put) or gives it away (_add steals). */
struct json_object *packing_offers_json(const struct provider_offer *offers, size_t n,
					int gpu_mem_gb);

/* A price per hour as JSON, written with 4 decimals (0.59, not
 * 0.58999999999999997). Returns new. */
struct json_object *packing_price_json(double price_per_hour);

#endif
