/* server.h -- the FastCGI accept loop: N threads, one listening socket,
 * clean shutdown on SIGTERM/SIGINT. */
#ifndef CD_SERVER_H
#define CD_SERVER_H

#include "base/config.h"

/* Opens the listening socket: a new unix socket at path (mode 0660, a stale
 * socket file replaced), or, when path is empty, the inherited one (systemd
 * socket activation's fd 3, or spawn-fcgi's fd 0). -1 with a log line when
 * neither works. */
int server_listen(const char *path);

/* Serves until SIGTERM or SIGINT; the requests in flight finish first.
 * Returns the process exit status (0 after a clean stop). */
int server_run(const struct config *cfg, int listen_fd, int threads);

#endif
