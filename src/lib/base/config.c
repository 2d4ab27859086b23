/* config.c -- the configuration key table, file and environment loading,
 * validation. See config.h. */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/config.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/pools.h"

enum key_type {
	KEY_STRING,
	KEY_INT,
	KEY_LEVEL,
	KEY_REDIS_URL,
	KEY_LIST,
	KEY_SWITCH,	/* on/off (true/false, yes/no, 1/0), stored as a long 1/0 */
	KEY_HTTP_URL,
	KEY_CLOUD_TYPE,
	KEY_POOLS,
	KEY_PROVIDERS,
	KEY_PATTERNS,	/* comma-separated glob patterns of stream names */
};

struct config_key {
	const char *name;	/* short name; the variable is CONDUCTOR_ + upper case */
	enum key_type type;
	size_t offset;		/* into struct config */
	const char *dflt;
	long min, max;		/* KEY_INT range */
	const char *help;
};

#define S(field) offsetof(struct config, field)

/* THE table: one row per key. */
static const struct config_key CONFIG_KEYS[] = {
	{"database_url", KEY_STRING, S(database_url), "", 0, 0,
	 "PostgreSQL URL or conninfo (postgresql:///conductor?host=/path/to/socket)"},
	{"redis_url", KEY_REDIS_URL, S(redis_url), "redis://127.0.0.1:6379", 0, 0,
	 "Redis: redis://host:port[/db] or unix:/path/to/redis.sock[?db=N]"},
	{"listen", KEY_STRING, S(listen), "", 0, 0,
	 "conductor-fcgi: unix socket path to listen on; empty: the inherited socket"},
	{"threads", KEY_INT, S(threads), "0", 0, 1024,
	 "conductor-fcgi: accepting threads, each with its own database connection; 0: 2 x cores"},
	{"log_level", KEY_LEVEL, S(log_level), "info", 0, 0, "debug, info, warn or error"},
	{"url", KEY_STRING, S(url), "", 0, 0, "clients: base URL of the API (http://127.0.0.1:8080)"},
	{"token", KEY_STRING, S(token), "", 0, 0, "clients: bearer token"},
	{"admin_token", KEY_STRING, S(admin_token), "", 0, 0,
	 "clients: the admin token tools/up created (used when token is empty)"},
	{"streams", KEY_LIST, S(streams), "", 0, 0,
	 "comma-separated Redis stream names (tasks:image,tasks:text)"},
	{"stream_group", KEY_STRING, S(stream_group), "workers", 0, 0, "consumer group of the streams"},
	{"factory_stale_s", KEY_INT, S(factory_stale_s), "60", 1, 86400,
	 "a worker silent this many seconds is stale"},
	{"reclaim_idle_s", KEY_INT, S(reclaim_idle_s), "900", 1, 604800,
	 "janitor: stream entries idle this long are reclaimed"},
	{"max_deliveries", KEY_INT, S(max_deliveries), "3", 1, 1000,
	 "janitor: deliveries before an entry is dead-lettered"},
	{"retention_days", KEY_INT, S(retention_days), "30", 1, 36500,
	 "reaper: finished jobs and events older than this are deleted"},
	{"claim_wait_max", KEY_INT, S(claim_wait_max), "0", 0, 1024,
	 "conductor-fcgi: claims allowed to long-poll at once per process; 0: threads / 2"},
	/* cloud providers: the keys are secrets (no default, never printed) */
	{"runpod_api_url", KEY_HTTP_URL, S(runpod_api_url), "https://rest.runpod.io/v1", 0, 0,
	 "RunPod: REST API base URL (pods)"},
	{"runpod_graphql_url", KEY_HTTP_URL, S(runpod_graphql_url), "https://api.runpod.io/graphql", 0,
	 0, "RunPod: GraphQL URL (GPU types, prices, stock)"},
	{"runpod_api_key", KEY_STRING, S(runpod_api_key), "", 0, 0,
	 "RunPod: API key (secret); empty: RunPod is not configured"},
	{"runpod_cloud_type", KEY_CLOUD_TYPE, S(runpod_cloud_type), "SECURE", 0, 0,
	 "RunPod: SECURE or COMMUNITY cloud"},
	{"runpod_image", KEY_STRING, S(runpod_image),
	 "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04", 0, 0,
	 "RunPod: the container image a pod runs"},
	{"do_api_url", KEY_HTTP_URL, S(do_api_url), "https://api.digitalocean.com/v2", 0, 0,
	 "DigitalOcean: API base URL (droplets, sizes)"},
	{"do_api_key", KEY_STRING, S(do_api_key), "", 0, 0,
	 "DigitalOcean: API token (secret); empty: DigitalOcean is not configured"},
	{"do_region", KEY_STRING, S(do_region), "tor1", 0, 0,
	 "DigitalOcean: region slug of the GPU droplets"},
	{"do_image", KEY_STRING, S(do_image), "gpu-h100x1-base", 0, 0,
	 "DigitalOcean: image slug of the GPU droplets"},
	{"provider_timeout_ms", KEY_INT, S(provider_timeout_ms), "15000", 100, 600000,
	 "providers: one call's time limit in ms, retries and waits included"},
	{"provider_connect_timeout_ms", KEY_INT, S(provider_connect_timeout_ms), "3000", 10, 60000,
	 "providers: connect timeout of each attempt in ms"},
	{"provider_retries", KEY_INT, S(provider_retries), "2", 0, 10,
	 "providers: attempts after the first on 429, 5xx and connection errors"},
	{"pools", KEY_POOLS, S(pools), "", 0, 0,
	 "watcher: name:key=value,...;name:... (streams=a+b, capability, tenant, gpu_mem_gb, "
	 "spawn_threshold, max_instances, cooldown_s, idle_s, long_running_s, poll_s)"},
	{"providers", KEY_PROVIDERS, S(providers), "manual", 0, 0,
	 "watcher: GPU providers in the order they are asked (runpod, digitalocean, manual)"},
	{"result_routing", KEY_SWITCH, S(result_routing), "off", 0, 1,
	 "watcher: route each entry of the results streams to the stream its reply_to names (on/off)"},
	{"results_streams", KEY_LIST, S(results_streams), "results", 0, 0,
	 "routing: the results streams to route (comma-separated)"},
	{"results_group", KEY_STRING, S(results_group), "router", 0, 0,
	 "routing: the routers' consumer group on the results streams"},
	{"reply_to_allow", KEY_PATTERNS, S(reply_to_allow), "results:*", 0, 0,
	 "routing: reply_to must match one of these glob patterns (comma-separated)"},
	{"routing_reclaim_s", KEY_INT, S(routing_reclaim_s), "60", 1, 86400,
	 "routing: a result another router left pending this long is taken over"},
};

#define NKEYS (sizeof(CONFIG_KEYS) / sizeof(CONFIG_KEYS[0]))

static const struct config_key *find_key(const char *key)
{
	const char *name = key;

	if (strncmp(key, "CONDUCTOR_", 10) == 0)
		name = key + 10;
	for (size_t i = 0; i < NKEYS; i++)
		if (strcasecmp(name, CONFIG_KEYS[i].name) == 0)
			return &CONFIG_KEYS[i];
	return NULL;
}

static char **string_slot(struct config *cfg, const struct config_key *k)
{
	return (char **)(void *)((char *)cfg + k->offset);
}

static long *long_slot(struct config *cfg, const struct config_key *k)
{
	return (long *)(void *)((char *)cfg + k->offset);
}

static enum cd_err bad(struct cd_error *e, const struct config_key *k, const char *why)
{
	char var[64];

	/* the variable as the environment spells it: CONDUCTOR_THREADS */
	snprintf(var, sizeof(var), "CONDUCTOR_%s", k->name);
	for (size_t j = 10; var[j]; j++)
		var[j] = (char)toupper((unsigned char)var[j]);
	return cd_fail(e, CD_CONFIG, k->name, "configuration key %s (%s): %s", k->name, var, why);
}

/* on/off and their usual spellings: 1, 0, -1 when s is none of them. */
static int parse_switch(const char *s)
{
	static const char *const ON[] = {"on", "true", "yes", "1"}, *const OFF[] = {"off", "false", "no", "0"};

	for (size_t i = 0; i < sizeof(ON) / sizeof(ON[0]); i++) {
		if (strcasecmp(s, ON[i]) == 0)
			return 1;
		if (strcasecmp(s, OFF[i]) == 0)
			return 0;
	}
	return -1;
}

static enum cd_err validate_patterns(const struct config_key *k, const char *v,
				     struct cd_error *e)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr(",:_-.*?", *p) == NULL)
			return bad(e, k, "patterns may hold letters, digits, : _ - . and the wildcards * ?, separated by commas.");
	return CD_OK;
}

static enum cd_err validate_list(const struct config_key *k, const char *v, struct cd_error *e)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr(",:_-.", *p) == NULL)
			return bad(e, k, "names may hold letters, digits and : _ - . only, separated by commas.");
	return CD_OK;
}

/* Every provider a build may know (data/provider.c has their vtables). */
static const char *const PROVIDER_NAMES[] = {"runpod", "digitalocean", "manual"};

/* A comma list of distinct known provider names. */
static enum cd_err validate_providers(const struct config_key *k, const char *v,
				      struct cd_error *e)
{
	char seen[sizeof(PROVIDER_NAMES) / sizeof(PROVIDER_NAMES[0])] = {0};
	const char *p = v;

	while (*p != '\0') {
		size_t len = strcspn(p, ","), i;
		char why[160];

		for (i = 0; i < sizeof(PROVIDER_NAMES) / sizeof(PROVIDER_NAMES[0]); i++)
			if (strlen(PROVIDER_NAMES[i]) == len && strncmp(p, PROVIDER_NAMES[i], len) == 0)
				break;
		if (i == sizeof(PROVIDER_NAMES) / sizeof(PROVIDER_NAMES[0]) || seen[i]) {
			snprintf(why, sizeof(why), "\"%.*s\" is %s; known: runpod, digitalocean, manual.",
				 (int)(len > 40 ? 40 : len), p, i < sizeof(seen) ? "named twice" : "unknown");
			return bad(e, k, why);
		}
		seen[i] = 1;
		p += len;
		if (*p == ',' && *++p == '\0')
			return bad(e, k, "ends with a comma.");
	}
	return CD_OK;
}

enum cd_err config_set(struct config *cfg, const char *key, const char *value,
		       struct cd_error *e)
{
	const struct config_key *k = find_key(key);
	struct redis_target rt;
	char *end;
	long v;

	if (k == NULL)
		return cd_fail(e, CD_CONFIG, key, "unknown configuration key %s; see --help for the list.",
			       key);
	switch (k->type) {
	case KEY_INT:
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < k->min || v > k->max) {
			char why[96];

			snprintf(why, sizeof(why), "must be an integer from %ld to %ld.", k->min, k->max);
			return bad(e, k, why);
		}
		*long_slot(cfg, k) = v;
		return CD_OK;
	case KEY_SWITCH:
		if (parse_switch(value) < 0)
			return bad(e, k, "must be on or off.");
		*long_slot(cfg, k) = parse_switch(value);
		return CD_OK;
	case KEY_PATTERNS:
		if (validate_patterns(k, value, e) != CD_OK)
			return CD_CONFIG;
		break;
	case KEY_LEVEL:
		if (log_level_parse(value) < 0)
			return bad(e, k, "must be debug, info, warn or error.");
		break;
	case KEY_REDIS_URL:
		if (value[0] != '\0' && config_parse_redis_url(value, &rt, NULL) != CD_OK)
			return bad(e, k, "must be redis://host:port[/db] or unix:/path[?db=N].");
		break;
	case KEY_LIST:
		if (validate_list(k, value, e) != CD_OK)
			return CD_CONFIG;
		break;
	case KEY_HTTP_URL:
		/* the value is never echoed: a URL may carry credentials */
		if (value[0] != '\0' && strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "https://", 8) != 0)
			return bad(e, k, "must start with http:// or https://.");
		if (strlen(value) > 1024 || strpbrk(value, " \t\r\n") != NULL)
			return bad(e, k, "must be a URL of at most 1024 bytes without spaces.");
		break;
	case KEY_CLOUD_TYPE:
		if (strcmp(value, "SECURE") != 0 && strcmp(value, "COMMUNITY") != 0)
			return bad(e, k, "must be SECURE or COMMUNITY.");
		break;
	case KEY_POOLS: {
		struct watch_policy *pools = xcalloc(POOLS_MAX, sizeof(*pools));
		struct cd_error pe;
		size_t n;
		enum cd_err prc = pools_parse(value, pools, POOLS_MAX, &n, &pe);

		free(pools);
		if (prc != CD_OK)
			return bad(e, k, pe.message);
		break;
	}
	case KEY_PROVIDERS:
		if (validate_providers(k, value, e) != CD_OK)
			return CD_CONFIG;
		break;
	case KEY_STRING:
		if (strlen(value) > 4096)
			return bad(e, k, "is longer than 4096 bytes.");
		break;
	}
	free(*string_slot(cfg, k));
	*string_slot(cfg, k) = xstrdup(value);
	return CD_OK;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* config_set, and where the value came from in sources (NULL: not kept). */
static enum cd_err set_from(struct config *cfg, const char *key, const char *value,
			    enum config_source *sources, enum config_source from, struct cd_error *e)
{
	enum cd_err rc = config_set(cfg, key, value, e);

	if (rc == CD_OK && sources != NULL)
		sources[find_key(key) - CONFIG_KEYS] = from;
	return rc;
}

static enum cd_err load_file(struct config *cfg, const char *path, enum config_source *sources,
			     struct cd_error *e)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int lineno = 0;
	enum cd_err rc = CD_CONFIG;

	if (f == NULL)
		return cd_fail(e, CD_CONFIG, "config", "cannot read the configuration file %s: %s", path,
			       strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq, *key, *value, *s = trim(line);

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			cd_fail(e, CD_CONFIG, "config", "%s line %d: expected key=value.", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		if (strncmp(key, "export ", 7) == 0)
			key = trim(key + 7);
		if (set_from(cfg, key, value, sources, CONFIG_SOURCE_FILE, e) != CD_OK) {
			char where[32];

			snprintf(where, sizeof(where), "line %d: ", lineno);
			cd_error_prefix(e, where);
			goto out;
		}
	}
	rc = CD_OK;
out:
	fclose(f);
	return rc;
}

static enum cd_err load_env(struct config *cfg, enum config_source *sources, struct cd_error *e)
{
	extern char **environ;

	for (char **env = environ; *env != NULL; env++) {
		const char *eq;
		char key[128];

		if (strncmp(*env, "CONDUCTOR_", 10) != 0 || (eq = strchr(*env, '=')) == NULL)
			continue;
		if ((size_t)(eq - *env) >= sizeof(key))
			continue;
		memcpy(key, *env, (size_t)(eq - *env));
		key[eq - *env] = '\0';
		if (find_key(key) == NULL) {
			/* Not ours to refuse: scripts and tests set their own CONDUCTOR_ names. */
			log_debug("unknown configuration variable ignored", "variable", key);
			continue;
		}
		if (set_from(cfg, key, eq + 1, sources, CONFIG_SOURCE_ENV, e) != CD_OK)
			return CD_CONFIG;
	}
	return CD_OK;
}

enum cd_err config_load(struct config *cfg, const char *file, struct cd_error *e)
{
	return config_load_sources(cfg, file, NULL, e);
}

enum cd_err config_load_sources(struct config *cfg, const char *file,
				enum config_source *sources, struct cd_error *e)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		if (config_set(cfg, CONFIG_KEYS[i].name, CONFIG_KEYS[i].dflt, e) != CD_OK)
			return CD_CONFIG;
		if (sources != NULL)
			sources[i] = CONFIG_SOURCE_DEFAULT;
	}
	if (file != NULL && load_file(cfg, file, sources, e) != CD_OK)
		return CD_CONFIG;
	return load_env(cfg, sources, e);
}

enum cd_err config_require(const struct config *cfg, const char *key, struct cd_error *e)
{
	const struct config_key *k = find_key(key);
	char *const *slot;

	if (k == NULL)
		return cd_fail(e, CD_INTERNAL, key, "no configuration key %s", key);
	slot = (char *const *)(const void *)((const char *)cfg + k->offset);
	if (k->type == KEY_INT || k->type == KEY_SWITCH || (*slot != NULL && (*slot)[0] != '\0'))
		return CD_OK;
	return bad(e, k, "is required; set it in the environment or the --config file.");
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		if (CONFIG_KEYS[i].type == KEY_INT || CONFIG_KEYS[i].type == KEY_SWITCH)
			continue;
		free(*string_slot(cfg, &CONFIG_KEYS[i]));
		*string_slot(cfg, &CONFIG_KEYS[i]) = NULL;
	}
}

bool config_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; n > 0 && p != NULL && *p != '\0';) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = p[len] == ',' ? p + len + 1 : NULL;
	}
	return false;
}

void config_print_help(FILE *out)
{
	int width = 0;

	/* the variables' column as wide as the longest: CONDUCTOR_ + its name */
	for (size_t i = 0; i < NKEYS; i++)
		if ((int)strlen(CONFIG_KEYS[i].name) + 10 > width)
			width = (int)strlen(CONFIG_KEYS[i].name) + 10;
	fprintf(out, "\nConfiguration (environment variable, or key=value in --config FILE):\n");
	for (size_t i = 0; i < NKEYS; i++) {
		char var[64];
		size_t j;

		snprintf(var, sizeof(var), "CONDUCTOR_%s", CONFIG_KEYS[i].name);
		for (j = 10; var[j]; j++)
			var[j] = (char)toupper((unsigned char)var[j]);
		fprintf(out, "  %-*s %s", width, var, CONFIG_KEYS[i].help);
		if (CONFIG_KEYS[i].dflt[0] != '\0')
			fprintf(out, " [default: %s]", CONFIG_KEYS[i].dflt);
		fputc('\n', out);
	}
}

enum cd_err config_parse_redis_url(const char *url, struct redis_target *out, struct cd_error *e)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(url, "unix:", 5) == 0) {
		const char *p = url + 5, *q;
		size_t n;

		if (strncmp(p, "//", 2) == 0)
			p += 2;
		q = strchr(p, '?');
		n = q ? (size_t)(q - p) : strlen(p);
		if (n == 0 || n >= sizeof(out->path) || p[0] != '/')
			return cd_fail(e, CD_CONFIG, "redis_url", "the socket path must be absolute.");
		memcpy(out->path, p, n);
		if (q != NULL) {
			char *end;

			if (strncmp(q, "?db=", 4) != 0)
				return cd_fail(e, CD_CONFIG, "redis_url", "only ?db=N may follow the path.");
			/* range-checked as a long: (int) of 4294967299 would be 3 */
			long db = strtol(q + 4, &end, 10);

			if (*end != '\0' || end == q + 4 || db < 0 || db > 15)
				return cd_fail(e, CD_CONFIG, "redis_url", "db must be 0 to 15.");
			out->db = (int)db;
		}
		return CD_OK;
	}
	if (strncmp(url, "redis://", 8) == 0) {
		const char *p = url + 8, *colon, *slash;
		char *end;
		size_t hn;

		slash = strchr(p, '/');
		colon = strchr(p, ':');
		if (colon != NULL && slash != NULL && colon > slash)
			colon = NULL;
		hn = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
		if (hn == 0 || hn >= sizeof(out->host) || memchr(p, '@', hn) != NULL)
			return cd_fail(e, CD_CONFIG, "redis_url", "a host is required.");
		memcpy(out->host, p, hn);
		out->port = 6379;
		if (colon != NULL) {
			long port = strtol(colon + 1, &end, 10);

			if (end == colon + 1 || port < 1 || port > 65535 || (*end != '\0' && *end != '/'))
				return cd_fail(e, CD_CONFIG, "redis_url", "the port must be 1 to 65535.");
			out->port = (int)port;
		}
		if (slash != NULL && slash[1] != '\0') {
			long db = strtol(slash + 1, &end, 10);

			if (*end != '\0' || db < 0 || db > 15)
				return cd_fail(e, CD_CONFIG, "redis_url", "db must be 0 to 15.");
			out->db = (int)db;
		}
		return CD_OK;
	}
	return cd_fail(e, CD_CONFIG, "redis_url", "must start with redis:// or unix:");
}

/* ---- the keys one by one: where a value came from, secrets masked ---------- */

size_t config_nkeys(void)
{
	return NKEYS;
}

const char *config_key_name(size_t i)
{
	return i < NKEYS ? CONFIG_KEYS[i].name : NULL;
}

void config_key_variable(size_t i, char *out, size_t cap)
{
	snprintf(out, cap, "CONDUCTOR_%s", i < NKEYS ? CONFIG_KEYS[i].name : "");
	for (char *p = out; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
}

bool config_key_secret(size_t i)
{
	/* by name, so that a key added later is masked without anyone
	 * remembering to: token, *_token, *_key, *_secret, *_password */
	static const char *const SUFFIXES[] = {"_token", "_key", "_secret", "_password"};
	const char *name = config_key_name(i);
	size_t n;

	if (name == NULL)
		return false;
	if (strcmp(name, "token") == 0)
		return true;
	n = strlen(name);
	for (size_t k = 0; k < sizeof(SUFFIXES) / sizeof(SUFFIXES[0]); k++) {
		size_t m = strlen(SUFFIXES[k]);

		if (n > m && strcmp(name + n - m, SUFFIXES[k]) == 0)
			return true;
	}
	return false;
}

const char *config_source_name(enum config_source s)
{
	switch (s) {
	case CONFIG_SOURCE_FILE: return "file";
	case CONFIG_SOURCE_ENV: return "environment";
	case CONFIG_SOURCE_DEFAULT: break;
	}
	return "default";
}

#define MASK "****"

/* Appends n bytes of s to out (length *len, capacity cap), cut to fit. */
static void append(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + 1 >= cap)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

void config_mask_url(const char *url, char *out, size_t cap)
{
	const char *p = url, *scheme = strstr(url, "://");
	size_t len = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (scheme != NULL) {
		/* scheme://user:PASSWORD@host: the userinfo ends at the last @ of
		 * the authority */
		const char *auth = scheme + 3, *end = auth + strcspn(auth, "/?#"), *at = NULL;

		for (const char *q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		if (at != NULL) {
			const char *colon = memchr(auth, ':', (size_t)(at - auth));

			if (colon != NULL) {
				append(out, cap, &len, url, (size_t)(colon + 1 - url));
				append(out, cap, &len, MASK, strlen(MASK));
				p = at;
			}
		}
	}
	/* password=VALUE, in a conninfo (space-separated, maybe quoted) or a
	 * query string (&-separated) */
	while (*p != '\0') {
		const char *hit = strstr(p, "password=");
		const char *v;

		if (hit == NULL || (hit != url && strchr(" \t?&", hit[-1]) == NULL)) {
			size_t n = hit == NULL ? strlen(p) : (size_t)(hit - p) + 1;

			append(out, cap, &len, p, n);
			p += n;
			continue;
		}
		v = hit + strlen("password=");
		append(out, cap, &len, p, (size_t)(v - p));
		append(out, cap, &len, MASK, strlen(MASK));
		if (*v == '\'') {
			for (v++; *v != '\0' && *v != '\''; v++)
				if (*v == '\\' && v[1] != '\0')
					v++;
			if (*v == '\'')
				v++;
		} else {
			v += strcspn(v, " \t&#");
		}
		p = v;
	}
}

void config_value_text(const struct config *cfg, size_t i, bool masked, char *out, size_t cap)
{
	const struct config_key *k;
	const char *v;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (i >= NKEYS)
		return;
	k = &CONFIG_KEYS[i];
	if (k->type == KEY_INT || k->type == KEY_SWITCH) {
		long n = *long_slot((struct config *)(uintptr_t)cfg, k);

		if (k->type == KEY_SWITCH)
			snprintf(out, cap, "%s", n ? "on" : "off");
		else
			snprintf(out, cap, "%ld", n);
		return;
	}
	v = *string_slot((struct config *)(uintptr_t)cfg, k);
	if (v == NULL)
		v = "";
	if (!masked)
		snprintf(out, cap, "%s", v);
	else if (config_key_secret(i))
		snprintf(out, cap, "%s", v[0] != '\0' ? "********" : "");
	else
		config_mask_url(v, out, cap);
}
