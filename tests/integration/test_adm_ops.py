"""Operating a running roost: a reload of a broken configuration is refused
with the parse error printed by every way of asking (roostadm reload, roost
reload, as systemd's ExecReload runs it) while the old configuration keeps
serving; the auth-userdb socket's mode and group; roost-lda's delivery
outcomes counted by the server and shown by `roostadm stats` and Munin."""
import os
import re
import signal
import stat
import subprocess

from conftest import wait_for

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
