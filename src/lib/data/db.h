/* db.h -- a PostgreSQL connection as the rest of conductor sees it.
 *
 * Opaque: callers above data/ never see libpq. One struct db belongs to one
 * thread (STYLE 19); nothing here is shared between threads except the
 * statement ids, which are atomics.
 */
#ifndef CD_DB_H
#define CD_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct db;

/* Connects to url (a libpq URL or conninfo). out: a new connection; the caller
 * frees it with db_close(). CD_CONFIG when the URL does not parse (field
 * "database_url"), CD_UNAVAILABLE when the server does not answer. */
enum cd_err db_open(const char *url, struct db **out, struct cd_error *e);

/* From now on (and after every reconnect) PostgreSQL plans each prepared
 * statement of this connection once, not on every execution
 * (plan_cache_mode = force_generic_plan). For the service's hot statements,
 * which are written to have good generic plans; planning was a third of
 * PostgreSQL's time per claim and per PATCH. */
enum cd_err db_use_generic_plans(struct db *db, struct cd_error *e);

/* Closes and frees. NULL-safe. */
void db_close(struct db *db);

#define DB_ACTOR_MAX 512 /* bytes of an actor's JSON, NUL included */

/* Who the writes that follow on this connection are made by: the session
 * setting conductor.actor (JSON text: {"name","role"} of a token, or
 * {"timer","term"}), which every job event and run takes as its `actor`
 * (sql/016_actor.sql). A round trip only when it changes on this connection;
 * a reconnect forgets it (the next call sets it again). Call it outside a
 * transaction. */
enum cd_err db_set_actor(struct db *db, const char *actor, struct cd_error *e);

/* Runs SELECT 1, reconnecting once when the connection had broken. */
enum cd_err db_ping(struct db *db, struct cd_error *e);

/* Checks that every migration this build expects is applied (DB_MIGRATIONS in
 * db_schema.c); CD_SCHEMA names the first one missing. */
enum cd_err db_check_schema(struct db *db, struct cd_error *e);

/* The name of the newest migration this build expects ("001_foundation"). */
const char *db_schema_expected(void);

/* The migrations this build expects, in order; n: how many. Borrowed. */
const char *const *db_schema_migrations(size_t *n);

/* Transactions. db_begin fails if one is open already. db_rollback is safe to
 * call when none is open (it does nothing). */
enum cd_err db_begin(struct db *db, struct cd_error *e);
enum cd_err db_commit(struct db *db, struct cd_error *e);
void db_rollback(struct db *db);

/* Runs step(db, ctx) between BEGIN and COMMIT (ROLLBACK when it fails),
 * again up to 4 times on a serialization failure or deadlock. step must be
 * safe to run again (free what a failed try left). */
enum cd_err db_run_tx(struct db *db, enum cd_err (*step)(struct db *, void *), void *ctx,
		      struct cd_error *e);

/* true when e carries a serialization failure or deadlock worth retrying. */
bool db_is_retryable(const struct cd_error *e);

/* Ends the guard armed on this connection (db_guard_arm, db_internal.h):
 * when no statement carried it, runs it alone now (one round trip). CD_OK
 * when it passed or none was armed; else its error, which every statement
 * since it failed has answered too. Disarms: later statements run freely. */
enum cd_err db_guard_end(struct db *db, struct cd_error *e);

/* LISTEN on the channel claims wait on (once per connection). */
enum cd_err db_listen_jobs(struct db *db, struct cd_error *e);
/* Discards notifications already received. */
void db_drain_notifies(struct db *db);
/* Waits up to timeout_ms for a notification; true when one arrived. */
bool db_wait_notify(struct db *db, int timeout_ms);

#endif
