/*
 * Unit tests for the SEARCH program parser and matcher of roost-imap
 * (imap/search-*.c): RFC 5051 folding, the incremental finder across piece
 * and part boundaries, header blobs, every key against messages held in
 * memory, and the parser's errors and limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imap/search.h"
#include "imap-parser.h"
#include "pool.h"
#include "storage/mailbox-flags.h"

/* ---- folding ---- */

static void assert_folds_to(const char *in, const char *want)
{
	struct buf out = BUF_INIT(4096);

	assert_true(search_fold((const uint8_t *)in, strlen(in), &out));
	assert_int_equal(buf_len(&out), strlen(want));
	assert_memory_equal(buf_data(&out), want, strlen(want));
	buf_free(&out);
}

static void test_fold(void **state)
{
	(void)state;
	assert_folds_to("Hello, World_[x]", "HELLO, WORLD_[X]");
	/* Titlecase then canonical decomposition (RFC 5051). */
	assert_folds_to("caf\xc3\xa9", "CAFE\xcc\x81");
	assert_folds_to("CAF\xc3\x89", "CAFE\xcc\x81");
	assert_folds_to("\xc3\xa5ngstr\xc3\xb6m", "A\xcc\x8aNGSTRO\xcc\x88M");
	/* Final and medial sigma, the Kelvin sign, dz digraph. */
	assert_folds_to("\xcf\x82\xcf\x83", "\xce\xa3\xce\xa3");
	assert_folds_to("\xe2\x84\xaa", "K");
	assert_folds_to("\xc7\x86", "\xc7\x85");
	/* Cyrillic. */
	assert_folds_to("\xd0\xbf\xd1\x80\xd0\xb8", "\xd0\x9f\xd0\xa0\xd0\x98");
	/* Invalid UTF-8 becomes U+FFFD; NUL stays. */
	assert_folds_to("a\xff"
			"b",
			"A\xef\xbf\xbd"
			"B");
	assert_folds_to("\xc3", "\xef\xbf\xbd");
	assert_folds_to("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Beyond the BMP: unchanged. */
	assert_folds_to("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
}

static bool find_one(const char *needle_text, const char *const *pieces, bool breaks)
{
	struct buf folded = BUF_INIT(4096);
	struct search_finder finder;
	const uint8_t *needles[1];
	size_t lens[1];
	bool found[1];

	assert_true(search_fold((const uint8_t *)needle_text, strlen(needle_text), &folded));
	needles[0] = buf_data(&folded);
	lens[0] = buf_len(&folded);
	search_finder_init(&finder, needles, lens, found, 1);
	for (size_t i = 0; pieces[i] != NULL; i++) {
		(void)search_finder_feed(&finder, (const uint8_t *)pieces[i], strlen(pieces[i]));
		if (breaks)
			search_finder_break(&finder);
	}
	search_finder_break(&finder);
	search_finder_deinit(&finder);
	buf_free(&folded);
	return found[0];
}

static void test_finder(void **state)
{
	const char *split[] = {"The qu", "ick br", "own fox", NULL};
	/* "é" split between its two bytes. */
	const char *split_utf8[] = {"Caf\xc3", "\xa9 au lait", NULL};
	const char *split_three[] = {"x\xe2", "\x84", "\xaa", "elvin", NULL};

	(void)state;
	assert_true(find_one("quick brown", split, false));
	assert_false(find_one("quick brown", split, true));
	assert_true(find_one("CAF\xc3\x89 AU", split_utf8, false));
	assert_true(find_one("cafe", split_utf8, false));
	assert_true(find_one("xkelvin", split_three, false));
	assert_true(find_one("", split, true));
	assert_false(find_one("wolf", split, false));

	/* Several needles; a long text fed in many pieces. */
	struct buf text = BUF_INIT(1024 * 1024);
	struct search_finder finder;
	const uint8_t *needles[3] = {(const uint8_t *)"NEEDLE", (const uint8_t *)"END",
				     (const uint8_t *)"ABSENT"};
	size_t lens[3] = {6, 3, 6};
	bool found[3];

	for (int i = 0; i < 50000; i++)
		(void)buf_append_str(&text, "haystack ");
	(void)buf_append_str(&text, "needle ");
	for (int i = 0; i < 50000; i++)
		(void)buf_append_str(&text, "haystack ");
	(void)buf_append_str(&text, "the end");
	search_finder_init(&finder, needles, lens, found, 3);
	for (size_t off = 0; off < buf_len(&text); off += 7777) {
		size_t n = buf_len(&text) - off < 7777 ? buf_len(&text) - off : 7777;

		(void)search_finder_feed(&finder, buf_data(&text) + off, n);
	}
	assert_true(found[0]);
	assert_true(found[1]);
	assert_false(found[2]);
	assert_int_equal(finder.remaining, 1);
	search_finder_deinit(&finder);
	buf_free(&text);
}

/* ---- header blobs ---- */

static const char blob_msg[] = "From: a@example.com\r\n"
			       "Subject: first\r\n"
			       "X-Thing: one\r\n"
			       " folded\r\n"
			       "subject: second\r\n"
			       "x-thing: two\r\n"
			       "\r\n"
			       "Subject: in the body\r\n";

static void test_header_blobs(void **state)
{
	struct buf blob = BUF_INIT(4096);
	struct search_hdr_iter iter;
	const uint8_t *v;
	size_t len;

	(void)state;
	assert_int_equal(search_hdr_lookup("SUBJECT", 7), SEARCH_HDR_SUBJECT);
	assert_int_equal(search_hdr_lookup("x-thing", 7), -1);
	assert_true(search_hdr_build((const uint8_t *)blob_msg, sizeof(blob_msg) - 1, NULL, &blob));
	assert_true(search_hdr_blob_is(buf_data(&blob), buf_len(&blob), NULL));
	search_hdr_iter_init(&iter, buf_data(&blob), buf_len(&blob), SEARCH_HDR_SUBJECT);
	assert_true(search_hdr_iter_next(&iter, &v, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(v, "first", 5);
	assert_true(search_hdr_iter_next(&iter, &v, &len));
	assert_memory_equal(v, "second", 6);
	assert_false(search_hdr_iter_next(&iter, &v, &len));

	buf_reset(&blob);
	assert_true(search_hdr_build((const uint8_t *)blob_msg, sizeof(blob_msg) - 1, "x-thing",
				     &blob));
	assert_true(search_hdr_blob_is(buf_data(&blob), buf_len(&blob), "x-thing"));
	assert_false(search_hdr_blob_is(buf_data(&blob), buf_len(&blob), "x-other"));
	assert_true(search_hdr_first(buf_data(&blob), buf_len(&blob), SEARCH_HDR_NAMED, &v, &len));
	assert_int_equal(len, 10);
	assert_memory_equal(v, "one folded", 10);

	/* A truncated or corrupt blob reads as what is intact. */
	for (size_t cut = 0; cut < buf_len(&blob); cut++) {
		search_hdr_iter_init(&iter, buf_data(&blob), cut, SEARCH_HDR_NAMED);
		while (search_hdr_iter_next(&iter, &v, &len))
			assert_true(v + len <= buf_data(&blob) + cut);
	}
	buf_free(&blob);
}

/* ---- matching messages in memory ---- */

struct mem_msg {
	const char *data;
	uint32_t flags;
	uint32_t keywords;
	int64_t date;
	uint64_t modseq;
};

static const struct mem_msg mem_msgs[] = {
	{"From: Alice <alice@example.com>\r\n"
	 "To: bob@example.org\r\n"
	 "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from Alice\r\n"
	 "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
	 "X-Priority: 1\r\n\r\n"
	 "Plain body with a Needle inside.\r\n",
	 MAIL_SEEN, 0x1, 760579200 /* 7-Feb-1994 */, 5},
	{"From: bob@example.org\r\n"
	 "Subject: encoded body\r\n"
	 "MIME-Version: 1.0\r\n"
	 "Content-Type: multipart/alternative; boundary=x\r\n\r\n"
	 "--x\r\n"
	 "Content-Type: text/plain; charset=iso-8859-1\r\n"
	 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	 "Na=EFve caf=E9\r\n"
	 "--x\r\n"
	 "Content-Type: text/html; charset=utf-8\r\n"
	 "Content-Transfer-Encoding: base64\r\n\r\n"
	 "PGI+Qm9sZCB3b3JkPC9iPg==\r\n"
	 "--x--\r\n",
	 MAIL_FLAGGED | MAIL_RECENT, 0x2, 760665600 /* 8-Feb-1994 */, 9},
	{"Subject: no date\r\n\r\nshort\r\n", MAIL_DELETED, 0, 760752000 /* 9-Feb-1994 */, 7},
};

static bool mem_internal_date(void *ctx, uint32_t seq, int64_t *date_r)
{
	(void)ctx;
	*date_r = mem_msgs[seq - 1].date;
	return true;
}

static bool mem_read(void *ctx, uint32_t seq, const uint8_t **data_r, size_t *len_r)
{
	unsigned int *reads = ctx;

	(*reads)++;
	*data_r = (const uint8_t *)mem_msgs[seq - 1].data;
	*len_r = strlen(mem_msgs[seq - 1].data);
	return true;
}

/* A cache in memory: (seq, field) -> value, as the mailbox cache keeps. */
struct mem_cache_entry {
	uint32_t seq;
	uint16_t field;
	struct buf value;
};
static struct mem_cache_entry mem_cache[64];
static size_t mem_cache_count;
static bool mem_cache_enabled;
static unsigned int mem_prefix_reads;

static bool mem_cache_lookup(void *ctx, uint32_t seq, uint16_t field, const uint8_t **data_r,
			     size_t *len_r)
{
	(void)ctx;
	for (size_t i = 0; mem_cache_enabled && i < mem_cache_count; i++) {
		if (mem_cache[i].seq == seq && mem_cache[i].field == field) {
			*data_r = buf_data(&mem_cache[i].value);
			*len_r = buf_len(&mem_cache[i].value);
			return true;
		}
	}
	return false;
}

static void mem_cache_add(void *ctx, uint32_t seq, uint16_t field, const void *data, size_t len)
{
	struct mem_cache_entry *e = NULL;

	(void)ctx;
	if (!mem_cache_enabled)
		return;
	for (size_t i = 0; i < mem_cache_count; i++) {
		if (mem_cache[i].seq == seq && mem_cache[i].field == field)
			e = &mem_cache[i];
	}
	if (e == NULL) {
		assert_true(mem_cache_count < N_ELEMENTS(mem_cache));
		e = &mem_cache[mem_cache_count++];
		e->seq = seq;
		e->field = field;
		buf_init(&e->value, 1024 * 1024);
	}
	buf_reset(&e->value);
	assert_true(buf_append(&e->value, data, len));
}

static void mem_cache_clear(void)
{
	for (size_t i = 0; i < mem_cache_count; i++)
		buf_free(&mem_cache[i].value);
	mem_cache_count = 0;
}

static bool mem_read_prefix(void *ctx, uint32_t seq, size_t min_len, const uint8_t **data_r,
			    size_t *len_r, bool *complete_r)
{
	size_t len = strlen(mem_msgs[seq - 1].data);

	(void)ctx;
	mem_prefix_reads++;
	*data_r = (const uint8_t *)mem_msgs[seq - 1].data;
	*len_r = min_len < len ? min_len : len;
	*complete_r = *len_r == len;
	return true;
}

static int mem_keyword(void *ctx, const char *name)
{
	(void)ctx;
	if (strcasecmp(name, "$Important") == 0)
		return 0;
	if (strcasecmp(name, "Work") == 0)
		return 1;
	return -1;
}

/* Parses a command line's arguments with the real IMAP parser. */
static const struct imap_command *parse_command(struct imap_parser *parser, const char *line)
{
	struct imap_parse_event ev;
	size_t consumed;

	assert_int_equal(imap_parser_parse(parser, line, strlen(line), &consumed, &ev),
			 IMAP_PARSE_COMMAND);
	return ev.cmd;
}

static enum search_parse_result parse_program(struct pool *pool, struct imap_parser *parser,
					      const char *program, struct search_program *prog,
					      const char **error_r)
{
	char line[8192];
	const struct imap_command *cmd;
	struct search_parse_params params;

	memset(&params, 0, sizeof(params));
	params.charset_prefix = true;
	params.keyword_lookup = mem_keyword;
	params.now = 800000000;
	(void)str_format(line, sizeof(line), "a SEARCH %s\r\n", program);
	cmd = parse_command(parser, line);
	return search_program_parse(pool, cmd->args, cmd->argc, &params, prog, error_r);
}

static bool resolve_identity(void *ctx, struct search_key *key, const char **error_r)
{
	struct imap_seqset out;

	(void)ctx;
	(void)error_r;
	imap_seqset_init(&out);
	imap_seqset_resolve_uid(&key->u.set, 3, &out);
	imap_seqset_clear(&key->u.set);
	key->u.set = out;
	return true;
}

/* The sequence numbers of mem_msgs that match, as "1 3". */
static const char *run_search(const char *program, unsigned int *reads_r)
{
	static char result[64];
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	struct pool *pool = pool_create(1024 * 1024);
	struct search_program prog;
	struct search_source src;
	struct search_mail mail;
	struct search_matcher *matcher;
	const char *error;
	unsigned int reads = 0;

	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	assert_int_equal(parse_program(pool, parser, program, &prog, &error), SEARCH_PARSE_OK);
	assert_true(search_program_resolve_sets(&prog, resolve_identity, NULL, &error));
	memset(&src, 0, sizeof(src));
	src.internal_date = mem_internal_date;
	src.read = mem_read;
	src.read_prefix = mem_read_prefix;
	src.cache_lookup = mem_cache_lookup;
	src.cache_add = mem_cache_add;
	src.ctx = &reads;
	search_mail_init(&mail, &src);
	matcher = search_matcher_create(&prog);
	result[0] = '\0';
	for (uint32_t seq = 1; seq <= N_ELEMENTS(mem_msgs); seq++) {
		search_mail_reset(&mail, seq);
		mail.uid = seq;
		mail.flags = mem_msgs[seq - 1].flags;
		mail.keywords = mem_msgs[seq - 1].keywords;
		mail.size = strlen(mem_msgs[seq - 1].data);
		mail.modseq = mem_msgs[seq - 1].modseq;
		if (search_matcher_match(matcher, &mail))
			(void)str_format(result + strlen(result), sizeof(result) - strlen(result),
					 "%s%u", result[0] == '\0' ? "" : " ", seq);
	}
	search_matcher_destroy(&matcher);
	search_mail_deinit(&mail);
	search_program_free(&prog);
	pool_destroy(&pool);
	imap_parser_destroy(&parser);
	if (reads_r != NULL)
		*reads_r = reads;
	return result;
}

static void run_cases(void);

static void test_match(void **state)
{
	(void)state;
	/* Without a cache, then filling one, then answering from it. */
	run_cases();
	mem_cache_enabled = true;
	run_cases();
	run_cases();
	mem_cache_enabled = false;
	mem_cache_clear();
}

static void test_cached_layout(void **state)
{
	unsigned int reads;

	(void)state;
	mem_cache_enabled = true;
	assert_string_equal(run_search("BODY needle", &reads), "1");
	assert_int_equal(reads, 3);
	/* With the layout cached, only the prefix up to the last text part
	   is read, and the header fields come from the cache. */
	mem_prefix_reads = 0;
	assert_string_equal(run_search("BODY needle FROM alice", &reads), "1");
	assert_int_equal(reads, 0);
	assert_int_equal(mem_prefix_reads, 3);
	/* A stale layout (beyond the end of the file) is parsed again (from
	   the bytes already read when they are the whole message). */
	for (size_t i = 0; i < mem_cache_count; i++) {
		if (mem_cache[i].field == SEARCH_CACHE_FIELD_LAYOUT) {
			uint8_t *p = buf_data_mut(&mem_cache[i].value);

			/* The first segment's offset. */
			p[7] = 0xff;
		}
	}
	assert_string_equal(run_search("BODY needle", &reads), "1");
	assert_string_equal(run_search("BODY needle", &reads), "1");
	/* A truncated one too. */
	for (size_t i = 0; i < mem_cache_count; i++) {
		if (mem_cache[i].field == SEARCH_CACHE_FIELD_LAYOUT)
			buf_truncate(&mem_cache[i].value, 9);
	}
	assert_string_equal(run_search("TEXT \"Content-Transfer-Encoding\"", &reads), "2");
	mem_cache_enabled = false;
	mem_cache_clear();
}

static void run_cases(void)
{
	static const struct {
		const char *program;
		const char *want;
	} cases[] = {
		{"ALL", "1 2 3"},
		{"SEEN", "1"},
		{"UNSEEN", "2 3"},
		{"NEW", "2"},
		{"OLD", "1 3"},
		{"FLAGGED DELETED", ""},
		{"OR FLAGGED DELETED", "2 3"},
		{"KEYWORD $important", "1"},
		{"KEYWORD work", "2"},
		{"UNKEYWORD Work", "1 3"},
		{"KEYWORD unknown", ""},
		{"FROM ALICE", "1"},
		{"FROM example.org", "2"},
		{"TO bob", "1"},
		{"SUBJECT \"gr\xc3\xbc\xc3\x9f\"", "1"},
		{"SUBJECT \"GR\xc3\x9c\xc3\x9f\"", "1"},
		{"HEADER X-Priority 1", "1"},
		{"HEADER x-priority \"\"", "1"},
		{"HEADER subject \"\"", "1 2 3"},
		{"BODY needle", "1"},
		{"BODY \"NA\xc3\x8f\"", "2"},
		{"BODY \"caf\xc3\xa9\"", "2"},
		{"BODY \"bold word\"", "2"},
		{"BODY \"<b>\"", "2"},
		{"BODY \"text/plain\"", ""},
		{"TEXT \"text/plain\"", "2"},
		{"TEXT alice", "1"},
		{"BODY alice", ""},
		{"TEXT short", "3"},
		{"BEFORE 8-Feb-1994", "1"},
		{"ON 8-Feb-1994", "2"},
		{"SINCE 8-Feb-1994", "2 3"},
		{"SENTON 7-Feb-1994", "1"},
		{"SENTBEFORE 8-Feb-1994", "1"},
		{"NOT SENTBEFORE 8-Feb-1994", "2 3"},
		{"LARGER 200", "2"},
		{"SMALLER 50", "3"},
		{"MODSEQ 7", "2 3"},
		{"OLDER 39300000", "1 2"},
		{"YOUNGER 39300000", "3"},
		{"UID 2:*", "2 3"},
		{"NOT UID 2", "1 3"},
		{"(SEEN FROM alice) OR BODY needle DELETED", "1"},
		{"CHARSET UTF-8 BODY short", "3"},
		{"CHARSET us-ascii BODY short", "3"},
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *got = run_search(cases[i].program, NULL);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("SEARCH %s: got \"%s\", want \"%s\"", cases[i].program, got,
				 cases[i].want);
	}
}

static void test_cheap_keys_first(void **state)
{
	unsigned int reads;

	(void)state;
	/* The body is read only where the flag did not decide already. */
	assert_string_equal(run_search("BODY needle SEEN", &reads), "1");
	assert_int_equal(reads, 1);
	assert_string_equal(run_search("OR SEEN BODY short", &reads), "1 3");
	assert_int_equal(reads, 2);
	/* Several BODY/TEXT keys share one read per message. */
	assert_string_equal(run_search("BODY needle TEXT alice BODY plain", &reads), "1");
	assert_int_equal(reads, 3);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *program;
		enum search_parse_result want;
	} cases[] = {
		{"NOSUCHKEY", SEARCH_PARSE_BAD},
		{"FROM", SEARCH_PARSE_BAD},
		{"OR SEEN", SEARCH_PARSE_BAD},
		{"()", SEARCH_PARSE_BAD},
		{"BEFORE 30-Feb-1994x", SEARCH_PARSE_BAD},
		{"SINCE Feb-1-1994", SEARCH_PARSE_BAD},
		{"LARGER 18446744073709551616", SEARCH_PARSE_BAD},
		{"UID 0", SEARCH_PARSE_BAD},
		{"1:2:3", SEARCH_PARSE_BAD},
		{"HEADER \"a b\" x", SEARCH_PARSE_BAD},
		{"SUBJECT \"\xff\"", SEARCH_PARSE_BAD},
		{"CHARSET KOI8-R ALL", SEARCH_PARSE_BADCHARSET},
		{"CHARSET", SEARCH_PARSE_BAD},
		{"MODSEQ \"/flags/\\\\Seen\" all 5", SEARCH_PARSE_OK},
		{"MODSEQ \"/other\" all 5", SEARCH_PARSE_BAD},
		{"OLDER 0", SEARCH_PARSE_BAD},
		{"NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT "
		 "NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT ALL",
		 SEARCH_PARSE_LIMIT},
		{"$", SEARCH_PARSE_OK},
		{"UID $", SEARCH_PARSE_OK},
		{"$:4", SEARCH_PARSE_BAD},
	};
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	struct pool *pool = pool_create(1024 * 1024);
	struct search_program prog;
	const char *error;

	(void)state;
	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		enum search_parse_result r =
			parse_program(pool, parser, cases[i].program, &prog, &error);

		if (r != cases[i].want)
			fail_msg("%s: %d, want %d", cases[i].program, r, cases[i].want);
		if (r != SEARCH_PARSE_OK)
			assert_non_null(error);
		if (strcmp(cases[i].program, "$") == 0)
			assert_true(prog.uses_saved);
		search_program_free(&prog);
	}
	imap_parser_destroy(&parser);
	pool_destroy(&pool);
}

static void test_return_options(void **state)
{
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	const struct imap_command *cmd;
	const struct imap_arg *list;
	size_t count;
	unsigned int opts;
	const char *error;

	(void)state;
	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	cmd = parse_command(parser, "a SEARCH RETURN (min MAX Save) ALL\r\n");
	assert_true(imap_arg_get_list(&cmd->args[1], &list, &count));
	assert_true(search_return_parse(list, count, &opts, &error));
	assert_int_equal(opts, SEARCH_RETURN_MIN | SEARCH_RETURN_MAX | SEARCH_RETURN_SAVE);
	cmd = parse_command(parser, "a SEARCH RETURN () ALL\r\n");
	assert_true(imap_arg_get_list(&cmd->args[1], &list, &count));
	assert_true(search_return_parse(list, count, &opts, &error));
	assert_int_equal(opts, SEARCH_RETURN_ALL);
	cmd = parse_command(parser, "a SEARCH RETURN (PARTIAL 1:5) ALL\r\n");
	assert_true(imap_arg_get_list(&cmd->args[1], &list, &count));
	assert_false(search_return_parse(list, count, &opts, &error));
	imap_parser_destroy(&parser);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold),	      cmocka_unit_test(test_finder),
		cmocka_unit_test(test_header_blobs),  cmocka_unit_test(test_match),
		cmocka_unit_test(test_cached_layout), cmocka_unit_test(test_cheap_keys_first),
		cmocka_unit_test(test_parse_errors),  cmocka_unit_test(test_return_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
