/* db_profiles.h -- the SQL of profiles: immutable named, versioned specs
 * (sql/014_profiles.sql: a trigger refuses every UPDATE and DELETE, and
 * profile_put() makes versions). Every statement filters by tenant.
 * Thread-safety: one struct db per thread.
 */
#ifndef CD_DB_PROFILES_H
#define CD_DB_PROFILES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

/* Stores spec (a JSON object as text) as the next version of name, unless it
 * equals the latest version. out: new JSON text {name, version, created,
 * spec, created_at} the caller frees; *created: whether a version was made. */
enum cd_err db_profiles_put(struct db *db, int64_t tenant, const char *name, const char *spec,
                            char **out, bool *created, struct cd_error *e);

/* out: new JSON text {items: [{name, latest, created_at, updated_at}]}, by name. */
enum cd_err db_profiles_list(struct db *db, int64_t tenant, char **out, struct cd_error *e);

/* out: new JSON text {name, latest: {version, spec, created_at}, versions:
 * [{version, created_at}] (newest first)}. CD_NOT_FOUND (profile_not_found)
 * when the name has no version. */
enum cd_err db_profiles_get(struct db *db, int64_t tenant, const char *name, char **out,
                            struct cd_error *e);

/* out: new JSON text {name, version, spec, created_at}. CD_NOT_FOUND
 * (profile_not_found) when that version does not exist. */
enum cd_err db_profiles_version(struct db *db, int64_t tenant, const char *name, int version,
                                char **out, struct cd_error *e);

/* out: the exact version ("name@v") ref names ("name" = the latest), a new
 * string; CD_INVALID naming field when nothing matches. */
enum cd_err db_profiles_resolve(struct db *db, int64_t tenant, const char *ref,
                                const char *field, char **out, struct cd_error *e);

#endif
