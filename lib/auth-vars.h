/*
 * Dovecot-style %-variable expansion for auth and userdb templates
 * (home=/home/vmail/%d/%n, auth_username_format = %Lu), and the user-name
 * rules applied before any passdb lookup: allowed characters, default
 * realm, recipient delimiter. Runs in roost-auth and roost-lda; templates
 * come from the administrator, variable values (user names) from clients.
 */
#ifndef ROOST_AUTH_VARS_H
#define ROOST_AUTH_VARS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The most one expansion may produce, on top of the output buffer's own limit. */
#define AUTH_VARS_OUTPUT_MAX 4096
/* Longest user name accepted from a client, before and after formatting. */
#define AUTH_USER_MAX_LEN 255
/* Dovecot's defaults for auth_username_format and auth_username_chars. */
#define AUTH_USERNAME_FORMAT_DEFAULT "%Lu"
#define AUTH_USERNAME_CHARS_DEFAULT \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@"

/*
 * Values for one expansion. user is required; the others may be NULL, and
 * a template that uses a NULL one fails (an empty home would turn
 * "%h/Maildir" into "/Maildir").
 *   %u %{user}      full user name          %n %{username}  part before the first '@'
 *   %d %{domain}    part after the first '@' (empty without one)
 *   %h %{home}      home directory          %s %{service}   imap, pop3, lda
 *   %r %{rip}       remote IP               %l %{lip}       local IP
 *   %%              a literal '%'
 * Between '%' and the variable: an optional "[offset.]width" in bytes
 * (%1n = first byte of %n, %2.3n = three bytes from the third), then the
 * modifiers L (ASCII lower case) and U (ASCII upper case): %Lu, %1Ln, %L{user}.
 */
struct auth_vars {
	const char *user;
	const char *home;
	const char *service;
	const char *rip;
	const char *lip;
};

enum auth_vars_flags {
	/*
	 * The result is a file system path (home, mail location): refuse a
	 * result with a ".." component or control characters, values of %u,
	 * %n and %d that contain '/', and an empty %u or %n, so a user name
	 * cannot reach outside (or up to the parent of) the directory the
	 * administrator meant.
	 */
	AUTH_VARS_FLAG_PATH = 1 << 0,
};

/*
 * Appends the expansion of tmpl to out. Returns false with *error_r set (a
 * string valid until the next call) for an unknown variable or modifier, a
 * '%' at the end, an unterminated "%{", a variable without a value, output
 * over AUTH_VARS_OUTPUT_MAX or the buffer's limit, or a refused path; out is
 * then left as it was.
 */
bool auth_vars_expand(struct buf *out, const char *tmpl, const struct auth_vars *vars,
		      enum auth_vars_flags flags, const char **error_r);

/* The user-name rules of the auth settings of the same names. */
struct auth_user_settings {
	/* auth_username_chars: allowed bytes; "" allows all; NULL is the default. */
	const char *username_chars;
	/* auth_username_format: "" applies none; NULL is the default "%Lu". */
	const char *username_format;
	/* auth_default_realm: appended as "@realm" to names without '@'; NULL or "" = none. */
	const char *default_realm;
};

/*
 * Turns a user name as a client sent it (raw[0..raw_len), not
 * NUL-terminated) into the name passdb and userdb see, appended to out:
 * refuses empty, too long, NUL or control bytes and bytes outside
 * username_chars (checked on the raw name, as Dovecot does), then appends
 * the default realm, then applies username_format. Returns false with
 * *error_r set; out is then unchanged.
 */
bool auth_user_normalize(const char *raw, size_t raw_len, const struct auth_user_settings *set,
			 struct buf *out, const char **error_r);

/*
 * recipient_delimiter: when the local part of user holds one of the bytes
 * of delimiters after its first byte, appends the user without the detail
 * to user_r ("jdoe+lists@example.com" -> "jdoe@example.com") and the detail
 * to detail_r ("lists"), and returns 1. Returns 0, with user copied to
 * user_r unchanged and detail_r untouched, when there is no delimiter (or
 * delimiters is NULL or ""). Returns -1 when a buffer is full.
 */
int auth_user_split_detail(const char *user, const char *delimiters, struct buf *user_r,
			   struct buf *detail_r);

#endif
