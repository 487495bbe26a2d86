/*
 * The seccomp filter of a sandbox profile as a classic BPF program, built
 * directly instead of through libseccomp: a mail process starts once per
 * session, and libseccomp's rule database, program generator and kernel
 * API probes cost more than the rest of its confinement. Runs in every
 * sandboxed process just before it loads its filter; the profile is our
 * own compiled-in data and is trusted.
 */
#ifndef ROOST_SANDBOX_SECCOMP_BPF_H
#define ROOST_SANDBOX_SECCOMP_BPF_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"

/* Far more than any profile needs; the kernel's own limit is 4096. */
#define SANDBOX_BPF_MAX_INSNS 1024

/*
 * Writes the program for profile p into insns (room for max instructions)
 * and returns its length. The program allows sandbox_base_syscalls and the
 * profile's system calls, mmap and mprotect without PROT_EXEC, tgkill on
 * pid only, and each arg rule's system call when its argument equals the
 * value (64-bit comparison); anything else, another architecture's calling
 * convention (x32 included) or an unknown system call number gets
 * default_action (SECCOMP_RET_KILL_PROCESS or SECCOMP_RET_TRAP). These are
 * the rules libseccomp was given before, with the same results. A system
 * call name this kernel's architecture does not know is a bug in the
 * profile and panics; so does a profile too large for max.
 */
size_t sandbox_bpf_build(const struct sandbox_profile *p, uint32_t pid, uint32_t default_action,
			 struct sock_filter *insns, size_t max);

/*
 * Loads a program built by sandbox_bpf_build() into the calling process
 * (NO_NEW_PRIVS must be set, or the caller have CAP_SYS_ADMIN). Returns 0,
 * or -1 with errno.
 */
int sandbox_bpf_load(const struct sock_filter *insns, size_t count);

#endif
