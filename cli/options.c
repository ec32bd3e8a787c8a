/* options.c - one getopt_long parser for every command (see cli.h) */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void opts_init(struct opts *o, const char *cmd, const struct cli_option *table,
	       int argc, char **argv, int in_order)
{
	size_t n = 0, k = 0;

	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->table = table;
	o->argc = argc;
	o->argv = argv;
	if (in_order)
		o->shortopts[k++] = '+';
	/* a leading ':' makes a missing value ':' rather than '?' */
	o->shortopts[k++] = ':';
	for (const struct cli_option *t = table; t && t->name && n < OPTS_MAX; t++, n++) {
		o->longopts[n] = (struct option){ t->name, t->has_arg, NULL, t->id };
		if (t->short_name) {
			o->shortopts[k++] = t->short_name;
			if (t->has_arg != no_argument)
				o->shortopts[k++] = ':';
			if (t->has_arg == optional_argument)
				o->shortopts[k++] = ':';
		}
	}
	o->longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	o->shortopts[k] = '\0';
	o->ind = 1;
	/* 0, not 1: glibc starts afresh, forgetting the last command line */
	optind = 0;
	opterr = 0;
}

static const struct cli_option *find_row(const struct cli_option *t, int id, int is_short)
{
	for (; t && t->name; t++)
		if (is_short ? t->short_name == id : t->id == id)
			return t;
	return NULL;
}

/* what was typed for the current option: "--name" (before any '='), or "-c" */
static void typed_flag(struct opts *o, char *buf, size_t size, int c)
{
	const char *a = optind > 1 && optind - 1 < o->argc ? o->argv[optind - 1] : "";

	if (!strncmp(a, "--", 2))
		snprintf(buf, size, "%.*s", (int)strcspn(a, "="), a);
	else
		snprintf(buf, size, "-%c", c);
}

int opts_next(struct opts *o)
{
	const struct cli_option *row;
	char typed[80];
	int li = -1, c = getopt_long(o->argc, o->argv, o->shortopts, o->longopts, &li);

	o->arg = NULL;
	if (c == -1) {
		o->ind = optind;
		return 0;
	}
	if (c == '?' || c == ':') {
		int is_short = optopt && optind - 1 < o->argc && optind > 1 &&
			       strncmp(o->argv[optind - 1], "--", 2);
		typed_flag(o, typed, sizeof(typed), optopt);
		row = optopt ? find_row(o->table, optopt, is_short) : NULL;
		if (c == ':')
			usage_error(o->cmd, "option '%s' needs a value", typed);
		else if (row && !is_short)
			usage_error(o->cmd, "option '%s' takes no value", typed);
		else
			usage_error(o->cmd, "unknown option '%s'", typed);
		return -1;
	}
	o->arg = optarg;
	if (li >= 0) {
		/* getopt_long takes any unambiguous prefix ("--time"); take only
		 * the whole name, so that a new flag never changes an old line */
		const char *name = o->longopts[li].name;
		const char *a = o->argv[optarg && optarg == o->argv[optind - 1] &&
					optind >= 2 ? optind - 2 : optind - 1];
		size_t n = strlen(name);
		if (strncmp(a, "--", 2) || strncmp(a + 2, name, n) ||
		    (a[2 + n] != '\0' && a[2 + n] != '=')) {
			usage_error(o->cmd, "unknown option '%.*s'", (int)strcspn(a, "="), a);
			return -1;
		}
		snprintf(o->flagbuf, sizeof(o->flagbuf), "--%s", name);
		return c;
	}
	row = find_row(o->table, c, 1);
	snprintf(o->flagbuf, sizeof(o->flagbuf), "-%c", c);
	return row ? row->id : c;
}

void opts_help(FILE *f, const char *heading, const struct cli_option *table)
{
	if (!table || !table->name)
		return;
	fprintf(f, "\n%s:\n", heading);
	for (const struct cli_option *t = table; t->name; t++) {
		char left[64];
		int n;
		if (t->short_name)
			n = snprintf(left, sizeof(left), "-%c, --%s", t->short_name, t->name);
		else
			n = snprintf(left, sizeof(left), "    --%s", t->name);
		if (t->has_arg == required_argument)
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", t->arg);
		else if (t->has_arg == optional_argument)
			snprintf(left + n, sizeof(left) - (size_t)n, "[=%s]", t->arg);
		if (strlen(left) > 24)
			fprintf(f, "  %s\n  %-24s  %s\n", left, "", t->help);
		else
			fprintf(f, "  %-24s  %s\n", left, t->help);
	}
}

static int bad_value(const struct opts *o, const char *why)
{
	return usage_error(o->cmd, "invalid value '%s' for %s: %s", o->arg ? o->arg : "",
			   o->flagbuf, why);
}

/* the digits at the start of s as a number; 0 or a reason */
static const char *leading_number(const char *s, uint64_t *v, char **end)
{
	unsigned long long x;

	if (!*s)
		return "empty";
	if (*s == '-' || *s == '+')
		return "no sign allowed";
	if (*s < '0' || *s > '9')
		return "not a whole number";
	errno = 0;
	x = strtoull(s, end, 10);
	if (errno == ERANGE)
		return "";      /* out of range, said by the caller */
	*v = x;
	return NULL;
}

static int in_range(const struct opts *o, uint64_t v, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	char why[80];

	if (v < min || v > max) {
		snprintf(why, sizeof(why), "out of range (%llu to %llu)",
			 (unsigned long long)min, (unsigned long long)max);
		return bad_value(o, why);
	}
	*out = v;
	return 0;
}

int opt_uint(const struct opts *o, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *why;
	char *end = NULL;
	uint64_t v = 0;

	if ((why = leading_number(o->arg ? o->arg : "", &v, &end)) && *why)
		return bad_value(o, why);
	if (!why && *end)
		return bad_value(o, "not a whole number");
	return in_range(o, why ? UINT64_MAX : v, min, max, out);
}

int opt_size(const struct opts *o, uint64_t min, uint64_t max, uint64_t *out)
{
	static const char units[] = "kKmMgG";
	const char *why, *u;
	char *end = NULL;
	uint64_t v = 0, mul = 1;

	if ((why = leading_number(o->arg ? o->arg : "", &v, &end)) && *why)
		return bad_value(o, why);
	if (!why && *end) {
		if (!(u = strchr(units, *end)) || end[1])
			return bad_value(o, "not a size (a whole number, then k, M or G)");
		mul = (u - units) < 2 ? 1000 : (u - units) < 4 ? 1000000 : 1000000000;
	}
	if (why || v > UINT64_MAX / mul)
		v = UINT64_MAX;
	else
		v *= mul;
	return in_range(o, v, min, max, out);
}

const struct cli_option json_options[] = {
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

int opts_json(const char *cmd, int argc, char **argv, int *json)
{
	struct opts o;
	int id;

	*json = 0;
	opts_init(&o, cmd, json_options, argc, argv, 0);
	while ((id = opts_next(&o)) > 0)
		*json = 1;
	return id < 0 ? -1 : o.ind;
}
