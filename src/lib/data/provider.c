/* provider.c -- THE table of providers and provider_find() (provider.h).
 * One row per adapter, each a const vtable defined in its own file. */
#include <stddef.h>
#include <string.h>

#include "data/provider.h"

extern const struct provider provider_runpod;       /* provider_runpod.c */
extern const struct provider provider_digitalocean; /* provider_digitalocean.c */

/* THE table: every provider conductor knows, by name. */
static const struct provider *const PROVIDERS[] = {
    &provider_runpod,       /* RunPod pods (REST) priced by its GraphQL GPU types */
    &provider_digitalocean, /* DigitalOcean GPU droplets priced by /v2/sizes */
};

#define NPROVIDERS (sizeof(PROVIDERS) / sizeof(PROVIDERS[0]))

const struct provider *provider_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < NPROVIDERS; i++)
		if (strcmp(PROVIDERS[i]->name, name) == 0)
			return PROVIDERS[i];
	return NULL;
}
