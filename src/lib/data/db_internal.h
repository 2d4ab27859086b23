/* db_internal.h -- what data/ files use to run SQL. Never included above data/.
 *
 * Each statement is declared right above its one caller:
 *     static struct db_stmt SQL_TOKEN_BY_HASH = DB_STMT(
 *         "SELECT ... WHERE token_hash = $1");
 * and run with db_exec(); it is prepared by name on first use per connection
 * and prepared again after a reconnect. Values are passed as $n text
 * parameters only: nothing is ever formatted into SQL.
 */
#ifndef CD_DB_INTERNAL_H
#define CD_DB_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "base/err.h"
#include "data/db.h"

#define DB_MAX_STMTS 256

struct db_stmt {
	const char *sql;
	atomic_int id;		/* 0 until first use; then 1..DB_MAX_STMTS */
};

#define DB_STMT(text) {.sql = (text), .id = 0}

/* Runs st with params[0..n) (NULL entries are SQL NULL).
 * out: the result, owned by the caller, cleared with PQclear() before its
 * function returns (a PGresult never leaves its function). Set only on CD_OK.
 * Errors keep the SQLSTATE in e->sqlstate and map it: 23505 -> CD_CONFLICT,
 * 08xxx/57P0x -> CD_UNAVAILABLE, 40001/40P01 -> CD_CONFLICT with the state kept
 * (callers that retry look at it), 22xxx/23xxx -> CD_INVALID, else CD_INTERNAL.
 * A broken connection outside a transaction is reset and the call retried once. */
enum cd_err db_exec(struct db *db, struct db_stmt *st, int n, const char *const *params,
		    PGresult **out, struct cd_error *e);

/* db_exec for a statement whose rows nobody reads (a write, a lock, a
 * NOTIFY): the result is dropped. */
enum cd_err db_exec_command(struct db *db, struct db_stmt *st, int n, const char *const *params,
			    struct cd_error *e);

/* One statement of a pipeline: st with params[0..n); res is its result,
 * owned by the caller. */
struct db_call {
	struct db_stmt *st;
	int n;
	const char *const *params;
	PGresult *res;
};

#define DB_MAX_PIPELINE 4

/* What fast_path_holds() raises (sql/012_lean_lifecycle.sql): a one round
 * trip attempt does not apply and rolled back; mapped to CD_CONFLICT with
 * this SQLSTATE kept, never logged. */
#define DB_SQLSTATE_FAST_PATH "CD000"

/* Runs calls[0..k) in order in one round trip (one libpq pipeline): for
 * statements that do not need each other's results. Inside a transaction
 * (db_begin) they are part of it; outside one they are one implicit
 * transaction of their own, committed when the last succeeds, rolled back
 * when one fails (all or nothing, in the one round trip). On CD_OK every
 * calls[i].res is set, and the caller PQclear()s each. On the first failure
 * the rest do not run, the error is mapped as db_exec's, every res is NULL,
 * and the caller rolls back; a broken connection is reset (not retried: the
 * transaction is gone, or its answer). */
enum cd_err db_exec_pipeline(struct db *db, struct db_call *calls, size_t k, struct cd_error *e);

/* db_exec for a statement that answers one text value (JSON built by the
 * database). out: a new string the caller frees with free(), set on CD_OK. */
enum cd_err db_exec_text(struct db *db, struct db_stmt *st, int n, const char *const *params,
			 char **out, struct cd_error *e);

/* The text of res's first value (row 0, column 0) as a new string the
 * caller frees with free(); res must hold a row. */
char *db_first_text(const PGresult *res);

#define DB_GUARD_PARAM_MAX 128

/* Arms a guard on this connection: st, with $1 = param (at most
 * DB_GUARD_PARAM_MAX bytes, copied), is sent ahead of the next statement
 * this connection runs (db_exec, db_exec_pipeline), in the same round trip
 * and the same transaction. When it fails, that statement does not run
 * (PostgreSQL skips the rest of the pipeline) and fails with the guard's
 * error, and so does every later one until db_guard_end (db.h). For a check
 * that must hold before a request's first statement and should not cost a
 * round trip of its own (data/db_auth.c: the token is still live). Statements
 * sent by other paths (BEGIN, COMMIT, LISTEN) do not carry it. */
void db_guard_arm(struct db *db, struct db_stmt *st, const char *param);

/* Writes v in decimal into out (cap >= 21 holds any int64_t): the text form
 * of an integer parameter. */
void fmt_i64(char *out, size_t cap, int64_t v);

/* The connection, for LISTEN/NOTIFY and COPY; borrowed. */
PGconn *db_conn(struct db *db);


/* Runs st with $1 = hash_hex: a statement that answers one token row (id,
 * tenant id or 0, tenant name or '', role, name, hash), as data/db_auth.c
 * (by the token's hash) and data/db_ui.c (by a session's) select it.
 * out: filled on CD_OK; CD_NOT_FOUND when there is no row. */
struct db_token;
enum cd_err db_auth_token_query(struct db *db, struct db_stmt *st, const char *hash_hex,
				struct db_token *out, struct cd_error *e);

#endif
