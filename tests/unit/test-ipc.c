/*
 * Unit tests for lib/ipc: framing over a real SEQPACKET socketpair,
 * descriptor passing, and the table-driven codec's refusals (short
 * payloads, overlong strings, NUL bytes, trailing bytes, wrong fd counts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/ipc-codec.h"
#include "ipc/msg-policy.h"

static void test_round_trip(void **state)
{
	struct policy_reserve in, out;
	struct ipc_message msg;
	const char *error;
	int sv[2];

	(void)state;
	assert_int_equal(ipc_socketpair(sv), 0);
	memset(&in, 0, sizeof(in));
	in.req_id = 7;
	in.session_id = 0x1122334455667788ULL;
	in.limit = 10;
	assert_true(str_copy(in.service, sizeof(in.service), "imap"));
	assert_true(str_copy(in.user, sizeof(in.user), "jdoe@example.com"));
	assert_true(str_copy(in.ip, sizeof(in.ip), "2001:db8::7"));
	assert_int_equal(ipc_send_msg(sv[0], POLICY_MSG(POLICY_RESERVE), &in, NULL, 0), 0);
	assert_int_equal(ipc_recv(sv[1], &msg), 1);
	assert_int_equal(msg.type, POLICY_RESERVE);
	assert_non_null(ipc_message_decode(&policy_channel, &msg, &out, sizeof(out), &error));
	assert_memory_equal(&in, &out, sizeof(in));
	close(sv[0]);
	assert_int_equal(ipc_recv(sv[1], &msg), 0);
	close(sv[1]);
}

static void test_fd_passing(void **state)
{
	struct policy_end end = {.session_id = 1};
	struct ipc_message msg;
	union policy_msg_any any;
	const char *error;
	int sv[2], p[2];
	char c = 0;

	(void)state;
	assert_int_equal(ipc_socketpair(sv), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ipc_send_msg(sv[0], POLICY_MSG(POLICY_END), &end, &p[1], 1), 0);
	assert_int_equal(ipc_recv(sv[1], &msg), 1);
	assert_int_equal(msg.fd_count, 1);
	assert_int_equal(write(msg.fds[0], "x", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	/* POLICY_END carries no descriptor: decoding refuses it. */
	assert_null(ipc_message_decode(&policy_channel, &msg, &any, sizeof(any), &error));
	assert_string_equal(error, "wrong number of descriptors");
	ipc_message_close_fds(&msg);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_bad_frames(void **state)
{
	struct ipc_message msg;
	uint8_t frame[16] = {1, 0, 3, 0, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	int sv[2];

	(void)state;
	assert_int_equal(ipc_socketpair(sv), 0);
	/* Length in the header does not match the datagram. */
	frame[4] = 9;
	assert_int_equal(send(sv[0], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_int_equal(ipc_recv(sv[1], &msg), -1);
	/* Unknown version. */
	frame[4] = 8;
	frame[0] = 2;
	assert_int_equal(send(sv[0], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	assert_int_equal(ipc_recv(sv[1], &msg), -1);
	/* Shorter than a header. */
	assert_int_equal(send(sv[0], frame, 5, 0), 5);
	assert_int_equal(ipc_recv(sv[1], &msg), -1);
	close(sv[0]);
	close(sv[1]);
}

static void test_codec_refusals(void **state)
{
	const struct ipc_msg_def *def = POLICY_MSG(POLICY_PENALTY_GET);
	struct policy_penalty_get out;
	const char *error;
	/* req_id (4) + string length (2) + "ab" */
	uint8_t good[] = {1, 0, 0, 0, 2, 0, 'a', 'b'};
	uint8_t nul[] = {1, 0, 0, 0, 2, 0, 'a', 0};
	uint8_t trailing[] = {1, 0, 0, 0, 2, 0, 'a', 'b', 'c'};
	uint8_t shortmsg[] = {1, 0, 0, 0, 5, 0, 'a'};
	uint8_t toolong[4 + 2 + POLICY_IP_MAX];

	(void)state;
	assert_true(ipc_decode(def, good, sizeof(good), &out, &error));
	assert_string_equal(out.ip, "ab");
	assert_false(ipc_decode(def, nul, sizeof(nul), &out, &error));
	assert_string_equal(error, "NUL in string field");
	assert_false(ipc_decode(def, trailing, sizeof(trailing), &out, &error));
	assert_string_equal(error, "trailing bytes after message");
	assert_false(ipc_decode(def, shortmsg, sizeof(shortmsg), &out, &error));
	assert_string_equal(error, "message too short");
	memset(toolong, 'x', sizeof(toolong));
	toolong[4] = POLICY_IP_MAX;
	toolong[5] = 0;
	assert_false(ipc_decode(def, toolong, sizeof(toolong), &out, &error));
	assert_string_equal(error, "string field too long");
	assert_null(ipc_channel_find(&policy_channel, 9999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_codec_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
