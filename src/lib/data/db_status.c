/* db_status.c -- the SQL of GET /v1/status's own sections. See db_status.h. */
#include "data/db_internal.h"
#include "data/db_status.h"

static struct db_stmt SQL_JOBS = DB_STMT(
	"SELECT json_build_object('total', coalesce(sum(n), 0),"
	"         'by_stage', coalesce(json_object_agg(stage, n ORDER BY stage)"
	"                                FILTER (WHERE stage IS NOT NULL), '{}'::json))"
	"  FROM (SELECT stage, count(*) AS n FROM jobs WHERE tenant_id = $1 GROUP BY stage) s");

enum cd_err db_status_jobs(struct db *db, int64_t tenant, char **out, struct cd_error *e)
{
	char t[24];
	const char *p[1] = {t};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_text(db, &SQL_JOBS, 1, p, out, e);
}
