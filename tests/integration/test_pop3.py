"""POP3 on the mail store (RFC 1939, RFC 2449): listing, retrieval byte for
byte, deletion only in the UPDATE state, stable UIDLs, the session lock and
pipelining, with Python's poplib and raw sockets against the real server."""
import os
import pathlib
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import ASAN, CLIENT_TIMEOUT, PASSWORD, connect, mail_user, pop3, start, wait_for


def maildir(server, user="jdoe@example.com"):
    return server.tmp / "home" / user / "Maildir"


def put_messages(server, messages, user="jdoe@example.com"):
    """Drops messages into the user's Maildir new/ as a delivery would."""
    uid, gid = mail_user()
    root = maildir(server, user)
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(messages):
        path = root / "new" / ("%d.M%dP1.testhost" % (1700000000 + i, i))
        path.write_bytes(data)
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for f in filenames:
            os.chown(os.path.join(dirpath, f), uid, gid)


def crlf(data):
    """What POP3 must send for a stored message: CRLF line ends."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def login(server):
    p = pop3(server)
    p.user("jdoe@example.com")
    assert p.pass_(PASSWORD) == b"+OK Logged in."
    return p


MESSAGES = [
    b"From: a@example.com\nSubject: lf only\n\nline one\n.starts with a dot\n..two dots\nlast",
    b"From: b@example.com\r\nSubject: crlf\r\n\r\nbody\r\n.\r\nafter a lone dot\r\n",
    b"X-UIDL: legacy-uidl-1\nSubject: top\n\n1\n2\n3\n4\n5\n",
]


def test_list_retr_top_byte_for_byte(server):
    put_messages(server, MESSAGES)
    start(server)
    p = login(server)
    count, size = p.stat()
    assert count == 3
    expected_sizes = [len(crlf(m)) for m in MESSAGES]
    assert size == sum(expected_sizes)
    resp, lines, _ = p.list()
    assert resp == b"+OK 3 messages:"
    assert lines == [b"%d %d" % (i + 1, s) for i, s in enumerate(expected_sizes)]
    assert p.list(2) == b"+OK 2 %d" % expected_sizes[1]
    for i, data in enumerate(MESSAGES):
        resp, lines, _ = p.retr(i + 1)
        assert resp == b"+OK %d octets" % expected_sizes[i]
        # poplib removes the dot-stuffing and the line ends.
        assert b"\r\n".join(lines) + b"\r\n" == crlf(data if data.endswith(b"\n") else data + b"\n")
    resp, lines, _ = p.top(3, 2)
    assert lines == [b"X-UIDL: legacy-uidl-1", b"Subject: top", b"", b"1", b"2"]
    resp, lines, _ = p.top(1, 0)
    assert lines == [b"From: a@example.com", b"Subject: lf only", b""]
    p.quit()
    server.wait_log(r"pop3\(jdoe@example.com\): Info: Logged out top=2/\d+, retr=3/\d+, "
                    r"del=0/3, size=%d" % sum(expected_sizes))


def test_dot_stuffing_on_the_wire(server):
    put_messages(server, [MESSAGES[0]])
    start(server)
    s, f = connect(server, "pop3")
    with s:
        f.readline()
        f.write(b"USER jdoe@example.com\r\nPASS " + PASSWORD.encode() + b"\r\nRETR 1\r\n")
        f.flush()
        assert f.readline() == b"+OK\r\n"
        assert f.readline() == b"+OK Logged in.\r\n"
        assert f.readline().startswith(b"+OK ")
        body = b""
        while True:
            line = f.readline()
            if line == b".\r\n":
                break
            body += line
    assert body == (b"From: a@example.com\r\nSubject: lf only\r\n\r\nline one\r\n"
                    b"..starts with a dot\r\n...two dots\r\nlast\r\n")


def test_large_message_streams(server):
    big = b"Subject: big\n\n" + b"".join(b"line %08d of a long message\n" % i
                                          for i in range(200000))
    put_messages(server, [big])
    start(server)
    p = login(server)
    resp, lines, octets = p.retr(1)
    assert resp == b"+OK %d octets" % len(crlf(big))
    assert len(lines) == 200002 and lines[-1] == b"line 00199999 of a long message"
    p.quit()


def test_delete_only_in_update_state(server):
    put_messages(server, MESSAGES)
    start(server)
    p = login(server)
    assert p.dele(2) == b"+OK Marked to be deleted."
    with pytest.raises(Exception, match="Message is deleted"):
        p.retr(2)
    assert p.stat()[0] == 2
    # Dropping the connection deletes nothing.
    p.sock.close()
    p = login(server)
    assert p.stat()[0] == 3
    p.dele(1)
    assert p.rset() == b"+OK"
    assert p.stat()[0] == 3
    p.dele(1)
    p.dele(3)
    assert p.quit() == b"+OK Logging out, messages deleted."
    p = login(server)
    assert p.stat()[0] == 1
    assert b"Subject: crlf" in b"\n".join(p.retr(1)[1])
    p.quit()
    # RETR marks the message \Seen at QUIT.
    files = os.listdir(maildir(server) / "cur")
    assert len(files) == 1 and re.search(r":2,[A-Z]*S", files[0]), files


def test_uidl_stable_across_restart_and_index_loss(server):
    put_messages(server, MESSAGES)
    start(server)
    p = login(server)
    _, before, _ = p.uidl()
    p.quit()
    assert [line.split()[1] for line in before] == sorted(line.split()[1] for line in before)
    assert all(re.fullmatch(rb"\d+ [0-9A-F]{16}", line) for line in before)
    server.stop()
    for path in maildir(server).iterdir():
        if path.name.startswith("roost.index"):
            path.unlink()
    start(server)
    p = login(server)
    assert p.uidl()[1] == before
    p.quit()


def test_reuse_xuidl(server):
    put_messages(server, MESSAGES)
    start(server, "pop3_reuse_xuidl = yes\n")
    p = login(server)
    assert p.uidl(3) == b"+OK 3 legacy-uidl-1"
    p.quit()


def test_session_lock(server):
    put_messages(server, MESSAGES)
    start(server, "pop3_lock_session = yes\nmail_max_lock_timeout = 1 sec\n")
    first = login(server)
    second = pop3(server)
    second.user("jdoe@example.com")
    with pytest.raises(Exception) as e:
        second.pass_(PASSWORD)
    assert e.value.args[0] == b"-ERR [IN-USE] Couldn't open INBOX: Timeout while waiting for lock"
    first.quit()
    third = login(server)
    third.quit()


def test_no_session_lock_by_default(server):
    put_messages(server, MESSAGES)
    start(server)
    first = login(server)
    second = login(server)
    assert first.stat()[0] == second.stat()[0] == 3
    first.quit()
    second.quit()


def test_pipelined_commands(server):
    put_messages(server, MESSAGES)
    start(server)
    s, f = connect(server, "pop3")
    with s:
        f.readline()
        f.write(b"USER jdoe@example.com\r\nPASS " + PASSWORD.encode() +
                b"\r\nSTAT\r\nLIST 2\r\nNOOP\r\nRETR 9\r\nQUIT\r\n")
        f.flush()
        answers = [f.readline() for _ in range(7)]
    assert answers[0] == b"+OK\r\n"
    assert answers[1] == b"+OK Logged in.\r\n"
    assert answers[2].startswith(b"+OK 3 ")
    assert answers[3].startswith(b"+OK 2 ")
    assert answers[4] == b"+OK\r\n"
    assert answers[5] == b"-ERR There's no message 9.\r\n"
    assert answers[6] == b"+OK Logging out.\r\n"


def test_deleted_flag_keeps_mail(server):
    put_messages(server, MESSAGES)
    start(server, "pop3_deleted_flag = $POPDeleted\n")
    p = login(server)
    p.dele(1)
    p.quit()
    p = login(server)
    assert p.stat()[0] == 2
    p.quit()
    assert len(os.listdir(maildir(server) / "cur")) + len(os.listdir(maildir(server) / "new")) == 3
    assert "$POPDeleted" in (maildir(server) / "dovecot-keywords").read_text()


def test_bad_commands(server):
    put_messages(server, MESSAGES)
    start(server)
    s, f = connect(server, "pop3")
    with s:
        f.readline()
        f.write(b"USER jdoe@example.com\r\nPASS " + PASSWORD.encode() + b"\r\n")
        f.flush()
        f.readline(), f.readline()
        for cmd, answer in [(b"RETR x", b"-ERR Invalid message number.\r\n"),
                            (b"RETR 0", b"-ERR There's no message 0.\r\n"),
                            (b"TOP 1 x", b"-ERR Invalid number of lines.\r\n"),
                            (b"FOO", b"-ERR Unknown command: FOO\r\n"),
                            (b"LIST 1  2", b"-ERR Invalid arguments.\r\n"),
                            (b"\x01\x02", b"-ERR Invalid command.\r\n"),
                            (b"NOOP", b"+OK\r\n")]:
            f.write(cmd + b"\r\n")
            f.flush()
            assert f.readline() == answer, cmd


def test_unmounted_mountpoint_is_a_temporary_failure(server):
    """A mail root under a registered, unmounted mountpoint is never written to."""
    mnt = server.tmp / "mnt"
    mnt.mkdir()
    uid, gid = mail_user()
    os.chown(mnt, uid, gid)
    server.write_config(server.extra)
    r = server.adm("mount", "add", str(mnt))
    assert r.returncode == 0
    assert "%s NOT-MOUNTED" % mnt in server.adm("mount", "list").stdout
    start(server, "mail_location = maildir:%s/%%n\n" % mnt)
    p = pop3(server)
    p.user("jdoe@example.com")
    with pytest.raises(Exception) as e:
        p.pass_(PASSWORD)
    assert e.value.args[0].startswith(b"-ERR [SYS/TEMP]")
    s, f = connect(server, "imap")
    with s:
        f.readline()
        f.write(b"a LOGIN jdoe@example.com {%d+}\r\n%s\r\n" % (len(PASSWORD), PASSWORD.encode()))
        f.flush()
        assert f.readline().startswith(b"a NO [UNAVAILABLE]")
    assert os.listdir(mnt) == []
    server.wait_log(r"Mail storage unavailable: .*not mounted")
    server.adm("mount", "remove", str(mnt))


def delivered(root, n):
    """Delivers message n the way a delivery agent does: tmp/, then new/."""
    data = b"Message-ID: <%d@crash.test>\nSubject: message %d\n\n%s\n" % (n, n, b"x" * (n * 97 % 3000))
    tmp = root / "tmp" / ("%d.M%dP2.crashtest" % (1700100000 + n, n))
    tmp.write_bytes(data)
    uid, gid = mail_user()
    os.chown(tmp, uid, gid)
    os.rename(tmp, root / "new" / tmp.name)
    return data


def stored(root):
    """Message-ID number → count of files holding it in new/ and cur/."""
    counts = {}
    for sub in ("new", "cur"):
        for path in (root / sub).iterdir():
            m = re.search(rb"<(\d+)@crash\.test>", path.read_bytes())
            assert m, path
            counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
    return counts


def logged_out(answers):
    """Whether a session's output ends with QUIT's answer from the UPDATE state."""
    return re.search(rb"\r\n\+OK Logging out[^\r\n]*\r\n$", b"\r\n" + answers) is not None


def read_to_end(f):
    """What arrives until the server closes, reset or not."""
    data = b""
    try:
        while chunk := f.read1(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def session_pid(server):
    rows = server.adm("who", "-1", "jdoe@example.com").stdout.splitlines()[1:]
    return int(rows[0].split()[2]) if rows else None


@pytest.mark.skipif(ASAN, reason="kill timing is meaningless under the sanitizers")
def test_kill_9_at_random_points(server):
    """roost-pop3 killed with SIGKILL at random moments of many sessions, with
    deliveries arriving in between: no message is lost or duplicated, nothing
    half-written shows, only deletions confirmed by QUIT happen for sure, and
    the UIDLs of the survivors never change, even after the index is lost."""
    import random
    import signal
    import threading
    rng = random.Random(1939)
    root = maildir(server)
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    uid, gid = mail_user()
    for dirpath, _, _ in os.walk(root):
        os.chown(dirpath, uid, gid)
    next_n = 0
    for _ in range(30):
        delivered(root, next_n)
        next_n += 1
    start(server)
    must_exist = set(range(next_n))   # never DELEted by any session
    maybe_gone = set()                # DELEted in a session killed before +OK to QUIT
    gone = set()                      # DELEted and QUIT answered +OK
    uidls = {}
    kills = 0
    # At least 60 sessions; more (up to 240) while too few kills landed before
    # the session ended by itself, as happens on a busy machine.
    for run in range(240):
        if run >= 60 and kills > 20:
            break
        s, f = connect(server, "pop3")
        with s:
            f.readline()
            f.write(b"USER jdoe@example.com\r\nPASS " + PASSWORD.encode() + b"\r\nUIDL\r\n")
            f.flush()
            assert f.readline() == b"+OK\r\n"
            assert f.readline() == b"+OK Logged in.\r\n"
            assert f.readline() == b"+OK\r\n"
            listing = []
            for line in iter(f.readline, b".\r\n"):
                listing.append(line.split())
            pid = session_pid(server)
            numbers = {}
            for num, uidl in listing:
                f.write(b"TOP %s 0\r\n" % num)
                f.flush()
                head = b"".join(iter(f.readline, b".\r\n"))
                n = int(re.search(rb"<(\d+)@crash\.test>", head).group(1))
                numbers[n] = num
                assert uidls.setdefault(n, uidl) == uidl, "UIDL of message %d changed" % n
            assert set(numbers) >= must_exist, "messages missing from the listing"
            assert not set(numbers) & gone, "a deleted message came back"
            # A delivery lands while the session runs.
            must_exist.add(next_n)
            delivered(root, next_n)
            next_n += 1
            victims = rng.sample(sorted(numbers), min(len(numbers), rng.randint(0, 3)))
            for n in victims:
                f.write(b"RETR %s\r\nDELE %s\r\n" % (numbers[n], numbers[n]))
            f.write(b"QUIT\r\n")
            f.flush()
            must_exist -= set(victims)
            if run % 4 == 3:
                answers = f.read()
                assert logged_out(answers), answers[-200:]
                gone |= set(victims)
                maybe_gone -= set(victims)
                continue
            # Kill it anywhere in the RETRs, the DELEs or the UPDATE state.
            time.sleep(rng.random() * 0.004)
            try:
                os.kill(pid, signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
            answers = read_to_end(f)
            if logged_out(answers):
                gone |= set(victims)
            else:
                maybe_gone |= set(victims)
        wait_for(lambda: session_pid(server) is None, what="the session to end")
    assert kills > 20
    print("pop3 kill -9 test: %d kills; %d deletions confirmed, %d unconfirmed"
          % (kills, len(gone), len(maybe_gone)))

    def check():
        counts = stored(root)
        assert all(c == 1 for c in counts.values()), "duplicated: %s" % {
            n: c for n, c in counts.items() if c > 1}
        assert must_exist <= set(counts), "lost: %s" % (must_exist - set(counts))
        assert not gone & set(counts), "deleted but present: %s" % (gone & set(counts))
        assert set(counts) <= must_exist | maybe_gone
        return counts

    counts = check()
    server.stop()
    for path in root.iterdir():
        if path.name.startswith("roost.index"):
            path.unlink()
    start(server)
    p = login(server)
    _, listing, _ = p.uidl()
    assert len(listing) == len(counts)
    for line in listing:
        num, uidl = line.split()
        head = b"\n".join(p.top(int(num), 0)[1])
        n = int(re.search(rb"<(\d+)@crash\.test>", head).group(1))
        assert uidls.setdefault(n, uidl) == uidl
    p.quit()
    check()
    assert not os.listdir(root / "tmp")


FETCHMAIL_MDA = """import os, sys
data = sys.stdin.buffer.read()
out = sys.argv[1]
n = len(os.listdir(out))
with open(os.path.join(out, "%04d" % n), "wb") as f:
    f.write(data)
"""


@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_fetchmail_gets_the_same_bytes(server, tmp_path, tls):
    """Debian's fetchmail collects the mailbox over STLS or implicit TLS and
    hands each message to an MDA: the bytes are those poplib reads, and the
    messages are gone from the server afterwards."""
    messages = MESSAGES + [b"Subject: big\n\n" + b"0123456789abcdef\n" * 20000]
    put_messages(server, messages)
    start(server)
    p = login(server)
    seen = [b"\r\n".join(p.retr(i + 1)[1]) + b"\r\n" for i in range(len(messages))]
    p.quit()
    out = tmp_path / "fetched"
    out.mkdir()
    (tmp_path / "mda.py").write_text(FETCHMAIL_MDA)
    rc = tmp_path / "fetchmailrc"
    port = server.ports["pop3s" if tls == "pop3s" else "pop3"]
    rc.write_text(
        'poll 127.0.0.1 with proto POP3 service %d\n'
        '  user "jdoe@example.com" there with password "%s" is root here\n'
        '  %s no sslcertck\n'
        '  mda "/usr/bin/python3 %s %s"\n'
        % (port, PASSWORD, "ssl" if tls == "pop3s" else "sslproto tls1.2+",
           tmp_path / "mda.py", out))
    rc.chmod(0o600)
    r = subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog", "--invisible", "--norewrite",
                        "--nokeep", "--all", "--pidfile", str(tmp_path / "fetchmail.pid")],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, HOME=str(tmp_path)))
    assert r.returncode == 0, r.stdout + r.stderr
    server.wait_log(r"pop3-login: Info: Login: user=<jdoe@example\.com>, .*, TLS")
    fetched = [path.read_bytes() for path in sorted(out.iterdir())]
    # fetchmail gives the MDA LF line ends and undoes the dot-stuffing.
    assert fetched == [m.replace(b"\r\n", b"\n") for m in seen]
    p = login(server)
    assert p.stat()[0] == 0
    p.quit()
