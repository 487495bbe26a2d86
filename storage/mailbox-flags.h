/*
 * Message flags as the mail store keeps them: the IMAP system flags that
 * Maildir spells as letters in file names. Shared by every storage module
 * and the protocol layers; no state, no trust decisions.
 */
#ifndef ROOST_MAILBOX_FLAGS_H
#define ROOST_MAILBOX_FLAGS_H

#include <stdint.h>

enum mail_flags {
	MAIL_SEEN = 0x01,     /* \Seen, Maildir 'S' */
	MAIL_ANSWERED = 0x02, /* \Answered, Maildir 'R' */
	MAIL_FLAGGED = 0x04,  /* \Flagged, Maildir 'F' */
	MAIL_DELETED = 0x08,  /* \Deleted, Maildir 'T' */
	MAIL_DRAFT = 0x10,    /* \Draft, Maildir 'D' */
};
#define MAIL_FLAGS_MASK 0x1fU

/* Per-session flag, never stored: the message is \Recent for this session. */
#define MAIL_RECENT 0x100U

/* Keywords are bits of a uint32_t: bit i is the keyword with index i in the
   mailbox's dovecot-keywords file, letter 'a' + i in file names. */
#define MAIL_KEYWORDS_MAX  26
#define MAIL_KEYWORDS_MASK ((1U << MAIL_KEYWORDS_MAX) - 1)

#endif
