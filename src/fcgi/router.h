/* router.h -- matching a method and a path against a route table.
 *
 * A pattern is a path whose segments are literals or {name}; a {name}
 * segment matches one non-empty segment, percent-decoded into a parameter.
 * The first row whose pattern matches wins; a GET row answers HEAD too (the
 * server then sends the headers without the body, RFC 9110). When the path
 * matches some row but none with this method, the answer is 405 with the
 * methods that would have matched (HEAD after GET); when it matches none, 404.
 * Pure: no I/O, no FastCGI.
 */
#ifndef CD_ROUTER_H
#define CD_ROUTER_H

#include <stddef.h>

#include "base/err.h"
#include "fcgi/request.h"

typedef void route_handler(struct request *req);

struct route {
	const char *method;	/* "GET", "POST", "PATCH", ... */
	const char *pattern;	/* "/v1/fleet/jobs/{id}" */
	route_handler *handler;
	unsigned roles;		/* ROLE_BIT mask; 0: no authentication */
	const char *name;	/* the handler's name, for logs and the routes test */
};

/* Matches method and path against table[0..n).
 * out: the row, and params/nparams filled, on CD_OK.
 * allow: on CD_METHOD_NOT_ALLOWED, "GET, HEAD, POST" (cap bytes).
 * Returns CD_NOT_FOUND (code route_not_found) or CD_METHOD_NOT_ALLOWED in e. */
enum cd_err router_match(const struct route *table, size_t n, const char *method,
			 const char *path, const struct route **out,
			 struct route_param params[ROUTE_MAX_PARAMS], int *nparams, char *allow,
			 size_t allow_cap, struct cd_error *e);

#endif
