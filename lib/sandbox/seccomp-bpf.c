/*
 * Seccomp filter programs for sandbox profiles (see seccomp-bpf.h). Runs
 * in each sandboxed process before it confines itself. libseccomp is used
 * only for its table of system call names.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "seccomp-bpf.h"

#if defined(__x86_64__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_X86_64
/* x32 system calls share the architecture value and set this bit. */
#define SANDBOX_X32_SYSCALL_BIT 0x40000000u
#elif defined(__aarch64__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "sandbox: no seccomp architecture value for this CPU"
#endif

#define NR_OFFSET   offsetof(struct seccomp_data, nr)
#define ARCH_OFFSET offsetof(struct seccomp_data, arch)
/* The two 32-bit halves of a 64-bit argument (little endian). */
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + (i)*8u)
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + (i)*8u + 4u)

struct bpf_out {
	struct sock_filter *insns;
	size_t count, max;
	const char *profile;
};

static void emit(struct bpf_out *out, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (out->count >= out->max)
		panic("%s: seccomp program longer than %zu instructions", out->profile, out->max);
	out->insns[out->count++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

/*
 * The number of a system call on this architecture, or -1 for a name that
 * exists only elsewhere (libseccomp's negative pseudo numbers, which it
 * also leaves out of the program).
 */
static int resolve(const char *profile, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		panic("%s: unknown system call in sandbox profile: %s", profile, name);
	return nr < 0 ? -1 : nr;
}

/* nr is allowed whatever its arguments. */
static void allow(struct bpf_out *out, const char *name)
{
	int nr = resolve(out->profile, name);

	if (nr < 0)
		return;
	emit(out, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)nr);
	emit(out, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
}

/*
 * nr is allowed when argument arg equals value. On a mismatch the number is
 * loaded again and the search goes on, so that several rules for one system
 * call are alternatives.
 */
static void allow_arg_eq(struct bpf_out *out, const char *name, unsigned int arg, uint64_t value)
{
	int nr = resolve(out->profile, name);

	if (nr < 0)
		return;
	if (arg > 5)
		panic("%s: sandbox rule for %s on argument %u", out->profile, name, arg);
	emit(out, BPF_JMP | BPF_JEQ | BPF_K, 0, 6, (uint32_t)nr);
	emit(out, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_HI(arg));
	emit(out, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, (uint32_t)(value >> 32));
	emit(out, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(arg));
	emit(out, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)value);
	emit(out, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	emit(out, BPF_LD | BPF_W | BPF_ABS, 0, 0, NR_OFFSET);
}

/* nr is allowed when argument arg has none of the bits of mask (< 2^32). */
static void allow_arg_clear(struct bpf_out *out, const char *name, unsigned int arg, uint32_t mask)
{
	int nr = resolve(out->profile, name);

	if (nr < 0)
		return;
	emit(out, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, (uint32_t)nr);
	emit(out, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(arg));
	emit(out, BPF_JMP | BPF_JSET | BPF_K, 1, 0, mask);
	emit(out, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	emit(out, BPF_LD | BPF_W | BPF_ABS, 0, 0, NR_OFFSET);
}

size_t sandbox_bpf_build(const struct sandbox_profile *p, uint32_t pid, uint32_t default_action,
			 struct sock_filter *insns, size_t max)
{
	struct bpf_out out = {.insns = insns, .max = max, .profile = p->name};

	/* Another architecture's numbers mean other system calls. */
	emit(&out, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARCH_OFFSET);
	emit(&out, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SANDBOX_AUDIT_ARCH);
	emit(&out, BPF_RET | BPF_K, 0, 0, default_action);
	emit(&out, BPF_LD | BPF_W | BPF_ABS, 0, 0, NR_OFFSET);
#ifdef SANDBOX_X32_SYSCALL_BIT
	emit(&out, BPF_JMP | BPF_JGE | BPF_K, 0, 1, SANDBOX_X32_SYSCALL_BIT);
	emit(&out, BPF_RET | BPF_K, 0, 0, default_action);
#endif
	for (size_t i = 0; sandbox_base_syscalls[i] != NULL; i++)
		allow(&out, sandbox_base_syscalls[i]);
	for (size_t i = 0; p->syscalls != NULL && p->syscalls[i] != NULL; i++)
		allow(&out, p->syscalls[i]);
	/* Memory may be mapped, but never executable. */
	allow_arg_clear(&out, "mmap", 2, PROT_EXEC);
	allow_arg_clear(&out, "mprotect", 2, PROT_EXEC);
	/* abort() signals the process itself, and nothing else. */
	allow_arg_eq(&out, "tgkill", 0, pid);
	for (size_t i = 0; p->arg_rules != NULL && p->arg_rules[i].syscall != NULL; i++) {
		const struct sandbox_arg_rule *r = &p->arg_rules[i];

		allow_arg_eq(&out, r->syscall, r->arg_index, r->value);
	}
#ifdef ROOST_SANDBOX_DEBUG
	/* The sanitizer runtime itself calls these on every noreturn call. */
	allow(&out, "sigaltstack");
#endif
	emit(&out, BPF_RET | BPF_K, 0, 0, default_action);
	return out.count;
}

int sandbox_bpf_load(const struct sock_filter *insns, size_t count)
{
	struct sock_fprog prog = {
		.len = (unsigned short)count,
		.filter = (struct sock_filter *)insns,
	};

	if (count == 0 || count > BPF_MAXINSNS) {
		errno = EINVAL;
		return -1;
	}
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}
