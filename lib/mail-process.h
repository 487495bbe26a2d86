/*
 * The common start of a mail process (roost-imap, roost-pop3): drop to the
 * identity master chose (the user's uid, or the mail uid of a pre-started
 * process), report ready, wait for the session, then confine the process to
 * the user's home and mail directories before the first client byte is
 * read. What arrives from master is trusted; the client is not.
 */
#ifndef ROOST_MAIL_PROCESS_H
#define ROOST_MAIL_PROCESS_H

#include "child.h"
#include "ipc/msg-mail.h"

struct mail_process {
	struct child_context ctx;
	const struct roost_settings *set; /* the protocol's view */
	struct mail_session session;
	int client_fd;
};

/*
 * Runs the whole start: child hand-over, privilege drop, readiness, the
 * session hand-over, the event loop's creation, Landlock and seccomp. Fatal on any failure.
 * protocol is "imap" or "pop3"; extra_paths are added to the Landlock rules (mail root, index and
 * control directories), NULL-terminated, may be NULL.
 */
void mail_process_start(struct mail_process *mp, const char *protocol,
			const struct sandbox_profile *profile, int argc, char **argv);

/*
 * Landlock paths for a session: the home directory and the directories a
 * mail_location names. Fills up to max entries; returns the count.
 */
unsigned int mail_process_paths(const struct mail_process *mp, struct sandbox_path *paths,
				char (*storage)[1024], unsigned int max);

#endif
