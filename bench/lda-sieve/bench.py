#!/usr/bin/python3
"""Delivery benchmark: roost-lda against Debian's dovecot-lda with Pigeonhole,
the same 50-rule user script, the same global sieve_before script and the
same messages, on this machine, in one run.

Both agents run as the MTA runs them in the seed's setup: one process per
message, as vmail, `-d USER -f SENDER` with the userdb lookup answered by
their own running daemon (roost's auth, Dovecot's auth), message on stdin.
Each delivery's peak RSS comes from GNU time (%M), its CPU time from
wait4() on GNU time (which includes the agent it reaped); deliveries per second is the
count over the wall time of the whole batch (so it includes the
fork/exec of the agent, its configuration, the userdb lookup, compiling
the scripts, running them and storing the message). After each run the
folders of every user are compared between the two servers: both must
have filed every message the same way, or the run does not count.

usage (as root, after make release):
  bench/lda-sieve/bench.py [--n 2000] [--runs 3] [--parallel 1,4] [--keep]
"""
import argparse
import os
import pathlib
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time

TOP = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests" / "integration"))

import conftest  # noqa: E402  (the integration tests' server runner)

DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"
TIME = "/usr/bin/time"
USERS = ["user%02d@example.com" % i for i in range(20)]
PASSWORD = "benchpass"


def log(msg):
    print("%s [bench.py] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# ---- scripts and messages ----

LISTS = ["debian-devel", "postfix-users", "dovecot", "lkml", "rust-users", "python-dev",
         "openbsd-tech", "nginx", "sqlite-users", "git"]
SENDERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
           "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent",
           "victor", "walter", "boss"]
DOMAINS = ["example.org", "example.net", "corp.example.com", "bank.example", "shop.example",
           "news.example", "social.example"]


def user_script():
    """50 rules of the kinds people write: lists by List-Id, senders and
    domains into folders, subjects, sizes, flags, a regex or two, body words,
    variables; the last rules only flag, so later rules still run."""
    rules = []
    for name in LISTS:  # 10
        rules.append('if header :contains "List-Id" "%s" { fileinto "Lists.%s"; stop; }'
                     % (name, name))
    for name in SENDERS[:10]:  # 10
        rules.append('if address :is :localpart "from" "%s" { addflag "$From_%s"; }'
                     % (name, name))
    for dom in DOMAINS:  # 7
        rules.append('if address :domain :is "from" "%s" { fileinto "Domains.%s"; }'
                     % (dom, dom.split(".")[0]))
    rules += [  # 23 more
        'if header :matches "subject" "*[URGENT]*" { addflag "\\\\Flagged"; }',
        'if header :contains "subject" ["invoice", "receipt", "payment"] '
        '{ fileinto "Finance"; }',
        'if header :regex "subject" "^(Re|Fwd?): .*meeting" { fileinto "Meetings"; }',
        'if header :regex "x-mailer" "outlook|thunderbird" { addflag "$Desktop"; }',
        'if size :over 100K { addflag "$Big"; }',
        'if size :under 2K { addflag "$Small"; }',
        'if exists "x-spam-score" { addflag "$Scored"; }',
        'if header :value "ge" :comparator "i;ascii-numeric" "x-priority" "4" '
        '{ addflag "$LowPrio"; }',
        'if envelope :domain :is "from" "bank.example" { addflag "$Bank"; }',
        'if allof (address :is "to" "boss@corp.example.com", '
        'header :contains "subject" "report") { fileinto "Reports"; }',
        'if anyof (header :contains "subject" "newsletter", '
        'exists "list-unsubscribe") { fileinto "Newsletters"; }',
        'if body :contains "unsubscribe here" { addflag "$Marketing"; }',
        'if header :matches "from" "*@social.example*" { fileinto "Social"; stop; }',
        'if not exists "message-id" { addflag "$NoMsgId"; }',
        'if header :contains "content-type" "multipart/mixed" { addflag "$Attachment"; }',
        'if header :matches "subject" "*" { set "subject" "${1}"; }',
        'if string :matches "${subject}" "*party*" { fileinto "Fun"; }',
        'if address :all :contains ["to", "cc"] "team@" { addflag "$Team"; }',
        'if header :contains "received" "suspicious.example" { addflag "$Suspicious"; }',
        'if header :is "x-github-reason" ["mention", "review_requested"] '
        '{ fileinto "GitHub"; }',
        'if header :contains "subject" "[SECURITY]" { addflag "\\\\Flagged"; keep; }',
        'if address :localpart :matches "from" "noreply*" { addflag "$Robot"; }',
        'if header :contains "auto-submitted" "auto-" { addflag "$Auto"; }',
    ]
    assert len(rules) == 50, len(rules)
    head = ('require ["fileinto", "imap4flags", "envelope", "body", "regex", "variables",\n'
            '         "relational", "comparator-i;ascii-numeric"];\n')
    return head + "\n".join(rules) + "\n"


GLOBAL_BEFORE = ('require ["fileinto", "imap4flags"];\n'
                 '# Server-wide: spam into Junk for every user.\n'
                 'if header :is "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }\n'
                 'if header :contains "X-Spam-Level" "*****" { addflag "$MaybeSpam"; }\n')

WORDS = ("the quick brown fox jumps over lazy dog mail server delivery filter rules "
         "meeting report invoice party newsletter project review release build test "
         "storage index folder message header body sieve script").split()


def message(i, rnd):
    """One message, CRLF, 1 to 40 KB; about one in ten is spam."""
    sender = rnd.choice(SENDERS + ["noreply-bot", "news"])
    dom = rnd.choice(DOMAINS)
    subject_words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 8)))
    prefix = rnd.choice(["", "", "", "Re: ", "Fwd: ", "[URGENT] ", "[SECURITY] "])
    headers = [
        "Return-Path: <%s@%s>" % (sender, dom),
        "Received: from mx.%s (mx.%s [192.0.2.%d]) by mail.example.com with ESMTPS; "
        "Tue, 14 Nov 2023 22:13:20 +0000" % (dom, dom, i % 250 + 1),
        "Received: from %s.example by mx.%s; Tue, 14 Nov 2023 22:13:19 +0000"
        % (rnd.choice(["client", "suspicious", "relay"]), dom),
        "From: %s <%s@%s>" % (sender.title(), sender, dom),
        "To: %s" % rnd.choice(["jdoe@example.com", "team@example.com",
                               "boss@corp.example.com"]),
        "Subject: %s%s" % (prefix, subject_words),
        "Date: Tue, 14 Nov 2023 22:13:%02d +0000" % (i % 60),
        "Message-ID: <bench.%d@%s>" % (i, dom),
    ]
    if i % 7 == 0:
        headers.append("List-Id: <%s.lists.example.org>" % rnd.choice(LISTS))
        headers.append("List-Unsubscribe: <mailto:leave@lists.example.org>")
    if i % 10 == 3:
        headers.append("X-Spam-Flag: YES")
        headers.append("X-Spam-Level: ********")
    else:
        headers.append("X-Spam-Level: " + "*" * (i % 4))
        headers.append("X-Spam-Score: %d.%d" % (i % 4, i % 10))
    if i % 5 == 0:
        headers.append("X-Mailer: %s" % rnd.choice(["Thunderbird 115", "Outlook 16",
                                                     "mutt 2.2"]))
    if i % 11 == 0:
        headers.append("X-Priority: %d" % (i % 5 + 1))
    nlines = rnd.randint(10, 500)
    text = "\n".join(" ".join(rnd.choice(WORDS) for _ in range(12)) for _ in range(nlines))
    if i % 13 == 0:
        text += "\nTo stop these mails, unsubscribe here.\n"
    if i % 6 == 0:
        headers.append("MIME-Version: 1.0")
        headers.append('Content-Type: multipart/mixed; boundary="b%d"' % i)
        blob = "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                       for _ in range(76 * rnd.randint(5, 60)))
        blob = "\n".join(blob[k:k + 76] for k in range(0, len(blob), 76))
        body = ("--b%d\nContent-Type: text/plain; charset=utf-8\n\n%s\n"
                "--b%d\nContent-Type: application/octet-stream\n"
                "Content-Transfer-Encoding: base64\n\n%s\n--b%d--\n" % (i, text, i, blob, i))
    else:
        headers.append("Content-Type: text/plain; charset=utf-8")
        body = text + "\n"
    raw = "\n".join(headers) + "\n\n" + body
    return ("%s@%s" % (sender, dom), raw.replace("\n", "\r\n").encode())


# ---- the two servers ----

def write_users(path, homes, uid, gid, group):
    path.write_text("".join("%s:{PLAIN}%s:%d:%d::%s::\n" % (u, PASSWORD, uid, gid, homes[u])
                            for u in USERS))
    shutil.chown(path, group=group)
    os.chmod(path, 0o640)


def make_homes(root, uid, gid, script):
    homes = {}
    for u in USERS:
        h = root / u
        if h.exists():
            shutil.rmtree(h)
        h.mkdir(parents=True)
        (h / ".dovecot.sieve").write_text(script)
        for p in (h, h / ".dovecot.sieve"):
            os.chown(p, uid, gid)
        homes[u] = h
    return homes


# Set by --mail-fsync for both servers; empty keeps each one's default.
EXTRA = ""

SIEVE_PLUGIN = ("plugin {\n  sieve = ~/.dovecot.sieve\n  sieve_before = %s\n}\n"
                "lda_mailbox_autocreate = yes\n")


class RoostSide:
    name = "roost"

    def __init__(self, root, build, before):
        self.server = conftest.Roost(root / "roost", build=build)
        self.server.base_dir.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.server.tmp, 0o755)
        self.build = pathlib.Path(build)
        self.before = before
        self.homes_root = root / "roost-homes"
        self.log = self.server.tmp / "lda.log"

    def start(self, uid, gid, script):
        self.homes = make_homes(self.homes_root, uid, gid, script)
        users = self.server.tmp / "users"
        write_users(users, self.homes, uid, gid, "roost")
        self.log.touch()
        os.chown(self.log, uid, gid)
        self.server.expected_services = ["roost-policy", "roost-auth", "roost-login"]
        self.server.start("first_valid_uid = 100\nmail_gid = vmail\nmail_location = maildir:~/Maildir\n"
                          "passdb {\n  driver = passwd-file\n  args = %s\n}\n"
                          "userdb {\n  driver = passwd-file\n  args = %s\n}\n"
                          "protocol lda {\n  log_path = %s\n}\n" % (users, users, self.log)
                          + SIEVE_PLUGIN % self.before + EXTRA)
        os.chmod(self.server.config_path, 0o644)

    def argv(self, user, sender):
        return [str(self.build / "libexec" / "roost" / "roost-lda"), "-c",
                str(self.server.config_path), "-d", user, "-f", sender]

    def stop(self):
        self.server.stop()


DOVECOT_CONF = """\
protocols =
base_dir = {root}/run
state_dir = {root}/state
instance_name = dovecot-lda-bench
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
first_valid_uid = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
# dovecot-lda runs as vmail and reports to stats-writer (Debian's default
# mode would refuse it and log an error at every delivery).
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol lda {{
  mail_plugins = $mail_plugins sieve
  log_path = {root}/lda.log
  info_log_path = {root}/lda.log
}}
"""


class DovecotSide:
    name = "dovecot"

    def __init__(self, root, before):
        self.root = root / "dovecot"
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        self.before = before
        self.homes_root = root / "dovecot-homes"
        self.conf = self.root / "dovecot.conf"

    def start(self, uid, gid, script):
        self.homes = make_homes(self.homes_root, uid, gid, script)
        write_users(self.root / "users", self.homes, uid, gid, "dovecot")
        self.conf.write_text(DOVECOT_CONF.format(root=self.root) + SIEVE_PLUGIN % self.before
                             + EXTRA)
        os.chmod(self.conf, 0o644)
        log_file = self.root / "lda.log"
        log_file.touch()
        os.chown(log_file, uid, gid)
        # Pigeonhole cannot save the binary of a global script as vmail: an
        # administrator precompiles it, as its error message says.
        subprocess.run(["sievec", "-c", str(self.conf), str(self.before)], check=True)
        subprocess.run(["dovecot", "-c", str(self.conf)], check=True)
        conftest.wait_for(lambda: (self.root / "run" / "auth-userdb").exists(),
                          what="dovecot's auth-userdb socket")

    def argv(self, user, sender):
        return [DOVECOT_LDA, "-c", str(self.conf), "-d", user, "-f", sender]

    def stop(self):
        subprocess.run(["doveadm", "-c", str(self.conf), "stop"], capture_output=True)


# ---- measuring ----

def deliver_batch(side, batch, uid, gid, parallel):
    """Delivers every (user, sender, message) with up to parallel agents at
    once; returns (seconds, [peak RSS KiB of each delivery], [CPU ms of
    each])."""
    rss, cpu = [], []
    running = {}
    todo = list(batch)
    failures = []
    t0 = time.monotonic()
    while todo or running:
        while todo and len(running) < parallel:
            user, sender, msg = todo.pop(0)
            # GNU time forks the agent from a small process and reports its
            # peak RSS; wait4() on a child forked from Python itself would
            # count Python's pages (the high-water mark survives exec).
            p = subprocess.Popen([TIME, "-f", "ROOST-BENCH-RSS %M"] + side.argv(user, sender),
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 user=uid, group=gid, extra_groups=[])
            try:
                p.stdin.write(msg)
                p.stdin.close()
            except BrokenPipeError:
                pass  # it failed early: its exit code says why
            running[p.pid] = p
        # wait4 on GNU time: its rusage includes the agent it reaped, so the
        # CPU time is the agent's (time itself adds well under 1 ms).
        pid, status, ru = os.wait4(-1, 0)
        p = running.pop(pid, None)
        if p is None:
            continue
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        if p.returncode != 0:
            failures.append((p.returncode, err))
            continue
        rss.append(int(err.rsplit("ROOST-BENCH-RSS ", 1)[1].split()[0]))
        cpu.append((ru.ru_utime + ru.ru_stime) * 1000)
    seconds = time.monotonic() - t0
    if failures:
        raise SystemExit("%s: %d deliveries failed, first: %r" % (side.name, len(failures),
                                                                  failures[0]))
    return seconds, rss, cpu


def folder_counts(homes):
    """{user: {folder: count}} of what the run stored, Maildir++ names."""
    out = {}
    for u, h in homes.items():
        counts = {}
        md = h / "Maildir"
        for d in [md] + sorted(p for p in md.glob(".*") if p.is_dir()):
            name = "INBOX" if d == md else d.name[1:]
            n = sum(1 for sub in ("new", "cur") if (d / sub).is_dir()
                    for _ in (d / sub).iterdir())
            if n:
                counts[name.replace("/", ".")] = n
        out[u] = counts
    return out


def main():
    # SIGTERM stops the run like ^C: both servers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit("terminated"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="messages per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--parallel", default="1,4", help="agents at once, comma-separated")
    ap.add_argument("--root", default="/tmp/roost-bench-lda")
    ap.add_argument("--build", default=str(TOP / "build" / "release"))
    ap.add_argument("--results", default=str(pathlib.Path(__file__).parent / "RESULTS.md"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--note", help="a paragraph for the top of the results")
    ap.add_argument("--mail-fsync", help="mail_fsync for both (default: each one's own)")
    args = ap.parse_args()
    global EXTRA
    if args.mail_fsync:
        EXTRA = "mail_fsync = %s\n" % args.mail_fsync

    root = pathlib.Path(args.root)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    os.chmod(root, 0o755)
    uid, gid = conftest.mail_user()
    script = user_script()
    before = root / "before.sieve"
    before.write_text(GLOBAL_BEFORE)
    os.chmod(before, 0o644)
    (root / "user.sieve").write_text(script)
    rnd = random.Random(20231114)
    msgs = [message(i, rnd) for i in range(args.n)]
    batch = [(USERS[i % len(USERS)], s, m) for i, (s, m) in enumerate(msgs)]
    log("%d messages, %.1f MB, %d users" % (len(batch), sum(len(m) for _, _, m in batch) / 1e6,
                                           len(USERS)))

    sides = [RoostSide(root, args.build, before), DovecotSide(root, before)]
    par = [int(x) for x in args.parallel.split(",")]
    results = {(s.name, p): [] for s in sides for p in par}
    rss_all = {s.name: [] for s in sides}
    cpu_all = {s.name: [] for s in sides}
    try:
        for s in sides:
            s.start(uid, gid, script)
        for run in range(args.runs):
            for p in par:
                counts = {}
                for s in sides:  # alternate, so drift hits both
                    s.homes = make_homes(s.homes_root, uid, gid, script)
                    secs, rss, cpu = deliver_batch(s, batch, uid, gid, p)
                    results[(s.name, p)].append(len(batch) / secs)
                    rss_all[s.name] += rss
                    cpu_all[s.name] += cpu
                    counts[s.name] = folder_counts(s.homes)
                    log("run %d, %d at once: %s %.1f deliveries/s, CPU %.2f ms/delivery, "
                        "peak RSS median %d KiB" % (run + 1, p, s.name, len(batch) / secs,
                                                    statistics.mean(cpu),
                                                    statistics.median(rss)))
                if counts["roost"] != counts["dovecot"]:
                    for u in USERS:
                        if counts["roost"][u] != counts["dovecot"][u]:
                            log("%s: roost %s dovecot %s" % (u, counts["roost"][u],
                                                             counts["dovecot"][u]))
                    raise SystemExit("the two servers filed the messages differently")
        sample = {}
        for u in USERS:
            for k, v in counts["roost"][u].items():
                sample[k] = sample.get(k, 0) + v
    finally:
        for s in sides:
            s.stop()
    write_results(args, results, rss_all, cpu_all, par, len(batch), sample)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


def write_results(args, results, rss_all, cpu_all, par, n, sample):
    version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "dovecot-sieve"],
                             capture_output=True, text=True).stdout.strip()
    lines = ["# roost-lda against dovecot-lda (Pigeonhole): deliveries with Sieve", "",
             "Written by `bench/lda-sieve/run.sh` on %s (%d CPUs, dovecot-sieve %s)." % (
                 time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), version),
             "",
             "%d messages (1-40 KB, a sixth multipart with an attachment, a tenth spam) "
             "to 20 users, one agent process per message as Postfix's pipe runs it "
             "(`-d USER -f SENDER`, userdb from the running daemon), a 50-rule "
             "`~/.dovecot.sieve` per user and a global `sieve_before` script; "
             "%d runs, each server in turn. Both stored every message in the same "
             "folders (checked after every run)." % (n, args.runs), "",
             "| agents at once | roost-lda deliveries/s | dovecot-lda deliveries/s | ratio |",
             "|---|---|---|---|"]
    for p in par:
        r = statistics.median(results[("roost", p)])
        d = statistics.median(results[("dovecot", p)])
        lines.append("| %d | %.1f | %.1f | %.2fx |" % (p, r, d, r / d))
    rc, dc = cpu_all["roost"], cpu_all["dovecot"]
    lines += ["", "| CPU per delivery (ms, user+system of the agent) | roost-lda | dovecot-lda "
              "| ratio |", "|---|---|---|---|",
              "| mean | %.2f | %.2f | %.2f |" % (statistics.mean(rc), statistics.mean(dc),
                                                statistics.mean(rc) / statistics.mean(dc)),
              "| median | %.2f | %.2f | %.2f |" % (statistics.median(rc), statistics.median(dc),
                                                  statistics.median(rc)
                                                  / statistics.median(dc))]
    rr, dr = rss_all["roost"], rss_all["dovecot"]
    lines += ["", "| peak RSS per delivery (KiB) | roost-lda | dovecot-lda | ratio |",
              "|---|---|---|---|",
              "| median | %d | %d | %.2f |" % (statistics.median(rr), statistics.median(dr),
                                               statistics.median(rr) / statistics.median(dr)),
              "| max | %d | %d | %.2f |" % (max(rr), max(dr), max(rr) / max(dr)),
              "", "Every run's figures (deliveries/s):", ""]
    for (name, p), vals in sorted(results.items()):
        lines.append("- %s, %d at once: %s" % (name, p, ", ".join("%.1f" % v for v in vals)))
    lines += ["", "Ratio of each run (roost over Dovecot, the two measured one after the "
              "other): %s." % "; ".join(
                  "%d at once: %s" % (p, ", ".join(
                      "%.2fx" % (r / d) for r, d in zip(results[("roost", p)],
                                                        results[("dovecot", p)])))
                  for p in par)]
    lines += ["", "Where the %d messages of the last run were stored (%d copies, fileinto "
              "and keep): %s." % (n, sum(sample.values()),
                                  ", ".join("%s %d" % kv for kv in sorted(sample.items()))), ""]
    if args.note:
        lines[2:2] = [args.note, ""]
    pathlib.Path(args.results).write_text("\n".join(lines))
    log("wrote " + args.results)


if __name__ == "__main__":
    main()
