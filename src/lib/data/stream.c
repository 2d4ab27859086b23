/* stream.c -- hiredis connection handling for the Redis task streams.
 * Owns struct stream_conn (a redisContext and how to reach the server again).
 * Every command goes through a timeout, so a stuck Redis cannot hang a thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "base/config.h"
#include "base/mem.h"
#include "data/stream.h"

struct stream_conn {
	redisContext *ctx;
	struct redis_target target;
	struct timeval timeout;
};

static enum cd_err connect_ctx(struct stream_conn *c, struct cd_error *e)
{
	redisReply *r;

	if (c->ctx != NULL)
		redisFree(c->ctx);
	if (c->target.path[0] != '\0')
		c->ctx = redisConnectUnixWithTimeout(c->target.path, c->timeout);
	else
		c->ctx = redisConnectWithTimeout(c->target.host, c->target.port, c->timeout);
	if (c->ctx == NULL || c->ctx->err) {
		enum cd_err rc = cd_fail(e, CD_UNAVAILABLE, "redis_url", "Redis is unavailable: %s",
					 c->ctx ? c->ctx->errstr : "out of memory");

		if (c->ctx != NULL)
			redisFree(c->ctx);
		c->ctx = NULL;
		return rc;
	}
	redisSetTimeout(c->ctx, c->timeout);
	if (c->target.db != 0) {
		r = redisCommand(c->ctx, "SELECT %d", c->target.db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			return cd_fail(e, CD_UNAVAILABLE, "redis_url", "Redis refused SELECT %d.",
				       c->target.db);
		}
		freeReplyObject(r);
	}
	return CD_OK;
}

enum cd_err stream_open(const char *url, int timeout_ms, struct stream_conn **out,
			struct cd_error *e)
{
	struct stream_conn *c;
	enum cd_err rc;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	rc = config_parse_redis_url(url, &c->target, e);
	if (rc != CD_OK) {
		free(c);
		return rc;
	}
	c->timeout.tv_sec = timeout_ms / 1000;
	c->timeout.tv_usec = (timeout_ms % 1000) * 1000;
	rc = connect_ctx(c, e);
	if (rc != CD_OK) {
		stream_close(c);
		return rc;
	}
	*out = c;
	return CD_OK;
}

void stream_close(struct stream_conn *c)
{
	if (c == NULL)
		return;
	if (c->ctx != NULL)
		redisFree(c->ctx);
	free(c);
}

enum cd_err stream_ping(struct stream_conn *c, struct cd_error *e)
{
	redisReply *r = NULL;
	enum cd_err rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->ctx == NULL || c->ctx->err) {
			rc = connect_ctx(c, e);
			if (rc != CD_OK)
				return rc;
		}
		r = redisCommand(c->ctx, "PING");
		if (r != NULL)
			break;
	}
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		rc = cd_fail(e, CD_UNAVAILABLE, "redis_url", "Redis is unavailable: %s",
			     r ? r->str : c->ctx->errstr);
		freeReplyObject(r);
		return rc;
	}
	freeReplyObject(r);
	return CD_OK;
}
