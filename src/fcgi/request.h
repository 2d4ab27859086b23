/* request.h -- one HTTP request as a handler sees it, and its response.
 *
 * Filled by server.c from the FastCGI parameters; everything under "input"
 * is borrowed until the request ends. Handlers write the response only
 * through response.h (reply_*), never a status number of their own.
 * No FastCGI type appears here, so handlers and the router are tested
 * without a FastCGI server.
 */
#ifndef CD_REQUEST_H
#define CD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/config.h"
#include "domain/tokens.h"

#define REQUEST_BODY_MAX (1024 * 1024)	/* DESIGN 2: bodies of at most 1 MiB */
#define RESPONSE_BODY_MAX (64 * 1024 * 1024) /* a claim of 100 jobs of 256 KiB bodies */
#define ROUTE_MAX_PARAMS 4
#define ROUTE_PARAM_MAX 256

struct db;
struct stream_conn;

/* Per-thread state (STYLE 19): one database connection, one Redis
 * connection, all opened lazily and kept across requests. */
struct worker {
	const struct config *cfg;	/* read-only, shared */
	struct db *db;			/* NULL until first use, or after a failed connect */
	struct stream_conn *redis;	/* NULL until first use */
	int index;
};

struct route_param {
	char name[32];
	char value[ROUTE_PARAM_MAX];	/* percent-decoded */
};

struct route;

struct request {
	/* input */
	const char *method;
	const char *path;	/* without the query string */
	const char *query;	/* "" when none */
	const char *content_type;	/* NULL when absent */
	const char *authorization;	/* NULL when absent */
	const char *if_match;	/* NULL when absent */
	const char *tenant_header;	/* X-Conductor-Tenant, NULL when absent */
	const char *cookie;	/* Cookie, NULL when absent (the status pages' session) */
	bool https;		/* the client reached nginx over HTTPS (HTTPS or X-Forwarded-Proto) */
	const char *body;
	size_t body_len;
	char request_id[129];
	struct route_param params[ROUTE_MAX_PARAMS];
	int nparams;
	const struct route *route;
	struct principal principal;	/* valid once authenticated */
	bool authenticated;
	struct worker *w;
	/* set by the dispatcher (routes.c) before a handler runs: */
	struct db *db;		/* the thread's connection, for every route that needs a
				 * token (NULL for the others, which take their own) */
	struct cd_error err;	/* reset: what a handler fills and replies with */

	/* output */
	int status;
	const char *out_type;	/* Content-Type of the response */
	const char *cache_control;	/* Cache-Control of the response: "no-store" unless set */
	struct buf out_headers;	/* extra header lines, each ending in \r\n */
	struct buf out;		/* the response body */
};

/* Sets up req for one request: empty output, no route. */
void request_init(struct request *req, struct worker *w);
/* Frees what the request owns. */
void request_reset(struct request *req);

/* Sets req->request_id from the client's X-Request-Id when it is 1..128
 * printable ASCII characters, else generates one. */
void request_set_id(struct request *req, const char *client_id);

/* The value of route parameter name, or NULL. Borrowed. */
const char *request_param(const struct request *req, const char *name);

/* Finds query parameter name and percent-decodes it into out (cap bytes).
 * Returns 1 when present, 0 when absent, -1 when too long or badly encoded. */
int request_query(const struct request *req, const char *name, char *out, size_t cap);

/* Percent-decodes src[0..n) into out (cap bytes); '+' stays '+'.
 * -1 when a %xx is malformed, decodes to NUL, or out is too small. */
int request_decode(const char *src, size_t n, char *out, size_t cap);

/* The worker's database connection, opened on first use.
 * NULL (and e filled, CD_UNAVAILABLE) when PostgreSQL does not answer. */
struct db *request_db(struct request *req, struct cd_error *e);
/* request_db for a thread between requests (its metrics flush). */
struct db *worker_db(struct worker *w, struct cd_error *e);

#endif
