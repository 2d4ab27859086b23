/* stages.c -- stage names, THE transition table, priorities; see stages.h. */
#include <string.h>

#include "domain/stages.h"

static const char *const STAGE_NAMES[STAGE_COUNT] = {
	[STAGE_QUEUED] = "queued",	 [STAGE_BLOCKED] = "blocked",
	[STAGE_ASSIGNED] = "assigned",	 [STAGE_BUILDING] = "building",
	[STAGE_REVIEW] = "review",	 [STAGE_TESTING] = "testing",
	[STAGE_SHIPPED] = "shipped",	 [STAGE_FAILED] = "failed",
	[STAGE_DEAD_LETTER] = "dead_letter", [STAGE_CANCELLED] = "cancelled",
};

#define A STAGE_ASSIGNED
#define B STAGE_BUILDING
#define R STAGE_REVIEW
#define T STAGE_TESTING
#define S STAGE_SHIPPED
#define F STAGE_FAILED

/* THE table: ALLOWED[from][to] for a worker holding the lease. Rows not
 * listed (queued, blocked, final stages) allow nothing: no lease is held there. */
static const bool ALLOWED[STAGE_COUNT][STAGE_COUNT] = {
	/*            assigned building review testing shipped failed */
	[A] = {[A] = true, [B] = true, [R] = true, [T] = true, [S] = true, [F] = true},
	[B] = {[B] = true, [R] = true, [T] = true, [S] = true, [F] = true},
	[R] = {[R] = true, [T] = true, [S] = true, [F] = true},
	[T] = {[T] = true, [S] = true, [F] = true},
};

#undef A
#undef B
#undef R
#undef T
#undef S
#undef F

const char *stages_name(enum stage s)
{
	return (unsigned)s < STAGE_COUNT ? STAGE_NAMES[s] : "unknown";
}

int stages_parse(const char *s)
{
	for (int i = 0; i < STAGE_COUNT; i++)
		if (strcmp(s, STAGE_NAMES[i]) == 0)
			return i;
	return -1;
}

bool stages_active(enum stage s)
{
	return s == STAGE_ASSIGNED || s == STAGE_BUILDING || s == STAGE_REVIEW ||
	       s == STAGE_TESTING;
}

bool stages_final(enum stage s)
{
	return s == STAGE_SHIPPED || s == STAGE_FAILED || s == STAGE_DEAD_LETTER ||
	       s == STAGE_CANCELLED;
}

bool stages_allowed(enum stage from, enum stage to)
{
	if ((unsigned)from >= STAGE_COUNT || (unsigned)to >= STAGE_COUNT)
		return false;
	return ALLOWED[from][to];
}

int stages_sources(enum stage to, enum stage out[STAGE_COUNT])
{
	int n = 0;

	for (int from = 0; from < STAGE_COUNT; from++)
		if (stages_allowed((enum stage)from, to))
			out[n++] = (enum stage)from;
	return n;
}

enum cd_err stages_check_target(const char *to, enum stage *out, struct cd_error *e)
{
	enum stage from[STAGE_COUNT];
	int s = stages_parse(to);

	if (s < 0)
		return cd_fail(e, CD_INVALID, "stage",
			       "stage must be one of assigned, building, review, testing, shipped, "
			       "failed.");
	if (stages_sources((enum stage)s, from) == 0)
		return cd_fail(e, CD_INVALID_TRANSITION, "stage",
			       "A worker cannot move a job to %s; use cancel or release instead.", to);
	*out = (enum stage)s;
	return CD_OK;
}

bool stages_dep_met(enum stage dep, bool soft)
{
	return dep == STAGE_SHIPPED || (soft && dep == STAGE_TESTING);
}

static const char *const PRIORITY_NAMES[] = {"critical", "high", "medium", "low"};

int stages_priority_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, PRIORITY_NAMES[i]) == 0)
			return i;
	return -1;
}

const char *stages_priority_name(int p)
{
	return p >= 0 && p < 4 ? PRIORITY_NAMES[p] : "medium";
}
