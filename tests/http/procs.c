/* procs.c -- processes, their logs and Redis for the timer suites; see the
 * header. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cutest.h"
#include "base/config.h"
#include "procs.h"

#define ARGS_MAX 14

static const char *logdir_name = "test-logs";

/* ---- processes and their logs --------------------------------------------- */

void procs_logdir(const char *dir)
{
	logdir_name = dir;
}

void log_path(char *out, size_t cap, const char *log)
{
	static char logdir[400];

	if (logdir[0] == '\0') {
		const char *stack = getenv("CONDUCTOR_STACK_DIR");

		snprintf(logdir, sizeof(logdir), "%s/%s", stack ? stack : ".", logdir_name);
		mkdir(logdir, 0755);
	}
	snprintf(out, cap, "%s/%s", logdir, log);
}

pid_t spawn_logged(const char *log, int how, const char *program, const char *const *args,
		   const char *const *env)
{
	const char *slash = strrchr(program, '/');
	char path[512], *argv[ARGS_MAX + 2];
	int n = 0;
	pid_t pid;

	log_path(path, sizeof(path), log);
	argv[n++] = (char *)(slash != NULL ? slash + 1 : program);
	for (int i = 0; args != NULL && args[i] != NULL && n <= ARGS_MAX; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | how, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		for (int i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		execvp(program, argv);
		_exit(127);
	}
	return pid;
}

int wait_exit(pid_t pid)
{
	int st = 0;

	if (pid <= 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};

	nanosleep(&ts, NULL);
}

void log_reset(const char *log)
{
	char path[512];

	log_path(path, sizeof(path), log);
	unlink(path);
}

char *log_text(const char *log)
{
	char path[512], *text;
	FILE *f;
	long n;

	log_path(path, sizeof(path), log);
	f = fopen(path, "r");
	if (f == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	if (fread(text, 1, (size_t)n, f) != (size_t)n)
		text[0] = '\0';
	fclose(f);
	return text;
}

bool log_has(const char *log, const char *needle)
{
	char *text = log_text(log);
	bool hit = strstr(text, needle) != NULL;

	free(text);
	return hit;
}

int log_count(const char *log, const char *needle)
{
	char *text = log_text(log);
	int n = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	free(text);
	return n;
}

bool log_wait(const char *log, const char *needle, int n, int s)
{
	for (int i = 0; i < s * 10; i++) {
		if (log_count(log, needle) >= n)
			return true;
		sleep_ms(100);
	}
	return log_count(log, needle) >= n;
}

/* ---- Redis ---------------------------------------------------------------- */

redisContext *redis_open(void)
{
	struct redis_target rt;
	redisContext *c;

	if (config_parse_redis_url(getenv("CONDUCTOR_REDIS_URL"), &rt, NULL) != CD_OK)
		return NULL;
	c = rt.path[0] ? redisConnectUnix(rt.path) : redisConnect(rt.host, rt.port);
	if (c != NULL && c->err) {
		redisFree(c);
		c = NULL;
	}
	return c;
}

redisReply *rcmd(redisContext *c, const char *f, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, f);
	r = redisvCommand(c, f, ap);
	va_end(ap);
	return r;
}

/* rdo and rdo_id: the command, asserted; its string reply into id_out. */
static void rdo_v(redisContext *c, char *id_out, const char *f, va_list ap)
{
	redisReply *r = redisvCommand(c, f, ap);

	CU_ASSERT(r != NULL && r->type != REDIS_REPLY_ERROR);
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		fprintf(stderr, "\n  redis: %s\n", r->str);
	if (r != NULL && id_out != NULL && r->type == REDIS_REPLY_STRING)
		snprintf(id_out, 64, "%s", r->str);
	freeReplyObject(r);
}

void rdo(redisContext *c, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	rdo_v(c, NULL, f, ap);
	va_end(ap);
}

void rdo_id(redisContext *c, char *id_out, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	rdo_v(c, id_out, f, ap);
	va_end(ap);
}

long long xlen(redisContext *c, const char *stream)
{
	redisReply *r = rcmd(c, "XLEN %s", stream);
	long long n = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

	freeReplyObject(r);
	return n;
}

long long pending(redisContext *c, const char *stream, const char *group)
{
	redisReply *r = rcmd(c, "XPENDING %s %s", stream, group);
	long long n = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 1
			      ? r->element[0]->integer
			      : -1;

	freeReplyObject(r);
	return n;
}

const char *field_in(const redisReply *f, const char *name)
{
	for (size_t i = 0; i + 1 < f->elements; i += 2)
		if (strcmp(f->element[i]->str, name) == 0)
			return f->element[i + 1]->str;
	return NULL;
}
