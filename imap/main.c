/*
 * roost-imap: one IMAP session. Started by master as root (or taken from
 * the pre-started pool), it drops to the user's uid at once, waits for its
 * session, confines itself with Landlock (the user's home and mail only) and
 * seccomp, and then serves the client until LOGOUT or disconnection.
 */
#include "imap-sandbox.h"
#include "imap.h"
#include "ioloop.h"
#include "log.h"

int main(int argc, char **argv)
{
	static struct mail_process mp;

	/* 1-3. Identity, session, confinement (lib/mail-process.c). */
	mail_process_start(&mp, "imap", &imap_sandbox, argc, argv);
	/* 4. Serve. */
	imap_client_start(&mp);
	ioloop_run();
	fatal("imap: event loop returned");
}
