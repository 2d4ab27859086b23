/* work.c -- `conductorctl work`: a worker agent that runs a command per job.
 *
 *   conductorctl work --factory-id ID [--capability C]... [--seats N]
 *                     [--lease-ttl S] [--grace S] -- COMMAND ARGS...
 *
 * It heartbeats, claims up to its free seats, runs COMMAND for each job
 * (work_proc.c: its own process group, the body on stdin, the job in its
 * environment), renews each lease at a third of its TTL (saving the
 * checkpoint file first when it changed), and reports what finished: exit
 * 0 -> shipped, else failed, with the exit status, the last 4 KiB of stdout
 * and stderr in the result and the wall time in the insights -- or what the
 * command wrote to its result file. Every job that finished by the time the
 * report goes out is in that one POST /v1/fleet/jobs:transition (a few ms
 * of waiting, COALESCE_MS, lets jobs that end together go together).
 *
 * The rules it keeps:
 *   - a renewal answered 409/404 (cancelled, reaped: fenced) kills the
 *     command's process group at once, and the job is never reported;
 *   - the API unreachable (no answer, nginx's 502/503/504, a 5xx of ours):
 *     commands keep running, calls wait for a backoff (0.5 s doubling to
 *     30 s), and what finished is reported when the API is back -- the
 *     server's fence decides whether the lease still held;
 *   - SIGTERM/SIGINT: no more claims; running commands get --grace seconds,
 *     then their groups are SIGKILLed and their leases released (requeued,
 *     not a failed attempt); a second signal kills them and exits at once
 *     (leases left to the reaper), status 128 + the signal;
 *   - a claim answered empty before its wait was over (the server had no
 *     long-poll slot: Retry-After) is not asked again before the later of
 *     Retry-After and the rest of the wait: no spinning.
 *
 * One loop and one claim thread. The loop poll()s a signalfd (SIGCHLD,
 * SIGTERM, SIGINT), the commands' pipes and the claim thread's answer pipe,
 * then, in order: reap, report, release, renew, heartbeat, ask for a claim.
 * The claim thread only makes the long-poll POST /v1/fleet/claim the loop
 * handed it (a body of text, one at a time) and hands the answer back; it
 * touches nothing else (the client is read-only, logging is one write).
 * Why a thread: a long-poll made by the loop itself would hold back, for
 * its whole wait, the report of a job that ended meanwhile (splitting jobs
 * that end together into two reports) and a renewal falling due. Its wait is
 * CLAIM_WAIT_MS (2 s), so that a claim still out at SIGTERM delays the exit
 * by 2 s at most (its jobs are then given back, not left to the reaper).
 *
 * Files: this one is the loop, the claim thread, the signals and the
 * command's flags; work_jobs.c what is done with each job (the API calls,
 * renewals, reports); work_proc.c the command's process; work.h the state
 * they share.
 *
 * Output: on a terminal, one live progress line on stderr (done, running,
 * failed, jobs/s); otherwise one JSON log line per job on stderr, like the
 * other binaries. Exit: 0 after a drain, 1 the API refused the first
 * heartbeat (token, role), 2 usage, 3 the API unreachable at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "ctl/client.h"
#include "ctl/ctl.h"
#include "ctl/work.h"

#define WORK_ARGS                                                                                  \
	"--factory-id ID [--capability C]... [--seats N] [--lease-ttl S] [--grace S] -- COMMAND "  \
	"ARGS..."

/* ---- output ------------------------------------------------------------- */

/* The progress line, on a terminal only, at most every PROGRESS_MS unless
 * forced. jobs/s: those finished in the last RATE_WINDOW_S seconds. */
static void progress(struct agent *a, long long now, bool force)
{
	double secs = (double)(now - a->t0_ms) / 1000.0;
	char lost[32] = "";
	long long recent = 0;

	if (!a->tty || (!force && now < a->progress_at_ms))
		return;
	for (int i = 0; i < RATE_WINDOW_S; i++)
		if (a->rate_sec[i] > now / 1000 - RATE_WINDOW_S)
			recent += a->rate_n[i];
	if (secs > RATE_WINDOW_S)
		secs = RATE_WINDOW_S;
	a->progress_at_ms = now + PROGRESS_MS;
	if (a->lost > 0)
		snprintf(lost, sizeof(lost), "  lost %lld", a->lost);
	fprintf(stderr, "\r\033[Kdone %lld  running %d  failed %lld%s  %.1f jobs/s%s", a->done,
	        work_busy(a, SLOT_RUNNING), a->failed, lost, secs > 0 ? (double)recent / secs : 0.0,
	        a->draining ? "  (draining)" : "");
	fflush(stderr);
	a->progress_shown = true;
}

/* ---- the claim thread -------------------------------------------------- */

static void read_signals(struct agent *a);

/* The claim thread: makes each claim the loop hands it, answers. */
static void *claimer_main(void *p)
{
	struct agent *a = p;
	struct claim_call *c = &a->cc;
	char b;

	while (read(a->claim_req[0], &b, 1) == 1 && b == 'c') {
		cd_error_reset(&c->e);
		c->rc = client_call_within(a->api, CALL_TIMEOUT_MS + c->wait_ms, "POST",
		                           "/v1/fleet/claim", c->body, &c->ans, &c->e);
		if (write(a->claim_ans[1], "a", 1) != 1)
			break;
	}
	return NULL;
}

/* Hands the claim thread a claim for the free seats, when one may go. */
static void claim_send(struct agent *a)
{
	int free_seats = work_busy(a, SLOT_FREE);
	struct json_object *body;
	long long now = work_now_ms();

	if (a->claim_out || a->draining || free_seats == 0 || now < a->claim_at_ms ||
	    !work_jobs_api_ready(a, now))
		return;
	body = json_object_new_object();
	json_object_object_add(body, "factory_id", json_object_new_string(a->factory_id));
	json_object_object_add(body, "capabilities", work_jobs_caps_array(a));
	json_object_object_add(body, "max_jobs", json_object_new_int(free_seats));
	json_object_object_add(body, "lease_ttl_s", json_object_new_int(a->ttl_s));
	json_object_object_add(body, "wait_ms", json_object_new_int(CLAIM_WAIT_MS));
	a->cc.body = xstrdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	a->cc.wait_ms = CLAIM_WAIT_MS;
	json_object_put(body);
	if (write(a->claim_req[1], "c", 1) != 1) {
		free(a->cc.body);
		a->cc.body = NULL;
		return;
	}
	a->claim_out = true;
}

/* The claim thread answered: starts a command for each job (or gives the
 * jobs back when a signal came meanwhile). An empty answer before the wait
 * was over (the server could not wait: Retry-After) is not followed by
 * another claim before the later of Retry-After and the rest of the wait:
 * no spinning. */
static void claim_done(struct agent *a)
{
	struct claim_call *c = &a->cc;
	struct json_object *jobs;
	long long after = work_now_ms();
	char b;
	size_t n;

	if (read(a->claim_ans[0], &b, 1) != 1)
		return;
	a->claim_out = false;
	free(c->body);
	c->body = NULL;
	if (work_jobs_account(a, c->rc, &c->e) != CD_OK) {
		if (!work_jobs_unreachable(c->rc)) {
			work_progress_clear(a);
			log_warn("claim refused", "error", c->e.message);
			a->claim_at_ms = after + BACKOFF_MAX_MS;
		}
		client_answer_free(&c->ans);
		return;
	}
	read_signals(a); /* a SIGTERM that came during the wait: give the jobs back */
	jobs = json_get(c->ans.data, "jobs");
	n = json_object_array_length(jobs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *j = json_object_array_get_idx(jobs, i);

		if (a->draining)
			work_jobs_give_back(a, json_get_string(j, "id", ""),
			                    json_get_int(json_get(j, "lease"), "epoch", 0));
		else
			work_jobs_start(a, j);
	}
	if (n == 0) {
		long long rest = c->wait_ms - json_get_int(c->ans.data, "waited_ms", c->wait_ms);
		long long ra = c->ans.retry_after_s > 0 ? c->ans.retry_after_s * 1000 : 0;

		a->claim_at_ms = after + (rest > ra ? rest : ra);
	}
	client_answer_free(&c->ans);
}

/* ---- signals and the loop ----------------------------------------------- */

static void kill_all(struct agent *a)
{
	for (int i = 0; i < a->seats; i++)
		if (a->slots[i].state == SLOT_RUNNING)
			work_proc_kill(&a->slots[i].proc);
}

static void on_signal(struct agent *a, int sig)
{
	if (sig == SIGCHLD)
		return; /* work_jobs_reap() runs every turn */
	work_progress_clear(a);
	if (a->draining) {
		log_warn("second signal: commands killed, exiting now (leases left to the reaper)",
		         "signal", strsignal(sig));
		kill_all(a);
		a->forced = sig;
		return;
	}
	a->draining = true;
	a->drain_deadline_ms = work_now_ms() + (long long)a->grace_s * 1000;
	log_info("draining: no more claims; running commands get the grace", "signal",
	         strsignal(sig));
}

static void read_signals(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		on_signal(a, (int)si.ssi_signo);
}

/* Reads the commands' pipes that poll() said are ready. */
static void poll_once(struct agent *a, int timeout_ms)
{
	struct pollfd fds[2 + 2 * SEATS_MAX];
	struct work_proc *owner[2 + 2 * SEATS_MAX];
	nfds_t n = 0;

	fds[n++] = (struct pollfd){.fd = a->sfd, .events = POLLIN};
	fds[n++] = (struct pollfd){.fd = a->claim_ans[0], .events = POLLIN};
	for (int i = 0; i < a->seats; i++) {
		struct work_proc *p = &a->slots[i].proc;

		if (a->slots[i].state != SLOT_RUNNING)
			continue;
		if (p->out_fd >= 0) {
			owner[n] = p;
			fds[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
		}
		if (p->err_fd >= 0) {
			owner[n] = p;
			fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
		}
	}
	if (poll(fds, n, timeout_ms) <= 0)
		return;
	if (fds[0].revents != 0)
		read_signals(a);
	if (fds[1].revents != 0)
		claim_done(a);
	for (nfds_t i = 2; i < n; i++)
		if (fds[i].revents != 0)
			work_proc_drain(owner[i], fds[i].fd);
}

/* The next renewal or heartbeat due. */
static long long next_due(const struct agent *a)
{
	long long t = a->heartbeat_at_ms;

	for (int i = 0; i < a->seats; i++)
		if (a->slots[i].state == SLOT_RUNNING && !a->slots[i].fenced &&
		    a->slots[i].renew_at_ms < t)
			t = a->slots[i].renew_at_ms;
	return t;
}

/* How long poll() may sleep: until the next thing due. What needs the API
 * waits for it to be tried again; what does not (the end of the grace, the
 * progress line) does not. Never 0 for something that cannot happen now. */
static int sleep_ms(const struct agent *a)
{
	long long now = work_now_ms(), t = next_due(a);

	if (!a->claim_out && !a->draining && work_busy(a, SLOT_FREE) > 0 && a->claim_at_ms < t)
		t = a->claim_at_ms;
	for (int i = 0; i < a->seats; i++) {
		const struct slot *s = &a->slots[i];
		long long at = a->last_exit_ms + COALESCE_MS;

		if (s->state == SLOT_DONE && a->report_at_ms > at)
			at = a->report_at_ms;
		if ((s->state == SLOT_DONE || s->state == SLOT_RELEASE) && at < t)
			t = at;
	}
	if (a->api_down && t < a->api_at_ms)
		t = a->api_at_ms;
	if (a->draining && now < a->drain_deadline_ms && a->drain_deadline_ms < t)
		t = a->drain_deadline_ms;
	if (a->draining && now < a->drain_deadline_ms + FINAL_MS &&
	    a->drain_deadline_ms + FINAL_MS < t)
		t = a->drain_deadline_ms + FINAL_MS;
	if (a->tty && a->progress_at_ms < t)
		t = a->progress_at_ms;
	t -= now;
	return t < 0 ? 0 : t > 1000 ? 1000 : (int)t;
}

/* Runs until drained; returns the exit status. */
static int run(struct agent *a)
{
	long long now;

	for (;;) {
		poll_once(a, sleep_ms(a));
		if (a->forced)
			return 128 + a->forced;
		work_jobs_reap(a);
		now = work_now_ms();
		if (a->draining && now >= a->drain_deadline_ms) {
			for (int i = 0; i < a->seats; i++) {
				struct slot *s = &a->slots[i];

				if (s->state == SLOT_RUNNING && !s->drain_killed && !s->fenced) {
					s->drain_killed = true;
					work_proc_kill(&s->proc);
				}
			}
		}
		work_jobs_report(a, a->draining);
		work_jobs_release_killed(a);
		work_jobs_renew_due(a);
		now = work_now_ms();
		if (now >= a->heartbeat_at_ms && work_jobs_api_ready(a, now)) {
			struct cd_error e;
			enum cd_err rc;

			cd_error_reset(&e);
			rc = work_jobs_heartbeat(a, &e);
			if (rc != CD_OK && !work_jobs_unreachable(rc)) {
				work_progress_clear(a);
				log_warn("heartbeat refused", "error", e.message);
			}
			if (!work_jobs_unreachable(rc))
				a->heartbeat_at_ms = now + HEARTBEAT_MS;
		}
		if (a->draining && work_busy(a, SLOT_FREE) == a->seats && !a->claim_out)
			return CTL_EXIT_OK;
		if (a->draining && now >= a->drain_deadline_ms + FINAL_MS &&
		    work_busy(a, SLOT_RUNNING) == 0) {
			char n[24];

			work_progress_clear(a);
			log_error("api unreachable after the grace: finished jobs not reported",
			          "jobs",
			          work_lltoa(n, sizeof(n),
			                     work_busy(a, SLOT_DONE) + work_busy(a, SLOT_RELEASE)));
			return CTL_EXIT_UNREACHABLE;
		}
		claim_send(a);
		progress(a, work_now_ms(), false);
	}
}

/* ---- the command -------------------------------------------------------- */

/* Can COMMAND be run: a path to an executable, or a name found in PATH? A
 * typo would otherwise fail every job it claims. */
static bool runnable(const char *cmd)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX];

	if (strchr(cmd, '/') != NULL)
		return access(cmd, X_OK) == 0;
	for (const char *p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0';) {
		size_t n = strcspn(p, ":");

		if (snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, n > 0 ? p : ".", cmd) <
		        (int)sizeof(dir) &&
		    access(dir, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* An integer flag in lo..hi, or -1 after saying what is wrong. */
static long int_flag(const char *name, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, PROGRAM ": --%s takes a whole number from %ld to %ld\n", name, lo,
		        hi);
		return -1;
	}
	return n;
}

/* Parses the flags into a; returns an exit status (0: go on). */
static int parse_flags(struct ctl *ctl, struct agent *a)
{
	static const struct option opts[] = {
	    {"factory-id", required_argument, NULL, 'f'},
	    {"capability", required_argument, NULL, 'c'},
	    {"seats", required_argument, NULL, 's'},
	    {"lease-ttl", required_argument, NULL, 't'},
	    {"grace", required_argument, NULL, 'g'},
	    {NULL, 0, NULL, 0},
	};
	int c, argc = ctl->argc + 1;
	char **argv = ctl->argv - 1;
	long v;

	a->seats = 1;
	a->ttl_s = 60;
	a->grace_s = 30;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (optarg[0] == '\0' || strlen(optarg) > 128) {
				fprintf(stderr,
				        PROGRAM ": --factory-id takes 1 to 128 characters\n");
				return CTL_EXIT_USAGE;
			}
			a->factory_id = optarg;
			break;
		case 'c':
			if (a->ncaps == CAPS_MAX || optarg[0] == '\0' || strlen(optarg) > 64) {
				fprintf(stderr,
				        PROGRAM ": --capability takes 1 to 64 characters, at most "
				                "%d times\n",
				        CAPS_MAX);
				return CTL_EXIT_USAGE;
			}
			a->caps[a->ncaps++] = optarg;
			break;
		case 's':
			if ((v = int_flag("seats", optarg, 1, SEATS_MAX)) < 0)
				return CTL_EXIT_USAGE;
			a->seats = (int)v;
			break;
		case 't':
			if ((v = int_flag("lease-ttl", optarg, 5, 3600)) < 0)
				return CTL_EXIT_USAGE;
			a->ttl_s = (int)v;
			break;
		case 'g':
			if ((v = int_flag("grace", optarg, 0, 86400)) < 0)
				return CTL_EXIT_USAGE;
			a->grace_s = (int)v;
			break;
		default: return ctl_usage("work " WORK_ARGS);
		}
	}
	if (a->factory_id == NULL || optind >= argc)
		return ctl_usage("work " WORK_ARGS);
	a->argv = argv + optind;
	if (!runnable(a->argv[0])) {
		fprintf(stderr, PROGRAM ": %s: command not found or not executable\n", a->argv[0]);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* Blocks the signals the loop reads and opens its signalfd. */
static bool signals_setup(struct agent *a)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return false;
	a->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return a->sfd >= 0;
}

/* Waits (a second at most) for the commands killed by a second signal, so
 * that none is left a zombie for whoever adopts it. */
static void reap_killed(struct agent *a)
{
	for (int tries = 0; tries < 100 && work_busy(a, SLOT_RUNNING) > 0; tries++) {
		pid_t pid;
		int st;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (int i = 0; i < a->seats; i++)
				if (a->slots[i].state == SLOT_RUNNING &&
				    a->slots[i].proc.pid == pid)
					work_jobs_slot_free(&a->slots[i]);
		}
		if (work_busy(a, SLOT_RUNNING) > 0)
			usleep(10000);
	}
}

/* The claim thread and its pipes; false (errno set) when they failed. */
static bool claimer_start(struct agent *a)
{
	int rc;

	if (pipe2(a->claim_req, O_CLOEXEC) != 0)
		return false;
	if (pipe2(a->claim_ans, O_CLOEXEC) != 0)
		return false;
	if ((rc = pthread_create(&a->claimer, NULL, claimer_main, a)) != 0) {
		errno = rc;
		return false;
	}
	a->claimer_started = true;
	return true;
}

/* Ends the claim thread (none is out: the loop waited for it). */
static void claimer_stop(struct agent *a)
{
	if (a->claimer_started) {
		if (write(a->claim_req[1], "q", 1) == 1)
			pthread_join(a->claimer, NULL);
		else
			pthread_detach(a->claimer);
	}
	for (int i = 0; i < 2; i++) {
		if (a->claim_req[i] >= 0)
			close(a->claim_req[i]);
		if (a->claim_ans[i] >= 0)
			close(a->claim_ans[i]);
	}
}

static int cmd_work(struct ctl *ctl)
{
	struct agent a;
	struct cd_error e;
	const char *tmp = getenv("TMPDIR");
	char seats[16];
	int status;

	memset(&a, 0, sizeof(a));
	a.sfd = -1;
	a.claim_req[0] = a.claim_req[1] = a.claim_ans[0] = a.claim_ans[1] = -1;
	cd_error_reset(&e);
	log_set_program(PROGRAM);
	if ((status = parse_flags(ctl, &a)) != CTL_EXIT_OK)
		return status;
	a.api = ctl->api;
	a.tty = isatty(STDERR_FILENO) != 0;
	snprintf(a.dir, sizeof(a.dir), "%s/conductorctl-work.XXXXXX",
	         tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 128 ? tmp : "/tmp");
	if (mkdtemp(a.dir) == NULL) {
		fprintf(stderr, PROGRAM ": cannot make a work directory in %s: %s\n",
		        tmp ? tmp : "/tmp", strerror(errno));
		return CTL_EXIT_USAGE;
	}
	a.slots = xcalloc((size_t)a.seats, sizeof(*a.slots));
	for (int i = 0; i < a.seats; i++)
		a.slots[i].proc.out_fd = a.slots[i].proc.err_fd = -1;
	/* signals blocked first: the claim thread inherits the mask */
	if (!signals_setup(&a) || !claimer_start(&a)) {
		fprintf(stderr, PROGRAM ": cannot set up signals or the claim thread: %s\n",
		        strerror(errno));
		status = CTL_EXIT_USAGE;
		goto out;
	}
	/* the first heartbeat tells a wrong URL or token at once */
	if (work_jobs_heartbeat(&a, &e) != CD_OK) {
		status = ctl_fail(&e);
		goto out;
	}
	a.t0_ms = work_now_ms();
	a.heartbeat_at_ms = a.t0_ms + HEARTBEAT_MS;
	log_info("agent started", "factory_id", a.factory_id, "seats",
	         work_lltoa(seats, sizeof(seats), a.seats), "command", a.argv[0]);
	status = run(&a);
	if (a.forced) {
		kill_all(&a);
		reap_killed(&a);
	}
	progress(&a, work_now_ms(), true);
	if (a.tty)
		fputc('\n', stderr);
	log_info("agent stopped", "factory_id", a.factory_id);
	if (a.claim_out) /* a second signal with a claim out: do not wait for it */
		_exit(status);
out:
	claimer_stop(&a);
	for (int i = 0; i < a.seats; i++)
		work_jobs_slot_free(&a.slots[i]);
	free(a.slots);
	if (a.sfd >= 0)
		close(a.sfd);
	rmdir(a.dir);
	return status;
}

const struct ctl_command CTL_WORK_COMMANDS[] = {
    {"work", NULL, cmd_work, CTL_NEEDS_API, WORK_ARGS,
     "run COMMAND for each job claimed (a worker agent), until SIGTERM",
     "Heartbeats, claims up to --seats (default 1) jobs with capabilities C, and runs\n"
     "COMMAND for each in its own process group: the job's body on stdin;\n"
     "CONDUCTOR_JOB_ID, CONDUCTOR_LEASE_EPOCH, CONDUCTOR_JOB_CHECKPOINT (JSON, or\n"
     "empty), CONDUCTOR_RESULT_FILE and CONDUCTOR_CHECKPOINT_FILE in its environment\n"
     "(not the agent's token). The lease (--lease-ttl, default 60 s) is renewed\n"
     "every third of it, with the checkpoint file's JSON object when it changed.\n"
     "Exit 0 -> shipped, else failed; the result holds exit_status (or signal),\n"
     "stdout_tail and stderr_tail (the last 4 KiB), the insights wall_ms. A JSON\n"
     "object written to the result file sets them instead: {\"result\": {...},\n"
     "\"insights\": {...}}, or, with neither key, the whole object is the result.\n"
     "A job cancelled or reaped meanwhile: its command is killed, nothing reported.\n"
     "SIGTERM or Ctrl-C: no more claims, --grace S (default 30) for the running\n"
     "commands, then they are killed and their jobs requeued; a second one exits\n"
     "at once. A progress line on a terminal, else a JSON log line per job.\n"
     "Example: " PROGRAM " work --factory-id box-1 --seats 4 -- sh -c 'wc -w'"},
};
const size_t CTL_WORK_NCOMMANDS = sizeof(CTL_WORK_COMMANDS) / sizeof(CTL_WORK_COMMANDS[0]);
