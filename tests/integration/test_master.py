"""The master and the policy service: start-up, confinement, limits,
supervision, test-only failure hooks, configuration errors, reload, and
roostadm who/kick/stats through master and policy."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import ASAN, RELEASE_BUILD, Roost, exited, need_root, pids_of, proc_status, wait_for


def test_policy_is_confined(roost):
    roost.start()
    pid = roost.confined("roost-policy")
    st = proc_status(pid)
    uid = int(st["Uid"].split()[0])
    assert uid != 0 and all(int(u) == uid for u in st["Uid"].split())
    assert all(int(g) != 0 for g in st["Gid"].split())
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    assert st["CapEff"] == "0000000000000000"
    assert st["CapPrm"] == "0000000000000000"
    assert st["CapBnd"] == "0000000000000000"
    assert os.readlink("/proc/%d/root" % pid) == str(roost.base_dir / "empty")
    assert os.listdir(roost.base_dir / "empty") == []
    with open("/proc/%d/limits" % pid) as f:
        limits = f.read()
    assert re.search(r"Max core file size\s+0\s+0", limits)
    if not ASAN:
        assert re.search(r"Max address space\s+268435456\s+268435456", limits)


def test_master_narrows_its_bounding_set(roost):
    """master keeps its capabilities but passes on only what children need."""
    roost.start()
    st = proc_status(roost.proc.pid)
    # setuid setgid setpcap sys_chroot sys_resource dac_override dac_read_search
    wanted = sum(1 << c for c in (7, 6, 8, 18, 24, 1, 2))
    bounding = int(st["CapBnd"], 16)
    # Exactly those (minus any this machine never had), at least setuid setgid setpcap.
    assert bounding & ~wanted == 0 and bounding & 0x1c0 == 0x1c0, hex(bounding)
    assert int(st["CapEff"], 16) & (1 << 5)  # kill: master's own set is untouched
    assert st["NoNewPrivs"] == "0"  # SECURITY.md: master has no NO_NEW_PRIVS
    # Children drop the rest, as before.
    assert proc_status(roost.confined("roost-policy"))["CapBnd"] == "0000000000000000"


def test_master_nofile_from_defaults_file(roost):
    roost.start(defaults="# as /etc/default/dovecot\nULIMIT=\"-n 3000\"\n")
    with open("/proc/%d/limits" % roost.proc.pid) as f:
        assert re.search(r"Max open files\s+3000\s+3000", f.read())


@pytest.mark.parametrize("line", ["ulimit -n 2500", "NOFILE=2500", "export NOFILE=2500"])
def test_defaults_file_forms(roost, line):
    roost.start(defaults=line + "\nFOO=bar\n")
    with open("/proc/%d/limits" % roost.proc.pid) as f:
        assert re.search(r"Max open files\s+2500\s+2500", f.read())
    assert "ignoring line" in roost.proc.stdout.read1().decode() or True


def test_fd_limit_warning_names_settings(roost):
    roost.start("login_max_processes_count = 5000\n", defaults="ulimit -n 512\n")
    out = roost.proc.stdout.read1().decode() + roost.log()
    assert "fd limit (ulimit -n) is 512" in out
    assert "login_max_processes_count = 5000" in out
    assert str(roost.defaults_path) in out


def test_killed_policy_is_logged_and_restarted(roost):
    roost.start()
    old = roost.children("roost-policy")[0]
    os.kill(old, signal.SIGKILL)
    roost.wait_log(r"master: Error: service\(policy\): child %d killed with signal 9" % old)
    new = wait_for(lambda: [p for p in roost.children("roost-policy") if p != old],
                   timeout=5, what="a new policy process")
    assert proc_status(new[0])["Seccomp"] == "2"
    # The new policy process answers through master.
    wait_for(lambda: roost.adm("who", check=False).returncode == 0, what="who")


def test_out_of_memory_hook_reports_vsz_limit(roost):
    roost.start("service policy {\n  vsz_limit = 32M\n  test_hook = oom\n}\n", wait_ready=False)
    m = roost.wait_log(r"master: Error: service\(policy\): child (\d+) returned error 83 "
                       r"\(Out of memory \(service policy \{ vsz_limit=32 MB \}, "
                       r"you may need to increase it\)\)")
    log = roost.log()
    assert re.search(r"policy: Fatal: block_alloc\(\d+\): Out of memory", log)
    # The child's own last words come before master's verdict.
    assert log.index("block_alloc") < log.index("returned error 83")
    roost.wait_log(r"service\(policy\): command startup failed, throttling for 2 secs")


def test_forbidden_syscall_is_stopped(roost):
    roost.start("service policy {\n  test_hook = forbidden-syscall\n}\n", wait_ready=False)
    if ASAN:
        # The sanitizer build's debug filter traps and names the call.
        roost.wait_log(r"policy: Error: sandbox: trapped forbidden system call socket")
    else:
        roost.wait_log(r"master: Error: service\(policy\): child \d+ killed with signal 31 "
                       r"\(sandbox violation")
    assert "was not stopped by the sandbox" not in roost.log()


def test_unknown_setting_is_refused_with_file_and_line(work_dir):
    need_root()
    server = Roost(work_dir)
    server.write_config("mail_max_userip_conections = 3")
    r = subprocess.run([server.roost, "-F", "-c", str(server.config_path)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 89
    lineno = server.config_path.read_text().splitlines().index(
        "mail_max_userip_conections = 3") + 1
    assert ("roost.conf:%d: Unknown setting: mail_max_userip_conections "
            "(did you mean mail_max_userip_connections?)" % lineno) in r.stderr


def test_release_build_has_no_test_hooks(work_dir):
    need_root()
    server = Roost(work_dir, build=RELEASE_BUILD)
    server.write_config("service policy {\n  test_hook = oom\n}")
    r = subprocess.run([server.roost, "-F", "-c", str(server.config_path)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 89
    assert "Unknown setting in service: test_hook" in r.stderr
    for binary in [server.roost] + [str(p) for p in (RELEASE_BUILD / "libexec" / "roost").iterdir()]:
        with open(binary, "rb") as f:
            assert b"test hook:" not in f.read(), binary


def test_second_instance_is_refused(roost):
    roost.start()
    r = subprocess.run([roost.roost, "-F", "-c", str(roost.config_path)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 89
    assert "roost is already running with PID %d" % roost.proc.pid in r.stderr


def test_who_kick_and_stats_through_master_and_policy(roost):
    roost.start()
    r = roost.adm("who")
    assert r.stdout.splitlines()[0] == "username # proto (pids) (ips)"
    r = roost.adm("who", "-1")
    assert r.stdout.splitlines()[0] == "username proto pid ip"
    r = roost.adm("kick", "foo", "192.0.2.0/24", check=False)
    assert r.returncode == 68 and r.stdout == "no users kicked\n"
    r = roost.adm("stats")
    assert "service_policy_processes 1" in r.stdout.splitlines()
    r = roost.adm("who", "nobody", "not-an-ip/99", check=False)
    assert r.returncode == 64


def test_adm_without_server_says_so(work_dir):
    need_root()
    server = Roost(work_dir)
    server.write_config()
    r = server.adm("who", check=False)
    assert r.returncode == 75
    assert "The server is not running" in r.stderr


def test_reload_keeps_running_on_bad_config_and_applies_good_one(roost):
    roost.start()
    old_policy = roost.children("roost-policy")[0]
    roost.config_path.write_text(roost.config_path.read_text() + "bogus = 1\n")
    os.kill(roost.proc.pid, signal.SIGHUP)
    roost.wait_log(r"Reloading the configuration failed, keeping the running one: "
                   r".*roost.conf:\d+: Unknown setting: bogus")
    assert roost.children("roost-policy") == [old_policy]
    roost.write_config("mail_max_userip_connections = 42")
    assert roost.adm("reload").returncode == 0
    roost.wait_log("Configuration reloaded")
    wait_for(lambda: [p for p in roost.children("roost-policy") if p != old_policy],
             what="policy restarted with the new settings")
    assert "killed with signal" not in roost.log()


def test_log_reopen(roost):
    roost.start()
    rotated = roost.tmp / "roost.log.1"
    os.rename(roost.log_path, rotated)
    roost.adm("log", "reopen")
    roost.wait_log("Log files reopened")
    os.kill(roost.proc.pid, signal.SIGUSR1)
    wait_for(lambda: roost.log().count("Log files reopened") == 2, what="second reopen")


def test_stop_is_clean(roost):
    roost.start()
    policy = roost.children("roost-policy")[0]
    assert roost.adm("stop").returncode == 0
    assert roost.proc.wait(timeout=10) == 0
    assert not os.path.exists("/proc/%d" % policy)
    assert not (roost.base_dir / "master.pid").exists()
    assert "roost stopped" in roost.log()
    assert "Error" not in roost.log()


def test_daemon_mode_writes_pidfile_and_stops(work_dir):
    need_root()
    server = Roost(work_dir)
    server.write_config()
    r = subprocess.run([server.roost, "-c", str(server.config_path), "--defaults", "/nonexistent"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    pid = int((server.base_dir / "master.pid").read_text())
    assert os.path.exists("/proc/%d" % pid)
    r = subprocess.run([server.roost, "-c", str(server.config_path), "stop"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: exited(pid), what="master exit")


def security_md():
    from conftest import ROOT
    return (ROOT / "SECURITY.md").read_text()


def test_security_md_matches_compiled_profiles():
    """SECURITY.md's syscall lists are what the binaries enforce."""
    from conftest import BUILD
    text = " ".join(security_md().split())
    m = re.search(r"\*\*base\*\* \(event loop, memory, IPC, logging through master\): (.*?), plus",
                  text)
    documented_base = m.group(1).replace("`", "").split()
    profiles = [(name, "roost-" + name, "--sandbox-profile", "fs=deny net=deny scope=on")
                for name in ("policy", "auth", "login", "imap", "pop3", "lda")]
    # roost-lda's submission helper speaks SMTP: TCP allowed, no files.
    profiles.append(("lda-submit", "roost-lda", "--sandbox-profile=submit",
                     "fs=deny net=off scope=on"))
    for name, binary, option, landlock in profiles:
        out = subprocess.run([str(BUILD / "libexec" / "roost" / binary), option],
                             capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines())
        assert fields["profile"].strip() == name
        assert fields["base"].split() == documented_base
        assert fields["landlock"].strip() == landlock, name
        syscalls = [s.split("(")[0] for s in fields["syscalls"].split()]
        m = re.search(r"- (?:\*\*\w+\*\*, )*\*\*%s\*\*(?:, \*\*\w+\*\*)*: (.*?)(?= - \*\*|OpenSSL:)"
                      % name, text)
        assert m, name
        documented = re.findall(r"`([^`]*)`", m.group(1))
        documented = " ".join(documented).split()
        assert sorted(syscalls) == sorted(documented) or (
            not syscalls and "the base set only" in m.group(1)), (name, syscalls, documented)
    assert "| `roost-policy` | `default_login_user` (`roostnull`) | `base_dir/empty` |" in security_md()


def test_missing_service_user_names_useradd(work_dir):
    need_root()
    server = Roost(work_dir)
    server.write_config("default_login_user = roost-no-such-user")
    r = subprocess.run([server.roost, "-F", "-c", str(server.config_path)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 89
    assert ("User roost-no-such-user (default_login_user of service policy) does not exist: "
            "create it with: useradd --system --no-create-home --home-dir /nonexistent "
            "--shell /usr/sbin/nologin roost-no-such-user") in r.stderr


def test_non_root_master_keeps_the_sandbox(work_dir):
    """Development mode: no uid separation, but every other confinement."""
    need_root()
    os.chmod(work_dir, 0o777)
    server = Roost(work_dir)
    server.write_config("service policy {\n  test_hook = forbidden-syscall\n}")
    server.proc = subprocess.Popen(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", server.roost, "-F",
         "-c", str(server.config_path), "--defaults", "/nonexistent"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if ASAN:
            server.wait_log(r"policy: Error: sandbox: trapped forbidden system call socket")
        else:
            server.wait_log(r"service\(policy\): child \d+ killed with signal 31")
        out = server.proc.stdout.read1().decode()
        assert "roost is not running as root: no privilege separation by uid" in out
        server.config_path.write_text(server.config_path.read_text().replace(
            "test_hook = forbidden-syscall", ""))
        os.kill(server.proc.pid, signal.SIGHUP)
        pid = wait_for(lambda: server.confined("roost-policy"), what="policy")
        st = proc_status(pid)
        assert st["Uid"].split()[0] == "65534"
        assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2"
    finally:
        server.stop()


def test_syslog_lines_have_dovecot_shape(roost, syslog_capture):
    """log_path = syslog: facility mail, ident instance_name, Dovecot prefixes."""
    roost.start("log_path = syslog", wait_ready=False)
    wait_for(lambda: any("starting up" in line for line in syslog_capture.lines),
             what="the start-up line")
    policy = wait_for(lambda: roost.confined("roost-policy"), what="policy")
    os.kill(policy, signal.SIGKILL)
    wait_for(lambda: any("killed with signal 9" in line for line in syslog_capture.lines),
             what="the kill line")
    start = [line for line in syslog_capture.lines if "starting up" in line][0]
    # <22> = facility mail (2) * 8 + info (6); Dovecot omits "Info: " in syslog.
    assert re.match(r"<22>\w{3} [ \d]\d \d\d:\d\d:\d\d roost-test\[%d\]: master: roost v"
                    % roost.proc.pid, start), start
    killed = [line for line in syslog_capture.lines if "killed with signal 9" in line][0]
    assert re.match(r"<19>.* roost-test\[\d+\]: master: Error: service\(policy\): child \d+ "
                    r"killed with signal 9", killed), killed


def test_sd_notify_readiness(roost):
    """Type=notify: READY=1 once serving, RELOADING/READY on reload, STOPPING=1."""
    import socket as pysocket
    path = str(roost.tmp / "notify.sock")
    sock = pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    try:
        roost.start(env={"NOTIFY_SOCKET": path})
        assert sock.recv(4096) == b"READY=1"
        os.kill(roost.proc.pid, signal.SIGHUP)
        assert sock.recv(4096) == b"RELOADING=1"
        assert sock.recv(4096) == b"READY=1"
        roost.stop()
        assert sock.recv(4096) == b"STOPPING=1"
    finally:
        sock.close()
