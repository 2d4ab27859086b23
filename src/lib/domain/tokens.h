/* tokens.h -- API tokens, roles and the principal a request acts as.
 *
 * A token is "cdt_" + 43 base64url characters (32 bytes from getrandom).
 * Only its SHA-256 is stored. Authentication fails closed: while no live
 * token exists at all, every authenticated request gets
 * CD_AUTH_NOT_CONFIGURED, never access.
 */
#ifndef CD_TOKENS_H
#define CD_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

enum role {
	ROLE_ADMIN = 0,	/* everything, every tenant */
	ROLE_OPERATOR,	/* system mode, runtimes, read everything in its tenant */
	ROLE_SUBMITTER,	/* submit, cancel and read jobs */
	ROLE_WORKER,	/* claim, renew, release, PATCH, heartbeat */
	ROLE_CONTROLLER, /* controller heartbeat, leader lease */
	ROLE_READONLY,	/* GET only */
	ROLE_METRICS,	/* GET /metrics only (a Prometheus server's token) */
	ROLE_COUNT
};

#define ROLE_BIT(r) (1u << (r))
#define ROLES_ALL ((1u << ROLE_COUNT) - 1)

#define TOKEN_PREFIX "cdt_"
#define TOKEN_LEN 47 /* 4 + 43 */

/* Who a request acts as, once authenticated. */
struct principal {
	enum role role;
	int64_t tenant_id;	/* 0: every tenant (admin tokens only) */
	char tenant[64];	/* "*" for every tenant */
	char name[129];		/* the token's name */
};

/* Who p is, as the `actor` of what its requests write (data/db.h,
 * db_set_actor): {"name":"<token name>","role":"<role>"}. out: at least
 * TOKENS_ACTOR_MAX bytes. */
#define TOKENS_ACTOR_MAX 400
void tokens_actor_json(const struct principal *p, char *out, size_t cap);

const char *tokens_role_name(enum role role);
/* -1 when s names no role. */
int tokens_role_parse(const char *s);

/* out: a fresh token (TOKEN_LEN chars + NUL). */
void tokens_generate(char out[TOKEN_LEN + 1]);
/* true when s[0..n) has the shape of a token. */
bool tokens_well_formed(const char *s, size_t n);
/* out: lower-case hex SHA-256 of token. */
void tokens_hash(const char *token, size_t n, char out[65]);

/* Authenticates token[0..n) (NULL/0 when the request carried none).
 * out: the principal on CD_OK. CD_UNAUTHORIZED when missing, malformed,
 * unknown, revoked or expired; CD_AUTH_NOT_CONFIGURED when no live token
 * exists at all; CD_UNAVAILABLE when the database is down. */
enum cd_err tokens_authenticate(struct db *db, const char *token, size_t n,
				struct principal *out, struct cd_error *e);

/* tokens_authenticate for the hot routes, without a round trip when it can:
 * a token this process verified in the last 30 s is answered from its cache
 * (kept by SHA-256, never the token), and the connection's guard is armed
 * (db_auth_guard) so that the request's first statement checks, in its own
 * round trip, that the token is still live -- a revocation or an expiry
 * takes effect on the next request all the same. *guarded (out) then says
 * so, and the request must end with tokens_guard_end before its answer is
 * sent. Otherwise this is tokens_authenticate, and a good token is cached.
 * Thread-safe (one lock around the cache). */
enum cd_err tokens_authenticate_guarded(struct db *db, const char *token, size_t n,
					struct principal *out, bool *guarded,
					struct cd_error *e);

/* Ends a request authenticated by tokens_authenticate_guarded (token[0..n)
 * the same): CD_OK when no guard was armed or the token held; else the token
 * leaves the cache and this answers what tokens_authenticate answers for it
 * now (CD_UNAUTHORIZED, or CD_AUTH_NOT_CONFIGURED when no live token is left;
 * CD_UNAVAILABLE when the database does not answer). */
enum cd_err tokens_guard_end(struct db *db, const char *token, size_t n, struct cd_error *e);

/* Creates a token. tenant NULL: every tenant for admin, "default" otherwise.
 * out: the plain token, shown once. */
enum cd_err tokens_create(struct db *db, const char *tenant, const char *role,
			  const char *name, int64_t expires_in_s, char out[TOKEN_LEN + 1],
			  struct cd_error *e);

#endif
