/* db_factories.h -- workers ("factories") and their heartbeats. */
#ifndef CD_DB_FACTORIES_H
#define CD_DB_FACTORIES_H

#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

/* Upserts the worker from a validated heartbeat (JSON text); sets
 * last_heartbeat_at. out: the worker as JSON (new string). */
enum cd_err db_factories_heartbeat(struct db *db, int64_t tenant, const char *request, char **out,
				   struct cd_error *e);

/* out: JSON array of the tenant's workers, each with `stale` when silent
 * longer than stale_s. */
enum cd_err db_factories_list(struct db *db, int64_t tenant, long stale_s, char **out,
			      struct cd_error *e);

#endif
