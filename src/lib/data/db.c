/* db.c -- connections, named prepared statements, transactions, SQLSTATE.
 *
 * Owns: struct db (one PGconn, the set of statements prepared on it, whether a
 * transaction is open). Entry points: db_open, db_exec, db_begin/commit/
 * rollback, db_ping, db_check_schema. Invariants: a statement is prepared on a
 * connection before it is executed there; after PQreset every statement is
 * prepared again. Never formats a value into SQL. BEGIN is not sent on its
 * own: it travels with the transaction's first statement, in one pipeline
 * (one round trip fewer per transaction; a transaction that runs no
 * statement costs none). A guard (db_guard_arm) travels the same way, ahead
 * of the next statement: a check that must hold before it runs, in its round
 * trip; once a guard failed, every statement fails with its error until
 * db_guard_end.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "data/db_internal.h"

struct db {
	PGconn *conn;
	bool in_tx;
	bool begin_pending; /* db_begin ran; BEGIN goes with the next statement */
	bool listening;	/* LISTEN conductor_jobs issued on this connection */
	bool generic_plans; /* db_use_generic_plans: SET again after a reconnect */
	bool prepared[DB_MAX_STMTS + 1];
	char actor[DB_ACTOR_MAX]; /* conductor.actor as set on this session (set again after a
				   * reconnect, with the other settings); "" none */
	/* the guard: st($1 = param) ahead of the next statement (db_guard_arm) */
	struct {
		enum { GUARD_NONE, GUARD_PENDING, GUARD_PASSED, GUARD_FAILED } state;
		struct db_stmt *st;
		char param[DB_GUARD_PARAM_MAX + 1];
		struct cd_error err; /* GUARD_FAILED: what every statement answers */
	} guard;
};

static atomic_int next_stmt_id = 0;

static void notice_quiet(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res; /* NOTICEs ("relation exists, skipping") are not our log lines */
}

enum cd_err db_open(const char *url, struct db **out, struct cd_error *e)
{
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
	struct db *db;

	*out = NULL;
	if (opts == NULL) {
		cd_fail(e, CD_CONFIG, "database_url",
			"configuration key database_url (CONDUCTOR_DATABASE_URL) does not parse: %s",
			errmsg ? errmsg : "out of memory");
		PQfreemem(errmsg);
		return CD_CONFIG;
	}
	PQconninfoFree(opts);
	db = xcalloc(1, sizeof(*db));
	db->conn = PQconnectdb(url);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		char msg[200];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
		msg[strcspn(msg, "\n")] = '\0';
		db_close(db);
		return cd_fail(e, CD_UNAVAILABLE, "database_url", "PostgreSQL is unavailable: %s", msg);
	}
	PQsetNoticeReceiver(db->conn, notice_quiet, NULL);
	*out = db;
	return CD_OK;
}

void db_close(struct db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db);
}

PGconn *db_conn(struct db *db)
{
	return db->conn;
}

static int stmt_id(struct db_stmt *st)
{
	int id = atomic_load(&st->id);

	if (id == 0) {
		int fresh = atomic_fetch_add(&next_stmt_id, 1) + 1;
		int expected = 0;

		if (fresh > DB_MAX_STMTS) {
			log_error("too many prepared statements; raise DB_MAX_STMTS");
			abort();
		}
		if (atomic_compare_exchange_strong(&st->id, &expected, fresh))
			id = fresh;
		else
			id = expected; /* another thread named it first; fresh is unused */
	}
	return id;
}

#define UNAVAILABLE_MESSAGE "The database is unavailable; try again shortly."

static enum cd_err unavailable(struct cd_error *e)
{
	return cd_fail(e, CD_UNAVAILABLE, NULL, UNAVAILABLE_MESSAGE);
}

static enum cd_err map_result(PGresult *res, struct cd_error *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	enum cd_err err = CD_INTERNAL;

	if (state == NULL)
		err = CD_UNAVAILABLE;
	else if (strcmp(state, "23505") == 0 || strcmp(state, "40001") == 0 ||
		 strcmp(state, "40P01") == 0 || strcmp(state, DB_SQLSTATE_FAST_PATH) == 0)
		err = CD_CONFLICT;
	else if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
		 strcmp(state, "53300") == 0)
		err = CD_UNAVAILABLE;
	else if (strcmp(state, "28000") == 0) /* a guard's: the credentials no longer hold */
		err = CD_UNAUTHORIZED;
	else if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		err = CD_INVALID;
	cd_fail(e, err, NULL, "%s",
		err == CD_UNAVAILABLE ? UNAVAILABLE_MESSAGE
				      : (primary ? primary : "database error"));
	if (e != NULL)
		snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", state ? state : "");
	if (err == CD_INTERNAL || err == CD_UNAVAILABLE)
		log_error("database error", "sqlstate", state ? state : "", "error",
			  primary ? primary : "connection lost");
	return err;
}

/* The session settings this connection asked for; true when they hold. */
static bool apply_settings(struct db *db)
{
	PGresult *res;
	bool ok;

	if (db->actor[0] != '\0') {
		const char *p[1] = {db->actor};

		res = PQexecParams(db->conn, "SELECT set_config('conductor.actor', $1, false)", 1,
				   NULL, p, NULL, NULL, 0);
		ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
		if (!ok) {
			log_error("cannot set conductor.actor", "error", PQerrorMessage(db->conn));
			db->actor[0] = '\0';
			return false;
		}
	}
	if (!db->generic_plans)
		return true;
	res = PQexec(db->conn, "SET plan_cache_mode = force_generic_plan");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		log_error("cannot set plan_cache_mode", "error", PQerrorMessage(db->conn));
	PQclear(res);
	return ok;
}

static bool reset_if_broken(struct db *db)
{
	if (PQstatus(db->conn) == CONNECTION_OK)
		return false;
	log_warn("database connection lost; reconnecting");
	PQreset(db->conn);
	memset(db->prepared, 0, sizeof(db->prepared));
	db->in_tx = false;
	db->begin_pending = false;
	db->listening = false;
	return PQstatus(db->conn) == CONNECTION_OK && apply_settings(db);
}

static struct db_stmt SQL_SET_ACTOR = DB_STMT("SELECT set_config('conductor.actor', $1, false)");

enum cd_err db_set_actor(struct db *db, const char *actor, struct cd_error *e)
{
	const char *p[1] = {actor};
	enum cd_err rc;

	if (strlen(actor) >= sizeof(db->actor))
		return cd_fail(e, CD_INTERNAL, "actor", "The actor is longer than %d bytes.",
			       DB_ACTOR_MAX - 1);
	if (strcmp(db->actor, actor) == 0)
		return CD_OK;
	db->actor[0] = '\0'; /* unknown until the database said yes */
	rc = db_exec_command(db, &SQL_SET_ACTOR, 1, p, e);
	if (rc == CD_OK && db->actor[0] == '\0')
		snprintf(db->actor, sizeof(db->actor), "%s", actor);
	return rc;
}

enum cd_err db_use_generic_plans(struct db *db, struct cd_error *e)
{
	db->generic_plans = true;
	if (!apply_settings(db))
		return unavailable(e);
	return CD_OK;
}

/* The next result of a pipeline, and the NULL that ends it. */
static PGresult *pipeline_result(PGconn *conn)
{
	PGresult *res = PQgetResult(conn), *end;

	while (res != NULL && (end = PQgetResult(conn)) != NULL)
		PQclear(end); /* not expected: one result per query */
	return res;
}

/* The statement's name on this connection, prepared on first use. NULL
 * when it is prepared; else the failed result of PREPARE. */
static PGresult *prepare_once(struct db *db, struct db_stmt *st, int id, char name[16])
{
	PGresult *p;

	snprintf(name, 16, "s%d", id);
	if (db->prepared[id])
		return NULL;
	p = PQprepare(db->conn, name, st->sql, 0, NULL);
	if (PQresultStatus(p) != PGRES_COMMAND_OK)
		return p;
	PQclear(p);
	db->prepared[id] = true;
	return NULL;
}

static bool result_ok(const PGresult *res)
{
	ExecStatusType status = PQresultStatus(res);

	return res != NULL && (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK);
}

static void clear_calls(struct db_call *calls, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		PQclear(calls[i].res);
		calls[i].res = NULL;
	}
}

/* The guard's failed result becomes what every statement answers. */
static void guard_failed(struct db *db, PGresult *g)
{
	cd_error_reset(&db->guard.err);
	map_result(g, &db->guard.err);
	db->guard.state = GUARD_FAILED;
}

/* Sends a pending BEGIN, a pending guard, then each call's prepared
 * statement (names[i]), in one pipeline: one round trip. Sets each call's
 * res; when BEGIN or the guard failed, calls[0].res is its result and no
 * statement ran (PostgreSQL skips the rest of a pipeline after an error).
 * Every res stays NULL when the connection broke (the guard stays pending). */
static void run_pipeline(struct db *db, struct db_call *calls, size_t k,
			 char names[][16])
{
	PGconn *conn = db->conn;
	bool begin = db->begin_pending, guard = db->guard.state == GUARD_PENDING, sent;
	const char *gp[1] = {db->guard.param};
	char gname[16];
	PGresult *b = NULL, *g = NULL, *failed;

	for (size_t i = 0; i < k; i++)
		calls[i].res = NULL;
	if (guard && (failed = prepare_once(db, db->guard.st, stmt_id(db->guard.st), gname)) != NULL) {
		calls[0].res = failed; /* not even sent: BEGIN stays pending */
		return;
	}
	if (!PQenterPipelineMode(conn))
		return; /* nothing sent: BEGIN stays pending */
	db->begin_pending = false;
	sent = !begin || PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	if (sent && guard)
		sent = PQsendQueryPrepared(conn, gname, 1, gp, NULL, NULL, 0);
	for (size_t i = 0; sent && i < k; i++)
		sent = PQsendQueryPrepared(conn, names[i], calls[i].n, calls[i].params, NULL, NULL,
					   0);
	if (sent && PQpipelineSync(conn)) {
		if (begin)
			b = pipeline_result(conn);
		if (guard && (!begin || b != NULL))
			g = pipeline_result(conn);
		for (size_t i = 0; (!begin || b != NULL) && (!guard || g != NULL) && i < k; i++)
			calls[i].res = pipeline_result(conn);
		PQclear(PQgetResult(conn)); /* PGRES_PIPELINE_SYNC */
	}
	/* exits once every result is read; a broken connection is reset later */
	for (int i = 0; i < 4 && !PQexitPipelineMode(conn); i++)
		PQclear(PQgetResult(conn));
	if (b != NULL && PQresultStatus(b) != PGRES_COMMAND_OK) {
		clear_calls(calls, k);
		calls[0].res = b;
		b = NULL;
	} else if (g != NULL && !result_ok(g)) {
		guard_failed(db, g);
		clear_calls(calls, k);
		calls[0].res = g;
		g = NULL;
	} else if (g != NULL) {
		db->guard.state = GUARD_PASSED;
	}
	PQclear(b);
	PQclear(g);
}

/* What a statement answers once the guard failed: the guard's error. */
static enum cd_err guard_refusal(struct db *db, struct cd_error *e)
{
	if (e != NULL)
		*e = db->guard.err;
	return db->guard.err.err;
}

static PGresult *exec_once(struct db *db, struct db_stmt *st, int id, int n,
			   const char *const *params)
{
	char name[1][16];
	struct db_call call = {.st = st, .n = n, .params = params};
	PGresult *failed = prepare_once(db, st, id, name[0]);

	if (failed != NULL)
		return failed;
	if (!db->begin_pending && db->guard.state != GUARD_PENDING)
		return PQexecPrepared(db->conn, name[0], n, params, NULL, NULL, 0);
	run_pipeline(db, &call, 1, name);
	return call.res;
}

enum cd_err db_exec(struct db *db, struct db_stmt *st, int n, const char *const *params,
		    PGresult **out, struct cd_error *e)
{
	int id = stmt_id(st);
	PGresult *res;

	*out = NULL;
	if (db->guard.state == GUARD_FAILED)
		return guard_refusal(db, e);
	if (PQstatus(db->conn) != CONNECTION_OK && (db->in_tx || !reset_if_broken(db)))
		return unavailable(e);
	res = exec_once(db, st, id, n, params);
	if (res == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		bool retry = !db->in_tx;

		PQclear(res);
		res = NULL;
		if (retry && reset_if_broken(db))
			res = exec_once(db, st, id, n, params);
		else if (db->in_tx)
			reset_if_broken(db);
	}
	if (!result_ok(res)) {
		enum cd_err rc = map_result(res, e);

		PQclear(res);
		return rc;
	}
	*out = res;
	return CD_OK;
}

enum cd_err db_exec_command(struct db *db, struct db_stmt *st, int n, const char *const *params,
			    struct cd_error *e)
{
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, st, n, params, &res, e);

	PQclear(res);
	return rc;
}

enum cd_err db_exec_pipeline(struct db *db, struct db_call *calls, size_t k, struct cd_error *e)
{
	char names[DB_MAX_PIPELINE][16];
	enum cd_err rc = CD_OK;

	for (size_t i = 0; i < k; i++)
		calls[i].res = NULL;
	if (db->guard.state == GUARD_FAILED)
		return guard_refusal(db, e);
	if (k == 0 || k > DB_MAX_PIPELINE)
		return cd_fail(e, CD_INTERNAL, NULL, "a pipeline runs 1-%d statements (%zu given)",
			       DB_MAX_PIPELINE, k);
	/* broken before anything was sent: a transaction is gone with it, a
	 * pipeline of its own goes on a new connection (as db_exec does) */
	if (PQstatus(db->conn) != CONNECTION_OK) {
		bool in_tx = db->in_tx;

		if (!reset_if_broken(db) || in_tx)
			return unavailable(e);
	}
	for (size_t i = 0; i < k; i++) {
		PGresult *failed = prepare_once(db, calls[i].st, stmt_id(calls[i].st), names[i]);

		if (failed != NULL) {
			rc = map_result(failed, e);
			PQclear(failed);
			return rc;
		}
	}
	run_pipeline(db, calls, k, names);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		clear_calls(calls, k);
		reset_if_broken(db);
		return unavailable(e);
	}
	for (size_t i = 0; i < k && rc == CD_OK; i++)
		if (!result_ok(calls[i].res))
			rc = map_result(calls[i].res, e); /* the first failure; the rest did not run */
	if (rc != CD_OK)
		clear_calls(calls, k);
	return rc;
}

char *db_first_text(const PGresult *res)
{
	return xstrdup(PQgetvalue(res, 0, 0));
}

enum cd_err db_exec_text(struct db *db, struct db_stmt *st, int n, const char *const *params,
			 char **out, struct cd_error *e)
{
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, st, n, params, &res, e);

	*out = NULL;
	if (rc == CD_OK && PQntuples(res) > 0)
		*out = db_first_text(res);
	else if (rc == CD_OK)
		rc = cd_fail(e, CD_INTERNAL, NULL, "a statement answered no row");
	PQclear(res);
	return rc;
}

bool db_is_retryable(const struct cd_error *e)
{
	return e != NULL &&
	       (strcmp(e->sqlstate, "40001") == 0 || strcmp(e->sqlstate, "40P01") == 0);
}

static struct db_stmt SQL_PING = DB_STMT("SELECT 1");

enum cd_err db_ping(struct db *db, struct cd_error *e)
{
	return db_exec_command(db, &SQL_PING, 0, NULL, e);
}

static enum cd_err run_plain(struct db *db, const char *sql, struct cd_error *e)
{
	PGresult *res = PQexec(db->conn, sql);
	enum cd_err rc = CD_OK;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = map_result(res, e);
	PQclear(res);
	return rc;
}

enum cd_err db_begin(struct db *db, struct cd_error *e)
{
	if (db->in_tx)
		return cd_fail(e, CD_INTERNAL, NULL, "a transaction is already open");
	if (PQstatus(db->conn) != CONNECTION_OK && !reset_if_broken(db))
		return unavailable(e);
	db->in_tx = true;
	db->begin_pending = true;
	return CD_OK;
}

enum cd_err db_commit(struct db *db, struct cd_error *e)
{
	enum cd_err rc = CD_OK;

	if (!db->begin_pending) /* else no statement ran: nothing to commit */
		rc = run_plain(db, "COMMIT", e);
	db->in_tx = false;
	db->begin_pending = false;
	return rc;
}

void db_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	if (!db->begin_pending)
		PQclear(PQexec(db->conn, "ROLLBACK"));
	db->in_tx = false;
	db->begin_pending = false;
}

enum cd_err db_listen_jobs(struct db *db, struct cd_error *e)
{
	if (db->listening && PQstatus(db->conn) == CONNECTION_OK)
		return CD_OK;
	if (PQstatus(db->conn) != CONNECTION_OK && !reset_if_broken(db))
		return unavailable(e);
	/* A constant channel name: nothing from a client is formatted here. */
	if (run_plain(db, "LISTEN conductor_jobs", e) != CD_OK)
		return CD_UNAVAILABLE;
	db->listening = true;
	return CD_OK;
}

static bool drain_notifies(struct db *db)
{
	PGnotify *n;
	bool any = false;

	PQconsumeInput(db->conn);
	while ((n = PQnotifies(db->conn)) != NULL) {
		any = true;
		PQfreemem(n);
	}
	return any;
}

void db_drain_notifies(struct db *db)
{
	if (db->listening)
		drain_notifies(db);
}

bool db_wait_notify(struct db *db, int timeout_ms)
{
	struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};

	if (drain_notifies(db))
		return true;
	if (pfd.fd < 0 || poll(&pfd, 1, timeout_ms) <= 0)
		return false;
	return drain_notifies(db);
}

void db_guard_arm(struct db *db, struct db_stmt *st, const char *param)
{
	db->guard.state = GUARD_PENDING;
	db->guard.st = st;
	snprintf(db->guard.param, sizeof(db->guard.param), "%s", param);
}

enum cd_err db_guard_end(struct db *db, struct cd_error *e)
{
	enum cd_err rc = CD_OK;
	PGresult *res = NULL;

	if (db->guard.state == GUARD_PENDING) { /* no statement carried it: alone */
		const char *p[1] = {db->guard.param};

		db->guard.state = GUARD_NONE;
		rc = db_exec(db, db->guard.st, 1, p, &res, e);
		PQclear(res);
	} else if (db->guard.state == GUARD_FAILED) {
		rc = guard_refusal(db, e);
	}
	db->guard.state = GUARD_NONE;
	return rc;
}

#define TX_ATTEMPTS 4

enum cd_err db_run_tx(struct db *db, enum cd_err (*step)(struct db *, void *), void *ctx,
		      struct cd_error *e)
{
	enum cd_err rc = CD_INTERNAL;

	for (int attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
		rc = db_begin(db, e);
		if (rc != CD_OK)
			return rc;
		rc = step(db, ctx);
		if (rc == CD_OK)
			rc = db_commit(db, e);
		else
			db_rollback(db);
		if (rc == CD_OK || !db_is_retryable(e))
			return rc;
	}
	return rc;
}

void fmt_i64(char *out, size_t cap, int64_t v)
{
	snprintf(out, cap, "%" PRId64, v);
}
