/* ctl.h -- what every conductorctl command shares: the run's state, the
 * command row, the exit statuses. Each file of src/ctl/ holds one family of
 * commands and exports its table (CTL_<FAMILY>_COMMANDS); main.c lists the
 * tables, parses the global flags and dispatches.
 *
 * Exit statuses (documented in --help and README):
 *   0 ok, 1 the API (or the database) said no, 2 usage or configuration,
 *   3 the server cannot be reached.
 */
#ifndef CD_CTL_H
#define CD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "base/config.h"
#include "base/err.h"

#define PROGRAM "conductorctl"

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REFUSED = 1,     /* the API or the database said no */
	CTL_EXIT_USAGE = 2,       /* bad arguments or configuration */
	CTL_EXIT_UNREACHABLE = 3, /* no answer from the server */
};

/* What a command needs opened before it runs. */
enum ctl_needs {
	CTL_NEEDS_NOTHING, /* the command reads what it needs itself (check, config) */
	CTL_NEEDS_DB,      /* database_url, opened into ctl->db (tenant, token) */
	CTL_NEEDS_API,     /* url + token (or admin_token), into ctl->api (client.h) */
};

struct db;
struct client;

/* One run of conductorctl. Filled by main.c; commands read it. */
struct ctl {
	struct config cfg;       /* loaded unless the command needs nothing */
	const char *config_file; /* --config FILE, or NULL; borrowed from argv */
	const char *url;         /* --url, or NULL: the configuration's url */
	const char *token;       /* --token, or NULL: token, then admin_token */
	bool json;               /* --json: print the API's data, for scripts */
	struct db *db;           /* CTL_NEEDS_DB: open; else NULL */
	struct client *api;      /* CTL_NEEDS_API: ready; else NULL */
	int argc;                /* the command's own arguments, after its words */
	char **argv;             /* argv[-1] is the command's last word (getopt) */
};

/* One command: `conductorctl NOUN [VERB] ARGS...`. A one-word command
 * (status, work, check) has verb NULL. */
struct ctl_command {
	const char *noun;
	const char *verb;
	int (*run)(struct ctl *ctl); /* returns an enum ctl_exit */
	enum ctl_needs needs;
	const char *args;    /* the arguments, after the words: "--role ROLE --name NAME" */
	const char *summary; /* one line for the command list */
	const char *help;    /* more lines for `NOUN VERB --help`, with an example; may be NULL */
};

/* The families' tables (each file of src/ctl/ exports its own). */
extern const struct ctl_command CTL_ADMIN_COMMANDS[];
extern const size_t CTL_ADMIN_NCOMMANDS;
extern const struct ctl_command CTL_JOBS_COMMANDS[];
extern const size_t CTL_JOBS_NCOMMANDS;
extern const struct ctl_command CTL_TASKS_COMMANDS[];
extern const size_t CTL_TASKS_NCOMMANDS;
extern const struct ctl_command CTL_CONTROL_COMMANDS[];
extern const size_t CTL_CONTROL_NCOMMANDS;
extern const struct ctl_command CTL_CHECK_COMMANDS[];
extern const size_t CTL_CHECK_NCOMMANDS;
extern const struct ctl_command CTL_CONFIG_COMMANDS[];
extern const size_t CTL_CONFIG_NCOMMANDS;
extern const struct ctl_command CTL_WORK_COMMANDS[];
extern const size_t CTL_WORK_NCOMMANDS;

/* Prints "conductorctl: <message>" on stderr and returns the exit status for
 * e: 2 for CD_INVALID/CD_CONFIG (usage), 3 for CD_UPSTREAM (unreachable), 1
 * otherwise. */
int ctl_fail(const struct cd_error *e);

/* Prints "conductorctl: usage: conductorctl <args>" on stderr; returns 2. */
int ctl_usage(const char *args);

/* Colour on f? Only when f is a terminal and NO_COLOR is unset or empty. */
bool ctl_colour(FILE *f);

/* "3 min ago", "in 6 days", "just now" for an API timestamp
 * ("2026-12-03T19:22:54.178Z") against now (time(NULL) when 0); "-" for NULL
 * or unparseable text. Writes at most cap bytes into out; returns out. */
char *ctl_relative_time(const char *ts, time_t now, char *out, size_t cap);

/* A command parses its own flags with getopt_long(ctl->argc + 1,
 * ctl->argv - 1, ...) after setting optind = 0. */

#endif
