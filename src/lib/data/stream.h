/* stream.h -- the Redis connection of the data plane (task streams).
 *
 * Opaque above data/: nothing else includes hiredis. One struct stream_conn
 * per thread. This file grows the stream operations (XLEN, XPENDING,
 * XAUTOCLAIM) as the watcher and the janitor need them.
 */
#ifndef CD_STREAM_H
#define CD_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct stream_conn;

/* Connects to url (config.h's redis URL forms) with a timeout in ms.
 * out: a new connection the caller frees with stream_close(); NULL on failure.
 * CD_UNAVAILABLE (field "redis_url") when Redis does not answer. */
enum cd_err stream_open(const char *url, int timeout_ms, struct stream_conn **out,
			struct cd_error *e);
void stream_close(struct stream_conn *c);

/* PING; reconnects once when the connection had broken. */
enum cd_err stream_ping(struct stream_conn *c, struct cd_error *e);

/* One stream entry: its id and its field/value pairs, all owned. */
struct stream_entry {
	char *id;
	size_t nfields;
	char **keys, **values;	/* nfields each */
	char *stream;		/* stream_read_group: the stream it came from; else NULL */
};

/* Frees n entries and the array. NULL-safe. */
void stream_entries_free(struct stream_entry *v, size_t n);

/* The value of field key in en, or NULL. Borrowed. */
const char *stream_entry_field(const struct stream_entry *en, const char *key);

/* One page of XAUTOCLAIM: the entries of group pending longer than
 * min_idle_ms, from cursor ("0-0" to start), at most count, now owned by
 * consumer. out/n: the entries (caller frees with stream_entries_free).
 * next: the cursor of the next page ("0-0" when the scan is done).
 * missing: set when the stream or the group does not exist (not an error:
 * out is empty). */
enum cd_err stream_autoclaim(struct stream_conn *c, const char *stream, const char *group,
			     const char *consumer, long min_idle_ms, const char *cursor, int count,
			     struct stream_entry **out, size_t *n, char next[64], bool *missing,
			     struct cd_error *e);

/* How many times entry id of group has been delivered (XPENDING); 0 when it
 * is not pending. */
enum cd_err stream_delivery_count(struct stream_conn *c, const char *stream, const char *group,
				  const char *id, long *out, struct cd_error *e);

/* XLEN of stream: entries in it (0 when it does not exist). */
enum cd_err stream_len(struct stream_conn *c, const char *stream, long *out, struct cd_error *e);

/* How many entries of stream are pending in group (delivered, not acked):
 * XPENDING's summary count; 0 when the stream or the group does not exist. */
enum cd_err stream_pending_count(struct stream_conn *c, const char *stream, const char *group,
				 long *out, struct cd_error *e);

/* stream_pending_count, and the age in seconds of the oldest pending entry
 * of group: the time in its id against the server's clock (TIME); 0 when
 * nothing is pending. */
enum cd_err stream_pending_age(struct stream_conn *c, const char *stream, const char *group,
			       long *count, long *oldest_age_s, struct cd_error *e);

/* Atomically (MULTI/EXEC): adds a copy of en to stream `to` -- its fields in
 * order, except those named in extra, then the extra pairs (key, value, ...,
 * NULL) -- acks en in group of stream `from` and deletes it there.
 * new_id: the copy's id. */
enum cd_err stream_move(struct stream_conn *c, const char *from, const char *group,
			const struct stream_entry *en, const char *to, const char *const *extra,
			char new_id[64], struct cd_error *e);

/* ---- consumer groups, for result routing (domain/routing.c) ---------- */

/* XGROUP CREATE stream group 0 MKSTREAM: the group reads the stream from its
 * first entry; an existing group (BUSYGROUP) is not an error. */
enum cd_err stream_group_ensure(struct stream_conn *c, const char *stream, const char *group,
				struct cd_error *e);

/* out: whether stream has the consumer group group (XINFO GROUPS); false,
 * not an error, when the stream does not exist. */
enum cd_err stream_group_exists(struct stream_conn *c, const char *stream, const char *group,
				bool *out, struct cd_error *e);

/* XREADGROUP GROUP group consumer COUNT count [BLOCK block_ms] STREAMS
 * streams... ids...: ids[i] is ">" (entries never delivered) or an id (this
 * consumer's own pending entries after it). block_ms 0: no BLOCK; it must be
 * shorter than the connection's timeout. out/n: the entries of every stream
 * in order, each with .stream set (caller frees with stream_entries_free);
 * a pending entry deleted under the group comes back with nfields 0 (XADD
 * never makes one). nogroup: set when a stream or the group is missing (out
 * is empty; not an error). Sent once: when the connection breaks, the lost
 * answer may have carried entries now pending for consumer, so the caller
 * gets CD_UNAVAILABLE and must read its own pending entries again, rather
 * than a silent second read on a new connection that would skip them. */
enum cd_err stream_read_group(struct stream_conn *c, const char *group, const char *consumer,
			      const char *const *streams, const char *const *ids, size_t nstreams,
			      int count, int block_ms, struct stream_entry **out, size_t *n,
			      bool *nogroup, struct cd_error *e);

/* XADD stream * k v ... for fields (key, value, ..., NULL; at least one
 * pair). new_id: the entry's id. Sent once, never again on a new
 * connection (a lost answer must not add a second copy): CD_UNAVAILABLE
 * when the connection broke, whether or not Redis added it. */
enum cd_err stream_add(struct stream_conn *c, const char *stream, const char *const *fields,
		       char new_id[64], struct cd_error *e);

/* XACK stream group id. */
enum cd_err stream_ack(struct stream_conn *c, const char *stream, const char *group,
		       const char *id, struct cd_error *e);

/* One move of stream_move_many(): en of stream `from` to stream `to`, its
 * fields as stream_move() copies them, then the extra pairs (NULL-ended). */
struct stream_move {
	const char *from;
	const struct stream_entry *en;
	const char *to;
	const char *const *extra;	/* may be NULL */
	char new_id[64];		/* out: the copy's id; "" when not moved */
	char wrong_type[16];		/* out: `to` holds this type, not a stream; en stayed */
};

/* stream_move() for many entries in one MULTI/EXEC, and never losing one to
 * a key that is not a stream: WATCH and TYPE every `to` first (one round
 * trip); a move whose `to` holds another type is left out and names the
 * type in wrong_type (its entry stays pending: the caller dead-letters it).
 * The others go in one MULTI/EXEC (one round trip): for each, XADD to `to`,
 * XACK in group of `from`, XDEL there. When another client wrote to a
 * watched `to` meanwhile, EXEC runs nothing and all is tried again; after 8
 * such aborts CD_CONFLICT (every entry stays pending). */
enum cd_err stream_move_many(struct stream_conn *c, const char *group, struct stream_move *moves,
			     size_t n, struct cd_error *e);

#endif
