/*
 * STORE and APPEND flag parsing for roost-imap (see flags.h): the RFC 3501
 * grammar of flag, flag-keyword and store-att-flags, and RFC 7162's
 * UNCHANGEDSINCE modifier. Client input, parsed strictly and bounded.
 */
#include <string.h>
#include <strings.h>

#include "flags.h"
#include "storage/mailbox-flags.h"

/* ATOM-CHAR of RFC 9051: no atom-specials, no CTL, no 8-bit. */
static bool atom_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static bool add_flag(struct imap_flag_list *list, const struct imap_arg *arg, const char **error_r)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} sys[] = {
		{"\\Seen", MAIL_SEEN},	     {"\\Answered", MAIL_ANSWERED},
		{"\\Flagged", MAIL_FLAGGED}, {"\\Deleted", MAIL_DELETED},
		{"\\Draft", MAIL_DRAFT},
	};
	const char *name;

	if (arg->type != IMAP_ARG_ATOM || !imap_arg_get_atom(arg, &name) || arg->len == 0) {
		*error_r = "Invalid flag";
		return false;
	}
	if (name[0] == '\\') {
		for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
			if (strcasecmp(name, sys[i].name) == 0) {
				list->flags |= sys[i].flag;
				return true;
			}
		}
		*error_r = strcasecmp(name, "\\Recent") == 0 ? "\\Recent cannot be set"
							     : "Invalid system flag";
		return false;
	}
	if (arg->len > IMAP_FLAGS_MAX_KEYWORD_LEN) {
		*error_r = "Keyword too long";
		return false;
	}
	for (size_t i = 0; i < arg->len; i++) {
		if (!atom_char((uint8_t)name[i])) {
			*error_r = "Invalid characters in keyword";
			return false;
		}
	}
	for (size_t i = 0; i < list->keyword_count; i++) {
		if (strcasecmp(list->keywords[i], name) == 0)
			return true;
	}
	if (list->keyword_count == IMAP_FLAGS_MAX_KEYWORDS) {
		*error_r = "Too many keywords";
		return false;
	}
	list->keywords[list->keyword_count++] = name;
	return true;
}

bool imap_flags_parse(const struct imap_arg *args, size_t count, struct imap_flag_list *list_r,
		      const char **error_r)
{
	memset(list_r, 0, sizeof(*list_r));
	if (count == 1 && args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *items;
		size_t n;

		(void)imap_arg_get_list(&args[0], &items, &n);
		args = items;
		count = n;
	}
	for (size_t i = 0; i < count; i++) {
		if (!add_flag(list_r, &args[i], error_r))
			return false;
	}
	return true;
}

/* A mod-sequence-valzer (RFC 7162): 0 .. 2^63-1, no leading zeros. */
static bool parse_modseq(const struct imap_arg *arg, uint64_t *value_r)
{
	const char *s;
	uint64_t v = 0;

	if (arg->type != IMAP_ARG_ATOM || !imap_arg_get_atom(arg, &s) || arg->len == 0 ||
	    (arg->len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < arg->len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*value_r = v;
	return true;
}

bool imap_store_args_parse(const struct imap_arg *args, size_t argc, struct imap_store_args *r,
			   const char **error_r)
{
	const char *item;

	memset(r, 0, sizeof(*r));
	if (argc > 0 && args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *mods;
		size_t n;

		(void)imap_arg_get_list(&args[0], &mods, &n);
		if (n != 2 || !imap_arg_atom_equals(&mods[0], "UNCHANGEDSINCE") ||
		    !parse_modseq(&mods[1], &r->unchangedsince)) {
			*error_r = "Invalid STORE modifiers";
			return false;
		}
		r->unchangedsince_set = true;
		args++;
		argc--;
	}
	if (argc < 2 || args[0].type != IMAP_ARG_ATOM || !imap_arg_get_atom(&args[0], &item)) {
		*error_r = "Invalid arguments";
		return false;
	}
	if (item[0] == '+') {
		r->op = IMAP_STORE_ADD;
		item++;
	} else if (item[0] == '-') {
		r->op = IMAP_STORE_REMOVE;
		item++;
	}
	if (strcasecmp(item, "FLAGS.SILENT") == 0) {
		r->silent = true;
	} else if (strcasecmp(item, "FLAGS") != 0) {
		*error_r = "Invalid STORE data item";
		return false;
	}
	if (argc > 2 && args[1].type == IMAP_ARG_LIST) {
		*error_r = "Invalid arguments";
		return false;
	}
	return imap_flags_parse(args + 1, argc - 1, &r->flags, error_r);
}
