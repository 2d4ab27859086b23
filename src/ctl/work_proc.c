/* work_proc.c -- the command run for one job (see work_proc.h): fork/exec
 * in a process group of its own, stdin from a memfd, stdout/stderr tails,
 * the result and checkpoint files. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "ctl/work_proc.h"

extern char **environ;

/* The agent's variables a command does not get: its own (set again for
 * each job) and the agent's secrets. */
static const char *const ENV_DROPPED[] = {
    "CONDUCTOR_TOKEN",           "CONDUCTOR_ADMIN_TOKEN",    "CONDUCTOR_JOB_ID",
    "CONDUCTOR_LEASE_EPOCH",     "CONDUCTOR_JOB_CHECKPOINT", "CONDUCTOR_RESULT_FILE",
    "CONDUCTOR_CHECKPOINT_FILE",
};
#define NDROPPED (sizeof(ENV_DROPPED) / sizeof(ENV_DROPPED[0]))
#define NADDED   5

static bool dropped(const char *kv)
{
	for (size_t i = 0; i < NDROPPED; i++) {
		size_t n = strlen(ENV_DROPPED[i]);

		if (strncmp(kv, ENV_DROPPED[i], n) == 0 && kv[n] == '=')
			return true;
	}
	return false;
}

/* The command's environment: the agent's, less ENV_DROPPED, plus the job's.
 * New array of new strings; free with env_free(). */
static char **env_build(const struct work_proc *p, const struct work_spec *s)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = xcalloc(n + NADDED + 1, sizeof(*env));
	for (size_t i = 0; i < n; i++)
		if (!dropped(environ[i]))
			env[k++] = xstrdup(environ[i]);
	if (asprintf(&env[k++], "CONDUCTOR_JOB_ID=%s", s->job_id) < 0 ||
	    asprintf(&env[k++], "CONDUCTOR_LEASE_EPOCH=%lld", s->epoch) < 0 ||
	    asprintf(&env[k++], "CONDUCTOR_JOB_CHECKPOINT=%s", s->checkpoint) < 0 ||
	    asprintf(&env[k++], "CONDUCTOR_RESULT_FILE=%s", p->result_path) < 0 ||
	    asprintf(&env[k++], "CONDUCTOR_CHECKPOINT_FILE=%s", p->checkpoint_path) < 0)
		abort(); /* out of memory: like xmalloc */
	env[k] = NULL;
	return env;
}

static void env_free(char **env)
{
	for (size_t i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* Writes n bytes of data into a new file at path (0600, replaced if there). */
static bool write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0;

	while (ok && n > 0) {
		ssize_t w = write(fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		if (ok) {
			data += w;
			n -= (size_t)w;
		}
	}
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	return ok;
}

/* A memfd holding the body, at offset 0; -1 when it failed. */
static int body_fd(const char *body, size_t n)
{
	int fd = memfd_create("conductor-job-body", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < n) {
		ssize_t w = write(fd, body + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes s on fd 2; in the child, where only async-signal-safe calls are
 * allowed (the agent has a second thread: malloc may be locked). */
static void say(const char *s)
{
	ssize_t w = write(2, s, strlen(s));

	(void)w;
}

/* In the child: never returns. Only async-signal-safe calls (the
 * environment was built before the fork). */
static void child(int in, int out, int err, char *const *argv, char **env, pid_t agent)
{
	sigset_t none;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != agent) /* the agent died before the line above */
		_exit(137);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0); /* what the agent inherited is not the command's either */
	execvpe(argv[0], argv, env);
	say("conductorctl work: cannot run ");
	say(argv[0]);
	say(errno == ENOENT   ? ": not found\n"
	    : errno == EACCES ? ": permission denied\n"
	                      : ": exec failed\n");
	_exit(errno == ENOENT ? 127 : 126);
}

enum cd_err work_proc_start(struct work_proc *p, const struct work_spec *s, struct cd_error *e)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1}, in = -1;
	pid_t agent = getpid();
	char **env = NULL;
	enum cd_err rc = CD_INTERNAL;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->out_fd = p->err_fd = -1;
	if (snprintf(p->result_path, sizeof(p->result_path), "%s/%s-%lld.result", s->dir, s->job_id,
	             s->epoch) >= (int)sizeof(p->result_path) ||
	    snprintf(p->checkpoint_path, sizeof(p->checkpoint_path), "%s/%s-%lld.checkpoint",
	             s->dir, s->job_id, s->epoch) >= (int)sizeof(p->checkpoint_path)) {
		cd_fail(e, CD_INTERNAL, "dir", "the work directory's path is too long.");
		goto out;
	}
	if (!write_file(p->result_path, "", 0) ||
	    !write_file(p->checkpoint_path, s->checkpoint, strlen(s->checkpoint))) {
		cd_fail(e, CD_INTERNAL, "dir", "cannot write the job's files in %s: %s", s->dir,
		        strerror(errno));
		goto out;
	}
	if ((in = body_fd(s->body, s->body_len)) < 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(err, O_CLOEXEC) != 0) {
		cd_fail(e, CD_INTERNAL, NULL, "cannot set up the command's stdin/stdout/stderr: %s",
		        strerror(errno));
		goto out;
	}
	env = env_build(p, s);
	pid = fork();
	if (pid < 0) {
		cd_fail(e, CD_INTERNAL, NULL, "cannot start the command: fork: %s",
		        strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(in, out[1], err[1], s->argv, env, agent);
	setpgid(pid, pid); /* as the child does: whoever runs first */
	p->pid = pid;
	p->out_fd = out[0];
	p->err_fd = err[0];
	out[0] = err[0] = -1;
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
	rc = CD_OK;
out:
	if (env != NULL)
		env_free(env);
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (in >= 0)
		close(in);
	if (rc != CD_OK) {
		unlink(p->result_path);
		unlink(p->checkpoint_path);
	}
	return rc;
}

static void tail_add(struct work_tail *t, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t->len < WORK_TAIL_MAX) {
			t->data[(t->start + t->len++) % WORK_TAIL_MAX] = data[i];
		} else {
			t->data[t->start] = data[i];
			t->start = (t->start + 1) % WORK_TAIL_MAX;
			t->cut = true;
		}
	}
}

void work_proc_drain(struct work_proc *p, int fd)
{
	struct work_tail *t = fd == p->out_fd ? &p->out : &p->err;
	char chunk[8192];

	if (fd < 0)
		return;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n > 0) {
			tail_add(t, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break; /* end of file, or an error: nothing more will come */
	}
	close(fd);
	if (fd == p->out_fd)
		p->out_fd = -1;
	else
		p->err_fd = -1;
}

void work_proc_kill(struct work_proc *p)
{
	if (p->pid > 0)
		kill(-p->pid, SIGKILL);
}

void work_proc_exited(struct work_proc *p, int status)
{
	p->exited = true;
	p->wait_status = status;
	/* what it left behind in its group dies with it (it could hold the
	 * pipes open, and its work would not be reported anyway) */
	kill(-p->pid, SIGKILL);
	p->pid = 0;
	work_proc_drain(p, p->out_fd);
	work_proc_drain(p, p->err_fd);
	/* a survivor that escaped the group keeps the pipe open: stop reading */
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->out_fd = p->err_fd = -1;
}

void work_proc_free(struct work_proc *p)
{
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	if (p->result_path[0] != '\0')
		unlink(p->result_path);
	if (p->checkpoint_path[0] != '\0')
		unlink(p->checkpoint_path);
	memset(p, 0, sizeof(*p));
	p->out_fd = p->err_fd = -1;
}

char *work_tail_text(const struct work_tail *t)
{
	char raw[WORK_TAIL_MAX];
	struct buf b;
	size_t i = 0;
	char *s;

	for (size_t k = 0; k < t->len; k++)
		raw[k] = t->data[(t->start + k) % WORK_TAIL_MAX];
	/* a character whose first bytes were dropped: skip its continuation bytes */
	while (t->cut && i < t->len && i < 3 && ((unsigned char)raw[i] & 0xC0) == 0x80)
		i++;
	buf_init(&b, 4 * WORK_TAIL_MAX + 1);
	while (i < t->len) {
		size_t n = raw[i] == '\0' ? 0 : buf_utf8_len(raw + i, t->len - i);

		if (n == 0) {
			buf_puts(&b, "\xEF\xBF\xBD"); /* U+FFFD */
			i++;
		} else {
			buf_append(&b, raw + i, n);
			i += n;
		}
	}
	s = xstrdup(buf_str(&b));
	buf_reset(&b);
	return s;
}

char *work_read_file(const char *path, size_t max, bool *too_big)
{
	struct stat st;
	char *s = NULL;
	size_t got = 0;
	int fd;

	*too_big = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size == 0 || (size_t)st.st_size > max) {
		*too_big = st.st_size > 0 && (size_t)st.st_size > max;
		close(fd);
		return NULL;
	}
	s = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, s + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	s[got] = '\0';
	if (got == 0) {
		free(s);
		return NULL;
	}
	return s;
}
