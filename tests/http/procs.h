/* procs.h -- what the suites that run conductor's timer binaries share
 * (test_reaper, test_watcher, test_routing): a binary run as a child with
 * extra environment, its output in a log under the stack's directory, its
 * exit waited for; reading those logs; Redis as the apps and workers see it.
 *
 * Assertions (CUnit) are made on the calling thread: call from main only.
 */
#ifndef CD_PROCS_H
#define CD_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/* ---- processes and their logs --------------------------------------------- */

/* The suite's logs go to <CONDUCTOR_STACK_DIR>/<dir> (kept with the stack by
 * CONDUCTOR_KEEP=1); call once before anything else here. dir is borrowed
 * (a literal). */
void procs_logdir(const char *dir);

/* The path of the suite's log into out (the directory is created). */
void log_path(char *out, size_t cap, const char *log);

/* Starts program (looked up in PATH unless it has a /; argv[0] is its last
 * path component) with args (NULL-terminated, at most 14, or NULL) and extra
 * environment ("KEY=value", NULL-terminated or NULL); stdout and stderr into
 * log_path(log), opened with O_TRUNC or O_APPEND (how). Returns its pid, -1
 * when fork failed. */
pid_t spawn_logged(const char *log, int how, const char *program, const char *const *args,
		   const char *const *env);

/* Waits for pid: its exit status, 128 + the signal that ended it, or -1
 * (no such child, pid <= 0). */
int wait_exit(pid_t pid);

void sleep_ms(long ms);

/* Empties log (runs that append to it start afresh). */
void log_reset(const char *log);

/* The whole log (new string; "" when missing). */
char *log_text(const char *log);

bool log_has(const char *log, const char *needle);

/* How many times needle occurs in the log. */
int log_count(const char *log, const char *needle);

/* Waits up to s seconds for needle to occur at least n times in the log. */
bool log_wait(const char *log, const char *needle, int n, int s);

/* ---- Redis ---------------------------------------------------------------- */

/* A connection to $CONDUCTOR_REDIS_URL (caller frees: redisFree), or NULL. */
redisContext *redis_open(void);

/* Runs a command; its reply (caller frees: freeReplyObject), NULL when the
 * connection failed. */
redisReply *rcmd(redisContext *c, const char *f, ...);

/* Runs a command that must not fail (one assertion; the error on stderr). */
void rdo(redisContext *c, const char *f, ...);

/* rdo, and the reply's string (an XADD's id) into id_out (64). */
void rdo_id(redisContext *c, char *id_out, const char *f, ...);

/* XLEN of stream; -1 when it failed. */
long long xlen(redisContext *c, const char *stream);

/* Entries of group pending on stream; -1 when it failed (no such group). */
long long pending(redisContext *c, const char *stream, const char *group);

/* The value of field name in a stream entry's field array, or NULL. */
const char *field_in(const redisReply *f, const char *name);

#endif
