/*
 * libFuzzer harness for roost-imap's FETCH attribute parser and section
 * writer (imap/fetch-parse.c, imap/fetch-body.c, compiled in here since
 * they belong to no library). Input: a first byte choosing the mode, then
 *   mode 0: FETCH arguments ("(UID BODY.PEEK[1.HEADER.FIELDS (A)]<0.5>)")
 *           fed through the real command parser; every accepted section's
 *           canonical name must parse again to the same section;
 *   mode 1: a section text, a NUL, and a message: the content built for it
 *           must come out the same length as announced, and every partial
 *           range must be the same slice of it, whatever the write steps.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/fetch-body.c"
#include "imap/fetch-parse.c"
#include "imap-parser.h"
#include "pool.h"
#include "storage/message-part.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_section(struct pool *pool, const struct fetch_section *s)
{
	struct fetch_section again;
	const char *error;
	char text[FETCH_MAX_SECTION_TEXT + 64];

	if (strncmp(s->name, "RFC822", 6) == 0)
		return;
	if (!str_copy(text, sizeof(text) - 48, s->name))
		return;
	/* The name drops .PEEK and the partial; put both back. */
	if (s->peek && s->kind == FETCH_KIND_BODY) {
		memmove(text + 9, text + 4, strlen(text + 4) + 1);
		memcpy(text + 4, ".PEEK", 5);
	} else if (s->peek && s->kind == FETCH_KIND_BINARY) {
		memmove(text + 11, text + 6, strlen(text + 6) + 1);
		memcpy(text + 6, ".PEEK", 5);
	}
	if (s->partial)
		(void)str_format(text + strlen(text), 48, "<%llu.%llu>",
				 (unsigned long long)s->partial_offset,
				 (unsigned long long)s->partial_size);
	if (!fetch_section_parse(pool, text, strlen(text), &again, &error))
		abort();
	if (again.kind != s->kind || again.peek != s->peek || again.text != s->text ||
	    strcmp(again.part, s->part) != 0 || again.field_count != s->field_count ||
	    again.partial != s->partial || again.partial_offset != s->partial_offset ||
	    again.partial_size != s->partial_size || strcmp(again.name, s->name) != 0 ||
	    again.cacheable != s->cacheable || again.cached_mask != s->cached_mask)
		abort();
	for (size_t i = 0; i < s->field_count; i++) {
		if (strcmp(again.fields[i], s->fields[i]) != 0)
			abort();
	}
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	struct imap_parse_event ev;
	struct fetch_request req;
	struct buf line = BUF_INIT(70000);
	const char *error;
	size_t consumed = 0;

	if (size > 60000 || memchr(data, '\n', size) != NULL)
		return;
	(void)buf_append_str(&line, "a FETCH 1 ");
	(void)buf_append(&line, data, size);
	(void)buf_append_str(&line, "\r\n");
	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	if (imap_parser_parse(parser, buf_data(&line), buf_len(&line), &consumed, &ev) ==
		    IMAP_PARSE_COMMAND &&
	    ev.cmd->argc >= 1) {
		if (fetch_request_parse(&req, ev.cmd->args + 1, ev.cmd->argc - 1, &error)) {
			for (size_t i = 0; i < req.section_count; i++)
				same_section(req.pool, &req.sections[i]);
			fetch_request_free(&req);
		} else if (error == NULL || req.pool != NULL) {
			abort();
		}
	}
	imap_parser_destroy(&parser);
	buf_free(&line);
}

static void fuzz_content(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	struct pool *pool;
	struct message_part *root = NULL;
	struct fetch_section s;
	struct fetch_content c;
	struct fetch_writer w;
	struct buf all = BUF_INIT(64 * 1024 * 1024), part = BUF_INIT(64 * 1024 * 1024);
	const uint8_t *msg;
	size_t len, step;
	const char *error;

	if (nul == NULL)
		return;
	msg = nul + 1;
	len = size - (size_t)(msg - data);
	pool = pool_create(16 * 1024 * 1024);
	if (!fetch_section_parse(pool, (const char *)data, (size_t)(nul - data), &s, &error) ||
	    message_parse(pool, msg, len, NULL, &root, &error) == MESSAGE_PARSE_ERROR) {
		pool_destroy(&pool);
		return;
	}
	{
		/* The preview is short, whole characters, no control bytes. */
		struct buf preview = BUF_INIT(4096);
		size_t chars = 0;

		if (!fetch_preview_build(root, &preview))
			abort();
		for (size_t i = 0; i < buf_len(&preview); i++) {
			uint8_t ch = buf_data(&preview)[i];

			if (ch < 0x20 || ch == 0x7f)
				abort();
			chars += (ch & 0xc0) != 0x80;
		}
		if (chars > FETCH_PREVIEW_CHARS)
			abort();
		buf_free(&preview);
	}
	fetch_content_init(&c);
	if (fetch_content_build(&c, &s, msg, len, root) == FETCH_CONTENT_OK) {
		(void)fetch_content_is_binary(&c);
		step = 1 + len % 97;
		fetch_writer_init(&w, &c, 0, UINT64_MAX);
		while (fetch_writer_write(&w, &all, step))
			;
		fetch_writer_deinit(&w);
		if (buf_len(&all) != c.size)
			abort();
		for (uint64_t off = 0; off < c.size + 3; off += 1 + c.size / 5) {
			buf_reset(&part);
			fetch_writer_init(&w, &c, off, 13);
			while (fetch_writer_write(&w, &part, 5))
				;
			fetch_writer_deinit(&w);
			if (off >= c.size ? buf_len(&part) != 0
					  : buf_len(&part) > 13 ||
						    memcmp(buf_data(&part), buf_data(&all) + off,
							   buf_len(&part)) != 0)
				abort();
		}
	}
	fetch_content_free(&c);
	buf_free(&all);
	buf_free(&part);
	pool_destroy(&pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_parse(data + 1, size - 1);
	else
		fuzz_content(data + 1, size - 1);
	return 0;
}
