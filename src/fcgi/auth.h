/* auth.h -- the Authorization header, the route's roles, the tenant. */
#ifndef CD_AUTH_H
#define CD_AUTH_H

#include <stdbool.h>

#include "fcgi/request.h"

/* Authenticates req's bearer token and checks req->route's roles.
 * On success fills req->principal and returns true. Otherwise writes the
 * 401/403/503 envelope and returns false; the handler must just return.
 * An admin token (every tenant) may name the tenant it acts in with
 * X-Conductor-Tenant; without it, it acts in "default". */
bool auth_or_reply(struct request *req);

/* Ends what auth_or_reply began, before the answer is sent: on the hot
 * routes the token's check may still be pending (the handler ran no
 * statement: it runs now) or have failed; then the answer becomes the
 * refusal (401, or 503 when no live token is left). Safe on any request. */
void auth_end(struct request *req);

#endif
