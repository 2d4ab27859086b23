/* cli.h -- what every conductor binary does with its command line:
 * --help, --version, --config FILE, and loading the configuration.
 * Each main keeps its own flag table; this is the shared start-up. */
#ifndef CD_CLI_H
#define CD_CLI_H

#include "base/config.h"

/* Loads the configuration (defaults, the --config file, then CONDUCTOR_*),
 * sets the log level, and exits with status 2 and a message naming the bad
 * key when anything is wrong. Never returns on failure. */
void cli_load_config(struct config *cfg, const char *program, const char *config_file);

/* Prints "program VERSION" on stdout. */
void cli_print_version(const char *program);

/* Prints message (and the bad key) on stderr as a JSON log line and exits 2. */
void cli_die_config(const char *program, const struct cd_error *e) __attribute__((noreturn));

#endif
