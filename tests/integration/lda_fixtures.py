"""Fixtures for roost-lda's integration tests: a roost server whose auth
answers userdb lookups for a few virtual users (all under the vmail uid, as
the seed's setup has them), a way to run the built roost-lda as the MTA
would, and a real Postfix started privately on 127.0.0.1 (its own config,
queue and data directories, a high SMTP port, its log in a file) with the
seed's master.cf pipe line pointing at the built roost-lda."""
import os
import pathlib
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import time

import pytest

from conftest import BUILD, Roost, free_port, need_root, wait_for

PASSWORD = "s3cret"
USERS = ("jdoe@example.com", "other@example.com", "sender@example.com")


def vmail_ids():
    """uid and gid of vmail, the mail user of the tests (created if missing)."""
    if subprocess.run(["id", "vmail"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "vmail"], check=True)
    pw = pwd.getpwnam("vmail")
    return pw.pw_uid, pw.pw_gid


LDA = str(BUILD / "libexec" / "roost" / "roost-lda")


class MailSetup:
    """roost with auth's userdb for USERS, and roost-lda pointed at it."""

    def __init__(self, server):
        self.server = server
        self.tmp = server.tmp
        self.uid, self.gid = vmail_ids()
        self.users_file = self.tmp / "users"
        self.home_root = self.tmp / "home"
        self.lda_log = self.tmp / "lda.log"
        self.extra_users = {}
        self.lda_config = ""

    def home(self, user):
        return self.home_root / user

    def maildir(self, user, folder=""):
        base = self.home(user) / "Maildir"
        return base / ("." + folder) if folder else base

    def write_users(self):
        self.home_root.mkdir(exist_ok=True)
        lines = []
        for name in USERS:
            home = self.home(name)
            home.mkdir(exist_ok=True)
            os.chown(home, self.uid, self.gid)
            extra = self.extra_users.get(name, "")
            lines.append("%s:{PLAIN}%s:%d:%d::%s::%s" % (name, PASSWORD, self.uid, self.gid,
                                                         home, extra))
        self.users_file.write_text("\n".join(lines) + "\n")
        shutil.chown(self.users_file, group="roost")
        os.chmod(self.users_file, 0o640)

    def config(self, extra=""):
        return ("first_valid_uid = 100\n"
                "mail_gid = vmail\n"
                "mail_location = maildir:~/Maildir\n"
                "passdb {\n  driver = passwd-file\n  args = %s\n}\n"
                "userdb {\n  driver = passwd-file\n  args = %s\n}\n"
                "protocol lda {\n  log_path = %s\n}\n%s\n%s"
                % (self.users_file, self.users_file, self.lda_log, self.lda_config, extra))

    def start(self, extra=""):
        self.write_users()
        if not self.lda_log.exists():
            self.lda_log.touch()
        os.chown(self.lda_log, self.uid, self.gid)
        os.chmod(self.lda_log, 0o660)
        self.server.expected_services = ["roost-policy", "roost-auth", "roost-login"]
        self.server.start(self.config(extra))
        return self

    def write_config_only(self, extra=""):
        """The configuration roost-lda reads, without starting roost."""
        self.write_users()
        if not self.lda_log.exists():
            self.lda_log.touch()
        os.chown(self.lda_log, self.uid, self.gid)
        self.server.write_config(self.config(extra))

    def lda(self, *args, input=b"", user="vmail", group=None, timeout=60, binary=LDA):
        """Runs roost-lda as the MTA would (as vmail unless user is None
        for root), with -c pointing at the test configuration."""
        cmd = [binary, "-c", str(self.server.config_path)] + list(args)
        if user is not None:
            cmd = ["setpriv", "--reuid=" + user, "--regid=" + (group or user),
                   "--clear-groups"] + cmd
        return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)

    def popen_lda(self, *args, user="vmail"):
        cmd = [LDA, "-c", str(self.server.config_path)] + list(args)
        if user is not None:
            cmd = ["setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups"] + cmd
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def messages(self, user, folder=""):
        """Contents of every message file in new/ and cur/, sorted by name."""
        found = []
        for sub in ("new", "cur"):
            d = self.maildir(user, folder) / sub
            if d.is_dir():
                found.extend(sorted(d.iterdir()))
        return [p.read_bytes() for p in found]

    def log(self):
        return self.lda_log.read_text(errors="replace")

    def wait_log(self, pattern, timeout=20.0):
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log()), timeout=timeout,
                        what="lda log line /%s/ in:\n%s" % (pattern, self.log()[-3000:]))


# Signs of a broken roost-lda in any log: never expected.
BROKEN = ("Panic", "trapped forbidden system call", "AddressSanitizer", "runtime error:")


@pytest.fixture
def mail(roost):
    need_root()
    if not os.path.exists(LDA):
        pytest.skip("roost-lda is not built")
    setup = MailSetup(roost)
    yield setup
    if setup.lda_log.exists():
        for sign in BROKEN:
            assert sign not in setup.log(), setup.log()


# The seed's master.cf line, with -c for the test configuration.
SEED_ARGV = "-f ${sender} -d ${recipient}"


class Postfix:
    """A private Postfix instance: main.cf and master.cf in its own directory,
    its own queue and data directories, SMTP on a high 127.0.0.1 port, every
    mail for example.com handed to the `dovecot` pipe service."""

    def __init__(self, tmp, setup, lda_args=SEED_ARGV, main_extra=""):
        self.dir = pathlib.Path(tmp) / "postfix"
        self.conf = self.dir / "conf"
        self.queue = self.dir / "queue"
        self.data = self.dir / "data"
        self.maillog = self.dir / "maillog"
        self.port = free_port()
        self.setup = setup
        self.lda_args = lda_args
        self.main_extra = main_extra
        self.running = False

    def write_config(self):
        for d in (self.conf, self.queue, self.data):
            d.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.data, user="postfix")
        self.maillog.touch()
        (self.conf / "main.cf").write_text(
            "compatibility_level = 3.6\n"
            "queue_directory = %(queue)s\n"
            "data_directory = %(data)s\n"
            "mail_owner = postfix\n"
            "setgid_group = postdrop\n"
            "inet_interfaces = 127.0.0.1\n"
            "inet_protocols = ipv4\n"
            "myhostname = mail.example.com\n"
            "mydomain = example.com\n"
            "mydestination = example.com\n"
            "local_recipient_maps =\n"
            "alias_maps =\n"
            "alias_database =\n"
            "recipient_delimiter = +\n"
            "local_transport = dovecot\n"
            "dovecot_destination_recipient_limit = 1\n"
            "default_transport = error:no mail leaves the test\n"
            "maillog_file = %(maillog)s\n"
            "maillog_file_prefixes = /tmp\n"
            "smtp_dns_support_level = disabled\n"
            "smtpd_banner = $myhostname ESMTP\n"
            "queue_run_delay = 1s\n"
            "minimal_backoff_time = 1s\n"
            "maximal_backoff_time = 2s\n"
            "biff = no\n%(extra)s\n"
            % {"queue": self.queue, "data": self.data, "maillog": self.maillog,
               "extra": self.main_extra})
        services = [
            "127.0.0.1:%d inet n - n - - smtpd" % self.port,
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "proxywrite unix - - n - 1 proxymap",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
            # The seed's line, pointing at the built roost-lda.
            "dovecot unix - n n - - pipe\n"
            "  flags=DORqhu user=vmail:vmail argv=%s -c %s %s"
            % (LDA, self.setup.server.config_path, self.lda_args),
        ]
        (self.conf / "master.cf").write_text("\n".join(services) + "\n")

    def postfix(self, *args, check=True):
        r = subprocess.run(["postfix", "-c", str(self.conf)] + list(args),
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("postfix %s failed: %s%s\n%s" % (
                " ".join(args), r.stdout, r.stderr, self.log()))
        return r

    def start(self):
        self.write_config()
        self.postfix("start")
        self.running = True
        wait_for(self.listening, timeout=20, what="postfix to listen: " + self.log())
        return self

    def listening(self):
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as s:
                s.noop()
            return True
        except OSError:
            return False

    def stop(self):
        if not self.running:
            return
        self.postfix("stop", check=False)
        pid_file = self.queue / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = None
        if pid is not None:
            try:
                wait_for(lambda: not os.path.exists("/proc/%d" % pid), timeout=20,
                         what="postfix master to exit")
            except AssertionError:
                os.kill(pid, signal.SIGKILL)
        self.running = False

    def send(self, mail_from, rcpts, message):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            refused = s.sendmail(mail_from, rcpts, message)
        assert not refused, refused

    def flush(self):
        subprocess.run(["postqueue", "-c", str(self.conf), "-f"], check=True, timeout=30)

    def queue_count(self):
        r = subprocess.run(["postqueue", "-c", str(self.conf), "-j"], capture_output=True,
                           text=True, timeout=30)
        return len([line for line in r.stdout.splitlines() if line.strip()])

    def log(self):
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=30.0):
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log()), timeout=timeout,
                        what="postfix log line /%s/ in:\n%s" % (pattern, self.log()[-4000:]))


@pytest.fixture
def postfix_factory(mail):
    """Makes private Postfix instances; every one is stopped at the end."""
    if shutil.which("postfix") is None:
        pytest.skip("postfix is not installed (apt-get install postfix)")
    started = []

    def make(lda_args=SEED_ARGV, main_extra=""):
        p = Postfix(mail.tmp, mail, lda_args, main_extra)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()
    for p in started:
        for sign in BROKEN:
            assert sign not in p.log(), p.log()


def header_fields(message):
    """(name, value) of every header field, in order, unfolded (LF or CRLF
    line ends)."""
    head = re.split(rb"\r?\n\r?\n", message, maxsplit=1)[0].decode(errors="replace")
    fields = []
    for line in re.split(r"\r?\n", head):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + " " + line.strip())
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name, value.strip()))
    return fields


def wait_messages(setup, user, count, folder="", timeout=30.0):
    """Waits until user's mailbox holds count messages; returns them."""
    return wait_for(lambda: len(setup.messages(user, folder)) == count and
                    setup.messages(user, folder), timeout=timeout,
                    what="%d message(s) for %s%s" % (count, user, "/" + folder if folder else ""))


def rfc822(subject, msgid, body="Hello.\n", extra=""):
    """A message with CRLF line ends, as SMTP carries it."""
    text = ("From: Sender <sender@example.org>\n"
            "To: jdoe@example.com\n"
            "Subject: %s\n"
            "Date: Mon, 01 Jan 2024 12:00:00 +0000\n"
            "Message-ID: <%s>\n%s"
            "\n%s" % (subject, msgid, extra, body))
    return text.replace("\n", "\r\n").encode()


def now_ms():
    return int(time.monotonic() * 1000)
