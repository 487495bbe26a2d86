/*
 * master's own record of live mail sessions (user, service, IP, pid). It
 * is the privileged truth that policy's registry is rebuilt from after a
 * restart, and what `kick` checks a pid against before master signals it.
 */
#include <stdlib.h>
#include <string.h>

#include "ipc/msg-policy.h"
#include "master.h"
#include "xalloc.h"

static struct master_session *sessions;

struct master_session *master_session_add(uint64_t id, pid_t pid, const char *service,
					  const char *user, const char *ip, uint64_t start_time)
{
	struct master_session *s = i_calloc(1, sizeof(*s));

	s->id = id;
	s->pid = pid;
	s->start_time = start_time;
	(void)str_copy(s->service, sizeof(s->service), service);
	(void)str_copy(s->user, sizeof(s->user), user);
	(void)str_copy(s->ip, sizeof(s->ip), ip);
	s->next = sessions;
	sessions = s;
	return s;
}

struct master_session *master_session_by_pid(pid_t pid)
{
	for (struct master_session *s = sessions; s != NULL; s = s->next) {
		if (s->pid == pid)
			return s;
	}
	return NULL;
}

void master_session_remove(struct master_session *session)
{
	struct policy_end end = {.session_id = session->id};

	for (struct master_session **sp = &sessions; *sp != NULL; sp = &(*sp)->next) {
		if (*sp == session) {
			*sp = session->next;
			break;
		}
	}
	policy_notify(POLICY_END, &end);
	free(session);
}

void master_sessions_replay(void)
{
	for (struct master_session *s = sessions; s != NULL; s = s->next) {
		struct policy_restore r = {
			.session_id = s->id,
			.pid = (uint32_t)s->pid,
			.start_time = s->start_time,
		};

		(void)str_copy(r.service, sizeof(r.service), s->service);
		(void)str_copy(r.user, sizeof(r.user), s->user);
		(void)str_copy(r.ip, sizeof(r.ip), s->ip);
		policy_notify(POLICY_RESTORE, &r);
	}
}
