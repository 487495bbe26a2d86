/*
 * master's side of the policy channel: requests with ids and callbacks,
 * kept until answered, so that a policy process that dies mid-request is
 * transparent: the next one gets the live sessions replayed and the
 * unanswered requests resent. Replies are decoded with the policy table and
 * matched to an outstanding request; anything else ends the policy process.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc-codec.h"
#include "log.h"
#include "master.h"
#include "xalloc.h"

/* policy_client_input() reads the request id from the start of a reply. */
_Static_assert(offsetof(struct policy_reserve_reply, req_id) == 0, "req_id first");
_Static_assert(offsetof(struct policy_penalty_reply, req_id) == 0, "req_id first");
_Static_assert(offsetof(struct policy_list_row, req_id) == 0, "req_id first");
_Static_assert(offsetof(struct policy_list_end, req_id) == 0, "req_id first");
_Static_assert(offsetof(struct policy_stats_row, req_id) == 0, "req_id first");
_Static_assert(offsetof(struct policy_stats_end, req_id) == 0, "req_id first");

struct pending {
	uint32_t req_id;
	uint16_t type;
	struct buf payload;
	policy_reply_callback_t *cb;
	void *ctx;
	struct pending *next;
};

static struct {
	struct process *proc;
	uint32_t next_req_id;
	struct pending *head;
} pc;

bool policy_client_available(void)
{
	return pc.proc != NULL;
}

static void pending_send(const struct pending *p)
{
	if (pc.proc != NULL && pc.proc->conn != NULL)
		(void)ipc_conn_send(pc.proc->conn, p->type, buf_data(&p->payload),
				    buf_len(&p->payload), NULL, 0);
}

void policy_client_attach(struct process *proc)
{
	pc.proc = proc;
	master_sessions_replay();
	for (struct pending *p = pc.head; p != NULL; p = p->next)
		pending_send(p);
}

void policy_client_detach(struct process *proc)
{
	if (pc.proc == proc)
		pc.proc = NULL;
}

void policy_request(uint16_t type, void *msg, uint32_t *req_id_field, policy_reply_callback_t *cb,
		    void *ctx)
{
	struct pending *p = i_calloc(1, sizeof(*p)), **tail;

	if (++pc.next_req_id == 0)
		pc.next_req_id = 1;
	*req_id_field = pc.next_req_id;
	p->req_id = pc.next_req_id;
	p->type = type;
	p->cb = cb;
	p->ctx = ctx;
	buf_init(&p->payload, IPC_MAX_PAYLOAD);
	if (!ipc_encode(POLICY_MSG(type), msg, &p->payload))
		panic("policy_request: cannot encode message %u", type);
	for (tail = &pc.head; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	pending_send(p);
}

void policy_request_cancel(void *ctx)
{
	struct pending **pp = &pc.head;

	while (*pp != NULL) {
		struct pending *p = *pp;

		if (p->ctx == ctx) {
			*pp = p->next;
			buf_free(&p->payload);
			free(p);
		} else {
			pp = &p->next;
		}
	}
}

void policy_notify(uint16_t type, const void *msg)
{
	if (pc.proc != NULL && pc.proc->conn != NULL)
		(void)ipc_conn_send_msg(pc.proc->conn, POLICY_MSG(type), msg, NULL, 0);
}

static bool reply_is_last(uint16_t type)
{
	return type == POLICY_RESERVE_REPLY || type == POLICY_PENALTY_REPLY ||
	       type == POLICY_LIST_END || type == POLICY_STATS_END;
}

bool policy_client_input(struct process *proc, struct ipc_message *msg)
{
	union policy_msg_any m;
	const char *error;
	const struct ipc_msg_def *def =
		ipc_message_decode(&policy_channel, msg, &m, sizeof(m), &error);
	struct pending **pp;
	uint32_t req_id;

	if (def == NULL || def->type < POLICY_RESERVE_REPLY) {
		log_error("service(policy): child %d sent an invalid reply: %s", (int)proc->pid,
			  def == NULL ? error : "a request type");
		return false;
	}
	/* Every reply starts with the request id. */
	memcpy(&req_id, &m, sizeof(req_id));
	for (pp = &pc.head; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->req_id == req_id)
			break;
	}
	if (*pp == NULL) {
		log_warning("service(policy): reply to unknown request %u ignored", req_id);
		return true;
	}
	struct pending *p = *pp;
	bool last = reply_is_last(def->type);

	if (last)
		*pp = p->next;
	p->cb(p->ctx, &m, last);
	if (last) {
		buf_free(&p->payload);
		free(p);
	}
	return true;
}
