/* profiles.h -- the rules of profiles (DESIGN section 4): what a profile's
 * name and spec may be, and what a job's `profile` reference names. Pure:
 * no I/O, unit-tested without a server. The versions themselves are made by
 * one SQL function (profile_put, sql/014_profiles.sql): the same spec as the
 * latest version gives that version back; anything else a new one.
 */
#ifndef CD_PROFILES_H
#define CD_PROFILES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define PROFILE_NAME_MAX 64          /* bytes of a name */
#define PROFILE_SPEC_MAX (64 * 1024) /* bytes of a spec as JSON text */
#define PROFILE_VERSION_MAX 999999999

/* Is name 1..PROFILE_NAME_MAX of [A-Za-z0-9._-], starting with a letter or a
 * digit? CD_INVALID naming field otherwise. */
enum cd_err profiles_check_name(const char *name, const char *field, struct cd_error *e);

/* Splits a job's reference "name" or "name@v" into name (cap bytes) and
 * *version (0: the latest). CD_INVALID naming field when it is neither. */
enum cd_err profiles_parse_ref(const char *ref, const char *field, char *name, size_t cap,
                               int *version, struct cd_error *e);

/* A version from a path segment ("3"): 1..PROFILE_VERSION_MAX, digits only;
 * -1 when it is not one. */
int profiles_parse_version(const char *s);

#endif
