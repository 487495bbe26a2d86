"""Operating a running roost: a reload of a broken configuration is refused
with the parse error printed by every way of asking (roostadm reload, roost
reload, as systemd's ExecReload runs it) while the old configuration keeps
serving; the auth-userdb socket's mode and group; roost-lda's delivery
outcomes counted by the server and shown by `roostadm stats` and Munin."""
import json
import os
import re
import signal
import socket
import stat
import struct
import subprocess
import time

from conftest import wait_for
from lda_fixtures import mail, postfix_factory, rfc822, wait_messages  # noqa: F401

EX_CONFIG = 89


def roost_cmd(server, *args):
    """`roost -c CONFIG ARGS`, as the systemd unit's ExecReload runs it."""
    return subprocess.run([server.roost, "-c", str(server.config_path)] + list(args),
                          capture_output=True, text=True, timeout=30)


def config_lines(server):
    return len(server.config_path.read_text().splitlines())


# ---- reload ----

def test_reload_of_a_bad_configuration_prints_the_error_and_keeps_serving(roost):
    roost.start()
    policy = roost.children("roost-policy")
    roost.config_path.write_text(roost.config_path.read_text() + "bogus_setting = 1\n")
    expected = "%s:%d: Unknown setting: bogus_setting" % (roost.config_path,
                                                          config_lines(roost))
    r = roost.adm("reload", check=False)
    assert r.returncode == EX_CONFIG, r.stderr
    assert expected in r.stderr, r.stderr
    # The error came from master: it logged the refusal too.
    roost.wait_log(r"Reloading the configuration failed, keeping the running one: " +
                   re.escape(expected))
    r = roost_cmd(roost, "reload")
    assert r.returncode == EX_CONFIG and expected in r.stderr, r.stderr
    wait_for(lambda: roost.log().count("keeping the running one") == 2, what="second refusal")
    os.kill(roost.proc.pid, signal.SIGHUP)
    wait_for(lambda: roost.log().count("keeping the running one") == 3, what="SIGHUP refusal")
    # Nothing was restarted; the old configuration still serves.
    assert roost.children("roost-policy") == policy
    assert roost.proc.poll() is None

    # Broken syntax hides base_dir from the clients: they print the file's
    # error themselves, with the same exit code, and ask no server.
    roost.write_config("service imap {\n")
    r = roost.adm("reload", check=False)
    assert r.returncode == EX_CONFIG and "Missing '}'" in r.stderr, r.stderr
    r = roost_cmd(roost, "reload")
    assert r.returncode == EX_CONFIG and "Missing '}'" in r.stderr, r.stderr

    # Fixed, the reload goes through.
    roost.write_config("mail_max_userip_connections = 42")
    assert roost.adm("reload").returncode == 0
    roost.wait_log("Configuration reloaded")
    assert roost_cmd(roost, "reload").returncode == 0


def test_stop_works_with_a_broken_configuration(roost):
    roost.start()
    roost.config_path.write_text(roost.config_path.read_text() + "bogus_setting = 1\n")
    assert roost.adm("stop").returncode == 0
    roost.proc.wait(timeout=20)
    assert roost.proc.returncode == 0


def test_reload_and_stop_without_server(roost):
    roost.write_config()
    r = roost.adm("reload", check=False)
    assert r.returncode == 75 and "The server is not running" in r.stderr, r.stderr
    roost.config_path.write_text(roost.config_path.read_text() + "bogus_setting = 1\n")
    r = roost.adm("reload", check=False)
    assert r.returncode == EX_CONFIG and "Unknown setting: bogus_setting" in r.stderr, r.stderr


# ---- the auth-userdb socket ----

def socket_state(path):
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    return stat.S_IMODE(st.st_mode), st.st_gid


def test_auth_userdb_listener_keeps_its_default_mode(server):
    """A unix_listener block that names only the group keeps 0660."""
    import grp
    from conftest import mail_user, start
    mail_user()
    start(server, "service auth {\n  unix_listener auth-userdb {\n    group = vmail\n  }\n}\n")
    mode, gid = socket_state(server.base_dir / "auth-userdb")
    assert mode == 0o660 and gid == grp.getgrnam("vmail").gr_gid
    out = server.adm("config", "-n").stdout
    assert "unix_listener auth-userdb {\n    group = vmail\n  }" in out
    assert "mode" not in out
    server.stop()

    start(server, "service auth {\n  unix_listener auth-userdb {\n    mode = 0600\n  }\n}\n")
    mode, _ = socket_state(server.base_dir / "auth-userdb")
    assert mode == 0o600
    server.stop()

    start(server)
    mode, _ = socket_state(server.base_dir / "auth-userdb")
    assert mode == 0o660


# ---- delivery counters ----

def deliveries(server, *args):
    """The deliveries_* counters of `roostadm stats` (text or -f json)."""
    out = server.adm("stats", *args).stdout
    if args == ("-f", "json"):
        counters = json.loads(out)
    else:
        counters = dict((name, int(value)) for name, value in
                        (line.split() for line in out.splitlines()))
    return {k[len("deliveries_"):]: v for k, v in counters.items()
            if k.startswith("deliveries_")}


def wait_deliveries(server, **expected):
    want = dict({"stored": 0, "tempfail": 0, "rejected": 0, "discarded": 0}, **expected)
    return wait_for(lambda: deliveries(server) == want, what="delivery counters %s, got %s"
                    % (want, deliveries(server)))


def report(server, frame):
    """Sends one raw frame to lda-stats as a local process could."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(str(server.base_dir / "lda-stats"))
        s.send(frame)
        time.sleep(0.1)


def stats_frame(outcome, msg_type=1):
    return struct.pack("<HHI", 1, msg_type, 4) + struct.pack("<I", outcome)


def test_delivery_counters(mail, postfix_factory):
    import grp
    mail.start()
    server = mail.server
    zero = {"stored": 0, "tempfail": 0, "rejected": 0, "discarded": 0}
    assert deliveries(server) == zero
    assert deliveries(server, "-f", "json") == zero
    # The socket: root's, with auth-userdb's group (mail_gid) and mode.
    mode, gid = socket_state(server.base_dir / "lda-stats")
    assert mode == 0o660 and gid == grp.getgrnam("vmail").gr_gid
    assert os.stat(server.base_dir / "lda-stats").st_uid == 0

    # roost-lda as the MTA runs it (as vmail): stored, unknown user, too
    # large, the store unavailable.
    r = mail.lda("-d", "jdoe@example.com", input=rfc822("one", "1@example.org"))
    assert r.returncode == 0, r.stderr
    wait_deliveries(server, stored=1)
    r = mail.lda("-d", "nobody@example.com", input=rfc822("two", "2@example.org"))
    assert r.returncode == 67, r.stderr
    r = mail.lda("-d", "jdoe@example.com", "-o", "lda_max_message_size=100",
                 input=rfc822("three", "3@example.org", body="x" * 500))
    assert r.returncode == 77, r.stderr
    wait_deliveries(server, stored=1, rejected=2)
    r = mail.lda("-d", "jdoe@example.com", "-o", "mail_location=maildir:/proc/1/nowhere",
                 input=rfc822("four", "4@example.org"))
    assert r.returncode == 75, r.stderr
    wait_deliveries(server, stored=1, rejected=2, tempfail=1)

    # Through Postfix's pipe, as the seed sets it up.
    postfix = postfix_factory().start()
    postfix.send("sender@example.org", ["other@example.com"], rfc822("five", "5@example.org"))
    wait_messages(mail, "other@example.com", 1)
    counters = wait_deliveries(server, stored=2, rejected=2, tempfail=1)
    assert deliveries(server, "-f", "json") == dict(zero, stored=2, rejected=2, tempfail=1)
    assert counters

    # Munin graphs them.
    from test_ops import multigraph_values, munin_run
    values = multigraph_values(munin_run(server))
    assert values["roost_deliveries"] == {"stored": "2", "tempfail": "1", "rejected": "2",
                                          "discarded": "0"}

    # A reload keeps the counts (they live in master).
    assert server.adm("reload").returncode == 0
    server.wait_log("Configuration reloaded")
    assert deliveries(server)["stored"] == 2


def test_delivery_reports_are_checked(mail):
    mail.start()
    server = mail.server
    report(server, stats_frame(3))
    wait_deliveries(server, discarded=1)
    # Out of range, unknown type, short, two on one connection, a broken
    # frame: refused, logged with the sender's pid and uid, not counted.
    report(server, stats_frame(9))
    server.wait_log(r"lda-stats: refused a report from pid \d+ \(uid 0\): unknown outcome")
    report(server, stats_frame(0, msg_type=7))
    report(server, struct.pack("<HHI", 1, 1, 2) + b"\0\0")
    server.wait_log(r"lda-stats: refused a report from pid \d+ \(uid 0\): .*short")
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(str(server.base_dir / "lda-stats"))
        s.send(stats_frame(1))
        s.send(stats_frame(1))
        time.sleep(0.1)
    server.wait_log(r"lda-stats: refused a report from pid \d+ \(uid 0\): a second report")
    report(server, b"\x01\x00\x01")
    server.wait_log(r"lda-stats: refused a report from pid \d+ \(uid 0\): malformed message")
    wait_deliveries(server, discarded=1, tempfail=1)
    assert server.proc.poll() is None

    # Without the socket a delivery goes on as before, uncounted.
    (server.base_dir / "lda-stats").unlink()
    r = mail.lda("-d", "jdoe@example.com", input=rfc822("six", "6@example.org"))
    assert r.returncode == 0, r.stderr
    assert len(mail.messages("jdoe@example.com")) == 1
    time.sleep(0.2)
    assert deliveries(server) == {"stored": 0, "tempfail": 1, "rejected": 0, "discarded": 1}
