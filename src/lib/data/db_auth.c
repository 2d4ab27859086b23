/* db_auth.c -- the SQL of tenants and API tokens; see db_auth.h.
 * Times are returned as RFC 3339 UTC strings formatted by PostgreSQL. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/db_auth.h"
#include "data/db_internal.h"

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void copy_field(char *dst, size_t cap, PGresult *res, int row, int col)
{
	snprintf(dst, cap, "%s", PQgetvalue(res, row, col));
}

static struct db_stmt SQL_TOKEN_BY_HASH = DB_STMT(
	"SELECT t.id, coalesce(t.tenant_id, 0), coalesce(n.name, ''), t.role, t.name, t.token_hash"
	"  FROM api_tokens t LEFT JOIN tenants n ON n.id = t.tenant_id"
	" WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
	"   AND (t.expires_at IS NULL OR t.expires_at > now())");

enum cd_err db_auth_token_query(struct db *db, struct db_stmt *st, const char *hash_hex,
				struct db_token *out, struct cd_error *e)
{
	const char *params[1] = {hash_hex};
	PGresult *res = NULL;
	enum cd_err rc;

	rc = db_exec(db, st, 1, params, &res, e);
	if (rc != CD_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = cd_fail(e, CD_NOT_FOUND, NULL, "no such token");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	out->tenant_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	copy_field(out->tenant, sizeof(out->tenant), res, 0, 2);
	copy_field(out->role, sizeof(out->role), res, 0, 3);
	copy_field(out->name, sizeof(out->name), res, 0, 4);
	copy_field(out->hash, sizeof(out->hash), res, 0, 5);
	rc = CD_OK;
out:
	PQclear(res);
	return rc;
}

enum cd_err db_auth_lookup(struct db *db, const char *hash_hex, struct db_token *out,
			   struct cd_error *e)
{
	return db_auth_token_query(db, &SQL_TOKEN_BY_HASH, hash_hex, out, e);
}

/* Raises 28000 when the token is no longer live (sql/013_token_guard.sql). */
static struct db_stmt SQL_TOKEN_GUARD = DB_STMT("SELECT token_guard($1)");

void db_auth_guard(struct db *db, const char *hash_hex)
{
	db_guard_arm(db, &SQL_TOKEN_GUARD, hash_hex);
}

static struct db_stmt SQL_ANY_LIVE = DB_STMT(
	"SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL"
	"                  AND (expires_at IS NULL OR expires_at > now()))");

enum cd_err db_auth_any_live(struct db *db, bool *out, struct cd_error *e)
{
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_ANY_LIVE, 0, NULL, &res, e);

	if (rc == CD_OK)
		*out = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_TOKEN_CREATE = DB_STMT(
	"INSERT INTO api_tokens (tenant_id, role, name, token_hash, expires_at)"
	" SELECT n.id, $2, $3, $4,"
	"        CASE WHEN $5::bigint > 0 THEN now() + make_interval(secs => $5::bigint) END"
	"   FROM (SELECT NULL::bigint AS id WHERE $1::text IS NULL"
	"         UNION ALL SELECT id FROM tenants WHERE name = $1::text) n");

enum cd_err db_auth_create(struct db *db, const char *tenant, const char *role,
			   const char *name, const char *hash_hex, int64_t expires_in_s,
			   struct cd_error *e)
{
	char expires[24];
	const char *params[5] = {tenant, role, name, hash_hex, expires};
	PGresult *res = NULL;
	enum cd_err rc;

	snprintf(expires, sizeof(expires), "%" PRId64, expires_in_s);
	rc = db_exec(db, &SQL_TOKEN_CREATE, 5, params, &res, e);
	if (rc == CD_CONFLICT) {
		rc = cd_fail(e, CD_CONFLICT, "name", "A live token is already called %s; revoke it or pick another name.", name);
		goto out;
	}
	if (rc != CD_OK)
		goto out;
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		rc = cd_fail(e, CD_NOT_FOUND, "tenant", "No tenant is called %s; create it first.", tenant);
		cd_fail_code(e, "tenant_not_found");
		goto out;
	}
	rc = CD_OK;
out:
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_TOKEN_REVOKE = DB_STMT(
	"UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL");

enum cd_err db_auth_revoke(struct db *db, const char *name, struct cd_error *e)
{
	const char *params[1] = {name};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_TOKEN_REVOKE, 1, params, &res, e);

	if (rc == CD_OK && strcmp(PQcmdTuples(res), "0") == 0) {
		rc = cd_fail(e, CD_NOT_FOUND, "name", "No live token is called %s.", name);
		cd_fail_code(e, "token_not_found");
	}
	PQclear(res);
	return rc;
}

static struct json_object *text_or_null(PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return json_object_new_string(PQgetvalue(res, row, col));
}

static struct db_stmt SQL_TOKEN_LIST = DB_STMT(
	"SELECT t.name, coalesce(n.name, '*'), t.role, " RFC3339("t.created_at") ","
	"       " RFC3339("t.expires_at") ", " RFC3339("t.revoked_at")
	"  FROM api_tokens t LEFT JOIN tenants n ON n.id = t.tenant_id"
	" ORDER BY t.id");

enum cd_err db_auth_list(struct db *db, struct json_object **out, struct cd_error *e)
{
	static const char *const cols[] = {"name", "tenant", "role", "created_at", "expires_at",
					   "revoked_at"};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_TOKEN_LIST, 0, NULL, &res, e);

	*out = NULL;
	if (rc != CD_OK)
		goto out;
	*out = json_object_new_array();
	for (int r = 0; r < PQntuples(res); r++) {
		struct json_object *row = json_object_new_object();

		for (int c = 0; c < 6; c++)
			json_object_object_add(row, cols[c], text_or_null(res, r, c));
		json_object_array_add(*out, row);
	}
out:
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_TENANT_CREATE = DB_STMT("INSERT INTO tenants (name) VALUES ($1)");

enum cd_err db_tenants_create(struct db *db, const char *name, struct cd_error *e)
{
	const char *params[1] = {name};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_TENANT_CREATE, 1, params, &res, e);

	if (rc == CD_CONFLICT)
		cd_fail(e, CD_CONFLICT, "name", "A tenant called %s exists already.", name);
	else if (rc == CD_INVALID)
		cd_fail(e, CD_INVALID, "name",
			"A tenant name is 1 to 63 of a-z 0-9 _ - and starts with a letter or digit.");
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_TENANT_LIST = DB_STMT(
	"SELECT name, " RFC3339("created_at") " FROM tenants ORDER BY id");

enum cd_err db_tenants_list(struct db *db, struct json_object **out, struct cd_error *e)
{
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_TENANT_LIST, 0, NULL, &res, e);

	*out = NULL;
	if (rc == CD_OK) {
		*out = json_object_new_array();
		for (int r = 0; r < PQntuples(res); r++) {
			struct json_object *row = json_object_new_object();

			json_object_object_add(row, "name", text_or_null(res, r, 0));
			json_object_object_add(row, "created_at", text_or_null(res, r, 1));
			json_object_array_add(*out, row);
		}
	}
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_TENANT_FIND = DB_STMT("SELECT id FROM tenants WHERE name = $1");

enum cd_err db_tenants_find(struct db *db, const char *name, int64_t *out, struct cd_error *e)
{
	const char *params[1] = {name};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_TENANT_FIND, 1, params, &res, e);

	if (rc == CD_OK && PQntuples(res) == 0) {
		rc = cd_fail(e, CD_NOT_FOUND, "tenant", "No tenant is called %s.", name);
		cd_fail_code(e, "tenant_not_found");
	} else if (rc == CD_OK) {
		*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	return rc;
}
