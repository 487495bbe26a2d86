/*
 * roost-login: serves imap-login or pop3-login (the service name master
 * gives it). Started by master as root: it takes its settings, TLS
 * certificate and key and listeners from master, builds the TLS context,
 * then confines itself (empty chroot, roostnull, no capabilities, no
 * filesystem, strict seccomp) before accepting its first client.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"
#include "ioloop.h"
#include "ipc/ipc-codec.h"
#include "log.h"
#include "login-sandbox.h"
#include "login.h"
#include "tls/tls.h"
#include "xalloc.h"

#define LOGIN_MAX_LISTENERS 16

struct roost_settings *login_set;
const struct roost_settings *login_global_set;
const struct service_settings *login_service_set;
struct tls_context *login_tls;
char login_service_name[32];
const char *login_protocol_name;

/* Reads the certificate and key master sends after the settings. */
static void read_tls_material(int fd, struct buf *cert, struct buf *key, struct buf *dh,
			      struct buf *password)
{
	struct ipc_message *msg = i_malloc(sizeof(*msg));
	union login_msg_any *m = i_malloc(sizeof(*m));

	for (;;) {
		const char *error;
		const struct ipc_msg_def *def;
		struct buf *target;

		if (ipc_recv(fd, msg) <= 0)
			fatal("Reading TLS data from master failed");
		def = ipc_message_decode(&login_channel, msg, m, sizeof(*m), &error);
		if (def == NULL)
			fatal("Invalid TLS data from master: %s", error);
		if (def->type == LOGIN_TLS_END)
			break;
		if (def->type != LOGIN_TLS_DATA)
			fatal("Unexpected message from master at start-up: %s", def->name);
		if (strcmp(m->tls_data.name, "ssl_cert") == 0)
			target = cert;
		else if (strcmp(m->tls_data.name, "ssl_key") == 0)
			target = key;
		else if (strcmp(m->tls_data.name, "ssl_dh") == 0)
			target = dh;
		else if (strcmp(m->tls_data.name, "ssl_key_password") == 0)
			target = password;
		else
			target = NULL;
		if (target == NULL || !buf_append(target, m->tls_data.data, m->tls_data.data_len))
			fatal("Bad TLS data from master: %s", m->tls_data.name);
	}
	explicit_bzero(m, sizeof(*m));
	free(m);
	free(msg);
}

static void tls_init(int master_fd)
{
	struct buf cert = BUF_INIT(1024 * 1024), key = BUF_INIT(1024 * 1024);
	struct buf dh = BUF_INIT(1024 * 1024), password = BUF_INIT(4096);
	struct tls_settings ts;
	char *error;

	read_tls_material(master_fd, &cert, &key, &dh, &password);
	if (strcmp(login_set->ssl, "no") != 0) {
		memset(&ts, 0, sizeof(ts));
		ts.cert_pem = buf_cstr(&cert);
		ts.cert_pem_len = buf_len(&cert);
		ts.key_pem = buf_cstr(&key);
		ts.key_pem_len = buf_len(&key);
		ts.key_password = buf_cstr(&password);
		ts.dh_pem = buf_len(&dh) > 0 ? buf_cstr(&dh) : NULL;
		ts.dh_pem_len = buf_len(&dh);
		ts.min_protocol = login_set->ssl_min_protocol;
		ts.cipher_list = login_set->ssl_cipher_list;
		ts.cipher_suites = login_set->ssl_cipher_suites;
		ts.curve_list = login_set->ssl_curve_list;
		ts.prefer_server_ciphers = login_set->ssl_prefer_server_ciphers;
		login_tls = tls_context_create(&ts, &error);
		if (login_tls == NULL)
			fatal("Couldn't initialize TLS: %s", error);
	}
	buf_free_secret(&key);
	buf_free_secret(&password);
	buf_free(&cert);
	buf_free(&dh);
}

/* The listeners master placed from fd 4 on; their port says which is TLS. */
static unsigned int find_listeners(int *fds, bool *ssl)
{
	unsigned int n = 0;

	for (int fd = IPC_MASTER_FD + 1; n < LOGIN_MAX_LISTENERS && fcntl(fd, F_GETFD) >= 0; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct net_ip ip;
		unsigned int port = 0;

		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
			fatal("getsockname(%d) failed: %m", fd);
		(void)net_sockaddr_to_ip((struct sockaddr *)&ss, &ip, &port);
		fds[n] = fd;
		ssl[n] = false;
		for (unsigned int i = 0; i < login_service_set->inet_listener_count; i++) {
			if (login_service_set->inet_listeners[i].port == port)
				ssl[n] = login_service_set->inet_listeners[i].ssl;
		}
		if (ssl[n] && login_tls == NULL)
			fatal("inet_listener on port %u has ssl = yes, but ssl = no", port);
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct child_context ctx;
	struct sandbox_identity id;
	int listen_fds[LOGIN_MAX_LISTENERS];
	bool listen_ssl[LOGIN_MAX_LISTENERS];
	unsigned int listen_count;

	child_describe_sandbox(argc, argv, &login_sandbox);
	/* 1. What master handed over: settings, identity, certificate and key. */
	child_init(&ctx);
	(void)str_copy(login_service_name, sizeof(login_service_name), ctx.init.service);
	login_protocol_name = strncmp(login_service_name, "imap", 4) == 0 ? "imap" : "pop3";
	log_set_prefix("");
	login_global_set = ctx.set;
	login_set = (struct roost_settings *)settings_for_protocol(ctx.set, login_protocol_name);
	login_service_set = ctx.service;
	tls_init(ctx.master_fd);
	listen_count = find_listeners(listen_fds, listen_ssl);

	/* 2. The event loop and connections, before the sandbox closes doors. */
	ioloop_init();
	master_conn_init(ctx.master_fd);

	/* 3. Drop privileges: empty chroot, roostnull, no fs, seccomp. */
	child_sandbox_identity(&ctx, &id);
	sandbox_enter(&login_sandbox, &id);
	child_run_test_hook(ctx.service->test_hook);

	/* 4. Serve. */
	clients_init(listen_fds, listen_ssl, listen_count);
	child_ready(&ctx);
	ioloop_run();
	fatal("login: event loop returned");
}
