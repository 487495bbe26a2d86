"""roost-imap sessions as clients live them: IDLE woken by a roost-lda
delivery and by other sessions' changes, curl fetching and appending, and
neomutt reading a folder."""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import connect, wait_for
from lda_fixtures import mail  # noqa: F401 (fixture)
from lda_fixtures import PASSWORD, rfc822

USER = "jdoe@example.com"


class Idler:
    """A raw IMAP session that can sit in IDLE and collect what it is told."""

    def __init__(self, server, user=USER, password=PASSWORD):
        self.sock, self.f = connect(server, "imap")
        self.f.readline()
        self.n = 0
        self.cmd('LOGIN %s "%s"' % (user, password))

    def cmd(self, line):
        self.n += 1
        tag = b"i%d" % self.n
        self.f.write(tag + b" " + line.encode() + b"\r\n")
        self.f.flush()
        lines = []
        while True:
            got = self.f.readline()
            assert got, lines
            if got.startswith(tag + b" "):
                assert got.startswith(tag + b" OK"), (line, got, lines)
                return lines
            lines.append(got)

    def idle(self):
        self.f.write(b"idle IDLE\r\n")
        self.f.flush()
        assert self.f.readline().startswith(b"+ ")

    def wait_untagged(self, pattern, seconds=15):
        """Reads untagged lines until one matches pattern; all lines read."""
        rx = re.compile(pattern)
        seen = []
        self.sock.settimeout(seconds)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            line = self.f.readline()
            assert line, seen
            seen.append(line)
            if rx.search(line):
                return seen
        raise AssertionError("no %r in %r" % (pattern, seen))

    def done(self):
        self.f.write(b"DONE\r\n")
        self.f.flush()
        rest = []
        while True:
            line = self.f.readline()
            assert line, rest
            if line.startswith(b"idle "):
                assert line.startswith(b"idle OK"), line
                return rest
            rest.append(line)

    def close(self):
        self.cmd("LOGOUT")
        self.sock.close()


def test_idle_woken_by_a_delivery(mail):
    """A client in IDLE hears of a message roost-lda delivers, at once (the
    Maildir is watched, nothing polls at an interval), and can fetch it."""
    mail.start()
    r = mail.lda("-d", USER, input=rfc822("first", "1@idle.test"))
    assert r.returncode == 0, r
    s = Idler(mail.server)
    assert b"* 1 EXISTS\r\n" in s.cmd("SELECT INBOX")
    s.idle()
    r = mail.lda("-d", USER, input=rfc822("second", "2@idle.test"))
    assert r.returncode == 0, r
    s.wait_untagged(rb"^\* 2 EXISTS\r\n")
    s.done()
    fetched = b"".join(s.cmd("FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    assert b"Subject: second" in fetched
    s.close()


def test_idle_sees_other_sessions(mail):
    """Flag changes and expunges by another session reach an idling one
    as FETCH and EXPUNGE responses."""
    mail.start()
    for n in range(3):
        assert mail.lda("-d", USER, input=rfc822("m%d" % n, "%d@idle.test" % n)).returncode == 0
    watcher, actor = Idler(mail.server), Idler(mail.server)
    watcher.cmd("SELECT INBOX")
    actor.cmd("SELECT INBOX")
    watcher.idle()
    actor.cmd("STORE 2 +FLAGS.SILENT (\\Flagged)")
    seen = watcher.wait_untagged(rb"^\* 2 FETCH \(.*FLAGS \(.*\\Flagged")
    assert not [line for line in seen if b"EXPUNGE" in line]
    actor.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    actor.cmd("EXPUNGE")
    watcher.wait_untagged(rb"^\* 1 EXPUNGE\r\n")
    watcher.done()
    status = b"".join(watcher.cmd("UID SEARCH ALL"))
    assert status == b"* SEARCH 2 3\r\n"
    watcher.close()
    actor.close()


def curl(*args, check=True):
    r = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args), capture_output=True,
                       timeout=60)
    if check:
        assert r.returncode == 0, r
    return r


def test_curl_append_and_fetch(mail):
    """curl uploads a message with APPEND and downloads it by UID."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    mail.start()
    base = "imap://127.0.0.1:%d/" % mail.server.ports["imap"]
    user = "%s:%s" % (USER, PASSWORD)
    message = rfc822("from curl", "curl@idle.test", body="Uploaded.\n")
    upload = mail.server.tmp / "upload.eml"
    upload.write_bytes(message)
    curl("--user", user, "-T", str(upload), base + "INBOX")
    assert len(mail.messages(USER)) == 1
    r = curl("--user", user, base + "INBOX;UID=1")
    assert r.stdout == message
    r = curl("--user", user, base + "INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)")
    assert r.stdout.strip() == b"Subject: from curl"
    r = curl("--user", user, base + "INBOX;UID=9", check=False)
    assert r.returncode != 0


def test_neomutt_reads_a_folder(mail):
    """neomutt, driven by keystrokes in a pseudo-terminal, opens INBOX over
    IMAP and copies every message into a local mbox."""
    if shutil.which("neomutt") is None or shutil.which("script") is None:
        pytest.skip("neomutt or script is not installed")
    mail.start()
    for n in range(3):
        body = "Body of message %d.\n" % n
        r = mail.lda("-d", USER, input=rfc822("mutt %d" % n, "m%d@idle.test" % n, body=body))
        assert r.returncode == 0, r
    home = mail.server.tmp / "mutt-home"
    home.mkdir()
    out = home / "saved.mbox"
    rc = home / "muttrc"
    rc.write_text(
        'set imap_user = "%s"\nset imap_pass = "%s"\n'
        'set folder = "imap://127.0.0.1:%d/"\nset spoolfile = "+INBOX"\n'
        "set ssl_starttls = no\nset ssl_force_tls = no\n"
        "set confirmappend = no\nset confirmcreate = no\nset mbox_type = mbox\n"
        "set header_cache = \"\"\nset message_cachedir = \"\"\nset move = no\n"
        "set sort = date-sent\nset mail_check = 0\nset timeout = 1\n"
        "set delete = no\nset quit = yes\n"
        'push "<tag-pattern>~A<enter><tag-prefix><copy-message>%s<enter><quit>"\n'
        % (USER, PASSWORD, mail.server.ports["imap"], out))
    env = dict(os.environ, HOME=str(home), TERM="vt100", COLUMNS="100", LINES="30")
    r = subprocess.run(["script", "-qec", "neomutt -n -F %s" % rc, "/dev/null"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env=env,
                       cwd=home)
    wait_for(lambda: out.exists() and out.read_bytes().count(b"\nFrom ") == 2,
             what="neomutt's saved mbox", timeout=30)
    saved = out.read_bytes()
    for n in range(3):
        assert b"Subject: mutt %d" % n in saved, (r, saved)
        assert b"Body of message %d." % n in saved
    # Reading did not take the messages away from the server.
    assert len(mail.messages(USER)) == 3
