/*
 * Mail date parsing and formatting (see mail-date.h). Runs in the sandboxed
 * mail processes on untrusted header text. Calendar arithmetic is done here
 * (days from civil date) rather than with timegm()/localtime(), so results
 * do not depend on the process's TZ or on files the sandbox may hide.
 */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "message-util.h"
#include "mail-date.h"

static const char month_names[12][4] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};
static const char month_names_cap[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char day_names[7][4] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
static const char day_names_cap[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static const struct {
	const char *name;
	int offset;
} zone_names[] = {
	{"ut", 0},	  {"utc", 0},	    {"gmt", 0},	      {"z", 0},
	{"est", -5 * 60}, {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60},
	{"mst", -7 * 60}, {"mdt", -6 * 60}, {"pst", -8 * 60}, {"pdt", -7 * 60},
};

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y_r, unsigned int *m_r, unsigned int *d_r)
{
	int64_t era, y;
	unsigned int doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned int)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = doy - (153 * mp + 2) / 5 + 1;
	*m_r = mp < 10 ? mp + 3 : mp - 9;
	*y_r = y + (*m_r <= 2);
}

static unsigned int days_in_month(int64_t y, unsigned int m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

struct date_lexer {
	const uint8_t *s;
	size_t len;
	size_t pos;
};

enum date_tok_type {
	DTOK_END,
	DTOK_NUMBER,
	DTOK_WORD,
	DTOK_OTHER,
};

struct date_tok {
	enum date_tok_type type;
	const uint8_t *p;
	size_t len;
	uint8_t c;
};

static bool is_alpha(uint8_t c)
{
	c = message_ascii_lower(c);
	return c >= 'a' && c <= 'z';
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Skips whitespace, commas and (nested) comments. */
static void date_skip_cfws(struct date_lexer *lx)
{
	while (lx->pos < lx->len) {
		uint8_t c = lx->s[lx->pos];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
			lx->pos++;
		} else if (c == '(') {
			size_t depth = 0;

			while (lx->pos < lx->len) {
				c = lx->s[lx->pos++];
				if (c == '\\')
					lx->pos++;
				else if (c == '(')
					depth++;
				else if (c == ')' && --depth == 0)
					break;
			}
			if (lx->pos > lx->len)
				lx->pos = lx->len;
		} else {
			break;
		}
	}
}

static void date_next(struct date_lexer *lx, struct date_tok *t)
{
	size_t start;

	date_skip_cfws(lx);
	memset(t, 0, sizeof(*t));
	if (lx->pos >= lx->len) {
		t->type = DTOK_END;
		return;
	}
	start = lx->pos;
	t->p = lx->s + start;
	if (is_digit(lx->s[start])) {
		while (lx->pos < lx->len && is_digit(lx->s[lx->pos]))
			lx->pos++;
		t->type = DTOK_NUMBER;
	} else if (is_alpha(lx->s[start])) {
		while (lx->pos < lx->len && is_alpha(lx->s[lx->pos]))
			lx->pos++;
		t->type = DTOK_WORD;
	} else {
		t->type = DTOK_OTHER;
		t->c = lx->s[start];
		lx->pos++;
	}
	t->len = lx->pos - start;
}

static bool tok_number(const struct date_tok *t, size_t max_digits, unsigned int *n_r)
{
	unsigned int n = 0;

	if (t->type != DTOK_NUMBER || t->len > max_digits)
		return false;
	for (size_t i = 0; i < t->len; i++)
		n = n * 10 + (unsigned int)(t->p[i] - '0');
	*n_r = n;
	return true;
}

/* Month 1..12 from a name whose first three letters match; 0 if none. */
static unsigned int tok_month(const struct date_tok *t)
{
	if (t->type != DTOK_WORD || t->len < 3)
		return 0;
	for (unsigned int i = 0; i < 12; i++) {
		if (message_mem_caseeq(t->p, month_names[i], 3))
			return i + 1;
	}
	return 0;
}

static bool tok_is_day_name(const struct date_tok *t)
{
	if (t->type != DTOK_WORD || t->len < 3)
		return false;
	for (unsigned int i = 0; i < 7; i++) {
		if (message_mem_caseeq(t->p, day_names[i], 3))
			return true;
	}
	return false;
}

/* Reads "hh:mm[:ss]" starting with the number token t. */
static bool date_read_time(struct date_lexer *lx, struct date_tok *t, unsigned int *h_r,
			   unsigned int *m_r, unsigned int *s_r)
{
	if (!tok_number(t, 2, h_r))
		return false;
	date_next(lx, t);
	if (t->type != DTOK_OTHER || t->c != ':')
		return false;
	date_next(lx, t);
	if (!tok_number(t, 2, m_r))
		return false;
	*s_r = 0;
	/* Seconds are optional; t ends up on the token after the time. */
	date_next(lx, t);
	if (t->type == DTOK_OTHER && t->c == ':') {
		date_next(lx, t);
		if (!tok_number(t, 2, s_r))
			return false;
		date_next(lx, t);
	}
	return *h_r <= 23 && *m_r <= 59 && *s_r <= 60;
}

/* Reads the zone from t (already the token after the time). */
static int date_read_zone(struct date_lexer *lx, struct date_tok *t)
{
	if (t->type == DTOK_OTHER && (t->c == '+' || t->c == '-')) {
		int sign = t->c == '-' ? -1 : 1;
		unsigned int hhmm;

		/* The digits must follow the sign directly. */
		if (lx->pos >= lx->len || !is_digit(lx->s[lx->pos]))
			return 0;
		date_next(lx, t);
		if (t->len != 4 || !tok_number(t, 4, &hhmm))
			return 0;
		if (hhmm / 100 > 23 || hhmm % 100 > 59)
			return 0;
		return sign * (int)((hhmm / 100) * 60 + hhmm % 100);
	}
	if (t->type == DTOK_WORD) {
		for (size_t i = 0; i < N_ELEMENTS(zone_names); i++) {
			if (message_mem_caseeq_str(t->p, t->len, zone_names[i].name))
				return zone_names[i].offset;
		}
	}
	/* Military zones and unknown names mean "no information" (RFC 5322 4.3). */
	return 0;
}

static bool date_year_fix(const struct date_tok *t, unsigned int *year)
{
	/* RFC 5322 4.3: two digits below 50 are 20xx, other two or three digit
	   years get 1900 added. */
	if (t->len <= 2)
		*year += *year < 50 ? 2000 : 1900;
	else if (t->len == 3)
		*year += 1900;
	return *year >= 1900 && *year <= 9999;
}

static bool date_make(unsigned int year, unsigned int mon, unsigned int day, unsigned int h,
		      unsigned int mi, unsigned int sec, int tz, time_t *time_r)
{
	int64_t t;

	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
		return false;
	if (sec == 60)
		sec = 59; /* leap second */
	t = days_from_civil(year, mon, day) * 86400 + h * 3600 + mi * 60 + sec;
	t -= (int64_t)tz * 60;
	if ((int64_t)(time_t)t != t)
		return false;
	*time_r = (time_t)t;
	return true;
}

bool mail_date_parse(const uint8_t *s, size_t len, time_t *time_r, int *tz_offset_r)
{
	struct date_lexer lx = {s, len, 0};
	struct date_tok t;
	unsigned int day, mon, year, h, mi, sec;
	int tz;

	date_next(&lx, &t);
	if (tok_is_day_name(&t))
		date_next(&lx, &t);
	if (t.type == DTOK_WORD) {
		/* asctime layout: "Feb  7 21:52:25 1994" (zone may follow). */
		mon = tok_month(&t);
		if (mon == 0)
			return false;
		date_next(&lx, &t);
		if (!tok_number(&t, 2, &day))
			return false;
		date_next(&lx, &t);
		if (!date_read_time(&lx, &t, &h, &mi, &sec))
			return false;
		tz = 0;
		if (t.type == DTOK_WORD || t.type == DTOK_OTHER) {
			tz = date_read_zone(&lx, &t);
			date_next(&lx, &t);
		}
		if (!tok_number(&t, 4, &year) || !date_year_fix(&t, &year))
			return false;
	} else {
		if (!tok_number(&t, 2, &day))
			return false;
		date_next(&lx, &t);
		if (t.type == DTOK_OTHER && t.c == '-')
			date_next(&lx, &t);
		mon = tok_month(&t);
		if (mon == 0)
			return false;
		date_next(&lx, &t);
		if (t.type == DTOK_OTHER && t.c == '-')
			date_next(&lx, &t);
		if (!tok_number(&t, 4, &year) || !date_year_fix(&t, &year))
			return false;
		date_next(&lx, &t);
		if (!date_read_time(&lx, &t, &h, &mi, &sec))
			return false;
		tz = date_read_zone(&lx, &t);
	}
	if (!date_make(year, mon, day, h, mi, sec, tz, time_r))
		return false;
	*tz_offset_r = tz;
	return true;
}

/* Strict "d-Mon-yyyy" or "dd-Mon-yyyy" at s; returns chars used or 0. */
static size_t imap_date_read(const char *s, unsigned int *day_r, unsigned int *mon_r,
			     unsigned int *year_r)
{
	size_t i = 0;
	unsigned int day = 0, year = 0, mon = 0;

	if (s[0] == ' ')
		i++;
	if (!is_digit((uint8_t)s[i]))
		return 0;
	day = (unsigned int)(s[i++] - '0');
	if (is_digit((uint8_t)s[i]))
		day = day * 10 + (unsigned int)(s[i++] - '0');
	if (s[i++] != '-')
		return 0;
	for (unsigned int m = 0; m < 12; m++) {
		if (strncasecmp(s + i, month_names[m], 3) == 0) {
			mon = m + 1;
			break;
		}
	}
	if (mon == 0)
		return 0;
	i += 3;
	if (s[i++] != '-')
		return 0;
	for (int k = 0; k < 4; k++) {
		if (!is_digit((uint8_t)s[i]))
			return 0;
		year = year * 10 + (unsigned int)(s[i++] - '0');
	}
	*day_r = day;
	*mon_r = mon;
	*year_r = year;
	return i;
}

bool mail_date_parse_imap_date(const char *s, time_t *time_r)
{
	unsigned int day, mon, year;
	size_t n = imap_date_read(s, &day, &mon, &year);

	if (n == 0 || s[n] != '\0')
		return false;
	return date_make(year, mon, day, 0, 0, 0, 0, time_r);
}

bool mail_date_parse_imap_datetime(const char *s, time_t *time_r, int *tz_offset_r)
{
	unsigned int day, mon, year, v[3], zone = 0;
	size_t n;
	int sign;

	/* date-day-fixed is either two digits or a space and one digit. */
	if (!(is_digit((uint8_t)s[0]) || s[0] == ' ') || !is_digit((uint8_t)s[1]) || s[2] != '-')
		return false;
	n = imap_date_read(s, &day, &mon, &year);
	if (n == 0 || s[n] != ' ')
		return false;
	s += n + 1;
	for (int k = 0; k < 3; k++) {
		if (!is_digit((uint8_t)s[0]) || !is_digit((uint8_t)s[1]) ||
		    s[2] != (k < 2 ? ':' : ' '))
			return false;
		v[k] = (unsigned int)((s[0] - '0') * 10 + (s[1] - '0'));
		s += 3;
	}
	if (s[0] != '+' && s[0] != '-')
		return false;
	sign = s[0] == '-' ? -1 : 1;
	for (int k = 1; k <= 4; k++) {
		if (!is_digit((uint8_t)s[k]))
			return false;
		zone = zone * 10 + (unsigned int)(s[k] - '0');
	}
	if (s[5] != '\0' || v[0] > 23 || v[1] > 59 || v[2] > 60 || zone % 100 > 59)
		return false;
	int tz = sign * (int)((zone / 100) * 60 + zone % 100);

	if (!date_make(year, mon, day, v[0], v[1], v[2], tz, time_r))
		return false;
	*tz_offset_r = tz;
	return true;
}

struct date_fields {
	int64_t year;
	unsigned int mon, day, wday, h, mi, s;
	char sign;
	unsigned int zh, zm;
};

static void date_split(time_t t, int tz, struct date_fields *f)
{
	int64_t local = (int64_t)t + (int64_t)tz * 60;
	int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	int64_t secs = local - days * 86400;
	int atz = tz < 0 ? -tz : tz;

	civil_from_days(days, &f->year, &f->mon, &f->day);
	f->wday = (unsigned int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	f->h = (unsigned int)(secs / 3600);
	f->mi = (unsigned int)(secs / 60 % 60);
	f->s = (unsigned int)(secs % 60);
	f->sign = tz < 0 ? '-' : '+';
	f->zh = (unsigned int)(atz / 60);
	f->zm = (unsigned int)(atz % 60);
}

bool mail_date_format_imap(time_t t, int tz_offset, char *dst, size_t size)
{
	struct date_fields f;

	date_split(t, tz_offset, &f);
	return str_format(dst, size, "%2u-%s-%04lld %02u:%02u:%02u %c%02u%02u", f.day,
			  month_names_cap[f.mon - 1], (long long)f.year, f.h, f.mi, f.s, f.sign,
			  f.zh, f.zm);
}

bool mail_date_format_rfc5322(time_t t, int tz_offset, char *dst, size_t size)
{
	struct date_fields f;

	date_split(t, tz_offset, &f);
	return str_format(dst, size, "%s, %u %s %04lld %02u:%02u:%02u %c%02u%02u",
			  day_names_cap[f.wday], f.day, month_names_cap[f.mon - 1],
			  (long long)f.year, f.h, f.mi, f.s, f.sign, f.zh, f.zm);
}
