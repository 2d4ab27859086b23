/* db_ui.c -- the SQL of the status pages' sessions; see db_ui.h. */

#include "data/db_internal.h"
#include "data/db_ui.h"

static struct db_stmt SQL_SESSION_CREATE = DB_STMT(
	"WITH gone AS (DELETE FROM ui_sessions WHERE expires_at <= now())"
	" INSERT INTO ui_sessions (session_hash, token_id, expires_at)"
	" VALUES ($1, $2, now() + make_interval(secs => $3::int))");

enum cd_err db_ui_session_create(struct db *db, const char *hash_hex, int64_t token_id,
				 int ttl_s, struct cd_error *e)
{
	char id[24], ttl[24];
	const char *params[3] = {hash_hex, id, ttl};

	fmt_i64(id, sizeof(id), token_id);
	fmt_i64(ttl, sizeof(ttl), ttl_s);
	return db_exec_command(db, &SQL_SESSION_CREATE, 3, params, e);
}

static struct db_stmt SQL_SESSION_LOOKUP = DB_STMT(
	"SELECT t.id, coalesce(t.tenant_id, 0), coalesce(n.name, ''), t.role, t.name, t.token_hash"
	"  FROM ui_sessions s JOIN api_tokens t ON t.id = s.token_id"
	"  LEFT JOIN tenants n ON n.id = t.tenant_id"
	" WHERE s.session_hash = $1 AND s.expires_at > now() AND t.revoked_at IS NULL"
	"   AND (t.expires_at IS NULL OR t.expires_at > now())");

enum cd_err db_ui_session_lookup(struct db *db, const char *hash_hex, struct db_token *out,
				 struct cd_error *e)
{
	return db_auth_token_query(db, &SQL_SESSION_LOOKUP, hash_hex, out, e);
}

static struct db_stmt SQL_SESSION_DELETE = DB_STMT(
	"DELETE FROM ui_sessions WHERE session_hash = $1");

enum cd_err db_ui_session_delete(struct db *db, const char *hash_hex, struct cd_error *e)
{
	const char *params[1] = {hash_hex};

	return db_exec_command(db, &SQL_SESSION_DELETE, 1, params, e);
}

static struct db_stmt SQL_THROUGHPUT = DB_STMT(
	"SELECT json_agg(json_build_array(coalesce(c.shipped, 0), coalesce(c.failed, 0))"
	"                ORDER BY m.minute)"
	"  FROM generate_series(59, 0, -1) AS m(minute)"
	"  LEFT JOIN (SELECT floor(extract(epoch FROM now() - finished_at) / 60)::int AS minute,"
	"                    count(*) FILTER (WHERE stage = 'shipped') AS shipped,"
	"                    count(*) FILTER (WHERE stage = 'failed') AS failed"
	"               FROM jobs WHERE tenant_id = $1 AND finished_at > now() - interval '1 hour'"
	"                AND stage IN ('shipped', 'failed')"
	"              GROUP BY 1) c ON c.minute = m.minute");

enum cd_err db_ui_throughput(struct db *db, int64_t tenant, char **out, struct cd_error *e)
{
	char t[24];
	const char *params[1] = {t};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_text(db, &SQL_THROUGHPUT, 1, params, out, e);
}

static struct db_stmt SQL_RECENT_EVENTS = DB_STMT(
	"SELECT coalesce(json_agg(json_build_object('id', ev.id::text, 'job_id', ev.job_id::text,"
	"                 'kind', ev.kind, 'at', rfc3339(ev.at), 'data', ev.data) ORDER BY ev.id DESC),"
	"                 '[]')"
	"  FROM (SELECT * FROM job_events WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2) ev");

enum cd_err db_ui_recent_events(struct db *db, int64_t tenant, int limit, char **out,
				struct cd_error *e)
{
	char t[24], l[24];
	const char *params[2] = {t, l};

	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(l, sizeof(l), limit);
	return db_exec_text(db, &SQL_RECENT_EVENTS, 2, params, out, e);
}

static struct db_stmt SQL_DEPENDENTS = DB_STMT(
	"SELECT coalesce(json_agg(d.job_id::text ORDER BY d.job_id), '[]')"
	"  FROM (SELECT job_id FROM job_deps WHERE dep_id = $2 AND tenant_id = $1"
	"         ORDER BY job_id LIMIT 500) d");

enum cd_err db_ui_dependents(struct db *db, int64_t tenant, int64_t id, char **out,
			     struct cd_error *e)
{
	char t[24], j[24];
	const char *params[2] = {t, j};

	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(j, sizeof(j), id);
	return db_exec_text(db, &SQL_DEPENDENTS, 2, params, out, e);
}
