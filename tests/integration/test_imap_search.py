"""SEARCH, SORT and THREAD on the real server (RFC 3501, 9051, 4731, 5182,
5256, 5032, 7162) with Python's imaplib and raw sockets: every search key
against a crafted Maildir, RFC examples for base subjects and threads, the
ESEARCH and SEARCHRES sequences of the RFCs, and bad input answered with BAD
while the session goes on."""
import base64
import os
import re
import time

import pytest

from conftest import CLIENT_TIMEOUT, PASSWORD, connect, imap, mail_user, start


def maildir(server, user="jdoe@example.com"):
    return server.tmp / "home" / user / "Maildir"


def chown_tree(root):
    uid, gid = mail_user()
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), uid, gid)


def put_messages(server, messages, user="jdoe@example.com", keywords=None, first=0):
    """Writes messages straight into the Maildir. Each message is bytes, or
    (bytes, flags, mtime): flags as the Maildir info letters ("FS", "a"),
    mtime the internal date. Files are numbered so UIDs follow list order."""
    root = maildir(server, user)
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if keywords:
        (root / "dovecot-keywords").write_text(
            "".join("%d %s\n" % (i, k) for i, k in enumerate(keywords)))
    for i, m in enumerate(messages, first):
        data, flags, mtime = (m, None, None) if isinstance(m, bytes) else m
        base = "%d.M%dP1.testhost" % (1700000000 + i, i)
        if flags is None:
            path = root / "new" / base
        else:
            path = root / "cur" / (base + ":2," + "".join(sorted(flags)))
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
    chown_tree(root)


def login(server):
    m = imap(server)
    m.login("jdoe@example.com", PASSWORD)
    return m


class Raw:
    """A raw IMAP session: exact bytes in, exact lines out."""

    def __init__(self, server):
        self.sock, self.f = connect(server, "imap")
        self.f.readline()
        self.n = 0
        self.ok("LOGIN jdoe@example.com \"%s\"" % PASSWORD)

    def cmd(self, text):
        """Sends one command; returns (untagged lines, tagged line) as str."""
        self.n += 1
        tag = "t%d" % self.n
        self.f.write(("%s %s\r\n" % (tag, text)).encode())
        self.f.flush()
        lines = []
        while True:
            line = self.f.readline()
            assert line, "connection closed after: " + text
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith(tag + " "):
                return lines, line[len(tag) + 1:]
            lines.append(line)

    def ok(self, text):
        lines, tagged = self.cmd(text)
        assert tagged.startswith("OK"), (text, lines, tagged)
        return lines

    def close(self):
        self.cmd("LOGOUT")
        self.sock.close()


def search_numbers(lines, name="SEARCH"):
    """The numbers of the one untagged SEARCH/SORT response."""
    found = [l for l in lines if l.startswith("* %s" % name)]
    assert len(found) == 1, lines
    rest = found[0][len("* %s" % name):].strip()
    rest = re.sub(r"\s*\(MODSEQ \d+\)$", "", rest)
    return [int(x) for x in rest.split()] if rest else []


def day(s):
    """Seconds of 12:00 UTC on an IMAP date, e.g. "1-Feb-1994"."""
    return int(time.mktime(time.strptime(s + " 12:00", "%d-%b-%Y %H:%M")) - time.timezone)


# ---- the crafted mailbox ----

QP_BODY = (b"From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>\r\n"
           b"To: team@example.com\r\n"
           b"Subject: =?UTF-8?Q?Caf=C3=A9_cr=C3=A8me?= and =?UTF-8?B?w5xiZXI=?=\r\n"
           b"Date: Tue, 1 Feb 1994 23:30:00 +0000\r\n"
           b"Message-ID: <qp@example.de>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Gr=C3=BC=C3=9Fe aus M=C3=BCnchen, sch=\r\nnes Wetter.\r\n")

B64_TEXT = "Zürich: the secret password is swordfish-12345.\r\n".encode()
B64_BODY = (b"From: Bob <bob@example.org>\r\n"
            b"To: alice@example.com\r\n"
            b"Subject: base64 inside\r\n"
            b"Date: Wed, 2 Feb 1994 10:00:00 +1400\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=\"UTF-8\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" +
            base64.encodebytes(B64_TEXT).replace(b"\n", b"\r\n"))

MULTIPART = (b"From: Carol <carol@example.net>\r\n"
             b"To: alice@example.com, bob@example.org\r\n"
             b"Cc: dave@example.com\r\n"
             b"Subject: Re: multipart\r\n"
             b"Date: Thu, 3 Feb 1994 08:00:00 -0500\r\n"
             b"MIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
             b"preamble not searched\r\n"
             b"--b1\r\n"
             b"Content-Type: text/plain; charset=iso-8859-1\r\n"
             b"Content-Transfer-Encoding: 8bit\r\n\r\n"
             b"\xc7a va? Na\xefve fa\xe7ade.\r\n"
             b"--b1\r\n"
             b"Content-Type: application/octet-stream\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\n" +
             base64.encodebytes(b"hiddenneedle in an attachment").replace(b"\n", b"\r\n") +
             b"--b1\r\n"
             b"Content-Type: message/rfc822\r\n\r\n"
             b"From: inner@example.com\r\n"
             b"Subject: Inner subject\r\n\r\n"
             b"embedded text of the forwarded message\r\n"
             b"--b1--\r\n")

PLAIN = (b"From: Alice <alice@example.com>\r\n"
         b"To: Bob <bob@example.org>\r\n"
         b"Bcc: secret@example.com\r\n"
         b"Subject: Hello world\r\n"
         b"X-Custom: Some Value\r\n"
         b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
         b"Message-ID: <plain@example.com>\r\n\r\n"
         b"The quick brown fox jumps over the lazy dog.\r\n")

NODATE = (b"From: nodate@example.com\r\n"
          b"Subject: no date header\r\n\r\n"
          b"short\r\n")

KEYWORDS = ["$Important", "Work"]

MESSAGES = [
    (PLAIN, "S", day("7-Feb-1994")),            # 1: \Seen
    (QP_BODY, "FR", day("1-Feb-1994")),         # 2: \Flagged \Answered
    (B64_BODY, "Ta", day("2-Feb-1994")),        # 3: \Deleted $Important
    (MULTIPART, "Db", day("3-Feb-1994")),       # 4: \Draft Work
    (NODATE, None, day("10-Feb-1994")),         # 5: new -> \Recent, unseen
]


def vsize(data):
    return len(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


@pytest.fixture
def box(server):
    """The crafted mailbox selected; only the last message is \\Recent."""
    put_messages(server, MESSAGES[:4], keywords=KEYWORDS)
    start(server)
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    raw.close()
    put_messages(server, MESSAGES[4:], first=4)
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    yield raw
    raw.close()


KEY_CASES = [
    ("ALL", [1, 2, 3, 4, 5]),
    ("ANSWERED", [2]), ("UNANSWERED", [1, 3, 4, 5]),
    ("DELETED", [3]), ("UNDELETED", [1, 2, 4, 5]),
    ("DRAFT", [4]), ("UNDRAFT", [1, 2, 3, 5]),
    ("FLAGGED", [2]), ("UNFLAGGED", [1, 3, 4, 5]),
    ("SEEN", [1]), ("UNSEEN", [2, 3, 4, 5]),
    ("RECENT", [5]), ("NEW", [5]), ("OLD", [1, 2, 3, 4]),
    ("KEYWORD $Important", [3]), ("KEYWORD work", [4]), ("UNKEYWORD Work", [1, 2, 3, 5]),
    ("KEYWORD NoSuchKeyword", []), ("UNKEYWORD NoSuchKeyword", [1, 2, 3, 4, 5]),
    ("KEYWORD \\Seen", [1]),
    ("FROM alice", [1]), ("FROM \"Jörg\"", [2]), ("FROM \"MüLLER\"", [2]),
    ("TO alice@example.com", [3, 4]), ("CC dave", [4]), ("BCC secret", [1]),
    ("SUBJECT \"café CRÈME\"", [2]), ("SUBJECT \"über\"", [2]),
    ("SUBJECT cafe", [2]), ("SUBJECT inner", []),
    ("HEADER X-Custom \"some value\"", [1]), ("HEADER x-custom \"\"", [1]),
    ("HEADER Message-ID \"\"", [1, 2]), ("HEADER X-Missing \"\"", []),
    ("BODY fox", [1]), ("BODY FOX", [1]), ("BODY \"grüße aus münchen\"", [2]),
    ("BODY \"schnes wetter\"", [2]), ("BODY swordfish-12345", [3]), ("BODY \"zürich\"", [3]),
    ("BODY \"naïve façade\"", [4]), ("BODY \"ça va\"", [4]),
    ("BODY hiddenneedle", []), ("BODY \"embedded text\"", [4]), ("BODY \"inner subject\"", [4]),
    ("BODY preamble", []), ("BODY alice", []), ("BODY \"\"", [1, 2, 3, 4, 5]),
    ("TEXT alice", [1, 3, 4]), ("TEXT fox", [1]), ("TEXT \"café\"", [2]),
    ("BEFORE 2-Feb-1994", [2]), ("ON 2-Feb-1994", [3]), ("SINCE 7-Feb-1994", [1, 5]),
    ("BEFORE \"3-Feb-1994\"", [2, 3]),
    ("SENTBEFORE 2-Feb-1994", [2]), ("SENTON 1-Feb-1994", [2]), ("SENTON 2-Feb-1994", [3]),
    ("SENTSINCE 7-Feb-1994", [1]), ("SENTON 3-Feb-1994", [4]),
    ("LARGER %d" % vsize(NODATE), [1, 2, 3, 4]), ("SMALLER %d" % (vsize(NODATE) + 1), [5]),
    ("UID 2:3", [2, 3]), ("UID *", [5]), ("2,4:5", [2, 4, 5]), ("*", [5]), ("1:*", [1, 2, 3, 4, 5]),
    ("NOT SEEN", [2, 3, 4, 5]), ("OR SEEN FLAGGED", [1, 2]),
    ("OR (FROM alice) (BODY swordfish)", [1, 3]), ("(SEEN FROM alice)", [1]),
    ("NOT (OR DELETED DRAFT)", [1, 2, 5]), ("OR OR SEEN DRAFT DELETED", [1, 3, 4]),
    ("FLAGGED ANSWERED SUBJECT caf", [2]),
    ("UNDELETED NOT NOT BODY fox", [1]),
    ("YOUNGER 60", []), ("OLDER 60", [1, 2, 3, 4, 5]),
]


def test_every_key(box):
    for key, expected in KEY_CASES:
        lines, tagged = box.cmd("SEARCH CHARSET UTF-8 " + key)
        assert tagged.startswith("OK"), (key, tagged)
        assert search_numbers(lines) == expected, key


def test_uid_search_and_plain_search_lines(box):
    lines = box.ok("UID SEARCH ALL")
    uids = search_numbers(lines)
    assert len(uids) == 5 and uids == sorted(uids)
    lines = box.ok("UID SEARCH UID %d:%d" % (uids[1], uids[2]))
    assert search_numbers(lines) == uids[1:3]
    lines = box.ok("SEARCH NOT ALL")
    assert lines == ["* SEARCH"]
