#!/usr/bin/python3
"""Splits the CPU samples of roost's per-session mail processes by phase.

Reads `perf script` output (from `perf record -a --call-graph dwarf`) on
stdin and assigns every sample of a roost-imap / roost-pop3 process, and of
a master child between fork and exec (comm "roost", pid other than master's),
to the first phase whose marker function appears in its call chain. Prints
each phase's share and, given --sessions-per-sec, its cost per session.

usage: perf script -i perf.data | perfsplit.py --master-pid PID [--rate R --cpus 2 --freq F]
"""
import argparse
import collections
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--master-pid", type=int, required=True)
ap.add_argument("--comm", default="roost-imap,roost-pop3")
ap.add_argument("--freq", type=float, default=0, help="perf -F sampling frequency")
ap.add_argument("--secs", type=float, default=0, help="perf record duration")
ap.add_argument("--sessions", type=float, default=0, help="sessions completed while recording")
a = ap.parse_args()
comms = set(a.comm.split(","))

# (phase, markers): the first phase with a marker in the chain wins, so more
# specific phases come first.
PHASES = [
    ("fork/clone (child side, before exec)", ["ret_from_fork*", "child_exec", "spawn_child",
                                              "schedule_tail"]),
    ("execve + ELF loading (kernel)", ["do_execveat_common*", "bprm_execve", "load_elf_binary"]),
    ("process exit + address space teardown", ["do_exit", "do_group_exit", "exit_mmap", "__mmput"]),
    ("dynamic linking (ld.so)", ["_dl_start", "_dl_sysdep_start", "dl_main", "_dl_start_user",
                                 "_dl_relocate_object"]),
    ("seccomp: build + load the filter", ["seccomp_apply", "sandbox_bpf_build", "sandbox_bpf_load",
                                          "seccomp_load", "seccomp_init", "seccomp_rule_add",
                                          "do_seccomp", "sys_filter_load"]),
    ("landlock", ["landlock_*", "__do_sys_landlock*"]),
    ("settings from master (child_init)", ["child_init", "settings_read_text"]),
    ("drop privileges (capability bounding set, setresuid)", ["sandbox_drop_privileges"]),
    ("waiting for / decoding the session", ["receive_session"]),
    ("session: IMAP/POP3 I/O and logging", ["ioloop_run", "imap_client_start", "pop3_client_start",
                                           "connection_io"]),
    ("main program, other", ["main"]),
    ("glibc start-up before main (CPU feature detection, TLS, IRELATIVE)",
     ["__libc_start_main*", "_dl_relocate_static_pie", "init_cpu_features*", "__libc_init_secure",
      "_dl_non_dynamic_init", "__libc_setup_tls", "handle_amd", "handle_intel", "_start"]),
    ("page faults (other)", ["asm_exc_page_fault", "exc_page_fault"]),
]


def matches(name, marker):
    return name.startswith(marker[:-1]) if marker.endswith("*") else name == marker


counts = collections.Counter()
total = 0


def flush(comm, pid, chain):
    global total
    if comm is None:
        return
    if comm in comms or (comm == "roost" and pid != a.master_pid):
        total += 1
        for phase, markers in PHASES:
            if any(any(matches(f, m) for m in markers) for f in chain):
                counts[phase] += 1
                return
        counts["other (%s)" % (chain[0] if chain else "?")] += 1


head = re.compile(r"^(\S.*?)\s+(\d+)(?:/(\d+))?\s+")
comm = pid = None
chain = []
for line in sys.stdin:
    if not line.strip():
        flush(comm, pid, chain)
        comm, pid, chain = None, None, []
        continue
    if not line.startswith((" ", "\t")):
        m = head.match(line)
        if m:
            comm, pid, chain = m.group(1), int(m.group(2)), []
        continue
    parts = line.split()
    if len(parts) >= 2:
        chain.append(parts[1].split("+")[0])
flush(comm, pid, chain)

per = 0
if a.freq and a.secs and a.sessions:
    # samples -> CPU seconds -> per session
    per = 1e6 / a.freq / a.sessions
print("%d samples of mail processes (and master's children before exec)" % total)
others = 0
for phase, n in counts.most_common():
    if phase.startswith("other (") and n * 100.0 / total < 1.0:
        others += n
        continue
    print("  %5.1f %%  %s%s" % (100.0 * n / total, phase, "   %.0f us/session" % (n * per) if per else ""))
if others:
    print("  %5.1f %%  other (each < 1 %%)%s" % (100.0 * others / total,
                                            "   %.0f us/session" % (others * per) if per else ""))
if per:
    print("  total %.0f us/session" % (total * per))
