/* main.c -- conductor-fcgi: flags, configuration, the schema check, then the
 * FastCGI server (server.c). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/log.h"
#include "data/db.h"
#include "domain/jobs.h"
#include "fcgi/server.h"
#include "fcgi/supervise.h"

#define PROGRAM "conductor-fcgi"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROGRAM " [--listen PATH] [--threads N] [--config FILE]\n"
		"       [--supervise [--pid-file FILE]]\n"
		"\n"
		"FastCGI responder for conductor's HTTP API, to run behind nginx.\n"
		"\n"
		"  --listen PATH   unix socket to create and listen on (CONDUCTOR_LISTEN);\n"
		"                  without it, the inherited socket (systemd, spawn-fcgi)\n"
		"  --threads N     accepting threads, each with its own PostgreSQL connection\n"
		"                  (CONDUCTOR_THREADS; default 2 x cores). Run at least as many as\n"
		"                  nginx keeps idle FastCGI connections (workers x keepalive).\n"
		"  --config FILE   key=value configuration file\n"
		"  --supervise     hold the socket and run the server as a child process,\n"
		"                  restarted when it dies (at once, with a growing delay if\n"
		"                  it keeps dying); for stacks without systemd (tools/stack)\n"
		"  --pid-file FILE with --supervise: where the current child's pid is kept\n"
		"  --help, --version\n"
		"\n"
		"SIGTERM or SIGINT: finish the requests in flight, then exit 0.\n");
	config_print_help(out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'}, {"threads", required_argument, NULL, 't'},
		{"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	  {"supervise", no_argument, NULL, 's'},
		{"pid-file", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0},
	};
	const char *config_file = NULL, *listen_flag = NULL, *threads_flag = NULL,
		   *pid_file = NULL;
	bool supervise = false;
	struct config cfg;
	struct cd_error e;
	struct db *db = NULL;
	int c, fd, threads, status;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_flag = optarg; break;
		case 't': threads_flag = optarg; break;
		case 'c': config_file = optarg; break;
		case 's': supervise = true; break;
		case 'p': pid_file = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': cli_print_version(PROGRAM); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROGRAM ": unexpected argument %s\n", argv[optind]);
		return 2;
	}
	cli_load_config(&cfg, PROGRAM, config_file);
	cd_error_reset(&e);
	if ((listen_flag && config_set(&cfg, "listen", listen_flag, &e) != CD_OK) ||
	    (threads_flag && config_set(&cfg, "threads", threads_flag, &e) != CD_OK) ||
	    config_require(&cfg, "database_url", &e) != CD_OK)
		cli_die_config(PROGRAM, &e);
	threads = cfg.threads > 0 ? (int)cfg.threads : 2 * (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 2;

	/* Fail fast on a database we cannot use: unreachable, or schema behind. */
	if (db_open(cfg.database_url, &db, &e) != CD_OK || db_check_schema(db, &e) != CD_OK) {
		db_close(db);
		log_error(e.message, "key", e.field);
		fprintf(stderr, PROGRAM ": %s\n", e.message);
		config_free(&cfg);
		return e.err == CD_CONFIG ? 2 : 1;
	}
	db_close(db);

	/* Long-polling claims hold a thread each: cap them so that the other
	 * routes always find a free thread (README, "Long-poll"). */
	jobs_set_wait_slots(cfg.claim_wait_max > 0 ? (int)cfg.claim_wait_max : threads / 2);

	fd = server_listen(cfg.listen);
	if (fd < 0) {
		config_free(&cfg);
		return 1;
	}
	if (supervise) {
		/* the child: the same program and flags, but the socket on its stdin */
		char *child[] = {argv[0], NULL, NULL, NULL, NULL, NULL};
		int n = 1;

		if (threads_flag != NULL)
			child[n++] = "--threads", child[n++] = (char *)threads_flag;
		if (config_file != NULL)
			child[n++] = "--config", child[n++] = (char *)config_file;
		status = supervise_run(fd, child, pid_file);
		close(fd);
	} else {
		status = server_run(&cfg, fd, threads);
	}
	if (cfg.listen[0] != '\0')
		unlink(cfg.listen);
	config_free(&cfg);
	return status;
}
