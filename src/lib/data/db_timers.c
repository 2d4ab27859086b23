/* db_timers.c -- the SQL of the timers' leader states. See db_timers.h. */
#include <stdio.h>

#include "data/db_internal.h"
#include "data/db_timers.h"

/* The prune spares this copy's own row: one statement must not both delete
 * and upsert the same row. */
static struct db_stmt SQL_RECORD = DB_STMT(
	"WITH gone AS ("
	"  DELETE FROM timers WHERE name = $1 AND holder_id <> $2"
	"     AND updated_at < now() - make_interval(secs => stale_after_s) - interval '1 day'"
	")"
	"INSERT INTO timers AS t (name, holder_id, host, state, term, leader_id, stale_after_s)"
	"  VALUES ($1, $2, $3, $4, $5, $6, $7)"
	"  ON CONFLICT (name, holder_id) DO UPDATE SET host = excluded.host,"
	"    state = excluded.state, term = excluded.term, leader_id = excluded.leader_id,"
	"    stale_after_s = excluded.stale_after_s, updated_at = now()");

enum cd_err db_timers_record(struct db *db, const char *name, const char *holder,
			     const char *host, const char *state, int64_t term,
			     const char *leader, int stale_after_s, struct cd_error *e)
{
	char t[24], s[16];
	const char *p[7] = {name, holder, host, state, t, leader, s};

	fmt_i64(t, sizeof(t), term);
	snprintf(s, sizeof(s), "%d", stale_after_s);
	return db_exec_command(db, &SQL_RECORD, 7, p, e);
}

static struct db_stmt SQL_FORGET = DB_STMT(
	"DELETE FROM timers WHERE name = $1 AND holder_id = $2");

enum cd_err db_timers_forget(struct db *db, const char *name, const char *holder,
			     struct cd_error *e)
{
	const char *p[2] = {name, holder};

	return db_exec_command(db, &SQL_FORGET, 2, p, e);
}

/* The reading rule of db_timers.h lives here, in one place. */
static struct db_stmt SQL_LIST = DB_STMT(
	"SELECT coalesce(json_agg(json_build_object('name', t.name, 'holder', t.holder_id,"
	"         'host', t.host, 'state', CASE WHEN t.stale THEN 'degraded' ELSE t.state END,"
	"         'term', t.term, 'leader', t.leader_id, 'updated_at', rfc3339(t.updated_at),"
	"         'stale', t.stale) ORDER BY t.name, t.holder_id), '[]'::json)"
	"  FROM (SELECT *, updated_at < now() - make_interval(secs => stale_after_s) AS stale"
	"          FROM timers) t");

enum cd_err db_timers_list(struct db *db, char **out, struct cd_error *e)
{
	return db_exec_text(db, &SQL_LIST, 0, NULL, out, e);
}

static struct db_stmt SQL_LEASES = DB_STMT(
	"SELECT coalesce(json_agg(json_build_object('name', l.name, 'holder', l.holder_id,"
	"         'term', l.term, 'lease_expires_at', rfc3339(l.lease_expires_at),"
	"         'live', l.lease_expires_at > now()) ORDER BY l.name), '[]'::json)"
	"  FROM leader_leases l WHERE l.tenant_id = 0");

enum cd_err db_timers_leases(struct db *db, char **out, struct cd_error *e)
{
	return db_exec_text(db, &SQL_LEASES, 0, NULL, out, e);
}
