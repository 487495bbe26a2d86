/*
 * systemd's readiness protocol (sd_notify), written directly: when
 * NOTIFY_SOCKET is set, master sends READY=1 once it serves, RELOADING=1
 * and READY=1 around a reload, and STOPPING=1 when it stops, so that a
 * Type=notify unit knows the true state. Nothing is read back.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

void master_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, strlen(path));
	/* "@name" is an abstract socket: a leading NUL byte. */
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) < 0)
		log_warning("sd_notify(%s) failed: %m", state);
	close(fd);
}
