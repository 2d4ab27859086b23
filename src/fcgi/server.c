/* server.c -- threads accepting FastCGI requests, and how they stop.
 *
 * libfcgi's own SIGTERM handler only sets a flag, and a thread blocked in
 * accept() or in reading a kept-alive connection never sees it. So: signals
 * are blocked in every thread and the main thread waits for them with
 * sigwait(); the listening socket is non-blocking; each thread poll()s its
 * kept connection (or the listening socket) together with a stop pipe and
 * only then calls FCGX_Accept_r. A signal writes the pipe once; every idle
 * thread wakes, a busy thread finishes its request and then sees the flag.
 *
 * nginx does not keep FastCGI connections alive (nginx/conductor.conf):
 * libfcgi keeps a thread on a connection until nginx closes it, and idle
 * kept connections would park every thread (README). A thread still polls
 * its connection while it is open, for servers that do keep them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "data/db.h"
#include "data/db_metrics.h"
#include "data/stream.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/routes.h"
#include "fcgi/server.h"

static atomic_bool stopping;
static int stop_pipe[2] = {-1, -1};

struct thread_arg {
	const struct config *cfg;
	int listen_fd;
	int index;
};

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int server_listen(const char *path)
{
	struct sockaddr_un addr;
	struct stat st;
	const char *lfds = getenv("LISTEN_FDS"), *lpid = getenv("LISTEN_PID");
	int fd;

	if (path == NULL || path[0] == '\0') {
		if (lfds != NULL && lpid != NULL && atoi(lpid) == (int)getpid() && atoi(lfds) >= 1)
			fd = 3; /* systemd socket activation: SD_LISTEN_FDS_START */
		else if (is_socket(0))
			fd = 0; /* spawn-fcgi and FastCGI process managers */
		else {
			log_error("no socket to listen on: set --listen PATH (CONDUCTOR_LISTEN) or "
				  "start under systemd socket activation or spawn-fcgi");
			return -1;
		}
		return set_nonblocking(fd) < 0 ? -1 : fd;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("configuration key listen: the socket path is too long", "listen", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("configuration key listen: the path exists and is not a socket",
				  "listen", path);
			return -1;
		}
		unlink(path); /* a stale socket of an earlier run */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 1024) < 0) {
		log_error("cannot listen on the socket", "listen", path, "error", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Copies the FastCGI parameters into req; reads the body (at most 1 MiB).
 * Returns false when the body is too large (the 413 is already written). */
static bool read_request(FCGX_Request *fr, struct request *req, struct buf *body)
{
	char **env = fr->envp;
	const char *uri = FCGX_GetParam("DOCUMENT_URI", env);
	const char *len_s = FCGX_GetParam("CONTENT_LENGTH", env);
	long long len = len_s ? atoll(len_s) : 0;
	char chunk[16384];
	int got;

	req->method = FCGX_GetParam("REQUEST_METHOD", env);
	if (req->method == NULL)
		req->method = "GET";
	if (uri == NULL)
		uri = FCGX_GetParam("SCRIPT_NAME", env);
	req->path = uri ? uri : "/";
	req->query = FCGX_GetParam("QUERY_STRING", env);
	if (req->query == NULL)
		req->query = "";
	req->content_type = FCGX_GetParam("CONTENT_TYPE", env);
	if (req->content_type != NULL && req->content_type[0] == '\0')
		req->content_type = NULL;
	req->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", env);
	req->if_match = FCGX_GetParam("HTTP_IF_MATCH", env);
	req->tenant_header = FCGX_GetParam("HTTP_X_CONDUCTOR_TENANT", env);
	req->cookie = FCGX_GetParam("HTTP_COOKIE", env);
	req->https = (FCGX_GetParam("HTTPS", env) != NULL &&
		      strcmp(FCGX_GetParam("HTTPS", env), "on") == 0) ||
		     (FCGX_GetParam("HTTP_X_FORWARDED_PROTO", env) != NULL &&
		      strcmp(FCGX_GetParam("HTTP_X_FORWARDED_PROTO", env), "https") == 0);
	request_set_id(req, FCGX_GetParam("HTTP_X_REQUEST_ID", env));
	log_set_request_id(req->request_id);

	if (len > REQUEST_BODY_MAX) {
		reply_fail(req, CD_TOO_LARGE, "body", "The request body is larger than 1 MiB.");
		return false;
	}
	while ((got = FCGX_GetStr(chunk, sizeof(chunk), fr->in)) > 0) {
		if (!buf_append(body, chunk, (size_t)got)) {
			reply_fail(req, CD_TOO_LARGE, "body", "The request body is larger than 1 MiB.");
			return false;
		}
	}
	req->body = buf_str(body);
	req->body_len = body->len;
	return true;
}

/* libfcgi's FCGX_FPrintF has its own printf that lacks %zu: format here.
 * A HEAD gets the headers GET would (Content-Length included), no body. */
static void write_response(FCGX_Request *fr, struct request *req)
{
	struct buf head;

	buf_init(&head, 8192);
	buf_printf(&head,
		   "Status: %d %s\r\nContent-Type: %s\r\nX-Request-Id: %s\r\n"
		   "Cache-Control: %s\r\nContent-Length: %zu\r\n%s\r\n",
		   req->status, response_reason(req->status), req->out_type, req->request_id,
		   req->cache_control, req->out.len, buf_str(&req->out_headers));
	FCGX_PutStr(buf_str(&head), (int)head.len, fr->out);
	if (strcmp(req->method, "HEAD") != 0)
		FCGX_PutStr(buf_str(&req->out), (int)req->out.len, fr->out);
	buf_reset(&head);
}

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void serve(struct worker *w, FCGX_Request *fr)
{
	struct request req;
	struct buf body;
	struct timespec t0;
	char status[8], ms[32];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	request_init(&req, w);
	buf_init(&body, REQUEST_BODY_MAX);
	if (read_request(fr, &req, &body))
		routes_dispatch(&req);
	write_response(fr, &req);
	/* counted under the route's pattern (never the raw path) */
	metrics_request(req.route != NULL ? (size_t)(req.route - ROUTES) : ROUTES_COUNT, req.status,
			elapsed_ms(&t0) / 1e3);
	snprintf(status, sizeof(status), "%d", req.status);
	snprintf(ms, sizeof(ms), "%.3f", elapsed_ms(&t0));
	log_write(req.status >= 500 ? LOG_WARN : req.status >= 400 ? LOG_INFO : LOG_DEBUG, "request", "method", req.method, "path",
		  req.path, "status", status, "ms", ms, "token",
		  req.authenticated ? req.principal.name : NULL, (const char *)NULL);
	log_set_request_id(NULL);
	buf_reset(&body);
	request_reset(&req);
}

/* Every METRICS_FLUSH_MS one thread (the one that wins the swap) adds this
 * process's counts to PostgreSQL, so a scrape on any host sees them; the
 * threads poll with that timeout so an idle process flushes too. */
#define METRICS_FLUSH_MS 5000
static atomic_llong metrics_flushed_ms;

static void flush_metrics(struct worker *w, bool now)
{
	struct timespec t;
	long long ms, last = atomic_load(&metrics_flushed_ms);
	struct cd_error e;

	clock_gettime(CLOCK_MONOTONIC, &t);
	ms = (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
	if (!now && (ms - last < METRICS_FLUSH_MS ||
		     !atomic_compare_exchange_strong(&metrics_flushed_ms, &last, ms)))
		return;
	cd_error_reset(&e);
	if (worker_db(w, &e) == NULL || db_metrics_flush(w->db, &e) != CD_OK)
		log_warn("metrics flush failed; the counts wait for the next one", "error",
			 e.message);
}

/* The route slots of the request counters: the table's patterns. */
static void metrics_init_routes(void)
{
	static const char **patterns;

	patterns = xcalloc(ROUTES_COUNT, sizeof(*patterns));
	for (size_t i = 0; i < ROUTES_COUNT; i++)
		patterns[i] = ROUTES[i].pattern;
	metrics_init(patterns, ROUTES_COUNT);
}

static void *thread_main(void *p)
{
	struct thread_arg *arg = p;
	struct worker w = {.cfg = arg->cfg, .index = arg->index};
	FCGX_Request fr;

	FCGX_InitRequest(&fr, arg->listen_fd, 0);
	while (!atomic_load(&stopping)) {
		struct pollfd pf[2] = {
			{.fd = fr.ipcFd >= 0 ? fr.ipcFd : arg->listen_fd, .events = POLLIN},
			{.fd = stop_pipe[0], .events = POLLIN},
		};

		int ready = poll(pf, 2, METRICS_FLUSH_MS);

		flush_metrics(&w, false);
		if (ready == 0)
			continue;
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll failed", "error", strerror(errno));
			break;
		}
		if (pf[1].revents != 0)
			break;
		if (FCGX_Accept_r(&fr) < 0) {
			/* Another thread took the connection (EAGAIN), or nginx closed a
			 * kept one: poll again. Anything else: do not spin. */
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED && errno != 0)
				usleep(10000);
			continue;
		}
		serve(&w, &fr);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	flush_metrics(&w, true); /* what this process counted last */
	db_close(w.db);
	stream_close(w.redis);
	return NULL;
}

int server_run(const struct config *cfg, int listen_fd, int threads)
{
	struct thread_arg *args = xcalloc((size_t)threads, sizeof(*args));
	pthread_t *tids = xcalloc((size_t)threads, sizeof(*tids));
	sigset_t set;
	int sig = 0, started = 0;
	char nthreads[16], signame[16];

	if (pipe(stop_pipe) < 0 || FCGX_Init() != 0) {
		log_error("cannot start the FastCGI library");
		free(args);
		free(tids);
		return 1;
	}
	/* Block the stop signals in every thread (they inherit this mask) and
	 * take them with sigwait below; libfcgi's own handler never runs. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	metrics_init_routes();
	for (int i = 0; i < threads; i++) {
		args[i] = (struct thread_arg){.cfg = cfg, .listen_fd = listen_fd, .index = i};
		if (pthread_create(&tids[i], NULL, thread_main, &args[i]) != 0)
			break;
		started++;
	}
	snprintf(nthreads, sizeof(nthreads), "%d", started);
	log_info("conductor-fcgi serving", "threads", nthreads);
	if (started == threads) {
		do {
			if (sigwait(&set, &sig) != 0)
				break;
		} while (sig == SIGHUP); /* nothing to reload yet: configuration is read at start */
	}
	snprintf(signame, sizeof(signame), "%d", sig);
	log_info("stopping: finishing requests in flight", "signal", signame);
	atomic_store(&stopping, true);
	if (write(stop_pipe[1], "x", 1) < 0)
		log_error("cannot wake the threads");
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	close(listen_fd);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	free(args);
	free(tids);
	log_info("stopped");
	return started == threads ? 0 : 1;
}
