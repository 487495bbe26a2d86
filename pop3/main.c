/*
 * roost-pop3: one POP3 session. Started by master as root (or taken from
 * the pre-started pool), it drops to the user's uid at once, waits for its
 * session, confines itself with Landlock (the user's home and mail only) and
 * seccomp, and then serves the client until QUIT or disconnection.
 */
#include <malloc.h>

#include "ioloop.h"
#include "log.h"
#include "pop3-sandbox.h"
#include "pop3.h"

int main(int argc, char **argv)
{
	static struct mail_process mp;

	/* A fixed mmap threshold. A large mailbox's message list is built in
	   arrays that grow by doubling; from mmap they go back whole when
	   freed instead of leaving resident holes in the heap (glibc's
	   adaptive threshold moves them into the heap after the first free).
	   256 KiB keeps RETR's output buffer, freed after every message, in
	   the heap: at 128 KiB its page faults cost 30 % more CPU.
	   bench/store: 0.6 MB less peak RSS at 10,000 messages. */
	(void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	/* 1-3. Identity, session, confinement (lib/mail-process.c). */
	mail_process_start(&mp, "pop3", &pop3_sandbox, argc, argv);
	/* 4. Serve. */
	pop3_client_start(&mp);
	ioloop_run();
	fatal("pop3: event loop returned");
}
