#!/usr/bin/python3
"""Dovecot compatibility of roost's Maildir store, checked against the real
Dovecot from Debian (dovecot-imapd), run privately in PREAUTH mode (no
daemon, no listener, no system configuration touched).

1. Dovecot writes a Maildir (APPEND with flags, keywords and dates, STORE,
   EXPUNGE, CREATE, SUBSCRIBE); roost must report the same UIDVALIDITY,
   UIDNEXT, UIDs, flags, keywords, RFC822.SIZE, mailboxes and subscriptions.
2. roost writes a Maildir (saves, flag changes, expunge, folders,
   subscriptions); Dovecot must report the same, and a message Dovecot then
   appends must show up in roost with the UID Dovecot gave it.

Skips cleanly (exit 0, or pytest skip) when Dovecot is not installed.
Builds tests/storage/storage-tool.c against $ROOST_BUILD (default
build/test) and needs `make test-build` first.

usage: tests/storage/dovecot-compat.py     (or collected by pytest)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

DOVECOT_IMAP = "/usr/lib/dovecot/imap"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOBODY = 65534


class Skip(Exception):
    pass


def have_dovecot():
    return os.access(DOVECOT_IMAP, os.X_OK)


class Env:
    """A scratch directory, a Dovecot config for it, and the roost tool."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="roost-dovecot-compat.")
        os.chmod(self.dir, 0o755)
        self.root_user = os.getuid() == 0
        self.uid = NOBODY if self.root_user else os.getuid()
        self.gid = NOBODY if self.root_user else os.getgid()
        self.mail = os.path.join(self.dir, "mail")
        self.home = os.path.join(self.dir, "home")
        for d in (self.mail, self.home, os.path.join(self.dir, "run")):
            os.makedirs(d)
            os.chown(d, self.uid, self.gid)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""base_dir = %(d)s/run
state_dir = %(d)s/run
log_path = %(d)s/dovecot.log
ssl = no
mail_uid = %(uid)d
mail_gid = %(gid)d
first_valid_uid = %(uid)d
first_valid_gid = %(gid)d
mail_location = maildir:%(d)s/mail/%%n
mail_fsync = never
namespace inbox {
  inbox = yes
  separator = /
}
""" % {"d": self.dir, "uid": self.uid, "gid": self.gid})
        build = os.environ.get("ROOST_BUILD", os.path.join(ROOT, "build/test"))
        self.tool = os.path.join(self.dir, "storage-tool")
        sanitize = (["-fsanitize=address,undefined"] if os.environ.get("ROOST_ASAN") == "1"
                    else [])
        subprocess.run(["gcc", "-std=c17", "-O1", "-D_GNU_SOURCE"] + sanitize + [
                        "-I" + os.path.join(ROOT, "lib"), "-I" + os.path.join(ROOT, "storage"),
                        "-o", self.tool, os.path.join(ROOT, "tests/storage/storage-tool.c"),
                        os.path.join(build, "libstorage.a"), os.path.join(build, "libroost.a"),
                        "-lz"], check=True)
        os.chmod(self.tool, 0o755)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def _demote(self):
        if self.root_user:
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)

    def imap(self, user, commands):
        """Runs Dovecot's imap in PREAUTH mode with the given lines."""
        data = b"".join(c if isinstance(c, bytes) else c.encode() + b"\r\n" for c in commands)
        data += b"zz LOGOUT\r\n"
        env = {"USER": user, "HOME": self.home, "PATH": "/usr/bin:/bin"}
        p = subprocess.run([DOVECOT_IMAP, "-c", self.conf], input=data, env=env,
                           capture_output=True, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        if "zz OK" not in out:
            raise AssertionError("dovecot failed:\n" + out + p.stderr.decode())
        for line in out.splitlines():
            m = re.match(r"^(\w+) (NO|BAD) ", line)
            if m and m.group(1) != "zz":
                raise AssertionError("dovecot said: " + line)
        return out

    def tool_run(self, user, *args):
        p = subprocess.run([self.tool, os.path.join(self.mail, user)] + list(args),
                           capture_output=True, text=True, preexec_fn=self._demote, timeout=60)
        if p.returncode != 0:
            raise AssertionError("storage-tool %s: %s" % (args, p.stderr))
        return p.stdout

    def write_file(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
        return path


def append_cmd(tag, box, flags, data, date=None):
    lit = b"%s APPEND %s (%s)%s {%d}\r\n" % (
        tag.encode(), box.encode(), flags.encode(),
        (b' "' + date.encode() + b'"') if date else b"", len(data))
    return lit + data + b"\r\n"


def norm_flags(text):
    """A comparable set of flags from an IMAP FLAGS list (\\Recent dropped)."""
    return frozenset(f.lower() for f in text.split() if f.lower() != "\\recent")


def dovecot_view(out):
    """UIDVALIDITY, UIDNEXT and {uid: (size, flags)} from SELECT + FETCH output."""
    uidvalidity = int(re.search(r"\[UIDVALIDITY (\d+)\]", out).group(1))
    uidnext = int(re.search(r"\[UIDNEXT (\d+)\]", out).group(1))
    msgs = {}
    for m in re.finditer(r"\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) RFC822\.SIZE (\d+)\)", out):
        msgs[int(m.group(1))] = (int(m.group(3)), norm_flags(m.group(2)))
    return uidvalidity, uidnext, msgs


def roost_view(dump):
    uidvalidity = int(re.search(r"^UIDVALIDITY (\d+)$", dump, re.M).group(1))
    uidnext = int(re.search(r"^UIDNEXT (\d+)$", dump, re.M).group(1))
    msgs = {}
    for m in re.finditer(r"^MSG (\d+) (\d+) \(([^)]*)\)$", dump, re.M):
        msgs[int(m.group(1))] = (int(m.group(2)), norm_flags(m.group(3)))
    return uidvalidity, uidnext, msgs


MSGS = [
    (b"From: a@example.com\r\nSubject: one\r\n\r\nfirst body\r\n", "\\Seen", None),
    (b"From: b@example.com\r\nSubject: two\r\n\r\nsecond\r\nbody\r\n", "\\Flagged $Junk",
     "14-Nov-2023 22:13:20 +0000"),
    (b"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n", "", None),
    (b"From: d@example.com\r\nSubject: four\r\n\r\n" + b"x" * 5000 + b"\r\n",
     "\\Answered Work", None),
    (b"From: e@example.com\r\nSubject: five\r\n\r\nfifth\r\n", "\\Draft", None),
]


def check_dovecot_written(env):
    user = "dcuser"
    cmds = [append_cmd("a%d" % i, "INBOX", fl, data, date)
            for i, (data, fl, date) in enumerate(MSGS)]
    cmds += ["c1 CREATE Lists/roost", "c2 CREATE Sent", "c3 SUBSCRIBE Lists/roost",
             "c5 CREATE &ZeVnLIqe-", "c6 SUBSCRIBE &ZeVnLIqe-",
             "c4 SUBSCRIBE INBOX", "s0 SELECT INBOX",
             "s1 STORE 3 +FLAGS (\\Deleted NonJunk)", "s2 STORE 1 -FLAGS (\\Seen)",
             "s3 EXPUNGE",
             append_cmd("a9", "Lists/roost", "\\Seen", b"Subject: list\r\n\r\nl\r\n")]
    env.imap(user, cmds)
    out = env.imap(user, ["f0 SELECT INBOX", "f1 FETCH 1:* (UID FLAGS RFC822.SIZE)"])
    d_uv, d_next, d_msgs = dovecot_view(out)
    r_uv, r_next, r_msgs = roost_view(env.tool_run(user, "dump", "INBOX"))
    assert (r_uv, r_next) == (d_uv, d_next), ((r_uv, r_next), (d_uv, d_next))
    assert r_msgs == d_msgs, (r_msgs, d_msgs)
    assert sorted(d_msgs) == [1, 2, 4, 5]
    out = env.imap(user, ["g0 SELECT Lists/roost", "g1 FETCH 1:* (UID FLAGS RFC822.SIZE)"])
    assert roost_view(env.tool_run(user, "dump", "Lists/roost")) == dovecot_view(out)
    listing = env.tool_run(user, "list")
    for line in ("LIST INBOX \\Subscribed", "LIST Lists \\Noselect", "LIST Lists/roost \\Subscribed",
                 "LIST Sent", "LIST \u65e5\u672c\u8a9e \\Subscribed"):
        assert line + "\n" in listing, (line, listing)
    # Dovecot's own index gone: roost still reads its uidlist the same way,
    # and its own index (rebuilt once) agrees too.
    for f in os.listdir(os.path.join(env.mail, user)):
        if f.startswith("dovecot.index") or f.startswith("roost.index"):
            os.unlink(os.path.join(env.mail, user, f))
    assert roost_view(env.tool_run(user, "dump", "INBOX"))[2] == d_msgs
    assert roost_view(env.tool_run(user, "dump", "INBOX"))[2] == d_msgs


def check_roost_written(env):
    user = "rouser"
    os.makedirs(os.path.join(env.mail, user))
    os.chown(os.path.join(env.mail, user), env.uid, env.gid)
    uids = []
    for i, (data, fl, _) in enumerate(MSGS):
        path = env.write_file("m%d" % i, data.replace(b"\r\n", b"\n"))
        uids.append(int(env.tool_run(user, "save", "INBOX", fl, path)))
    assert uids == [1, 2, 3, 4, 5], uids
    env.tool_run(user, "store", "INBOX", "3", "\\Seen \\Deleted NonJunk")
    env.tool_run(user, "expunge", "INBOX", "1")
    env.tool_run(user, "create", "Lists/roost")
    env.tool_run(user, "create", "Sent")
    env.tool_run(user, "create", "Caf\u00e9")
    env.tool_run(user, "subscribe", "Lists/roost")
    env.tool_run(user, "subscribe", "Caf\u00e9")
    r_uv, r_next, r_msgs = roost_view(env.tool_run(user, "dump", "INBOX"))
    out = env.imap(user, ["f0 SELECT INBOX", "f1 FETCH 1:* (UID FLAGS RFC822.SIZE)",
                          'f2 LIST "" *', 'f3 LSUB "" *'])
    assert dovecot_view(out) == (r_uv, r_next, r_msgs), (dovecot_view(out), r_msgs)
    assert '* LIST (\\HasNoChildren) "/" Lists/roost' in out, out
    assert '* LIST (\\HasNoChildren) "/" Sent' in out, out
    assert '* LSUB () "/" Lists/roost' in out, out
    assert '* LIST (\\HasNoChildren) "/" Caf&AOk-' in out, out
    assert '* LSUB () "/" Caf&AOk-' in out, out
    # Dovecot appends; roost sees the UID Dovecot handed out.
    out = env.imap(user, [append_cmd("a1", "INBOX", "\\Flagged", b"Subject: dc\r\n\r\nd\r\n")])
    uid = int(re.search(r"\[APPENDUID \d+ (\d+)\]", out).group(1))
    assert uid == r_next, (uid, r_next)
    r_uv2, r_next2, r_msgs2 = roost_view(env.tool_run(user, "dump", "INBOX"))
    assert r_uv2 == r_uv and r_next2 == uid + 1
    assert r_msgs2[uid][1] == frozenset(["\\flagged"]), r_msgs2
    # And roost appends after Dovecot: the next UID again.
    path = env.write_file("m9", b"Subject: after\n\na\n")
    assert int(env.tool_run(user, "save", "INBOX", "", path)) == uid + 1
    out = env.imap(user, ["h0 SELECT INBOX", "h1 FETCH 1:* (UID FLAGS RFC822.SIZE)"])
    assert dovecot_view(out)[2] == roost_view(env.tool_run(user, "dump", "INBOX"))[2]


def run_all():
    if not have_dovecot():
        raise Skip("dovecot-imapd is not installed (%s missing)" % DOVECOT_IMAP)
    env = Env()
    try:
        check_dovecot_written(env)
        check_roost_written(env)
    finally:
        env.cleanup()


def test_dovecot_compat():
    try:
        run_all()
    except Skip as e:
        import pytest
        pytest.skip(str(e))


if __name__ == "__main__":
    try:
        run_all()
    except Skip as e:
        print("dovecot-compat: SKIP: %s" % e)
        sys.exit(0)
    print("dovecot-compat: ok")
