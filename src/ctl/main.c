/* main.c -- conductorctl: the operator's CLI. The commands live in one file
 * per family (admin.c: tenants and tokens on the database; the others over
 * the HTTP API through client.c), each exporting its table; this file lists
 * the tables, takes the global flags wherever they stand, prints the usage,
 * opens what a command needs and runs it.
 *
 * `--help` anywhere prints the usage of what it follows, with no configuration.
 * The global flags (--config, --url, --token, --json) may come before or after
 * the command; nothing after a `--` is looked at (`work -- COMMAND ARGS`).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "ctl/client.h"
#include "ctl/ctl.h"
#include "data/db.h"

/* THE list of command tables, in the order --help lists them. */
static const struct {
	const struct ctl_command *rows;
	const size_t *n;
} FAMILIES[] = {
	{CTL_ADMIN_COMMANDS, &CTL_ADMIN_NCOMMANDS},
	{CTL_JOBS_COMMANDS, &CTL_JOBS_NCOMMANDS},
	{CTL_TASKS_COMMANDS, &CTL_TASKS_NCOMMANDS},
	{CTL_CONTROL_COMMANDS, &CTL_CONTROL_NCOMMANDS},
	{CTL_CHECK_COMMANDS, &CTL_CHECK_NCOMMANDS},
	{CTL_CONFIG_COMMANDS, &CTL_CONFIG_NCOMMANDS},
	{CTL_WORK_COMMANDS, &CTL_WORK_NCOMMANDS},
};
#define NFAMILIES (sizeof(FAMILIES) / sizeof(FAMILIES[0]))

#define FOR_EACH_COMMAND(cmd)                                                              \
	for (size_t f_ = 0; f_ < NFAMILIES; f_++)                                          \
		for (const struct ctl_command *cmd = FAMILIES[f_].rows;                    \
		     cmd < FAMILIES[f_].rows + *FAMILIES[f_].n; cmd++)

/* "NOUN VERB ARGS" of cmd into out. */
static void command_line(const struct ctl_command *cmd, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s%s%s", cmd->noun, cmd->verb ? " " : "", cmd->verb ? cmd->verb : "",
		 cmd->args[0] ? " " : "", cmd->args);
}

static void usage(FILE *out)
{
	char line[256];

	fprintf(out, "Usage: " PROGRAM " [GLOBAL FLAGS] COMMAND ...\n\nCommands:\n");
	FOR_EACH_COMMAND(cmd) {
		command_line(cmd, line, sizeof(line));
		if (strlen(line) <= 34)
			fprintf(out, "  %-34s %s\n", line, cmd->summary);
		else
			fprintf(out, "  %s\n  %-34s %s\n", line, "", cmd->summary);
	}
	fprintf(out,
		"\n"
		"Global flags (before or after the command):\n"
		"  --config FILE   read key=value lines (see the configuration below)\n"
		"  --url URL       the API's base URL (else CONDUCTOR_URL)\n"
		"  --token TOKEN   the bearer token (else CONDUCTOR_TOKEN, then CONDUCTOR_ADMIN_TOKEN)\n"
		"  --json          print the API's data as JSON, for scripts\n"
		"  --help, --version\n"
		"\n"
		"Exit status: 0 ok, 1 the API (or the database) said no -- its message is\n"
		"printed as it gave it --, 2 usage or configuration, 3 the server cannot be reached.\n"
		"Colour only on a terminal, never with NO_COLOR set.\n\n");
	config_print_help(out);
}

/* Does argv[i] (before any `--`) ask for help? */
static bool asks_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* Does cmd match the words of argv? *words: how many it took (1 or 2). */
static bool matches(const struct ctl_command *cmd, int argc, char **argv, int *words)
{
	if (argc < 1 || strcmp(argv[0], cmd->noun) != 0)
		return false;
	if (cmd->verb == NULL) {
		*words = 1;
		return true;
	}
	*words = 2;
	return argc >= 2 && strcmp(argv[1], cmd->verb) == 0;
}

/* `conductorctl NOUN [VERB] ... --help`: the usage and help of the commands
 * named (every verb of NOUN when the verb is missing), or the whole usage. */
static void print_help(int argc, char **argv)
{
	size_t shown = 0;
	char line[256];
	int words;

	FOR_EACH_COMMAND(cmd) {
		bool noun_only = argc >= 1 && strcmp(argv[0], cmd->noun) == 0 &&
				 (argc < 2 || argv[1][0] == '-');

		if (!matches(cmd, argc, argv, &words) && !noun_only)
			continue;
		command_line(cmd, line, sizeof(line));
		printf("%sUsage: " PROGRAM " %s\n  %s\n", shown++ ? "\n" : "", line, cmd->summary);
		if (cmd->help != NULL)
			printf("\n%s\n", cmd->help);
	}
	if (shown == 0)
		usage(stdout);
	else
		printf("\nSee " PROGRAM " --help for every command, the global flags and the "
		       "configuration.\n");
}

/* `conductorctl jobs` (or `jobs frobnicate`): a noun with no verb of its
 * own names its verbs on one line. False when noun has no verbs. */
static bool list_verbs(const char *noun, const char *verb)
{
	size_t n = 0;

	FOR_EACH_COMMAND(cmd) {
		if (cmd->verb == NULL || strcmp(cmd->noun, noun) != 0)
			continue;
		if (n++ == 0)
			fprintf(stderr, PROGRAM " %s: %s%s%sone of: ", noun, verb ? "unknown verb " : "",
				verb ? verb : "", verb ? "; " : "");
		fprintf(stderr, "%s%s", n > 1 ? ", " : "", cmd->verb);
	}
	if (n > 0)
		fprintf(stderr, " (" PROGRAM " %s --help)\n", noun);
	return n > 0;
}

/* Removes the global flags from argv[0..*argc) (up to a `--`) into ctl.
 * Returns false after printing what is wrong. */
static bool take_global_flags(struct ctl *ctl, int *argc, char **argv)
{
	static const char *const WITH_VALUE[] = {"--config", "--url", "--token"};
	const char **slot[] = {&ctl->config_file, &ctl->url, &ctl->token};
	int out = 0, i;

	for (i = 0; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		bool taken = false;

		if (strcmp(argv[i], "--json") == 0) {
			ctl->json = true;
			continue;
		}
		for (size_t k = 0; k < sizeof(WITH_VALUE) / sizeof(WITH_VALUE[0]) && !taken; k++) {
			size_t n = strlen(WITH_VALUE[k]);

			if (strncmp(argv[i], WITH_VALUE[k], n) != 0)
				continue;
			if (argv[i][n] == '=') {
				*slot[k] = argv[i] + n + 1;
				taken = true;
			} else if (argv[i][n] == '\0') {
				if (i + 1 >= *argc) {
					fprintf(stderr, PROGRAM ": %s needs a value\n", WITH_VALUE[k]);
					return false;
				}
				*slot[k] = argv[++i];
				taken = true;
			}
		}
		if (!taken)
			argv[out++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[out++] = argv[i];
	*argc = out;
	return true;
}

/* Opens what cmd needs into ctl; returns an exit status (0: go on). */
static int open_needs(struct ctl *ctl, const struct ctl_command *cmd, struct client *api)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (cmd->needs == CTL_NEEDS_NOTHING)
		return CTL_EXIT_OK;
	cli_load_config(&ctl->cfg, PROGRAM, ctl->config_file);
	if (cmd->needs == CTL_NEEDS_DB) {
		if (config_require(&ctl->cfg, "database_url", &e) != CD_OK)
			cli_die_config(PROGRAM, &e);
		if (db_open(ctl->cfg.database_url, &ctl->db, &e) != CD_OK)
			return ctl_fail(&e);
		return CTL_EXIT_OK;
	}
	if (client_open(api, ctl, &e) != CD_OK)
		return ctl_fail(&e);
	ctl->api = api;
	return CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct client api;
	struct ctl ctl;
	int c, status, words, rest;
	char **args;

	memset(&ctl, 0, sizeof(ctl));
	rest = argc - 1;
	args = argv + 1;
	if (!take_global_flags(&ctl, &rest, args))
		return CTL_EXIT_USAGE;
	/* --help / --version before any command word */
	optind = 0;
	while (rest > 0 && args[0][0] == '-' && strcmp(args[0], "--") != 0 &&
	       (c = getopt_long(rest + 1, args - 1, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return CTL_EXIT_OK;
		case 'V': cli_print_version(PROGRAM); return CTL_EXIT_OK;
		default: fprintf(stderr, PROGRAM ": see --help\n"); return CTL_EXIT_USAGE;
		}
	}
	if (asks_help(rest, args)) {
		print_help(rest, args);
		return CTL_EXIT_OK;
	}
	FOR_EACH_COMMAND(cmd) {
		if (!matches(cmd, rest, args, &words))
			continue;
		ctl.argc = rest - words;
		ctl.argv = args + words;
		status = open_needs(&ctl, cmd, &api);
		if (status == CTL_EXIT_OK)
			status = cmd->run(&ctl);
		db_close(ctl.db);
		if (cmd->needs != CTL_NEEDS_NOTHING)
			config_free(&ctl.cfg);
		return status;
	}
	/* the whole usage is long: name the problem, point at --help */
	if (rest >= 1 && list_verbs(args[0], rest > 1 ? args[1] : NULL))
		return CTL_EXIT_USAGE;
	if (rest == 0)
		fprintf(stderr, PROGRAM ": no command; see --help\n");
	else
		fprintf(stderr, PROGRAM ": unknown command %s%s%s; see --help\n", args[0],
			rest > 1 ? " " : "", rest > 1 ? args[1] : "");
	return CTL_EXIT_USAGE;
}
