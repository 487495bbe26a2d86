/*
 * THREAD (RFC 5256 section 3): ORDEREDSUBJECT and the REFERENCES algorithm,
 * step by step as the RFC gives them, and the thread-list output. Runs in
 * roost-imap on untrusted Message-ID, References, In-Reply-To, Subject and
 * Date values. Trees may be as deep as the mailbox is large, so every walk
 * uses an explicit stack instead of recursion, and no link is made that
 * would create a loop.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "sort.h"
#include "xalloc.h"

/* Most Message-IDs taken from one References field. */
#define THREAD_MAX_REFS 1000
#define THREAD_ID_MAX	(16U * 1024 * 1024)

bool thread_algorithm_parse(const char *name, enum thread_algorithm *alg_r)
{
	if (strcasecmp(name, "ORDEREDSUBJECT") == 0)
		*alg_r = THREAD_ORDEREDSUBJECT;
	else if (strcasecmp(name, "REFERENCES") == 0)
		*alg_r = THREAD_REFERENCES;
	else if (strcasecmp(name, "REFS") == 0)
		*alg_r = THREAD_REFS;
	else
		return false;
	return true;
}

/* ---- Message-IDs ---- */

static bool id_special(uint8_t c)
{
	return c <= ' ' || c == '<' || c == '>' || c == '@' || c == '"' || c == '(' || c == ')' ||
	       c == ',' || c == ';' || c == ':' || c == '\\' || c == '[' || c == ']';
}

static size_t skip_cfws(const uint8_t *s, size_t p, size_t len)
{
	unsigned int depth = 0;

	for (; p < len; p++) {
		if (depth > 0) {
			if (s[p] == '\\')
				p++;
			else if (s[p] == '(')
				depth++;
			else if (s[p] == ')')
				depth--;
		} else if (s[p] == '(') {
			depth = 1;
		} else if (s[p] != ' ' && s[p] != '\t' && s[p] != '\r' && s[p] != '\n') {
			break;
		}
	}
	return p;
}

/* One word of a local part: an atom or an unquoted quoted-string. */
static size_t read_word(const uint8_t *s, size_t p, size_t len, struct buf *out, bool *ok_r)
{
	*ok_r = false;
	if (p < len && s[p] == '"') {
		for (p++; p < len && s[p] != '"'; p++) {
			if (s[p] == '\\' && p + 1 < len)
				p++;
			(void)buf_append_c(out, s[p]);
		}
		if (p >= len)
			return p;
		*ok_r = true;
		return p + 1;
	}
	size_t start = p;

	while (p < len && !id_special(s[p]) && s[p] != '.')
		p++;
	(void)buf_append(out, s + start, p - start);
	*ok_r = p > start;
	return p;
}

/* Parses "<local@domain>" at p (just after '<'); returns the end, 0 if bad. */
static size_t read_msgid(const uint8_t *s, size_t p, size_t len, struct buf *out)
{
	size_t start_len = buf_len(out), q;
	bool ok;

	p = skip_cfws(s, p, len);
	for (;;) {
		p = read_word(s, p, len, out, &ok);
		if (!ok)
			return 0;
		p = skip_cfws(s, p, len);
		if (p < len && s[p] == '.') {
			(void)buf_append_c(out, '.');
			p = skip_cfws(s, p + 1, len);
			continue;
		}
		break;
	}
	if (p >= len || s[p] != '@' || buf_len(out) == start_len)
		return 0;
	(void)buf_append_c(out, '@');
	p = skip_cfws(s, p + 1, len);
	q = p;
	while (p < len && s[p] != '>' && s[p] != '<' && s[p] != ' ' && s[p] != '\t' &&
	       s[p] != '\r' && s[p] != '\n' && s[p] != '(')
		p++;
	if (p == q)
		return 0;
	(void)buf_append(out, s + q, p - q);
	p = skip_cfws(s, p, len);
	if (p >= len || s[p] != '>')
		return 0;
	return p + 1;
}

size_t thread_msgids_parse(const uint8_t *value, size_t len, size_t max, struct buf *out)
{
	size_t found = 0, p = 0;

	while (p < len && found < max) {
		size_t mark = buf_len(out), end;

		if (value[p] == '(') {
			/* A comment: Message-IDs in it do not count. */
			p = skip_cfws(value, p, len);
			continue;
		}
		if (value[p] != '<') {
			p++;
			continue;
		}
		end = read_msgid(value, p + 1, len, out);
		if (end == 0 || !buf_append_c(out, '\0')) {
			buf_truncate(out, mark);
			p++;
			continue;
		}
		found++;
		p = end;
	}
	return found;
}

/* ---- the thread tree ---- */

struct tnode {
	struct tnode *parent;
	struct tnode *first_child, *last_child;
	struct tnode *prev, *next;
	uint32_t seq; /* 0: a dummy */
	uint32_t num; /* what the response shows: the seq or the UID */
	int64_t date;
	/* REFS: the newest sent date in the subtree, and that message. */
	int64_t newest;
	uint32_t newest_seq;
	/* Base subject (folded) in the context's subject buffer. */
	size_t subj_off, subj_len;
	bool reply;
};

struct thread_ctx {
	struct tnode **nodes;
	size_t count, alloc;
	struct tnode root;
	struct buf subjects;
	struct hash_table *ids;
};

static struct tnode *new_node(struct thread_ctx *ctx)
{
	struct tnode *n = i_calloc(1, sizeof(*n));

	if (ctx->count == ctx->alloc) {
		ctx->alloc = ctx->alloc == 0 ? 64 : ctx->alloc * 2;
		ctx->nodes = i_realloc(ctx->nodes, ctx->alloc * sizeof(*ctx->nodes));
	}
	ctx->nodes[ctx->count++] = n;
	return n;
}

static void unlink_node(struct tnode *n)
{
	struct tnode *p = n->parent;

	if (p == NULL)
		return;
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		p->first_child = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		p->last_child = n->prev;
	n->parent = n->prev = n->next = NULL;
}

static void append_child(struct tnode *parent, struct tnode *n)
{
	n->parent = parent;
	n->next = NULL;
	n->prev = parent->last_child;
	if (parent->last_child != NULL)
		parent->last_child->next = n;
	else
		parent->first_child = n;
	parent->last_child = n;
}

/* Whether a is b or lies below b. */
static bool is_descendant(const struct tnode *a, const struct tnode *b)
{
	if (b->first_child == NULL)
		return a == b;
	for (; a != NULL; a = a->parent) {
		if (a == b)
			return true;
	}
	return false;
}

static size_t child_count(const struct tnode *n)
{
	size_t c = 0;

	for (const struct tnode *k = n->first_child; k != NULL && c < 2; k = k->next)
		c++;
	return c;
}

/* The node of a Message-ID, created as a dummy when it is new. */
static struct tnode *id_node(struct thread_ctx *ctx, const char *id)
{
	struct tnode *n = hash_get(ctx->ids, id, strlen(id));

	if (n == NULL) {
		n = new_node(ctx);
		(void)hash_set(ctx->ids, id, strlen(id), n);
	}
	return n;
}

static int compare_nodes(const void *pa, const void *pb, void *ctx)
{
	const struct tnode *a = *(const struct tnode *const *)pa;
	const struct tnode *b = *(const struct tnode *const *)pb;

	(void)ctx;

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

/* Sorts the children of n by sent date, then mailbox order (RFC 5256 2.2). */
static void sort_children(struct tnode *n, struct tnode ***scratch, size_t *scratch_alloc)
{
	size_t c = 0;

	for (struct tnode *k = n->first_child; k != NULL; k = k->next)
		c++;
	if (c < 2)
		return;
	if (c > *scratch_alloc) {
		*scratch_alloc = c;
		*scratch = i_realloc(*scratch, c * sizeof(**scratch));
	}
	c = 0;
	for (struct tnode *k = n->first_child; k != NULL; k = k->next)
		(*scratch)[c++] = k;
	sort_array(*scratch, c, sizeof(**scratch), compare_nodes, NULL);
	n->first_child = n->last_child = NULL;
	for (size_t i = 0; i < c; i++)
		append_child(n, (*scratch)[i]);
}

/* A dummy sorts (and threads by subject) as its first child. */
static void dummy_takes_first_child(struct tnode *n)
{
	if (n->seq == 0 && n->first_child != NULL) {
		n->date = n->first_child->date;
		n->subj_off = n->first_child->subj_off;
		n->subj_len = n->first_child->subj_len;
	}
}

/* Sorts every set of siblings below the root, then the root's. */
static void sort_all(struct thread_ctx *ctx)
{
	struct tnode **scratch = NULL;
	size_t scratch_alloc = 0;

	for (size_t i = 0; i < ctx->count; i++) {
		if (ctx->nodes[i]->parent != NULL)
			sort_children(ctx->nodes[i], &scratch, &scratch_alloc);
	}
	for (struct tnode *k = ctx->root.first_child; k != NULL; k = k->next) {
		sort_children(k, &scratch, &scratch_alloc);
		dummy_takes_first_child(k);
	}
	sort_children(&ctx->root, &scratch, &scratch_alloc);
	free(scratch);
}

/*
 * (3) Prunes dummies bottom-up: a dummy without children goes; one with
 * children is replaced by them, unless that would put two or more of them
 * at the root.
 */
static void prune_list(struct tnode *parent, bool is_root)
{
	struct tnode *c = parent->first_child;

	while (c != NULL) {
		struct tnode *next = c->next;

		if (c->seq == 0 && c->first_child == NULL) {
			unlink_node(c);
		} else if (c->seq == 0 && !(is_root && child_count(c) > 1)) {
			/* Splice the children in where the dummy was. */
			struct tnode *k = c->first_child, *after = c;

			while (k != NULL) {
				struct tnode *knext = k->next;

				k->parent = parent;
				k->prev = after;
				k->next = after->next;
				if (after->next != NULL)
					after->next->prev = k;
				else
					parent->last_child = k;
				after->next = k;
				after = k;
				k = knext;
			}
			c->first_child = c->last_child = NULL;
			unlink_node(c);
		}
		c = next;
	}
}

static void prune(struct thread_ctx *ctx)
{
	/* A post-order walk: every node's list after its children's. */
	struct tnode **order = i_malloc((ctx->count + 1) * sizeof(*order));
	struct tnode **stack = i_malloc((ctx->count + 1) * sizeof(*stack));
	size_t norder = 0, depth = 0;

	for (struct tnode *k = ctx->root.first_child; k != NULL; k = k->next)
		stack[depth++] = k;
	while (depth > 0) {
		struct tnode *n = stack[--depth];

		order[norder++] = n;
		for (struct tnode *k = n->first_child; k != NULL; k = k->next)
			stack[depth++] = k;
	}
	/* Reversed pre-order visits every child before its parent. */
	for (size_t i = norder; i > 0; i--)
		prune_list(order[i - 1], false);
	prune_list(&ctx->root, true);
	free(order);
	free(stack);
}

/* ---- building ---- */

struct msg_info {
	uint32_t seq, num;
	int64_t date;
	bool reply;
	size_t subj_off, subj_len;
};

static int64_t thread_sent_date(struct search_mail *mail, const uint8_t *blob, size_t blob_len)
{
	const uint8_t *value;
	size_t value_len;
	int64_t date = 0;
	time_t t;
	int tz;

	if (search_hdr_first(blob, blob_len, SEARCH_HDR_DATE, &value, &value_len) &&
	    search_hdr_date(value, value_len, &t, &tz))
		return (int64_t)t;
	(void)search_mail_internal_date(mail, &date);
	return date;
}

static void node_set_message(struct tnode *n, const struct msg_info *m)
{
	n->seq = m->seq;
	n->num = m->num;
	n->date = m->date;
	n->reply = m->reply;
	n->subj_off = m->subj_off;
	n->subj_len = m->subj_len;
}

/* (1) Links one message into the tree by its Message-ID and references. */
static void references_add(struct thread_ctx *ctx, const struct msg_info *m, const uint8_t *blob,
			   size_t blob_len, struct buf *ids)
{
	struct tnode *self = NULL, *prev = NULL;
	const uint8_t *value;
	size_t value_len, nrefs = 0;
	const char *id;

	buf_reset(ids);
	if (search_hdr_first(blob, blob_len, SEARCH_HDR_MESSAGE_ID, &value, &value_len) &&
	    thread_msgids_parse(value, value_len, 1, ids) == 1) {
		id = (const char *)buf_data(ids);
		self = hash_get(ctx->ids, id, strlen(id));
		if (self == NULL) {
			self = new_node(ctx);
			(void)hash_set(ctx->ids, id, strlen(id), self);
		} else if (self->seq != 0) {
			/* A duplicate Message-ID: this one gets a unique id. */
			self = NULL;
		}
	}
	if (self == NULL)
		self = new_node(ctx);
	node_set_message(self, m);

	/* References, or else the first Message-ID of In-Reply-To. */
	buf_reset(ids);
	struct search_hdr_iter iter;

	search_hdr_iter_init(&iter, blob, blob_len, SEARCH_HDR_REFERENCES);
	while (nrefs < THREAD_MAX_REFS && search_hdr_iter_next(&iter, &value, &value_len))
		nrefs += thread_msgids_parse(value, value_len, THREAD_MAX_REFS - nrefs, ids);
	if (nrefs == 0 &&
	    search_hdr_first(blob, blob_len, SEARCH_HDR_IN_REPLY_TO, &value, &value_len))
		nrefs = thread_msgids_parse(value, value_len, 1, ids);

	/* (A) Each reference is the parent of the next one, unless the
	   child has a parent already or the link would make a loop. */
	id = (const char *)buf_data(ids);
	for (size_t i = 0; i < nrefs; i++) {
		struct tnode *n = id_node(ctx, id);

		if (prev != NULL && n->parent == NULL && !is_descendant(prev, n))
			append_child(prev, n);
		prev = n;
		id += strlen(id) + 1;
	}
	/* (B) The last reference is this message's parent: break an older
	   link, which a cut References field may have caused. */
	if (self->parent != NULL)
		unlink_node(self);
	if (prev != NULL && !is_descendant(prev, self))
		append_child(prev, self);
}

static void thread_references(struct thread_ctx *ctx, const struct msg_info *msgs, size_t count,
			      struct search_mail *mail, sort_mail_set_t *set_mail, void *context,
			      bool by_subject)
{
	struct buf ids = BUF_INIT(THREAD_ID_MAX);
	struct hash_table *subjects;
	struct tnode **roots;
	size_t nroots = 0;

	ctx->ids = hash_create();
	for (size_t i = 0; i < count; i++) {
		const uint8_t *blob;
		size_t blob_len;

		set_mail(context, mail, msgs[i].seq);
		if (!search_mail_std_headers(mail, &blob, &blob_len)) {
			blob = NULL;
			blob_len = 0;
		}
		references_add(ctx, &msgs[i], blob, blob_len, &ids);
	}
	buf_free(&ids);
	hash_destroy(&ctx->ids);

	/* (2) Every node without a parent goes under the root. */
	for (size_t i = 0; i < ctx->count; i++) {
		if (ctx->nodes[i]->parent == NULL)
			append_child(&ctx->root, ctx->nodes[i]);
	}
	/* (3) Prune dummies; (4) sort the top level. */
	prune(ctx);
	sort_all(ctx);
	if (!by_subject)
		return;

	/* (5) Gather threads with the same base subject. */
	for (struct tnode *k = ctx->root.first_child; k != NULL; k = k->next)
		nroots++;
	roots = i_malloc((nroots + 1) * sizeof(*roots));
	nroots = 0;
	for (struct tnode *k = ctx->root.first_child; k != NULL; k = k->next)
		roots[nroots++] = k;
	subjects = hash_create();
	/* (B) One message per subject: a dummy wins, then a non-reply. */
	for (size_t i = 0; i < nroots; i++) {
		struct tnode *cur = roots[i], *old;
		const uint8_t *subj = buf_data(&ctx->subjects) + cur->subj_off;

		if (cur->subj_len == 0)
			continue;
		old = hash_get(subjects, subj, cur->subj_len);
		if (old == NULL ||
		    (old->seq != 0 && (cur->seq == 0 || (old->reply && !cur->reply))))
			(void)hash_set(subjects, subj, cur->subj_len, cur);
	}
	/* (C) Merge the others into it. */
	for (size_t i = 0; i < nroots; i++) {
		struct tnode *cur = roots[i], *old;
		const uint8_t *subj = buf_data(&ctx->subjects) + cur->subj_off;

		if (cur->subj_len == 0)
			continue;
		old = hash_get(subjects, subj, cur->subj_len);
		if (old == NULL || old == cur)
			continue;
		if (old->seq == 0 && cur->seq == 0) {
			/* Both dummies: the children become siblings. */
			unlink_node(cur);
			while (cur->first_child != NULL) {
				struct tnode *k = cur->first_child;

				unlink_node(k);
				append_child(old, k);
			}
		} else if (old->seq == 0 || (cur->reply && !old->reply)) {
			unlink_node(cur);
			append_child(old, cur);
		} else {
			/* Neither is a reply of the other: a new dummy holds
			   both and takes the subject's place. */
			struct tnode *dummy = new_node(ctx);

			unlink_node(old);
			unlink_node(cur);
			append_child(&ctx->root, dummy);
			append_child(dummy, old);
			append_child(dummy, cur);
			dummy_takes_first_child(dummy);
			(void)hash_set(subjects, subj, cur->subj_len, dummy);
		}
	}
	hash_destroy(&subjects);
	free(roots);
	/* (6) Sort every set of siblings. */
	sort_all(ctx);
}

static int compare_ordered(const void *pa, const void *pb, void *context)
{
	const struct msg_info *a = pa, *b = pb;
	const uint8_t *subjects = buf_data(context);
	size_t n = a->subj_len < b->subj_len ? a->subj_len : b->subj_len;
	int r = memcmp(subjects + a->subj_off, subjects + b->subj_off, n);

	if (r != 0)
		return r;
	if (a->subj_len != b->subj_len)
		return a->subj_len < b->subj_len ? -1 : 1;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

/* ORDEREDSUBJECT: by base subject and date; the first of each is the parent. */
static void thread_ordered(struct thread_ctx *ctx, struct msg_info *msgs, size_t count)
{
	struct tnode *parent = NULL;

	sort_array(msgs, count, sizeof(*msgs), compare_ordered, &ctx->subjects);
	for (size_t i = 0; i < count; i++) {
		struct tnode *n = new_node(ctx);
		const uint8_t *subjects = buf_data(&ctx->subjects);

		node_set_message(n, &msgs[i]);
		if (parent != NULL && msgs[i - 1].subj_len == msgs[i].subj_len &&
		    memcmp(subjects + msgs[i - 1].subj_off, subjects + msgs[i].subj_off,
			   msgs[i].subj_len) == 0) {
			append_child(parent, n);
		} else {
			append_child(&ctx->root, n);
			parent = n;
		}
	}
	/* Threads by the date of their first message; children are in
	   date order already. */
	struct tnode **scratch = NULL;
	size_t scratch_alloc = 0;

	sort_children(&ctx->root, &scratch, &scratch_alloc);
	free(scratch);
}

static int compare_newest(const void *pa, const void *pb, void *ctx)
{
	const struct tnode *a = *(const struct tnode *const *)pa;
	const struct tnode *b = *(const struct tnode *const *)pb;

	(void)ctx;
	if (a->newest != b->newest)
		return a->newest < b->newest ? -1 : 1;
	return a->newest_seq < b->newest_seq ? -1 : a->newest_seq > b->newest_seq ? 1 : 0;
}

/* REFS: threads in the order of their newest message. */
static void sort_by_newest(struct thread_ctx *ctx)
{
	struct tnode **order = i_malloc((ctx->count + 1) * sizeof(*order));
	struct tnode **stack = i_malloc((ctx->count + 1) * sizeof(*stack));
	struct tnode **roots;
	size_t norder = 0, depth = 0, nroots = 0;

	for (struct tnode *k = ctx->root.first_child; k != NULL; k = k->next)
		stack[depth++] = k;
	while (depth > 0) {
		struct tnode *n = stack[--depth];

		order[norder++] = n;
		for (struct tnode *k = n->first_child; k != NULL; k = k->next)
			stack[depth++] = k;
	}
	/* Reversed pre-order: children before their parents. */
	for (size_t i = norder; i > 0; i--) {
		struct tnode *n = order[i - 1];

		n->newest = n->seq != 0 ? n->date : INT64_MIN;
		n->newest_seq = n->seq;
		for (struct tnode *k = n->first_child; k != NULL; k = k->next) {
			if (k->newest > n->newest ||
			    (k->newest == n->newest && k->newest_seq > n->newest_seq)) {
				n->newest = k->newest;
				n->newest_seq = k->newest_seq;
			}
		}
	}
	roots = stack;
	for (struct tnode *k = ctx->root.first_child; k != NULL; k = k->next)
		roots[nroots++] = k;
	sort_array(roots, nroots, sizeof(*roots), compare_newest, NULL);
	ctx->root.first_child = ctx->root.last_child = NULL;
	for (size_t i = 0; i < nroots; i++)
		append_child(&ctx->root, roots[i]);
	free(order);
	free(stack);
}

/* ---- output ---- */

/* Writes the thread-members of top (RFC 5256 thread-list syntax). */
static void write_members(struct buf *out, struct tnode *top, struct tnode ***stack,
			  size_t *stack_alloc)
{
	struct tnode *n = top;
	size_t depth = 0;
	bool first = true;

	for (;;) {
		for (;;) {
			if (n->seq != 0) {
				if (!first)
					(void)buf_append_c(out, ' ');
				(void)search_append_uint(out, n->num);
				first = false;
			}
			if (n->first_child == NULL)
				break;
			if (n->first_child->next == NULL) {
				n = n->first_child;
				continue;
			}
			/* Two or more children: each is a list of its own. */
			if (!first)
				(void)buf_append_c(out, ' ');
			if (depth == *stack_alloc) {
				*stack_alloc = *stack_alloc == 0 ? 64 : *stack_alloc * 2;
				*stack = i_realloc(*stack, *stack_alloc * sizeof(**stack));
			}
			(*stack)[depth++] = n->first_child->next;
			(void)buf_append_c(out, '(');
			n = n->first_child;
			first = true;
		}
		for (;;) {
			if (depth == 0)
				return;
			(void)buf_append_c(out, ')');
			if ((*stack)[depth - 1] != NULL) {
				n = (*stack)[depth - 1];
				(*stack)[depth - 1] = n->next;
				(void)buf_append_c(out, '(');
				first = true;
				break;
			}
			depth--;
		}
	}
}

void thread_messages(enum thread_algorithm alg, struct search_mail *mail, sort_mail_set_t *set_mail,
		     void *context, const uint32_t *seqs, const uint32_t *uids, size_t count,
		     struct buf *out)
{
	struct thread_ctx ctx;
	struct msg_info *msgs = i_calloc(count + 1, sizeof(*msgs));
	struct tnode **stack = NULL;
	size_t stack_alloc = 0;

	memset(&ctx, 0, sizeof(ctx));
	buf_init(&ctx.subjects, SIZE_MAX / 2);
	for (size_t i = 0; i < count; i++) {
		const uint8_t *blob = NULL, *value;
		size_t blob_len = 0, value_len;

		set_mail(context, mail, seqs[i]);
		msgs[i].seq = seqs[i];
		msgs[i].num = uids != NULL ? uids[i] : seqs[i];
		msgs[i].subj_off = buf_len(&ctx.subjects);
		if (search_mail_std_headers(mail, &blob, &blob_len) &&
		    search_hdr_first(blob, blob_len, SEARCH_HDR_SUBJECT, &value, &value_len))
			(void)sort_base_subject(value, value_len, &ctx.subjects, &msgs[i].reply);
		msgs[i].subj_len = buf_len(&ctx.subjects) - msgs[i].subj_off;
		msgs[i].date = thread_sent_date(mail, blob, blob_len);
	}
	if (alg == THREAD_REFERENCES)
		thread_references(&ctx, msgs, count, mail, set_mail, context, true);
	else if (alg == THREAD_REFS) {
		thread_references(&ctx, msgs, count, mail, set_mail, context, false);
		sort_by_newest(&ctx);
	} else
		thread_ordered(&ctx, msgs, count);

	for (struct tnode *k = ctx.root.first_child; k != NULL; k = k->next) {
		(void)buf_append_c(out, '(');
		write_members(out, k, &stack, &stack_alloc);
		(void)buf_append_c(out, ')');
	}
	free(stack);
	for (size_t i = 0; i < ctx.count; i++)
		free(ctx.nodes[i]);
	free(ctx.nodes);
	free(msgs);
	buf_free(&ctx.subjects);
}
