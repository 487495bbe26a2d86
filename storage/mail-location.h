/*
 * mail_location parsing as Dovecot spells it ("maildir:~/Maildir",
 * "maildir:/home/vmail/%d/%n:INDEX=/var/idx/%u:LAYOUT=fs") with %-variable
 * and ~ expansion. Runs in roost-imap, roost-pop3 and roost-lda after the user
 * is known. The template comes from the administrator; user and home come from
 * userdb and are checked so a user name cannot steer the path elsewhere.
 */
#ifndef ROOST_MAIL_LOCATION_H
#define ROOST_MAIL_LOCATION_H

#include <stdbool.h>

#include "buf.h"
#include "mailbox-error.h"

/* Longest mail_location string and longest expanded path accepted. */
#define MAIL_LOCATION_MAX_LEN  4096
#define MAIL_LOCATION_PATH_MAX 1024

enum mail_layout {
	/* Maildir++: ".Lists.roost" directories under the root. */
	MAIL_LAYOUT_MAILDIRPP,
	/* LAYOUT=fs: "Lists/roost" nested directories under the root. */
	MAIL_LAYOUT_FS,
};

/* What %-variables expand to. user is the full login ("jdoe@example.com"),
   home the user's home directory (may be NULL when there is none). */
struct mail_location_vars {
	const char *user;
	const char *home;
};

/* A parsed, fully expanded location. Paths are absolute and have no
   trailing '/' (except "/" itself, which is refused as a mail root). */
struct mail_location {
	char *root;	   /* Maildir root; INBOX lives here unless inbox is set */
	char *inbox;	   /* INBOX=path, or NULL */
	char *index_dir;   /* INDEX=path, or NULL: index files next to the mail */
	char *control_dir; /* CONTROL=path, or NULL: uidlist etc. next to the mail */
	bool index_memory; /* INDEX=MEMORY: keep no index files */
	enum mail_layout layout;
};

/*
 * Parses spec ("maildir:PATH[:KEY=VALUE]...", "::" standing for a literal
 * ':') and expands it with vars. Supported keys: INDEX, CONTROL, INBOX,
 * LAYOUT (maildir++ or fs). Anything else, a non-maildir format, a relative
 * path or an unsafe expansion is MAILBOX_ERROR_PARAMS with a sentence naming
 * the problem. On success *loc_r is owned by the caller (mail_location_free).
 */
bool mail_location_parse(const char *spec, const struct mail_location_vars *vars,
			 struct mail_location **loc_r, struct mailbox_error *err);
void mail_location_free(struct mail_location **loc);

/*
 * Creates loc's INDEX= and CONTROL= directories and their parents (mode
 * 0700) where they are missing, before a process confines itself: Landlock
 * can only allow a directory that exists. Failures are left for the store
 * to report when it uses the directory.
 */
void mail_location_mkdir_dirs(const struct mail_location *loc);

/*
 * Expands one path template: ~ at the start becomes home; %u %n %d %h and
 * their %{user} %{username} %{domain} %{home} spellings, with optional L/U
 * (lower/upper case) modifiers and Dovecot's [-]offset.width substring
 * syntax (%1n, %2.1u, %-2.2u); %% is a literal '%'. A user or domain value
 * holding '/', a NUL or control character, or being "." or "..", is refused.
 * Appends to out; false with err set on any problem.
 */
bool mail_location_expand(const char *tmpl, const struct mail_location_vars *vars, struct buf *out,
			  struct mailbox_error *err);

#endif
