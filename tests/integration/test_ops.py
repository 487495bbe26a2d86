"""Operating roost: the files in contrib/ and conf/ and the man pages, each
run by the real tool against a real server: munin-run with the Munin plugin
(server up and down), fail2ban-regex and fail2ban-client with the roost
filter and jail on real log lines (file log and syslog, IMAP and POP3),
systemd-analyze on the unit, logrotate with roost reopening its log, the
defaults file, the example configuration through roost's own parser, and
mandoc/groff on every man page. What the contrib `dovecot` Munin plugin
counts in roost's log (instance_name = dovecot) is checked here too."""
import imaplib
import os
import pathlib
import poplib
import re
import shutil
import subprocess

import pytest

from conftest import (BUILD, PASSWORD, ROOT, Roost, connect, imap, imaps, need_root, pop3,
                      start, wait_for)

CONTRIB = ROOT / "contrib"
CONF = ROOT / "conf"
DOCS = ROOT / "docs"


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed" % tool)


# ---- Munin ----

def munin_run(server, *args, config=None):
    """Runs the plugin through Debian's munin-run, as munin-node would, with
    a private plugin directory and plugin configuration."""
    need("munin-run")
    plugins = server.tmp / "munin-plugins"
    confdir = server.tmp / "munin-conf"
    if not plugins.exists():
        plugins.mkdir()
        confdir.mkdir()
        os.symlink(CONTRIB / "munin" / "roost", plugins / "roost")
        (confdir / "roost").write_text(
            "[roost]\nuser root\nenv.roostadm %s\nenv.config %s\n"
            % (server.roostadm, config or server.config_path))
    r = subprocess.run(["munin-run", "--servicedir", str(plugins), "--sconfdir", str(confdir),
                        "roost"] + list(args), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def multigraph_values(out):
    """{graph: {field: value}} from a multigraph fetch."""
    graphs, current = {}, None
    for line in out.splitlines():
        if line.startswith("multigraph "):
            current = graphs.setdefault(line.split()[1], {})
            continue
        m = re.match(r"^(\w+)\.value (\S+)$", line)
        assert m and current is not None, line
        current[m.group(1)] = m.group(2)
    return graphs


def multigraph_config(out):
    """{graph: {"graph_title": ..., "field.label": ...}} from a config run."""
    graphs, current = {}, None
    for line in out.splitlines():
        if line.startswith("multigraph "):
            current = graphs.setdefault(line.split()[1], {})
            continue
        key, _, value = line.partition(" ")
        current[key] = value
    return graphs


GRAPHS = ["roost_logins", "roost_failures", "roost_sessions", "roost_processes",
          "roost_crashes", "roost_deliveries"]


def check_config_matches_fetch(config, values):
    assert list(config) == GRAPHS and list(values) == GRAPHS
    for graph in GRAPHS:
        assert config[graph]["graph_category"] == "mail"
        labels = [k[:-len(".label")] for k in config[graph] if k.endswith(".label")]
        assert labels == list(values[graph]), graph


def test_munin_plugin_against_running_server(server):
    start(server, "protocol imap {\n  mail_max_userip_connections = 1\n}\n")
    assert munin_run(server, "autoconf") == "yes\n"
    # One TLS and one plain IMAP login, a POP3 login, two IMAP failures and
    # one POP3 failure; one IMAP session stays open, so a second one of the
    # same user is over mail_max_userip_connections.
    m = imaps(server)
    m.login("jdoe@example.com", PASSWORD)
    m.logout()
    wait_for(lambda: "sessions_now_imap 0" in server.adm("stats").stdout, what="TLS session end")
    kept = imap(server)
    kept.login("jdoe@example.com", PASSWORD)
    m = imap(server)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("jdoe@example.com", PASSWORD)
    m.logout()
    p = pop3(server)
    p.user("other@example.com")
    p.pass_(PASSWORD)
    p.quit()
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
    wait_for(lambda: "sessions_now_pop3 0" in server.adm("stats").stdout, what="POP3 to end")

    config = multigraph_config(munin_run(server, "config"))
    values = multigraph_values(munin_run(server))
    check_config_matches_fetch(config, values)
    assert config["roost_logins"]["imap_tls.type"] == "DERIVE"
    # The refused login authenticated: it counts as a login and a refusal.
    assert values["roost_logins"] == {"imap": "2", "imap_tls": "1", "pop3": "1", "pop3_tls": "0"}
    assert values["roost_failures"]["imap"] == "2"
    assert values["roost_failures"]["pop3"] == "1"
    assert int(values["roost_failures"]["penalties"]) >= 1
    assert values["roost_failures"]["userip_limit"] == "1"
    assert values["roost_sessions"] == {"imap": "1", "pop3": "0", "users": "1"}
    procs = values["roost_processes"]
    assert procs["policy"] == "1" and procs["auth"] == "1"
    assert int(procs["imap_login"]) >= 1 and procs["imap"] == "1"
    assert set(values["roost_crashes"].values()) == {"0"}
    # No delivery yet: zero (test_adm_ops.py counts real ones).
    assert values["roost_deliveries"] == {"stored": "0", "tempfail": "0", "rejected": "0",
                                          "discarded": "0"}
    kept.logout()


def test_munin_plugin_with_roost_stopped(work_dir):
    need_root()
    server = Roost(work_dir)
    server.write_config()
    out = munin_run(server, "autoconf")
    assert out.startswith("no (")
    config = multigraph_config(munin_run(server, "config"))
    values = multigraph_values(munin_run(server))
    check_config_matches_fetch(config, values)
    for graph in GRAPHS:
        assert set(values[graph].values()) == {"U"}, graph
    # Without a roostadm at all, still no crash.
    (server.tmp / "munin-conf" / "roost").write_text(
        "[roost]\nuser root\nenv.roostadm /nonexistent/roostadm\n")
    assert munin_run(server, "autoconf").startswith("no (/nonexistent/roostadm not found)")
    assert set(multigraph_values(munin_run(server))["roost_sessions"].values()) == {"U"}


def contrib_dovecot_counts(text):
    """What the contrib `dovecot` Munin plugin counts in a log: lines that
    match its extended regular expressions, as `grep -E -c` does."""
    patterns = {"login_total": "Login", "login_tls": "Login.*TLS", "login_ssl": "Login.*SSL",
                "login_imap": "imap.*Login", "login_pop3": "pop3.*Login",
                "disconnects": "Disconnected"}
    return {k: sum(1 for line in text.splitlines() if re.search(p, line))
            for k, p in patterns.items()}


def dovecot_plugin_workload(server):
    m = imap(server)
    m.login("jdoe@example.com", PASSWORD)
    m.logout()
    m = imaps(server)
    m.login("jdoe@example.com", PASSWORD)
    kept = m
    p = pop3(server)
    p.user("other@example.com")
    p.pass_(PASSWORD)
    p.quit()
    m = imap(server)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("jdoe@example.com", "wrong")
    m.logout()
    return kept


def test_contrib_dovecot_munin_plugin_counts_roost_file_log(server):
    """With instance_name = dovecot, the contrib plugin's login counts are
    right on roost's log; connected users come from `roostadm who -1`."""
    start(server, "instance_name = dovecot\n")
    kept = dovecot_plugin_workload(server)
    server.wait_log(r"imap-login: Info: Aborted login \(auth failed")
    counts = contrib_dovecot_counts(server.log())
    assert counts["login_total"] == 3
    assert counts["login_tls"] == 1
    assert counts["login_ssl"] == 0
    assert counts["login_imap"] == 2
    assert counts["login_pop3"] == 1
    # The `doveadm who -1` count other tools use: one row per session.
    rows = server.adm("who", "-1").stdout.splitlines()[1:]
    assert len(rows) == 1 and rows[0].startswith("jdoe@example.com imap ")
    kept.logout()


def test_contrib_dovecot_munin_plugin_counts_roost_syslog(server, syslog_capture):
    server.expected_services = []
    start(server, "instance_name = dovecot\nlog_path = syslog\n")
    wait_for(lambda: server.confined("roost-auth") and server.confined("roost-login"),
             what="services")
    kept = dovecot_plugin_workload(server)
    wait_for(lambda: any("Aborted login" in line for line in syslog_capture.lines),
             what="the failure in syslog")
    path = server.tmp / "mail.log"
    syslog_capture.as_syslog_file(path)
    text = path.read_text()
    assert re.search(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d mailhost dovecot\[\d+\]: imap-login: Login: "
                     r"user=<jdoe@example.com>", text, re.M), text
    counts = contrib_dovecot_counts(text)
    assert (counts["login_total"], counts["login_tls"], counts["login_imap"],
            counts["login_pop3"]) == (3, 1, 2, 1)
    kept.logout()


# ---- fail2ban ----

def fail2ban_confdir(tmp):
    """/etc/fail2ban with roost's filter and jail added, in tmp."""
    need("fail2ban-regex")
    confdir = tmp / "fail2ban"
    if not confdir.exists():
        shutil.copytree("/etc/fail2ban", confdir)
        shutil.copy(CONTRIB / "fail2ban" / "filter.d" / "roost.conf", confdir / "filter.d")
    return confdir


def roost_filter_matches(tmp, logfile, mode="normal"):
    confdir = fail2ban_confdir(tmp)
    r = subprocess.run(["fail2ban-regex", "--print-all-matched", "-c", str(confdir),
                        str(logfile), "roost[mode=%s]" % mode],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return int(re.search(r"Failregex: (\d+) total", r.stdout).group(1)), r.stdout


def failed_logins(server):
    """Two IMAP connections that fail (one with two attempts), one POP3."""
    m = imap(server)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("jdoe@example.com", "wrong")
    with pytest.raises(imaplib.IMAP4.error):
        m.login("jdoe@example.com", "wrong again")
    m.logout()
    m = imap(server)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("nobody@example.com", "wrong")
    m.logout()
    p = pop3(server)
    p.user("jdoe@example.com")
    with pytest.raises(poplib.error_proto):
        p.pass_("wrong")
    p.quit()
    # A good login is never counted.
    m = imap(server)
    m.login("jdoe@example.com", PASSWORD)
    m.logout()


def test_fail2ban_roost_filter_on_file_log(server):
    start(server)
    failed_logins(server)
    server.wait_log(r"pop3-login: Info: Aborted login \(auth failed, 1 attempts")
    server.wait_log(r"imap-login: Info: Login: user=<jdoe@example.com>")
    # normal: one per connection; attempts: one per password tried.
    n, out = roost_filter_matches(server.tmp, server.log_path, "normal")
    assert n == 3, out
    matched = out.split("Matched line(s):")[1].split("`-")[0]
    assert matched.count("rip=127.0.0.1") == 3 and "Login: user" not in matched, out
    n, out = roost_filter_matches(server.tmp, server.log_path, "attempts")
    assert n == 4, out
    # A connection that never tries counts only in aggressive mode.
    s = imap(server)
    s.shutdown()
    server.wait_log(r"Disconnected \(no auth attempts")
    assert roost_filter_matches(server.tmp, server.log_path, "normal")[0] == 3
    assert roost_filter_matches(server.tmp, server.log_path, "aggressive")[0] == 4
    # A password sent in the clear where that is refused counts, with its
    # own address.
    s, f = connect(server, "pop3", source="127.0.0.2")
    f.readline()
    f.write(b"USER jdoe@example.com\r\nQUIT\r\n")
    f.flush()
    f.readline()
    s.close()
    server.wait_log(r"\(tried to use disallowed plaintext auth\): user=<>, rip=127\.0\.0\.2")
    n, out = roost_filter_matches(server.tmp, server.log_path, "normal")
    matched = out.split("Matched line(s):")[1].split("`-")[0]
    assert n == 4 and "rip=127.0.0.2" in matched, out


@pytest.mark.parametrize("ident", ["roost", "dovecot"])
def test_fail2ban_roost_filter_on_syslog(server, syslog_capture, ident):
    server.expected_services = []
    start(server, "instance_name = %s\nlog_path = syslog\n" % ident)
    wait_for(lambda: server.confined("roost-auth") and server.confined("roost-login"),
             what="services")
    failed_logins(server)
    wait_for(lambda: any("pop3-login: Aborted login" in line for line in syslog_capture.lines),
             what="the POP3 failure in syslog")
    wait_for(lambda: any("imap-login: Login:" in line for line in syslog_capture.lines),
             what="the good login in syslog")
    path = server.tmp / "mail.log"
    syslog_capture.as_syslog_file(path)
    assert re.search(r" mailhost %s\[\d+\]: imap-login: Aborted login" % ident,
                     path.read_text())
    assert roost_filter_matches(server.tmp, path, "normal")[0] == 3
    assert roost_filter_matches(server.tmp, path, "attempts")[0] == 4


def test_fail2ban_jail_loads_with_the_roost_filter(work_dir):
    """fail2ban-client parses the shipped jail (enabled) and its filter."""
    need("fail2ban-client")
    confdir = fail2ban_confdir(work_dir)
    log = work_dir / "mail.log"
    log.write_text("")
    jail = (CONTRIB / "fail2ban" / "jail.d" / "roost.conf").read_text()
    jail = jail.replace("enabled  = false", "enabled  = true")
    jail = re.sub(r"(?m)^logpath\s*=.*$", "logpath  = %s" % log, jail)
    for f in (confdir / "jail.d").iterdir():
        f.unlink()
    (confdir / "jail.d" / "roost.conf").write_text(jail)
    r = subprocess.run(["fail2ban-client", "-c", str(confdir), "-d"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "['add', 'roost', 'auto']" in r.stdout
    assert "'roost', 'addfailregex'" in r.stdout
    assert "['set', 'roost', 'maxretry', 5]" in r.stdout


# ---- systemd, defaults file, logrotate ----

def unit_text():
    return (CONTRIB / "systemd" / "roost.service").read_text()


def test_systemd_unit_verifies(work_dir):
    need("systemd-analyze")
    # verify checks that ExecStart exists: point it at the build's roost.
    unit = work_dir / "roost.service"
    unit.write_text(unit_text().replace("/usr/sbin/roost", str(BUILD / "sbin" / "roost")))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for roost.service: ([\d.]+)", r.stdout)
    assert m and float(m.group(1)) < 6.0, r.stdout


def test_systemd_unit_settings():
    text = unit_text()
    settings = dict(re.findall(r"(?m)^(\w+)=(.*)$", text))
    assert settings["Type"] == "notify"
    assert settings["ExecStart"] == "/usr/sbin/roost -F"
    assert settings["ExecReload"] == "/usr/sbin/roost reload"
    assert settings["ProtectSystem"] == "full"
    assert settings["PrivateTmp"] == "yes"
    # Every hardening choice carries its reason in a comment above it.
    for key in ("LimitNOFILE", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
                "NoNewPrivileges", "KillMode", "MemoryDenyWriteExecute"):
        before = text[:text.index("\n%s=" % key)].splitlines()[-1]
        assert before.startswith("#"), key


def defaults_nofile():
    text = (CONTRIB / "default" / "roost").read_text()
    return int(re.search(r'(?m)^ULIMIT="-n (\d+)"$', text).group(1))


def test_defaults_file_sets_the_limit_the_unit_names(roost):
    nofile = defaults_nofile()
    settings = dict(re.findall(r"(?m)^(\w+)=(.*)$", unit_text()))
    assert int(settings["LimitNOFILE"]) == nofile
    roost.start(defaults=(CONTRIB / "default" / "roost").read_text())
    with open("/proc/%d/limits" % roost.proc.pid) as f:
        assert re.search(r"Max open files\s+%d\s+%d" % (nofile, nofile), f.read())
    # No line of the shipped file is ignored, and the defaults fit.
    os.set_blocking(roost.proc.stdout.fileno(), False)
    out = (roost.proc.stdout.read() or b"").decode() + roost.log()
    assert "ignoring line" not in out and "fd limit" not in out


def test_logrotate_rotates_and_roost_reopens(roost):
    need("logrotate")
    roost.start()
    text = (CONTRIB / "logrotate" / "roost").read_text()
    text = text.replace("/var/log/roost.log /var/log/roost-info.log /var/log/roost-debug.log",
                        str(roost.log_path))
    text = text.replace("/usr/bin/roostadm log reopen",
                        "%s -c %s log reopen" % (roost.roostadm, roost.config_path))
    text = text.replace("[ -x /usr/bin/roostadm ]", "[ -x %s ]" % roost.roostadm)
    conf = roost.tmp / "logrotate.conf"
    conf.write_text(text)
    r = subprocess.run(["logrotate", "-v", "-f", "-s", str(roost.tmp / "logrotate.state"),
                        str(conf)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    rotated = pathlib.Path(str(roost.log_path) + ".1")
    assert "starting up" in rotated.read_text()
    # The new file gets roost's lines from now on.
    roost.wait_log("Log files reopened")
    roost.adm("stats")
    assert "starting up" not in roost.log()


# ---- configuration ----

SEED_SNIPPETS = """
login_max_processes_count = 256
protocol imap {
  mail_max_userip_connections = 42
}
pop3_lock_session = no
service imap {
  vsz_limit = 512M
}
"""


def adm_config(config_path, *args):
    r = subprocess.run([str(BUILD / "bin" / "roostadm"), "-c", str(config_path), "config"] +
                       list(args), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def copy_conf(work_dir):
    dest = work_dir / "etc"
    shutil.copytree(CONF, dest)
    return dest / "roost.conf"


def test_example_config_parses():
    out = adm_config(CONF / "roost.conf", "-n")
    assert "mail_location = maildir:~/Maildir" in out
    assert "args = scheme=SHA512-CRYPT /etc/roost/users" in out
    assert adm_config(CONF / "roost.conf", "mail_max_userip_connections") == \
        "mail_max_userip_connections = 10\n"
    # conf.d's protocol blocks hold only commented examples: nothing to print.
    assert "protocol" not in out, out
    # Nothing in it is unknown or ignored.
    r = subprocess.run([str(BUILD / "bin" / "roostadm"), "-c", str(CONF / "roost.conf"),
                        "config"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_example_config_takes_the_seed_snippets(work_dir):
    """The seed's settings, pasted at the end of roost.conf and in
    local.conf, override conf.d as they would in dovecot.conf."""
    for where in ("roost.conf", "local.conf"):
        shutil.rmtree(work_dir / "etc", ignore_errors=True)
        path = copy_conf(work_dir)
        target = path.parent / where
        target.write_text((target.read_text() if target.exists() else "") + SEED_SNIPPETS)
        out = adm_config(path, "-n")
        assert "login_max_processes_count = 256" in out
        assert "protocol imap {\n  mail_max_userip_connections = 42\n}" in out
        assert "service imap {\n  vsz_limit = 512M\n}" in out
        assert adm_config(path, "pop3_lock_session") == "pop3_lock_session = no\n"
        assert adm_config(path, "login_max_processes_count") == "login_max_processes_count = 256\n"


def test_example_config_commented_values_are_the_defaults(work_dir):
    """Every `#name = value` in conf/ is a real setting shown with its
    default: uncommenting all of them changes nothing but the examples."""
    path = copy_conf(work_dir)
    for f in [path] + sorted((path.parent / "conf.d").glob("*.conf")):
        f.write_text(re.sub(r"(?m)^(\s*)#([a-z_]+ = )", r"\1\2", f.read_text()))
    plain = adm_config(CONF / "roost.conf", "-n")
    out = adm_config(path, "-n")
    # The examples that are not defaults: virtual users and Sieve scripts.
    extra = set(out.splitlines()) - set(plain.splitlines())
    extra = {line for line in extra if not line.startswith("# roost configuration")}
    assert extra == {"mail_uid = vmail", "mail_gid = vmail", "plugin {",
                     "  sieve = file:~/sieve;active=~/.dovecot.sieve",
                     "  sieve_before = /etc/roost/sieve.before",
                     "  sieve_after = /etc/roost/sieve.after",
                     "  sieve_default = /etc/roost/sieve.global"}, extra


def test_example_config_starts_a_server(roost, certificate):
    """roost itself (not only roostadm) accepts the example, with the paths
    of this test put in local.conf and the passwd-file's in 10-auth.conf."""
    path = copy_conf(roost.tmp)
    crt, key = certificate
    users = roost.tmp / "users"
    users.write_text("")
    shutil.chown(users, group="roost")
    os.chmod(users, 0o640)
    auth = path.parent / "conf.d" / "10-auth.conf"
    auth.write_text(auth.read_text().replace("/etc/roost/users", str(users)))
    roost.write_config()
    local = roost.config_path.read_text() + (
        "ssl_cert = <%s\nssl_key = <%s\nssl = yes\n" % (crt, key))
    (path.parent / "local.conf").write_text(local + SEED_SNIPPETS)
    roost.config_path = path
    roost.expected_services = ["roost-policy", "roost-auth", "roost-login"]
    roost.defaults_path.write_text((CONTRIB / "default" / "roost").read_text())
    roost.proc = subprocess.Popen(
        [roost.roost, "-F", "-c", str(path), "--defaults", str(roost.defaults_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(roost.master_pid_ready, what="roost on the example configuration: " + roost.log())
    m = imap(roost)
    assert "STARTTLS" in m.capabilities
    m.logout()
    assert "Warning" not in roost.log(), roost.log()


# ---- man pages ----

MAN_PAGES = sorted(DOCS.glob("*.[158]"))


def test_man_pages_exist():
    names = {p.name for p in MAN_PAGES}
    assert {"roost.8", "roostadm.1", "roost.conf.5", "roost-lda.8"} <= names


@pytest.mark.parametrize("page", MAN_PAGES, ids=lambda p: p.name)
def test_man_page_lints_clean(page):
    need("mandoc")
    r = subprocess.run(["mandoc", "-Tlint", "-Wwarning", str(page)], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr
    if shutil.which("groff"):
        r = subprocess.run(["groff", "-mandoc", "-ww", "-z", str(page)], capture_output=True,
                           text=True)
        assert r.returncode == 0 and r.stderr == "", r.stderr


def test_roostadm_man_page_lists_every_command():
    r = subprocess.run([str(BUILD / "bin" / "roostadm")], capture_output=True, text=True)
    commands = re.findall(r"(?m)^  (\w+)", r.stderr)
    assert "who" in commands and "stats" in commands
    page = (DOCS / "roostadm.1").read_text()
    for c in commands:
        assert re.search(r"(?m)^\.It Cm %s\b" % c, page), c


def test_roost_conf_man_page_names_the_seed_settings():
    page = (DOCS / "roost.conf.5").read_text()
    for name in ("login_max_processes_count", "mail_max_userip_connections",
                 "pop3_lock_session", "vsz_limit", "instance_name", "log_path",
                 "mail_location", "disable_plaintext_auth", "ssl_cert"):
        assert re.search(r"(?m)^\.It Va %s\b" % name, page), name
