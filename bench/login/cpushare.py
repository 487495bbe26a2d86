#!/usr/bin/python3
"""CPU time per login, split by server process kind.

Runs a load generator command, and reads utime+stime of every process in the
server's tree (master from its pid file) before and after. Processes that
end during the run (the mail processes, one per session) are counted through
the master's cutime+cstime, which the kernel adds when master reaps them; for
Dovecot the same holds. Prints CPU milliseconds per completed session for
each process kind and in total.

usage: cpushare.py --master-pid-file BASE_DIR/master.pid -- LOADGEN ARGS...
"""
import argparse
import collections
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import proctree  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--master-pid-file", required=True)
ap.add_argument("cmd", nargs=argparse.REMAINDER)
a = ap.parse_args()
cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
HZ = proctree.TICK


def name(pid):
    """The base name of the first word of the command line."""
    try:
        with open("/proc/%d/cmdline" % pid) as f:
            n = f.read().split("\0")[0]
    except OSError:
        return "?"
    return os.path.basename(n.split(" ")[0])


def snapshot(master):
    return proctree.snapshot(master, name)


master = int(open(a.master_pid_file).read())
before = snapshot(master)
r = subprocess.run(cmd, capture_output=True, text=True)
after = snapshot(master)
sys.stdout.write(r.stdout)
sys.stderr.write(r.stderr)
m = re.search(r"sessions=(\d+)", r.stdout)
sessions = int(m.group(1)) if m else 0
if sessions == 0:
    sys.exit("no sessions completed")

per = collections.Counter()
count = collections.Counter()
for pid, (n, own, child) in after.items():
    b_own, b_child = (before[pid][1], before[pid][2]) if pid in before else (0, 0)
    per[n] += own - b_own
    count[n] += 1
    if pid == master:
        per["(reaped children of master)"] += child - b_child
total = sum(per.values())
print("CPU ms per session (%d sessions; ticks of %d Hz):" % (sessions, HZ))
for n, t in per.most_common():
    print("  %-30s %6.3f ms  (%d processes now)" % (n, 1000.0 * t / HZ / sessions, count[n]))
print("  %-30s %6.3f ms  => at most %.0f sessions/s on 2 cores" % (
    "total", 1000.0 * total / HZ / sessions, 2 * HZ * sessions / total if total else 0))
