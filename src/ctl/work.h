/* work.h -- what the two files of `conductorctl work` share: the agent's
 * state (struct agent, one struct slot per seat), its limits, and the jobs'
 * side of the agent (work_jobs.c: the API calls, starting, renewing,
 * reaping and reporting jobs) that the loop (work.c) drives.
 *
 * Not thread-safe: everything here belongs to the loop's thread; the claim
 * thread (work.c) touches only agent->api and agent->cc while a claim is out.
 */
#ifndef CD_CTL_WORK_H
#define CD_CTL_WORK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "base/err.h"
#include "ctl/client.h"
#include "ctl/work_proc.h"

#define CLAIM_WAIT_MS   2000  /* the longest long-poll (see work.c) */
#define HEARTBEAT_MS    15000 /* well inside the server's factory_stale_s (60 s) */
#define COALESCE_MS     20    /* the report waits until no command ended for this long */
#define COALESCE_MAX_MS 200   /* ... but no longer than this after the first one ended */
#define BACKOFF_MIN_MS  500   /* the API unreachable: first wait, doubled each time */
#define BACKOFF_MAX_MS  30000
#define CALL_TIMEOUT_MS 10000       /* one call's budget (a claim: its wait on top) */
#define FINAL_MS        10000       /* after the grace: how long to keep trying to report */
#define PROGRESS_MS     250         /* the progress line's refresh */
#define RATE_WINDOW_S   10          /* its jobs/s: over the last this many seconds */
#define REPORT_MAX      100         /* jobs:transition's items */
#define RESULT_MAX      (64 * 1024) /* the API's result and checkpoint objects */
#define SEATS_MAX       100         /* the claim's max_jobs */
#define CAPS_MAX        64
#define ID_MAX          24

enum slot_state {
	SLOT_FREE,
	SLOT_RUNNING, /* the command runs */
	SLOT_DONE,    /* it exited; the report is pending */
	SLOT_RELEASE, /* killed at the end of the grace; the release is pending */
};

/* One seat. */
struct slot {
	enum slot_state state;
	char id[ID_MAX];
	long long epoch;
	struct work_proc proc;
	long long started_ms, ended_ms, renew_at_ms;
	bool fenced;                  /* a renewal said 409/404: killed, never reported */
	bool drain_killed;            /* killed at the end of the grace: released, not reported */
	char *checkpoint_sent;        /* the checkpoint last saved (the claim's at first) */
	struct json_object *item;     /* SLOT_DONE: its jobs:transition item */
	struct json_object *fallback; /* the item without what the result file set */
};

struct agent {
	const struct client *api;
	const char *factory_id;
	const char *caps[CAPS_MAX];
	int ncaps, seats, ttl_s, grace_s;
	char **argv; /* COMMAND ARGS..., borrowed */
	char dir[256];
	struct slot *slots;
	int sfd;
	bool draining;
	long long drain_deadline_ms;
	int forced; /* a second signal: exit 128 + it */
	long long heartbeat_at_ms, claim_at_ms;
	long long report_at_ms; /* a report the API refused (not ours to fix): retried then */
	bool api_down;
	long long api_at_ms; /* the API down: no call before */
	long backoff_ms;
	long long done, failed, lost, t0_ms;
	long long rate_sec[RATE_WINDOW_S]; /* jobs finished per second, the last few seconds */
	int rate_n[RATE_WINDOW_S];
	bool tty;
	long long progress_at_ms;
	bool progress_shown;
	long long last_exit_ms; /* when a command last ended */
	/* the claim thread (see work.c) */
	pthread_t claimer;
	bool claimer_started;
	int claim_req[2], claim_ans[2]; /* a byte each way: 'c' claim, 'q' quit / 'a' answered */
	bool claim_out;                 /* a claim is out: cc is the thread's until it answers */
	struct claim_call {
		char *body;   /* the request, JSON text (owned) */
		long wait_ms; /* its wait_ms */
		enum cd_err rc;
		struct cd_error e;
		struct client_answer ans;
	} cc;
};

static inline long long work_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline char *work_lltoa(char *buf, size_t cap, long long v)
{
	snprintf(buf, cap, "%lld", v);
	return buf;
}

/* Clears the progress line before a log line on a terminal. */
static inline void work_progress_clear(struct agent *a)
{
	if (a->tty && a->progress_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		a->progress_shown = false;
	}
}

/* How many seats are in state s. */
static inline int work_busy(const struct agent *a, enum slot_state s)
{
	int n = 0;

	for (int i = 0; i < a->seats; i++)
		n += a->slots[i].state == s;
	return n;
}

/* Counts one finished job in the progress line's rate. */
static inline void work_rate_add(struct agent *a, long long now)
{
	long long sec = now / 1000;
	int i = (int)(sec % RATE_WINDOW_S);

	if (a->rate_sec[i] != sec) {
		a->rate_sec[i] = sec;
		a->rate_n[i] = 0;
	}
	a->rate_n[i]++;
}

/* ---- work_jobs.c ------------------------------------------------------------ */

/* Does rc mean the API is not reachable now (no answer, nginx's or our
 * 5xx), rather than a refusal? */
bool work_jobs_unreachable(enum cd_err rc);

/* May a call go now (the API up, or its backoff over)? */
bool work_jobs_api_ready(const struct agent *a, long long now);

/* What a call's rc says about the API: unreachable marks it down and sets
 * the backoff (logged once); the next answer says it is back. Returns rc. */
enum cd_err work_jobs_account(struct agent *a, enum cd_err rc, const struct cd_error *e);

/* The capabilities as a JSON array (new; caller puts). */
struct json_object *work_jobs_caps_array(const struct agent *a);

/* POST /v1/fleet/factories/heartbeat: capabilities, load, seat_limit. */
enum cd_err work_jobs_heartbeat(struct agent *a, struct cd_error *e);

/* Starts the command for job (a claim's item, borrowed) in a free seat; a
 * job it cannot start is given back. */
void work_jobs_start(struct agent *a, struct json_object *job);

/* Renews every lease due (saving a changed checkpoint first); a fenced one
 * (stale_epoch, 404) gets its command's group killed, never a report. */
void work_jobs_renew_due(struct agent *a);

/* Waits for every command that exited: its report built (SLOT_DONE), its
 * release pending (SLOT_RELEASE), or its seat freed (fenced). */
void work_jobs_reap(struct agent *a);

/* Reports the finished jobs in one POST /v1/fleet/jobs:transition when due
 * (all: now). */
void work_jobs_report(struct agent *a, bool all);

/* Releases the leases of the commands killed at the end of the grace. */
void work_jobs_release_killed(struct agent *a);

/* Gives back (release, requeue) a job this agent will not run. */
void work_jobs_give_back(struct agent *a, const char *id, long long epoch);

/* Frees a seat: its command's pipes and files, its report. */
void work_jobs_slot_free(struct slot *s);

#endif
