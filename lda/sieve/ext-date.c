/*
 * The date and currentdate tests (RFC 5260): dates from header fields
 * (with :index) or the current time, converted to a time zone and cut into
 * date parts. Runs in roost-lda; header dates are parsed by the message
 * parser and anything unparsable simply does not match.
 */
#include <stdio.h>
#include <string.h>

#include "sieve-private.h"

static const char *const date_parts[] = {
	"year",	  "month", "day",     "date",  "julian", "hour",    "minute",
	"second", "time",  "iso8601", "std11", "zone",	 "weekday",
};

enum zone_mode { ZONE_LOCAL, ZONE_FIXED, ZONE_ORIGINAL };

struct tst_date {
	struct sieve_match match;
	enum zone_mode zmode;
	struct sieve_tstr zone;
	struct sieve_tstr header;
	struct sieve_tstr part;
	uint64_t index;
	bool last;
	bool current;
};

enum { DATE_TAG_ZONE, DATE_TAG_ORIGINALZONE };

static const struct sieve_tag_def date_tags[] = {
	[DATE_TAG_ZONE] = {"zone", SIEVE_PARAM_STRING, -1},
	[DATE_TAG_ORIGINALZONE] = {"originalzone", SIEVE_PARAM_NONE, -1},
};

static const struct sieve_tag_def currentdate_tags[] = {
	{"zone", SIEVE_PARAM_STRING, -1},
};

/* Parses "+hhmm" / "-hhmm" into minutes east of UTC. */
static bool parse_zone(const char *s, size_t len, int *min_r)
{
	int h, m;

	if (len != 5 || (s[0] != '+' && s[0] != '-'))
		return false;
	if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return false;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23)
		return false;
	*min_r = (h * 60 + m) * (s[0] == '-' ? -1 : 1);
	return true;
}

static bool valid_date_part(const char *s)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(date_parts); i++) {
		if (strcasecmp(date_parts[i], s) == 0)
			return true;
	}
	return false;
}

static bool date_validate_common(struct sieve_validator *v, struct sieve_ast_node *node,
				 struct sieve_args *args, struct tst_date *t,
				 const struct sieve_ast_arg *zone_arg,
				 const struct sieve_ast_arg *part_arg,
				 const struct sieve_ast_arg *keys)
{
	if (zone_arg != NULL) {
		int off;

		t->zmode = ZONE_FIXED;
		if (!sieve_v_tstr(v, zone_arg, 0, &t->zone))
			return false;
		if (sieve_tstr_is_const(&t->zone) &&
		    !parse_zone(t->zone.lit.s, t->zone.lit.len, &off)) {
			sieve_v_warning(v, zone_arg->line, zone_arg->col,
					"specified :zone argument '%s' is not a valid timezone",
					sieve_sanitize(v->script->pool, t->zone.lit.s, 64));
		}
	}
	if (!sieve_v_tstr(v, part_arg, 0, &t->part))
		return false;
	/* Pigeonhole only warns: an unknown part never matches. */
	if (sieve_tstr_is_const(&t->part) && !valid_date_part(t->part.lit.s))
		sieve_v_warning(v, part_arg->line, part_arg->col,
				"specified date part `%s' is not known",
				sieve_sanitize(v->script->pool, t->part.lit.s, 64));
	if (!sieve_v_match(v, node, args, keys))
		return false;
	t->match = args->match;
	t->index = args->index;
	t->last = args->last;
	node->data = t;
	return true;
}

static bool tst_date_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			      struct sieve_args *args)
{
	struct tst_date *t = p_malloc(v->script->pool, sizeof(*t));

	if (t == NULL)
		return false;
	if (args->tag_set[DATE_TAG_ZONE] && args->tag_set[DATE_TAG_ORIGINALZONE]) {
		sieve_v_error(v, node->line, node->col,
			      "the :zone and :originalzone arguments of the date test are "
			      "mutually exclusive");
		return false;
	}
	if (args->tag_set[DATE_TAG_ORIGINALZONE])
		t->zmode = ZONE_ORIGINAL;
	if (!sieve_v_tstr(v, args->pos[0], 0, &t->header))
		return false;
	if (sieve_tstr_is_const(&t->header) &&
	    !sieve_valid_header_name(t->header.lit.s, t->header.lit.len)) {
		sieve_v_error(v, args->pos[0]->line, args->pos[0]->col,
			      "specified header field name '%s' is invalid",
			      sieve_sanitize(v->script->pool, t->header.lit.s, 64));
		return false;
	}
	return date_validate_common(v, node, args, t, args->tag_arg[DATE_TAG_ZONE], args->pos[1],
				    args->pos[2]);
}

static bool tst_currentdate_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				     struct sieve_args *args)
{
	struct tst_date *t = p_malloc(v->script->pool, sizeof(*t));

	if (t == NULL)
		return false;
	t->current = true;
	return date_validate_common(v, node, args, t, args->tag_arg[0], args->pos[0], args->pos[1]);
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Formats one date part of time t shown in zone off (minutes). */
static char *date_part(struct pool *pool, const char *part, time_t t, int off)
{
	time_t local = t + (time_t)off * 60;
	struct tm tm;
	int aoff = off < 0 ? -off : off;
	char sign = off < 0 ? '-' : '+';

	if (gmtime_r(&local, &tm) == NULL)
		return NULL;
	if (strcasecmp(part, "year") == 0)
		return p_strdup_printf(pool, "%04d", tm.tm_year + 1900);
	if (strcasecmp(part, "month") == 0)
		return p_strdup_printf(pool, "%02d", tm.tm_mon + 1);
	if (strcasecmp(part, "day") == 0)
		return p_strdup_printf(pool, "%02d", tm.tm_mday);
	if (strcasecmp(part, "date") == 0)
		return p_strdup_printf(pool, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
				       tm.tm_mday);
	if (strcasecmp(part, "julian") == 0) {
		long long days = (long long)(local >= 0 ? local / 86400 : (local - 86399) / 86400);

		return p_strdup_printf(pool, "%lld", days + 40587);
	}
	if (strcasecmp(part, "hour") == 0)
		return p_strdup_printf(pool, "%02d", tm.tm_hour);
	if (strcasecmp(part, "minute") == 0)
		return p_strdup_printf(pool, "%02d", tm.tm_min);
	if (strcasecmp(part, "second") == 0)
		return p_strdup_printf(pool, "%02d", tm.tm_sec);
	if (strcasecmp(part, "time") == 0)
		return p_strdup_printf(pool, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (strcasecmp(part, "iso8601") == 0) {
		if (off == 0)
			return p_strdup_printf(pool, "%04d-%02d-%02dT%02d:%02d:%02dZ",
					       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
					       tm.tm_hour, tm.tm_min, tm.tm_sec);
		return p_strdup_printf(pool, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
				       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				       tm.tm_min, tm.tm_sec, sign, aoff / 60, aoff % 60);
	}
	if (strcasecmp(part, "std11") == 0)
		return p_strdup_printf(pool, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
				       wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
				       tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
				       aoff / 60, aoff % 60);
	if (strcasecmp(part, "zone") == 0)
		return p_strdup_printf(pool, "%c%02d%02d", sign, aoff / 60, aoff % 60);
	if (strcasecmp(part, "weekday") == 0)
		return p_strdup_printf(pool, "%d", tm.tm_wday);
	return NULL;
}

static int tst_date(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_date *t = node->data;
	struct sieve_str part, zone, *hvals = NULL, *vals;
	unsigned int i, n = 0;
	int count, off = 0;
	bool fixed = false;

	if (!sieve_rt_expand(in, &t->part, &part))
		return sieve_rt_error(in, node, "out of memory");
	if (!valid_date_part(part.s))
		return 0;
	if (t->zmode == ZONE_FIXED) {
		if (!sieve_rt_expand(in, &t->zone, &zone))
			return sieve_rt_error(in, node, "out of memory");
		fixed = parse_zone(zone.s, zone.len, &off);
	}
	if (t->current) {
		time_t now = sieve_rt_now(in);
		struct sieve_str v;

		if (!fixed)
			off = sieve_rt_tz_offset(in, now);
		v.s = date_part(in->pool, part.s, now, off);
		if (v.s == NULL)
			return 0;
		v.len = strlen(v.s);
		return sieve_rt_match_values(in, node, &t->match, &v, 1);
	}
	{
		struct sieve_tlist names;

		names.items = (struct sieve_tstr *)&t->header;
		names.count = 1;
		count = sieve_rt_header_values(in, node, &names, t->index, t->last, false, &hvals);
	}
	if (count < 0)
		return -1;
	vals = p_malloc_array(in->pool, (size_t)count + 1, sizeof(*vals));
	if (vals == NULL)
		return sieve_rt_error(in, node, "out of memory");
	for (i = 0; i < (unsigned int)count; i++) {
		const char *s = hvals[i].s;
		size_t len = hvals[i].len;
		const char *semi = NULL, *p;
		time_t tt;
		int orig_off, use_off;

		/* A Received field carries its date after the last ';'. */
		for (p = s; p < s + len; p++) {
			if (*p == ';')
				semi = p;
		}
		if (semi != NULL) {
			len -= (size_t)(semi + 1 - s);
			s = semi + 1;
			while (len > 0 && (*s == ' ' || *s == '\t')) {
				s++;
				len--;
			}
		}
		if (!in->msg->ops->parse_date(in->msg->ctx, s, len, &tt, &orig_off))
			continue;
		if (t->zmode == ZONE_ORIGINAL)
			use_off = orig_off;
		else if (fixed)
			use_off = off;
		else
			use_off = sieve_rt_tz_offset(in, tt);
		vals[n].s = date_part(in->pool, part.s, tt, use_off);
		if (vals[n].s == NULL)
			continue;
		vals[n].len = strlen(vals[n].s);
		n++;
	}
	return sieve_rt_match_values(in, node, &t->match, vals, n);
}

const struct sieve_cmd_def sieve_ext_date_cmds[] = {
	{.name = "date",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_DATE,
	 .common_tags = SIEVE_TAGS_MATCH | SIEVE_TAGS_INDEX,
	 .tags = date_tags,
	 .tags_count = N_ELEMENTS(date_tags),
	 .pos = {SIEVE_PARAM_STRING, SIEVE_PARAM_STRING, SIEVE_PARAM_STRLIST},
	 .pos_min = 3,
	 .pos_max = 3,
	 .pos_names = {"header name", "date part", "key list"},
	 .validate = tst_date_validate,
	 .test = tst_date},
	{.name = "currentdate",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_DATE,
	 .common_tags = SIEVE_TAGS_MATCH,
	 .tags = currentdate_tags,
	 .tags_count = N_ELEMENTS(currentdate_tags),
	 .pos = {SIEVE_PARAM_STRING, SIEVE_PARAM_STRLIST},
	 .pos_min = 2,
	 .pos_max = 2,
	 .pos_names = {"date part", "key list"},
	 .validate = tst_currentdate_validate,
	 .test = tst_date},
};

const unsigned int sieve_ext_date_cmds_count = N_ELEMENTS(sieve_ext_date_cmds);
