"""Shared fixtures for roost's integration tests.

Every test starts the real `roost` master (as root, from the build named by
$ROOST_BUILD) in a private temporary directory with its own base_dir, log
file and high 127.0.0.1 ports, and talks to it with real clients. Nothing of
roost is mocked.
"""
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import imaplib
import poplib
import ssl
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("ROOST_BUILD", ROOT / "build" / "test"))
RELEASE_BUILD = pathlib.Path(os.environ.get("ROOST_RELEASE_BUILD", ROOT / "build" / "release"))
ASAN = os.environ.get("ROOST_ASAN") == "1"


def need_root():
    if os.geteuid() != 0:
        pytest.skip("integration tests start roost as root")


_next_port = [20000 + (os.getpid() * 7919) % 10000]


def free_port():
    """A TCP port on 127.0.0.1 that nothing uses right now, below the
    kernel's ephemeral range (32768 and up) so that no client connection of
    the tests can hold it by the time a server binds it, and never the same
    twice in one run."""
    while True:
        port = _next_port[0]
        _next_port[0] = 20000 + (port - 20000 + 1) % 10000
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


def proc_status(pid):
    """Fields of /proc/PID/status as a dict of strings."""
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def exited(pid):
    """Whether the process is gone or a zombie (it may vanish while we look)."""
    try:
        return proc_status(pid).get("State", "Z").startswith("Z")
    except (FileNotFoundError, ProcessLookupError):
        return True


def pids_of(name, parent=None):
    """Pids whose command name (comm) is name, optionally children of parent."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % entry) as f:
                comm = f.read().strip()
            if comm != name[:15]:
                continue
            if parent is not None and int(proc_status(int(entry))["PPid"]) != parent:
                continue
            found.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, KeyError):
            continue
    return sorted(found)


class Roost:
    """A running roost master in a temporary directory."""

    def __init__(self, tmp, build=BUILD):
        self.tmp = pathlib.Path(tmp)
        self.build = pathlib.Path(build)
        self.base_dir = self.tmp / "run"
        self.log_path = self.tmp / "roost.log"
        self.config_path = self.tmp / "roost.conf"
        self.defaults_path = self.tmp / "default-roost"
        self.proc = None
        self.ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
        self.expected_services = ["roost-policy"]

    @property
    def roost(self):
        return str(self.build / "sbin" / "roost")

    @property
    def roostadm(self):
        return str(self.build / "bin" / "roostadm")

    def write_config(self, extra=""):
        """The base configuration: private directories, 127.0.0.1 high ports,
        no TLS; extra (later settings win) adds what a test needs."""
        self.config_path.write_text(
            "base_dir = %s\n"
            "state_dir = %s/state\n"
            "log_path = %s\n"
            "instance_name = roost-test\n"
            "listen = 127.0.0.1\n"
            "ssl = no\n"
            "service imap-login {\n"
            "  inet_listener imap {\n    port = %d\n  }\n"
            "  inet_listener imaps {\n    port = 0\n  }\n"
            "}\n"
            "service pop3-login {\n"
            "  inet_listener pop3 {\n    port = %d\n  }\n"
            "  inet_listener pop3s {\n    port = 0\n  }\n"
            "}\n"
            "%s\n" % (self.base_dir, self.tmp, self.log_path, self.ports["imap"],
                       self.ports["pop3"], extra))

    def start(self, extra_config="", defaults="ulimit -n 4096\n", wait_ready=True, env=None):
        self.write_config(extra_config)
        self.defaults_path.write_text(defaults)
        self.proc = subprocess.Popen(
            [self.roost, "-F", "-c", str(self.config_path), "--defaults", str(self.defaults_path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=None if env is None else dict(os.environ, **env))
        if wait_ready:
            wait_for(lambda: self.master_pid_ready(), what="roost to start: " + self.log())
        return self

    def master_pid_ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("roost exited with %s: %s %s" % (
                self.proc.returncode, self.proc.stdout.read().decode(), self.log()))
        if not (self.base_dir / "admin").exists():
            return False
        return all(self.confined(name) for name in self.expected_services)

    def confined(self, name):
        """A process of that name runs and has entered its sandbox: it has
        loaded its own seccomp filter, the last step, on top of the one it
        inherited from master (NoNewPrivs is inherited too, so it tells
        nothing)."""
        try:
            inherited = int(proc_status(self.proc.pid).get("Seccomp_filters", "0"))
        except FileNotFoundError:
            return None
        for pid in self.children(name):
            try:
                if int(proc_status(pid).get("Seccomp_filters", "0")) > inherited:
                    return pid
            except FileNotFoundError:
                continue
        return None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0):
        """Waits until the log matches the regular expression; returns the match."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log()), timeout=timeout,
                        what="log line /%s/ in:\n%s" % (pattern, self.log()[-3000:]))

    def adm(self, *args, check=True):
        r = subprocess.run([self.roostadm, "-c", str(self.config_path)] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError("roostadm %s failed (%d): %s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def children(self, name):
        return pids_of(name, self.proc.pid)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert "Panic" not in self.log(), self.log()
        if ASAN:
            assert "ERROR: AddressSanitizer" not in self.log(), self.log()
            assert "runtime error:" not in self.log(), self.log()


@pytest.fixture
def work_dir():
    """A private directory every roost process may traverse (mode 0755).

    pytest's own tmp_path sits below a 0700 directory, which the unprivileged
    processes (mail users, nobody) could not reach.
    """
    path = tempfile.mkdtemp(prefix="roost-it-", dir="/tmp")
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def roost(work_dir):
    need_root()
    server = Roost(work_dir)
    yield server
    server.stop()


class SyslogCapture:
    """Receives what roost sends to /dev/log, as rsyslog would.

    Only usable when no system syslog owns /dev/log (as in CI); the socket is
    removed again on exit."""

    def __init__(self):
        import threading
        if os.path.exists("/dev/log"):
            pytest.skip("a system syslog owns /dev/log")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        self.sock.settimeout(0.2)
        self.lines = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                self.lines.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                continue
            except OSError:
                return

    def as_syslog_file(self, path, hostname="mailhost"):
        """Writes the lines as rsyslog stores them: "DATE HOST TAG: MSG"."""
        out = []
        for line in self.lines:
            m = re.match(r"<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)$", line)
            if m:
                out.append("%s %s %s" % (m.group(1), hostname, m.group(2)))
        pathlib.Path(path).write_text("\n".join(out) + "\n")

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()
        os.unlink("/dev/log")


@pytest.fixture
def syslog_capture():
    need_root()
    capture = SyslogCapture()
    yield capture
    capture.close()


# ---- A server with auth, login and mail processes, and clients for it ----

PASSWORD = "s3cret pass"


def tls_client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate and key, made once per test run."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", str(d / "ssl.key"),
                    "-out", str(d / "ssl.crt")], check=True, capture_output=True)
    return d / "ssl.crt", d / "ssl.key"


def mail_user():
    """The uid/gid of vmail, the mail user of the tests (created if missing)."""
    if subprocess.run(["id", "vmail"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "vmail"], check=True)
    import pwd
    pw = pwd.getpwnam("vmail")
    return pw.pw_uid, pw.pw_gid


@pytest.fixture
def server(roost, certificate):
    """roost with auth, login (plain and TLS listeners) and mail processes."""
    uid, gid = mail_user()
    users = roost.tmp / "users"
    homes = roost.tmp / "home"
    homes.mkdir()
    lines = []
    for name in ("jdoe@example.com", "other@example.com"):
        home = homes / name
        home.mkdir()
        os.chown(home, uid, gid)
        lines.append("%s:{PLAIN}%s:%d:%d::%s::" % (name, PASSWORD, uid, gid, home))
    lines.append("locked@example.com:{PLAIN}%s:%d:%d::%s::nologin reason=Locked"
                 % (PASSWORD, uid, gid, homes))
    users.write_text("\n".join(lines) + "\n")
    shutil.chown(users, group="roost")
    os.chmod(users, 0o640)
    crt, key = certificate
    roost.extra = (
        "ssl = yes\nssl_cert = <%s\nssl_key = <%s\n"
        "auth_mechanisms = plain login\n"
        "auth_failure_delay = 300 ms\n"
        "auth_verbose = yes\n"
        "first_valid_uid = 100\n"
        "mail_location = maildir:~/Maildir\n"
        "passdb {\n  driver = passwd-file\n  args = %s\n}\n"
        "userdb {\n  driver = passwd-file\n  args = %s\n}\n"
        "service imap-login {\n  inet_listener imaps {\n    port = %d\n    ssl = yes\n  }\n}\n"
        "service pop3-login {\n  inet_listener pop3s {\n    port = %d\n    ssl = yes\n  }\n}\n"
        % (crt, key, users, users, roost.ports["imaps"], roost.ports["pop3s"]))
    roost.expected_services = ["roost-policy", "roost-auth", "roost-login"]
    return roost


def start(server, extra=""):
    server.start(server.extra + extra)
    return server


CLIENT_TIMEOUT = 20


def imap(server):
    return imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=CLIENT_TIMEOUT)


def imaps(server):
    return imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"],
                             ssl_context=tls_client_context(), timeout=CLIENT_TIMEOUT)


def pop3(server):
    return poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=CLIENT_TIMEOUT)


def connect(server, name, source=None):
    """A raw socket to a listener, with a timeout, and a file on it."""
    s = socket.socket()
    s.settimeout(CLIENT_TIMEOUT)
    if source is not None:
        s.bind((source, 0))
    s.connect(("127.0.0.1", server.ports[name]))
    return s, s.makefile("rwb")


