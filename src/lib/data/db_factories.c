/* db_factories.c -- the SQL of workers' heartbeats; see db_factories.h. */
#include <inttypes.h>
#include <stdio.h>

#include "data/db_factories.h"
#include "data/db_internal.h"

#define FACTORY_JSON                                                                               \
	"json_build_object('factory_id', f.factory_id, 'capabilities', to_json(f.capabilities),"   \
	" 'health', f.health, 'load', f.load, 'seat_limit', f.seat_limit,"                          \
	" 'descriptor', f.descriptor, 'last_heartbeat_at', rfc3339(f.last_heartbeat_at),"           \
	" 'stale', f.last_heartbeat_at < now() - make_interval(secs => $2::int),"                   \
	" 'held', (SELECT count(*) FROM jobs h WHERE h.tenant_id = f.tenant_id"                     \
	"          AND h.lease_holder = f.factory_id AND h.lease_status = 'held'))"

static struct db_stmt SQL_HEARTBEAT = DB_STMT(
	"WITH f AS ("
	"  INSERT INTO factories AS f (tenant_id, factory_id, capabilities, health, load, seat_limit,"
	"                             descriptor, last_heartbeat_at)"
	"  SELECT $1, r->>'factory_id',"
	"         ARRAY(SELECT jsonb_array_elements_text(coalesce(r->'capabilities', '[]'::jsonb))),"
	"         coalesce(r->>'health', 'ok'), coalesce((r->>'load')::float8, 0),"
	"         (r->>'seat_limit')::int, coalesce(r->'descriptor', '{}'::jsonb), now()"
	"    FROM (SELECT $3::jsonb AS r) s"
	"  ON CONFLICT (tenant_id, factory_id) DO UPDATE SET"
	"     capabilities = excluded.capabilities, health = excluded.health, load = excluded.load,"
	"     seat_limit = coalesce(excluded.seat_limit, f.seat_limit),"
	"     descriptor = excluded.descriptor,"
	"     last_heartbeat_at = now()"
	"  RETURNING f.*"
	") SELECT " FACTORY_JSON " FROM f");

enum cd_err db_factories_heartbeat(struct db *db, int64_t tenant, const char *request, char **out,
				   struct cd_error *e)
{
	char t[24];
	const char *p[3] = {t, "0", request};

	snprintf(t, sizeof(t), "%" PRId64, tenant);
	return db_exec_text(db, &SQL_HEARTBEAT, 3, p, out, e);
}

static struct db_stmt SQL_LIST = DB_STMT(
	"SELECT coalesce(json_agg(" FACTORY_JSON " ORDER BY f.factory_id), '[]'::json)"
	"  FROM factories f WHERE f.tenant_id = $1");

enum cd_err db_factories_list(struct db *db, int64_t tenant, long stale_s, char **out,
			      struct cd_error *e)
{
	char t[24], s[24];
	const char *p[2] = {t, s};

	snprintf(t, sizeof(t), "%" PRId64, tenant);
	snprintf(s, sizeof(s), "%ld", stale_s);
	return db_exec_text(db, &SQL_LIST, 2, p, out, e);
}
