/* packing.c -- cost packing: the cheapest offer that fits. See packing.h. */
#include <stdbool.h>
#include <stdio.h>

#include "domain/packing.h"

static bool fits(const struct provider_offer *o, int gpu_mem_gb)
{
	return o->gpu_mem_gb >= gpu_mem_gb;
}

size_t packing_rank(const struct provider_offer *offers, size_t n, int gpu_mem_gb, size_t *out)
{
	size_t m = 0;

	/* insertion sort, stable: a handful of offers, and ties keep their order */
	for (size_t i = 0; i < n; i++) {
		size_t j = m;

		if (!fits(&offers[i], gpu_mem_gb))
			continue;
		while (j > 0 && offers[out[j - 1]].price_per_hour > offers[i].price_per_hour) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = i;
		m++;
	}
	return m;
}

struct json_object *packing_offers_json(const struct provider_offer *offers, size_t n,
					int gpu_mem_gb)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		const struct provider_offer *o = &offers[i];
		struct json_object *it = json_object_new_object();

		json_object_object_add(it, "provider", json_object_new_string(o->provider));
		json_object_object_add(it, "gpu", json_object_new_string(o->gpu));
		json_object_object_add(it, "gpu_mem_gb", json_object_new_int(o->gpu_mem_gb));
		json_object_object_add(it, "price_per_hour", packing_price_json(o->price_per_hour));
		json_object_object_add(it, "region", json_object_new_string(o->region));
		json_object_object_add(it, "fits", json_object_new_boolean(fits(o, gpu_mem_gb)));
		json_object_array_add(arr, it);
	}
	return arr;
}

struct json_object *packing_price_json(double price_per_hour)
{
	char text[32];

	snprintf(text, sizeof(text), "%.4f", price_per_hour);
	return json_object_new_double_s(price_per_hour, text);
}
