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
    ("BODY hiddenneedle", []), ("BODY \"embedded text\"", [4]), ("BODY \"inner subject\"", []), ("TEXT \"inner subject\"", [4]),
    ("TEXT \"application/octet-stream\"", [4]), ("TEXT hiddenneedle", []),
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


def test_capabilities(server):
    start(server)
    raw = Raw(server)
    lines = raw.ok("CAPABILITY")
    caps = lines[0].split()
    for c in ("ESEARCH", "SEARCHRES", "SORT", "SORT=DISPLAY", "ESORT", "THREAD=REFERENCES",
              "THREAD=REFS", "THREAD=ORDEREDSUBJECT", "WITHIN"):
        assert c in caps, (c, lines)
    raw.close()


# ---- RFC 4731 and RFC 5182 sequences ----

def smith_mailbox():
    """12 messages; FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith" matches 2, 10
    and 11, as in the examples of RFC 4731 and RFC 5182."""
    msgs = []
    for i in range(1, 13):
        sender = "Smith <smith@example.com>" if i in (4, 7) else "Other%d <o%d@example.com>" % (i, i)
        data = ("From: %s\r\nSubject: m%d\r\nDate: Mon, 7 Feb 1994 12:00:00 +0000\r\n\r\n"
                "body %d\r\n" % (sender, i, i)).encode()
        flagged = i in (2, 4, 7, 10, 11, 12)
        when = day("20-Jan-1994") if i == 12 else day("3-Feb-1994")
        msgs.append((data, "F" if flagged else "S", when))
    return msgs


def test_esearch_rfc4731_examples(server):
    put_messages(server, smith_mailbox())
    start(server)
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    raw.n = 281
    lines = raw.ok('SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"')
    assert lines == ['* ESEARCH (TAG "t282") MIN 2 COUNT 3']
    lines = raw.ok('SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"')
    assert lines == ['* ESEARCH (TAG "t283") ALL 2,10:11']
    lines = raw.ok('SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"')
    assert lines == ['* ESEARCH (TAG "t284") MIN 2 MAX 11 ALL 2,10:11 COUNT 3']
    lines = raw.ok("UID SEARCH ALL")
    uids = search_numbers(lines)
    lines = raw.ok("UID SEARCH RETURN (MIN MAX) 1:5000")
    assert lines == ['* ESEARCH (TAG "t286") UID MIN %d MAX %d' % (uids[0], uids[-1])]
    lines = raw.ok("SEARCH RETURN (COUNT) SUBJECT nothing-like-this")
    assert lines == ['* ESEARCH (TAG "t287") COUNT 0']
    lines = raw.ok("SEARCH RETURN (MIN MAX ALL) SUBJECT nothing-like-this")
    assert lines == ['* ESEARCH (TAG "t288")']
    # MODSEQ with ESEARCH (RFC 4731 3.2) and with SEARCH (RFC 7162 3.1.5).
    # The first MODSEQ key turns CONDSTORE on, which reports the mailbox's
    # HIGHESTMODSEQ before the results (RFC 7162 3.1).
    lines = raw.ok("SEARCH RETURN (MIN) MODSEQ 1")
    assert re.fullmatch(r"\* OK \[HIGHESTMODSEQ \d+\] Highest", lines[0]), lines
    assert re.fullmatch(r'\* ESEARCH \(TAG "t289"\) MIN 1 MODSEQ \d+', lines[1]), lines
    assert len(lines) == 2, lines
    lines = raw.ok("SEARCH MODSEQ 1 FLAGGED")
    assert re.fullmatch(r"\* SEARCH 2 4 7 10 11 12 \(MODSEQ \d+\)", lines[0]), lines
    lines = raw.ok("SEARCH MODSEQ 18446744073709551 FLAGGED")
    assert lines == ["* SEARCH"]
    raw.close()


def test_searchres_rfc5182_examples(server):
    put_messages(server, smith_mailbox())
    start(server)
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    # $ before any SAVE is the empty set.
    assert raw.ok("SEARCH $") == ["* SEARCH"]
    # SAVE alone returns no ESEARCH (RFC 5182 2.4).
    assert raw.ok('SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"') == []
    assert search_numbers(raw.ok("SEARCH $")) == [2, 10, 11]
    uids = search_numbers(raw.ok("UID SEARCH ALL"))
    assert search_numbers(raw.ok("UID SEARCH UID $")) == [uids[1], uids[9], uids[10]]
    assert search_numbers(raw.ok("SEARCH $ SUBJECT m10")) == [10]
    assert search_numbers(raw.ok("SEARCH OR $ 1")) == [1, 2, 10, 11]
    # SAVE with MIN and MAX stores just those (RFC 5182 2.4).
    lines = raw.ok("SEARCH RETURN (SAVE MIN MAX) FLAGGED")
    assert lines == ['* ESEARCH (TAG "t%d") MIN 2 MAX 12' % raw.n]
    assert search_numbers(raw.ok("SEARCH $")) == [2, 12]
    lines = raw.ok("SEARCH RETURN (SAVE MIN) FLAGGED")
    assert search_numbers(raw.ok("SEARCH $")) == [2]
    lines = raw.ok("SEARCH RETURN (SAVE COUNT MIN) FLAGGED")
    assert lines == ['* ESEARCH (TAG "t%d") MIN 2 COUNT 6' % raw.n]
    assert search_numbers(raw.ok("SEARCH $")) == [2, 4, 7, 10, 11, 12]
    # A BAD leaves the saved result, a NO empties it.
    lines, tagged = raw.cmd("SEARCH RETURN (SAVE) FLAGGED (")
    assert tagged.startswith("BAD")
    assert search_numbers(raw.ok("SEARCH $")) == [2, 4, 7, 10, 11, 12]
    lines, tagged = raw.cmd("SEARCH RETURN (SAVE) CHARSET KOI8-R FLAGGED")
    assert tagged.startswith("NO [BADCHARSET (UTF-8 US-ASCII)]"), tagged
    assert raw.ok("SEARCH $") == ["* SEARCH"]
    # UID SEARCH saves too; the saved result survives expunges of others.
    raw.ok("UID SEARCH RETURN (SAVE) SUBJECT m11")
    assert search_numbers(raw.ok("SEARCH $")) == [11]
    # SELECT resets it.
    raw.ok("SELECT INBOX")
    assert raw.ok("SEARCH $") == ["* SEARCH"]
    raw.close()


def test_imap4rev2_uses_esearch(server):
    put_messages(server, smith_mailbox())
    start(server)
    raw = Raw(server)
    raw.ok("ENABLE IMAP4rev2")
    raw.ok("SELECT INBOX")
    lines = raw.ok("SEARCH FLAGGED")
    assert lines == ['* ESEARCH (TAG "t%d") ALL 2,4,7,10:12' % raw.n]
    lines = raw.ok("SEARCH SUBJECT nothing-like-this")
    assert lines == ['* ESEARCH (TAG "t%d")' % raw.n]
    uids = None
    lines = raw.ok("UID SEARCH SUBJECT m3")
    assert re.fullmatch(r'\* ESEARCH \(TAG "t%d"\) UID ALL \d+' % raw.n, lines[0]), lines
    raw.close()


def test_badcharset_and_bad_input(box):
    lines, tagged = box.cmd("SEARCH CHARSET ISO-8859-1 FROM alice")
    assert tagged.startswith("NO [BADCHARSET (UTF-8 US-ASCII)]"), tagged
    assert search_numbers(box.ok("SEARCH CHARSET US-ASCII FROM alice")) == [1]
    assert search_numbers(box.ok("SEARCH CHARSET utf-8 FROM alice")) == [1]
    bad = [
        "SEARCH (FROM alice",            # unbalanced
        "SEARCH FROM alice)",
        "SEARCH NOSUCHKEY",
        "SEARCH FROM",                   # missing argument
        "SEARCH OR SEEN",
        "SEARCH NOT",
        "SEARCH ()",
        "SEARCH BEFORE 32-Feb-1994",
        "SEARCH SINCE yesterday",
        "SEARCH ON 1-Foo-1994",
        "SEARCH LARGER -5",
        "SEARCH LARGER 99999999999999999999999",
        "SEARCH UID 1:x",
        "SEARCH 0",
        "SEARCH HEADER \"\" x",
        "SEARCH HEADER \"a:b\" x",
        "SEARCH CHARSET",
        "SEARCH",
        "SEARCH RETURN (BOGUS) ALL",
        "SEARCH RETURN ALL",
        "SEARCH MODSEQ x",
        "SEARCH MODSEQ \"/flags/\\\\Seen\" bogus 5",
        "SEARCH YOUNGER 0",
        "SEARCH KEYWORD (a)",
        "SEARCH \"FROM\" alice",
        "SEARCH " + "(" * 40 + "ALL" + ")" * 40,
        "SEARCH " + "NOT " * 100 + "ALL",
        "SEARCH " + "OR ALL " * 100 + "ALL",
        "SEARCH " + " ".join(["SEEN"] * 1500),
    ]
    for cmd in bad:
        lines, tagged = box.cmd(cmd)
        assert tagged.startswith("BAD"), (cmd, tagged)
    lines, tagged = box.cmd("SEARCH " + "NOT " * 100 + "ALL")
    assert "[LIMIT]" in tagged and "imap_search_max_depth" in tagged, tagged
    lines, tagged = box.cmd("SEARCH " + " ".join(["SEEN"] * 1500))
    assert "[LIMIT]" in tagged and "imap_search_max_keys" in tagged, tagged
    # The session goes on.
    assert search_numbers(box.ok("SEARCH FROM alice")) == [1]
    # Just below the limits works.
    assert search_numbers(box.ok("SEARCH " + "NOT " * 30 + "SEEN")) == [1]
    assert search_numbers(box.ok("SEARCH " + " ".join(["UNSEEN"] * 900))) == [2, 3, 4, 5]


def test_search_limits_are_settings(server):
    put_messages(server, [PLAIN])
    start(server, "imap_search_max_depth = 3\nimap_search_max_keys = 5\n")
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    raw.ok("SEARCH NOT NOT NOT ALL")
    lines, tagged = raw.cmd("SEARCH NOT NOT NOT NOT ALL")
    assert tagged.startswith("BAD [LIMIT]"), tagged
    raw.ok("SEARCH SEEN SEEN SEEN SEEN SEEN")
    lines, tagged = raw.cmd("SEARCH SEEN SEEN SEEN SEEN SEEN SEEN")
    assert tagged.startswith("BAD [LIMIT]"), tagged
    raw.close()


def test_utf8_accept_refuses_charset(box):
    box.ok("ENABLE UTF8=ACCEPT")
    lines, tagged = box.cmd("SEARCH CHARSET UTF-8 ALL")
    assert tagged.startswith("BAD"), tagged


def test_imaplib_search(server):
    put_messages(server, [m[0] for m in MESSAGES])
    start(server)
    m = login(server)
    m.select("INBOX")
    typ, data = m.search(None, "FROM", '"alice"')
    assert typ == "OK" and data == [b"1"]
    typ, data = m.uid("SEARCH", "TEXT", "swordfish")
    assert typ == "OK" and len(data[0].split()) == 1
    m.literal = "GRÜSSE aus".encode()
    typ, data = m.search("UTF-8", "BODY")
    assert typ == "OK" and data == [b""]
    m.literal = "grüße AUS".encode()
    typ, data = m.search("UTF-8", "BODY")
    assert typ == "OK" and data == [b"2"]
    m.logout()


# ---- THREAD and SORT ----

def thread_msg(n, subject, minute, msgid=None, refs=None, irt=None):
    h = "From: user%d@example.com\r\nSubject: %s\r\n" % (n, subject)
    h += "Date: Wed, 1 Jan 2020 10:%02d:00 +0000\r\n" % minute
    if msgid is not False:
        h += "Message-ID: %s\r\n" % (msgid or "<%d@x>" % n)
    if refs:
        h += "References: %s\r\n" % refs
    if irt:
        h += "In-Reply-To: %s\r\n" % irt
    return (h + "\r\nbody %d\r\n" % n).encode()


THREAD_MESSAGES = [
    thread_msg(1, "hello", 0),
    thread_msg(2, "thread root", 1),
    thread_msg(3, "Re: thread root", 2, irt="<2@x>"),
    thread_msg(4, "Re: thread root", 3, refs="<2@x> <3@x>"),
    thread_msg(5, "Re: thread root", 4, refs="<2@x>\r\n <3@x> <4@x>"),
    thread_msg(6, "Re: thread root", 5, refs="<2@x> <3@x>"),
    thread_msg(7, "Re: thread root", 6, refs="<3@x> <6@x>"),          # cut References
    thread_msg(8, "Re: thread root", 7, refs="(comment) <6@x> <\"7\"@x>"),  # quoted local part
    thread_msg(9, "orphan one", 8, refs="<lost@x>"),
    thread_msg(10, "orphan two", 9, refs="<lost@x>"),
    thread_msg(11, "Re: hello", 10),                                  # no references
    thread_msg(12, "hello", 11),                                      # same subject, no reply
    thread_msg(13, "dup", 12, msgid="<2@x>"),                          # duplicate Message-ID
    thread_msg(14, "loop a", 13, refs="<15@x>"),
    thread_msg(15, "loop b", 14, refs="<14@x>"),
    thread_msg(16, "[list] Fwd: whatever", 15, msgid=False),
    thread_msg(17, "whatever (fwd)", 16, msgid=False, irt="garbage <16@nowhere"),
]

# Both checked against Dovecot 2.3, which gives the same answers.
THREAD_REFERENCES = "((1 11)(12))(2 3 (4 5)(6 7 8))((9)(10))(13)(15 14)((16)(17))"
THREAD_ORDEREDSUBJECT = "(1 (11)(12))(2 (3)(4)(5)(6)(7)(8))(9)(10)(13)(14)(15)(16 17)"
THREAD_REFS = "(1)(2 3 (4 5)(6 7 8))((9)(10))(11)(12)(13)(15 14)(16)(17)"


def test_thread_references_and_orderedsubject(server):
    put_messages(server, THREAD_MESSAGES)
    start(server)
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    assert raw.ok("THREAD REFERENCES UTF-8 ALL") == ["* THREAD " + THREAD_REFERENCES]
    assert raw.ok("THREAD ORDEREDSUBJECT UTF-8 ALL") == ["* THREAD " + THREAD_ORDEREDSUBJECT]
    assert raw.ok("THREAD REFS UTF-8 ALL") == ["* THREAD " + THREAD_REFS]
    # A search narrows the set; nothing found is an empty THREAD.
    assert raw.ok("THREAD REFERENCES US-ASCII 2:5") == ["* THREAD (2 3 4 5)"]
    assert raw.ok("THREAD REFERENCES UTF-8 SUBJECT nothing-like-this") == ["* THREAD"]
    # UID THREAD shows UIDs.
    uids = search_numbers(raw.ok("UID SEARCH ALL"))
    lines = raw.ok("UID THREAD REFERENCES UTF-8 2:3")
    assert lines == ["* THREAD (%d %d)" % (uids[1], uids[2])]
    lines, tagged = raw.cmd("THREAD BOGUS UTF-8 ALL")
    assert tagged.startswith("BAD"), tagged
    lines, tagged = raw.cmd("THREAD REFERENCES KOI8-R ALL")
    assert tagged.startswith("NO [BADCHARSET"), tagged
    lines, tagged = raw.cmd("THREAD REFERENCES UTF-8")
    assert tagged.startswith("BAD"), tagged
    # Cached header fields give the same answer the second time.
    raw.ok("SELECT INBOX")
    assert raw.ok("THREAD REFERENCES UTF-8 ALL") == ["* THREAD " + THREAD_REFERENCES]
    raw.close()


SORT_MESSAGES = [
    (b"From: Zed <aaa@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: Re: Apple\r\n"
     b"Date: Mon, 3 Feb 2020 10:00:00 +0000\r\n\r\nsmall\r\n", None, day("5-Feb-2020")),
    (b"From: Anna <zzz@example.com>\r\nTo: carl@example.org\r\nCc: x@example.com\r\n"
     b"Subject: banana\r\nDate: Sat, 1 Feb 2020 10:00:00 +0000\r\n\r\n" + b"x" * 500 + b"\r\n",
     None, day("4-Feb-2020")),
    (b"From: =?UTF-8?Q?=C3=89mile?= <mmm@example.com>\r\nTo: =?UTF-8?Q?=C3=89va?= <a@b>\r\n"
     b"Subject: [list] apple (fwd)\r\nDate: Sun, 2 Feb 2020 10:00:00 +0000\r\n\r\n" +
     b"y" * 100 + b"\r\n", None, day("3-Feb-2020")),
    (b"From: mmm@example.com\r\nSubject: Cherry\r\nDate: garbage\r\n\r\n" + b"z" * 50 + b"\r\n",
     None, day("1-Feb-2020")),
]


def test_sort(server):
    put_messages(server, SORT_MESSAGES)
    start(server)
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    sizes = [vsize(m[0]) for m in SORT_MESSAGES]
    cases = [
        ("(ARRIVAL)", [4, 3, 2, 1]),
        ("(REVERSE ARRIVAL)", [1, 2, 3, 4]),
        # Message 4's Date: is garbage: its internal date (1 Feb 12:00) counts.
        ("(DATE)", [2, 4, 3, 1]),
        ("(REVERSE DATE)", [1, 3, 4, 2]),
        ("(SUBJECT)", [1, 3, 2, 4]),
        ("(SUBJECT DATE)", [3, 1, 2, 4]),
        ("(SUBJECT REVERSE DATE)", [1, 3, 2, 4]),
        ("(FROM)", [1, 3, 4, 2]),
        ("(DISPLAYFROM)", [2, 3, 4, 1]),
        ("(TO)", [4, 3, 1, 2]),
        ("(DISPLAYTO)", [4, 1, 2, 3]),
        ("(CC)", [1, 3, 4, 2]),
        ("(REVERSE CC)", [2, 1, 3, 4]),
        ("(SIZE)", sorted(range(1, 5), key=lambda i: sizes[i - 1])),
        ("(REVERSE SIZE)", sorted(range(1, 5), key=lambda i: -sizes[i - 1])),
    ]
    for crit, expected in cases:
        lines = raw.ok("SORT %s UTF-8 ALL" % crit)
        assert search_numbers(lines, "SORT") == expected, crit
    assert search_numbers(raw.ok("SORT (ARRIVAL) UTF-8 NOT FROM aaa"), "SORT") == [4, 3, 2]
    assert raw.ok("SORT (SUBJECT) US-ASCII TEXT \"not in mailbox\"") == ["* SORT"]
    uids = search_numbers(raw.ok("UID SEARCH ALL"))
    lines = raw.ok("UID SORT (ARRIVAL) UTF-8 ALL")
    assert search_numbers(lines, "SORT") == [uids[3], uids[2], uids[1], uids[0]]
    # ESORT (RFC 5267): ESEARCH with the messages in sort order.
    lines = raw.ok("SORT RETURN (ALL COUNT MIN MAX) (ARRIVAL) UTF-8 ALL")
    assert lines == ['* ESEARCH (TAG "t%d") MIN 4 MAX 1 ALL 4,3,2,1 COUNT 4' % raw.n]
    for bad in ("SORT () UTF-8 ALL", "SORT (BOGUS) UTF-8 ALL", "SORT (REVERSE) UTF-8 ALL",
                "SORT (DATE) UTF-8", "SORT DATE UTF-8 ALL", "SORT (DATE REVERSE) UTF-8 ALL"):
        lines, tagged = raw.cmd(bad)
        assert tagged.startswith("BAD"), (bad, tagged)
    lines, tagged = raw.cmd("SORT (DATE) ISO-8859-1 ALL")
    assert tagged.startswith("NO [BADCHARSET (UTF-8 US-ASCII)]"), tagged
    raw.close()


# ---- the cache and other processes' changes ----

def test_header_searches_use_the_cache(server):
    """Once searched, header fields come from roost.index.cache: with the
    message files unreadable, header searches still answer and only BODY
    needs the files."""
    put_messages(server, [PLAIN, QP_BODY, B64_BODY, MULTIPART])
    start(server)
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    assert search_numbers(raw.ok("SEARCH FROM alice")) == [1]
    assert search_numbers(raw.ok("SEARCH HEADER X-Custom value")) == [1]
    assert search_numbers(raw.ok("SORT (SUBJECT) UTF-8 ALL"), "SORT") == [3, 2, 1, 4]
    raw.close()
    root = maildir(server)
    files = [p for sub in ("new", "cur") for p in (root / sub).iterdir()]
    for p in files:
        os.chown(p, 0, 0)
        os.chmod(p, 0)
    try:
        raw = Raw(server)
        raw.ok("SELECT INBOX")
        assert search_numbers(raw.ok("SEARCH FROM alice")) == [1]
        assert search_numbers(raw.ok('SEARCH OR SUBJECT "caf\u00e9" TO alice')) == [2, 3, 4]
        assert search_numbers(raw.ok("SEARCH HEADER X-Custom value")) == [1]
        assert search_numbers(raw.ok("SEARCH SENTBEFORE 2-Feb-1994")) == [2]
        assert search_numbers(raw.ok("SORT (SUBJECT) UTF-8 ALL"), "SORT") == [3, 2, 1, 4]
        assert raw.ok("THREAD REFERENCES UTF-8 ALL") == ["* THREAD (3)(2)(4)(1)"]
        lines, tagged = raw.cmd("SEARCH BODY fox")
        assert tagged.startswith("NO"), tagged
        # A header never searched before needs the files too.
        lines, tagged = raw.cmd("SEARCH HEADER MIME-Version 1.0")
        assert tagged.startswith("NO"), tagged
        raw.close()
    finally:
        chown_tree(root)
        for p in files:
            os.chmod(p, 0o600)
    assert "Panic" not in server.log()


def test_changes_by_other_processes(server):
    put_messages(server, [PLAIN, QP_BODY, B64_BODY])
    start(server)
    a = Raw(server)
    b = Raw(server)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    uids = search_numbers(a.ok("UID SEARCH ALL"))
    a.ok("SEARCH RETURN (SAVE) OR FROM alice FROM bob")
    assert search_numbers(a.ok("SEARCH $")) == [1, 3]
    # A delivery: SEARCH does not report it (sequence numbers must hold),
    # NOOP does, and the next SEARCH finds it.
    put_messages(server, [NODATE], first=10)
    lines = a.ok("SEARCH SUBJECT \"no date\"")
    assert lines == ["* SEARCH"]
    lines = a.ok("NOOP")
    assert "* 4 EXISTS" in lines, lines
    assert search_numbers(a.ok("SEARCH SUBJECT \"no date\"")) == [4]
    # Another process removes a message file: a body search skips it,
    # NOOP reports the expunge, "$" no longer holds it.
    victim = [p for sub in ("new", "cur") for p in (maildir(server) / sub).iterdir()
              if b"Bob <bob@" in p.read_bytes()][0]
    victim.unlink()
    lines, tagged = a.cmd("SEARCH BODY swordfish")
    assert tagged.startswith("OK"), tagged
    assert search_numbers(lines) == []
    lines = a.ok("NOOP")
    assert "* 3 EXPUNGE" in lines, lines
    assert search_numbers(a.ok("SEARCH $")) == [1]
    assert search_numbers(a.ok("UID SEARCH UID $")) == [uids[0]]
    # The other session sees the same mailbox.
    lines = b.ok("NOOP")
    assert search_numbers(b.ok("SEARCH ALL")) == [1, 2, 3]
    assert search_numbers(b.ok("SEARCH BODY \"lazy dog\"")) == [1]
    a.close()
    b.close()


def test_larger_mailbox(server):
    """A few hundred messages: SELECT, SEARCH, SORT and THREAD of more than
    fits the small cases (sorting more than 1 KB once killed roost-imap in
    its sandbox), checked against what the messages say."""
    msgs = []
    for i in range(1, 401):
        parent = "References: <m%d@x>\r\n" % (i // 2) if i > 1 else ""
        msgs.append(("From: user%d@example.com\r\nSubject: %stopic %d\r\n"
                     "Date: Wed, 1 Jan 2020 %02d:%02d:00 +0000\r\nMessage-ID: <m%d@x>\r\n%s\r\n"
                     "line %d %s\r\n" % (i % 7, "Re: " if i > 1 else "", i % 5, (i // 60) % 24,
                                          i % 60, i, parent, i,
                                          "needle" if i % 3 == 0 else "hay")).encode())
    put_messages(server, msgs)
    start(server)
    raw = Raw(server)
    raw.ok("SELECT INBOX")
    assert search_numbers(raw.ok("SEARCH BODY needle")) == list(range(3, 401, 3))
    assert search_numbers(raw.ok("SEARCH FROM user3@")) == [i for i in range(1, 401)
                                                            if i % 7 == 3]
    lines = raw.ok("SEARCH RETURN (COUNT MIN MAX) NOT BODY needle")
    assert lines == ['* ESEARCH (TAG "t%d") MIN 1 MAX 400 COUNT 267' % raw.n]
    order = search_numbers(raw.ok("SORT (SUBJECT) UTF-8 ALL"), "SORT")
    assert order == [i for k in range(5) for i in range(1, 401) if i % 5 == k]
    order = search_numbers(raw.ok("SORT (REVERSE DATE) UTF-8 ALL"), "SORT")
    assert order == list(range(400, 0, -1))
    lines = raw.ok("THREAD REFERENCES UTF-8 ALL")
    # One binary tree rooted at message 1.
    assert lines[0].startswith("* THREAD (1 (2 ") and lines[0].endswith(")")
    assert lines[0].count("(") == lines[0].count(")")
    nums = sorted(int(x) for x in re.findall(r"\d+", lines[0]))
    assert nums == list(range(1, 401))
    raw.close()
