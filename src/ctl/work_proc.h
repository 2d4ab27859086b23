/* work_proc.h -- the command `conductorctl work` runs for one job: a child
 * process of its own, in its own process group, with the job's body on its
 * stdin (a memfd: no pipe to keep fed, no file left behind), the job's facts
 * in its environment, its stdout and stderr read through pipes of which the
 * last WORK_TAIL_MAX bytes are kept, and two files of its own: the result
 * file and the checkpoint file (in the agent's private directory).
 *
 * Invariants:
 *   - a command sees only its stdin, stdout and stderr: every descriptor
 *     the agent opens is close-on-exec, and the child closes the others it
 *     inherited before exec;
 *   - the child starts with no signal blocked and default dispositions (the
 *     agent blocks SIGCHLD/SIGTERM/SIGINT for its signalfd), and dies with
 *     the agent (PR_SET_PDEATHSIG): a SIGKILLed agent leaves no command
 *     running work nobody will report;
 *   - the agent's token (CONDUCTOR_TOKEN, CONDUCTOR_ADMIN_TOKEN) is not in the
 *     command's environment.
 * Not thread-safe (one event loop owns every struct work_proc).
 */
#ifndef CD_CTL_WORK_PROC_H
#define CD_CTL_WORK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

#define WORK_TAIL_MAX 4096 /* bytes of stdout / stderr kept for the result */
#define WORK_PATH_MAX 512

/* The last WORK_TAIL_MAX bytes a stream gave. */
struct work_tail {
	char data[WORK_TAIL_MAX]; /* a ring: the oldest byte at (start + len) % MAX when full */
	size_t len;               /* bytes held, at most WORK_TAIL_MAX */
	size_t start;             /* where the oldest byte is */
	bool cut;                 /* earlier bytes were dropped */
};

/* One running (or finished) command. */
struct work_proc {
	pid_t pid;          /* > 0 while not reaped; also the process group's id */
	int out_fd, err_fd; /* read ends of its stdout / stderr; -1 once closed */
	struct work_tail out, err;
	int wait_status; /* waitpid's status, valid once exited */
	bool exited;
	char result_path[WORK_PATH_MAX];
	char checkpoint_path[WORK_PATH_MAX];
};

/* What the command is given. All borrowed for the call. */
struct work_spec {
	char *const *argv;      /* the command and its arguments (NULL-terminated) */
	const char *job_id;     /* CONDUCTOR_JOB_ID */
	long long epoch;        /* CONDUCTOR_LEASE_EPOCH */
	const char *checkpoint; /* CONDUCTOR_JOB_CHECKPOINT ("" when none); also the
	                         * checkpoint file's first content */
	const char *body;       /* its stdin */
	size_t body_len;
	const char *dir; /* the agent's private directory: the files go there */
};

/* Starts the command of spec into p (caller's storage). CD_INTERNAL with
 * the reason when a pipe, the memfd, the files or fork failed (nothing is
 * left open then). A command that cannot be executed still starts: its
 * child exits 127 with the reason on its stderr, like a shell. */
enum cd_err work_proc_start(struct work_proc *p, const struct work_spec *spec, struct cd_error *e);

/* Reads what fd (p's out_fd or err_fd) has now, without blocking, into its
 * tail; closes it at end of file. */
void work_proc_drain(struct work_proc *p, int fd);

/* Marks p exited with status (from waitpid), reads what its pipes still
 * hold, closes them and kills what the command left running in its group. */
void work_proc_exited(struct work_proc *p, int status);

/* SIGKILL to p's whole process group (no-op once reaped). */
void work_proc_kill(struct work_proc *p);

/* Frees what p holds after it exited: closes its pipes, removes its files.
 * p is reusable after. */
void work_proc_free(struct work_proc *p);

/* The tail as a new NUL-terminated string of valid UTF-8 (a character cut at
 * its start is dropped, an invalid byte or a NUL becomes U+FFFD). Caller
 * frees. */
char *work_tail_text(const struct work_tail *t);

/* The content of path (new string; caller frees), NULL when it is missing,
 * empty or larger than max bytes (*too_big set then). */
char *work_read_file(const char *path, size_t max, bool *too_big);

#endif
