/*
 * The spamtest, spamtestplus and virustest extensions (RFC 5235): turn the
 * verdict a scanner wrote into a header field into the standard 0..10
 * (virustest 0..5, :percent 0..100) scale, configured as Pigeonhole does
 * with sieve_spamtest_* / sieve_virustest_*. Runs in roost-lda; the header
 * values are hostile and only parsed as bounded decimals.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sieve-private.h"

struct tst_scan {
	struct sieve_match match;
	bool virus;
	bool percent;
};

static const struct sieve_tag_def spamtest_tags[] = {
	{"percent", SIEVE_PARAM_NONE, SIEVE_EXT_SPAMTESTPLUS},
};

static bool tst_scan_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			      struct sieve_args *args)
{
	struct tst_scan *t = p_malloc(v->script->pool, sizeof(*t));

	if (t == NULL || !sieve_v_match(v, node, args, args->pos[0]))
		return false;
	t->match = args->match;
	t->virus = strcasecmp(node->name, "virustest") == 0;
	t->percent = !t->virus && args->tag_set[0];
	node->data = t;
	return true;
}

/* Parses a decimal like "-3.25"; false when it is not one. */
static bool parse_decimal(const char *s, double *v_r)
{
	double v = 0, scale = 1;
	bool neg = false, digits = false;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	while (isdigit((unsigned char)*s)) {
		if (v < 1e12)
			v = v * 10 + (*s - '0');
		s++;
		digits = true;
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			scale /= 10;
			v += (*s - '0') * scale;
			s++;
			digits = true;
		}
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (!digits || *s != '\0')
		return false;
	*v_r = neg ? -v : v;
	return true;
}

/*
 * Reads a "Header" or "Header: regex" setting's value from the message: the
 * first field, or the regex's first group. NULL when it is not there.
 */
static const char *spec_value(struct sieve_interp *in, const char *spec)
{
	const char *colon = strchr(spec, ':');
	char *name;
	struct sieve_str *vals;
	int n;

	name = colon == NULL ? p_strdup(in->pool, spec)
			     : p_strndup(in->pool, spec, (size_t)(colon - spec));
	if (name == NULL)
		return NULL;
	while (*name != '\0' && isspace((unsigned char)name[strlen(name) - 1]))
		name[strlen(name) - 1] = '\0';
	n = sieve_msgview_get(in->msg, name, true, &vals);
	if (n <= 0)
		return NULL;
	if (colon != NULL) {
		const char *re_s = colon + 1;
		regmatch_t pm[2];
		regex_t re;
		char *out = NULL;

		while (*re_s == ' ' || *re_s == '\t')
			re_s++;
		if (regcomp(&re, re_s, REG_EXTENDED) != 0)
			return NULL;
		if (regexec(&re, vals[0].s, 2, pm, 0) == 0 && pm[1].rm_so >= 0)
			out = p_strndup(in->pool, vals[0].s + pm[1].rm_so,
					(size_t)(pm[1].rm_eo - pm[1].rm_so));
		regfree(&re);
		return out;
	}
	return vals[0].s;
}

/* The score ratio in [0,1], or -1 when the message was not scanned. */
static double scan_ratio(struct sieve_interp *in, const struct sieve_scantest_settings *st,
			 bool virus)
{
	double max = 0, status = 0;
	const char *v;
	unsigned int i, max_text = virus ? 5 : 10;

	if (st->status_type == SIEVE_SCANTEST_NONE || st->status_header == NULL)
		return -1;
	if (st->status_type != SIEVE_SCANTEST_TEXT) {
		if (st->max_header != NULL) {
			v = spec_value(in, st->max_header);
			if (v == NULL || !parse_decimal(v, &max))
				return -1;
		} else if (st->max_value == NULL || !parse_decimal(st->max_value, &max)) {
			return -1;
		}
		if (max == 0)
			return -1;
	} else {
		max = max_text;
	}
	v = spec_value(in, st->status_header);
	if (v == NULL)
		return -1;
	switch (st->status_type) {
	case SIEVE_SCANTEST_SCORE:
		if (!parse_decimal(v, &status))
			return -1;
		break;
	case SIEVE_SCANTEST_STRLEN:
		status = (double)strlen(v);
		break;
	case SIEVE_SCANTEST_TEXT:
		for (i = 0; i <= max_text; i++) {
			if (st->text_value[i] != NULL && strcmp(v, st->text_value[i]) == 0)
				break;
		}
		if (i > max_text)
			return -1;
		status = i;
		break;
	case SIEVE_SCANTEST_NONE:
		return -1;
	}
	/* Single precision, as Pigeonhole computes it, so edges agree. */
	if (status < 0)
		return 0;
	if (status > max)
		return 1;
	return (double)((float)status / (float)max);
}

static int tst_scan(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_scan *t = node->data;
	double ratio =
		scan_ratio(in, t->virus ? &in->set->virustest : &in->set->spamtest, t->virus);
	struct sieve_str val;
	char num[16];
	int score;

	if (ratio < 0) {
		score = 0;
	} else if (t->percent) {
		score = (int)((float)ratio * 100 + 0.001);
	} else if (t->virus) {
		score = (int)((float)ratio * 4 + 1.001);
	} else {
		score = (int)((float)ratio * 9 + 1.001);
	}
	(void)snprintf(num, sizeof(num), "%d", score);
	val.s = num;
	val.len = strlen(num);
	return sieve_rt_match_values(in, node, &t->match, &val, 1);
}

const struct sieve_cmd_def sieve_ext_spamtest_cmds[] = {
	{.name = "spamtest",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_SPAMTEST,
	 .common_tags = SIEVE_TAGS_MATCH,
	 .tags = spamtest_tags,
	 .tags_count = N_ELEMENTS(spamtest_tags),
	 .pos = {SIEVE_PARAM_STRING},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"value"},
	 .validate = tst_scan_validate,
	 .test = tst_scan},
	{.name = "virustest",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_VIRUSTEST,
	 .common_tags = SIEVE_TAGS_MATCH,
	 .pos = {SIEVE_PARAM_STRING},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"value"},
	 .validate = tst_scan_validate,
	 .test = tst_scan},
};

const unsigned int sieve_ext_spamtest_cmds_count = N_ELEMENTS(sieve_ext_spamtest_cmds);
