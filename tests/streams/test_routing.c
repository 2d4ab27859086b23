/* test_routing.c -- per-app result routing (DESIGN 6) against the real Redis
 * and the real stack that tests/http/run-integration started.
 *
 * Covers: results with mixed reply_to each arrive exactly once in their
 * app's stream, the refused ones (none, outside the allow-list, a results
 * stream, a dead-letter stream, a key that is not a stream) in
 * dead:<results stream> with the reason; two routers at once route each
 * entry once; conductor-watcher SIGKILLed mid-stream and run again leaves
 * every result routed exactly once (what its router had read before dying
 * too), and `conductor-watcher --once` routes what is there;
 * another router takes over what a dead router left pending; the reaper's
 * janitor composes with routing; routing_drain (a --once pass) routes what is
 * there and returns; POST /v1/streams/{stream}/entries (source
 * from the token, the allow-list, unknown streams, bad fields, roles).
 *
 * Each test works on streams of its own (res-<tag>, results:<tag>-*), so
 * runs never see each other's entries. Routers run in-process
 * (routing_start_thread) or in conductor-watcher processes. CUnit's assertions
 * are not thread-safe: only the main thread asserts.
 * ROUTING_ONLY=name[,name] runs only those tests.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "../cutest.h"
#include "../http/expect.h"
#include "../http/procs.h"
#include "base/config.h"
#include "data/stream.h"
#include "domain/routing.h"

#define WAIT_S 30 /* a drain that takes longer has failed */

/* ---- Redis, as the apps and workers see it -------------------------------- */

/* Counts each entry of stream in hits[seq] (seq: the entry's field, 0..n-1;
 * anything else in hits[n]); when reason is not NULL, every entry must carry
 * a dead_reason holding it and an original_id. Returns the entries read. */
static long collect(redisContext *c, const char *stream, int *hits, int n, const char *reason)
{
	redisReply *r = rcmd(c, "XRANGE %s - +", stream);
	long count = 0;

	CU_ASSERT_FATAL(r != NULL && r->type == REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *f = r->element[i]->element[1];
		const char *seq = field_in(f, "seq"), *why = field_in(f, "dead_reason");
		int k = seq != NULL ? atoi(seq) : n;

		hits[k >= 0 && k < n ? k : n]++;
		count++;
		if (reason != NULL) {
			CU_ASSERT(why != NULL && strstr(why, reason) != NULL);
			CU_ASSERT_PTR_NOT_NULL(field_in(f, "original_id"));
			if (why == NULL || strstr(why, reason) == NULL)
				fprintf(stderr, "\n  %s: dead_reason '%s', wanted '%s'\n", stream,
				        why ? why : "(none)", reason);
		}
	}
	freeReplyObject(r);
	return count;
}

/* Waits until stream is empty with nothing pending in the routers' group. */
static bool drained(redisContext *c, const char *stream)
{
	for (int i = 0; i < WAIT_S * 20; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		if (xlen(c, stream) == 0 && pending(c, stream, "router") <= 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* The configuration a router of this test runs with: the environment's
 * (CONDUCTOR_REDIS_URL), with the results streams `results`, the default
 * allow-list, and reclaim_s. */
static void config_for(struct config *cfg, const char *results, long reclaim_s)
{
	struct cd_error e;
	char n[24];

	snprintf(n, sizeof(n), "%ld", reclaim_s);
	CU_ASSERT_FATAL(config_load(cfg, NULL, &e) == CD_OK);
	CU_ASSERT_FATAL(config_set(cfg, "results_streams", results, &e) == CD_OK);
	CU_ASSERT_FATAL(config_set(cfg, "routing_reclaim_s", n, &e) == CD_OK);
	CU_ASSERT_STRING_EQUAL(cfg->reply_to_allow, "results:*");
	CU_ASSERT_STRING_EQUAL(cfg->results_group, "router");
}

/* What every test starts with: Redis, and stream names of its own --
 * res-<tag> (the results stream), results:<tag>-a/-b/-c (the apps'). */
struct fixture {
	redisContext *c;
	char tag[32], res[64], dead[80], app[3][80];
};

static void fixture_init(struct fixture *f)
{
	static int n;

	memset(f, 0, sizeof(*f));
	f->c = redis_open();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->c);
	snprintf(f->tag, sizeof(f->tag), "%d-%d", (int)getpid(), ++n);
	snprintf(f->res, sizeof(f->res), "res-%s", f->tag);
	snprintf(f->dead, sizeof(f->dead), "dead:%s", f->res);
	for (int a = 0; a < 3; a++)
		snprintf(f->app[a], sizeof(f->app[a]), "results:%s-%c", f->tag, 'a' + a);
}

/* n results seq from..to-1 for app a, added to the results stream. */
static void add_results(const struct fixture *f, int from, int to, int apps)
{
	for (int i = from; i < to; i++)
		rdo(f->c, "XADD %s * seq %d source app reply_to %s", f->res, i, f->app[i % apps]);
}

/* Every hits[0..n) is 1 (one assertion); names the first that is not. */
#define EXPECT_ONCE(hits, n) expect_once_at((hits), (n), __LINE__)
static void expect_once_at(const int *hits, int n, int line)
{
	for (int i = 0; i < n; i++)
		if (hits[i] != 1) {
			CHECK_AT(false, line, "every result arrives exactly once");
			fprintf(stderr, "\n  seq %d arrived %d times\n", i, hits[i]);
			return;
		}
	CHECK_AT(true, line, "every result arrives exactly once");
}

/* One router thread as consumer until f's results stream is drained. */
static struct routing_counts route_until_drained(const struct fixture *f, long reclaim_s,
                                                 const char *consumer)
{
	struct routing_thread *t = NULL;
	struct routing_counts n = {0};
	struct config cfg;
	struct cd_error e;

	config_for(&cfg, f->res, reclaim_s);
	CU_ASSERT_EQUAL(routing_start_thread(&cfg, consumer, &t, &e), CD_OK);
	CU_ASSERT(drained(f->c, f->res));
	routing_stop_thread(t, &n);
	config_free(&cfg);
	return n;
}

/* ---- processes --------------------------------------------------------------- */

/* conductor-watcher --interval 1 ($CONDUCTOR_WATCHER) with routing on over
 * results: its router thread's consumer is routing_consumer_name(NULL). */
static pid_t watcher_routing(const char *results, const char *log)
{
	static char env_results[200];
	const char *args[] = {"--interval", "1", NULL};
	const char *env[] = {env_results, "CONDUCTOR_RESULT_ROUTING=on",
	                     "CONDUCTOR_ROUTING_RECLAIM_S=3600", NULL};
	const char *bin = getenv("CONDUCTOR_WATCHER");

	CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
	snprintf(env_results, sizeof(env_results), "CONDUCTOR_RESULTS_STREAMS=%s", results);
	return spawn_logged(log, O_TRUNC, bin, args, env);
}

/* ---- the tests ------------------------------------------------------------------ */

/* What entry seq of test_mixed asks for, and where it must end up. */
enum fate { TO_A, TO_B, TO_C, NO_REPLY_TO, NOT_ALLOWED, LOOP, DEAD_STREAM, NOT_A_STREAM, FATES };

static const char *const DEAD_REASON[FATES] = {
    [NO_REPLY_TO] = "no reply_to",     [NOT_ALLOWED] = "matches no pattern",
    [LOOP] = "a results stream",       [DEAD_STREAM] = "a dead-letter stream",
    [NOT_A_STREAM] = "holds a string",
};

static void add_mixed(const struct fixture *f, int from, int to)
{
	for (int i = from; i < to; i++) {
		switch ((enum fate)(i % FATES)) {
		case TO_A:
		case TO_B:
		case TO_C:
			rdo(f->c, "XADD %s * seq %d source app reply_to %s", f->res, i,
			    f->app[i % FATES]);
			break;
		case NO_REPLY_TO: rdo(f->c, "XADD %s * seq %d source app", f->res, i); break;
		case NOT_ALLOWED:
			rdo(f->c, "XADD %s * seq %d reply_to tasks:%s", f->res, i, f->tag);
			break;
		case LOOP: rdo(f->c, "XADD %s * seq %d reply_to %s", f->res, i, f->res); break;
		case DEAD_STREAM:
			rdo(f->c, "XADD %s * seq %d reply_to %s", f->res, i, f->dead);
			break;
		case NOT_A_STREAM:
			rdo(f->c, "XADD %s * seq %d reply_to results:%s-str", f->res, i, f->tag);
			break;
		case FATES: break;
		}
	}
}

static void test_mixed_reply_to_each_once_refused_to_dead(void)
{
	enum { N = 800 };
	struct fixture f;
	int hits[FATES][N + 1], once[N];
	struct routing_thread *t = NULL;
	struct routing_counts n = {0};
	struct config cfg;
	struct cd_error e;
	redisReply *r;

	fixture_init(&f);
	memset(hits, 0, sizeof(hits));
	rdo(f.c, "SET results:%s-str not-a-stream", f.tag);
	config_for(&cfg, f.res, 3600);
	/* half before the router starts (its group reads from the start), half after */
	add_mixed(&f, 0, N / 2);
	CU_ASSERT_EQUAL_FATAL(routing_start_thread(&cfg, "mixed", &t, &e), CD_OK);
	add_mixed(&f, N / 2, N);
	CU_ASSERT(drained(f.c, f.res));
	routing_stop_thread(t, &n);
	config_free(&cfg);

	for (int a = 0; a < 3; a++)
		collect(f.c, f.app[a], hits[a], N, NULL);
	/* each dead entry by its fate, with its reason */
	r = rcmd(f.c, "XRANGE %s - +", f.dead);
	CU_ASSERT_FATAL(r != NULL && r->type == REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *fl = r->element[i]->element[1];
		const char *seq = field_in(fl, "seq"), *why = field_in(fl, "dead_reason");
		int k = seq ? atoi(seq) : N;

		hits[k % FATES][k >= 0 && k < N ? k : N]++;
		CU_ASSERT(why != NULL && strstr(why, DEAD_REASON[k % FATES]) != NULL);
		CU_ASSERT_PTR_NOT_NULL(field_in(fl, "original_id"));
	}
	freeReplyObject(r);
	/* where each seq had to go, it is there exactly once, and nowhere else */
	for (int k = 0; k < N; k++) {
		once[k] = hits[k % FATES][k];
		for (int g = 0; g < FATES; g++)
			if (g != k % FATES && hits[g][k] != 0)
				once[k] = -1;
	}
	EXPECT_ONCE(once, N);
	for (int g = 0; g < FATES; g++)
		CU_ASSERT_EQUAL(hits[g][N], 0);
	CU_ASSERT_EQUAL(xlen(f.c, f.res), 0);
	CU_ASSERT_EQUAL(n.routed, 3 * N / FATES);
	CU_ASSERT_EQUAL(n.dead, 5 * N / FATES);
	CU_ASSERT_EQUAL(n.errors, 0);
	/* the key that is not a stream is left as it was */
	r = rcmd(f.c, "GET results:%s-str", f.tag);
	CU_ASSERT(r != NULL && r->type == REDIS_REPLY_STRING &&
	          strcmp(r->str, "not-a-stream") == 0);
	freeReplyObject(r);
	redisFree(f.c);
}

static void test_two_routers_route_each_once(void)
{
	enum { N = 3000 };
	struct fixture f;
	int hits[N + 1] = {0};
	struct routing_thread *t1 = NULL, *t2 = NULL;
	struct routing_counts n1 = {0}, n2 = {0};
	struct config cfg;
	struct cd_error e;

	fixture_init(&f);
	config_for(&cfg, f.res, 3600);
	CU_ASSERT_EQUAL_FATAL(routing_start_thread(&cfg, "one", &t1, &e), CD_OK);
	CU_ASSERT_EQUAL_FATAL(routing_start_thread(&cfg, "two", &t2, &e), CD_OK);
	sleep_ms(300); /* both blocked in XREADGROUP */
	for (int i = 0; i < N; i += 50) {
		add_results(&f, i, i + 50 < N ? i + 50 : N, 2);
		sleep_ms(5);
	}
	CU_ASSERT(drained(f.c, f.res));
	routing_stop_thread(t1, &n1);
	routing_stop_thread(t2, &n2);
	config_free(&cfg);
	CU_ASSERT_EQUAL(
	    collect(f.c, f.app[0], hits, N, NULL) + collect(f.c, f.app[1], hits, N, NULL), N);
	EXPECT_ONCE(hits, N);
	CU_ASSERT_EQUAL(n1.routed + n2.routed, N);
	CU_ASSERT(n1.routed > 0 && n2.routed > 0); /* both took part */
	CU_ASSERT_EQUAL(n1.dead + n2.dead, 0);
	redisFree(f.c);
}

/* conductor-watcher's router read 50 results and died before moving them;
 * the watcher is run again, SIGKILLed mid-stream while results keep coming,
 * and run once more: every result arrives exactly once. */
static void test_router_killed_mid_stream_and_run_again(void)
{
	enum { EARLY = 50, N = 4000 };
	struct fixture f;
	char consumer[160];
	int hits[N + 1] = {0};
	bool killed_mid = false;
	pid_t pid;

	fixture_init(&f);
	routing_consumer_name(consumer, sizeof(consumer), NULL); /* the watcher's */
	rdo(f.c, "XGROUP CREATE %s router 0 MKSTREAM", f.res);
	add_results(&f, 0, EARLY, 1);
	/* what the dead router had read and not moved */
	freeReplyObject(
	    rcmd(f.c, "XREADGROUP GROUP router %s COUNT %d STREAMS %s >", consumer, EARLY, f.res));
	CU_ASSERT_EQUAL(pending(f.c, f.res, "router"), EARLY);

	pid = watcher_routing(f.res, "killed-1.log");
	for (int i = EARLY; i < N; i += 20) {
		add_results(&f, i, i + 20 < N ? i + 20 : N, 1);
		sleep_ms(1);
		if (i == EARLY + (N / 2 / 20) * 20) {
			/* it has finished what it had and is routing new results (a
			 * slow start on a busy machine is waited for, not failed) */
			for (int w = 0; w < WAIT_S * 100 && xlen(f.c, f.app[0]) <= EARLY; w++)
				sleep_ms(10);
			killed_mid = xlen(f.c, f.app[0]) > EARLY;
			CU_ASSERT_EQUAL(kill(pid, SIGKILL), 0);
			CU_ASSERT_EQUAL(wait_exit(pid), 128 + SIGKILL);
		}
	}
	CU_ASSERT(killed_mid);           /* it was routing when it died */
	CU_ASSERT(xlen(f.c, f.res) > 0); /* and results kept coming */
	pid = watcher_routing(f.res, "killed-2.log");
	CU_ASSERT(drained(f.c, f.res));
	CU_ASSERT_EQUAL(kill(pid, SIGTERM), 0);
	CU_ASSERT_EQUAL(wait_exit(pid), 0);
	CU_ASSERT_EQUAL(collect(f.c, f.app[0], hits, N, NULL), N);
	EXPECT_ONCE(hits, N);
	CU_ASSERT_EQUAL(xlen(f.c, f.res), 0);
	redisFree(f.c);
}

/* The router's Redis connections are killed again and again while results
 * keep coming: it reconnects, finishes what it had read, and every result
 * still arrives exactly once. */
static void test_router_survives_lost_connections(void)
{
	enum { N = 2000 };
	struct fixture f;
	int hits[N + 1] = {0};
	struct routing_thread *t = NULL;
	struct routing_counts n = {0};
	struct config cfg;
	struct cd_error e;

	fixture_init(&f);
	config_for(&cfg, f.res, 3600);
	CU_ASSERT_EQUAL_FATAL(routing_start_thread(&cfg, "cut", &t, &e), CD_OK);
	for (int i = 0; i < N; i += 100) {
		add_results(&f, i, i + 100, 2);
		if (i % 400 == 0)
			rdo(f.c, "CLIENT KILL TYPE normal SKIPME yes");
		sleep_ms(20);
	}
	CU_ASSERT(drained(f.c, f.res));
	routing_stop_thread(t, &n);
	config_free(&cfg);
	CU_ASSERT_EQUAL(
	    collect(f.c, f.app[0], hits, N, NULL) + collect(f.c, f.app[1], hits, N, NULL), N);
	EXPECT_ONCE(hits, N);
	/* an EXEC whose answer was cut off moved its batch uncounted: Redis,
	 * not the count, is what must be exact */
	CU_ASSERT(n.routed <= N);
	CU_ASSERT(n.errors >= 1); /* it did lose its connection */
	redisFree(f.c);
}

/* The reads and adds that must not run twice are sent once: on a connection
 * Redis closed, XREADGROUP > and XADD fail (the caller then reads its own
 * pending entries again; an app retries knowingly) instead of being sent
 * again on a new connection -- where a second XREADGROUP would skip the
 * entries a lost answer had delivered, leaving them pending unseen, and a
 * second XADD would add a copy. An idempotent command still reconnects.
 * Fails when stream_read_group or stream_add go through the retrying
 * command() (the race it guards, an answer lost after Redis ran the command,
 * made router_survives_lost_connections lose a result now and then). */
static void test_unsafe_commands_not_sent_again(void)
{
	struct fixture f;
	struct stream_conn *rs = NULL;
	struct stream_entry *v = NULL;
	const char *streams[1], *news[] = {">"};
	const char *fields[] = {"seq", "1", NULL};
	char id[64];
	size_t n = 0;
	bool nogroup = false;
	struct cd_error e;

	/* as every conductor binary does (a write to a closed socket) */
	signal(SIGPIPE, SIG_IGN);
	fixture_init(&f);
	streams[0] = f.res;
	cd_error_reset(&e);
	CU_ASSERT_EQUAL_FATAL(stream_open(getenv("CONDUCTOR_REDIS_URL"), 5000, &rs, &e), CD_OK);
	CU_ASSERT_EQUAL(stream_group_ensure(rs, f.res, "router", &e), CD_OK);
	add_results(&f, 0, 1, 1);
	/* XREADGROUP > on a connection Redis closed: an error, not a read */
	rdo(f.c, "CLIENT KILL TYPE normal SKIPME yes");
	CU_ASSERT_EQUAL(stream_read_group(rs, "router", "once", streams, news, 1, 10, 0, &v, &n,
	                                  &nogroup, &e),
	                CD_UNAVAILABLE);
	stream_entries_free(v, n);
	v = NULL;
	n = 0;
	/* the next call connects again and reads the entry */
	CU_ASSERT_EQUAL(stream_read_group(rs, "router", "once", streams, news, 1, 10, 0, &v, &n,
	                                  &nogroup, &e),
	                CD_OK);
	CU_ASSERT_EQUAL(n, 1);
	stream_entries_free(v, n);
	/* XADD likewise: one entry in the stream, not two */
	rdo(f.c, "CLIENT KILL TYPE normal SKIPME yes");
	CU_ASSERT_EQUAL(stream_add(rs, f.app[0], fields, id, &e), CD_UNAVAILABLE);
	CU_ASSERT_EQUAL(xlen(f.c, f.app[0]), 0);
	CU_ASSERT_EQUAL(stream_add(rs, f.app[0], fields, id, &e), CD_OK);
	CU_ASSERT_EQUAL(xlen(f.c, f.app[0]), 1);
	/* an idempotent command reconnects by itself */
	rdo(f.c, "CLIENT KILL TYPE normal SKIPME yes");
	CU_ASSERT_EQUAL(stream_ping(rs, &e), CD_OK);
	stream_close(rs);
	redisFree(f.c);
}

/* Entries a router that never comes back left pending: another router takes
 * them over once they are idle for routing_reclaim_s. */
static void test_dead_routers_entries_taken_over(void)
{
	enum { N = 30 };
	struct fixture f;
	int hits[N + 1] = {0};
	struct routing_counts n;

	fixture_init(&f);
	rdo(f.c, "XGROUP CREATE %s router 0 MKSTREAM", f.res);
	add_results(&f, 0, N, 1);
	freeReplyObject(rcmd(f.c, "XREADGROUP GROUP router gone COUNT %d STREAMS %s >", N, f.res));
	sleep_ms(1100);
	n = route_until_drained(&f, 1, "alive");
	CU_ASSERT_EQUAL(collect(f.c, f.app[0], hits, N, NULL), N);
	EXPECT_ONCE(hits, N);
	CU_ASSERT_EQUAL(n.reclaimed, N);
	CU_ASSERT_EQUAL(n.routed, N);
	redisFree(f.c);
}

/* The reaper's janitor, sweeping a results stream in the routers' group,
 * requeues what a dead router left pending as fresh copies; the router
 * routes each copy once. */
static void test_janitor_reclaim_composes_with_routing(void)
{
	enum { N = 20 };
	struct fixture f;
	const char *reaper = getenv("CONDUCTOR_REAPER");
	char env_streams[120];
	const char *env[] = {env_streams, "CONDUCTOR_STREAM_GROUP=router",
	                     "CONDUCTOR_RECLAIM_IDLE_S=1", NULL};
	const char *once[] = {"--once", NULL};
	int hits[N + 1] = {0};
	struct routing_counts n;

	fixture_init(&f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reaper);
	snprintf(env_streams, sizeof(env_streams), "CONDUCTOR_STREAMS=%s", f.res);
	rdo(f.c, "XGROUP CREATE %s router 0 MKSTREAM", f.res);
	add_results(&f, 0, N, 1);
	freeReplyObject(rcmd(f.c, "XREADGROUP GROUP router gone COUNT %d STREAMS %s >", N, f.res));
	sleep_ms(1100);
	CU_ASSERT_EQUAL(wait_exit(spawn_logged("janitor.log", O_TRUNC, reaper, once, env)), 0);
	CU_ASSERT_EQUAL(pending(f.c, f.res, "router"), 0); /* requeued as fresh copies */
	CU_ASSERT_EQUAL(xlen(f.c, f.res), N);
	n = route_until_drained(&f, 3600, "after-janitor"); /* no take-over of its own here */
	CU_ASSERT_EQUAL(collect(f.c, f.app[0], hits, N, NULL), N);
	EXPECT_ONCE(hits, N);
	CU_ASSERT_EQUAL(n.routed, N);
	CU_ASSERT_EQUAL(n.reclaimed, 0);
	redisFree(f.c);
}

/* conductor-watcher --once with routing on routes what is there and exits. */
static void test_watcher_once_routes_what_is_there(void)
{
	enum { N = 120 };
	struct fixture f;
	int hits[N + 1] = {0};
	char env_results[120];
	const char *env[] = {env_results, "CONDUCTOR_RESULT_ROUTING=on", NULL};
	const char *once[] = {"--once", NULL};
	const char *bin = getenv("CONDUCTOR_WATCHER");

	fixture_init(&f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
	snprintf(env_results, sizeof(env_results), "CONDUCTOR_RESULTS_STREAMS=%s", f.res);
	add_results(&f, 0, N, 3);
	CU_ASSERT_EQUAL(wait_exit(spawn_logged("watcher-once.log", O_TRUNC, bin, once, env)), 0);
	CU_ASSERT_EQUAL(xlen(f.c, f.res), 0);
	CU_ASSERT_EQUAL(pending(f.c, f.res, "router"), 0);
	for (int a = 0; a < 3; a++)
		collect(f.c, f.app[a], hits, N, NULL);
	EXPECT_ONCE(hits, N);
	redisFree(f.c);
}

/* routing_drain (a --once pass): what its consumer had pending and every
 * new result are routed, then it returns. */
static void test_drain_routes_what_is_there_and_returns(void)
{
	enum { EARLY = 30, N = 450 };
	struct fixture f;
	int hits[N + 1] = {0};
	struct routing_counts n = {0};
	struct config cfg;
	struct cd_error e;

	fixture_init(&f);
	rdo(f.c, "XGROUP CREATE %s router 0 MKSTREAM", f.res);
	add_results(&f, 0, EARLY, 3);
	freeReplyObject(
	    rcmd(f.c, "XREADGROUP GROUP router drainer COUNT %d STREAMS %s >", EARLY, f.res));
	add_results(&f, EARLY, N, 3);
	config_for(&cfg, f.res, 3600);
	CU_ASSERT_EQUAL(routing_drain(&cfg, "drainer", &n, &e), CD_OK);
	config_free(&cfg);
	CU_ASSERT_EQUAL(xlen(f.c, f.res), 0);
	CU_ASSERT_EQUAL(pending(f.c, f.res, "router"), 0);
	for (int a = 0; a < 3; a++)
		collect(f.c, f.app[a], hits, N, NULL);
	EXPECT_ONCE(hits, N);
	CU_ASSERT_EQUAL(n.routed, N);
	redisFree(f.c);
}

/* What conductor-watcher's main calls: nothing while routing is off (the
 * default), a router named after the host when it is on. */
static void test_start_if_on(void)
{
	enum { N = 10 };
	struct fixture f;
	int hits[N + 1] = {0};
	struct routing_thread *t;
	struct routing_counts n = {0};
	struct config cfg;
	struct cd_error e;

	fixture_init(&f);
	config_for(&cfg, f.res, 3600);
	CU_ASSERT_EQUAL(cfg.result_routing, 0);
	CU_ASSERT_PTR_NULL(routing_start_if_on(&cfg));
	CU_ASSERT_EQUAL(config_set(&cfg, "result_routing", "on", &e), CD_OK);
	t = routing_start_if_on(&cfg);
	CU_ASSERT_PTR_NOT_NULL(t);
	add_results(&f, 0, N, 1);
	CU_ASSERT(drained(f.c, f.res));
	routing_stop_thread(t, &n);
	config_free(&cfg);
	CU_ASSERT_EQUAL(collect(f.c, f.app[0], hits, N, NULL), N);
	EXPECT_ONCE(hits, N);
	CU_ASSERT_EQUAL(n.routed, N);
	redisFree(f.c);
}

/* ---- POST /v1/streams/{stream}/entries ------------------------------------------ */

static void test_post_entry_source_from_token(void)
{
	struct tenant *t = tenant_new("post");
	redisContext *c = redis_open();
	struct http_resp who, r;
	char source[256];
	const char *id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	who = call("GET", "/v1/whoami", t->submitter, NULL, NULL);
	snprintf(source, sizeof(source), "%s/%s", str_at(data_of(&who), "tenant"),
	         str_at(data_of(&who), "name"));
	http_resp_free(&who);

	r = call("POST", "/v1/streams/results/entries", t->submitter,
	         "{\"fields\":{\"body\":\"hello\",\"n\":\"1\"},\"reply_to\":\"results:app-x\"}",
	         NULL);
	EXPECT_STATUS(r, 201);
	id = str_at(data_of(&r), "id");
	EXPECT_STR(str_at(data_of(&r), "stream"), "results");
	EXPECT_STR(str_at(data_of(&r), "source"), source);
	EXPECT_STR(str_at(data_of(&r), "reply_to"), "results:app-x");
	{
		redisReply *x = rcmd(c, "XRANGE results %s %s", id, id);

		CU_ASSERT_FATAL(x != NULL && x->type == REDIS_REPLY_ARRAY && x->elements == 1);
		const redisReply *f = x->element[0]->element[1];

		CU_ASSERT_EQUAL(f->elements, 8);
		EXPECT_STR(field_in(f, "body"), "hello");
		EXPECT_STR(field_in(f, "n"), "1");
		EXPECT_STR(field_in(f, "source"), source);
		EXPECT_STR(field_in(f, "reply_to"), "results:app-x");
		freeReplyObject(x);
	}
	http_resp_free(&r);

	/* no reply_to: the entry has none */
	r = call("POST", "/v1/streams/results/entries", t->submitter, "{\"fields\":{\"a\":\"b\"}}",
	         NULL);
	EXPECT_STATUS(r, 201);
	CU_ASSERT(null_at(data_of(&r), "reply_to"));
	{
		redisReply *x = rcmd(c, "XRANGE results %s %s", str_at(data_of(&r), "id"),
		                     str_at(data_of(&r), "id"));

		CU_ASSERT_FATAL(x != NULL && x->type == REDIS_REPLY_ARRAY && x->elements == 1);
		CU_ASSERT_PTR_NULL(field_in(x->element[0]->element[1], "reply_to"));
		EXPECT_STR(field_in(x->element[0]->element[1], "source"), source);
		freeReplyObject(x);
	}
	http_resp_free(&r);
	redisFree(c);
}

static void test_post_entry_refusals(void)
{
	struct tenant *t = tenant_new("refuse");
	const char *p = "/v1/streams/results/entries";
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* source never from the body; reply_to only beside fields */
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":{\"source\":\"someone-else\"}}",
	               "fields.source");
	EXPECT_REFUSED(t->submitter, "POST", p,
	               "{\"fields\":{\"a\":\"b\",\"reply_to\":\"results:x\"}}", "fields.reply_to");
	/* the allow-list, loops, names */
	EXPECT_REFUSED(t->submitter, "POST", p,
	               "{\"fields\":{\"a\":\"b\"},\"reply_to\":\"tasks:x\"}", "reply_to");
	EXPECT_REFUSED(t->submitter, "POST", p,
	               "{\"fields\":{\"a\":\"b\"},\"reply_to\":\"results\"}", "reply_to");
	EXPECT_REFUSED(t->submitter, "POST", p,
	               "{\"fields\":{\"a\":\"b\"},\"reply_to\":\"results:a b\"}", "reply_to");
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":{\"a\":\"b\"},\"reply_to\":\"\"}",
	               "reply_to");
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":{\"a\":\"b\"},\"reply_to\":7}",
	               "reply_to");
	/* fields */
	EXPECT_REFUSED(t->submitter, "POST", p, "{}", "fields");
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":{}}", "fields");
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":\"x\"}", "fields");
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":{\"a\":1}}", "fields.a");
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":{\"a\":null}}", "fields.a");
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":{\"\":\"x\"}}", "fields.");
	EXPECT_REFUSED(t->submitter, "POST", p, "{\"fields\":{\"a\":\"b\"},\"source\":\"x\"}",
	               "source");
	/* only configured streams */
	r = call("POST", "/v1/streams/tasks:not-configured/entries", t->submitter,
	         "{\"fields\":{\"a\":\"b\"}}", NULL);
	EXPECT_ERROR(r, 404, "stream_not_found");
	EXPECT_STR(field_of(&r), "stream");
	http_resp_free(&r);
	r = call("POST", "/v1/streams/dead:results/entries", t->submitter,
	         "{\"fields\":{\"a\":\"b\"}}", NULL);
	EXPECT_ERROR(r, 404, "stream_not_found");
	http_resp_free(&r);
	/* roles: submitter only (and admin) */
	r = call("POST", p, t->worker, "{\"fields\":{\"a\":\"b\"}}", NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("POST", p, t->reader, "{\"fields\":{\"a\":\"b\"}}", NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("POST", p, NULL, "{\"fields\":{\"a\":\"b\"}}", NULL);
	EXPECT_STATUS(r, 401);
	http_resp_free(&r);
}

/* The allow-list rule itself, on the configuration's patterns. */
static void test_refusal_rule(void)
{
	struct config cfg;
	struct cd_error e;

	CU_ASSERT_FATAL(config_load(&cfg, NULL, &e) == CD_OK);
	CU_ASSERT_PTR_NULL(routing_refusal(&cfg, "results:app"));
	CU_ASSERT_PTR_NOT_NULL(routing_refusal(&cfg, "results"));
	CU_ASSERT_PTR_NOT_NULL(routing_refusal(&cfg, NULL));
	CU_ASSERT_PTR_NOT_NULL(routing_refusal(&cfg, "replies:app"));
	CU_ASSERT_EQUAL(config_set(&cfg, "reply_to_allow", "results:*,replies:app-?", &e), CD_OK);
	CU_ASSERT_PTR_NULL(routing_refusal(&cfg, "replies:app-1"));
	CU_ASSERT_PTR_NOT_NULL(routing_refusal(&cfg, "replies:app-12"));
	CU_ASSERT_EQUAL(config_set(&cfg, "reply_to_allow", "*", &e), CD_OK);
	CU_ASSERT_PTR_NOT_NULL(routing_refusal(&cfg, "dead:results"));
	CU_ASSERT_PTR_NOT_NULL(routing_refusal(&cfg, "results"));
	CU_ASSERT_PTR_NULL(routing_refusal(&cfg, "tasks:next"));
	CU_ASSERT_EQUAL(config_set(&cfg, "reply_to_allow", "results:[a]", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "reply_to_allow");
	CU_ASSERT_EQUAL(config_set(&cfg, "result_routing", "on", &e), CD_OK);
	CU_ASSERT_EQUAL(cfg.result_routing, 1);
	CU_ASSERT_EQUAL(config_set(&cfg, "result_routing", "maybe", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "result_routing");
	config_free(&cfg);
}

static CU_TestInfo TESTS[] = {
    {"refusal_rule", test_refusal_rule},
    {"mixed_reply_to_each_once_refused_to_dead", test_mixed_reply_to_each_once_refused_to_dead},
    {"two_routers_route_each_once", test_two_routers_route_each_once},
    {"router_killed_mid_stream_and_run_again", test_router_killed_mid_stream_and_run_again},
    {"router_survives_lost_connections", test_router_survives_lost_connections},
    {"unsafe_commands_not_sent_again", test_unsafe_commands_not_sent_again},
    {"dead_routers_entries_taken_over", test_dead_routers_entries_taken_over},
    {"janitor_reclaim_composes_with_routing", test_janitor_reclaim_composes_with_routing},
    {"watcher_once_routes_what_is_there", test_watcher_once_routes_what_is_there},
    {"drain_routes_what_is_there_and_returns", test_drain_routes_what_is_there_and_returns},
    {"start_if_on", test_start_if_on},
    {"post_entry_source_from_token", test_post_entry_source_from_token},
    {"post_entry_refusals", test_post_entry_refusals},
    CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite routing = {"routing", "routing", false};

	procs_logdir("routing-logs");
	return suite_run(&routing, TESTS);
}
