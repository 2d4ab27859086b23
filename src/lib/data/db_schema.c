/* db_schema.c -- the migrations this build expects, and the start-up check.
 *
 * DB_MIGRATIONS lists sql/NNN_name.sql in order; a unit test checks that the
 * list and the sql/ directory agree, so adding a migration without naming it
 * here fails the build's tests. tools/migrate records each applied file in
 * schema_migrations(version, name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "data/db_internal.h"

/* THE list: one row per file of sql/, in order. */
static const char *const DB_MIGRATIONS[] = {
	"001_foundation",
	"002_fleet",
	"003_control",
	"004_reaper",
	"005_perf",
	"006_lean",
	"007_domains",
	"008_timers",
	"009_runtimes",
	"010_metrics",
	"011_ui_sessions",
	"012_lean_lifecycle",
	"013_token_guard",
	"014_profiles",
	"015_job_filters",
	"016_actor",
	"017_run_engine",
};

#define NMIGRATIONS (sizeof(DB_MIGRATIONS) / sizeof(DB_MIGRATIONS[0]))

const char *const *db_schema_migrations(size_t *n)
{
	*n = NMIGRATIONS;
	return DB_MIGRATIONS;
}

const char *db_schema_expected(void)
{
	return DB_MIGRATIONS[NMIGRATIONS - 1];
}

static struct db_stmt SQL_APPLIED = DB_STMT(
	"SELECT version, name FROM schema_migrations ORDER BY version");

enum cd_err db_check_schema(struct db *db, struct cd_error *e)
{
	PGresult *res = NULL;
	enum cd_err rc;
	size_t i;
	int rows;

	rc = db_exec(db, &SQL_APPLIED, 0, NULL, &res, e);
	if (rc != CD_OK) {
		if (e != NULL && strcmp(e->sqlstate, "42P01") == 0)
			rc = cd_fail(e, CD_SCHEMA, "schema_migrations",
				     "The database has no schema yet: run tools/migrate "
				     "(migration %s is missing).", DB_MIGRATIONS[0]);
		goto out;
	}
	rows = PQntuples(res);
	for (i = 0; i < NMIGRATIONS; i++) {
		int want = atoi(DB_MIGRATIONS[i]);
		bool found = false;

		for (int r = 0; r < rows && !found; r++)
			found = atoi(PQgetvalue(res, r, 0)) == want;
		if (!found) {
			rc = cd_fail(e, CD_SCHEMA, "schema_migrations",
				     "Migration %s is missing: run tools/migrate.", DB_MIGRATIONS[i]);
			goto out;
		}
	}
	if ((size_t)rows > NMIGRATIONS)
		log_warn("the database has migrations newer than this build", "expected",
			 DB_MIGRATIONS[NMIGRATIONS - 1], "newest", PQgetvalue(res, rows - 1, 1));
	rc = CD_OK;
out:
	PQclear(res);
	return rc;
}
