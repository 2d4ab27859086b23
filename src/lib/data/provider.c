/* provider.c -- THE table of providers (one row per adapter, each a const
 * vtable defined in its own file), provider_find() and the configured order
 * (provider.h). A name of CONDUCTOR_PROVIDERS is validated against
 * base/config.c's list at load; a name with no row in this build is skipped
 * here (and refused at the watcher's start, watch_check_config). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "data/provider.h"

extern const struct provider provider_runpod;       /* provider_runpod.c */
extern const struct provider provider_digitalocean; /* provider_digitalocean.c */
extern const struct provider provider_manual;       /* provider_manual.c */

/* THE table: every provider conductor knows, by name. */
static const struct provider *const PROVIDERS[] = {
	&provider_runpod,	/* RunPod pods (REST) priced by its GraphQL GPU types */
	&provider_digitalocean, /* DigitalOcean GPU droplets priced by /v2/sizes */
	&provider_manual,	/* machines an operator registered (runtime_machines) */
};

#define NPROVIDERS (sizeof(PROVIDERS) / sizeof(PROVIDERS[0]))

const struct provider *provider_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < NPROVIDERS; i++)
		if (strcmp(PROVIDERS[i]->name, name) == 0)
			return PROVIDERS[i];
	return NULL;
}

void provider_configured_order(const struct config *cfg, const struct provider **out, size_t cap,
			       size_t *n)
{
	const char *p = cfg->providers != NULL ? cfg->providers : "";

	*n = 0;
	while (*p != '\0' && *n < cap) {
		size_t len = strcspn(p, ",");
		char name[32];
		const struct provider *pv;

		snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : sizeof(name) - 1),
			 p);
		pv = provider_find(name);
		if (pv != NULL)
			out[(*n)++] = pv;
		else
			log_warn("provider not built in: skipped", "provider", name);
		p += len;
		if (*p == ',')
			p++;
	}
}
