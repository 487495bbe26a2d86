/*
 * Date parsing and formatting for mail: RFC 5322 Date headers (with the
 * obsolete forms mail really carries) and the IMAP date formats used by
 * INTERNALDATE, APPEND and SEARCH. Runs in the sandboxed mail processes on
 * untrusted strings; it needs no locale, time zone files or libc time parser.
 */
#ifndef ROOST_MAIL_DATE_H
#define ROOST_MAIL_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room for either formatted date with its NUL. */
#define MAIL_DATE_FORMAT_SIZE 40

/*
 * Parses an RFC 5322 date-time: optional day of week, 2/3/4-digit years
 * (RFC 5322 4.3 rules), missing seconds, comments anywhere, numeric zones
 * and the obsolete names (UT, GMT, EST, EDT, CST, CDT, MST, MDT, PST, PDT;
 * military letters and a missing or unknown zone count as +0000), plus the
 * asctime layout "Mon Feb  7 21:52:25 1994". *time_r is UTC; *tz_offset_r is
 * the zone in minutes east of UTC. Returns false, leaving the outputs alone,
 * when no date could be read or a field is out of range.
 */
bool mail_date_parse(const uint8_t *s, size_t len, time_t *time_r, int *tz_offset_r);

/* Parses an IMAP date ("1-Feb-1994", SEARCH SINCE etc.) to 00:00 UTC. */
bool mail_date_parse_imap_date(const char *s, time_t *time_r);

/* Parses an IMAP date-time ("dd-Mon-yyyy hh:mm:ss +zzzz", APPEND), strictly. */
bool mail_date_parse_imap_datetime(const char *s, time_t *time_r, int *tz_offset_r);

/* Writes an IMAP date-time in the given zone: " 7-Feb-1994 21:52:25 -0800". */
bool mail_date_format_imap(time_t t, int tz_offset, char *dst, size_t size);

/* Writes an RFC 5322 date-time: "Mon, 7 Feb 1994 21:52:25 -0800". */
bool mail_date_format_rfc5322(time_t t, int tz_offset, char *dst, size_t size);

#endif
