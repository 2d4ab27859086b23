/* db_ui.h -- the status pages' browser sessions (sql/011_ui_sessions.sql).
 *
 * A session is found by the SHA-256 (hex) of its id; the id itself never
 * reaches this layer. Every lookup joins api_tokens, so a revoked or expired
 * token's sessions stop working on their next request.
 */
#ifndef CD_DB_UI_H
#define CD_DB_UI_H

#include <stdint.h>

#include "base/err.h"
#include "data/db.h"
#include "data/db_auth.h"

/* Stores a session of token token_id, living ttl_s seconds; deletes
 * sessions that have expired. */
enum cd_err db_ui_session_create(struct db *db, const char *hash_hex, int64_t token_id,
				 int ttl_s, struct cd_error *e);

/* out: the live token behind the live session hash_hex. CD_NOT_FOUND when
 * the session is unknown or expired, or its token revoked or expired. */
enum cd_err db_ui_session_lookup(struct db *db, const char *hash_hex, struct db_token *out,
				 struct cd_error *e);

/* Ends the session (nothing happens when there is none). */
enum cd_err db_ui_session_delete(struct db *db, const char *hash_hex, struct cd_error *e);

/* out: [[shipped, failed] x 60]: the tenant's jobs that reached shipped and
 * failed in each of the last 60 minutes, oldest first (JSON text, the caller
 * frees it). */
enum cd_err db_ui_throughput(struct db *db, int64_t tenant, char **out, struct cd_error *e);

/* out: the tenant's last `limit` job events, newest first:
 * [{id, job_id, kind, at, data}] (JSON text, the caller frees it). */
enum cd_err db_ui_recent_events(struct db *db, int64_t tenant, int limit, char **out,
				struct cd_error *e);

/* out: ["id", ...]: the tenant's jobs that depend on job id (the other
 * direction of a job's deps), at most 500 (JSON text, the caller frees it). */
enum cd_err db_ui_dependents(struct db *db, int64_t tenant, int64_t id, char **out,
			     struct cd_error *e);

#endif
