/*
 * roostadm who [-1] [USER_MASK] [IP/CIDR] and roostadm kick USER [IP/CIDR]:
 * the live sessions as doveadm shows them, and ending them. Output shapes
 * follow doveadm so that scripts and Munin plugins keep working.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "log.h"
#include "net.h"
#include "xalloc.h"

struct row_list {
	struct admin_who_row *rows;
	size_t count, alloc;
};

static void collect_row(void *ctx, uint16_t type, const union admin_msg_any *m)
{
	struct row_list *list = ctx;

	if (type != ADMIN_WHO_ROW)
		return;
	if (list->count == list->alloc) {
		list->alloc = list->alloc == 0 ? 64 : list->alloc * 2;
		list->rows = i_realloc_array(list->rows, list->alloc, sizeof(*list->rows));
	}
	list->rows[list->count++] = m->who_row;
}

static int row_cmp(const void *a, const void *b)
{
	const struct admin_who_row *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c == 0)
		c = strcmp(x->service, y->service);
	if (c == 0)
		c = x->pid < y->pid ? -1 : x->pid > y->pid;
	return c;
}

/* Splits positional arguments into a user mask and a network, as doveadm. */
static bool parse_filters(int argc, char **argv, struct admin_request *req)
{
	memset(req, 0, sizeof(*req));
	for (int i = 0; i < argc; i++) {
		struct net_ip ip;
		unsigned int bits;

		if (net_cidr_parse(argv[i], &ip, &bits)) {
			if (req->net[0] != '\0')
				return false;
			(void)str_copy(req->net, sizeof(req->net), argv[i]);
		} else {
			if (req->user_mask[0] != '\0' ||
			    !str_copy(req->user_mask, sizeof(req->user_mask), argv[i]))
				return false;
		}
	}
	return true;
}

/* Prints one line per user+protocol: "user # proto (pids) (ips)". */
static void print_grouped(const struct row_list *list)
{
	size_t i = 0;

	printf("username # proto (pids) (ips)\n");
	while (i < list->count) {
		size_t j = i;

		while (j < list->count && strcmp(list->rows[j].user, list->rows[i].user) == 0 &&
		       strcmp(list->rows[j].service, list->rows[i].service) == 0)
			j++;
		printf("%s %zu %s (", list->rows[i].user, j - i, list->rows[i].service);
		for (size_t k = i; k < j; k++)
			printf("%s%u", k == i ? "" : " ", list->rows[k].pid);
		printf(") (");
		/* Each distinct IP once, in first-seen order. */
		bool first = true;
		for (size_t k = i; k < j; k++) {
			bool seen = list->rows[k].ip[0] == '\0';

			for (size_t l = i; l < k && !seen; l++)
				seen = strcmp(list->rows[l].ip, list->rows[k].ip) == 0;
			if (!seen) {
				printf("%s%s", first ? "" : " ", list->rows[k].ip);
				first = false;
			}
		}
		printf(")\n");
		i = j;
	}
}

int cmd_who(struct adm_context *ctx, int argc, char **argv)
{
	struct admin_request req;
	struct row_list list = {0};
	const char *message;
	bool one_per_line = false;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "1")) != -1) {
		if (c != '1')
			return ADM_EXIT_USAGE;
		one_per_line = true;
	}
	if (!parse_filters(argc - optind, argv + optind, &req))
		return ADM_EXIT_USAGE;
	if (adm_request(ctx, ADMIN_WHO, &req, collect_row, &list, &message) != 0) {
		log_error("%s", message);
		free(list.rows);
		return 1;
	}
	if (list.count > 1)
		qsort(list.rows, list.count, sizeof(*list.rows), row_cmp);
	if (one_per_line) {
		printf("username proto pid ip\n");
		for (size_t i = 0; i < list.count; i++)
			printf("%s %s %u %s\n", list.rows[i].user, list.rows[i].service,
			       list.rows[i].pid, list.rows[i].ip);
	} else {
		print_grouped(&list);
	}
	free(list.rows);
	return ADM_EXIT_OK;
}

struct kicked_list {
	char (*users)[POLICY_USER_MAX];
	size_t count, alloc;
};

static void collect_kicked(void *ctx, uint16_t type, const union admin_msg_any *m)
{
	struct kicked_list *list = ctx;

	if (type != ADMIN_KICKED)
		return;
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->users[i], m->kicked.user) == 0)
			return;
	}
	if (list->count == list->alloc) {
		list->alloc = list->alloc == 0 ? 16 : list->alloc * 2;
		list->users = i_realloc_array(list->users, list->alloc, sizeof(*list->users));
	}
	(void)str_copy(list->users[list->count++], POLICY_USER_MAX, m->kicked.user);
}

static int str_array_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int cmd_kick(struct adm_context *ctx, int argc, char **argv)
{
	struct admin_request req;
	struct kicked_list list = {0};
	const char *message;

	if (argc < 2 || argc > 3 || !parse_filters(argc - 1, argv + 1, &req) ||
	    req.user_mask[0] == '\0')
		return ADM_EXIT_USAGE;
	if (adm_request(ctx, ADMIN_KICK, &req, collect_kicked, &list, &message) != 0) {
		log_error("%s", message);
		free(list.users);
		return 1;
	}
	if (list.count == 0) {
		printf("no users kicked\n");
		return ADM_EXIT_NOTFOUND;
	}
	if (list.count > 1)
		qsort(list.users, list.count, sizeof(*list.users), str_array_cmp);
	printf("kicked connections from the following users:\n");
	for (size_t i = 0; i < list.count; i++)
		printf("%s\n", list.users[i]);
	free(list.users);
	return ADM_EXIT_OK;
}
