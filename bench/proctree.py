"""The process tree under a server's master, read from /proc, for the
benchmarks that measure a server's CPU time (bench/login/cpushare.py,
bench/store/treecpu.py, bench/imap/mixed.py).

CPU times are in clock ticks (TICK a second). A process's own time is its
utime+stime; its reaped time is cutime+cstime, which the kernel adds when
it reaps a child, so children that exited during a run still count
through their parent."""
import collections
import os

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    """(comm, ppid, own ticks, reaped ticks) of pid from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        s = f.read()
    rp = s.rindex(b")")
    comm = s[s.index(b"(") + 1:rp].decode("ascii", "replace")
    # fields after comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    rest = s[rp + 2:].split()
    return comm, int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def snapshot(root, name=None):
    """{pid: (name, own ticks, reaped ticks)} of root and its descendants;
    name(pid) gives the name (default: the comm)."""
    kids = collections.defaultdict(list)
    info = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            comm, ppid, own, reaped = stat(int(p))
        except (OSError, ValueError, IndexError):
            continue
        kids[ppid].append(int(p))
        info[int(p)] = (comm, own, reaped)
    out, todo = {}, [root]
    while todo:
        p = todo.pop()
        if p in info:
            comm, own, reaped = info[p]
            out[p] = (name(p) if name else comm, own, reaped)
        todo += kids.get(p, [])
    return out
