#!/usr/bin/python3
"""SEARCH benchmark: roost and Debian's Dovecot 2.3 (no FTS) side by side on
the same 10,000-message Maildir, in one run, on this machine.

Measures, on each server, after one warm-up run of the same command (page
cache warm, indexes built):
  - SEARCH BODY <word> that no message contains (every text part searched),
  - SEARCH BODY <word> that most messages contain,
  - SEARCH TEXT <word> that no message contains,
  - SEARCH FROM <name> on first use after SELECT and again (header cache),
and writes the medians and roost/Dovecot ratios to bench/imap/RESULTS-search.md.

Messages come from the workspace's generator (shared/bench/gen_mbox.py:
plain, quoted-printable, base64, multipart/alternative and mixed with
attachments, nested message/rfc822, encoded words). Both servers get their
own copy of the same files; Dovecot runs in PREAUTH mode (imap -c), roost as
the real server (master, login, auth) with a LOGIN over 127.0.0.1.

usage (as root, after make release):
  bench/imap/search.py [--n 10000] [--runs 5] [--keep]
"""
import argparse
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import time

TOP = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests" / "integration"))

import conftest  # noqa: E402  (the integration tests' server runner)

GEN = pathlib.Path(os.environ.get("GEN_MBOX", "/work/shared/bench/gen_mbox.py"))
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
PASSWORD = "benchpass"


def log(msg):
    print("%s [search.py] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def make_maildir(mbox, dest, uid, gid):
    """Splits an mbox into Maildir cur/ files (one name per message, in order)."""
    for sub in ("cur", "new", "tmp"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    data = mbox.read_bytes()
    msgs = data.split(b"\nFrom ")
    n = 0
    for i, m in enumerate(msgs):
        if i == 0:
            m = m[m.index(b"\n") + 1:]
        else:
            m = m[m.index(b"\n") + 1:]
        m = b"\n".join(l[1:] if l.startswith(b">From ") else l for l in m.split(b"\n"))
        name = "%d.M%dP1.bench,S=%d:2,S" % (1600000000 + i, i, len(m))
        p = dest / "cur" / name
        p.write_bytes(m)
        os.utime(p, (1600000000 + i * 60, 1600000000 + i * 60))
        n += 1
    for dirpath, dirnames, filenames in os.walk(dest):
        os.chown(dirpath, uid, gid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), uid, gid)
    return n


def cpu_ns(pid):
    """CPU time of a (single-threaded) process so far, in nanoseconds."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


class Session:
    """A line-based IMAP session over a pipe or a socket, with the server
    process whose CPU time is measured (pid, once known)."""

    def __init__(self, rfile, wfile, pid=None):
        self.r = rfile
        self.w = wfile
        self.n = 0
        self.pid = pid
        self.last_cpu = 0.0

    def cmd(self, text):
        """Returns (seconds, untagged lines, tagged line); self.last_cpu is
        the server's CPU seconds for the command."""
        self.n += 1
        tag = b"b%d" % self.n
        c0 = cpu_ns(self.pid) if self.pid else 0
        t = time.monotonic()
        self.w.write(tag + b" " + text.encode() + b"\r\n")
        self.w.flush()
        lines = []
        while True:
            line = self.r.readline()
            if not line:
                raise SystemExit("connection closed after " + text)
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise SystemExit("%s: %r" % (text, line))
                wall = time.monotonic() - t
                if self.pid:
                    self.last_cpu = (cpu_ns(self.pid) - c0) / 1e9
                return wall, lines, line
            lines.append(line)


def measure(session, command, runs):
    """Median server CPU seconds and median wall seconds of runs runs after
    one warm-up, and the number of messages found."""
    _, lines, _ = session.cmd(command)
    first = session.last_cpu
    cpu, wall = [], []
    found = None
    for _ in range(runs):
        secs, lines, _ = session.cmd(command)
        wall.append(secs)
        cpu.append(session.last_cpu)
        found = sum(len(l.split()) - 2 for l in lines if l.startswith(b"* SEARCH"))
    return statistics.median(cpu), statistics.median(wall), found, first


def first_and_again(session, command):
    """CPU seconds of the first run and of the second, and how many
    messages were found (or the length of a SORT/THREAD answer)."""
    session.cmd(command)
    cpu1 = session.last_cpu
    _, lines, _ = session.cmd(command)
    cpu2 = session.last_cpu
    if command.startswith("SEARCH"):
        found = sum(len(l.split()) - 2 for l in lines if l.startswith(b"* SEARCH"))
    else:
        found = "%d bytes" % sum(len(l) for l in lines)
    return cpu1, cpu2, found


COMMANDS = [
    ("SEARCH BODY, word in no message", "SEARCH BODY zyxwvutsrq"),
    ("SEARCH BODY, word in most messages", "SEARCH BODY throughput"),
    ("SEARCH BODY, two words in no message", "SEARCH BODY zyxwvutsrq BODY qrstuvwxyz"),
    ("SEARCH TEXT, word in no message", "SEARCH TEXT zyxwvutsrq"),
]
HEADER = ("SEARCH FROM, first use after SELECT / again", "SEARCH FROM heidi")
HEADER_COMMANDS = [
    ("SEARCH FROM", "SEARCH FROM sender42@"),
    ("SEARCH SUBJECT", "SEARCH SUBJECT \"message 7 \""),
    ("SEARCH HEADER Message-ID", "SEARCH HEADER Message-ID bench4242@"),
    ("SORT (DATE)", "SORT (DATE) UTF-8 ALL"),
    ("SORT (SUBJECT)", "SORT (SUBJECT) UTF-8 ALL"),
    ("SORT (FROM)", "SORT (FROM) UTF-8 ALL"),
    ("THREAD REFERENCES", "THREAD REFERENCES UTF-8 ALL"),
    ("THREAD ORDEREDSUBJECT", "THREAD ORDEREDSUBJECT UTF-8 ALL"),
]


# Commands whose whole answers are compared between the servers.
COMPARE = [
    "THREAD REFERENCES UTF-8 ALL", "THREAD ORDEREDSUBJECT UTF-8 ALL", "THREAD REFS UTF-8 ALL",
    "SORT (SUBJECT) UTF-8 ALL", "SORT (DATE) UTF-8 ALL", "SORT (REVERSE ARRIVAL) UTF-8 ALL",
    "SORT (FROM) UTF-8 ALL", "SORT (TO) UTF-8 ALL", "SORT (CC) UTF-8 ALL",
    "SORT (DISPLAYFROM) UTF-8 ALL", "SORT (DISPLAYTO) UTF-8 ALL", "SORT (SIZE) UTF-8 ALL",
    "SEARCH SUBJECT re", "SEARCH FROM \"j\u00fcrgen\"", "SEARCH FROM \"fran\u00e7ois\"",
    "SEARCH TO example.org", "SEARCH TEXT sieve", "SEARCH BODY \"dolor sit\"",
    "SEARCH HEADER In-Reply-To \"\"", "SEARCH SENTSINCE 1-Jan-2024", "SEARCH LARGER 100000",
    "SEARCH OR SUBJECT fwd BODY throughput",
]


def body_workload(s, runs):
    """The 10,000-message phase."""
    results = {}
    s.cmd("SELECT INBOX")
    results["select"] = s.last_cpu
    results[HEADER[0]] = first_and_again(s, HEADER[1])
    for name, command in COMMANDS:
        results[name] = measure(s, command, runs)
    for command in COMPARE:
        _, lines, _ = s.cmd(command)
        results["compare " + command] = b"".join(lines)
    return results


def header_workload(s, runs):
    """The 50,000-message phase: header searches, first use and cached."""
    results = {}
    s.cmd("SELECT INBOX")
    results["select"] = s.last_cpu
    for name, command in HEADER_COMMANDS:
        results[name] = first_and_again(s, command)
    return results


def run_dovecot(root, maildir, uid, gid, workload, runs):
    conf = root / "dovecot.conf"
    (root / "dovecot-run").mkdir(exist_ok=True)
    os.chown(root / "dovecot-run", uid, gid)
    conf.write_text(
        "base_dir = %(r)s/dovecot-run\nstate_dir = %(r)s/dovecot-run\n"
        "log_path = %(r)s/dovecot.log\nssl = no\nmail_uid = %(u)d\nmail_gid = %(g)d\n"
        "first_valid_uid = %(u)d\nfirst_valid_gid = %(g)d\n"
        "mail_location = maildir:%(m)s\nmail_fsync = never\n"
        "namespace inbox {\n  inbox = yes\n  separator = /\n}\n"
        % {"r": root, "u": uid, "g": gid, "m": maildir})
    env = {"USER": "bench", "HOME": str(root), "PATH": "/usr/bin:/bin"}
    p = subprocess.Popen([DOVECOT_IMAP, "-c", str(conf)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env=env)
    p.stdout.readline()
    s = Session(p.stdout, p.stdin, p.pid)
    results = workload(s, runs)
    s.cmd("LOGOUT")
    p.wait(timeout=30)
    return results


def run_roost(root, build, mail_home, workload, runs):
    server = conftest.Roost(root / "roost", build=build)
    server.base_dir.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(server.tmp, 0o755)
    uid, gid = conftest.mail_user()
    users = server.tmp / "users"
    users.write_text("bench:{PLAIN}%s:%d:%d::%s::\n" % (PASSWORD, uid, gid, mail_home))
    shutil.chown(users, group="roost")
    os.chmod(users, 0o640)
    server.expected_services = ["roost-policy", "roost-auth", "roost-login"]
    server.start("auth_mechanisms = plain login\nfirst_valid_uid = 100\n"
                 "mail_location = maildir:~/Maildir\nmail_fsync = never\n"
                 "passdb {\n  driver = passwd-file\n  args = %s\n}\n"
                 "userdb {\n  driver = passwd-file\n  args = %s\n}\n" % (users, users))
    try:
        sock = socket.create_connection(("127.0.0.1", server.ports["imap"]))
        f = sock.makefile("rwb")
        f.readline()
        s = Session(f, f)
        s.cmd('LOGIN bench "%s"' % PASSWORD)
        s.pid = conftest.wait_for(lambda: server.children("roost-imap"), what="roost-imap")[0]
        results = workload(s, runs)
        s.cmd("LOGOUT")
        sock.close()
    finally:
        server.stop()
    return results


def make_small_maildir(n, dest, uid, gid):
    """n small messages (header searches): 97 senders, 50 subjects."""
    for sub in ("cur", "new", "tmp"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    for i in range(n):
        body = "\n".join(" ".join(words[(i * 7 + j * 3 + k) % 10] for k in range(10))
                         for j in range(3 + i % 15))
        msg = ("Return-Path: <sender%d@example.com>\nFrom: Sender %d <sender%d@example.com>\n"
               "To: bench@example.com\nSubject: Test message %d %s\n"
               "Date: Tue, 14 Nov 2023 22:13:20 +0000\nMessage-ID: <bench%d@example.com>\n"
               "Content-Type: text/plain; charset=us-ascii\n\n%s\n"
               % (i % 97, i % 97, i % 97, i % 50, words[i % 10], i, body)).encode()
        p = dest / "cur" / ("%d.M%dP1.bench,S=%d:2,S" % (1600000000 + i, i, len(msg)))
        p.write_bytes(msg)
    for dirpath, dirnames, filenames in os.walk(dest):
        os.chown(dirpath, uid, gid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), uid, gid)


def clear_indexes(*maildirs):
    """Both servers start without index or cache: SELECT builds them, the
    first header search fills the cache."""
    for md in maildirs:
        for f in list(md.glob("dovecot.index*")) + list(md.glob("roost.index*")):
            f.unlink()


def ratio(d, r):
    return "%.1f×" % (d / r) if r else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000, help="messages for the BODY searches")
    ap.add_argument("--headers", type=int, default=50000,
                    help="messages for the header searches (0: skip)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--root", default="/tmp/roost-bench-search")
    ap.add_argument("--build", default=str(TOP / "build" / "release"))
    ap.add_argument("--results", default=str(TOP / "bench" / "imap" / "RESULTS-search.md"))
    ap.add_argument("--keep", action="store_true", help="reuse the generated Maildirs")
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root")
    if not os.access(DOVECOT_IMAP, os.X_OK):
        raise SystemExit("Dovecot is not installed (apt-get install dovecot-imapd)")
    root = pathlib.Path(a.root)
    uid, gid = conftest.mail_user()
    mbox = root / "sample.mbox"
    if not (a.keep and mbox.exists()):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        os.chmod(root, 0o755)
        log("generating %d messages with %s" % (a.n, GEN))
        subprocess.run([sys.executable, str(GEN), str(a.n), str(mbox)], check=True,
                       stdout=subprocess.DEVNULL)
        log("writing the Maildirs")
        make_maildir(mbox, root / "dovecot-mail", uid, gid)
        for home in ("home", "home50k"):
            (root / home).mkdir()
            os.chown(root / home, uid, gid)
        make_maildir(mbox, root / "home" / "Maildir", uid, gid)
        if a.headers > 0:
            log("writing %d small messages twice" % a.headers)
            make_small_maildir(a.headers, root / "dovecot-mail50k", uid, gid)
            make_small_maildir(a.headers, root / "home50k" / "Maildir", uid, gid)
    size = sum(p.stat().st_size for p in (root / "dovecot-mail" / "cur").iterdir())
    clear_indexes(root / "dovecot-mail", root / "home" / "Maildir")
    log("Dovecot, %d messages" % a.n)
    dov = run_dovecot(root, root / "dovecot-mail", uid, gid, body_workload, a.runs)
    log("roost, %d messages" % a.n)
    ros = run_roost(root, pathlib.Path(a.build), root / "home", body_workload, a.runs)
    if a.headers > 0:
        clear_indexes(root / "dovecot-mail50k", root / "home50k" / "Maildir")
        log("Dovecot, %d messages" % a.headers)
        dov50 = run_dovecot(root, root / "dovecot-mail50k", uid, gid, header_workload, a.runs)
        log("roost, %d messages" % a.headers)
        ros50 = run_roost(root, pathlib.Path(a.build), root / "home50k", header_workload, a.runs)

    dversion = subprocess.run(["dovecot", "--version"], capture_output=True,
                              text=True).stdout.strip()
    out = []
    out.append("# SEARCH benchmark: roost vs Dovecot 2.3\n")
    out.append("Generated by `bench/imap/search.py` on %s (%d CPUs), Dovecot %s without FTS "
               "(PREAUTH) against roost `%s` (master, login, auth, LOGIN over 127.0.0.1), "
               "each on its own copy of the same files. Times are the CPU time of the server "
               "process for the command, from /proc/PID/schedstat (it does not depend on what "
               "else the machine runs; the machine was shared with other builds), medians of %d "
               "runs after one warm-up run unless said otherwise; wall-clock medians are given "
               "for the BODY searches. Ratio = Dovecot time / roost time: higher is better "
               "for roost.\n" % (time.strftime("%Y-%m-%d"), os.cpu_count(), dversion, a.build,
                                 a.runs))
    out.append("## (3) SEARCH BODY on %d messages\n" % a.n)
    out.append("%d messages, %.0f MB in one Maildir from `shared/bench/gen_mbox.py`: plain, "
               "quoted-printable, base64, multipart/alternative and mixed with attachments, "
               "nested messages, encoded words. Index and cache removed before SELECT; the "
               "warm-up run fills roost's cached layouts.\n" % (a.n, size / 1e6))
    out.append("| command | found (Dovecot / roost) | Dovecot CPU s | roost CPU s | ratio | "
               "Dovecot wall s | roost wall s |")
    out.append("|---|---|---|---|---|---|---|")
    for name, _ in COMMANDS:
        d, r = dov[name], ros[name]
        if d[2] != r[2]:
            log("warning: %s: Dovecot found %s, roost %s" % (name, d[2], r[2]))
        out.append("| %s | %s / %s | %.3f | %.3f | %s | %.3f | %.3f |"
                   % (name, d[2], r[2], d[0], r[0], ratio(d[0], r[0]), d[1], r[1]))
    d, r = dov[COMMANDS[0][0]], ros[COMMANDS[0][0]]
    out.append("| %s: its first run (nothing cached, page cache warm) | | %.3f | %.3f | %s "
               "| | |" % (COMMANDS[0][0], d[3], r[3], ratio(d[3], r[3])))
    d, r = dov[HEADER[0]], ros[HEADER[0]]
    out.append("| %s | %s / %s | %.3f / %.3f | %.3f / %.3f | %s / %s | | |"
               % (HEADER[0], d[2], r[2], d[0], d[1], r[0], r[1], ratio(d[0], r[0]),
                  ratio(d[1], r[1])))
    out.append("")
    out.append("Whole answers compared on the same messages (THREAD, SORT and SEARCH "
               "responses byte for byte):\n")
    out.append("| command | response bytes | same as Dovecot |")
    out.append("|---|---|---|")
    for command in COMPARE:
        d, r = dov["compare " + command], ros["compare " + command]
        out.append("| `%s` | %d | %s |" % (command, len(d), "yes" if d == r else "**no**"))
    out.append("")
    if a.headers > 0:
        out.append("## Header searches, SORT and THREAD on %d messages\n" % a.headers)
        out.append("Small messages (%d senders), index and cache removed before SELECT. "
                   "\"first\" is the first search of the session after SELECT (every message "
                   "file read, header fields cached), \"again\" the same search once more "
                   "(from the cache: roost opens no message file). roost caches the standard "
                   "fields (From, To, Cc, Bcc, Subject, Date, Message-ID, In-Reply-To, "
                   "References, Reply-To, Sender) together on the first header search, so the "
                   "later rows find them cached already; Dovecot caches each field when it is "
                   "first used.\n" % 97)
        out.append("| command | found (Dovecot / roost) | Dovecot CPU s first / again | "
                   "roost CPU s first / again | ratio first / again |")
        out.append("|---|---|---|---|---|")
        for name, _ in HEADER_COMMANDS:
            d, r = dov50[name], ros50[name]
            if d[2] != r[2]:
                log("warning: %s: Dovecot found %s, roost %s" % (name, d[2], r[2]))
            out.append("| %s | %s / %s | %.3f / %.3f | %.3f / %.3f | %s / %s |"
                       % (name, d[2], r[2], d[0], d[1], r[0], r[1], ratio(d[0], r[0]),
                          ratio(d[1], r[1])))
        out.append("| SELECT INBOX (builds the index) | | %.3f | %.3f | %s |"
                   % (dov50["select"], ros50["select"], ratio(dov50["select"], ros50["select"])))
        out.append("")
    text = "\n".join(out) + "\n"
    print(text)
    pathlib.Path(a.results).write_text(text)


if __name__ == "__main__":
    main()
