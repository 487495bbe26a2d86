/*
 * roost-lda's submission helper: a small process forked before the sandbox
 * that sends the mail Sieve produces (redirects, vacation replies, reject
 * bounces) through sendmail_path or SMTP to submission_host, so that the
 * sandboxed delivery never needs to exec or connect. The helper trusts
 * nothing the sandboxed process sends: each request is a length-checked
 * frame whose addresses are validated again, and the message bytes are
 * passed on without being parsed.
 */
#ifndef ROOST_LDA_SUBMIT_H
#define ROOST_LDA_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"
#include "sandbox/sandbox.h"

/*
 * Frames on the socketpair, in both directions: an 8-byte header
 * {version u8, type u8, flags u16 (0), payload length u32}, little-endian,
 * then the payload. A SUBMIT request is {u16 sender length, sender, u16
 * recipient length, recipient, u32 message length, message}, a RESULT
 * reply {u8 status, u16 text length, text}; both must fill the payload
 * exactly.
 */
#define LDA_SUBMIT_VERSION     1
#define LDA_SUBMIT_HEADER_SIZE 8
/* Longest address in a request (RFC 5321 path: 256 octets, with room). */
#define LDA_SUBMIT_ADDRESS_MAX 512
/* Longest reply text (an SMTP reply line or sendmail's first error line). */
#define LDA_SUBMIT_TEXT_MAX 512
/* Room above lda_max_message_size for what Sieve adds to a redirect. */
#define LDA_SUBMIT_HEADROOM (64 * 1024)
/* Most words in sendmail_path. */
#define LDA_SUBMIT_ARGV_MAX 32
/* Longest SMTP reply line read, and most lines in one reply. */
#define LDA_SUBMIT_SMTP_LINE_MAX   2048
#define LDA_SUBMIT_SMTP_LINES_MAX  100
#define LDA_SUBMIT_DEFAULT_TIMEOUT 30
/* Most addresses tried for submission_host. */
#define LDA_SUBMIT_ADDRS_MAX 8

enum lda_submit_type {
	LDA_SUBMIT_REQUEST = 1,
	LDA_SUBMIT_RESULT = 2,
};

enum lda_submit_status {
	LDA_SUBMIT_OK = 0,
	LDA_SUBMIT_TEMPFAIL = 1, /* try again later: exit 75 */
	LDA_SUBMIT_FAILED = 2,	 /* refused for good */
};

/* A decoded request; the strings are NUL-terminated copies. */
struct lda_submit_request {
	char mail_from[LDA_SUBMIT_ADDRESS_MAX + 1]; /* "" = null sender <> */
	char rcpt_to[LDA_SUBMIT_ADDRESS_MAX + 1];
	const uint8_t *data; /* points into the frame */
	size_t size;
};

struct lda_submit_reply {
	enum lda_submit_status status;
	char text[LDA_SUBMIT_TEXT_MAX + 1];
};

enum lda_submit_frame_result {
	LDA_SUBMIT_FRAME_OK,
	LDA_SUBMIT_FRAME_MORE,	/* not all of the frame is there yet */
	LDA_SUBMIT_FRAME_ERROR, /* malformed: the peer is broken or hostile */
};

/*
 * Looks at the start of data for one frame no larger than max_payload.
 * OK gives the type, the payload (pointing into data) and the whole
 * frame's size; MORE says how many bytes the frame needs in *need_r
 * (header first, then the whole frame); ERROR gives a static *error_r for
 * a wrong version, non-zero flags, an unknown type or a payload over
 * max_payload.
 */
enum lda_submit_frame_result lda_submit_frame_parse(const uint8_t *data, size_t size,
						    size_t max_payload, uint8_t *type_r,
						    const uint8_t **payload_r,
						    size_t *payload_len_r, size_t *need_r,
						    const char **error_r);

/*
 * Appends a whole request frame. Returns false (out unchanged past its
 * previous length is not guaranteed) when an address is invalid, the
 * message does not fit a u32 or out's limit is hit.
 */
bool lda_submit_encode_request(struct buf *out, const char *mail_from, const char *rcpt_to,
			       const void *data, size_t size);
/* Appends a whole reply frame; the text is cut to LDA_SUBMIT_TEXT_MAX and
   made printable. */
bool lda_submit_encode_reply(struct buf *out, enum lda_submit_status status, const char *text);

/*
 * Decodes a request payload. Returns false with a static *error_r when a
 * length runs past the payload, bytes are left over, or an address is not
 * lda_submit_address_valid() (the recipient may not be empty).
 */
bool lda_submit_decode_request(const uint8_t *payload, size_t len, struct lda_submit_request *req_r,
			       const char **error_r);
/* Decodes a reply payload: a known status, printable text, nothing left over. */
bool lda_submit_decode_reply(const uint8_t *payload, size_t len, struct lda_submit_reply *reply_r,
			     const char **error_r);

/*
 * Whether addr may go on a sendmail command line or into an SMTP command:
 * a bare addr-spec ("local@domain", "" only when allow_empty), at most
 * LDA_SUBMIT_ADDRESS_MAX bytes, printable ASCII or UTF-8 without spaces,
 * angle brackets, quotes or backslashes, not starting with '-' (it would
 * be an option), with exactly one '@' and a non-empty local part and
 * domain.
 */
bool lda_submit_address_valid(const char *addr, bool allow_empty);

/* How the helper sends. */
struct lda_submit_settings {
	const char *sendmail_path;   /* split on spaces: program and arguments */
	const char *submission_host; /* "host[:port]": SMTP instead of sendmail */
	const char *helo_name;	     /* EHLO name (hostname) */
	unsigned int timeout_secs;   /* per sendmail run or SMTP step */
	size_t max_message_size;     /* largest message in a request */
};

/* Where SMTP goes: submission_host resolved before the sandbox. */
struct lda_submit_target {
	struct sockaddr_storage addrs[LDA_SUBMIT_ADDRS_MAX];
	socklen_t addr_lens[LDA_SUBMIT_ADDRS_MAX];
	unsigned int count; /* 0: use sendmail_path */
};

/*
 * Resolves "host", "host:port", "[v6addr]:port" (port 25 by default) into
 * t. Returns false with a static or gai_strerror() *error_r.
 */
bool lda_submit_resolve(const char *host, struct lda_submit_target *t, const char **error_r);

struct lda_submit;

/*
 * Forks the helper. Call before sandbox_drop_privileges() when roost-lda
 * already runs as the user (id->change_user false), so that a set-gid
 * sendmail (Postfix's postdrop) keeps working; as root call it after, the
 * helper then inherits the user's uid and NO_NEW_PRIVS. With
 * submission_host the helper resolves the host and enters
 * lda_submit_sandbox (seccomp, no filesystem) before reading any request.
 * Returns NULL with *error_r (static or strerror) when the socketpair or
 * fork fails or submission_host cannot be parsed or resolved.
 */
struct lda_submit *lda_submit_start(const struct lda_submit_settings *set,
				    const struct sandbox_identity *id, const char **error_r);
/*
 * Sends one message and waits for the helper's answer. Never fails
 * without a reply: a helper that died or answered garbage gives TEMPFAIL
 * with the reason in reply_r->text. Usable inside the sandbox (read and
 * write on the socket only).
 */
void lda_submit_send(struct lda_submit *s, const char *mail_from, const char *rcpt_to,
		     const void *data, size_t size, struct lda_submit_reply *reply_r);
/* Closes the socket (the helper exits at EOF) and frees s; *s becomes NULL. */
void lda_submit_finish(struct lda_submit **s);

/*
 * The helper's loop on fd (also used by tests): reads requests, sends
 * each, writes a reply, until EOF. Returns 0 at a clean EOF, 1 after a
 * protocol error (logged).
 */
int lda_submit_serve(int fd, const struct lda_submit_settings *set,
		     const struct lda_submit_target *target);

#endif
