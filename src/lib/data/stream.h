/* stream.h -- the Redis connection of the data plane (task streams).
 *
 * Opaque above data/: nothing else includes hiredis. One struct stream_conn
 * per thread. This file grows the stream operations (XLEN, XPENDING,
 * XAUTOCLAIM) as the watcher and the janitor need them.
 */
#ifndef CD_STREAM_H
#define CD_STREAM_H

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

#endif
