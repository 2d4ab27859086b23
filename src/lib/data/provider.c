/* provider.c -- THE table of provider adapters (one row per provider, each
 * a const vtable in its own file) and the configured order. See provider.h.
 * A name of CONDUCTOR_PROVIDERS is validated against base/config.c's list at
 * load; a name with no row in this build is skipped here. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "data/provider.h"

extern const struct provider provider_manual;

/* One row per adapter this build has. */
static const struct provider *const PROVIDERS[] = {
	&provider_manual, /* machines an operator registered (provider_manual.c) */
};

#define NPROVIDERS (sizeof(PROVIDERS) / sizeof(PROVIDERS[0]))

const struct provider *provider_find(const char *name)
{
	for (size_t i = 0; i < NPROVIDERS; i++)
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
