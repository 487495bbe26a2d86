#!/usr/bin/python3
"""Mixed-session IMAP load for issue 5's benchmark (5), in the spirit of
imaptest's stress mode: many clients at once on one shared INBOX, each
looping over SELECT, FETCH 1:* (FLAGS), FETCH of a random message body,
STORE +FLAGS/-FLAGS, APPEND (synchronizing literal), UID STORE \\Deleted +
UID EXPUNGE of the messages it appended itself, a short IDLE, and now and
then LOGOUT and a fresh LOGIN.

One process, one thread: a selectors (epoll) loop over raw sockets, each
client a generator that yields its next command. Counts tagged OKs per
command in the measuring window, every error (tagged NO/BAD, unexpected
disconnect or BYE, timeout, a broken response) with the first texts, and
optionally samples the server's memory (PSS from /proc/PID/smaps_rollup of
the session processes, and of the whole process tree) and CPU time (of the
tree, reaped children included) while the load runs. A bench tool, run by
hand against local test servers; it trusts the servers no further than
counting what they send.

Messages 1..--stable of the INBOX are never expunged (clients only expunge
what they appended, which sits after them), so their sequence numbers stay
valid for random FETCH and STORE in every session.

With --folders K, client i works on folder Load(i mod K) instead (each
holding at least --stable messages), so sessions share nothing but the
servers.

usage: mixed.py HOST PORT USER PASS [--clients 50] [--duration 30]
                [--warmup 3] [--stable 2000] [--append-file F] [--folders K]
                [--master-pid PID --session-comm NAME] [--label NAME]
Prints a human summary on stderr and one JSON object on stdout.
"""
import argparse
import heapq
import json
import os
import random
import re
import resource
import selectors
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import proctree  # noqa: E402

LIT_RE = re.compile(rb"\{(\d+)\+?\}$")
APPENDUID_RE = re.compile(rb"\[APPENDUID \d+ (\d+)\]")
EXISTS_RE = re.compile(rb"^\* (\d+) EXISTS")
TIMEOUT = 15.0  # --timeout
MAX_ERROR_TEXTS = 16
TEXTS_PER_KIND = 4


class Cmd:
    """One command: its stats name, its parts (the first is the command
    line without tag; each further part follows a "+" continuation, the
    previous part ending in a synchronizing literal), whether the caller
    wants the untagged lines, and for IDLE how long to idle."""
    __slots__ = ("name", "parts", "collect", "idle")

    def __init__(self, name, parts, collect=False, idle=0.0):
        self.name = name
        self.parts = parts if isinstance(parts, list) else [parts]
        self.collect = collect
        self.idle = idle


class Result:
    __slots__ = ("status", "tagged", "untagged")

    def __init__(self, status, tagged, untagged):
        self.status = status
        self.tagged = tagged
        self.untagged = untagged


def script(rng, args, message):
    """One client's life between a connect and a LOGOUT: yields Cmds,
    receives Results. Returns after LOGOUT (the loop reconnects)."""
    r = yield Cmd("LOGIN", "LOGIN %s %s" % (args.user, args.password))
    if r.status != b"OK":
        return
    box = args.box
    pending = []
    loops = 0
    while True:
        yield Cmd("SELECT", "SELECT " + box)
        yield Cmd("FETCH 1:* (FLAGS)", "FETCH 1:* (FLAGS)")
        for _ in range(2):
            yield Cmd("FETCH n (BODY.PEEK[])",
                      "FETCH %d (BODY.PEEK[])" % rng.randint(1, args.stable))
        yield Cmd("STORE +FLAGS", "STORE %d +FLAGS (\\Flagged)" % rng.randint(1, args.stable))
        yield Cmd("STORE -FLAGS", "STORE %d -FLAGS (\\Flagged)" % rng.randint(1, args.stable))
        r = yield Cmd("APPEND", ["APPEND %s (\\Seen) {%d}" % (box, len(message)), message])
        m = APPENDUID_RE.search(r.tagged)
        if m:
            pending.append(m.group(1).decode())
        loops += 1
        last = rng.random() < args.relogin
        if len(pending) >= 2 or (last and pending):
            uids = ",".join(pending)
            pending = []
            yield Cmd("UID STORE +FLAGS (\\Deleted)",
                      "UID STORE %s +FLAGS.SILENT (\\Deleted)" % uids)
            yield Cmd("UID EXPUNGE", "UID EXPUNGE %s" % uids)
        yield Cmd("IDLE", "IDLE", idle=args.idle_ms / 1000.0)
        if last:
            yield Cmd("LOGOUT", "LOGOUT")
            return


class Stats:
    def __init__(self):
        self.ok = {}
        self.lat = {}
        self.errors = {}
        self.error_texts = []
        self.texts_per_kind = {}
        self.warmup_ok = 0
        self.warmup_errors = 0
        self.t0 = time.monotonic()

    def error(self, kind, text, counting):
        """Counts an error; keeps the first texts of each kind, stamped with
        seconds since the load started."""
        if counting:
            self.errors[kind] = self.errors.get(kind, 0) + 1
        else:
            self.warmup_errors += 1
        seen = self.texts_per_kind.get(kind, 0)
        if seen < TEXTS_PER_KIND and len(self.error_texts) < MAX_ERROR_TEXTS:
            self.texts_per_kind[kind] = seen + 1
            self.error_texts.append("%.3f s %s: %s" % (time.monotonic() - self.t0, kind, text))


class Conn:
    """One client connection and its parsing state."""

    def __init__(self, loop, idx):
        self.loop = loop
        self.idx = idx
        self.rng = random.Random(loop.args.seed * 1000 + idx)
        # Its own copy of the options, with its mailbox.
        self.args = argparse.Namespace(**vars(loop.args))
        if loop.args.folders:
            self.args.box = "%s%d" % (loop.args.folder_prefix, idx % loop.args.folders)
        else:
            self.args.box = "INBOX"
        self.sock = None
        self.gen = None
        self.connect()

    def connect(self):
        args = self.loop.args
        self.sock = socket.create_connection((args.host, args.port), timeout=TIMEOUT)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.in_literal = 0       # bytes of a literal still to skip
        self.mid_line = False     # the next line continues a response
        self.line_head = b""      # first bytes of the logical line
        self.state = "greeting"   # greeting, command, logout
        self.cmd = None
        self.part = 0
        self.tag = b""
        self.ntag = 0
        self.untagged = []
        self.started = time.monotonic()
        self.deadline = self.started + self.loop.args.timeout
        self.bye = None
        self.gen = script(self.rng, self.args, self.loop.message)
        self.loop.sel.register(self.sock, selectors.EVENT_READ, self)
        self.writing = False

    def close(self):
        try:
            self.loop.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.sock.close()
        self.gen = None

    def fail(self, kind, text):
        """An error that ends the connection: count it, reconnect soon."""
        what = self.cmd.name if self.cmd else self.state
        self.loop.stats.error(kind, "client %d during %s: %s" % (self.idx, what, text),
                              self.loop.counting())
        self.close()
        self.loop.later(0.05, self.reconnect)

    def reconnect(self):
        if self.loop.stopping:
            return
        try:
            self.connect()
        except OSError as e:
            self.loop.stats.error("connect", "client %d: %s" % (self.idx, e),
                                  self.loop.counting())
            self.loop.later(0.5, self.reconnect)

    def send(self, data):
        self.wbuf += data
        self.flush()

    def flush(self):
        try:
            n = self.sock.send(self.wbuf)
        except BlockingIOError:
            n = 0
        except OSError as e:
            self.fail("disconnect", "send: %s" % e)
            return
        del self.wbuf[:n]
        want = bool(self.wbuf)
        if want != self.writing:
            self.writing = want
            ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
            self.loop.sel.modify(self.sock, ev, self)

    def next_command(self, result):
        if self.loop.stopping:
            # The window is over: leave between commands, so that neither
            # server logs a client vanishing in the middle of one.
            self.close()
            return
        try:
            cmd = self.gen.send(result) if result is not None else next(self.gen)
        except StopIteration:
            # LOGOUT done (or LOGIN refused): start over on a new connection.
            self.close()
            self.loop.later(0.0, self.reconnect)
            return
        self.cmd = cmd
        self.part = 0
        self.ntag += 1
        self.tag = b"x%d" % self.ntag
        self.untagged = []
        self.state = "logout" if cmd.name == "LOGOUT" else "command"
        self.started = time.monotonic()
        self.deadline = self.started + self.loop.args.timeout + cmd.idle
        self.send(self.tag + b" " + cmd.parts[0].encode() + b"\r\n")

    def readable(self):
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError as e:
            data = None
            err = str(e)
        if not data:
            if self.state == "logout":
                self.close()
                self.loop.later(0.0, self.reconnect)
            else:
                self.fail("disconnect", self.bye.decode("ascii", "replace") if self.bye
                          else ("connection closed" if data is not None else err))
            return
        self.rbuf += data
        self.parse()

    def parse(self):
        buf = self.rbuf
        pos = 0
        n = len(buf)
        while self.gen is not None:
            if self.in_literal:
                take = min(self.in_literal, n - pos)
                pos += take
                self.in_literal -= take
                if self.in_literal:
                    break
                continue
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if n - pos > 1 << 20:
                    self.fail("protocol", "line longer than 1 MB")
                    return
                break
            line = bytes(buf[pos:end])
            pos = end + 2
            if not self.mid_line:
                self.line_head = line[:200]
            m = LIT_RE.search(line) if line.endswith(b"}") else None
            if m:
                self.in_literal = int(m.group(1))
                self.mid_line = True
                continue
            self.mid_line = False
            self.on_line(self.line_head, line)
        del buf[:pos]

    def on_line(self, head, line):
        """A whole response (its literals skipped); head is its start."""
        if head.startswith(b"* "):
            if self.state == "greeting":
                if head.startswith(b"* OK"):
                    self.state = "command"
                    self.next_command(None)
                else:
                    self.fail("greeting", head.decode("ascii", "replace"))
                return
            if head.startswith(b"* BYE"):
                self.bye = head
            if self.cmd is not None and self.cmd.collect:
                self.untagged.append(head)
            return
        if head.startswith(b"+"):
            cmd = self.cmd
            if cmd is None:
                self.fail("protocol", "unexpected continuation: %r" % head)
            elif cmd.idle:
                self.loop.later(cmd.idle, self.idle_done, self.ntag)
            elif self.part + 1 < len(cmd.parts):
                self.part += 1
                self.send(cmd.parts[self.part] + b"\r\n")
            else:
                self.fail("protocol", "unexpected continuation: %r" % head)
            return
        if head.startswith(self.tag + b" "):
            rest = head[len(self.tag) + 1:]
            status = rest[:3].rstrip()
            cmd = self.cmd
            now = time.monotonic()
            counting = self.loop.counting(now)
            if status == b"OK":
                if counting:
                    st = self.loop.stats
                    st.ok[cmd.name] = st.ok.get(cmd.name, 0) + 1
                    st.lat.setdefault(cmd.name, []).append(now - self.started)
                else:
                    self.loop.stats.warmup_ok += 1
            else:
                self.loop.stats.error(
                    "tagged " + status.decode("ascii", "replace"),
                    "client %d: %s -> %s" % (self.idx, cmd.parts[0][:80],
                                             head.decode("ascii", "replace")[:300]),
                    counting)
            if self.state == "logout":
                return  # the server closes the connection next
            self.cmd = None
            self.next_command(Result(status, head, self.untagged))
            return
        self.fail("protocol", "unexpected line: %r" % head[:200])

    def idle_done(self, ntag):
        if self.gen is not None and self.ntag == ntag and self.cmd is not None:
            self.send(b"DONE\r\n")


def stall_info(sock):
    """What the server process at the other end of sock is doing: its pid,
    state, kernel wait channel and system call (from ss and /proc)."""
    try:
        port = sock.getsockname()[1]
        ss = subprocess.run(["ss", "-tnpH", "state", "established", "( dport = :%d )" % port],
                            capture_output=True, text=True, timeout=5).stdout
        m = re.search(r'pid=(\d+)', ss)
        if not m:
            return " (no server process found for local port %d)" % port
        pid = int(m.group(1))
        info = {}
        for f in ("comm", "wchan", "syscall"):
            try:
                with open("/proc/%d/%s" % (pid, f)) as fh:
                    info[f] = fh.read().strip()
            except OSError as e:
                info[f] = str(e)
        with open("/proc/%d/status" % pid) as fh:
            state = [l.split(None, 1)[1].strip() for l in fh if l.startswith("State:")]
        return (" (server pid %d %s, state %s, wchan %s, syscall %s)"
                % (pid, info["comm"], state[0] if state else "?", info["wchan"],
                   info["syscall"].split()[0] if info["syscall"] else "?"))
    except (OSError, subprocess.SubprocessError) as e:
        return " (no details: %s)" % e


def read_proc_tree(root):
    """PIDs of root and its descendants, with each one's comm."""
    return {pid: v[0] for pid, v in proctree.snapshot(root).items()}


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid):
    try:
        with open("/proc/%d/statm" % pid) as f:
            return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0


def tree_cpu(root):
    """CPU seconds of the tree: live processes plus children reaped by the
    root (cutime/cstime of the root)."""
    tree = proctree.snapshot(root)
    total = sum(own for _, own, _ in tree.values())
    if root in tree:
        total += tree[root][2]
    return total / proctree.TICK


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


class Loop:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.timers = []
        self.tseq = 0
        self.stats = Stats()
        self.stopping = False
        self.win_start = self.win_end = float("inf")
        with open(args.append_file, "rb") as f:
            self.message = f.read()
        self.mem = []

    def counting(self, now=None):
        now = time.monotonic() if now is None else now
        return self.win_start <= now < self.win_end

    def later(self, secs, fn, *a):
        self.tseq += 1
        heapq.heappush(self.timers, (time.monotonic() + secs, self.tseq, fn, a))

    def sample_memory(self):
        a = self.args
        if not a.master_pid:
            return
        tree = read_proc_tree(a.master_pid)
        sess = [p for p, c in tree.items() if c == a.session_comm]
        sample = {
            "t": round(time.monotonic() - self.win_start, 1),
            "sessions": len(sess),
            "session_pss_kb": sum(pss_kb(p) for p in sess),
            "session_rss_kb": sum(rss_kb(p) for p in sess),
            "tree_pss_kb": sum(pss_kb(p) for p in tree),
            "processes": len(tree),
        }
        self.mem.append(sample)

    def run(self):
        a = self.args
        t0 = time.monotonic()
        conns = []
        for i in range(a.clients):
            conns.append(Conn(self, i))
        self.win_start = t0 + a.warmup
        self.win_end = self.win_start + a.duration
        for frac in (0.25, 0.5, 0.75):
            self.later(a.warmup + a.duration * frac, self.sample_memory)
        cpu0 = busy0 = None
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        while True:
            now = time.monotonic()
            if cpu0 is None and now >= self.win_start:
                cpu0 = tree_cpu(a.master_pid) if a.master_pid else 0.0
                busy0 = machine_busy()
                ru0 = resource.getrusage(resource.RUSAGE_SELF)
            if now >= self.win_end:
                break
            while self.timers and self.timers[0][0] <= now:
                _, _, fn, fa = heapq.heappop(self.timers)
                fn(*fa)
            wait = 0.05
            if self.timers:
                wait = max(0.0, min(wait, self.timers[0][0] - now))
            for key, ev in self.sel.select(wait):
                c = key.data
                if ev & selectors.EVENT_WRITE and c.gen is not None:
                    c.flush()
                if ev & selectors.EVENT_READ and c.gen is not None:
                    c.readable()
            now = time.monotonic()
            for c in conns:
                if c.gen is not None and now > c.deadline:
                    c.fail("timeout", "no answer in %.0f s%s"
                           % (now - c.started, stall_info(c.sock)))
        cpu1 = tree_cpu(a.master_pid) if a.master_pid else 0.0
        busy1 = machine_busy()
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        # Let the commands under way finish (IDLEs get their DONE), then
        # close; whatever is still open after the grace time is closed.
        self.stopping = True
        grace = time.monotonic() + 5.0
        while any(c.gen is not None for c in conns) and time.monotonic() < grace:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn, fa = heapq.heappop(self.timers)
                fn(*fa)
            for key, ev in self.sel.select(0.05):
                c = key.data
                if ev & selectors.EVENT_WRITE and c.gen is not None:
                    c.flush()
                if ev & selectors.EVENT_READ and c.gen is not None:
                    c.readable()
        for c in conns:
            if c.gen is not None:
                c.close()
        st = self.stats
        total_ok = sum(st.ok.values())
        nerr = sum(st.errors.values())
        cmds = {}
        for name in sorted(st.ok):
            lat = sorted(st.lat[name])
            cmds[name] = {
                "ok": st.ok[name],
                "per_s": round(st.ok[name] / a.duration, 1),
                "median_ms": round(lat[len(lat) // 2] * 1000, 2),
                "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2),
                "max_ms": round(lat[-1] * 1000, 2),
            }
        client_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        mem = sorted(self.mem, key=lambda s: s["t"])
        out = {
            "label": a.label,
            "clients": a.clients,
            "duration": a.duration,
            "timeout": a.timeout,
            "ok": total_ok,
            "ok_per_s": round(total_ok / a.duration, 1),
            "errors": nerr,
            "error_kinds": st.errors,
            "warmup_ok": st.warmup_ok,
            "warmup_errors": st.warmup_errors,
            "error_texts": st.error_texts,
            "commands": cmds,
            "server_cpu_s": round(cpu1 - cpu0, 2) if a.master_pid else None,
            "client_cpu_s": round(client_cpu, 2),
            "machine_busy": round((busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]), 3),
            "memory": mem,
        }
        if mem:
            mid = mem[len(mem) // 2]
            out["session_pss_kb_per_session"] = round(mid["session_pss_kb"] / max(1, mid["sessions"]))
            out["session_rss_kb_per_session"] = round(mid["session_rss_kb"] / max(1, mid["sessions"]))
            out["tree_pss_kb_per_session"] = round(mid["tree_pss_kb"] / max(1, mid["sessions"]))
        return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("user")
    p.add_argument("password")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--stable", type=int, default=2000,
                   help="messages 1..N that are never expunged")
    p.add_argument("--append-file", required=True)
    p.add_argument("--relogin", type=float, default=0.1,
                   help="chance of LOGOUT + new LOGIN after each loop")
    p.add_argument("--idle-ms", type=float, default=100.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--folders", type=int, default=0,
                   help="client i uses folder PREFIX(i %% FOLDERS) instead of INBOX")
    p.add_argument("--folder-prefix", default="Load")
    p.add_argument("--timeout", type=float, default=TIMEOUT,
                   help="seconds without the tagged answer that count as an error")
    p.add_argument("--master-pid", type=int, default=0)
    p.add_argument("--session-comm", default="")
    p.add_argument("--label", default="server")
    args = p.parse_args()
    out = Loop(args).run()
    s = out
    print("%s: %d clients, %.0f s: %d tagged OK (%.1f/s), %d errors %s; "
          "server CPU %s s, client CPU %.1f s, machine busy %.0f %%"
          % (s["label"], s["clients"], s["duration"], s["ok"], s["ok_per_s"], s["errors"],
             s["error_kinds"] or "", s["server_cpu_s"], s["client_cpu_s"],
             s["machine_busy"] * 100), file=sys.stderr)
    for name, c in s["commands"].items():
        print("  %-30s %7d ok %8.1f/s  median %7.2f ms  p99 %8.2f ms  max %8.0f ms"
              % (name, c["ok"], c["per_s"], c["median_ms"], c["p99_ms"], c["max_ms"]),
              file=sys.stderr)
    for m in s["memory"]:
        print("  memory at %+.1f s: %d sessions, session PSS %d kB (%.0f kB each), "
              "RSS %d kB, whole tree PSS %d kB in %d processes"
              % (m["t"], m["sessions"], m["session_pss_kb"],
                 m["session_pss_kb"] / max(1, m["sessions"]), m["session_rss_kb"],
                 m["tree_pss_kb"], m["processes"]), file=sys.stderr)
    for t in s["error_texts"]:
        print("  error: " + t, file=sys.stderr)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
