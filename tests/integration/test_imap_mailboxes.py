"""Mailbox management in roost-imap: CREATE, DELETE, RENAME, SUBSCRIBE,
LIST/LSUB with LIST-EXTENDED, SPECIAL-USE and LIST-STATUS, STATUS, NAMESPACE,
QUOTA and COMPRESS=DEFLATE, checked byte for byte on raw sessions, with
imaplib, curl and mbsync; and names that must never reach outside
the user's mail root.
"""
import os
import pathlib
import re
import shutil
import subprocess
import zlib

import pytest

from conftest import PASSWORD, connect, imap, mail_user, start, wait_for

USER = "jdoe@example.com"


def maildir(server, user=USER):
    return server.tmp / "home" / user / "Maildir"


class Session:
    """A raw IMAP session: send a tagged command, get the exact lines back."""

    def __init__(self, server, user=USER):
        self.sock, self.f = connect(server, "imap")
        self.tagno = 0
        self.deflate = None
        self.inflate = None
        self.pending = b""
        greeting = self.readline()
        assert greeting.startswith(b"* OK"), greeting
        lines = self.cmd("LOGIN %s \"%s\"" % (user, PASSWORD))
        assert lines[-1].split(b" ")[1] == b"OK", lines

    def send(self, data):
        if self.deflate is not None:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.f.write(data)
        self.f.flush()

    def readline(self):
        if self.inflate is None:
            line = self.f.readline()
            assert line.endswith(b"\r\n"), line
            return line[:-2]
        while b"\r\n" not in self.pending:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.pending += self.inflate.decompress(chunk)
        line, _, self.pending = self.pending.partition(b"\r\n")
        return line

    def cmd(self, text, tag=None):
        """Sends one command; returns every line up to and including the tagged one."""
        if tag is None:
            self.tagno += 1
            tag = "a%d" % self.tagno
        if isinstance(text, str):
            text = text.encode()
        self.send(tag.encode() + b" " + text + b"\r\n")
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if line.startswith(tag.encode() + b" "):
                return lines

    def result(self, text):
        """The tagged answer to a command, without its tag."""
        return self.cmd(text)[-1].split(b" ", 1)[1].decode()

    def ok(self, text):
        lines = self.cmd(text)
        assert lines[-1].split(b" ")[1] == b"OK", lines
        return lines[:-1]

    def close(self):
        try:
            self.send(b"z LOGOUT\r\n")
        except OSError:
            pass
        self.sock.close()


def untagged(lines):
    return [l.decode() for l in lines if l.startswith(b"*")]


@pytest.fixture(autouse=True)
def no_sandbox_trap(server):
    """No test here may make roost-imap call outside its seccomp list (the
    asan build traps and logs instead of killing)."""
    yield
    assert "trapped forbidden system call" not in server.log(), server.log()
    assert "killed with signal 31" not in server.log(), server.log()


@pytest.fixture
def box(server):
    start(server)
    s = Session(server)
    yield s
    s.close()


def test_create_list_delete(server, box):
    assert box.ok("CREATE Archive") == []
    assert box.result("CREATE Archive") == "NO [ALREADYEXISTS] Mailbox already exists"
    assert box.result("CREATE inbox").startswith("NO [ALREADYEXISTS]")
    box.ok("CREATE Work/Projects/2024")
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasNoChildren) "/" Archive',
        '* LIST (\\Noselect \\HasChildren) "/" Work',
        '* LIST (\\Noselect \\HasChildren) "/" Work/Projects',
        '* LIST (\\HasNoChildren) "/" Work/Projects/2024',
    ]
    assert untagged(box.ok('LIST "" "%"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasNoChildren) "/" Archive',
        '* LIST (\\Noselect \\HasChildren) "/" Work',
    ]
    assert untagged(box.ok('LIST "Work/" "%"')) == [
        '* LIST (\\Noselect \\HasChildren) "/" Work/Projects',
    ]
    assert untagged(box.ok('LIST "" ""')) == ['* LIST (\\Noselect) "/" ""']
    assert (maildir(server) / ".Work.Projects.2024" / "cur").is_dir()
    box.ok("DELETE Archive")
    assert not (maildir(server) / ".Archive").exists()
    assert box.result("DELETE Archive") == "NO [NONEXISTENT] Mailbox doesn't exist: Archive"
    assert box.result("DELETE INBOX").startswith("NO ")


PUT_COUNTER = [0]


def put_messages(server, messages, folder="", user=USER):
    """Writes messages into a Maildir folder's new/ as a delivery would."""
    uid, gid = mail_user()
    root = maildir(server, user)
    path = root / folder if folder else root
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    for data in messages:
        PUT_COUNTER[0] += 1
        i = PUT_COUNTER[0]
        (path / "new" / ("%d.M%dP1.testhost" % (1700000000 + i, i))).write_bytes(data)
    for dirpath, _, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), uid, gid)


MSG = b"From: a@example.com\r\nSubject: hello\r\n\r\nbody\r\n"


def test_rfc5258_subscriptions(server, box):
    """The shapes of RFC 5258's examples: LIST (SUBSCRIBED), \\NonExistent,
    RECURSIVEMATCH with CHILDINFO, RETURN (CHILDREN), and LSUB's \\Noselect."""
    for name in ("Fruit", "Fruit/Apple", "Fruit/Banana", "Tofu", "Vegetable",
                 "Vegetable/Broccoli", "Vegetable/Corn"):
        box.ok("CREATE %s" % name)
    for name in ("INBOX", "Fruit/Banana", "Vegetable", "Vegetable/Broccoli"):
        box.ok("SUBSCRIBE %s" % name)
    box.ok("CREATE Fruit/Peach")
    box.ok("SUBSCRIBE Fruit/Peach")
    box.ok("DELETE Fruit/Peach")
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasChildren) "/" Fruit',
        '* LIST (\\HasNoChildren) "/" Fruit/Apple',
        '* LIST (\\HasNoChildren) "/" Fruit/Banana',
        '* LIST (\\HasNoChildren) "/" Tofu',
        '* LIST (\\HasChildren) "/" Vegetable',
        '* LIST (\\HasNoChildren) "/" Vegetable/Broccoli',
        '* LIST (\\HasNoChildren) "/" Vegetable/Corn',
    ]
    assert untagged(box.ok('LIST (SUBSCRIBED) "" "*"')) == [
        '* LIST (\\Subscribed) "/" INBOX',
        '* LIST (\\Subscribed) "/" Fruit/Banana',
        '* LIST (\\Subscribed \\NonExistent) "/" Fruit/Peach',
        '* LIST (\\Subscribed) "/" Vegetable',
        '* LIST (\\Subscribed) "/" Vegetable/Broccoli',
    ]
    assert untagged(box.ok('LIST "" "%" RETURN (CHILDREN)')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasChildren) "/" Fruit',
        '* LIST (\\HasNoChildren) "/" Tofu',
        '* LIST (\\HasChildren) "/" Vegetable',
    ]
    assert untagged(box.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')) == [
        '* LIST (\\Subscribed) "/" INBOX',
        '* LIST () "/" Fruit ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\Subscribed) "/" Vegetable ("CHILDINFO" ("SUBSCRIBED"))',
    ]
    assert untagged(box.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)')) == [
        '* LIST (\\Subscribed \\HasNoChildren) "/" INBOX',
        '* LIST (\\HasChildren) "/" Fruit ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\Subscribed \\HasChildren) "/" Vegetable ("CHILDINFO" ("SUBSCRIBED"))',
    ]
    assert untagged(box.ok('LIST "" ("Fruit/%" "Tofu") RETURN (SUBSCRIBED)')) == [
        '* LIST () "/" Fruit/Apple',
        '* LIST (\\Subscribed) "/" Fruit/Banana',
        '* LIST () "/" Tofu',
    ]
    assert untagged(box.ok('LSUB "" "*"')) == [
        '* LSUB () "/" INBOX',
        '* LSUB () "/" Fruit/Banana',
        '* LSUB () "/" Fruit/Peach',
        '* LSUB () "/" Vegetable',
        '* LSUB () "/" Vegetable/Broccoli',
    ]
    # RFC 3501 6.3.9: "%" returns the unsubscribed parent as \Noselect.
    assert untagged(box.ok('LSUB "" "%"')) == [
        '* LSUB () "/" INBOX',
        '* LSUB (\\Noselect) "/" Fruit',
        '* LSUB () "/" Vegetable',
    ]
    assert box.result('LIST (RECURSIVEMATCH) "" "%"').startswith("BAD")
    assert box.result('LIST (BOGUS) "" "%"').startswith("BAD")
    assert box.result('LIST "" "%" RETURN (BOGUS)').startswith("BAD")
    assert box.result('LIST "" "%" RETURN').startswith("BAD")
    box.ok("UNSUBSCRIBE Fruit/Peach")
    box.ok("UNSUBSCRIBE Fruit/Peach")
    assert box.result("SUBSCRIBE Nothing") == "NO [NONEXISTENT] Mailbox doesn't exist: Nothing"


def test_mutf7_names(server, box):
    """RFC 3501 5.1.3's example name round-trips, is stored as a Maildir++
    folder in modified UTF-7, and patterns match on the decoded name."""
    box.ok("CREATE &ZeVnLIqe-")
    box.ok("CREATE &ZeVnLIqe-/&U,BTFw-")
    assert (maildir(server) / ".&ZeVnLIqe-" / "cur").is_dir()
    assert (maildir(server) / ".&ZeVnLIqe-.&U,BTFw-" / "cur").is_dir()
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasChildren) "/" &ZeVnLIqe-',
        '* LIST (\\HasNoChildren) "/" &ZeVnLIqe-/&U,BTFw-',
    ]
    # "*語" : a pattern that ends inside the encoded run of the name.
    assert untagged(box.ok('LIST "" "*&ip4-"')) == ['* LIST (\\HasChildren) "/" &ZeVnLIqe-']
    assert untagged(box.ok('LIST "&ZeVnLIqe-/" "%"')) == [
        '* LIST (\\HasNoChildren) "/" &ZeVnLIqe-/&U,BTFw-']
    assert untagged(box.ok('STATUS &ZeVnLIqe- (MESSAGES)')) == [
        '* STATUS &ZeVnLIqe- (MESSAGES 0)']
    # Not canonical modified UTF-7: refused, nothing created.
    assert box.result("CREATE &ZeVnLIqe-&U,BTFw-").startswith("NO")
    assert box.result("CREATE &Jjo!").startswith("NO")
    # UTF8=ACCEPT (RFC 6855): the same names in UTF-8.
    box.ok("ENABLE UTF8=ACCEPT")
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasChildren) "/" "日本語"',
        '* LIST (\\HasNoChildren) "/" "日本語/台北"',
    ]
    box.ok('CREATE "Ärger"')
    assert (maildir(server) / ".&AMQ-rger").is_dir()
    assert untagged(box.ok('LIST "" "Ä%"')) == ['* LIST (\\HasNoChildren) "/" "Ärger"']


def test_rename(server, box):
    box.ok("CREATE Work")
    box.ok("CREATE Work/Old")
    box.ok("SUBSCRIBE Work")
    box.ok("SUBSCRIBE Work/Old")
    put_messages(server, [MSG, MSG], ".Work")
    box.ok("RENAME Work Play")
    assert untagged(box.ok('LIST "" "*" RETURN (SUBSCRIBED)')) == [
        '* LIST () "/" INBOX',
        '* LIST (\\Subscribed) "/" Play',
        '* LIST (\\Subscribed) "/" Play/Old',
    ]
    assert untagged(box.ok("STATUS Play (MESSAGES)")) == ["* STATUS Play (MESSAGES 2)"]
    assert box.result("RENAME Work Other") == "NO [NONEXISTENT] Mailbox doesn't exist: Work"
    box.ok("CREATE Taken")
    assert box.result("RENAME Play Taken").startswith("NO [ALREADYEXISTS]")
    assert box.result("RENAME Play Play/Under").startswith("NO")
    # IMAP4rev2: the new name comes with OLDNAME (RFC 9051 7.3.1).
    box.ok("ENABLE IMAP4rev2")
    assert untagged(box.ok("RENAME Taken Given")) == [
        '* LIST () "/" Given ("OLDNAME" (Taken))']


def test_rename_inbox(server, box):
    """RFC 3501 6.3.5: INBOX's messages move, INBOX stays and is empty."""
    put_messages(server, [MSG, MSG, MSG])
    box.ok("CREATE INBOX/Child")
    box.ok("RENAME INBOX Old-Inbox")
    assert untagged(box.ok("STATUS INBOX (MESSAGES)")) == ["* STATUS INBOX (MESSAGES 0)"]
    assert untagged(box.ok("STATUS Old-Inbox (MESSAGES)")) == [
        "* STATUS Old-Inbox (MESSAGES 3)"]
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasChildren) "/" INBOX',
        '* LIST (\\HasNoChildren) "/" INBOX/Child',
        '* LIST (\\HasNoChildren) "/" Old-Inbox',
    ]


def test_status(server, box):
    put_messages(server, [MSG, MSG + b"more\r\n"])
    lines = untagged(box.ok("STATUS INBOX (UIDNEXT MESSAGES)"))
    # RFC 3501 6.3.10's example order: MESSAGES before UIDNEXT.
    assert lines == ["* STATUS INBOX (MESSAGES 2 UIDNEXT 3)"]
    lines = untagged(box.ok("STATUS INBOX (MESSAGES RECENT UNSEEN SIZE DELETED)"))
    assert lines == ["* STATUS INBOX (MESSAGES 2 RECENT 2 UNSEEN 2 SIZE %d DELETED 0)"
                     % (2 * len(MSG) + 6)]
    m = re.match(r"\* STATUS INBOX \(UIDVALIDITY (\d+) HIGHESTMODSEQ (\d+)\)$",
                 untagged(box.ok("STATUS INBOX (UIDVALIDITY HIGHESTMODSEQ)"))[0])
    assert m and int(m.group(1)) > 0
    # STATUS took no \Recent away: SELECT still sees both as recent.
    assert "* 2 RECENT" in untagged(box.ok("SELECT INBOX"))
    # The selected mailbox answers from the view the client knows: never
    # more messages than the EXISTS it has been told.
    put_messages(server, [MSG])
    lines = untagged(box.ok("STATUS INBOX (MESSAGES)"))
    assert lines[0] in ("* STATUS INBOX (MESSAGES 2)", "* STATUS INBOX (MESSAGES 3)")
    if lines[0].endswith("3)"):
        assert "* 3 EXISTS" in lines
    wait_for(lambda: "* 3 EXISTS" in lines + untagged(box.ok("NOOP")), what="EXISTS")
    assert untagged(box.ok("STATUS INBOX (MESSAGES)")) == ["* STATUS INBOX (MESSAGES 3)"]
    assert box.result("STATUS INBOX (BOGUS)").startswith("BAD")
    assert box.result("STATUS INBOX ()").startswith("BAD")
    assert box.result("STATUS Nope (MESSAGES)") == "NO [NONEXISTENT] Mailbox doesn't exist: Nope"


def test_list_status(server, box):
    """RFC 5819: a STATUS line after each selectable mailbox's LIST line."""
    box.ok("CREATE A/B")
    put_messages(server, [MSG], ".A.B")
    assert untagged(box.ok('LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN))')) == [
        '* LIST () "/" INBOX',
        '* STATUS INBOX (MESSAGES 0 UNSEEN 0)',
        '* LIST (\\Noselect) "/" A',
        '* LIST () "/" A/B',
        '* STATUS A/B (MESSAGES 1 UNSEEN 1)',
    ]


SPECIAL_CONFIG = """
namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = create
  }
  mailbox Trash {
    special_use = \\Trash
  }
}
"""


def test_special_use_from_config(server):
    start(server, SPECIAL_CONFIG)
    s = Session(server)
    assert untagged(s.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
        '* LIST (\\HasNoChildren \\Junk) "/" Junk',
        '* LIST (\\HasNoChildren \\Sent) "/" Sent',
    ]
    assert untagged(s.ok('LIST (SPECIAL-USE) "" "*"')) == [
        '* LIST (\\Drafts) "/" Drafts',
        '* LIST (\\Junk) "/" Junk',
        '* LIST (\\Sent) "/" Sent',
    ]
    assert untagged(s.ok('LSUB "" "*"')) == [
        '* LSUB () "/" Drafts',
        '* LSUB () "/" Sent',
    ]
    # RFC 6154 CREATE with USE: only what the configuration says.
    s.ok("CREATE Trash (USE (\\Trash))")
    assert s.result("CREATE Bin (USE (\\Trash))").startswith("NO [USEATTR]")
    assert untagged(s.ok('LIST "" "Trash" RETURN (SPECIAL-USE)')) == [
        '* LIST (\\Trash) "/" Trash']
    caps = untagged(s.ok("CAPABILITY"))[0]
    for cap in ("CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "STATUS=SIZE",
                "QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE", "COMPRESS=DEFLATE",
                "UTF8=ACCEPT"):
        assert " %s" % cap in caps
    s.close()


def test_namespace(server, box):
    assert untagged(box.ok("NAMESPACE")) == ['* NAMESPACE (("" "/")) NIL NIL']


def set_userdb_extra(server, extra):
    users = server.tmp / "users"
    lines = users.read_text().splitlines()
    lines = [l + extra if l.startswith(USER + ":") else l for l in lines]
    users.write_text("\n".join(lines) + "\n")


def test_quota_from_userdb(server):
    set_userdb_extra(server, "userdb_quota_rule=*:storage=1M:messages=10 "
                     "userdb_quota_rule2=Trash:storage=+1M")
    start(server)
    put_messages(server, [b"x" * 3000, b"y" * 2000])
    s = Session(server)
    assert untagged(s.ok("GETQUOTAROOT INBOX")) == [
        '* QUOTAROOT INBOX "User quota"',
        '* QUOTA "User quota" (STORAGE 4 1024 MESSAGE 2 10)',
    ]
    assert untagged(s.ok('GETQUOTA "User quota"')) == [
        '* QUOTA "User quota" (STORAGE 4 1024 MESSAGE 2 10)']
    assert s.result('GETQUOTA "Other"') == "NO [NONEXISTENT] Quota root doesn't exist."
    assert s.result('SETQUOTA "User quota" (STORAGE 512)').startswith("NO [CANNOT]")
    assert s.result('SETQUOTA "User quota" (STORAGE)').startswith("BAD")
    assert s.result("GETQUOTAROOT Nope").startswith("NO [NONEXISTENT]")
    s.ok("CREATE Trash")
    assert untagged(s.ok("GETQUOTAROOT Trash")) == [
        '* QUOTAROOT Trash "User quota"',
        '* QUOTA "User quota" (STORAGE 4 2048 MESSAGE 2 10)',
    ]
    s.close()


def test_quota_from_plugin(server):
    start(server, "plugin {\n  quota_rule = *:storage=10M\n  quota_rule2 = Trash:ignore\n}\n")
    s = Session(server)
    s.ok("CREATE Trash")
    assert untagged(s.ok("GETQUOTAROOT INBOX")) == [
        '* QUOTAROOT INBOX "User quota"',
        '* QUOTA "User quota" (STORAGE 0 10240)',
    ]
    assert untagged(s.ok("GETQUOTAROOT Trash")) == ["* QUOTAROOT Trash"]
    s.close()


def test_no_quota(server, box):
    assert untagged(box.ok("GETQUOTAROOT INBOX")) == ["* QUOTAROOT INBOX"]
    assert box.result('GETQUOTA "User quota"').startswith("NO [NONEXISTENT]")


def test_compress_deflate(server, box):
    """RFC 4978 with Python's zlib as the client: raw deflate both ways."""
    box.ok("CREATE Big")
    assert box.result("COMPRESS DEFLATE") == "OK Begin compression."
    box.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    box.inflate = zlib.decompressobj(-15)
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasNoChildren) "/" Big',
    ]
    assert box.result("COMPRESS DEFLATE").startswith("NO [COMPRESSIONACTIVE]")
    # Many commands in one compressed burst, and a long one.
    names = ["Box%03d" % i for i in range(200)]
    burst = b"".join(b"c%d CREATE %s\r\n" % (i, n.encode()) for i, n in enumerate(names))
    box.send(burst)
    for i in range(len(names)):
        line = box.readline()
        assert line == b"c%d OK Create completed." % i, line
    lines = untagged(box.ok('LIST "" "Box*"'))
    assert len(lines) == 200
    box.ok("NOOP")


def test_compress_bad_input(server, box):
    assert box.result("COMPRESS GZIP").startswith("BAD")
    assert box.result("COMPRESS DEFLATE") == "OK Begin compression."
    box.f.write(b"\xff\xfe garbage that is not deflate")
    box.f.flush()
    box.sock.settimeout(10)
    assert box.sock.recv(100) == b""
    server.wait_log(r"Invalid compressed input")


def test_concurrent_sessions(server, box):
    other = Session(server)
    other.ok("CREATE Shared")
    assert '* LIST (\\HasNoChildren) "/" Shared' in untagged(box.ok('LIST "" "*"'))
    box.ok("SELECT Shared")
    other.ok("DELETE Shared")
    assert box.result("STATUS INBOX (MESSAGES)").startswith("OK")
    other.close()


def test_delete_selected_and_children(server, box):
    box.ok("CREATE Parent/Child")
    box.ok("CREATE Parent")
    box.ok("SELECT Parent")
    box.ok("DELETE Parent")
    assert box.result("CHECK").startswith("BAD")
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\Noselect \\HasChildren) "/" Parent',
        '* LIST (\\HasNoChildren) "/" Parent/Child',
    ]
    assert box.result("DELETE Parent").startswith("NO [NONEXISTENT]")


def test_many_mailboxes(server, box):
    """Listing more than a few dozen mailboxes (glibc's qsort asks the
    kernel for the memory size on its first large sort: the sandbox must
    allow it)."""
    uid, gid = mail_user()
    for i in range(150):
        d = maildir(server) / (".Many%03d" % i)
        for sub in ("cur", "new", "tmp"):
            (d / sub).mkdir(parents=True)
    for dirpath, _, _ in os.walk(maildir(server)):
        os.chown(dirpath, uid, gid)
    lines = untagged(box.ok('LIST "" "*"'))
    assert len(lines) == 151
    assert lines[1] == '* LIST (\\HasNoChildren) "/" Many000'


BAD_NAMES = [
    b"../x", b"..", b"a/../../x", b"INBOX/../../x", b"~x", b"~/x", b"/etc/passwd", b"/x",
    b"a//b", b".hidden", b"a/.b", b"a.b", b"&Jjo!", b"&AC4ALg-&AC4ALg-",
    b"x" * 300, b"/".join([b"d"] * 40), b"&ZeVn", b"cur/..",
]
CONTROL_NAMES = [b"a\x00b", b"a\x01b", b"\x7f", b"a\rb", b"a\nb", b"\x1b[2J"]


def snapshot(root, skip):
    """Every path under root (but skip) with its type, size and mtime."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if path in skip:
                continue
            st = os.lstat(path)
            state[path] = (st.st_mode, st.st_size if not os.path.isdir(path) else 0,
                           st.st_mtime_ns if not os.path.isdir(path) else 0)
    return state


def literal_cmd(box, verb, name, extra=b""):
    return box.cmd(verb + b" {%d+}\r\n" % len(name) + name + extra)[-1].split(b" ", 1)[1]


def owned_by(path, uid):
    try:
        return os.lstat(os.path.join("/", path)).st_uid == uid
    except FileNotFoundError:
        return False


def test_mailbox_argument_answers(server, box):
    """Every command that names one mailbox first answers a missing, extra
    or wrongly typed argument, an invalid name and (where the mailbox must
    exist) a missing mailbox in the same words."""
    bad = "BAD Invalid arguments."
    empty = "NO [CANNOT] Invalid mailbox name."
    mutf7 = "NO [CANNOT] Invalid mailbox name: not valid modified UTF-7."
    for verb, rest in (("CREATE", ""), ("DELETE", ""), ("SUBSCRIBE", ""), ("UNSUBSCRIBE", ""),
                       ("GETQUOTAROOT", ""), ("SELECT", ""), ("EXAMINE", ""),
                       ("STATUS", " (MESSAGES)")):
        assert box.result(verb) == bad, verb
        assert box.result("%s (INBOX)%s" % (verb, rest)) == bad, verb
        assert box.result("%s INBOX%s x y" % (verb, rest)) == bad, verb
        assert box.result('%s ""%s' % (verb, rest)) == empty, verb
        assert box.result("%s &Jjo%s" % (verb, rest)) == mutf7, verb
    for verb in ("DELETE", "UNSUBSCRIBE", "GETQUOTAROOT", "STATUS"):
        assert box.result("%s INBOX x" % verb) == bad, verb
    assert box.result("STATUS INBOX") == bad
    assert box.result("STATUS INBOX (NOTANITEM)") == "BAD Invalid status items."
    assert box.result("SELECT INBOX (NOTAPARAM)") == "BAD Unknown SELECT parameter."
    for verb in ("SUBSCRIBE", "GETQUOTAROOT", "STATUS"):
        rest = " (MESSAGES)" if verb == "STATUS" else ""
        assert box.result("%s Nope%s" % (verb, rest)) == \
            "NO [NONEXISTENT] Mailbox doesn't exist: Nope", verb
    # A trailing separator only says children will follow (CREATE alone).
    assert box.result("CREATE Parent/") == "OK Create completed."
    assert untagged(box.ok('LIST "" Parent')) == ['* LIST (\\HasNoChildren) "/" Parent']
    assert box.result("DELETE Parent/").startswith("NO")
    assert box.result("UNSUBSCRIBE Nope") == "OK Unsubscribe completed."


def test_invalid_names_never_leave_the_mail_root(server, box):
    """Invalid mailbox names get NO or BAD and nothing changes on disk
    outside the user's Maildir (nor inside it, beyond what valid commands
    do), whatever command carries them."""
    box.ok("CREATE Valid")
    box.ok("CREATE Valid/Child")
    mail = str(maildir(server))
    skip = {str(server.log_path), str(server.base_dir), str(server.tmp / "state")}
    outside_before = snapshot(str(server.tmp), skip | {mail})
    top_before = set(os.listdir("/")) | set("/tmp/" + n for n in os.listdir("/tmp"))
    dirs_before = sorted(p for p, _, _ in os.walk(mail))
    for name in BAD_NAMES + CONTROL_NAMES:
        answers = [
            literal_cmd(box, b"CREATE", name),
            literal_cmd(box, b"DELETE", name),
            literal_cmd(box, b"SUBSCRIBE", name),
            literal_cmd(box, b"STATUS", name, b" (MESSAGES)"),
            literal_cmd(box, b"SELECT", name),
            literal_cmd(box, b"EXAMINE", name),
            literal_cmd(box, b"GETQUOTAROOT", name),
            box.cmd(b"RENAME Valid {%d+}\r\n" % len(name) + name)[-1].split(b" ", 1)[1],
            box.cmd(b"RENAME {%d+}\r\n" % len(name) + name + b" Other")[-1].split(b" ", 1)[1],
        ]
        for answer in answers:
            assert answer.startswith(b"NO") or answer.startswith(b"BAD"), (name, answers)
    # UNSUBSCRIBE of an invalid name is refused too, LIST patterns find nothing.
    assert literal_cmd(box, b"UNSUBSCRIBE", b"../x").startswith(b"NO")
    assert untagged(box.ok('LIST "" "../*"')) == []
    assert untagged(box.ok('LIST "../" "*"')) == []
    assert untagged(box.ok('LIST "/" "*"')) == []
    assert untagged(box.ok('LIST "~" "*"')) == []
    assert snapshot(str(server.tmp), skip | {mail}) == outside_before
    # Other programs on the machine come and go in /tmp: only what the mail
    # user owns could be ours.
    top_after = set(os.listdir("/")) | set("/tmp/" + n for n in os.listdir("/tmp"))
    assert [p for p in top_after - top_before if owned_by(p, mail_user()[0])] == []
    assert sorted(p for p, _, _ in os.walk(mail)) == dirs_before
    # The session still works, and the valid names are all there.
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasChildren) "/" Valid',
        '* LIST (\\HasNoChildren) "/" Valid/Child',
    ]


def test_curl_list(server, box):
    box.ok("CREATE Archive")
    box.ok("CREATE &ZeVnLIqe-")
    r = subprocess.run(["curl", "-s", "--max-time", "20", "--user", "%s:%s" % (USER, PASSWORD),
                        "imap://127.0.0.1:%d/" % server.ports["imap"]],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r
    assert r.stdout.decode().splitlines() == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasNoChildren) "/" Archive',
        '* LIST (\\HasNoChildren) "/" &ZeVnLIqe-',
    ]
    # A custom command: STATUS through curl's -X.
    r = subprocess.run(["curl", "-s", "--max-time", "20", "--user", "%s:%s" % (USER, PASSWORD),
                        "-X", "STATUS Archive (MESSAGES UIDNEXT)",
                        "imap://127.0.0.1:%d/" % server.ports["imap"]],
                       capture_output=True, timeout=30)
    assert r.stdout.decode().splitlines() == ["* STATUS Archive (MESSAGES 0 UIDNEXT 1)"]


def mbsync_config(server, local):
    path = server.tmp / "mbsyncrc"
    path.write_text(
        "IMAPAccount roost\n"
        "Host 127.0.0.1\nPort %d\nUser %s\nPass \"%s\"\nSSLType None\nAuthMechs LOGIN\n\n"
        "IMAPStore remote\nAccount roost\n\n"
        "MaildirStore local\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n"
        "Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\n"
        "Expunge Both\nSyncState *\n"
        % (server.ports["imap"], USER, PASSWORD, local, local))
    return path


def run_mbsync(config, *args):
    r = subprocess.run(["mbsync", "-c", str(config)] + list(args), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r.stdout + r.stderr


def test_mbsync(server, box):
    """Debian's isync: mailbox listing, and a two-way sync that finds nothing
    to do the second time."""
    box.ok("CREATE Archive")
    box.ok("CREATE Lists/roost")
    local = server.tmp / "mbsync-local"
    local.mkdir()
    config = mbsync_config(server, local)
    r = subprocess.run(["mbsync", "-c", str(config), "-l", "sync"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r
    assert sorted(r.stdout.split()) == ["Archive", "INBOX", "Lists/roost"], r
    put_messages(server, [MSG, MSG + b"second\r\n"])
    put_messages(server, [MSG + b"archived\r\n"], ".Archive")
    (local / "Outbox" / "cur").mkdir(parents=True)
    (local / "Outbox" / "new").mkdir()
    (local / "Outbox" / "tmp").mkdir()
    (local / "Outbox" / "new" / "1.local.host").write_bytes(b"Subject: up\n\nfrom mbsync\n")
    run_mbsync(config, "sync")
    assert len(os.listdir(local / "INBOX" / "new")) + len(os.listdir(local / "INBOX" / "cur")) == 2
    assert untagged(box.ok("STATUS Outbox (MESSAGES)")) == ["* STATUS Outbox (MESSAGES 1)"]

    def messages():
        found = set()
        for root in (local, maildir(server)):
            for dirpath, _, filenames in os.walk(root):
                if os.path.basename(dirpath) in ("cur", "new"):
                    found.update(os.path.join(dirpath, f) for f in filenames)
        return found

    before = messages()
    out = run_mbsync(config, "sync")
    # Second run: nothing to propagate in either direction.
    assert messages() == before, out
    m = re.findall(r"Far: \+(\d+) \*(\d+) #(\d+) -(\d+)\s+Near: \+(\d+) \*(\d+) #(\d+) -(\d+)",
                   out)
    assert not m or set(m[-1]) == {"0"}, out
