"""roostadm mailbox list|status|create -u USER and roostadm force-resync -u
USER against a real server and a Maildir with messages: doveadm's output
shapes and exit codes, the values IMAP reports for the same mailboxes, the
user's identity on what it creates, its Landlock confinement, and an index
deleted or corrupted and rebuilt with the UIDs unchanged."""
import imaplib
import os
import re
import shutil
import subprocess

from conftest import PASSWORD, Roost, imap, mail_user, need_root, pop3, start
from test_pop3 import maildir, put_messages

USER = "jdoe@example.com"

MESSAGES = [
    b"From: a@example.com\nSubject: one\n\nfirst\n",
    b"From: b@example.com\r\nSubject: two\r\n\r\nsecond message\r\n",
    b"From: c@example.com\nSubject: three\n\nthird\nwith two lines\n",
]


def adm_mail(server, *args, check=True):
    r = server.adm(*args, check=check)
    # The sanitizer build traps instead of killing: nothing may be trapped.
    assert "trapped forbidden system call" not in r.stderr, r.stderr
    assert "AddressSanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr
    return r


def status_fields(line):
    """"NAME k=v k=v" -> (NAME, {k: int(v)})."""
    name, _, rest = line.partition(" ")
    return name, {k: int(v) for k, v in (item.split("=") for item in rest.split())}


def imap_uids(server):
    """UIDVALIDITY (IMAP SELECT) and the UIDL of every INBOX message (POP3,
    which derives it from the UID and UIDVALIDITY)."""
    m = imap(server)
    m.login(USER, PASSWORD)
    typ, data = m.select("INBOX", readonly=True)
    assert typ == "OK"
    uidvalidity = int(m.untagged_responses["UIDVALIDITY"][0])
    m.logout()
    p = pop3(server)
    p.user(USER)
    p.pass_(PASSWORD)
    uidls = [line.split()[1] for line in p.uidl()[1]]
    p.quit()
    return uidvalidity, uidls


def test_mailbox_list_create_status(server):
    put_messages(server, MESSAGES)
    start(server)
    uid, gid = mail_user()

    assert adm_mail(server, "mailbox", "list", "-u", USER).stdout == "INBOX\n"
    adm_mail(server, "mailbox", "create", "-u", USER, "Archive", "Archive/2024")
    adm_mail(server, "mailbox", "create", "-u", USER, "-s", "Sent", "Entwürfe")
    # Created as the user, not as root.
    for folder in (".Archive", ".Archive.2024", ".Sent"):
        st = os.stat(maildir(server) / folder)
        assert (st.st_uid, st.st_gid) == (uid, gid), folder
    listed = adm_mail(server, "mailbox", "list", "-u", USER).stdout.splitlines()
    assert listed == ["INBOX", "Archive", "Archive/2024", "Entwürfe", "Sent"]
    assert adm_mail(server, "mailbox", "list", "-u", USER, "-s").stdout == "Entwürfe\nSent\n"
    assert adm_mail(server, "mailbox", "list", "-u", USER, "A%").stdout == "Archive\n"
    assert adm_mail(server, "mailbox", "list", "-u", USER, "A*").stdout == \
        "Archive\nArchive/2024\n"
    assert adm_mail(server, "mailbox", "list", "-u", USER, "inbox").stdout == "INBOX\n"
    assert adm_mail(server, "mailbox", "list", "-u", USER, "%/%", "S*").stdout == \
        "Archive/2024\nSent\n"
    # The IMAP client sees the same.
    m = imap(server)
    m.login(USER, PASSWORD)
    typ, data = m.list()
    assert typ == "OK"
    assert len(data) == 5
    typ, data = m.status("INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")
    m.logout()
    imap_status = dict(zip(*[iter(re.search(rb"\((.*)\)", data[0]).group(1).split())] * 2))

    # One existing name does not stop the others.
    r = adm_mail(server, "mailbox", "create", "-u", USER, "Sent", "Drafts", check=False)
    assert r.returncode == 65
    r = adm_mail(server, "mailbox", "create", "-u", USER, "Sent", check=False)
    assert r.returncode == 65 and "Can't create mailbox Sent: Mailbox already exists" in r.stderr
    r = adm_mail(server, "mailbox", "create", "-u", USER, "INBOX", check=False)
    assert r.returncode == 65
    r = adm_mail(server, "mailbox", "create", "-u", USER, "", check=False)
    assert r.returncode == 64, r.stderr

    # status: doveadm's fields, fixed order, the values IMAP gives.
    out = adm_mail(server, "mailbox", "status", "-u", USER, "all", "INBOX").stdout
    name, values = status_fields(out.strip())
    assert name == "INBOX"
    assert list(values) == ["messages", "recent", "uidnext", "uidvalidity", "unseen",
                            "highestmodseq", "vsize"]
    assert values["messages"] == 3 == int(imap_status[b"MESSAGES"])
    assert values["uidnext"] == 4 == int(imap_status[b"UIDNEXT"])
    assert values["uidvalidity"] == int(imap_status[b"UIDVALIDITY"])
    assert values["unseen"] == 3 == int(imap_status[b"UNSEEN"])
    # vsize counts CRLF line ends.
    assert values["vsize"] == sum(len(m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
                                  for m in MESSAGES)
    out = adm_mail(server, "mailbox", "status", "-u", USER, "unseen messages", "INBOX",
                   "Archive").stdout
    assert out == "INBOX messages=3 unseen=3\nArchive messages=0 unseen=0\n"
    out = adm_mail(server, "mailbox", "status", "-u", USER, "messages", "*").stdout
    assert out.splitlines() == ["INBOX messages=3", "Archive messages=0",
                                "Archive/2024 messages=0", "Drafts messages=0",
                                "Entwürfe messages=0", "Sent messages=0"]
    out = adm_mail(server, "mailbox", "status", "-u", USER, "-t", "all", "*").stdout
    assert out == "messages=3 recent=%d unseen=3 vsize=%d\n" % (values["recent"],
                                                                values["vsize"])

    # Errors, in doveadm's words and codes.
    r = adm_mail(server, "mailbox", "status", "-u", USER, "messages", "Nope", check=False)
    assert r.returncode == 68 and "Mailbox doesn't exist: Nope" in r.stderr, r.stderr
    r = adm_mail(server, "mailbox", "status", "-u", USER, "bogus", "INBOX", check=False)
    assert r.returncode == 64 and "Unknown status field: bogus" in r.stderr
    r = adm_mail(server, "mailbox", "status", "-u", USER, "-t", "uidnext", "*", check=False)
    assert r.returncode == 64 and "uidnext can't be used with -t" in r.stderr
    r = adm_mail(server, "mailbox", "list", "-u", "nobody@example.com", check=False)
    assert r.returncode == 67 and "doesn't exist" in r.stderr
    r = adm_mail(server, "mailbox", "list", check=False)
    assert r.returncode == 64

    # Matching takes time linear in the mask, whatever its wildcards.
    adm_mail(server, "mailbox", "create", "-u", USER, "a" * 200)
    r = adm_mail(server, "mailbox", "list", "-u", USER, "*a" * 40 + "*b")
    assert r.stdout == ""


def test_mailbox_commands_are_confined(server, work_dir):
    """A folder that is a symlink to a Maildir outside the user's home
    cannot be read: Landlock stops roostadm as it stops roost-imap."""
    put_messages(server, MESSAGES[:1])
    uid, gid = mail_user()
    outside = work_dir / "outside"
    for sub in ("cur", "new", "tmp"):
        (outside / sub).mkdir(parents=True)
    (outside / "new" / "1.M1P1.host").write_bytes(MESSAGES[0])
    for path in [outside] + list(outside.rglob("*")):
        os.chown(path, uid, gid)
    os.symlink(outside, maildir(server) / ".Elsewhere")
    start(server)
    r = adm_mail(server, "mailbox", "status", "-u", USER, "messages", "Elsewhere", check=False)
    assert r.returncode == 75, r.stdout + r.stderr
    assert "Permission denied" in r.stderr, r.stderr
    assert "messages=1" not in r.stdout
    # The user's own mail still reads.
    assert adm_mail(server, "mailbox", "status", "-u", USER, "messages",
                    "INBOX").stdout == "INBOX messages=1\n"
    assert not list((outside / "cur").iterdir())


def test_force_resync_rebuilds_a_lost_or_corrupt_index(server):
    put_messages(server, MESSAGES)
    start(server)
    uid, gid = mail_user()
    before = imap_uids(server)
    assert len(before[1]) == 3
    index = maildir(server) / "roost.index"
    assert index.exists()

    # Deleted: rebuilt from the Maildir, same UIDs and UIDVALIDITY.
    for path in maildir(server).glob("roost.index*"):
        path.unlink()
    adm_mail(server, "force-resync", "-u", USER, "INBOX")
    assert index.exists()
    assert (index.stat().st_uid, index.stat().st_gid) == (uid, gid)
    assert imap_uids(server) == before

    # Corrupted: noticed, logged, rebuilt.
    index.write_bytes(b"\0garbage" * 64)
    r = adm_mail(server, "force-resync", "-u", USER, "*")
    assert "rebuilding the index" in r.stderr, r.stderr
    assert not index.read_bytes().startswith(b"\0garbage")
    assert imap_uids(server) == before
    out = adm_mail(server, "mailbox", "status", "-u", USER, "messages uidnext", "INBOX").stdout
    assert out == "INBOX messages=3 uidnext=4\n"

    # A message that arrived meanwhile gets the next UID.
    fourth = maildir(server) / "new" / "1800000000.M9P9.testhost"
    fourth.write_bytes(b"Subject: four\n\nfourth\n")
    os.chown(fourth, uid, gid)
    adm_mail(server, "force-resync", "-u", USER, "INBOX")
    out = adm_mail(server, "mailbox", "status", "-u", USER, "messages", "INBOX").stdout
    assert out == "INBOX messages=4\n"
    uidvalidity, uids = imap_uids(server)
    assert uidvalidity == before[0] and uids[:3] == before[1] and len(uids) == 4

    r = adm_mail(server, "force-resync", "-u", USER, "Nope", check=False)
    assert r.returncode == 68 and "Mailbox doesn't exist: Nope" in r.stderr
    r = adm_mail(server, "force-resync", "-u", USER, check=False)
    assert r.returncode == 64


def test_mailbox_commands_without_server(work_dir):
    need_root()
    server = Roost(work_dir)
    server.write_config()
    r = server.adm("mailbox", "list", "-u", USER, check=False)
    assert r.returncode == 75 and "The server is not running" in r.stderr
    r = server.adm("force-resync", "-u", USER, "INBOX", check=False)
    assert r.returncode == 75
    shutil.rmtree(work_dir / "run", ignore_errors=True)


def test_security_md_documents_the_profile():
    """SECURITY.md's allow-list for roostadm is what the binary enforces."""
    from conftest import BUILD, ROOT
    out = subprocess.run([str(BUILD / "bin" / "roostadm"), "--sandbox-profile"],
                         capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert fields["profile"].strip() == "roostadm"
    assert fields["landlock"].strip() == "fs=deny net=deny scope=on"
    text = " ".join((ROOT / "SECURITY.md").read_text().split())
    m = re.search(r"- (?:\*\*\w+\*\*, )*\*\*roostadm\*\*: (.*?)(?= - \*\*|OpenSSL:)", text)
    assert m
    documented = " ".join(re.findall(r"`([^`]*)`", m.group(1))).split()
    assert sorted(fields["syscalls"].split()) == sorted(documented)
    assert "| `roostadm` mail commands" in text


def test_mailbox_commands_as_the_user(server):
    """Run by the user itself (not root) they work without changing
    identity; run by anyone else they refuse."""
    put_messages(server, MESSAGES[:2])
    start(server, "service auth {\n  unix_listener auth-userdb {\n    group = vmail\n  }\n}\n")
    uid, gid = mail_user()
    for path in [server.tmp, server.base_dir, server.config_path]:
        os.chmod(path, os.stat(path).st_mode | 0o005)

    def as_ids(u, g):
        def drop():
            os.setgroups([])
            os.setgid(g)
            os.setuid(u)
        return drop

    cmd = [server.roostadm, "-c", str(server.config_path), "mailbox", "status", "-u", USER,
           "messages", "INBOX"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                       preexec_fn=as_ids(uid, gid))
    assert r.returncode == 0 and r.stdout == "INBOX messages=2\n", r.stdout + r.stderr
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                       preexec_fn=as_ids(65534, gid))
    assert r.returncode == 75, r.stdout + r.stderr
    assert "run roostadm as root or as that user" in r.stderr, r.stderr
    # Outside the socket's group: told so, not that the server is down.
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                       preexec_fn=as_ids(65534, 65534))
    assert r.returncode == 75, r.stdout + r.stderr
    assert "auth-userdb) failed: Permission denied" in r.stderr, r.stderr
    assert "not running" not in r.stderr
