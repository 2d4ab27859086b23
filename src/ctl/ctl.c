/* ctl.c -- what every conductorctl command file shares: the one way a
 * failure becomes a message and an exit status (ctl.h). */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

int ctl_fail(const struct cd_error *e)
{
	fprintf(stderr, PROGRAM ": %s\n", e->message);
	if (e->err == CD_UPSTREAM &&
	    (e->code[0] == '\0' || strcmp(e->code, "service_unavailable") == 0 ||
	     strcmp(e->code, "upstream_timeout") == 0))
		return CTL_EXIT_UNREACHABLE; /* no answer, or nginx's: conductor-fcgi is down */
	if (e->code[0] != '\0')
		return CTL_EXIT_REFUSED; /* the API's own refusal, whatever its status */
	return e->err == CD_INVALID || e->err == CD_CONFIG ? CTL_EXIT_USAGE : CTL_EXIT_REFUSED;
}

int ctl_usage(const char *args)
{
	fprintf(stderr, PROGRAM ": usage: " PROGRAM " %s\n", args);
	return CTL_EXIT_USAGE;
}
