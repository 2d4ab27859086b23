/* routing.h -- per-app result routing (DESIGN section 6), off by default.
 *
 * Several apps share the task streams; each entry carries `source` (the app)
 * and `reply_to` (the stream its result goes to), and workers put results on
 * the results stream(s) (CONDUCTOR_RESULTS_STREAMS, default "results").
 * With CONDUCTOR_RESULT_ROUTING=on, routers -- a thread of each
 * conductor-watcher -- read those streams in the consumer group
 * CONDUCTOR_RESULTS_GROUP with a blocking XREADGROUP and move each entry to
 * the stream its reply_to names:
 *   - only to a stream matching CONDUCTOR_REPLY_TO_ALLOW (default
 *     "results:*"), never to a results stream itself (a loop) nor to a key
 *     that is not a stream;
 *   - an entry with no reply_to, or one refused, goes to dead:<results
 *     stream> with `dead_reason` and `original_id`;
 *   - each move is one MULTI/EXEC with the XACK and the XDEL
 *     (stream_move_checked), so a result is never lost nor doubled.
 * Several routers may run at once: the group gives each entry to one. A
 * router starts by finishing its own pending entries (XREADGROUP id 0: what
 * it read and had not moved when it died), and takes over entries another
 * router left pending longer than CONDUCTOR_ROUTING_RECLAIM_S (XAUTOCLAIM),
 * so an entry whose router died for good is routed too. A consumer name must
 * be used by one router at a time.
 *
 * The reaper's janitor sweeps CONDUCTOR_STREAMS in CONDUCTOR_STREAM_GROUP; a
 * results stream listed there with the same group composes with routing:
 * the janitor's fresh copy is a new entry for the routers, routed once.
 *
 * Thread-safety: routing_run() uses its own Redis connection; the config is
 * read-only. Never logs a field value but ids, streams, source and reply_to.
 */
#ifndef CD_ROUTING_H
#define CD_ROUTING_H

#include <signal.h>
#include <stddef.h>

#include "base/config.h"
#include "base/err.h"

#define ROUTING_DEAD_PREFIX "dead:"

/* What a router did (written by its thread; read after it stopped). For
 * logs, not an audit: a MULTI/EXEC whose answer a dropped connection cut off
 * moved its batch without counting it. */
struct routing_counts {
	long routed;	/* moved to their reply_to stream */
	long dead;	/* moved to dead:<results stream> */
	long reclaimed;	/* taken over from another router */
	long errors;	/* Redis failures (the entries stayed pending and were retried) */
};

/* Why reply_to is refused, or NULL when entries may go there: missing or
 * empty, not a stream name (1..200 of letters, digits, : _ - .), a results
 * stream (a loop), a dead-letter stream, or matching no pattern of
 * cfg->reply_to_allow. Pure; the answer is a static string. */
const char *routing_refusal(const struct config *cfg, const char *reply_to);

/* The keys routing needs (redis_url, results_streams, results_group,
 * reply_to_allow), or CD_CONFIG naming the empty one: for a binary's start-up
 * check when cfg->result_routing is on. */
enum cd_err routing_check_config(const struct config *cfg, struct cd_error *e);

/* Routes until *stop is set (seen within ROUTING_BLOCK_MS), as consumer
 * (1..128 bytes) of cfg->results_group. Redis failures are logged, counted
 * and retried with backoff; they do not end the loop. out: totals (may be
 * NULL). CD_CONFIG when a routing key is empty. The caller ignores SIGPIPE
 * (hiredis writes to a connection Redis closed raise it); the thread of
 * routing_start_thread() blocks it for itself. */
enum cd_err routing_run(const struct config *cfg, const char *consumer, volatile sig_atomic_t *stop,
			struct routing_counts *out, struct cd_error *e);

#define ROUTING_BLOCK_MS 200

/* Routes what is there now, then returns -- for a --once pass: this
 * consumer's own pending entries, those other routers left pending longer
 * than routing_reclaim_s, then new entries until a read finds none (at most
 * 1000 reads of 100). The first Redis failure ends it (CD_UNAVAILABLE, the
 * entries not moved stay pending). out: what it did (may be NULL). */
enum cd_err routing_drain(const struct config *cfg, const char *consumer,
			  struct routing_counts *out, struct cd_error *e);

/* A router on a thread of its own, for conductor-watcher's main. */
struct routing_thread;

/* Starts routing_run(cfg, consumer) on a new thread. cfg is borrowed until
 * routing_stop_thread(); consumer is copied. out: the thread (caller stops it
 * with routing_stop_thread()). CD_CONFIG naming the key when routing's keys
 * are wrong, CD_INTERNAL when no thread could start. */
enum cd_err routing_start_thread(const struct config *cfg, const char *consumer,
				 struct routing_thread **out, struct cd_error *e);

/* Asks the thread to stop, waits for it (at most about ROUTING_BLOCK_MS plus
 * the Redis timeout) and frees it. out: its counts (may be NULL). NULL-safe. */
void routing_stop_thread(struct routing_thread *t, struct routing_counts *out);

struct stream_conn;

/* POST /v1/streams/{stream}/entries: adds an app's entry to stream -- one of
 * cfg->streams or cfg->results_streams, else CD_NOT_FOUND (field "stream",
 * code stream_not_found) -- with fields (key, value, ..., NULL; none named
 * source or reply_to: CD_INVALID naming "fields.<key>"), then `source` (the
 * caller's tenant/name, never the body's) and `reply_to` when not NULL
 * (refused by routing_refusal(): CD_INVALID naming "reply_to").
 * new_id: the entry's id. */
enum cd_err routing_enqueue(struct stream_conn *rs, const struct config *cfg, const char *stream,
			    const char *const *fields, const char *source, const char *reply_to,
			    char new_id[64], struct cd_error *e);

/* For conductor-watcher's main: when cfg->result_routing is on, starts a
 * router thread whose consumer is routing_consumer_name(NULL) (the host);
 * NULL when routing is off or the thread could not start (logged). Stop it
 * with routing_stop_thread() (NULL-safe) before cfg is freed. */
struct routing_thread *routing_start_if_on(const struct config *cfg);

/* A consumer name for this process: "<host>" (one router per host), or
 * "<host>-<suffix>" when suffix is not empty. */
void routing_consumer_name(char *out, size_t cap, const char *suffix);

#endif
