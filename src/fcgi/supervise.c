/* supervise.c -- the worker process of conductor-fcgi kept running; see
 * supervise.h. Signals are blocked and taken with sigwaitinfo(), so nothing
 * runs in a signal handler; SIGCHLD is one of them. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "fcgi/supervise.h"

#define EXIT_CONFIG 2 /* the worker's status for a wrong configuration */

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Writes pid to path through a rename, so a reader never sees half of it. */
static void write_pid(const char *path, pid_t pid)
{
	char tmp[4096];
	FILE *f;

	if (path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%ld\n", (long)pid) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0)
		log_error("cannot write the worker's pid file", "path", path, "error",
		          strerror(errno));
}

/* Forks and execs the worker (exe: this program's path); -1 when fork fails. */
static pid_t spawn(const char *exe, int listen_fd, char *const argv[])
{
	sigset_t none;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(listen_fd, STDIN_FILENO) < 0)
		_exit(127);
	if (listen_fd != STDIN_FILENO)
		close(listen_fd);
	setenv("CONDUCTOR_LISTEN", "", 1);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	execv(exe, argv);
	log_error("cannot start the worker process", "error", strerror(errno));
	_exit(127);
}

/* "signal 9" or "exit status 1", for the log. */
static void describe(int status, char *out, size_t cap)
{
	if (WIFSIGNALED(status))
		snprintf(out, cap, "signal %d", WTERMSIG(status));
	else
		snprintf(out, cap, "exit status %d", WEXITSTATUS(status));
}

/* Waits for the worker's end, passing signals on. Returns its wait status;
 * *stop is set to a stop signal received meanwhile. */
static int wait_worker(pid_t child, const sigset_t *set, int *stop)
{
	siginfo_t si;
	int status = 0, sig;

	for (;;) {
		sig = sigwaitinfo(set, &si);
		if (sig < 0)
			continue; /* EINTR */
		if (sig == SIGCHLD) {
			if (waitpid(child, &status, WNOHANG) == child)
				return status;
			continue;
		}
		if (sig != SIGHUP)
			*stop = sig;
		kill(child, sig);
	}
}

/* Sleeps ms, cut short by SIGTERM or SIGINT (then *stop is set). */
static void backoff(long ms, const sigset_t *set, int *stop)
{
	long until = now_ms() + ms, left;
	siginfo_t si;

	while (*stop == 0 && (left = until - now_ms()) > 0) {
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000};
		int sig = sigtimedwait(set, &si, &ts);

		if (sig == SIGTERM || sig == SIGINT)
			*stop = sig;
	}
}

int supervise_run(int listen_fd, char *const argv[], const char *pid_file)
{
	sigset_t set;
	long delay_ms = 0, started;
	int restarts = 0, stop = 0, status;
	char spid[16], cause[32], nrestarts[16], sdelay[16], exe[4096];
	ssize_t n;
	pid_t child;

	/* exec the file itself, not /proc/self/exe: the worker's name (comm) is
	 * then the program's, which tools/stack checks against its pid file */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		log_error("cannot find this program's path", "error", strerror(errno));
		return 1;
	}
	exe[n] = '\0';
	/* the worker's lines say conductor-fcgi, the supervisor's say this */
	log_set_program("conductor-fcgi-supervisor");

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		child = spawn(exe, listen_fd, argv);
		if (child < 0) {
			log_error("cannot fork the worker process", "error", strerror(errno));
			return 1;
		}
		write_pid(pid_file, child);
		snprintf(spid, sizeof(spid), "%ld", (long)child);
		log_info("worker process started", "pid", spid);
		started = now_ms();
		status = wait_worker(child, &set, &stop);
		describe(status, cause, sizeof(cause));
		if (stop != 0 || (WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
		                                        WEXITSTATUS(status) == EXIT_CONFIG))) {
			log_info("worker process ended: supervisor exiting", "pid", spid, "cause",
			         cause);
			break;
		}
		if (now_ms() - started >= SUPERVISE_STABLE_MS || delay_ms == 0)
			delay_ms = SUPERVISE_FIRST_DELAY_MS;
		else if ((delay_ms *= 2) > SUPERVISE_MAX_DELAY_MS)
			delay_ms = SUPERVISE_MAX_DELAY_MS;
		restarts++;
		snprintf(nrestarts, sizeof(nrestarts), "%d", restarts);
		snprintf(sdelay, sizeof(sdelay), "%ld", delay_ms);
		log_warn("worker process died: restarting it", "pid", spid, "cause", cause,
		         "restarts", nrestarts, "delay_ms", sdelay);
		backoff(delay_ms, &set, &stop);
		if (stop != 0) {
			status = 0; /* stopped between two workers: nothing failed */
			break;
		}
	}
	if (pid_file != NULL)
		unlink(pid_file);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return stop != 0 ? 0 : 1;
}
