/*
 * libFuzzer harness for the IMAP command parser. The first three input bytes
 * choose the limits, how literals are answered and how the rest is cut into
 * chunks. Properties checked: the events are the same whether the input is
 * fed whole or in fuzzed pieces (the incremental paths, including raw
 * lines read after AUTHENTICATE and IDLE), the parser never claims "more"
 * with input left over, and every command written back with
 * imap_args_write() parses again to the same arguments.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_conf {
	uint8_t policy; /* how literals are answered */
	uint8_t limits; /* which limits */
	uint8_t seed;	/* chunking */
};

static void conf_limits(const struct fuzz_conf *conf, struct imap_parser_limits *l)
{
	imap_parser_limits_default(l);
	l->literal_minus = (conf->limits & 0x01) != 0;
	if ((conf->limits & 0x02) != 0) {
		/* Small limits, so that every limit gets hit. */
		l->max_line_length = 48 + (conf->limits >> 4);
		l->max_literal_size = 16;
		l->max_depth = 3;
		l->max_args = 8;
		l->max_command_size = 2048;
	}
}

/* Deterministic literal decision: must not depend on chunking. */
static int literal_action(const struct fuzz_conf *conf, const struct imap_literal_info *li)
{
	switch (conf->policy & 0x03) {
	case 0:
		return 0; /* accept */
	case 1:
		return 1; /* stream */
	case 2:
		return li->size > 8 ? 1 : 0;
	default:
		return (li->index + li->depth) % 3 == 2 ? 2 : (int)(li->size % 2);
	}
}

/* Next chunk length from a tiny PRNG (0 = rest of input). */
static size_t next_chunk(uint32_t *state, size_t left)
{
	*state = *state * 1103515245u + 12345u;
	size_t n = 1 + ((*state >> 16) % 9);

	if ((*state & 0x100) != 0)
		n = 1;
	return n > left ? left : n;
}

static bool has_streamed(const struct imap_arg *args, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (args[i].type == IMAP_ARG_LITERAL &&
		    (args[i].flags & IMAP_ARG_FLAG_STREAMED) != 0)
			return true;
		if (args[i].type == IMAP_ARG_LIST && has_streamed(args[i].list, args[i].len))
			return true;
	}
	return false;
}

static void round_trip(const struct imap_command *cmd)
{
	struct buf out = BUF_INIT(64 * 1024 * 1024);
	struct buf again = BUF_INIT(64 * 1024 * 1024);
	struct imap_parser_limits l;
	struct imap_parser *p;
	struct imap_parse_event ev;
	size_t off = 0, consumed;
	bool got = false;

	/* Streamed literals have no contents to write back. */
	if (has_streamed(cmd->args, cmd->argc))
		return;
	if (!buf_printf(&out, "%s %s", cmd->tag, cmd->name))
		abort();
	if (cmd->argc > 0) {
		buf_append_c(&out, ' ');
		if (!imap_args_write(&out, cmd->args, cmd->argc, 0))
			abort();
	}
	buf_append_str(&out, "\r\n");
	if (!imap_args_write(&again, cmd->args, cmd->argc, 0))
		abort();

	imap_parser_limits_default(&l);
	l.max_line_length = 16 * 1024 * 1024;
	l.max_literal_size = 16 * 1024 * 1024;
	l.max_depth = 100000;
	l.max_args = 1000000;
	l.max_command_size = 256 * 1024 * 1024;
	p = imap_parser_create(&l);
	while (off < buf_len(&out) || !got) {
		enum imap_parse_result r = imap_parser_parse(p, buf_data(&out) + off,
							     buf_len(&out) - off, &consumed, &ev);

		off += consumed;
		if (r == IMAP_PARSE_LITERAL) {
			if (!imap_parser_literal_accept(p))
				abort();
			continue;
		}
		if (r != IMAP_PARSE_COMMAND || got)
			abort(); /* the written form must be one valid command */
		got = true;
		if (strcmp(ev.cmd->tag, cmd->tag) != 0 || strcmp(ev.cmd->name, cmd->name) != 0)
			abort();
		struct buf third = BUF_INIT(64 * 1024 * 1024);

		if (!imap_args_write(&third, ev.cmd->args, ev.cmd->argc, 0))
			abort();
		if (buf_len(&third) != buf_len(&again) ||
		    memcmp(buf_data(&third), buf_data(&again), buf_len(&again)) != 0)
			abort();
		buf_free(&third);
	}
	imap_parser_destroy(&p);
	buf_free(&out);
	buf_free(&again);
}

/* Runs the parser over data; chunk state 0 feeds everything at once. */
static void run(const struct fuzz_conf *conf, const uint8_t *data, size_t size, uint32_t chunking,
		struct buf *trace, bool check_round_trip)
{
	struct imap_parser_limits l;
	struct imap_parser *p;
	struct buf lit = BUF_INIT(64 * 1024 * 1024);
	size_t off = 0, window = 0;
	bool want_line = false;

	conf_limits(conf, &l);
	p = imap_parser_create(&l);
	for (;;) {
		struct imap_parse_event ev;
		size_t consumed;
		enum imap_parse_result r;

		if (window == 0)
			window = chunking == 0 ? size - off : next_chunk(&chunking, size - off);
		if (want_line)
			r = imap_parser_read_line(p, data + off, window, &consumed, &ev);
		else
			r = imap_parser_parse(p, data + off, window, &consumed, &ev);
		if (consumed > window)
			abort();
		off += consumed;
		window -= consumed;
		if (r == IMAP_PARSE_MORE) {
			if (window != 0)
				abort();
			if (off == size)
				break;
			continue;
		}
		switch (r) {
		case IMAP_PARSE_COMMAND:
			if (ev.cmd->tag[0] == '\0' || ev.cmd->name[0] == '\0')
				abort();
			buf_printf(trace, "C %s %s ", ev.cmd->tag, ev.cmd->name);
			if (!imap_args_write(trace, ev.cmd->args, ev.cmd->argc, 0))
				abort();
			buf_append_c(trace, '\n');
			if (check_round_trip)
				round_trip(ev.cmd);
			/* These are followed by raw lines (SASL responses, DONE). */
			want_line = strcmp(ev.cmd->name, "AUTHENTICATE") == 0 ||
				    strcmp(ev.cmd->name, "IDLE") == 0;
			break;
		case IMAP_PARSE_LINE:
			if (!want_line || ev.data == NULL || ev.data[ev.data_len] != '\0')
				abort();
			buf_printf(trace, "R %zu ", ev.data_len);
			buf_append(trace, ev.data, ev.data_len);
			buf_append_c(trace, '\n');
			want_line = false;
			break;
		case IMAP_PARSE_LITERAL:
			buf_printf(trace, "L %llu %d %d %d\n", (unsigned long long)ev.literal.size,
				   ev.literal.sync, ev.literal.binary, ev.literal.over_limit);
			switch (literal_action(conf, &ev.literal)) {
			case 0:
				buf_printf(trace, "A %d\n", imap_parser_literal_accept(p));
				break;
			case 1:
				imap_parser_literal_stream(p);
				break;
			default:
				imap_parser_literal_reject(p);
				break;
			}
			break;
		case IMAP_PARSE_LITERAL_DATA:
			buf_append(&lit, ev.data, ev.data_len);
			if (ev.data_last) {
				buf_printf(trace, "D %zu ", buf_len(&lit));
				buf_append(trace, buf_data(&lit), buf_len(&lit));
				buf_append_c(trace, '\n');
				buf_reset(&lit);
			}
			break;
		case IMAP_PARSE_ERROR:
			if (ev.error_msg == NULL || ev.error == IMAP_PARSE_ERR_NONE)
				abort();
			want_line = false;
			buf_printf(trace, "E %d %s %s %d\n", (int)ev.error,
				   ev.error_tag != NULL ? ev.error_tag : "*", ev.error_msg,
				   ev.error_fatal);
			if (ev.error_fatal) {
				imap_parser_destroy(&p);
				buf_free(&lit);
				return;
			}
			break;
		default:
			abort();
		}
	}
	buf_printf(trace, "I %d\n", imap_parser_is_idle(p));
	imap_parser_destroy(&p);
	buf_free(&lit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_conf conf;
	struct buf whole = BUF_INIT(256 * 1024 * 1024);
	struct buf pieces = BUF_INIT(256 * 1024 * 1024);

	if (size < 3)
		return 0;
	conf.policy = data[0];
	conf.limits = data[1];
	conf.seed = data[2];
	data += 3;
	size -= 3;

	run(&conf, data, size, 0, &whole, true);
	run(&conf, data, size, 0x9e3779b9u ^ conf.seed, &pieces, false);
	if (buf_len(&whole) != buf_len(&pieces) ||
	    memcmp(buf_data(&whole), buf_data(&pieces), buf_len(&whole)) != 0)
		abort(); /* chunking changed what the parser saw */
	buf_free(&whole);
	buf_free(&pieces);
	return 0;
}
