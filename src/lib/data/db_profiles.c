/* db_profiles.c -- the SQL of profiles. See db_profiles.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "data/db_internal.h"
#include "data/db_profiles.h"

static enum cd_err profile_not_found(struct cd_error *e, const char *name, int version)
{
	if (version > 0)
		cd_fail(e, CD_NOT_FOUND, "version", "Profile %s has no version %d in this tenant.",
		        name, version);
	else
		cd_fail(e, CD_NOT_FOUND, "name", "No profile %s exists in this tenant.", name);
	return cd_fail_code(e, "profile_not_found");
}

#define PROFILE_VERSION_JSON(p)                                                                    \
	"json_build_object('name', " p ".name, 'version', " p ".version, 'spec', " p ".body,"      \
	" 'created_at', rfc3339(" p ".created_at))"

static struct db_stmt SQL_PUT = DB_STMT(
	"SELECT json_build_object('name', $2::text, 'version', r.version, 'created', r.created,"
	"                         'spec', r.spec, 'created_at', rfc3339(r.created_at)),"
	"       r.created"
	"  FROM profile_put($1, $2, $3::jsonb) r");

enum cd_err db_profiles_put(struct db *db, int64_t tenant, const char *name, const char *spec,
                            char **out, bool *created, struct cd_error *e)
{
	char t[24];
	const char *p[3] = {t, name, spec};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	rc = db_exec(db, &SQL_PUT, 3, p, &res, e);
	if (rc == CD_OK) {
		*out = xstrdup(PQgetvalue(res, 0, 0));
		*created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_LIST = DB_STMT(
	"SELECT json_build_object('items', coalesce(json_agg(json_build_object("
	"         'name', name, 'latest', latest, 'created_at', rfc3339(first_at),"
	"         'updated_at', rfc3339(last_at)) ORDER BY name), '[]'::json))"
	"  FROM (SELECT name, max(version) AS latest, min(created_at) AS first_at,"
	"               max(created_at) AS last_at"
	"          FROM profiles WHERE tenant_id = $1 GROUP BY name) s");

enum cd_err db_profiles_list(struct db *db, int64_t tenant, char **out, struct cd_error *e)
{
	char t[24];
	const char *p[1] = {t};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_text(db, &SQL_LIST, 1, p, out, e);
}

static struct db_stmt SQL_GET = DB_STMT(
	"SELECT json_build_object('name', $2::text,"
	"         'latest', (SELECT json_build_object('version', l.version, 'spec', l.body,"
	"                                             'created_at', rfc3339(l.created_at))"
	"                      FROM profiles l WHERE l.tenant_id = $1 AND l.name = $2"
	"                     ORDER BY l.version DESC LIMIT 1),"
	"         'versions', json_agg(json_build_object('version', p.version,"
	"                                               'created_at', rfc3339(p.created_at))"
	"                              ORDER BY p.version DESC))"
	"  FROM profiles p WHERE p.tenant_id = $1 AND p.name = $2"
	" HAVING count(*) > 0");

enum cd_err db_profiles_get(struct db *db, int64_t tenant, const char *name, char **out,
                            struct cd_error *e)
{
	char t[24];
	const char *p[2] = {t, name};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	rc = db_exec(db, &SQL_GET, 2, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 0)
		rc = profile_not_found(e, name, 0);
	else if (rc == CD_OK)
		*out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_VERSION = DB_STMT(
	"SELECT " PROFILE_VERSION_JSON("p")
	"  FROM profiles p WHERE p.tenant_id = $1 AND p.name = $2 AND p.version = $3");

enum cd_err db_profiles_version(struct db *db, int64_t tenant, const char *name, int version,
                                char **out, struct cd_error *e)
{
	char t[24], v[16];
	const char *p[3] = {t, name, v};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	snprintf(v, sizeof(v), "%d", version);
	rc = db_exec(db, &SQL_VERSION, 3, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 0)
		rc = profile_not_found(e, name, version);
	else if (rc == CD_OK)
		*out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_RESOLVE = DB_STMT("SELECT profile_resolve($1, $2)");

enum cd_err db_profiles_resolve(struct db *db, int64_t tenant, const char *ref,
                                const char *field, char **out, struct cd_error *e)
{
	char t[24];
	const char *p[2] = {t, ref};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	rc = db_exec(db, &SQL_RESOLVE, 2, p, &res, e);
	if (rc == CD_OK && PQgetisnull(res, 0, 0))
		rc = cd_fail(e, CD_INVALID, field,
		             "%s names no profile of this tenant (\"%s\"; create it with POST "
		             "/v1/profiles).",
		             field, ref);
	else if (rc == CD_OK)
		*out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}
