/* config.h -- conductor's configuration: one key table, three sources.
 *
 * Every key is a row of CONFIG_KEYS (config.c) with its type, range, default
 * and a line of help. Values come, later winning, from the defaults, the
 * optional `--config FILE` (lines `key=value`, where key is either the short
 * name `database_url` or the variable `CONDUCTOR_DATABASE_URL`; `#` starts a
 * comment), then the environment's CONDUCTOR_* variables. Every value is
 * validated on load and an error names the key.
 *
 * The struct is filled once at start and read-only after (STYLE 19).
 */
#ifndef CD_CONFIG_H
#define CD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"

struct config {
	char *database_url;	/* libpq URL or conninfo */
	char *redis_url;	/* redis://host:port[/db] or unix:/path[?db=N] */
	char *listen;		/* conductor-fcgi: unix socket path, "" = inherited */
	long threads;		/* conductor-fcgi: accepting threads, 0 = 2 x cores */
	char *log_level;	/* debug, info, warn, error */
	char *url;		/* clients: the base URL of the API */
	char *token;		/* clients: the bearer token */
	char *admin_token;	/* written by tools/up; a client token too */
	char *streams;		/* comma-separated Redis stream names */
	char *stream_group;	/* consumer group of every stream */
	long factory_stale_s;	/* a worker silent this long is stale */
	long reclaim_idle_s;	/* janitor: idle time before an entry is reclaimed */
	long max_deliveries;	/* janitor: deliveries before dead-lettering */
	long retention_days;	/* reaper: history older than this is deleted */
	long claim_wait_max;	/* conductor-fcgi: requests allowed to long-poll at once */
	/* cloud providers (data/provider_*.c, data/httpc.c); keys are secrets */
	char *runpod_api_url;	  /* RunPod REST API base (pods) */
	char *runpod_graphql_url; /* RunPod GraphQL endpoint (the GPU types and prices) */
	char *runpod_api_key;	  /* secret: never logged */
	char *runpod_cloud_type;  /* SECURE or COMMUNITY */
	char *runpod_image;	  /* container image of a pod */
	char *do_api_url;	  /* DigitalOcean API base (droplets, sizes) */
	char *do_api_key;	  /* secret: never logged */
	char *do_region;	  /* region slug of the droplets */
	char *do_image;		  /* image slug of the droplets */
	long provider_timeout_ms; /* one provider call, retries included */
	long provider_connect_timeout_ms; /* one attempt's connection */
	long provider_retries;	  /* attempts after the first */
	char *pools;		/* watcher: the pool spec (base/pools.h), "" = none */
	char *providers;	/* watcher: provider names in the order they are asked */
	long result_routing;	/* watcher: 1 = route results by reply_to (on), 0 = off */
	char *results_streams;	/* routing: comma-separated results streams to route */
	char *results_group;	/* routing: the routers' consumer group on them */
	char *reply_to_allow;	/* routing: comma-separated glob patterns reply_to must match */
	long routing_reclaim_s;	/* routing: another router's entry idle this long is taken over */
};

/* Where a key's value came from (conductorctl config), later winning. */
enum config_source {
	CONFIG_SOURCE_DEFAULT = 0, /* the key table's default */
	CONFIG_SOURCE_FILE,	   /* the --config file */
	CONFIG_SOURCE_ENV,	   /* a CONDUCTOR_* variable */
};

/* Fills cfg from defaults, then file (may be NULL), then the environment.
 * Returns CD_CONFIG with e->field naming the bad key. On failure cfg still
 * holds what was read and must be freed with config_free(). */
enum cd_err config_load(struct config *cfg, const char *file, struct cd_error *e);

/* config_load, and where each value came from: sources (out) has
 * config_nkeys() slots, slot i for key i of the table; NULL: not kept. */
enum cd_err config_load_sources(struct config *cfg, const char *file,
				enum config_source *sources, struct cd_error *e);

/* The keys one by one, in the table's order (--help's): how many, the short
 * name of key i (NULL past the end), and whether its whole value is a secret
 * (token, *_token, *_key, *_secret, *_password: never printed). */
size_t config_nkeys(void);
const char *config_key_name(size_t i);
bool config_key_secret(size_t i);
/* Key i's environment variable into out: "CONDUCTOR_DATABASE_URL". */
void config_key_variable(size_t i, char *out, size_t cap);

/* "default", "file", "environment". Static. */
const char *config_source_name(enum config_source s);

/* Key i's value as text into out (cap bytes, cut to fit): integers in
 * decimal, switches on/off. masked: a secret key's value is "********" (""
 * when empty), and passwords inside any other value are **** (see
 * config_mask_url). */
void config_value_text(const struct config *cfg, size_t i, bool masked, char *out, size_t cap);

/* url into out (cap bytes) with its passwords replaced by ****: the
 * userinfo's (scheme://user:PASSWORD@host) and every password=VALUE of a
 * conninfo or a query string. Anything else is copied as it is. */
void config_mask_url(const char *url, char *out, size_t cap);

/* Fails with CD_CONFIG naming `key` (short name) when its value is empty. */
enum cd_err config_require(const struct config *cfg, const char *key, struct cd_error *e);

/* Sets one key from text, validating it; key may be the short or CONDUCTOR_ name. */
enum cd_err config_set(struct config *cfg, const char *key, const char *value,
		       struct cd_error *e);

/* Frees every string of cfg. NULL-safe. */
void config_free(struct config *cfg);

/* Is name one of the comma-separated names of list (a KEY_LIST value)? */
bool config_list_has(const char *list, const char *name);

/* Writes the key table (name, variable, default, help) for --help. */
void config_print_help(FILE *out);

/* Redis URL parts, parsed from cfg->redis_url. */
struct redis_target {
	char host[256];	/* "" for a unix socket */
	int port;
	char path[256];	/* unix socket path, "" for TCP */
	int db;
};
enum cd_err config_parse_redis_url(const char *url, struct redis_target *out, struct cd_error *e);

#endif
