/* db_control.c -- the SQL of controllers, leader leases and system modes.
 * See db_control.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "data/db_control.h"
#include "data/db_internal.h"

/* ---- leader lease ------------------------------------------------------- */

/* One conditional statement. ON CONFLICT DO UPDATE re-checks its WHERE on
 * the newest row version, so of two controllers racing for an expired lease
 * the second sees the first's fresh lease and updates nothing. `old` (the
 * statement's snapshot) tells a renewal from an acquisition. */
static struct db_stmt SQL_ACQUIRE = DB_STMT(
	"WITH old AS ("
	"  SELECT holder_id = $3 AND lease_expires_at > now() AS mine"
	"    FROM leader_leases WHERE tenant_id = $1 AND name = $2"
	"), up AS ("
	"  INSERT INTO leader_leases AS l (tenant_id, name, holder_id, holder_host, term,"
	"                                  lease_expires_at)"
	"  VALUES ($1, $2, $3, $4, 1, now() + make_interval(secs => $5::int))"
	"  ON CONFLICT (tenant_id, name) DO UPDATE SET"
	"    term = CASE WHEN l.holder_id = excluded.holder_id AND l.lease_expires_at > now()"
	"                THEN l.term ELSE l.term + 1 END,"
	"    acquired_at = CASE WHEN l.holder_id = excluded.holder_id AND l.lease_expires_at > now()"
	"                       THEN l.acquired_at ELSE now() END,"
	"    holder_id = excluded.holder_id, holder_host = excluded.holder_host,"
	"    lease_expires_at = excluded.lease_expires_at, updated_at = now()"
	"  WHERE l.holder_id = excluded.holder_id OR l.lease_expires_at <= now()"
	"  RETURNING l.term"
	")"
	"SELECT (SELECT term FROM up), coalesce((SELECT mine FROM old), false)");

/* Read in a statement of its own, so a loser sees the winner's lease. */
static struct db_stmt SQL_LEASE = DB_STMT(
	"SELECT json_build_object('lease', name, 'holder_id', holder_id, 'holder_host', holder_host,"
	"         'term', term, 'lease_expires_at', rfc3339(lease_expires_at),"
	"         'is_leader', $3::boolean, 'operation', $4::text),"
	"       holder_id, term"
	"  FROM leader_leases WHERE tenant_id = $1 AND name = $2");

enum cd_err db_control_acquire(struct db *db, int64_t tenant, const char *name,
			       const char *holder, const char *host, int ttl_s, char **out,
			       struct leader_lease *lease, struct cd_error *e)
{
	char t[24], ttl[16];
	const char *p[5] = {t, name, holder, host, ttl};
	const char *q[4] = {t, name, NULL, NULL};
	PGresult *res = NULL;
	bool won, renewed;
	enum cd_err rc;

	if (out != NULL)
		*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	rc = db_exec(db, &SQL_ACQUIRE, 5, p, &res, e);
	if (rc != CD_OK)
		goto out;
	won = !PQgetisnull(res, 0, 0);
	renewed = won && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	res = NULL;
	q[2] = won ? "true" : "false";
	q[3] = renewed ? "renew" : "acquire";
	rc = db_exec(db, &SQL_LEASE, 4, q, &res, e);
	if (rc != CD_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = cd_fail(e, CD_INTERNAL, NULL, "leader lease %s vanished", name);
		goto out;
	}
	if (out != NULL)
		*out = xstrdup(PQgetvalue(res, 0, 0));
	if (lease != NULL) {
		lease->is_leader = won;
		lease->renewed = renewed;
		lease->term = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		snprintf(lease->holder_id, sizeof(lease->holder_id), "%s", PQgetvalue(res, 0, 1));
	}
out:
	PQclear(res);
	return rc;
}

/* Expires the lease now if holder still holds it; a standby takes it over
 * at its next try (with term + 1). */
static struct db_stmt SQL_RELEASE = DB_STMT(
	"UPDATE leader_leases SET lease_expires_at = now(), updated_at = now()"
	" WHERE tenant_id = $1 AND name = $2 AND holder_id = $3 AND lease_expires_at > now()");

enum cd_err db_control_release(struct db *db, int64_t tenant, const char *name,
			       const char *holder, struct cd_error *e)
{
	char t[24];
	const char *p[3] = {t, name, holder};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_command(db, &SQL_RELEASE, 3, p, e);
}

/* ---- controllers -------------------------------------------------------- */

#define CONTROLLER_JSON                                                                            \
	"json_build_object('controller_id', c.controller_id, 'host', c.host, 'role', c.role,"      \
	" 'priority', c.priority, 'status', c.status, 'version', c.version,"                        \
	" 'metadata', c.metadata, 'last_heartbeat_at', rfc3339(c.last_heartbeat_at),"               \
	" 'stale', c.last_heartbeat_at < now() - make_interval(secs => $2::int))"

static struct db_stmt SQL_HEARTBEAT = DB_STMT(
	"WITH c AS ("
	"  INSERT INTO controllers AS c (tenant_id, controller_id, host, role, priority, status,"
	"                               version, metadata, last_heartbeat_at)"
	"  SELECT $1, r->>'controller_id', r->>'host', r->>'role',"
	"         coalesce((r->>'priority')::int, 0), r->>'status', r->>'version',"
	"         coalesce(r->'metadata', '{}'::jsonb), now()"
	"    FROM (SELECT $3::jsonb AS r) s"
	"  ON CONFLICT (tenant_id, controller_id) DO UPDATE SET"
	"    host = excluded.host, role = excluded.role, priority = excluded.priority,"
	"    status = excluded.status, version = excluded.version, metadata = excluded.metadata,"
	"    last_heartbeat_at = now()"
	"  RETURNING c.*"
	") SELECT " CONTROLLER_JSON " FROM c");

enum cd_err db_control_heartbeat(struct db *db, int64_t tenant, const char *request,
				 long stale_s, char **out, struct cd_error *e)
{
	char t[24], s[24];
	const char *p[3] = {t, s, request};

	fmt_i64(t, sizeof(t), tenant);
	snprintf(s, sizeof(s), "%ld", stale_s);
	return db_exec_text(db, &SQL_HEARTBEAT, 3, p, out, e);
}

static struct db_stmt SQL_CONTROLLERS = DB_STMT(
	"SELECT json_build_object('items', coalesce(json_agg(" CONTROLLER_JSON
	"         ORDER BY c.controller_id), '[]'::json))"
	"  FROM controllers c WHERE c.tenant_id = $1");

enum cd_err db_control_list(struct db *db, int64_t tenant, long stale_s, char **out,
			    struct cd_error *e)
{
	char t[24], s[24];
	const char *p[2] = {t, s};

	fmt_i64(t, sizeof(t), tenant);
	snprintf(s, sizeof(s), "%ld", stale_s);
	return db_exec_text(db, &SQL_CONTROLLERS, 2, p, out, e);
}

/* ---- system mode -------------------------------------------------------- */

static struct db_stmt SQL_SET_MODE = DB_STMT(
	"WITH m AS ("
	"  INSERT INTO system_modes (tenant_id, mode, reason, requested_by, updated_at)"
	"  VALUES ($1, $2, $3, $4, now())"
	"  ON CONFLICT (tenant_id) DO UPDATE SET mode = excluded.mode, reason = excluded.reason,"
	"    requested_by = excluded.requested_by, updated_at = now()"
	"  RETURNING *"
	")"
	"INSERT INTO system_mode_events (tenant_id, mode, reason, requested_by)"
	"SELECT tenant_id, mode, reason, requested_by FROM m");

enum cd_err db_control_set_mode(struct db *db, int64_t tenant, const char *mode,
				const char *reason, const char *requested_by, struct cd_error *e)
{
	char t[24];
	const char *p[4] = {t, mode, reason, requested_by};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_command(db, &SQL_SET_MODE, 4, p, e);
}

static struct db_stmt SQL_STATE = DB_STMT(
	"SELECT json_build_object('mode', coalesce(m.mode, 'running'), 'reason', m.reason,"
	"         'requested_by', m.requested_by, 'updated_at', rfc3339(m.updated_at),"
	"         'holder_id', l.holder_id, 'term', l.term,"
	"         'lease_expires_at', rfc3339(l.lease_expires_at))"
	"  FROM (SELECT 1) one"
	"  LEFT JOIN system_modes m ON m.tenant_id = $1"
	"  LEFT JOIN leader_leases l ON l.tenant_id = $1 AND l.name = 'global'");

enum cd_err db_control_state(struct db *db, int64_t tenant, char **out, struct cd_error *e)
{
	char t[24];
	const char *p[1] = {t};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_text(db, &SQL_STATE, 1, p, out, e);
}

static struct db_stmt SQL_MODE_EVENTS = DB_STMT(
	"SELECT json_build_object('items', coalesce(json_agg(json_build_object('mode', v.mode,"
	"         'reason', v.reason, 'requested_by', v.requested_by, 'at', rfc3339(v.at))"
	"         ORDER BY v.id DESC), '[]'::json))"
	"  FROM (SELECT * FROM system_mode_events WHERE tenant_id = $1"
	"         ORDER BY id DESC LIMIT 100) v");

enum cd_err db_control_mode_events(struct db *db, int64_t tenant, char **out,
				   struct cd_error *e)
{
	char t[24];
	const char *p[1] = {t};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_text(db, &SQL_MODE_EVENTS, 1, p, out, e);
}
