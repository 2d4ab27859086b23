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

/* Connects again when the connection is missing or broken. */
static enum cd_err ensure_connected(struct stream_conn *c, struct cd_error *e)
{
	return c->ctx == NULL || c->ctx->err ? connect_ctx(c, e) : CD_OK;
}

/* Sends one command (binary-safe arguments) up to tries times, on a new
 * connection when the last one broke. out: the reply, which may be an error
 * reply (the caller reads it); CD_UNAVAILABLE only when Redis did not
 * answer. */
static enum cd_err send_command(struct stream_conn *c, int argc, const char **argv, int tries,
				redisReply **out, struct cd_error *e)
{
	redisReply *r = NULL;
	enum cd_err rc;

	*out = NULL;
	for (int attempt = 0; attempt < tries && r == NULL; attempt++) {
		rc = ensure_connected(c, e);
		if (rc != CD_OK)
			return rc;
		r = redisCommandArgv(c->ctx, argc, argv, NULL);
	}
	if (r == NULL)
		return cd_fail(e, CD_UNAVAILABLE, "redis_url", "Redis is unavailable: %s",
			       c->ctx->errstr);
	*out = r;
	return CD_OK;
}

/* An idempotent command (a read, XACK, XGROUP CREATE...): sent again on a
 * new connection when the first one broke. */
static enum cd_err command(struct stream_conn *c, int argc, const char **argv,
			   redisReply **out, struct cd_error *e)
{
	return send_command(c, argc, argv, 2, out, e);
}

/* A command that is not idempotent (XADD, XREADGROUP >): sent once. When the
 * connection breaks, Redis may have run it and its answer is lost; sent
 * again, an XADD would add a second copy, and an XREADGROUP would leave the
 * entries the lost answer carried pending with nobody knowing of them. The
 * caller learns of the failure instead (a router then reads its own pending
 * entries first). */
static enum cd_err command_once(struct stream_conn *c, int argc, const char **argv,
				redisReply **out, struct cd_error *e)
{
	return send_command(c, argc, argv, 1, out, e);
}

/* CD_UNAVAILABLE naming the command when r is an error reply. */
static enum cd_err refused(const redisReply *r, const char *what, struct cd_error *e)
{
	return cd_fail(e, CD_UNAVAILABLE, "redis_url", "Redis refused %s: %s", what,
		       r != NULL && r->str != NULL ? r->str : "no reply");
}

enum cd_err stream_ping(struct stream_conn *c, struct cd_error *e)
{
	const char *argv[] = {"PING"};
	redisReply *r = NULL;
	enum cd_err rc = command(c, 1, argv, &r, e);

	if (rc == CD_OK && r->type == REDIS_REPLY_ERROR)
		rc = refused(r, "PING", e);
	freeReplyObject(r);
	return rc;
}

void stream_entries_free(struct stream_entry *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t f = 0; f < v[i].nfields; f++) {
			free(v[i].keys[f]);
			free(v[i].values[f]);
		}
		free(v[i].keys);
		free(v[i].values);
		free(v[i].id);
		free(v[i].stream);
	}
	free(v);
}

const char *stream_entry_field(const struct stream_entry *en, const char *key)
{
	for (size_t f = 0; f < en->nfields; f++)
		if (strcmp(en->keys[f], key) == 0)
			return en->values[f];
	return NULL;
}

static char *copy_str(const redisReply *r)
{
	char *s = xmalloc(r->len + 1);

	memcpy(s, r->str, r->len);
	s[r->len] = '\0';
	return s;
}

/* Fills en from an XAUTOCLAIM entry [id, [k, v, ...]]; false when the reply
 * is not that shape (an entry deleted under Redis < 7 has nil fields). */
static bool take_entry(const redisReply *r, struct stream_entry *en)
{
	const redisReply *f;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY)
		return false;
	f = r->element[1];
	en->id = copy_str(r->element[0]);
	en->nfields = f->elements / 2;
	en->keys = xcalloc(en->nfields + 1, sizeof(char *));
	en->values = xcalloc(en->nfields + 1, sizeof(char *));
	for (size_t i = 0; i < en->nfields; i++) {
		en->keys[i] = copy_str(f->element[2 * i]);
		en->values[i] = copy_str(f->element[2 * i + 1]);
	}
	return true;
}

enum cd_err stream_autoclaim(struct stream_conn *c, const char *stream, const char *group,
			     const char *consumer, long min_idle_ms, const char *cursor, int count,
			     struct stream_entry **out, size_t *n, char next[64], bool *missing,
			     struct cd_error *e)
{
	char idle[24], cnt[16];
	const char *argv[] = {"XAUTOCLAIM", stream, group, consumer, idle, cursor, "COUNT", cnt};
	redisReply *r = NULL;
	const redisReply *list;
	enum cd_err rc;

	*out = NULL;
	*n = 0;
	*missing = false;
	snprintf(next, 64, "0-0");
	snprintf(idle, sizeof(idle), "%ld", min_idle_ms);
	snprintf(cnt, sizeof(cnt), "%d", count);
	rc = command(c, 8, argv, &r, e);
	if (rc != CD_OK)
		return rc;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOGROUP", 7) == 0) {
		*missing = true;
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
		   r->element[0]->type != REDIS_REPLY_STRING ||
		   r->element[1]->type != REDIS_REPLY_ARRAY) {
		rc = refused(r, "XAUTOCLAIM", e);
	} else {
		snprintf(next, 64, "%.*s", (int)r->element[0]->len, r->element[0]->str);
		list = r->element[1];
		*out = xcalloc(list->elements + 1, sizeof(**out));
		for (size_t i = 0; i < list->elements; i++)
			if (take_entry(list->element[i], &(*out)[*n]))
				(*n)++;
	}
	freeReplyObject(r);
	return rc;
}

enum cd_err stream_delivery_count(struct stream_conn *c, const char *stream, const char *group,
				  const char *id, long *out, struct cd_error *e)
{
	const char *argv[] = {"XPENDING", stream, group, id, id, "1"};
	redisReply *r = NULL;
	const redisReply *p;
	enum cd_err rc = command(c, 6, argv, &r, e);

	*out = 0;
	if (rc != CD_OK)
		return rc;
	if (r->type == REDIS_REPLY_ERROR) {
		rc = refused(r, "XPENDING", e);
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
		p = r->element[0];
		if (p->type == REDIS_REPLY_ARRAY && p->elements == 4 &&
		    p->element[3]->type == REDIS_REPLY_INTEGER)
			*out = (long)p->element[3]->integer;
	}
	freeReplyObject(r);
	return rc;
}

enum cd_err stream_len(struct stream_conn *c, const char *stream, long *out, struct cd_error *e)
{
	const char *argv[] = {"XLEN", stream};
	redisReply *r = NULL;
	enum cd_err rc = command(c, 2, argv, &r, e);

	*out = 0;
	if (rc != CD_OK)
		return rc;
	if (r->type == REDIS_REPLY_INTEGER)
		*out = (long)r->integer;
	else
		rc = refused(r, "XLEN", e);
	freeReplyObject(r);
	return rc;
}

/* XPENDING's summary: the count and the smallest pending id (min_id "" when
 * none); 0 when the stream or the group does not exist. */
static enum cd_err pending_summary(struct stream_conn *c, const char *stream, const char *group,
				   long *count, char min_id[64], struct cd_error *e)
{
	const char *argv[] = {"XPENDING", stream, group};
	redisReply *r = NULL;
	enum cd_err rc = command(c, 3, argv, &r, e);

	*count = 0;
	min_id[0] = '\0';
	if (rc != CD_OK)
		return rc;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOGROUP", 7) == 0)
		; /* no stream or no group: nothing pending */
	else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
		 r->element[0]->type == REDIS_REPLY_INTEGER) {
		*count = (long)r->element[0]->integer;
		if (r->elements >= 2 && r->element[1]->type == REDIS_REPLY_STRING)
			snprintf(min_id, 64, "%s", r->element[1]->str);
	} else {
		rc = refused(r, "XPENDING", e);
	}
	freeReplyObject(r);
	return rc;
}

enum cd_err stream_pending_count(struct stream_conn *c, const char *stream, const char *group,
				 long *out, struct cd_error *e)
{
	char min_id[64];

	return pending_summary(c, stream, group, out, min_id, e);
}

/* The server's clock (TIME) in ms. */
static enum cd_err server_ms(struct stream_conn *c, long long *out, struct cd_error *e)
{
	const char *argv[] = {"TIME"};
	redisReply *r = NULL;
	enum cd_err rc = command(c, 1, argv, &r, e);

	*out = 0;
	if (rc != CD_OK)
		return rc;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING)
		*out = strtoll(r->element[0]->str, NULL, 10) * 1000 +
		       strtoll(r->element[1]->str, NULL, 10) / 1000;
	else
		rc = refused(r, "TIME", e);
	freeReplyObject(r);
	return rc;
}

enum cd_err stream_pending_age(struct stream_conn *c, const char *stream, const char *group,
			       long *count, long *oldest_age_s, struct cd_error *e)
{
	char min_id[64];
	long long now = 0, at;
	enum cd_err rc = pending_summary(c, stream, group, count, min_id, e);

	*oldest_age_s = 0;
	if (rc != CD_OK || min_id[0] == '\0')
		return rc;
	if ((rc = server_ms(c, &now, e)) != CD_OK)
		return rc;
	at = strtoll(min_id, NULL, 10); /* an id is <ms>-<seq> */
	*oldest_age_s = now > at ? (long)((now - at) / 1000) : 0;
	return CD_OK;
}

/* Is key one of the keys of the (key, value, ..., NULL) list extra? */
static bool is_extra_key(const char *const *extra, const char *key)
{
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i += 2)
		if (strcmp(extra[i], key) == 0)
			return true;
	return false;
}

/* XADD to * fields-of-en-but-extra's extra..., as an argv the caller frees
 * (the strings are borrowed). */
static const char **xadd_argv(const struct stream_entry *en, const char *to,
			      const char *const *extra, int *argc)
{
	size_t nextra = 0, k = 0;
	const char **argv;

	while (extra != NULL && extra[nextra] != NULL)
		nextra++;
	argv = xcalloc(3 + 2 * en->nfields + nextra, sizeof(char *));
	argv[k++] = "XADD";
	argv[k++] = to;
	argv[k++] = "*";
	for (size_t f = 0; f < en->nfields; f++) {
		if (is_extra_key(extra, en->keys[f]))
			continue;
		argv[k++] = en->keys[f];
		argv[k++] = en->values[f];
	}
	for (size_t i = 0; i < nextra; i++)
		argv[k++] = extra[i];
	*argc = (int)k;
	return argv;
}

/* Reads the n replies of pipelined commands into r (the caller frees each,
 * also on failure). */
static enum cd_err get_replies(struct stream_conn *c, redisReply **r, int n, struct cd_error *e)
{
	for (int i = 0; i < n; i++) {
		void *reply = NULL;

		if (redisGetReply(c->ctx, &reply) != REDIS_OK)
			return cd_fail(e, CD_UNAVAILABLE, "redis_url", "Redis is unavailable: %s",
				       c->ctx->errstr);
		r[i] = reply;
	}
	return CD_OK;
}

/* Reads the replies of MULTI, XADD, XACK, XDEL, EXEC; new_id from EXEC's. */
static enum cd_err read_move_replies(struct stream_conn *c, char new_id[64], struct cd_error *e)
{
	redisReply *r[5] = {NULL};
	enum cd_err rc = get_replies(c, r, 5, e);

	if (rc == CD_OK && (r[4]->type != REDIS_REPLY_ARRAY || r[4]->elements != 3))
		rc = refused(r[4], "MULTI/EXEC", e);
	for (int i = 0; rc == CD_OK && i < 3; i++)
		if (r[4]->element[i]->type == REDIS_REPLY_ERROR)
			rc = refused(r[4]->element[i], i == 0 ? "XADD" : i == 1 ? "XACK" : "XDEL", e);
	if (rc == CD_OK)
		snprintf(new_id, 64, "%.*s", (int)r[4]->element[0]->len, r[4]->element[0]->str);
	for (int i = 0; i < 5; i++)
		freeReplyObject(r[i]);
	return rc;
}

/* Queues XADD of en's copy to `to`, XACK in group of from, XDEL there (the
 * caller wraps them in MULTI ... EXEC). */
static void append_move(struct stream_conn *c, const char *from, const char *group,
			const struct stream_entry *en, const char *to, const char *const *extra)
{
	const char *ack[] = {"XACK", from, group, en->id}, *del[] = {"XDEL", from, en->id};
	const char **add;
	int addc = 0;

	add = xadd_argv(en, to, extra, &addc);
	redisAppendCommandArgv(c->ctx, addc, add, NULL);
	redisAppendCommandArgv(c->ctx, 4, ack, NULL);
	redisAppendCommandArgv(c->ctx, 3, del, NULL);
	free(add);
}

enum cd_err stream_move(struct stream_conn *c, const char *from, const char *group,
			const struct stream_entry *en, const char *to, const char *const *extra,
			char new_id[64], struct cd_error *e)
{
	const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
	enum cd_err rc;

	new_id[0] = '\0';
	rc = ensure_connected(c, e);
	if (rc != CD_OK)
		return rc;
	redisAppendCommandArgv(c->ctx, 1, multi, NULL);
	append_move(c, from, group, en, to, extra);
	redisAppendCommandArgv(c->ctx, 1, exec, NULL);
	return read_move_replies(c, new_id, e);
}

/* ---- consumer groups, for result routing ---------------------------------- */

enum cd_err stream_group_ensure(struct stream_conn *c, const char *stream, const char *group,
				struct cd_error *e)
{
	const char *argv[] = {"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"};
	redisReply *r = NULL;
	enum cd_err rc = command(c, 6, argv, &r, e);

	if (rc == CD_OK && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0)
		rc = refused(r, "XGROUP CREATE", e);
	freeReplyObject(r);
	return rc;
}

enum cd_err stream_group_exists(struct stream_conn *c, const char *stream, const char *group,
				bool *out, struct cd_error *e)
{
	const char *argv[] = {"XINFO", "GROUPS", stream};
	redisReply *r = NULL;
	enum cd_err rc = command(c, 3, argv, &r, e);

	*out = false;
	if (rc != CD_OK)
		goto out;
	if (r->type == REDIS_REPLY_ERROR) {
		/* "ERR no such key": no stream, so no group either */
		if (r->str == NULL || strstr(r->str, "no such key") == NULL)
			rc = refused(r, "XINFO GROUPS", e);
		goto out;
	}
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && !*out; i++) {
		const redisReply *g = r->element[i]; /* name, value, ... (RESP2) */

		for (size_t f = 0; g->type == REDIS_REPLY_ARRAY && f + 1 < g->elements; f += 2)
			if (g->element[f]->type == REDIS_REPLY_STRING &&
			    strcmp(g->element[f]->str, "name") == 0 &&
			    g->element[f + 1]->type == REDIS_REPLY_STRING &&
			    strcmp(g->element[f + 1]->str, group) == 0)
				*out = true;
	}
out:
	freeReplyObject(r);
	return rc;
}

/* Fills en from an XREADGROUP entry [id, [k, v, ...] | nil]; nil fields (an
 * entry deleted while pending) give nfields 0. false when not that shape. */
static bool take_read_entry(const redisReply *r, const redisReply *stream,
			    struct stream_entry *en)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return false;
	if (r->element[1]->type == REDIS_REPLY_ARRAY) {
		if (!take_entry(r, en))
			return false;
	} else if (r->element[1]->type == REDIS_REPLY_NIL) {
		en->id = copy_str(r->element[0]);
		en->keys = xcalloc(1, sizeof(char *));
		en->values = xcalloc(1, sizeof(char *));
	} else {
		return false;
	}
	en->stream = copy_str(stream);
	return true;
}

/* Walks an XREADGROUP reply [[stream, [entry, ...]], ...] into out/n. */
static enum cd_err take_read_reply(const redisReply *r, struct stream_entry **out, size_t *n,
				   struct cd_error *e)
{
	size_t total = 0;

	for (size_t s = 0; s < r->elements; s++) {
		const redisReply *pair = r->element[s];

		if (pair->type != REDIS_REPLY_ARRAY || pair->elements != 2 ||
		    pair->element[0]->type != REDIS_REPLY_STRING ||
		    pair->element[1]->type != REDIS_REPLY_ARRAY)
			return refused(NULL, "XREADGROUP", e);
		total += pair->element[1]->elements;
	}
	*out = xcalloc(total + 1, sizeof(**out));
	for (size_t s = 0; s < r->elements; s++) {
		const redisReply *name = r->element[s]->element[0], *list = r->element[s]->element[1];

		for (size_t i = 0; i < list->elements; i++)
			if (take_read_entry(list->element[i], name, &(*out)[*n]))
				(*n)++;
	}
	return CD_OK;
}

enum cd_err stream_read_group(struct stream_conn *c, const char *group, const char *consumer,
			      const char *const *streams, const char *const *ids, size_t nstreams,
			      int count, int block_ms, struct stream_entry **out, size_t *n,
			      bool *nogroup, struct cd_error *e)
{
	char cnt[16], block[16];
	const char **argv = xcalloc(9 + 2 * nstreams, sizeof(char *));
	redisReply *r = NULL;
	int argc = 0;
	enum cd_err rc;

	*out = NULL;
	*n = 0;
	*nogroup = false;
	snprintf(cnt, sizeof(cnt), "%d", count);
	snprintf(block, sizeof(block), "%d", block_ms);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = group;
	argv[argc++] = consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = cnt;
	if (block_ms > 0) {
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	for (size_t i = 0; i < nstreams; i++)
		argv[argc++] = streams[i];
	for (size_t i = 0; i < nstreams; i++)
		argv[argc++] = ids[i];
	rc = command_once(c, argc, argv, &r, e);
	free(argv);
	if (rc != CD_OK)
		return rc;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOGROUP", 7) == 0)
		*nogroup = true;
	else if (r->type == REDIS_REPLY_ARRAY)
		rc = take_read_reply(r, out, n, e);
	else if (r->type != REDIS_REPLY_NIL) /* nil: BLOCK ran out with nothing new */
		rc = refused(r, "XREADGROUP", e);
	freeReplyObject(r);
	return rc;
}

enum cd_err stream_add(struct stream_conn *c, const char *stream, const char *const *fields,
		       char new_id[64], struct cd_error *e)
{
	struct stream_entry none = {0};
	const char **argv;
	redisReply *r = NULL;
	int argc = 0;
	enum cd_err rc;

	new_id[0] = '\0';
	argv = xadd_argv(&none, stream, fields, &argc);
	rc = command_once(c, argc, argv, &r, e);
	free(argv);
	if (rc != CD_OK)
		return rc;
	if (r->type != REDIS_REPLY_STRING)
		rc = refused(r, "XADD", e);
	else
		snprintf(new_id, 64, "%.*s", (int)r->len, r->str);
	freeReplyObject(r);
	return rc;
}

enum cd_err stream_ack(struct stream_conn *c, const char *stream, const char *group,
		       const char *id, struct cd_error *e)
{
	const char *argv[] = {"XACK", stream, group, id};
	redisReply *r = NULL;
	enum cd_err rc = command(c, 4, argv, &r, e);

	if (rc == CD_OK && r->type != REDIS_REPLY_INTEGER)
		rc = refused(r, "XACK", e);
	freeReplyObject(r);
	return rc;
}

/* WATCH and TYPE each move's `to` (pipelined, one round trip); a `to` of
 * another type than stream (or none) goes to its wrong_type. */
static enum cd_err watch_types(struct stream_conn *c, struct stream_move *moves, size_t n,
			       struct cd_error *e)
{
	redisReply **r = xcalloc(2 * n, sizeof(*r));
	enum cd_err rc;

	for (size_t i = 0; i < n; i++) {
		const char *watch[] = {"WATCH", moves[i].to}, *type[] = {"TYPE", moves[i].to};

		redisAppendCommandArgv(c->ctx, 2, watch, NULL);
		redisAppendCommandArgv(c->ctx, 2, type, NULL);
	}
	rc = get_replies(c, r, (int)(2 * n), e);
	for (size_t i = 0; i < n && rc == CD_OK; i++) {
		const redisReply *w = r[2 * i], *t = r[2 * i + 1];

		if (w->type == REDIS_REPLY_ERROR)
			rc = refused(w, "WATCH", e);
		else if (t->type != REDIS_REPLY_STATUS)
			rc = refused(t, "TYPE", e);
		else if (strcmp(t->str, "stream") != 0 && strcmp(t->str, "none") != 0)
			snprintf(moves[i].wrong_type, sizeof(moves[i].wrong_type), "%s", t->str);
	}
	for (size_t i = 0; i < 2 * n; i++)
		freeReplyObject(r[i]);
	free(r);
	return rc;
}

/* MULTI, the moves without a wrong_type (m of them), EXEC; then the
 * replies. aborted: EXEC answered nil (a watched key changed), nothing ran. */
static enum cd_err exec_moves(struct stream_conn *c, const char *group, struct stream_move *moves,
			      size_t n, size_t m, bool *aborted, struct cd_error *e)
{
	const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
	size_t nr = 3 * m + 2, k = 0;
	redisReply **r = xcalloc(nr, sizeof(*r)), *x;
	enum cd_err rc;

	redisAppendCommandArgv(c->ctx, 1, multi, NULL);
	for (size_t i = 0; i < n; i++)
		if (moves[i].wrong_type[0] == '\0')
			append_move(c, moves[i].from, group, moves[i].en, moves[i].to,
				    moves[i].extra);
	redisAppendCommandArgv(c->ctx, 1, exec, NULL);
	rc = get_replies(c, r, (int)nr, e);
	x = r[nr - 1];
	if (rc == CD_OK && x->type == REDIS_REPLY_NIL)
		*aborted = true;
	else if (rc == CD_OK && (x->type != REDIS_REPLY_ARRAY || x->elements != 3 * m))
		rc = refused(x, "MULTI/EXEC", e);
	for (size_t i = 0; rc == CD_OK && !*aborted && i < n; i++) {
		if (moves[i].wrong_type[0] != '\0')
			continue;
		for (size_t j = 0; j < 3 && rc == CD_OK; j++)
			if (x->element[3 * k + j]->type == REDIS_REPLY_ERROR)
				rc = refused(x->element[3 * k + j],
					     j == 0 ? "XADD" : j == 1 ? "XACK" : "XDEL", e);
		if (rc == CD_OK)
			snprintf(moves[i].new_id, sizeof(moves[i].new_id), "%.*s",
				 (int)x->element[3 * k]->len, x->element[3 * k]->str);
		k++;
	}
	for (size_t i = 0; i < nr; i++)
		freeReplyObject(r[i]);
	free(r);
	return rc;
}

#define MOVE_TRIES 8	/* EXECs aborted by others' writes to a `to` before giving up */

enum cd_err stream_move_many(struct stream_conn *c, const char *group, struct stream_move *moves,
			     size_t n, struct cd_error *e)
{
	const char *unwatch[] = {"UNWATCH"};
	enum cd_err rc = CD_OK;

	for (int attempt = 0; attempt < MOVE_TRIES && n > 0; attempt++) {
		bool aborted = false;
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			moves[i].new_id[0] = moves[i].wrong_type[0] = '\0';
		rc = ensure_connected(c, e);
		if (rc == CD_OK)
			rc = watch_types(c, moves, n, e);
		if (rc != CD_OK)
			return rc;
		for (size_t i = 0; i < n; i++)
			m += moves[i].wrong_type[0] == '\0';
		if (m == 0) {
			redisReply *r = NULL;

			rc = command(c, 1, unwatch, &r, e);
			freeReplyObject(r);
			return rc;
		}
		rc = exec_moves(c, group, moves, n, m, &aborted, e);
		if (rc != CD_OK || !aborted)
			return rc;
	}
	return n == 0 ? CD_OK
		      : cd_fail(e, CD_CONFLICT, "reply_to",
				"The target streams changed under %d tries in a row; the entries "
				"stay pending.",
				MOVE_TRIES);
}
