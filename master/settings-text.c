/*
 * The settings text master hands every child (see master.h). Runs in
 * master at start and at each reload, on master's own parsed settings:
 * nothing here comes from a peer. The text is only ever made shorter in
 * steps that are each proven to give the same settings.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "master.h"
#include "xalloc.h"

#define SETTINGS_TEXT_MAX (16 * 1024 * 1024)

struct text_line {
	size_t start, len; /* in the full text, newline included */
	bool keep;
};

/* Whether text parses into settings that write out exactly as full. */
static bool text_gives(const struct buf *text, const struct buf *full)
{
	struct buf again = BUF_INIT(SETTINGS_TEXT_MAX);
	char *error = NULL;
	struct roost_settings *set =
		settings_read_text("master", (const char *)buf_data(text), buf_len(text), &error);
	bool same = false;

	if (set != NULL) {
		settings_write(&again, set, false, false);
		same = buf_len(&again) == buf_len(full) &&
		       memcmp(buf_data(&again), buf_data(full), buf_len(full)) == 0;
	}
	settings_free(&set);
	free(error);
	buf_free(&again);
	return same;
}

static void text_build(const struct buf *full, const struct text_line *lines, size_t count,
		       struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < count; i++) {
		if (lines[i].keep)
			(void)buf_append(out, buf_data(full) + lines[i].start, lines[i].len);
	}
}

/* The line without its indentation and newline. */
static void line_trim(const struct buf *full, const struct text_line *l, const char **s_r,
		      size_t *len_r)
{
	const char *s = (const char *)buf_data(full) + l->start;
	size_t len = l->len;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	*s_r = s;
	*len_r = len;
}

static bool line_opens(const struct buf *full, const struct text_line *l)
{
	const char *s;
	size_t len;

	line_trim(full, l, &s, &len);
	return len > 0 && s[len - 1] == '{';
}

static bool line_closes(const struct buf *full, const struct text_line *l)
{
	const char *s;
	size_t len;

	line_trim(full, l, &s, &len);
	return len == 1 && s[0] == '}';
}

/* Drops line i (and j, unless j == i) if the settings stay the same. */
static bool try_drop(const struct buf *full, struct text_line *lines, size_t count, size_t i,
		     size_t j, struct buf *candidate)
{
	lines[i].keep = lines[j].keep = false;
	text_build(full, lines, count, candidate);
	if (text_gives(candidate, full))
		return true;
	lines[i].keep = lines[j].keep = true;
	return false;
}

/*
 * Starts from the full text and removes, one at a time, every setting line
 * and then every empty section whose absence leaves the settings the same.
 * Each parse takes a fraction of a millisecond; this runs once per load.
 */
static void text_reduce(const struct buf *full, struct buf *out)
{
	const char *text = (const char *)buf_data(full);
	size_t len = buf_len(full), count = 0, cap = 64;
	struct text_line *lines = i_malloc(cap * sizeof(*lines));
	struct buf candidate = BUF_INIT(SETTINGS_TEXT_MAX);
	bool dropped = true;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len;

		if (count == cap) {
			cap *= 2;
			lines = i_realloc(lines, cap * sizeof(*lines));
		}
		lines[count++] = (struct text_line){.start = pos, .len = end - pos, .keep = true};
		pos = end;
	}
	for (size_t i = 0; i < count; i++) {
		if (!line_opens(full, &lines[i]) && !line_closes(full, &lines[i]))
			(void)try_drop(full, lines, count, i, i, &candidate);
	}
	/* Empty sections, innermost first: repeat while some go. */
	for (unsigned int pass = 0; dropped && pass < 8; pass++) {
		dropped = false;
		for (size_t i = 0; i < count; i++) {
			size_t j = i + 1;

			if (!lines[i].keep || !line_opens(full, &lines[i]))
				continue;
			while (j < count && !lines[j].keep)
				j++;
			if (j < count && line_closes(full, &lines[j]) &&
			    try_drop(full, lines, count, i, j, &candidate))
				dropped = true;
		}
	}
	text_build(full, lines, count, out);
	buf_free(&candidate);
	free(lines);
}

void master_settings_text(const struct roost_settings *set, struct buf *out)
{
	struct buf full = BUF_INIT(SETTINGS_TEXT_MAX);

	settings_write(&full, set, false, false);
	/* What `roostadm config -n` prints is usually enough by itself. */
	settings_write(out, set, true, false);
	if (!text_gives(out, &full)) {
		text_reduce(&full, out);
		if (!text_gives(out, &full)) {
			log_warning("Handing children the full settings: no shorter text gives "
				    "the same configuration");
			buf_reset(out);
			(void)buf_append(out, buf_data(&full), buf_len(&full));
		}
	}
	log_debug("Settings handed to children: %zu bytes (%zu in full)", buf_len(out),
		  buf_len(&full));
	buf_free(&full);
}
