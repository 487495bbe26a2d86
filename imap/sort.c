/*
 * SORT criteria (RFC 5256 section 3, RFC 5957 DISPLAYFROM/DISPLAYTO): the
 * key of each message is computed once from its record and its cached
 * header fields, then the messages are ordered with the sequence number as
 * the final tie-breaker. Runs in roost-imap on untrusted header values.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "sort.h"
#include "storage/message-address.h"
#include "storage/rfc2047.h"
#include "xalloc.h"

#define SORT_POOL_MAX	(4U * 1024 * 1024)
#define SORT_KEYS_MAX	(1024U * 1024 * 1024) /* offsets fit in 32 bits */
#define SORT_STRING_MAX (64U * 1024)

/* Merges the sorted runs a[0..na) and b[0..nb) into out. */
static void merge_runs(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint8_t *out,
		       size_t size, int (*cmp)(const void *, const void *, void *), void *ctx)
{
	while (na > 0 && nb > 0) {
		/* Ties take from the left run: stable. */
		if (cmp(b, a, ctx) < 0) {
			memcpy(out, b, size);
			b += size;
			nb--;
		} else {
			memcpy(out, a, size);
			a += size;
			na--;
		}
		out += size;
	}
	memcpy(out, a, na * size);
	memcpy(out + na * size, b, nb * size);
}

void sort_array(void *base, size_t n, size_t size,
		int (*cmp)(const void *a, const void *b, void *ctx), void *ctx)
{
	uint8_t *src = base, *tmp, *dst;
	size_t bytes;

	if (n < 2)
		return;
	if (!size_mul(n, size, &bytes))
		panic("sort_array: %zu elements of %zu bytes", n, size);
	tmp = i_malloc(bytes);
	dst = tmp;
	/* Bottom-up: runs of width 1, 2, 4 ... alternate between buffers. */
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;

			merge_runs(src + lo * size, mid - lo, src + mid * size, hi - mid,
				   dst + lo * size, size, cmp, ctx);
		}
		uint8_t *t = src;

		src = dst;
		dst = t;
	}
	if (src != base)
		memcpy(base, src, bytes);
	free(tmp);
}

size_t sort_criteria_parse(const struct imap_arg *list, size_t count,
			   struct sort_criterion crit_r[SORT_MAX_CRITERIA], const char **error_r)
{
	static const struct {
		const char *name;
		enum sort_key key;
	} names[] = {
		{"ARRIVAL", SORT_KEY_ARRIVAL},
		{"CC", SORT_KEY_CC},
		{"DATE", SORT_KEY_DATE},
		{"FROM", SORT_KEY_FROM},
		{"SIZE", SORT_KEY_SIZE},
		{"SUBJECT", SORT_KEY_SUBJECT},
		{"TO", SORT_KEY_TO},
		{"DISPLAYFROM", SORT_KEY_DISPLAYFROM},
		{"DISPLAYTO", SORT_KEY_DISPLAYTO},
	};
	size_t n = 0;
	bool reverse = false;

	for (size_t i = 0; i < count; i++) {
		size_t j;

		if (imap_arg_atom_equals(&list[i], "REVERSE")) {
			if (reverse) {
				*error_r = "REVERSE twice in sort criteria";
				return 0;
			}
			reverse = true;
			continue;
		}
		for (j = 0; j < N_ELEMENTS(names); j++) {
			if (imap_arg_atom_equals(&list[i], names[j].name))
				break;
		}
		if (j == N_ELEMENTS(names)) {
			*error_r = "Unknown sort criterion";
			return 0;
		}
		if (n == SORT_MAX_CRITERIA) {
			*error_r = "Too many sort criteria";
			return 0;
		}
		crit_r[n].key = names[j].key;
		crit_r[n].reverse = reverse;
		n++;
		reverse = false;
	}
	if (reverse || n == 0) {
		*error_r = reverse ? "REVERSE without a sort criterion" : "Empty sort criteria";
		return 0;
	}
	return n;
}

struct sort_item {
	uint32_t seq;
	int64_t arrival;
	int64_t date;
	uint64_t size;
	/* Per criterion, the folded string's offset and length in the
	   context's key buffer (2 * ncrit entries, shared array). */
	uint32_t *str;
};

struct sort_ctx {
	const struct sort_criterion *crit;
	size_t ncrit;
	struct buf keys;
	struct pool *pool;
	struct buf tmp;
};

/* The first address of a header, NULL when there is none. */
static const struct message_address *first_address(struct sort_ctx *ctx, struct search_mail *mail,
						   uint8_t id)
{
	const uint8_t *blob, *value;
	size_t blob_len, value_len;
	const char *error;

	if (!search_mail_std_headers(mail, &blob, &blob_len) ||
	    !search_hdr_first(blob, blob_len, id, &value, &value_len))
		return NULL;
	return message_address_parse(ctx->pool, value, value_len, 0, NULL, &error);
}

/* Appends the unfolded sort string of a key to ctx->tmp. */
static void string_key(struct sort_ctx *ctx, struct search_mail *mail, enum sort_key key)
{
	const struct message_address *addr;
	const uint8_t *blob, *value;
	size_t blob_len, value_len;
	bool reply;
	uint8_t id;

	switch (key) {
	case SORT_KEY_SUBJECT:
		if (search_mail_std_headers(mail, &blob, &blob_len) &&
		    search_hdr_first(blob, blob_len, SEARCH_HDR_SUBJECT, &value, &value_len))
			(void)sort_base_subject(value, value_len, &ctx->tmp, &reply);
		return;
	case SORT_KEY_FROM:
	case SORT_KEY_DISPLAYFROM:
		id = SEARCH_HDR_FROM;
		break;
	case SORT_KEY_TO:
	case SORT_KEY_DISPLAYTO:
		id = SEARCH_HDR_TO;
		break;
	case SORT_KEY_CC:
		id = SEARCH_HDR_CC;
		break;
	default:
		return;
	}
	addr = first_address(ctx, mail, id);
	if (addr == NULL)
		return;
	struct buf raw = BUF_INIT(SORT_STRING_MAX);

	if ((key == SORT_KEY_DISPLAYFROM || key == SORT_KEY_DISPLAYTO) && addr->name != NULL &&
	    addr->name[0] != '\0') {
		/* RFC 5957: the display name, decoded. */
		(void)rfc2047_decode((const uint8_t *)addr->name, strlen(addr->name), &raw, NULL);
	} else if (key == SORT_KEY_DISPLAYFROM || key == SORT_KEY_DISPLAYTO) {
		/* Without one, the address itself. */
		if (addr->mailbox != NULL)
			(void)buf_append_str(&raw, addr->mailbox);
		if (addr->domain != NULL) {
			(void)buf_append_c(&raw, '@');
			(void)buf_append_str(&raw, addr->domain);
		}
	} else if (addr->mailbox != NULL) {
		/* RFC 5256: the addr-mailbox of the first address. */
		(void)buf_append_str(&raw, addr->mailbox);
	}
	(void)search_fold(buf_data(&raw), buf_len(&raw), &ctx->tmp);
	buf_free(&raw);
}

/* The sent date (RFC 5256 2.2): the Date: field, else the internal date. */
static int64_t sort_sent_date(struct search_mail *mail)
{
	const uint8_t *blob, *value;
	size_t blob_len, value_len;
	int64_t date = 0;
	time_t t;
	int tz;

	if (search_mail_std_headers(mail, &blob, &blob_len) &&
	    search_hdr_first(blob, blob_len, SEARCH_HDR_DATE, &value, &value_len) &&
	    search_hdr_date(value, value_len, &t, &tz))
		return (int64_t)t;
	(void)search_mail_internal_date(mail, &date);
	return date;
}

static void fill_item(struct sort_ctx *ctx, struct search_mail *mail, struct sort_item *item)
{
	item->size = mail->size;
	for (size_t i = 0; i < ctx->ncrit; i++) {
		enum sort_key key = ctx->crit[i].key;

		switch (key) {
		case SORT_KEY_ARRIVAL:
			(void)search_mail_internal_date(mail, &item->arrival);
			break;
		case SORT_KEY_DATE:
			item->date = sort_sent_date(mail);
			break;
		case SORT_KEY_SIZE:
			break;
		default:
			buf_reset(&ctx->tmp);
			pool_clear(ctx->pool);
			string_key(ctx, mail, key);
			/* The key buffer's maximum keeps offsets in 32 bits. */
			item->str[2 * i] = (uint32_t)buf_len(&ctx->keys);
			item->str[2 * i + 1] = (uint32_t)buf_len(&ctx->tmp);
			if (!buf_append(&ctx->keys, buf_data(&ctx->tmp), buf_len(&ctx->tmp)))
				item->str[2 * i + 1] = 0;
			break;
		}
	}
}

static int cmp_num(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

static int compare_items(const void *pa, const void *pb, void *context)
{
	const struct sort_item *a = *(const struct sort_item *const *)pa;
	const struct sort_item *b = *(const struct sort_item *const *)pb;
	const struct sort_ctx *ctx = context;
	const uint8_t *keys = buf_data(&ctx->keys);

	for (size_t i = 0; i < ctx->ncrit; i++) {
		int r = 0;

		switch (ctx->crit[i].key) {
		case SORT_KEY_ARRIVAL:
			r = cmp_num(a->arrival, b->arrival);
			break;
		case SORT_KEY_DATE:
			r = cmp_num(a->date, b->date);
			break;
		case SORT_KEY_SIZE:
			r = a->size < b->size ? -1 : a->size > b->size ? 1 : 0;
			break;
		default: {
			size_t la = a->str[2 * i + 1], lb = b->str[2 * i + 1];

			r = memcmp(keys + a->str[2 * i], keys + b->str[2 * i], la < lb ? la : lb);
			if (r == 0)
				r = la < lb ? -1 : la > lb ? 1 : 0;
			break;
		}
		}
		if (r != 0)
			return ctx->crit[i].reverse ? -r : r;
	}
	/* Equal by every criterion: mailbox order. */
	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

void sort_messages(const struct sort_criterion *crit, size_t ncrit, struct search_mail *mail,
		   sort_mail_set_t *set_mail, void *context, uint32_t *seqs, size_t count)
{
	struct sort_ctx ctx;
	struct sort_item *items, **order;
	uint32_t *strs;

	if (count < 2)
		return;
	memset(&ctx, 0, sizeof(ctx));
	ctx.crit = crit;
	ctx.ncrit = ncrit;
	buf_init(&ctx.keys, SORT_KEYS_MAX);
	buf_init(&ctx.tmp, SORT_STRING_MAX * 5);
	ctx.pool = pool_create(SORT_POOL_MAX);
	items = i_calloc(count, sizeof(*items));
	strs = i_calloc(count * 2 * ncrit + 1, sizeof(*strs));
	order = i_calloc(count, sizeof(*order));
	for (size_t i = 0; i < count; i++) {
		items[i].seq = seqs[i];
		items[i].str = strs + i * 2 * ncrit;
		set_mail(context, mail, seqs[i]);
		fill_item(&ctx, mail, &items[i]);
		order[i] = &items[i];
	}
	/* Pointers are sorted, not the items: far less to move. */
	sort_array(order, count, sizeof(*order), compare_items, &ctx);
	for (size_t i = 0; i < count; i++)
		seqs[i] = order[i]->seq;
	free(order);
	free(strs);
	free(items);
	buf_free(&ctx.keys);
	buf_free(&ctx.tmp);
	pool_destroy(&ctx.pool);
}
