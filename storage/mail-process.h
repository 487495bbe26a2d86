/*
 * The common start of a mail process (roost-imap, roost-pop3): drop to the
 * identity master chose (the user's uid, or the mail uid of a pre-started
 * process), report ready, wait for the session, open the user's storage,
 * then confine the process to the user's home and mail directories before
 * the first client byte is read. What arrives from master is trusted; the
 * client is not.
 */
#ifndef ROOST_STORAGE_MAIL_PROCESS_H
#define ROOST_STORAGE_MAIL_PROCESS_H

#include "child.h"
#include "ipc/msg-mail.h"
#include "mail-user.h"

struct mail_process {
	struct child_context ctx;
	const struct roost_settings *set; /* the protocol's view */
	struct mail_session session;
	int client_fd;
	struct mail_user user;
	/* The storage could not be opened (e.g. an unmounted mountpoint):
	   the protocol tells the client and ends the session. */
	bool storage_failed;
	struct mailbox_error storage_error;
};

/*
 * Runs the whole start: child hand-over, privilege drop, readiness, the
 * session hand-over, the event loop's creation, the user's storage, and
 * Landlock (home and mail directories) and seccomp. Fatal on any failure
 * except the storage's, which is left in storage_failed for the protocol
 * to report. protocol is "imap" or "pop3".
 */
void mail_process_start(struct mail_process *mp, const char *protocol,
			const struct sandbox_profile *profile, int argc, char **argv);

#endif
