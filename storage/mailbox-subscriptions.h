/*
 * Dovecot's subscriptions file: "V\t2" and an empty line, then one mailbox
 * name per line with '\t' between hierarchy levels, each level in modified
 * UTF-7 (older files: no header, '/' between levels). Runs in roost-imap as
 * the mail user; the file is untrusted and names that do not validate are
 * dropped.
 */
#ifndef ROOST_MAILBOX_SUBSCRIPTIONS_H
#define ROOST_MAILBOX_SUBSCRIPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "mail-location.h"

#define SUBSCRIPTIONS_FILE_MAX (4 * 1024 * 1024)
#define SUBSCRIPTIONS_MAX      100000

/*
 * Parses file contents into a NULL-terminated array of API names (UTF-8,
 * '/'), without duplicates, in file order (free with
 * mailbox_subscriptions_free). Invalid lines are skipped.
 */
char **mailbox_subscriptions_parse(const char *data, size_t len, enum mail_layout layout);
/* Appends the file contents for names (version 2 format). */
bool mailbox_subscriptions_format(char *const *names, struct buf *out);

#endif
