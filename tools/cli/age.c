/*
 * age.c: the freshness check of `amber snapshots --max-age`.  A backup
 * that silently stopped running is the failure nobody notices until the
 * restore, so the check is made for a monitoring system: exit 1 and one
 * line saying how old the newest snapshot is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "age.h"
#include "cli.h"

#define AGE_MAX ((int64_t)100 * 366 * 86400)

int
age_parse(const char *s, int64_t *secs)
{
	int64_t total = 0;

	if (*s == '\0')
		return -EINVAL;
	while (*s) {
		int64_t n = 0;
		int64_t unit;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (*s++ - '0');
			if (n > AGE_MAX)
				return -EINVAL;
		}
		switch (*s++) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			return -EINVAL;
		}
		if (n > AGE_MAX / unit || total + n * unit > AGE_MAX)
			return -EINVAL;
		total += n * unit;
	}
	if (total == 0)
		return -EINVAL;
	*secs = total;
	return 0;
}

/* "1d02h03m" style, for the message. */
static void
age_format(int64_t a, char *buf, size_t cap)
{
	if (a >= 86400)
		snprintf(buf, cap, "%" PRId64 "d%02" PRId64 "h%02" PRId64 "m",
		    a / 86400, a % 86400 / 3600, a % 3600 / 60);
	else if (a >= 3600)
		snprintf(buf, cap, "%" PRId64 "h%02" PRId64 "m", a / 3600,
		    a % 3600 / 60);
	else
		snprintf(buf, cap, "%" PRId64 "m%02" PRId64 "s", a / 60,
		    a % 60);
}

int
age_check(const char *cmd, const struct store_snap_list *l, int64_t max,
    int64_t now)
{
	const struct store_snap *sn;
	char age[64];
	char lim[64];

	if (store_snap_find(l, "latest", &sn) < 0) {
		cli_err(cmd, "no snapshot at all (--max-age)");
		return CLI_EXIT_ERROR;
	}
	if (now - sn->time_sec <= max)
		return CLI_EXIT_OK;
	age_format(now - sn->time_sec, age, sizeof(age));
	age_format(max, lim, sizeof(lim));
	cli_err(cmd, "the newest snapshot, %s, is %s old: more than "
	    "--max-age %s", sn->name, age, lim);
	return CLI_EXIT_ERROR;
}
