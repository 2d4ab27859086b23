/* cli.c -- shared start-up of the binaries; see cli.h. */
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/log.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

void cli_print_version(const char *program)
{
	printf("%s %s\n", program, PACKAGE_VERSION);
}

void cli_die_config(const char *program, const struct cd_error *e)
{
	log_error(e->message, "key", e->field);
	fprintf(stderr, "%s: %s\n", program, e->message);
	exit(2);
}

void cli_load_config(struct config *cfg, const char *program, const char *config_file)
{
	struct cd_error e;

	cd_error_reset(&e);
	log_set_program(program);
	if (config_load(cfg, config_file, &e) != CD_OK) {
		config_free(cfg);
		cli_die_config(program, &e);
	}
	log_set_level((enum log_level)log_level_parse(cfg->log_level));
}
