/* packing.c -- cost packing: the cheapest offer that fits. See packing.h. */
#include <stdbool.h>
#include <string.h>

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

static void json_str(struct buf *b, const char *key, const char *v)
{
	buf_printf(b, "\"%s\":\"", key);
	buf_json_escape(b, v, strlen(v));
	buf_puts(b, "\"");
}

void packing_offers_json(struct buf *b, const struct provider_offer *offers, size_t n,
			 int gpu_mem_gb)
{
	buf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		const struct provider_offer *o = &offers[i];

		buf_puts(b, i ? ",{" : "{");
		json_str(b, "provider", o->provider);
		buf_puts(b, ",");
		json_str(b, "gpu", o->gpu);
		buf_printf(b, ",\"gpu_mem_gb\":%d,\"price_per_hour\":%.4f,", o->gpu_mem_gb,
			   o->price_per_hour);
		json_str(b, "region", o->region);
		buf_printf(b, ",\"fits\":%s}", fits(o, gpu_mem_gb) ? "true" : "false");
	}
	buf_puts(b, "]");
}
