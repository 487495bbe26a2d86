/*
 * libFuzzer harness for storage/mail-date.c: parses arbitrary Date header
 * values and IMAP dates; whatever parses must format and parse back to the
 * same instant and zone.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/mail-date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[MAIL_DATE_FORMAT_SIZE], str[128];
	time_t t, t2;
	int tz, tz2;

	if (mail_date_parse(data, size, &t, &tz)) {
		if (tz <= -24 * 60 || tz >= 24 * 60)
			abort();
		if (!mail_date_format_rfc5322(t, tz, buf, sizeof(buf)))
			abort();
		if (!mail_date_parse((const uint8_t *)buf, strlen(buf), &t2, &tz2) || t2 != t ||
		    tz2 != tz)
			abort();
		if (!mail_date_format_imap(t, tz, buf, sizeof(buf)) ||
		    !mail_date_parse_imap_datetime(buf, &t2, &tz2) || t2 != t || tz2 != tz)
			abort();
	}
	if (size < sizeof(str)) {
		memcpy(str, data, size);
		str[size] = '\0';
		(void)mail_date_parse_imap_date(str, &t);
		if (mail_date_parse_imap_datetime(str, &t, &tz) &&
		    (!mail_date_format_imap(t, tz, buf, sizeof(buf)) ||
		     !mail_date_parse_imap_datetime(buf, &t2, &tz2) || t2 != t || tz2 != tz))
			abort();
	}
	return 0;
}
