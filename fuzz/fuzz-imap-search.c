/*
 * libFuzzer harness for the SEARCH program parser and matcher of roost-imap.
 * The input is a search program as a client would send it after "SEARCH "
 * (one line, literals allowed); after a NUL byte, the rest is one more
 * message added to a small fixed set (MIME, encoded words, QP, base64);
 * after a second NUL, the rest is what the "cache" returns for that
 * message's header blob and layout (cached values are untrusted too).
 * The program is parsed with the real IMAP parser and run against every
 * message. Checks: parse errors always come with a text, a parsed program
 * matches without crashing, NOT inverts the result exactly, and matching
 * twice gives the same answer (the per-message caches are consistent).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap-parser.h"
#include "pool.h"
#include "storage/mailbox-flags.h"

/* The matcher lives in roost-imap, which is no library: build it in. */
#include "imap/search-body.c"
#include "imap/search-fold.c"
#include "imap/search-headers.c"
#include "imap/search-mail.c"
#include "imap/search-match.c"
#include "imap/search-parse.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fixed[] = {
	"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nCc: c@example.net\r\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from Alice\r\n"
	"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nX-Priority: 1\r\n\r\n"
	"Plain body with a Needle inside.\r\n",
	"From: bob@example.org\r\nSubject: encoded body\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=x\r\n\r\npreamble\r\n--x\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n\r\nNa=EFve caf=E9 =\r\nsoft\r\n--x\r\n"
	"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	"PGI+Qm9sZCB3b3JkPC9iPg==\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n"
	"Subject: inner\r\n\r\ninner body\r\n--x--\r\n",
	"Subject: no date\n\nshort\n",
};

struct fuzz_ctx {
	const uint8_t *extra;
	size_t extra_len;
	const uint8_t *cached;
	size_t cached_len;
};

static size_t message_count(const struct fuzz_ctx *ctx)
{
	return N_ELEMENTS(fixed) + (ctx->extra != NULL ? 1 : 0);
}

static bool fz_internal_date(void *context, uint32_t seq, int64_t *date_r)
{
	(void)context;
	*date_r = 760579200 + (int64_t)seq * 86400;
	return true;
}

static bool fz_read(void *context, uint32_t seq, const uint8_t **data_r, size_t *len_r)
{
	struct fuzz_ctx *ctx = context;

	if (seq <= N_ELEMENTS(fixed)) {
		*data_r = (const uint8_t *)fixed[seq - 1];
		*len_r = strlen(fixed[seq - 1]);
	} else {
		*data_r = ctx->extra;
		*len_r = ctx->extra_len;
	}
	return true;
}

static bool fz_read_prefix(void *context, uint32_t seq, size_t min_len, const uint8_t **data_r,
			   size_t *len_r, bool *complete_r)
{
	size_t len;

	if (!fz_read(context, seq, data_r, &len))
		return false;
	*len_r = min_len < len ? min_len : len;
	*complete_r = *len_r == len;
	return true;
}

static bool fz_cache_lookup(void *context, uint32_t seq, uint16_t field, const uint8_t **data_r,
			    size_t *len_r)
{
	struct fuzz_ctx *ctx = context;

	if (ctx->cached == NULL || seq <= N_ELEMENTS(fixed) ||
	    (field != SEARCH_CACHE_FIELD_HEADERS && field != SEARCH_CACHE_FIELD_LAYOUT))
		return false;
	*data_r = ctx->cached;
	*len_r = ctx->cached_len;
	return true;
}

static int fz_keyword(void *context, const char *name)
{
	(void)context;
	return strcasecmp(name, "work") == 0 ? 1 : -1;
}

static bool fz_resolve(void *context, struct search_key *key, const char **error_r)
{
	struct fuzz_ctx *ctx = context;
	struct imap_seqset out;

	(void)error_r;
	imap_seqset_init(&out);
	if (!key->u.set.saved)
		imap_seqset_resolve_uid(&key->u.set, (uint32_t)message_count(ctx), &out);
	imap_seqset_clear(&key->u.set);
	key->u.set = out;
	return true;
}

static void fill(struct search_mail *mail, struct fuzz_ctx *ctx, uint32_t seq)
{
	search_mail_reset(mail, seq);
	mail->uid = seq * 3;
	mail->flags = seq == 1 ? MAIL_SEEN : seq == 2 ? MAIL_FLAGGED | MAIL_RECENT : MAIL_DELETED;
	mail->keywords = seq == 2 ? 0x2 : 0;
	mail->size = seq <= N_ELEMENTS(fixed) ? strlen(fixed[seq - 1]) : ctx->extra_len;
	mail->modseq = seq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ctx ctx = {NULL, 0};
	const uint8_t *nul = memchr(data, '\0', size);
	size_t prog_len = nul != NULL ? (size_t)(nul - data) : size;
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	struct imap_parse_event ev;
	struct buf line = BUF_INIT(128 * 1024);
	struct search_parse_params params;
	struct search_program prog, negated;
	struct search_source src;
	struct search_mail mail;
	struct pool *pool;
	const char *error;
	size_t consumed, off = 0;
	enum imap_parse_result r;

	if (nul != NULL) {
		const uint8_t *nul2;

		ctx.extra = nul + 1;
		ctx.extra_len = size - prog_len - 1;
		nul2 = memchr(ctx.extra, '\0', ctx.extra_len);
		if (nul2 != NULL) {
			ctx.cached = nul2 + 1;
			ctx.cached_len = ctx.extra_len - (size_t)(nul2 + 1 - ctx.extra);
			ctx.extra_len = (size_t)(nul2 - ctx.extra);
		}
	}
	if (!buf_append_str(&line, "a SEARCH ") || !buf_append(&line, data, prog_len) ||
	    !buf_append_str(&line, "\r\n")) {
		buf_free(&line);
		return 0;
	}
	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	/* Accept literals as they are announced, until a command or error. */
	for (;;) {
		r = imap_parser_parse(parser, buf_data(&line) + off, buf_len(&line) - off,
				      &consumed, &ev);
		off += consumed;
		if (r == IMAP_PARSE_LITERAL) {
			(void)imap_parser_literal_accept(parser);
			continue;
		}
		if (r == IMAP_PARSE_MORE && off < buf_len(&line))
			continue;
		break;
	}
	if (r != IMAP_PARSE_COMMAND) {
		imap_parser_destroy(&parser);
		buf_free(&line);
		return 0;
	}

	memset(&params, 0, sizeof(params));
	params.charset_prefix = true;
	params.keyword_lookup = fz_keyword;
	params.max_depth = 16;
	params.max_keys = 200;
	params.now = 800000000;
	pool = pool_create(4 * 1024 * 1024);
	if (search_program_parse(pool, ev.cmd->args, ev.cmd->argc, &params, &prog, &error) !=
	    SEARCH_PARSE_OK) {
		if (error == NULL)
			abort();
		search_program_free(&prog);
		pool_destroy(&pool);
		imap_parser_destroy(&parser);
		buf_free(&line);
		return 0;
	}
	(void)search_program_resolve_sets(&prog, fz_resolve, &ctx, &error);

	/* NOT (program): the same tree under a NOT node. */
	negated = prog;
	struct search_key not_key;

	memset(&not_key, 0, sizeof(not_key));
	not_key.type = SEARCH_KEY_NOT;
	not_key.children = prog.root;
	negated.root = &not_key;

	memset(&src, 0, sizeof(src));
	src.internal_date = fz_internal_date;
	src.read = fz_read;
	src.read_prefix = fz_read_prefix;
	src.cache_lookup = fz_cache_lookup;
	src.ctx = &ctx;
	search_mail_init(&mail, &src);
	struct search_matcher *m1 = search_matcher_create(&prog);
	struct search_matcher *m2 = search_matcher_create(&negated);

	for (uint32_t seq = 1; seq <= message_count(&ctx); seq++) {
		bool a, b, c;

		fill(&mail, &ctx, seq);
		a = search_matcher_match(m1, &mail);
		b = search_matcher_match(m1, &mail);
		c = search_matcher_match(m2, &mail);
		if (a != b || (!mail.failed && a == c))
			abort();
	}
	search_matcher_destroy(&m1);
	search_matcher_destroy(&m2);
	search_mail_deinit(&mail);
	search_program_free(&prog);
	pool_destroy(&pool);
	imap_parser_destroy(&parser);
	buf_free(&line);
	return 0;
}
