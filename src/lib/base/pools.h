/* pools.h -- the watcher's pools and their policy, from the configuration
 * key `pools` (CONDUCTOR_POOLS): DESIGN section 6.
 *
 * The spec is compact so that it fits one environment variable:
 *     name:key=value,key=value;name:key=value...
 *   e.g. image:streams=tasks:image+tasks:thumb,capability=gpu,gpu_mem_gb=24,
 *        spawn_threshold=5,max_instances=2;text:streams=tasks:text
 * Pools are separated by `;`, a pool's name ends at the first `:`, its keys
 * by `,`, several streams by `+`. Every key but the name is optional; the
 * keys, ranges and defaults are POOL_KEYS (pools.c). Parsing is pure (no
 * I/O) and names the pool and the key of the first mistake.
 */
#ifndef CD_POOLS_H
#define CD_POOLS_H

#include <stddef.h>

#include "base/err.h"

#define POOLS_MAX 16		/* pools one configuration may name */
#define POOL_STREAMS_MAX 16	/* streams one pool may serve */
#define POOL_NAME_MAX 64
#define POOL_STREAM_MAX 128

/* One pool's policy. */
struct watch_policy {
	char name[POOL_NAME_MAX];		/* [a-z0-9][a-z0-9_-]* */
	char streams[POOL_STREAMS_MAX][POOL_STREAM_MAX];
	size_t nstreams;
	char capability[POOL_NAME_MAX];		/* queued jobs needing it count as demand; "" none */
	char tenant[POOL_NAME_MAX];		/* whose jobs and system mode count; "default" */
	long gpu_mem_gb;			/* an instance needs at least this; 0 any */
	long spawn_threshold;			/* demand that asks for an instance (1) */
	long max_instances;			/* never more live (1) */
	long cooldown_s;			/* no spawn this long after a teardown (300) */
	long idle_s;				/* no demand this long -> teardown (600) */
	long long_running_s;			/* an instance older -> alert (86400) */
	long poll_s;				/* the pool is polled this often (15) */
};

/* Parses spec into out[0..*n) (at most cap). An empty spec is no pool.
 * CD_CONFIG with e->field "pools" and a message naming the pool and key. */
enum cd_err pools_parse(const char *spec, struct watch_policy *out, size_t cap, size_t *n,
			struct cd_error *e);

#endif
