/* supervise.h -- conductor-fcgi --supervise: one worker process kept running.
 *
 * The supervisor holds the listening socket and runs conductor-fcgi as its
 * child with that socket on the child's stdin (spawn-fcgi's convention, which
 * server_listen() accepts), so connections that arrive while a worker is
 * restarted wait in the socket's backlog instead of failing.
 *
 * A worker that dies of a signal or exits non-zero is started again: within
 * SUPERVISE_FIRST_DELAY_MS when it had run SUPERVISE_STABLE_MS or more, else
 * after a delay that doubles up to SUPERVISE_MAX_DELAY_MS, so a crash loop
 * does not spin. Every restart is a JSON log line (program
 * conductor-fcgi-supervisor; pid, cause, restarts, delay_ms). Not restarted:
 * a worker that exits 0 by itself (someone stopped it: the supervisor exits 0
 * too, as systemd's Restart=on-failure does) or exits 2 (its configuration is
 * wrong; starting it again will not mend it).
 * SIGTERM and SIGINT go to the worker, which finishes its requests; the
 * supervisor then exits with the worker's status. SIGHUP is passed on.
 *
 * In production systemd supervises conductor-fcgi (tools/systemd); this is
 * for the stack of tools/stack (tools/up and the integration tests).
 */
#ifndef CD_SUPERVISE_H
#define CD_SUPERVISE_H

#define SUPERVISE_FIRST_DELAY_MS 100
#define SUPERVISE_MAX_DELAY_MS   30000
#define SUPERVISE_STABLE_MS      10000

/* Runs argv (argv[0] names the program for ps; this program's file, from
 * /proc/self/exe, is what runs)
 * as a worker with listen_fd as its stdin, CONDUCTOR_LISTEN empty and no
 * LISTEN_FDS, and keeps it running as above. pid_file (may be NULL) always
 * holds the current worker's pid. Call from the main thread before any other
 * thread starts. Returns the process's exit status. */
int supervise_run(int listen_fd, char *const argv[], const char *pid_file);

#endif
