/*
 * roost-lda's command line, taken as dovecot-lda takes it so that an MTA's
 * existing pipe command works unchanged. Runs first in roost-lda; the MTA
 * is trusted to run it, but -f and -a carry envelope addresses a remote
 * SMTP client chose, so they are checked byte by byte.
 */
#include <string.h>

#include "lda.h"

const char lda_usage_text[] =
	"Usage: roost-lda [-c <config file>] [-d <username>] [-p <path>]\n"
	"                 [-m <mailbox>] [-e] [-k] [-f <envelope sender>]\n"
	"                 [-a <original envelope recipient>]\n"
	"                 [-r <final envelope recipient>] [-o <setting>=<value>]\n";

/* Options that take a value, and where it goes. */
static const char **option_slot(struct lda_options *opts, char c)
{
	switch (c) {
	case 'a':
		return &opts->orig_rcpt;
	case 'c':
		return &opts->config_path;
	case 'd':
		return &opts->user;
	case 'f':
		return &opts->mail_from;
	case 'm':
		return &opts->mailbox;
	case 'p':
		return &opts->path;
	case 'r':
		return &opts->final_rcpt;
	default:
		return NULL;
	}
}

bool lda_options_parse(int argc, char **argv, struct lda_options *opts, const char **error_r)
{
	static char errbuf[64];
	int i;

	memset(opts, 0, sizeof(*opts));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		for (size_t j = 1; arg[j] != '\0'; j++) {
			char c = arg[j];
			const char **slot = option_slot(opts, c);
			const char *value;

			if (c == 'e') {
				opts->stderr_errors = true;
				continue;
			}
			if (c == 'k') {
				opts->keep_env = true;
				continue;
			}
			if (slot == NULL && c != 'o') {
				(void)str_format(errbuf, sizeof(errbuf), "Unknown option: -%c", c);
				*error_r = errbuf;
				return false;
			}
			/* The value is the rest of this argument or the next one. */
			if (arg[j + 1] != '\0') {
				value = arg + j + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				(void)str_format(errbuf, sizeof(errbuf), "Option -%c needs a value",
						 c);
				*error_r = errbuf;
				return false;
			}
			if (c == 'o') {
				if (opts->override_count == LDA_OVERRIDES_MAX) {
					*error_r = "Too many -o options";
					return false;
				}
				if (strchr(value, '=') == NULL) {
					*error_r = "-o needs NAME=VALUE";
					return false;
				}
				opts->overrides[opts->override_count++] = value;
			} else if (c == 'm' && value[0] == '\0') {
				/* -m "" means INBOX, so that Postfix's -m ${extension}
				   works for addresses without an extension. */
				opts->mailbox = NULL;
			} else {
				*slot = value;
			}
			break;
		}
	}
	if (i < argc) {
		*error_r = argv[i];
		return false;
	}
	return true;
}

/* RFC 5322 atext, the bytes a dot-atom local part may hold besides '.'. */
static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80;
}

bool lda_address_parse(const char *in, bool allow_empty, bool allow_localpart,
		       char out[LDA_ADDRESS_MAX + 1])
{
	size_t len = strlen(in), at = 0, i;
	bool quoted = false, seen_at = false;

	out[0] = '\0';
	if (len > 0 && in[0] == '<') {
		if (in[len - 1] != '>')
			return false;
		in++;
		len -= 2;
	} else if (len > 0 && in[len - 1] == '>') {
		return false;
	}
	if (len == 0)
		return allow_empty;
	if (len > LDA_ADDRESS_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c == 0x7f)
			return false;
		if (quoted) {
			if (c == '\\') {
				if (++i == len || (unsigned char)in[i] < 0x20)
					return false;
			} else if (c == '"') {
				quoted = false;
			}
			continue;
		}
		if (c == '"' && !seen_at) {
			quoted = true;
		} else if (c == '@') {
			if (seen_at)
				return false;
			seen_at = true;
			at = i;
		} else if (seen_at) {
			/* Domain: a name or an address literal. */
			if (!(is_atext(c) || c == '.' || c == '[' || c == ']' || c == ':'))
				return false;
		} else if (!is_atext(c) && c != '.') {
			return false;
		}
	}
	if (quoted)
		return false;
	if (seen_at && (at == 0 || at == len - 1))
		return false;
	if (!seen_at && !allow_localpart)
		return false;
	memcpy(out, in, len);
	out[len] = '\0';
	return true;
}
