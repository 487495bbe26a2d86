/*
 * LIST and LSUB patterns (RFC 3501 6.3.8, RFC 5258): the reference and the
 * pattern combined into one canonical pattern, and the match of a mailbox
 * name against it, with '*' matching anything and '%' anything but the
 * hierarchy separator. Runs in roost-imap on patterns the client sent
 * and in roostadm on mailbox masks;
 * matching takes time proportional to name length times pattern length,
 * whatever the pattern, so no pattern can make it slow.
 */
#ifndef ROOST_LIST_PATTERN_H
#define ROOST_LIST_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Longest canonical pattern kept (longer ones are refused with BAD). */
#define LIST_PATTERN_MAX 4096
/* Most patterns in one LIST-EXTENDED pattern list. */
#define LIST_PATTERNS_MAX 64

struct list_pattern;

/*
 * Combines reference and pattern (both in the client's encoding) into out:
 * the reference is prefixed to the pattern, and a separator that ends the
 * reference and starts the pattern is written once. False when the result
 * would be longer than LIST_PATTERN_MAX.
 */
bool list_pattern_combine(const char *ref, size_t ref_len, const char *pattern, size_t pattern_len,
			  char sep, struct buf *out);

/*
 * Compiles a canonical pattern for matching names separated by sep. Runs
 * of wildcards are collapsed ("%*" is "*"). "INBOX" at the start of a name
 * (alone or before sep) matches case-insensitively, as RFC 3501 wants.
 * Free with list_pattern_free.
 */
struct list_pattern *list_pattern_compile(const char *pattern, size_t len, char sep);
void list_pattern_free(struct list_pattern **pattern);

/* Whether the whole name matches the pattern. */
bool list_pattern_match(struct list_pattern *pattern, const char *name, size_t len);

/* The canonical pattern text (after collapsing). */
const char *list_pattern_text(const struct list_pattern *pattern);

#endif
