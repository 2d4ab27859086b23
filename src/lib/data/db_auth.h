/* db_auth.h -- tenants and API tokens in PostgreSQL.
 *
 * Tokens are found by their SHA-256 (hex); the plain token never reaches this
 * layer. Thread-safety: one struct db per thread.
 */
#ifndef CD_DB_AUTH_H
#define CD_DB_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "base/err.h"
#include "data/db.h"

/* A live token as the database knows it. */
struct db_token {
	int64_t id;
	int64_t tenant_id;	/* 0: every tenant (admin) */
	char tenant[64];	/* "" when tenant_id is 0 */
	char role[16];
	char name[129];
	char hash[65];
};

/* Looks up a live (not revoked, not expired) token by hash.
 * out: filled on CD_OK. CD_NOT_FOUND when there is none. */
enum cd_err db_auth_lookup(struct db *db, const char *hash_hex, struct db_token *out,
			   struct cd_error *e);

/* Arms db's guard (db_guard_arm) with the check that the token of this hash
 * is still live (not revoked, not expired): it travels with the next
 * statement, which then fails with CD_UNAUTHORIZED instead of running when
 * the token is not; db_guard_end (db.h) tells the outcome. No round trip. */
void db_auth_guard(struct db *db, const char *hash_hex);

/* out: whether at least one live token exists (the fail-closed check). */
enum cd_err db_auth_any_live(struct db *db, bool *out, struct cd_error *e);

/* Stores a token. tenant: a tenant name, or NULL for every tenant (admin).
 * expires_in_s: 0 for never. CD_NOT_FOUND (code tenant_not_found) for an
 * unknown tenant; CD_CONFLICT when a live token already has this name. */
enum cd_err db_auth_create(struct db *db, const char *tenant, const char *role,
			   const char *name, const char *hash_hex, int64_t expires_in_s,
			   struct cd_error *e);

/* Revokes the live token called name; CD_NOT_FOUND when there is none. */
enum cd_err db_auth_revoke(struct db *db, const char *name, struct cd_error *e);

/* out: a new array of {name, tenant, role, created_at, expires_at, revoked_at};
 * the caller frees it with json_object_put(). Never holds a hash. */
enum cd_err db_auth_list(struct db *db, struct json_object **out, struct cd_error *e);

/* Creates tenant name; CD_CONFLICT when it exists, CD_INVALID when the name is
 * not 1-63 of [a-z0-9_-] starting with a letter or digit. */
enum cd_err db_tenants_create(struct db *db, const char *name, struct cd_error *e);

/* out: a new array of {name, created_at}. */
enum cd_err db_tenants_list(struct db *db, struct json_object **out, struct cd_error *e);

/* out: the id of tenant name; CD_NOT_FOUND (tenant_not_found) when absent. */
enum cd_err db_tenants_find(struct db *db, const char *name, int64_t *out, struct cd_error *e);

#endif
