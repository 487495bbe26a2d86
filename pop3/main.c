/*
 * roost-pop3: one POP3 session. Started by master as root (or taken from
 * the pre-started pool), it drops to the user's uid at once, waits for its
 * session, confines itself with Landlock (the user's home and mail only) and
 * seccomp, and then serves the client until QUIT or disconnection.
 */
#include "ioloop.h"
#include "log.h"
#include "pop3-sandbox.h"
#include "pop3.h"

int main(int argc, char **argv)
{
	static struct mail_process mp;

	/* 1-3. Identity, session, confinement (lib/mail-process.c). */
	mail_process_start(&mp, "pop3", &pop3_sandbox, argc, argv);
	/* 4. Serve. */
	pop3_client_start(&mp);
	ioloop_run();
	fatal("pop3: event loop returned");
}
