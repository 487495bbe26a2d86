"""Authentication and login: auth, login and mail processes for IMAP and POP3
over plain text, STARTTLS/STLS and implicit TLS, with Python's imaplib,
poplib and ssl and with curl; failures, limits, who/kick, confinement of
every process on the way, and fail2ban's stock filter on roost's log."""
import base64
import imaplib
import os
import poplib
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import (ASAN, CLIENT_TIMEOUT, PASSWORD, connect, exited, imap, imaps, mail_user, pids_of,
                      pop3, proc_status, start, tls_client_context, wait_for)

def test_imap_login_plain_starttls_and_implicit_tls(server):
    start(server)
    m = imap(server)
    assert b"roost ready." in m.welcome
    assert "STARTTLS" in m.capabilities and "AUTH=PLAIN" in m.capabilities
    typ, data = m.login("jdoe@example.com", PASSWORD)
    assert typ == "OK" and b"Logged in" in data[0]
    assert m.noop()[0] == "OK"
    assert m.logout()[0] == "BYE"

    m = imap(server)
    m.starttls(ssl_context=tls_client_context())
    assert m.login("jdoe@example.com", PASSWORD)[0] == "OK"
    m.logout()

    m = imaps(server)
    assert m.login("jdoe@example.com", PASSWORD)[0] == "OK"
    typ, data = m.capability()
    assert typ == "OK" and b"IMAP4rev1" in data[0]
    m.logout()

    log = server.wait_log(r"imap-login: Info: Login: user=<jdoe@example.com>, method=PLAIN, "
                          r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=\d+, TLS, session=<[^>]+>")
    assert log
    assert re.search(r"imap\(jdoe@example.com\): Info: Logged out in=\d+ out=\d+", server.log())


def test_imap_authenticate_plain_with_sasl_ir_and_continuation(server):
    start(server)
    m = imap(server)
    # imaplib sends AUTHENTICATE PLAIN and answers the empty challenge.
    typ, _ = m.authenticate("PLAIN", lambda _: b"\0jdoe@example.com\0" + PASSWORD.encode())
    assert typ == "OK"
    m.logout()
    # SASL-IR: the initial response on the command line.
    s, f = connect(server, "imap")
    with s:
        assert f.readline().startswith(b"* OK")
        ir = base64.b64encode(b"\0jdoe@example.com\0" + PASSWORD.encode())
        # A pipelined NOOP after the login must not be lost in the hand-off.
        f.write(b"a AUTHENTICATE PLAIN " + ir + b"\r\nb NOOP\r\nc LOGOUT\r\n")
        f.flush()
        lines = [f.readline() for _ in range(4)]
    assert lines[0].startswith(b"a OK [CAPABILITY ")
    assert lines[1] == b"b OK NOOP completed.\r\n"
    assert lines[2] == b"* BYE Logging out\r\n"
    assert lines[3] == b"c OK Logout completed.\r\n"


def test_imap_literals_in_login(server):
    start(server)
    s, f = connect(server, "imap")
    with s:
        f.readline()
        user = b"jdoe@example.com"
        f.write(b"a LOGIN {%d}\r\n" % len(user))
        f.flush()
        assert f.readline() == b"+ OK\r\n"
        f.write(user + b" {%d+}\r\n" % len(PASSWORD) + PASSWORD.encode() + b"\r\n")
        f.flush()
        assert f.readline().startswith(b"a OK [CAPABILITY")


def test_imap_bad_input_gets_bad_and_session_goes_on(server):
    start(server)
    s, f = connect(server, "imap")
    with s:
        f.readline()
        f.write(b"a1 ID (\"unbalanced\"\r\n")
        f.flush()
        assert f.readline().startswith(b"a1 BAD")
        f.write(b"a2 LOGIN {99999999}\r\n")
        f.flush()
        assert f.readline().startswith(b"a2 BAD")
        f.write(b"x" * 70000 + b"\r\n")
        f.flush()
        assert f.readline().startswith(b"* BAD")
        f.write(b"a3 NOOP\r\n")
        f.flush()
        assert f.readline() == b"a3 OK NOOP completed.\r\n"


def test_pop3_user_pass_stls_and_implicit_tls(server):
    start(server)
    p = pop3(server)
    assert p.getwelcome() == b"+OK roost ready."
    capa = p.capa()
    assert "STLS" in capa and "USER" in capa and capa["SASL"] == ["PLAIN", "LOGIN"]
    p.user("jdoe@example.com")
    assert p.pass_(PASSWORD) == b"+OK Logged in."
    assert p.quit() == b"+OK Logging out."

    p = pop3(server)
    p.stls(context=tls_client_context())
    p.user("jdoe@example.com")
    assert p.pass_(PASSWORD) == b"+OK Logged in."
    p.quit()

    p = poplib.POP3_SSL("127.0.0.1", server.ports["pop3s"], context=tls_client_context(),
                        timeout=CLIENT_TIMEOUT)
    p.user("jdoe@example.com")
    assert p.pass_(PASSWORD) == b"+OK Logged in."
    p.quit()
    server.wait_log(r"pop3\(jdoe@example.com\): Info: Logged out top=0/0, retr=0/0, del=0/0")
    assert len(re.findall(r"pop3-login: Info: Login: user=<jdoe@example.com>", server.log())) == 3


def test_pop3_auth_plain(server):
    start(server)
    s, f = connect(server, "pop3")
    with s:
        f.readline()
        f.write(b"AUTH PLAIN\r\n")
        f.flush()
        assert f.readline() == b"+ \r\n"
        f.write(base64.b64encode(b"\0jdoe@example.com\0" + PASSWORD.encode()) + b"\r\n")
        f.flush()
        assert f.readline() == b"+OK Logged in.\r\n"
        f.write(b"QUIT\r\n")
        f.flush()
        assert f.readline() == b"+OK Logging out.\r\n"


def test_wrong_password_and_unknown_user_look_the_same(server):
    start(server)
    answers, times = [], []
    for user in ("jdoe@example.com", "nobody@example.com"):
        m = imap(server)
        t0 = time.monotonic()
        with pytest.raises(imaplib.IMAP4.error) as e:
            m.login(user, "wrong")
        times.append(time.monotonic() - t0)
        answers.append(str(e.value))
        m.logout()
    assert answers[0] == answers[1] == "b'[AUTHENTICATIONFAILED] Authentication failed.'"
    # Both waited for auth_failure_delay (300 ms here).
    assert min(times) >= 0.29
    p = pop3(server)
    p.user("jdoe@example.com")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_("wrong")
    assert str(e.value) == "b'-ERR [AUTH] Authentication failed.'"
    p.quit()
    server.wait_log(r"auth: Info: passwd-file\(jdoe@example.com,127\.0\.0\.1\): Password mismatch")
    server.wait_log(r"auth: Info: passwd-file\(nobody@example.com,127\.0\.0\.1\): unknown user")
    server.wait_log(r"imap-login: Info: Aborted login \(auth failed, 1 attempts in \d+ secs\): "
                    r"user=<jdoe@example.com>, method=PLAIN, rip=127\.0\.0\.1, "
                    r"lip=127\.0\.0\.1, secured, session=<[^>]+>")


def test_nologin_reason(server):
    start(server)
    m = imap(server)
    with pytest.raises(imaplib.IMAP4.error) as e:
        m.login("locked@example.com", PASSWORD)
    assert "[AUTHORIZATIONFAILED] Locked" in str(e.value)


def test_plaintext_disallowed_without_tls(server):
    """disable_plaintext_auth: a client from another address must use TLS."""
    start(server)
    s, f = connect(server, "imap", source="127.0.0.2")
    greeting = f.readline()
    assert b"LOGINDISABLED" in greeting and b"AUTH=PLAIN" not in greeting
    f.write(b"a LOGIN jdoe@example.com pw\r\n")
    f.flush()
    assert f.readline() == (b"a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on "
                            b"non-secure (SSL/TLS) connections.\r\n")
    s.close()
    s, f = connect(server, "pop3", source="127.0.0.2")
    f.readline()
    f.write(b"USER jdoe@example.com\r\n")
    f.flush()
    assert f.readline() == (b"-ERR [AUTH] Plaintext authentication disallowed on non-secure "
                            b"(SSL/TLS) connections.\r\n")
    s.close()
    server.wait_log(r"Disconnected \(tried to use disallowed plaintext auth\): user=<>, "
                    r"rip=127\.0\.0\.2")


def test_curl_imap_and_pop3s(server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    start(server)
    r = subprocess.run(["curl", "-s", "--max-time", "20", "--user", "jdoe@example.com:" + PASSWORD,
                        "-X", "NOOP", "imap://127.0.0.1:%d/" % server.ports["imap"]],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["curl", "-s", "--max-time", "20", "--insecure", "--user",
                        "jdoe@example.com:" + PASSWORD, "-X", "CAPA",
                        "pop3s://127.0.0.1:%d/" % server.ports["pop3s"]],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["curl", "-s", "--max-time", "20", "--user", "jdoe@example.com:wrong",
                        "-X", "NOOP", "imap://127.0.0.1:%d/" % server.ports["imap"]],
                       capture_output=True, text=True)
    assert r.returncode == 67  # CURLE_LOGIN_DENIED


def test_userip_limit_who_and_kick(server):
    start(server, "mail_max_userip_connections = 10\n")
    sessions = []
    for _ in range(10):
        m = imap(server)
        m.login("jdoe@example.com", PASSWORD)
        sessions.append(m)
    m = imap(server)
    with pytest.raises(imaplib.IMAP4.error) as e:
        m.login("jdoe@example.com", PASSWORD)
    assert str(e.value) == ("b'[UNAVAILABLE] Maximum number of connections from user+IP "
                            "exceeded (mail_max_userip_connections=10)'")
    server.wait_log(r"imap-login: Info: Maximum number of connections from user\+IP exceeded "
                    r"\(mail_max_userip_connections=10\)")
    # Another user is not affected.
    other = imap(server)
    assert other.login("other@example.com", PASSWORD)[0] == "OK"

    who = server.adm("who").stdout.splitlines()
    assert who[0] == "username # proto (pids) (ips)"
    row = [line for line in who if line.startswith("jdoe@example.com ")][0]
    assert re.match(r"jdoe@example.com 10 imap \((\d+ ){9}\d+\) \(127\.0\.0\.1\)$", row), row
    pids = [int(p) for p in re.search(r"\(([\d ]+)\)", row).group(1).split()]
    for pid in pids:
        st = proc_status(pid)
        assert st["Name"] == "roost-imap"
    one = server.adm("who", "-1", "jdoe@example.com").stdout.splitlines()
    assert one[0] == "username proto pid ip" and len(one) == 11
    assert one[1].startswith("jdoe@example.com imap ") and one[1].endswith(" 127.0.0.1")

    r = server.adm("kick", "jdoe@example.com", "127.0.0.0/8")
    assert r.stdout == "kicked connections from the following users:\njdoe@example.com\n"
    for m in sessions:
        with pytest.raises((imaplib.IMAP4.abort, OSError, EOFError)):
            m.noop()
    wait_for(lambda: all(exited(p) for p in pids), what="kicked processes to exit")
    wait_for(lambda: "jdoe@example.com" not in server.adm("who").stdout, what="who to forget")
    assert "other@example.com 1 imap" in server.adm("who").stdout
    # Room again for jdoe.
    m = imap(server)
    assert m.login("jdoe@example.com", PASSWORD)[0] == "OK"
    m.logout()
    other.logout()


def test_processes_are_confined(server):
    start(server, "service imap {\n  test_hook = open:/etc/passwd\n}\n")
    uid, gid = mail_user()
    m = imap(server)
    m.login("jdoe@example.com", PASSWORD)
    mail_pid = int(re.search(r"jdoe@example.com imap (\d+)",
                             server.adm("who", "-1").stdout).group(1))
    checks = {
        "roost-login": server.confined("roost-login"),
        "roost-auth": server.confined("roost-auth"),
        "roost-imap": mail_pid,
    }
    for name, pid in checks.items():
        st = proc_status(pid)
        uids = [int(u) for u in st["Uid"].split()]
        assert all(u == uids[0] != 0 for u in uids), (name, st["Uid"])
        assert st["NoNewPrivs"] == "1", name
        assert st["Seccomp"] == "2", name
        assert st["CapEff"] == "0000000000000000", name
        assert st["CapBnd"] == "0000000000000000", name
    assert int(proc_status(mail_pid)["Uid"].split()[0]) == uid
    assert int(proc_status(mail_pid)["Gid"].split()[0]) == gid
    import pwd
    assert int(proc_status(checks["roost-login"])["Uid"].split()[0]) == pwd.getpwnam("roostnull").pw_uid
    assert int(proc_status(checks["roost-auth"])["Uid"].split()[0]) == pwd.getpwnam("roost").pw_uid
    assert os.readlink("/proc/%d/root" % checks["roost-login"]) == str(server.base_dir / "empty")
    # Landlock: the mail process cannot read outside the user's home.
    server.wait_log(r"imap\(jdoe@example.com\): Info: test hook: open\(/etc/passwd\) failed: "
                    r"Permission denied")
    m.logout()


def test_auth_restart_keeps_logins_working(server):
    start(server)
    old = server.confined("roost-auth")
    os.kill(old, signal.SIGKILL)
    server.wait_log(r"service\(auth\): child %d killed with signal 9" % old)
    wait_for(lambda: server.confined("roost-auth") not in (None, old), what="new auth")

    def login_ok():
        try:
            m = imap(server)
            ok = m.login("jdoe@example.com", PASSWORD)[0] == "OK"
            m.logout()
            return ok
        except imaplib.IMAP4.error:
            return False
    wait_for(login_ok, timeout=10, what="logins after auth restart")


def fail2ban_regex(logfile):
    r = subprocess.run(["fail2ban-regex", str(logfile), "/etc/fail2ban/filter.d/dovecot.conf"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return int(re.search(r"Failregex: (\d+) total", r.stdout).group(1))


def login_failures(server):
    for _ in range(2):
        m = imap(server)
        with pytest.raises(imaplib.IMAP4.error):
            m.login("jdoe@example.com", "wrong")
        m.logout()
    p = pop3(server)
    p.user("nobody@example.com")
    with pytest.raises(poplib.error_proto):
        p.pass_("wrong")
    p.quit()


def test_fail2ban_dovecot_filter_matches_file_log(server):
    if shutil.which("fail2ban-regex") is None:
        pytest.skip("fail2ban is not installed")
    start(server, "instance_name = dovecot\n")
    login_failures(server)
    server.wait_log(r"pop3-login: Info: Aborted login \(auth failed")
    # 3 login lines + 3 auth lines (auth_verbose): every failure is seen.
    assert fail2ban_regex(server.log_path) == 6


def test_fail2ban_dovecot_filter_matches_syslog(server, syslog_capture):
    if shutil.which("fail2ban-regex") is None:
        pytest.skip("fail2ban is not installed")
    server.expected_services = []
    start(server, "instance_name = dovecot\nlog_path = syslog\n")
    wait_for(lambda: server.confined("roost-auth") and server.confined("roost-login"),
             what="services")
    login_failures(server)
    wait_for(lambda: any("pop3-login: Aborted login" in line for line in syslog_capture.lines),
             what="the POP3 failure in syslog")
    assert any(re.search(r"dovecot\[\d+\]: imap-login: Aborted login", line)
               for line in syslog_capture.lines)
    syslog = server.tmp / "syslog"
    syslog_capture.as_syslog_file(syslog)
    assert fail2ban_regex(syslog) == 6


def test_roostadm_user_and_pw_and_passwd_file_reload(server):
    start(server)
    r = server.adm("user", "JDoe@Example.com")
    uid, gid = mail_user()
    lines = r.stdout.splitlines()
    assert lines[0] == "field\tvalue"
    assert "user\tjdoe@example.com" in lines
    assert "uid\t%d" % uid in lines and "gid\t%d" % gid in lines
    assert "home\t%s" % (server.tmp / "home" / "jdoe@example.com") in lines
    assert "mail\tmaildir:~/Maildir" in lines
    r = server.adm("user", "nobody@example.com", check=False)
    assert r.returncode == 68 and "doesn't exist" in r.stderr

    # A hash from roostadm pw, written into the file, works at once.
    hashed = server.adm("pw", "-p", "new password").stdout.strip()
    assert hashed.startswith("{SHA512-CRYPT}$6$")
    users = server.tmp / "users"
    text = users.read_text().replace("{PLAIN}%s" % PASSWORD, hashed, 1)
    tmp = server.tmp / "users.new"
    tmp.write_text(text)
    shutil.chown(tmp, group="roost")
    os.chmod(tmp, 0o640)
    os.rename(tmp, users)

    def new_password_works():
        m = imap(server)
        try:
            return m.login("jdoe@example.com", "new password")[0] == "OK"
        except imaplib.IMAP4.error:
            return False
        finally:
            m.shutdown()
    wait_for(new_password_works, timeout=10, what="the new password")


def scram_sha256_login(server, user, password):
    """A minimal RFC 5802/7677 client for AUTHENTICATE SCRAM-SHA-256."""
    import hashlib
    import hmac
    s, f = connect(server, "imap")
    with s:
        f.readline()
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = "n=%s,r=%s" % (user, nonce)
        f.write(b"a AUTHENTICATE SCRAM-SHA-256 " +
                base64.b64encode(("n,," + first_bare).encode()) + b"\r\n")
        f.flush()
        line = f.readline()
        assert line.startswith(b"+ "), line
        server_first = base64.b64decode(line[2:].strip()).decode()
        fields = dict(item.split("=", 1) for item in server_first.split(","))
        assert fields["r"].startswith(nonce)
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]),
                                     int(fields["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        final_bare = "c=biws,r=%s" % fields["r"]
        auth_message = ",".join([first_bare, server_first, final_bare]).encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        f.write(base64.b64encode((final_bare + ",p=" + base64.b64encode(proof).decode())
                                 .encode()) + b"\r\n")
        f.flush()
        line = f.readline()
        if not line.startswith(b"+ "):
            return line
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        expected = base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256)
                                    .digest()).decode()
        assert base64.b64decode(line[2:].strip()).decode() == "v=" + expected
        f.write(b"\r\n")
        f.flush()
        return f.readline()


def test_scram_sha256(server):
    start(server, "auth_mechanisms = plain login scram-sha-256\n")
    assert scram_sha256_login(server, "jdoe@example.com", PASSWORD).startswith(b"a OK [CAPABILITY")
    assert scram_sha256_login(server, "jdoe@example.com", "wrong").startswith(
        b"a NO [AUTHENTICATIONFAILED]")
