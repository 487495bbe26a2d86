/*
 * Mailbox names: validation of the UTF-8, '/'-separated names of the
 * storage API, and their mapping to directories under the mail root
 * (Maildir++ ".Lists.roost" or LAYOUT=fs "Lists/roost", each component in
 * modified UTF-7 on disk). Runs in roost-imap, roost-pop3 and roost-lda.
 * Names come from clients and directory listings: nothing that fails these
 * checks ever becomes a path, so no name can reach outside the mail root.
 */
#ifndef ROOST_MAILBOX_NAME_H
#define ROOST_MAILBOX_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "mail-location.h"
#include "mailbox-error.h"

/* Longest API name (bytes) and deepest hierarchy accepted. */
#define MAILBOX_NAME_MAX       255
#define MAILBOX_NAME_DEPTH_MAX 32
#define MAILBOX_HIERARCHY_SEP  '/'

/* Whether name is "INBOX" in any letter case. */
bool mailbox_name_is_inbox(const char *name);

/*
 * Checks an API name: non-empty, at most MAILBOX_NAME_MAX bytes, valid
 * UTF-8 without control characters, no leading '/' or '~', no empty, "."
 * or ".." component, no component starting with '.', and for Maildir++ no
 * '.' at all (it is the on-disk separator); for LAYOUT=fs no component
 * named cur, new or tmp. MAILBOX_ERROR_INVALID_NAME with the reason.
 */
bool mailbox_name_validate(const char *name, enum mail_layout layout, struct mailbox_error *err);

/*
 * Appends the directory of a valid non-INBOX name relative to the mail root
 * (".Lists.roost" or "Lists/roost"). Validates first; the encoded name must
 * fit NAME_MAX for Maildir++.
 */
bool mailbox_name_to_dir(const char *name, enum mail_layout layout, struct buf *out,
			 struct mailbox_error *err);

/*
 * Maps a Maildir++ directory entry (".Lists.roost") back to an API name;
 * false if the entry is not a mailbox (not starting with a single '.',
 * undecodable, or failing validation).
 */
bool mailbox_name_from_maildirpp(const char *dirname, struct buf *out);

/*
 * The on-disk encoding of one name component (modified UTF-7, RFC 3501
 * 5.1.3, through storage/mutf7) and its inverse. These two functions are
 * the only place that knows the encoding; decoding accepts only canonical
 * mUTF-7.
 */
bool mailbox_name_encode_component(const char *utf8, size_t len, struct buf *out,
				   struct mailbox_error *err);
bool mailbox_name_decode_component(const char *enc, size_t len, struct buf *out);

#endif
