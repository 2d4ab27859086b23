/* ctl.c -- what every conductorctl command file shares: the one way a
 * failure becomes a message and an exit status (ctl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

bool ctl_colour(FILE *f)
{
	const char *no = getenv("NO_COLOR");

	return isatty(fileno(f)) && (no == NULL || no[0] == '\0');
}

char *ctl_relative_time(const char *ts, time_t now, char *out, size_t cap)
{
	static const struct {
		long secs;
		const char *unit;
	} UNITS[] = {{86400, "day"}, {3600, "h"}, {60, "min"}, {1, "s"}};
	struct tm tm;
	long d;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) == NULL) {
		snprintf(out, cap, "-");
		return out;
	}
	t = timegm(&tm);
	d = (long)difftime(now != 0 ? now : time(NULL), t);
	if (d > -5 && d < 5) {
		snprintf(out, cap, "just now");
		return out;
	}
	for (size_t i = 0; i < sizeof(UNITS) / sizeof(UNITS[0]); i++) {
		long n = labs(d) / UNITS[i].secs;

		if (n == 0)
			continue;
		snprintf(out, cap, "%s%ld %s%s%s", d < 0 ? "in " : "", n, UNITS[i].unit,
			 strcmp(UNITS[i].unit, "day") == 0 && n > 1 ? "s" : "", d < 0 ? "" : " ago");
		return out;
	}
	snprintf(out, cap, "-");
	return out;
}
