"""The Debian package, end to end (`make check-package`): build it with
dpkg-buildpackage from a copy of the tree, check it with lintian and
hardening-check, install it on this machine with apt-get, start the
installed roost on its installed configuration (plus a local.conf with
private ports), log in over IMAP with STARTTLS and over POP3, watch it with
the installed Munin plugin, rotate its log with the installed logrotate
file, verify the installed systemd unit, stop it and purge the package.

Needs root and Debian 12. The tests run in file order and share one build
and one installation; a failure leaves nothing installed (the fixture
purges), and a leftover of a killed run is recognised by its marker and
purged before the next one."""
import imaplib
import os
import pathlib
import poplib
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "roost"
MARKER = pathlib.Path("/var/lib/roost-package-test.installed")
LOG = pathlib.Path("/var/log/roost.log")
LDA_LOG = pathlib.Path("/var/log/roost-lda.log")
LDA = pathlib.Path("/usr/lib/roost/deliver")
USER = "jdoe@example.com"
PASSWORD = "pkg test pass"


def run(cmd, timeout=600, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), r.returncode,
                                                         r.stdout[-5000:], r.stderr[-5000:]))
    return r


def installed():
    r = run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], check=False)
    return "ok installed" in r.stdout or "config-files" in r.stdout


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.fixture(scope="module")
def built():
    """The .deb files, built once from a copy of the working tree."""
    if os.geteuid() != 0:
        pytest.skip("the package test installs a package: run it as root")
    if shutil.which("dpkg-buildpackage") is None:
        pytest.skip("dpkg-dev is not installed (make deps)")
    out = pathlib.Path(tempfile.mkdtemp(prefix="roost-pkg-", dir="/tmp"))
    src = out / "roost"
    src.mkdir()
    files = run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT).stdout.split("\n")
    for name in files:
        if not name or name.startswith("build/") or not (ROOT / name).exists():
            continue
        dest = src / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            os.symlink(os.readlink(ROOT / name), dest)
        else:
            shutil.copy2(ROOT / name, dest)
    env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=%d" % (os.cpu_count() or 1))
    r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env, timeout=1800)
    (out / "build.log").write_text(r.stdout + r.stderr)
    debs = sorted(out.glob("%s_*.deb" % PACKAGE))
    assert len(debs) == 1, list(out.iterdir())
    yield {"dir": out, "deb": debs[0], "changes": sorted(out.glob("*.changes"))[0],
           "log": r.stdout + r.stderr}
    shutil.rmtree(out, ignore_errors=True)


def test_build_uses_dpkg_buildflags(built):
    """dh passes dpkg-buildflags' CFLAGS, CPPFLAGS and LDFLAGS to make."""
    log = built["log"]
    assert "dpkg-buildpackage: info: binary-only upload" in log
    # The compiler's record of its options, from the detached debug info:
    # Debian's -g -O2 -fstack-protector-strong come on top of the
    # Makefile's own.
    dbg = sorted(built["dir"].glob("%s-dbgsym_*.deb" % PACKAGE))
    assert dbg, "no dbgsym package"
    x = built["dir"] / "dbgsym"
    run(["dpkg-deb", "-x", str(dbg[0]), str(x)])
    producers = ""
    for f in x.rglob("*.debug"):
        producers += run(["readelf", "-z", "-p", ".debug_str", str(f)], check=False).stdout
    m = re.search(r"GNU C17 [^\n]*", producers)
    assert m, "no DW_AT_producer found"
    assert m.group(0).count("-O2") == 2 and m.group(0).count("-fstack-protector-strong") == 2, \
        m.group(0)


def test_lintian_reports_no_errors(built):
    if shutil.which("lintian") is None:
        pytest.skip("lintian is not installed")
    r = run(["lintian", "--fail-on", "error", "--display-info", str(built["changes"])],
            check=False, timeout=900)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not re.search(r"(?m)^E: ", r.stdout), r.stdout
    # Warnings are not allowed to creep in either.
    assert not re.search(r"(?m)^W: ", r.stdout), r.stdout


def test_package_contents(built):
    listing = run(["dpkg-deb", "-c", str(built["deb"])]).stdout
    paths = {line.split()[5].lstrip(".") for line in listing.splitlines()}
    expected = {
        "/usr/sbin/roost", "/usr/bin/roostadm",
        "/usr/lib/roost/roost-login", "/usr/lib/roost/roost-auth",
        "/usr/lib/roost/roost-policy", "/usr/lib/roost/roost-imap",
        "/usr/lib/roost/roost-pop3",
        "/etc/roost/roost.conf", "/etc/roost/conf.d/10-master.conf",
        "/etc/roost/conf.d/20-imap.conf", "/etc/default/roost",
        "/lib/systemd/system/roost.service", "/etc/logrotate.d/roost",
        "/usr/share/munin/plugins/roost",
        "/etc/fail2ban/filter.d/roost.conf", "/etc/fail2ban/jail.d/roost.conf",
        "/usr/share/man/man8/roost.8.gz", "/usr/share/man/man1/roostadm.1.gz",
        "/usr/share/man/man5/roost.conf.5.gz",
    }
    if (ROOT / "lda" / "main.c").exists():
        expected |= {"/usr/lib/roost/roost-lda", "/usr/lib/roost/deliver",
                     "/usr/share/man/man8/roost-lda.8.gz"}
    assert expected <= paths, expected - paths
    assert "/usr/bin/roost-sieve-dev" not in paths
    control = built["dir"] / "control"
    run(["dpkg-deb", "-e", str(built["deb"]), str(control)])
    conffiles = (control / "conffiles").read_text().split()
    assert "/etc/roost/roost.conf" in conffiles and "/etc/default/roost" in conffiles


def test_hardening(built):
    if shutil.which("hardening-check") is None:
        pytest.skip("devscripts is not installed")
    x = built["dir"] / "unpacked"
    run(["dpkg-deb", "-x", str(built["deb"]), str(x)])
    binaries = [x / "usr/sbin/roost", x / "usr/bin/roostadm"] + \
        sorted(p for p in (x / "usr/lib/roost").iterdir() if not p.is_symlink())
    # The mail processes are linked static-PIE (mk/build.mk), which
    # hardening-check cannot read (it looks for the dynamic loader's
    # headers and for libc's checking functions among the imports): they
    # are checked below instead.
    static = [b for b in binaries if "INTERP" not in
              run(["readelf", "-lW", str(b)]).stdout.split("Section to Segment")[0]]
    assert sorted(b.name for b in static) == ["roost-imap", "roost-pop3"], static
    dynamic = [b for b in binaries if b not in static]
    # Debian 12's C start files carry no CET property, so no program on it
    # can show control flow protection; everything else must be there.
    r = run(["hardening-check", "--nocfprotection"] + [str(b) for b in dynamic], check=False)
    assert r.returncode == 0, r.stdout
    for feature in ("Position Independent Executable", "Stack protected",
                    "Fortify Source functions", "Read-only relocations", "Immediate binding"):
        assert len(re.findall(r"(?m)^ %s: yes" % feature, r.stdout)) == len(dynamic), r.stdout
    # Static PIE: position independent, full RELRO, and the code was built
    # with the stack protector and fortify (the symbols are in the
    # detached debug info, since the installed binary is stripped).
    dbg = sorted(built["dir"].glob("%s-dbgsym_*.deb" % PACKAGE))
    assert dbg, "no dbgsym package"
    xd = built["dir"] / "dbgsym-hardening"
    run(["dpkg-deb", "-x", str(dbg[0]), str(xd)])
    for b in static:
        phdrs = run(["readelf", "-lW", str(b)]).stdout
        dyn = run(["readelf", "-dW", str(b)]).stdout
        assert "Elf file type is DYN" in phdrs and "GNU_RELRO" in phdrs, (b, phdrs)
        assert re.search(r"\(FLAGS\)\s+BIND_NOW", dyn), (b, dyn)
        assert re.search(r"\(FLAGS_1\)\s+Flags: NOW PIE", dyn), (b, dyn)
        build_id = re.search(r"Build ID: ([0-9a-f]+)", run(["readelf", "-n", str(b)]).stdout)
        assert build_id, b
        debug = xd / "usr/lib/debug/.build-id" / build_id.group(1)[:2] / \
            (build_id.group(1)[2:] + ".debug")
        syms = run(["readelf", "-sW", str(debug)]).stdout
        assert re.search(r" FUNC .* __stack_chk_fail$", syms, re.M), b
        assert re.search(r" FUNC .* __(memcpy|vsnprintf)_chk$", syms, re.M), b
        # No TLS library in a mail process.
        assert not re.search(r" SSL_", syms), b


# ---- Installed on this machine ----

def purge():
    if installed():
        run(["dpkg", "--purge", PACKAGE], timeout=300)
    MARKER.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def install(built):
    """Installs the package with apt-get (which brings ssl-cert), without
    letting the init system start it; purges it again at the end."""
    if installed():
        if not MARKER.exists():
            pytest.fail("a roost package is already installed on this machine and was not "
                        "installed by this test: remove it first (dpkg --purge roost)")
        stop_installed()
        purge()
    rcd = pathlib.Path("/usr/sbin/policy-rc.d")
    made_rcd = False
    if not rcd.exists():
        rcd.write_text("#!/bin/sh\nexit 101\n")
        rcd.chmod(0o755)
        made_rcd = True
    saved_log = None
    if LOG.exists():
        saved_log = LOG.with_name("roost.log.before-package-test")
        LOG.rename(saved_log)
    MARKER.write_text("installed by tests/package\n")
    state = {"home": pathlib.Path(tempfile.mkdtemp(prefix="roost-pkg-home-", dir="/var/tmp"))}
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = run(["apt-get", "install", "-y", str(built["deb"])], env=env, timeout=900,
                check=False)
        if r.returncode != 0:
            run(["apt-get", "update"], env=env, timeout=900)
            r = run(["apt-get", "install", "-y", str(built["deb"])], env=env, timeout=900)
        state["apt"] = r.stdout
        yield state
    finally:
        stop_installed()
        pathlib.Path("/etc/roost/local.conf").unlink(missing_ok=True)
        purge()
        if made_rcd:
            rcd.unlink()
        for p in LOG.parent.glob("roost.log*"):
            if p != saved_log:
                p.unlink()
        LDA_LOG.unlink(missing_ok=True)
        if saved_log is not None:
            saved_log.rename(LOG)
        shutil.rmtree(state["home"], ignore_errors=True)


def stop_installed():
    pidfile = pathlib.Path("/run/roost/master.pid")
    if not pidfile.exists() or not os.path.exists("/usr/sbin/roost"):
        return
    run(["/usr/sbin/roost", "stop"], check=False, timeout=60)
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    wait_for(lambda: not os.path.exists("/proc/%d" % pid), what="roost to stop")


def test_install_creates_users_and_files(install):
    for name in ("roostnull", "roost"):
        pw = pwd.getpwnam(name)
        assert pw.pw_shell == "/usr/sbin/nologin" and pw.pw_dir == "/nonexistent"
    st = os.stat("/etc/roost/users")
    import grp
    assert oct(st.st_mode & 0o777) == "0o640" and grp.getgrgid(st.st_gid).gr_name == "roost"
    assert os.path.exists("/etc/ssl/certs/ssl-cert-snakeoil.pem"), "no snakeoil certificate"
    # The enablement symlink the unit's [Install] section asks for.
    assert os.path.islink("/etc/systemd/system/multi-user.target.wants/roost.service")
    assert pathlib.Path("/etc/default/roost").read_text() == \
        (ROOT / "contrib" / "default" / "roost").read_text()
    r = run(["/usr/bin/roostadm", "config", "-n"])
    assert "mail_location = maildir:~/Maildir" in r.stdout


def test_installed_unit_verifies(install):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # With the man pages installed, the Documentation= lines are checked too.
    args = [] if shutil.which("man") else ["--man=no"]
    r = run(["systemd-analyze", "verify"] + args + ["/lib/systemd/system/roost.service"],
            check=False)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def mail_user():
    if run(["id", "vmail"], check=False).returncode != 0:
        run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", "vmail"])
    pw = pwd.getpwnam("vmail")
    return pw.pw_uid, pw.pw_gid


def test_installed_roost_starts_and_serves_logins(install):
    uid, gid = mail_user()
    home = install["home"] / "jdoe"
    home.mkdir()
    os.chown(home, uid, gid)
    os.chmod(install["home"], 0o755)
    hashed = run(["/usr/bin/roostadm", "pw", "-s", "SHA512-CRYPT", "-p", PASSWORD]).stdout.strip()
    # The admin's steps: a passwd-file line, and local settings.
    with open("/etc/roost/users", "a") as f:
        f.write("%s:%s:%d:%d::%s::\n" % (USER, hashed, uid, gid, home))
    ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
    install["ports"] = ports
    pathlib.Path("/etc/roost/local.conf").write_text(
        "listen = 127.0.0.1\n"
        "log_path = %s\n"
        "first_valid_uid = 100\n"
        "service imap-login {\n"
        "  inet_listener imap {\n    port = %d\n  }\n"
        "  inet_listener imaps {\n    port = %d\n  }\n"
        "}\n"
        "service pop3-login {\n"
        "  inet_listener pop3 {\n    port = %d\n  }\n"
        "  inet_listener pop3s {\n    port = %d\n  }\n"
        "}\n"
        # As 10-master.conf and 15-lda.conf say, for an MTA running the
        # delivery agent as vmail.
        "service auth {\n"
        "  unix_listener auth-userdb {\n    mode = 0660\n    group = vmail\n  }\n"
        "}\n"
        "protocol lda {\n  log_path = %s\n}\n"
        % (LOG, ports["imap"], ports["imaps"], ports["pop3"], ports["pop3s"], LDA_LOG))
    LDA_LOG.touch()
    os.chown(LDA_LOG, uid, gid)
    # Started as an init script would: it daemonizes and writes its pid file.
    r = run(["/usr/sbin/roost"], timeout=60)
    pid = int(wait_for(lambda: pathlib.Path("/run/roost/master.pid").exists() and
                       pathlib.Path("/run/roost/master.pid").read_text(), what="the pid file"))
    with open("/proc/%d/limits" % pid) as f:
        assert re.search(r"Max open files\s+8192\s+8192", f.read())

    def imap_up():
        try:
            with socket.create_connection(("127.0.0.1", ports["imap"]), timeout=2):
                return True
        except OSError:
            return False
    wait_for(imap_up, what="the IMAP listener")
    wait_for(lambda: "service_auth_processes 1" in run(["/usr/bin/roostadm", "stats"],
                                                       check=False).stdout, what="auth")

    m = imaplib.IMAP4("127.0.0.1", ports["imap"], timeout=20)
    m.starttls(ssl_context=tls_context())
    assert m.login(USER, PASSWORD)[0] == "OK"
    who = run(["/usr/bin/roostadm", "who", "-1"]).stdout.splitlines()
    assert who[0] == "username proto pid ip" and who[1].startswith(USER + " imap ")
    m.logout()
    m = imaplib.IMAP4_SSL("127.0.0.1", ports["imaps"], ssl_context=tls_context(), timeout=20)
    with pytest.raises(imaplib.IMAP4.error):
        m.login(USER, "wrong")
    m.logout()
    p = poplib.POP3("127.0.0.1", ports["pop3"], timeout=20)
    p.stls(context=tls_context())
    p.user(USER)
    assert p.pass_(PASSWORD) == b"+OK Logged in."
    p.quit()
    wait_for(lambda: re.search(r"imap-login: Info: Login: user=<%s>, method=PLAIN, "
                               r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=\d+, TLS" % USER,
                               LOG.read_text()), what="the login line in " + str(LOG))
    wait_for(lambda: "pop3-login: Info: Login: user=<%s>" % USER in LOG.read_text(),
             what="the POP3 login line")


def test_installed_deliver_stores_for_pop3(install):
    """The MTA's side: deliver (roost-lda) run as vmail, as Postfix's pipe
    would, stores a message that POP3 then serves."""
    if not LDA.exists():
        pytest.skip("this tree has no roost-lda")
    message = (b"From: sender@example.org\r\nTo: %s\r\nSubject: package test\r\n"
               b"Message-ID: <pkg-test@example.org>\r\n\r\nDelivered by the package.\r\n"
               % USER.encode())
    r = subprocess.run(["setpriv", "--reuid=vmail", "--regid=vmail", "--clear-groups",
                        str(LDA), "-f", "sender@example.org", "-d", USER],
                       input=message, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode() + LDA_LOG.read_text()
    p = poplib.POP3("127.0.0.1", install["ports"]["pop3"], timeout=20)
    p.stls(context=tls_context())
    p.user(USER)
    p.pass_(PASSWORD)
    assert p.stat()[0] == 1
    lines = p.retr(1)[1]
    assert b"Subject: package test" in lines and b"Delivered by the package." in lines
    p.quit()


def test_installed_munin_plugin(install):
    if shutil.which("munin-run") is None:
        pytest.skip("munin-node is not installed")
    d = install["home"] / "munin"
    (d / "plugins").mkdir(parents=True)
    (d / "conf").mkdir()
    os.symlink("/usr/share/munin/plugins/roost", d / "plugins" / "roost")
    # The plugin's own defaults find the installed roostadm and configuration.
    (d / "conf" / "roost").write_text("[roost]\nuser root\n")
    base = ["munin-run", "--servicedir", str(d / "plugins"), "--sconfdir", str(d / "conf"),
            "roost"]
    assert run(base + ["autoconf"]).stdout == "yes\n"
    out = run(base).stdout
    logins = out.split("multigraph roost_logins\n")[1].split("multigraph")[0]
    assert "imap_tls.value 1\n" in logins, out
    assert int(re.search(r"pop3_tls.value (\d+)", logins).group(1)) >= 1, out
    assert "multigraph roost_failures\nimap.value 1\n" in out, out


def test_installed_logrotate_reopens_the_log(install):
    if shutil.which("logrotate") is None:
        pytest.skip("logrotate is not installed")
    state = install["home"] / "logrotate.state"
    r = run(["logrotate", "-f", "-s", str(state), "/etc/logrotate.d/roost"])
    rotated = LOG.with_name("roost.log.1")
    assert rotated.exists() and "Login: user=<%s>" % USER in rotated.read_text(), r.stderr
    # postrotate ran `roostadm log reopen`: roost writes to a new file.
    wait_for(lambda: LOG.exists() and "Log files reopened" in LOG.read_text(),
             what="roost to reopen its log")


def test_installed_roost_stops_and_package_purges(install):
    pid = int(pathlib.Path("/run/roost/master.pid").read_text())
    run(["/usr/sbin/roost", "stop"], timeout=60)
    wait_for(lambda: not os.path.exists("/proc/%d" % pid), what="roost to stop")
    pathlib.Path("/etc/roost/local.conf").unlink()
    run(["dpkg", "--purge", PACKAGE], timeout=300)
    MARKER.unlink(missing_ok=True)
    assert not installed()
    for path in ("/usr/sbin/roost", "/usr/bin/roostadm", "/usr/lib/roost", "/etc/roost",
                 "/etc/default/roost", "/lib/systemd/system/roost.service",
                 "/etc/systemd/system/multi-user.target.wants/roost.service",
                 "/var/lib/roost", "/usr/share/munin/plugins/roost"):
        assert not os.path.lexists(path), path
    # System users stay, as Debian packages leave them.
    pwd.getpwnam("roost")
