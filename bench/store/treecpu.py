#!/usr/bin/python3
"""CPU time a server's whole process tree spent while a command ran.

Reads utime+stime and cutime+cstime of every process under the master (pid
from its pid file) before and after running the command, and prints the
command's output followed by

  SERVERCPU total_ms=T parts=NAME:MS,NAME:MS,...

Processes that exit meanwhile (a mail process per session) are counted
through their parent's cutime+cstime, which the kernel adds when the parent
reaps them ("(reaped by NAME)" in the parts). Resolution: clock ticks (10 ms)
summed over the run, so use runs of seconds.

usage: treecpu.py --master-pid-file BASE_DIR/master.pid -- COMMAND ARGS...
"""
import argparse
import collections
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from proctree import TICK as HZ, snapshot  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--master-pid-file", required=True)
ap.add_argument("cmd", nargs=argparse.REMAINDER)
a = ap.parse_args()
cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

master = int(open(a.master_pid_file).read())
before = snapshot(master)
r = subprocess.run(cmd)
after = snapshot(master)
per = collections.Counter()
for pid, (n, own, child) in after.items():
    b_own, b_child = (before[pid][1], before[pid][2]) if pid in before else (0, 0)
    per[n] += own - b_own
    per["(reaped by %s)" % n] += child - b_child
total = sum(per.values())
ms = lambda t: 1000.0 * t / HZ
sys.stdout.flush()
print("SERVERCPU total_ms=%.0f parts=%s" % (
    ms(total), ",".join("%s:%.0f" % (k, ms(v)) for k, v in per.most_common() if v > 0)))
sys.exit(r.returncode)
