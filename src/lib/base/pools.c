/* pools.c -- parsing the `pools` configuration key. See pools.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/pools.h"

#define SPEC_MAX 8192

/* The integer keys of a pool: one row each. */
struct pool_key {
	const char *name;
	size_t offset;		/* a long of struct watch_policy */
	long min, max, dflt;
};

#define P(field) offsetof(struct watch_policy, field)

static const struct pool_key POOL_KEYS[] = {
	{"gpu_mem_gb", P(gpu_mem_gb), 0, 100000, 0},		  /* GPU memory an instance needs */
	{"spawn_threshold", P(spawn_threshold), 1, 1000000000, 1}, /* demand asking for one more */
	{"max_instances", P(max_instances), 1, 1000, 1},	  /* live instances at most */
	{"cooldown_s", P(cooldown_s), 0, 604800, 300},		  /* no spawn after a teardown */
	{"idle_s", P(idle_s), 0, 604800, 600},			  /* no demand this long: teardown */
	{"long_running_s", P(long_running_s), 1, 31536000, 86400}, /* older: alert */
	{"poll_s", P(poll_s), 1, 86400, 15},			  /* how often the pool is polled */
};

#define NKEYS (sizeof(POOL_KEYS) / sizeof(POOL_KEYS[0]))

static long *long_slot(struct watch_policy *p, const struct pool_key *k)
{
	return (long *)(void *)((char *)p + k->offset);
}

/* A name of [a-z0-9][a-z0-9_-]* that fits cap. */
static bool valid_name(const char *s, size_t cap)
{
	size_t n = strlen(s);

	if (n == 0 || n >= cap || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return false;
	return true;
}

/* A stream name as CONDUCTOR_STREAMS allows: letters, digits, : _ - . */
static bool valid_stream(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= POOL_STREAM_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(":_-.", s[i]) == NULL)
			return false;
	return true;
}

static enum cd_err set_streams(struct watch_policy *p, char *v, struct cd_error *e)
{
	char *save = NULL;

	p->nstreams = 0;
	for (char *s = strtok_r(v, "+", &save); s != NULL; s = strtok_r(NULL, "+", &save)) {
		if (p->nstreams == POOL_STREAMS_MAX)
			return cd_fail(e, CD_CONFIG, "pools", "pool %s: at most %d streams.", p->name,
				       POOL_STREAMS_MAX);
		if (!valid_stream(s))
			return cd_fail(e, CD_CONFIG, "pools",
				       "pool %s: stream \"%s\" may hold letters, digits and : _ - . "
				       "only (at most %d).",
				       p->name, s, POOL_STREAM_MAX - 1);
		snprintf(p->streams[p->nstreams++], POOL_STREAM_MAX, "%s", s);
	}
	return CD_OK;
}

static enum cd_err set_key(struct watch_policy *p, const char *key, char *v, struct cd_error *e)
{
	char *end;
	long n;

	if (strcmp(key, "streams") == 0)
		return set_streams(p, v, e);
	if (strcmp(key, "capability") == 0 || strcmp(key, "tenant") == 0) {
		char *dst = key[0] == 'c' ? p->capability : p->tenant;

		if (!valid_name(v, POOL_NAME_MAX) && !(key[0] == 'c' && v[0] == '\0'))
			return cd_fail(e, CD_CONFIG, "pools",
				       "pool %s: %s must be lower-case letters, digits, _ and -.",
				       p->name, key);
		snprintf(dst, POOL_NAME_MAX, "%s", v);
		return CD_OK;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(key, POOL_KEYS[i].name) != 0)
			continue;
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < POOL_KEYS[i].min ||
		    n > POOL_KEYS[i].max)
			return cd_fail(e, CD_CONFIG, "pools",
				       "pool %s: %s must be an integer from %ld to %ld, not \"%s\".",
				       p->name, key, POOL_KEYS[i].min, POOL_KEYS[i].max, v);
		*long_slot(p, &POOL_KEYS[i]) = n;
		return CD_OK;
	}
	return cd_fail(e, CD_CONFIG, "pools",
		       "pool %s: unknown key \"%s\" (streams, capability, tenant, gpu_mem_gb, "
		       "spawn_threshold, max_instances, cooldown_s, idle_s, long_running_s, poll_s).",
		       p->name, key);
}

static void set_defaults(struct watch_policy *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->tenant, sizeof(p->tenant), "default");
	for (size_t i = 0; i < NKEYS; i++)
		*long_slot(p, &POOL_KEYS[i]) = POOL_KEYS[i].dflt;
}

/* One `name:key=value,...` into p. */
static enum cd_err parse_pool(char *text, struct watch_policy *p, struct cd_error *e)
{
	char *colon = strchr(text, ':'), *save = NULL;

	set_defaults(p);
	if (colon != NULL)
		*colon = '\0';
	if (!valid_name(text, POOL_NAME_MAX))
		return cd_fail(e, CD_CONFIG, "pools",
			       "pool name \"%s\" must be lower-case letters, digits, _ and - "
			       "(at most %d), followed by ':' and its keys.",
			       text, POOL_NAME_MAX - 1);
	snprintf(p->name, sizeof(p->name), "%s", text);
	for (char *kv = colon ? strtok_r(colon + 1, ",", &save) : NULL; kv != NULL;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (eq == NULL)
			return cd_fail(e, CD_CONFIG, "pools", "pool %s: expected key=value, not \"%s\".",
				       p->name, kv);
		*eq = '\0';
		if (set_key(p, kv, eq + 1, e) != CD_OK)
			return CD_CONFIG;
	}
	if (p->nstreams == 0 && p->capability[0] == '\0')
		return cd_fail(e, CD_CONFIG, "pools",
			       "pool %s serves nothing: give it streams=, capability= or both.",
			       p->name);
	return CD_OK;
}

enum cd_err pools_parse(const char *spec, struct watch_policy *out, size_t cap, size_t *n,
			struct cd_error *e)
{
	char *copy, *save = NULL;
	enum cd_err rc = CD_CONFIG;

	*n = 0;
	if (strlen(spec) > SPEC_MAX)
		return cd_fail(e, CD_CONFIG, "pools", "the pool spec is longer than %d bytes.", SPEC_MAX);
	copy = xstrdup(spec);
	for (char *t = strtok_r(copy, ";", &save); t != NULL; t = strtok_r(NULL, ";", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		if (*t == '\0')
			continue;
		if (*n == cap) {
			cd_fail(e, CD_CONFIG, "pools", "at most %zu pools.", cap);
			goto out;
		}
		if (parse_pool(t, &out[*n], e) != CD_OK)
			goto out;
		for (size_t i = 0; i < *n; i++)
			if (strcmp(out[i].name, out[*n].name) == 0) {
				cd_fail(e, CD_CONFIG, "pools", "pool %s is named twice.", out[i].name);
				goto out;
			}
		(*n)++;
	}
	rc = CD_OK;
out:
	free(copy);
	if (rc != CD_OK)
		*n = 0;
	return rc;
}
