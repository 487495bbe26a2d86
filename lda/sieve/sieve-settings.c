/*
 * Sieve settings under Pigeonhole's names (plugin { sieve_max_actions = ...})
 * and the table of extensions with their capability names and defaults.
 * Used by roost-lda and roostadm while reading configuration, before any
 * message is seen; values come from the administrator and are checked.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sieve-private.h"
#include "xalloc.h"

static const struct {
	const char *name;
	bool default_on;
} ext_table[SIEVE_EXT_COUNT] = {
	[SIEVE_EXT_FILEINTO] = {"fileinto", true},
	[SIEVE_EXT_ENVELOPE] = {"envelope", true},
	[SIEVE_EXT_ENCODED_CHARACTER] = {"encoded-character", true},
	[SIEVE_EXT_REJECT] = {"reject", true},
	[SIEVE_EXT_EREJECT] = {"ereject", true},
	[SIEVE_EXT_VACATION] = {"vacation", true},
	[SIEVE_EXT_VACATION_SECONDS] = {"vacation-seconds", false},
	[SIEVE_EXT_IMAP4FLAGS] = {"imap4flags", true},
	[SIEVE_EXT_VARIABLES] = {"variables", true},
	[SIEVE_EXT_BODY] = {"body", true},
	[SIEVE_EXT_COPY] = {"copy", true},
	[SIEVE_EXT_INCLUDE] = {"include", true},
	[SIEVE_EXT_MAILBOX] = {"mailbox", true},
	[SIEVE_EXT_SUBADDRESS] = {"subaddress", true},
	[SIEVE_EXT_RELATIONAL] = {"relational", true},
	[SIEVE_EXT_REGEX] = {"regex", true},
	[SIEVE_EXT_DATE] = {"date", true},
	[SIEVE_EXT_INDEX] = {"index", true},
	[SIEVE_EXT_EDITHEADER] = {"editheader", false},
	[SIEVE_EXT_DUPLICATE] = {"duplicate", true},
	[SIEVE_EXT_ENVIRONMENT] = {"environment", true},
	[SIEVE_EXT_SPAMTEST] = {"spamtest", false},
	[SIEVE_EXT_SPAMTESTPLUS] = {"spamtestplus", false},
	[SIEVE_EXT_VIRUSTEST] = {"virustest", false},
	[SIEVE_EXT_IHAVE] = {"ihave", true},
	[SIEVE_EXT_CMP_NUMERIC] = {"comparator-i;ascii-numeric", true},
	[SIEVE_EXT_CMP_OCTET] = {"comparator-i;octet", true},
	[SIEVE_EXT_CMP_CASEMAP] = {"comparator-i;ascii-casemap", true},
};

const char *sieve_ext_name(enum sieve_ext ext)
{
	if ((unsigned int)ext >= SIEVE_EXT_COUNT)
		return "?";
	return ext_table[ext].name;
}

bool sieve_ext_lookup(const char *name, enum sieve_ext *ext_r)
{
	unsigned int i;

	for (i = 0; i < SIEVE_EXT_COUNT; i++) {
		if (strcmp(ext_table[i].name, name) == 0) {
			*ext_r = (enum sieve_ext)i;
			return true;
		}
	}
	return false;
}

struct sieve_settings *sieve_settings_create(void)
{
	struct sieve_settings *set = i_calloc(1, sizeof(*set));
	unsigned int i;

	set->pool = pool_create(1024 * 1024);
	set->max_script_size = SIEVE_DEFAULT_MAX_SCRIPT_SIZE;
	set->max_actions = SIEVE_DEFAULT_MAX_ACTIONS;
	set->max_redirects = SIEVE_DEFAULT_MAX_REDIRECTS;
	set->max_cpu_time = SIEVE_DEFAULT_MAX_CPU_TIME;
	set->include_max_includes = SIEVE_DEFAULT_INCLUDE_MAX_INCLUDES;
	set->include_max_depth = SIEVE_DEFAULT_INCLUDE_MAX_DEPTH;
	set->variables_max_scope_size = SIEVE_DEFAULT_MAX_SCOPE_SIZE;
	set->variables_max_variable_size = SIEVE_DEFAULT_MAX_VARIABLE_SIZE;
	set->editheader_max_header_size = SIEVE_DEFAULT_EDITHEADER_MAX_SIZE;
	set->editheader_protected = "";
	for (i = 0; i < SIEVE_EXT_COUNT; i++)
		set->extensions[i] = ext_table[i].default_on;
	set->recipient_delimiter = "+";
	set->default_mailbox = "INBOX";
	set->vacation_min_period = 86400;
	set->vacation_max_period = 0;
	set->vacation_default_period = 7 * 86400;
	set->vacation_default_subject = NULL;
	set->vacation_default_subject_template = NULL;
	set->vacation_max_subject_codepoints = 256;
	set->duplicate_default_period = 14 * 86400;
	set->duplicate_max_period = 7 * 86400;
	set->redirect_envelope_from = "sender";
	set->user_email = NULL;
	set->postmaster_address = NULL;
	set->env_domain = NULL;
	set->env_host = NULL;
	set->sieve = "file:~/sieve;active=~/.dovecot.sieve";
	return set;
}

void sieve_settings_free(struct sieve_settings **_set)
{
	struct sieve_settings *set = *_set;

	if (set == NULL)
		return;
	pool_destroy(&set->pool);
	free(set);
	*_set = NULL;
}

bool sieve_settings_set_extensions(struct sieve_settings *set, const char *spec,
				   const char **error_r)
{
	bool add[SIEVE_EXT_COUNT], del[SIEVE_EXT_COUNT];
	bool relative = true, any = false;
	const char *p = spec;
	unsigned int i;

	memset(add, 0, sizeof(add));
	memset(del, 0, sizeof(del));
	while (*p != '\0') {
		char name[64];
		size_t len;
		char op = '\0';
		enum sieve_ext ext;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " \t");
		if (*p == '+' || *p == '-') {
			op = *p;
			p++;
			len--;
		}
		if (len == 0 || len >= sizeof(name)) {
			*error_r =
				p_strdup_printf(set->pool, "invalid extension name in '%s'", spec);
			return false;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		if (!sieve_ext_lookup(name, &ext)) {
			*error_r = p_strdup_printf(set->pool, "unknown Sieve extension '%s'", name);
			return false;
		}
		any = true;
		if (op == '-') {
			del[ext] = true;
		} else {
			add[ext] = true;
			if (op == '\0')
				relative = false;
		}
	}
	if (!any && *spec != '\0')
		relative = true;
	for (i = 0; i < SIEVE_EXT_COUNT; i++) {
		bool on = relative ? set->extensions[i] : false;

		if (add[i])
			on = true;
		if (del[i])
			on = false;
		/* The base comparators cannot be switched off (RFC 5228 2.7.3). */
		if (i == SIEVE_EXT_CMP_OCTET || i == SIEVE_EXT_CMP_CASEMAP)
			on = true;
		set->extensions[i] = on;
	}
	return true;
}

static bool parse_bool(const char *value, bool *v_r)
{
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0) {
		*v_r = true;
		return true;
	}
	if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 ||
	    strcmp(value, "0") == 0) {
		*v_r = false;
		return true;
	}
	return false;
}

static int set_uint(unsigned int *dst, const char *value, bool size, const char **error_r)
{
	uint64_t v;

	if (!(size ? sieve_parse_size(value, &v) : sieve_parse_size(value, &v)) || v > UINT32_MAX) {
		*error_r = "invalid number";
		return -1;
	}
	*dst = (unsigned int)v;
	return 1;
}

static int set_scantest(struct sieve_settings *set, struct sieve_scantest_settings *st,
			const char *key, const char *value, const char **error_r)
{
	char *v = p_strdup(set->pool, value);

	if (strcmp(key, "status_type") == 0) {
		if (strcmp(value, "score") == 0)
			st->status_type = SIEVE_SCANTEST_SCORE;
		else if (strcmp(value, "strlen") == 0)
			st->status_type = SIEVE_SCANTEST_STRLEN;
		else if (strcmp(value, "text") == 0)
			st->status_type = SIEVE_SCANTEST_TEXT;
		else {
			*error_r = "invalid status type (score, strlen or text)";
			return -1;
		}
		return 1;
	}
	if (strcmp(key, "status_header") == 0) {
		st->status_header = v;
		return 1;
	}
	if (strcmp(key, "max_header") == 0) {
		st->max_header = v;
		return 1;
	}
	if (strcmp(key, "max_value") == 0) {
		st->max_value = v;
		return 1;
	}
	if (strncmp(key, "text_value", 10) == 0) {
		char *end;
		long n = strtol(key + 10, &end, 10);

		if (key[10] == '\0' || *end != '\0' || n < 0 || n > 10)
			return 0;
		st->text_value[n] = v;
		return 1;
	}
	return 0;
}

int sieve_settings_set(struct sieve_settings *set, const char *name, const char *value,
		       const char **error_r)
{
	uint64_t v64;
	int ret;

	if (strncmp(name, "plugin/", 7) == 0)
		name += 7;
	*error_r = NULL;
	if (strcmp(name, "sieve_max_script_size") == 0) {
		if (!sieve_parse_size(value, &v64)) {
			*error_r = "invalid size";
			return -1;
		}
		set->max_script_size = v64 == 0 ? SIZE_MAX : (size_t)v64;
		return 1;
	}
	if (strcmp(name, "sieve_max_actions") == 0)
		return set_uint(&set->max_actions, value, false, error_r);
	if (strcmp(name, "sieve_max_redirects") == 0)
		return set_uint(&set->max_redirects, value, false, error_r);
	if (strcmp(name, "sieve_max_cpu_time") == 0) {
		if (!sieve_parse_period(value, &v64) || v64 > UINT32_MAX) {
			*error_r = "invalid time";
			return -1;
		}
		set->max_cpu_time = (unsigned int)v64;
		return 1;
	}
	if (strcmp(name, "sieve_include_max_includes") == 0)
		return set_uint(&set->include_max_includes, value, false, error_r);
	if (strcmp(name, "sieve_include_max_nesting_depth") == 0)
		return set_uint(&set->include_max_depth, value, false, error_r);
	if (strcmp(name, "sieve_variables_max_scope_size") == 0) {
		ret = set_uint(&set->variables_max_scope_size, value, false, error_r);
		if (ret > 0 && set->variables_max_scope_size < 128)
			set->variables_max_scope_size = 128;
		return ret;
	}
	if (strcmp(name, "sieve_variables_max_variable_size") == 0) {
		if (!sieve_parse_size(value, &v64)) {
			*error_r = "invalid size";
			return -1;
		}
		set->variables_max_variable_size = v64 < 4000 ? 4000 : (size_t)v64;
		return 1;
	}
	if (strcmp(name, "sieve_editheader_max_header_size") == 0) {
		if (!sieve_parse_size(value, &v64)) {
			*error_r = "invalid size";
			return -1;
		}
		set->editheader_max_header_size = v64 < 1024 ? 1024 : (size_t)v64;
		return 1;
	}
	if (strcmp(name, "sieve_editheader_protected") == 0) {
		set->editheader_protected = p_strdup(set->pool, value);
		return 1;
	}
	if (strcmp(name, "sieve_extensions") == 0)
		return sieve_settings_set_extensions(set, value, error_r) ? 1 : -1;
	if (strcmp(name, "recipient_delimiter") == 0) {
		set->recipient_delimiter = p_strdup(set->pool, value);
		return 1;
	}
	if (strcmp(name, "sieve_vacation_min_period") == 0 ||
	    strcmp(name, "sieve_vacation_max_period") == 0 ||
	    strcmp(name, "sieve_vacation_default_period") == 0 ||
	    strcmp(name, "sieve_duplicate_default_period") == 0 ||
	    strcmp(name, "sieve_duplicate_max_period") == 0) {
		if (!sieve_parse_period(value, &v64)) {
			*error_r = "invalid period";
			return -1;
		}
		if (strcmp(name, "sieve_vacation_min_period") == 0)
			set->vacation_min_period = v64;
		else if (strcmp(name, "sieve_vacation_max_period") == 0)
			set->vacation_max_period = v64;
		else if (strcmp(name, "sieve_vacation_default_period") == 0)
			set->vacation_default_period = v64;
		else if (strcmp(name, "sieve_duplicate_default_period") == 0)
			set->duplicate_default_period = v64;
		else
			set->duplicate_max_period = v64;
		return 1;
	}
	if (strcmp(name, "sieve_vacation_default_subject") == 0) {
		set->vacation_default_subject = p_strdup(set->pool, value);
		return 1;
	}
	if (strcmp(name, "sieve_vacation_default_subject_template") == 0) {
		set->vacation_default_subject_template = p_strdup(set->pool, value);
		return 1;
	}
	if (strcmp(name, "sieve_vacation_max_subject_codepoints") == 0)
		return set_uint(&set->vacation_max_subject_codepoints, value, false, error_r);
	{
		static const struct {
			const char *name;
			size_t off;
		} bools[] = {
			{"sieve_vacation_use_original_recipient",
			 offsetof(struct sieve_settings, vacation_use_original_recipient)},
			{"sieve_vacation_dont_check_recipient",
			 offsetof(struct sieve_settings, vacation_dont_check_recipient)},
			{"sieve_vacation_send_from_recipient",
			 offsetof(struct sieve_settings, vacation_send_from_recipient)},
			{"sieve_vacation_to_header_ignore_envelope",
			 offsetof(struct sieve_settings, vacation_to_header_ignore_envelope)},
		};
		unsigned int i;

		for (i = 0; i < N_ELEMENTS(bools); i++) {
			if (strcmp(name, bools[i].name) == 0) {
				if (!parse_bool(value, (bool *)((char *)set + bools[i].off))) {
					*error_r = "invalid boolean (yes or no)";
					return -1;
				}
				return 1;
			}
		}
	}
	if (strcmp(name, "sieve_redirect_envelope_from") == 0) {
		set->redirect_envelope_from = p_strdup(set->pool, value);
		return 1;
	}
	if (strcmp(name, "sieve_user_email") == 0) {
		set->user_email = p_strdup(set->pool, value);
		return 1;
	}
	if (strcmp(name, "postmaster_address") == 0) {
		set->postmaster_address = p_strdup(set->pool, value);
		return 1;
	}
	if (strcmp(name, "hostname") == 0) {
		set->env_host = p_strdup(set->pool, value);
		return 1;
	}
	if (strcmp(name, "sieve_environment_domain") == 0) {
		set->env_domain = p_strdup(set->pool, value);
		return 1;
	}
	{
		static const struct {
			const char *name;
			size_t off;
		} locs[] = {
			{"sieve", offsetof(struct sieve_settings, sieve)},
			{"sieve_default", offsetof(struct sieve_settings, sieve_default)},
			{"sieve_global_path", offsetof(struct sieve_settings, sieve_default)},
			{"sieve_dir", offsetof(struct sieve_settings, sieve_dir)},
			{"sieve_global", offsetof(struct sieve_settings, sieve_global)},
			{"sieve_global_dir", offsetof(struct sieve_settings, sieve_global)},
			{"sieve_user_log", offsetof(struct sieve_settings, user_log)},
		};
		unsigned int i;

		for (i = 0; i < N_ELEMENTS(locs); i++) {
			if (strcmp(name, locs[i].name) == 0) {
				*(const char **)((char *)set + locs[i].off) =
					value[0] == '\0' ? NULL : p_strdup(set->pool, value);
				return 1;
			}
		}
	}
	if (strncmp(name, "sieve_before", 12) == 0 || strncmp(name, "sieve_after", 11) == 0) {
		bool before = name[6] == 'b';
		const char *num = name + (before ? 12 : 11);
		char *end;
		long n = 1;

		if (*num != '\0') {
			n = strtol(num, &end, 10);
			if (*end != '\0' || n < 2)
				return 0;
		}
		if (n > SIEVE_MAX_LOCATIONS) {
			*error_r = "too many numbered script locations";
			return -1;
		}
		(before ? set->sieve_before : set->sieve_after)[n - 1] =
			value[0] == '\0' ? NULL : p_strdup(set->pool, value);
		return 1;
	}
	if (strncmp(name, "sieve_spamtest_", 15) == 0)
		return set_scantest(set, &set->spamtest, name + 15, value, error_r);
	if (strncmp(name, "sieve_virustest_", 16) == 0)
		return set_scantest(set, &set->virustest, name + 16, value, error_r);
	return 0;
}
