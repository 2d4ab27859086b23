/* handler.h -- what every handler does around its domain call (the
 * connection and the error are on the request, set by the dispatcher:
 * request.h): read the {id} of the path or reply 404, answer the
 * domain's JSON text or its error. The parsers of query parameters, enums,
 * string lists and If-Match are fcgi/params.h. */
#ifndef CD_HANDLER_H
#define CD_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "fcgi/request.h"

struct db;
struct stream_conn;

#define REDIS_TIMEOUT_MS 1000

#define ID_MAX INT64_C(999999999999999999)
#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* The fence every worker write carries: who holds the lease, which epoch. */
#define FENCE_FIELDS                                                                               \
	{.name = "factory_id", .type = JF_STRING, .required = true, .min = 1, .max = 128},         \
	{                                                                                          \
		.name = "lease_epoch", .type = JF_INT, .required = true, .min = 1, .max = ID_MAX   \
	}



/* The {id} of the path as an id of `thing` ("job", "task", "step"); false
 * after replying 404 <thing>_not_found. */
bool id_or_reply(struct request *req, const char *thing, int64_t *out);

/* The thread's Redis connection (the task streams), opened on first use
 * with a timeout of REDIS_TIMEOUT_MS; NULL (e filled, CD_UNAVAILABLE) when
 * Redis does not answer. Replies nothing: a caller decides what Redis down
 * means for its answer. */
struct stream_conn *redis_or_null(struct request *req, struct cd_error *e);

/* 200 with text (JSON from the database) when rc is CD_OK, else e's
 * envelope. Frees text (steals it). */
void reply_text_or_error(struct request *req, enum cd_err rc, char *text,
			 const struct cd_error *e);

#endif
