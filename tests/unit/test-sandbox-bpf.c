/*
 * Unit tests for lib/sandbox/seccomp-bpf.c: for every profile in the tree
 * and a synthetic one, the program we build gives the same verdict as the
 * program libseccomp generates from the same rules (the way roost built
 * its filters before), for every system call number, other architectures,
 * x32 numbers and the argument values the rules care about. Both programs
 * run in a small classic-BPF interpreter here; a last test loads one for
 * real in a child process.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "adm/adm-sandbox.h"
#include "auth/auth-sandbox.h"
#include "compat.h"
#include "imap/imap-sandbox.h"
#include "lda/lda-sandbox.h"
#include "login/login-sandbox.h"
#include "policy/policy-sandbox.h"
#include "pop3/pop3-sandbox.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp-bpf.h"

#define TEST_PID    4242u
#define DEFAULT_ACT SECCOMP_RET_KILL_PROCESS

static const char *const synthetic_syscalls[] = {"openat", "read", "socketcall", NULL};
static const struct sandbox_arg_rule synthetic_rules[] = {
	{"socket", 0, AF_UNIX},
	{"socket", 0, AF_INET6},
	{"fcntl", 1, 0x1234567800000001ULL},
	{"openat", 2, 7},
	{NULL, 0, 0},
};
static const struct sandbox_profile synthetic_sandbox = {
	.name = "synthetic",
	.syscalls = synthetic_syscalls,
	.arg_rules = synthetic_rules,
};

/* The rules as roost gave them to libseccomp, exported as a BPF program. */
static size_t reference_build(const struct sandbox_profile *p, struct sock_filter *insns,
			      size_t max)
{
	scmp_filter_ctx ctx = seccomp_init(DEFAULT_ACT);
	int fds[2];
	ssize_t n;

	assert_non_null(ctx);
	assert_int_equal(seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, DEFAULT_ACT), 0);
	for (size_t i = 0; sandbox_base_syscalls[i] != NULL; i++)
		assert_int_equal(
			seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					 seccomp_syscall_resolve_name(sandbox_base_syscalls[i]), 0),
			0);
	for (size_t i = 0; p->syscalls != NULL && p->syscalls[i] != NULL; i++)
		assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
						  seccomp_syscall_resolve_name(p->syscalls[i]), 0),
				 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
					  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
			 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
					  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
			 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
					  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)TEST_PID)),
			 0);
	for (size_t i = 0; p->arg_rules != NULL && p->arg_rules[i].syscall != NULL; i++) {
		const struct sandbox_arg_rule *r = &p->arg_rules[i];
		struct scmp_arg_cmp cmp = {r->arg_index, SCMP_CMP_EQ, r->value, 0};

		assert_int_equal(seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
							seccomp_syscall_resolve_name(r->syscall), 1,
							&cmp),
				 0);
	}
#ifdef ROOST_SANDBOX_DEBUG
	/* The sanitizer runtime's own call, in the debug filter only. */
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0), 0);
#endif
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(seccomp_export_bpf(ctx, fds[1]), 0);
	close(fds[1]);
	n = read(fds[0], insns, max * sizeof(*insns));
	close(fds[0]);
	seccomp_release(ctx);
	assert_true(n > 0 && n % (ssize_t)sizeof(*insns) == 0);
	return (size_t)n / sizeof(*insns);
}

/* Classic BPF as seccomp uses it: what both programs may contain. */
static uint32_t bpf_run(const struct sock_filter *f, size_t count, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};

	for (size_t pc = 0; pc < count; pc++) {
		const struct sock_filter *i = &f[pc];
		uint32_t word;

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(i->k + 4 <= sizeof(*d) && i->k % 4 == 0);
			memcpy(&word, (const uint8_t *)d + i->k, 4);
			a = word;
			break;
		case BPF_LD | BPF_MEM:
			a = mem[i->k];
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[i->k];
			break;
		case BPF_ST:
			mem[i->k] = a;
			break;
		case BPF_STX:
			mem[i->k] = x;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_MISC | BPF_TXA:
			a = x;
			break;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) != 0 ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fail_msg("unexpected BPF instruction 0x%x at %zu", i->code, pc);
		}
	}
	fail_msg("BPF program ran off its end");
	return 0;
}

struct probe {
	struct seccomp_data d;
	size_t count;
};

static void compare(const struct sandbox_profile *p)
{
	static struct sock_filter ours[SANDBOX_BPF_MAX_INSNS], ref[4096];
	size_t n_ours = sandbox_bpf_build(p, TEST_PID, DEFAULT_ACT, ours, N_ELEMENTS(ours));
	size_t n_ref = reference_build(p, ref, N_ELEMENTS(ref));
	static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64};
	uint64_t values[64];
	size_t nvalues = 0;
	unsigned int allowed = 0;

	values[nvalues++] = 0;
	values[nvalues++] = PROT_EXEC;
	values[nvalues++] = PROT_READ | PROT_WRITE;
	values[nvalues++] = PROT_READ | PROT_EXEC | (1ULL << 32);
	values[nvalues++] = TEST_PID;
	values[nvalues++] = TEST_PID | (1ULL << 32);
	values[nvalues++] = TEST_PID + 1;
	for (size_t i = 0; p->arg_rules != NULL && p->arg_rules[i].syscall != NULL; i++) {
		uint64_t v = p->arg_rules[i].value;

		values[nvalues++] = v;
		values[nvalues++] = v ^ (1ULL << 32);
		values[nvalues++] = v + 1;
	}
	assert_true(n_ours > 0);
	for (size_t ai = 0; ai < N_ELEMENTS(arches); ai++) {
		for (uint32_t nr = 0; nr < 1100; nr++) {
			/* Past 500: x32 numbers, then arbitrary ones. */
			uint32_t sysno = nr < 500 ? nr : nr < 1000 ? (nr - 500) | 0x40000000u : ~nr;

			for (unsigned int arg = 0; arg < 6; arg++) {
				for (size_t v = 0; v < nvalues; v++) {
					struct seccomp_data d = {.nr = (int)sysno,
								 .arch = arches[ai]};
					uint32_t a, b;

					d.args[arg] = values[v];
					a = bpf_run(ours, n_ours, &d);
					b = bpf_run(ref, n_ref, &d);
					if (a != b)
						fail_msg("%s: arch %x nr %u arg%u=%llx: ours %x, "
							 "libseccomp %x",
							 p->name, arches[ai], sysno, arg,
							 (unsigned long long)values[v], a, b);
					allowed += a == SECCOMP_RET_ALLOW;
				}
			}
		}
	}
	/* The comparison saw both verdicts. */
	assert_true(allowed > 0);
}

static void test_profiles_match_libseccomp(void **state)
{
	(void)state;
	compare(&imap_sandbox);
	compare(&pop3_sandbox);
	compare(&login_sandbox);
	compare(&auth_sandbox);
	compare(&policy_sandbox);
	compare(&lda_sandbox);
	compare(&lda_submit_sandbox);
	compare(&adm_mail_sandbox);
	compare(&synthetic_sandbox);
}

static void test_arg_rules(void **state)
{
	static struct sock_filter f[SANDBOX_BPF_MAX_INSNS];
	size_t n = sandbox_bpf_build(&synthetic_sandbox, TEST_PID, DEFAULT_ACT, f, N_ELEMENTS(f));
	struct seccomp_data d = {.nr = __NR_socket, .arch = AUDIT_ARCH_X86_64};

	(void)state;
	d.args[0] = AF_UNIX;
	assert_int_equal(bpf_run(f, n, &d), SECCOMP_RET_ALLOW);
	d.args[0] = AF_INET6;
	assert_int_equal(bpf_run(f, n, &d), SECCOMP_RET_ALLOW);
	d.args[0] = AF_INET;
	assert_int_equal(bpf_run(f, n, &d), DEFAULT_ACT);
	d.args[0] = AF_UNIX | (1ULL << 32);
	assert_int_equal(bpf_run(f, n, &d), DEFAULT_ACT);
	d.nr = __NR_mmap;
	d.args[0] = 0;
	d.args[2] = PROT_READ;
	assert_int_equal(bpf_run(f, n, &d), SECCOMP_RET_ALLOW);
	d.args[2] = PROT_READ | PROT_EXEC;
	assert_int_equal(bpf_run(f, n, &d), DEFAULT_ACT);
	d.nr = __NR_tgkill;
	d.args[0] = TEST_PID;
	assert_int_equal(bpf_run(f, n, &d), SECCOMP_RET_ALLOW);
	d.args[0] = 1;
	assert_int_equal(bpf_run(f, n, &d), DEFAULT_ACT);
	/* openat is allowed outright; the extra rule on it changes nothing. */
	d.nr = __NR_openat;
	d.args[2] = 0;
	assert_int_equal(bpf_run(f, n, &d), SECCOMP_RET_ALLOW);
	d.arch = AUDIT_ARCH_I386;
	assert_int_equal(bpf_run(f, n, &d), DEFAULT_ACT);
}

/* Loaded for real: allowed calls work, a forbidden one kills the process. */
static void test_load_in_child(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	for (int forbidden = 0; forbidden < 2; forbidden++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			static struct sock_filter f[SANDBOX_BPF_MAX_INSNS];
			size_t n = sandbox_bpf_build(&policy_sandbox, (uint32_t)getpid(),
						     SECCOMP_RET_KILL_PROCESS, f, N_ELEMENTS(f));

			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
			    sandbox_bpf_load(f, n) < 0)
				_exit(2);
			if (forbidden)
				(void)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
			(void)getpid();
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (forbidden)
			assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
		else
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles_match_libseccomp),
		cmocka_unit_test(test_arg_rules),
		cmocka_unit_test(test_load_in_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
