/* stages.h -- the rules of a job's life: stages, the transition table of
 * fenced PATCHes, priorities. Pure: no I/O, unit-tested without a server.
 *
 * Forward along assigned -> building -> review -> testing -> shipped, skipping
 * allowed, never backward; any active stage -> failed. What "failed" becomes
 * (queued after backoff, dead_letter, or failed itself) depends on the row's
 * attempts and retry policy and is decided in the same UPDATE that applies it
 * (data/db_jobs.c), so it cannot race with another writer.
 */
#ifndef CD_STAGES_H
#define CD_STAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

enum stage {
	STAGE_QUEUED = 0,
	STAGE_BLOCKED,
	STAGE_ASSIGNED,
	STAGE_BUILDING,
	STAGE_REVIEW,
	STAGE_TESTING,
	STAGE_SHIPPED,
	STAGE_FAILED,
	STAGE_DEAD_LETTER,
	STAGE_CANCELLED,
	STAGE_COUNT
};

const char *stages_name(enum stage s);
/* -1 when s names no stage. */
int stages_parse(const char *s);
/* assigned, building, review, testing: a worker holds the job. */
bool stages_active(enum stage s);
/* shipped, failed, dead_letter, cancelled: nothing moves it again. */
bool stages_final(enum stage s);

/* May a lease holder move a job from `from` to `to`? Staying in the same
 * active stage is allowed (a checkpoint-only PATCH). */
bool stages_allowed(enum stage from, enum stage to);

/* The stages from which a PATCH may reach `to`. out: up to STAGE_COUNT
 * stages; returns how many (0 when `to` is never a PATCH target). */
int stages_sources(enum stage to, enum stage out[STAGE_COUNT]);

/* Checks that `to` may be asked for in a PATCH at all (field "stage"). */
enum cd_err stages_check_target(const char *to, enum stage *out, struct cd_error *e);

/* THE rule of a met dependency (dep_met() of sql/012_lean_lifecycle.sql
 * in SQL): a dep in stage `dep` lets its dependent run when it is shipped,
 * or testing for a dependent whose deps_mode is soft. */
bool stages_dep_met(enum stage dep, bool soft);

/* Priorities: critical 0 < high 1 < medium 2 < low 3 (claimed in that order). */
int stages_priority_parse(const char *s);
const char *stages_priority_name(int p);

#endif
