"""roostadm sieve check and sieve test, as an administrator runs them on a
script before installing it: errors with line and column, exit codes, the
actions in sieve-test's layout, and roost.conf's plugin settings applied."""
import subprocess

from conftest import BUILD

ROOSTADM = str(BUILD / "bin" / "roostadm")

MESSAGE = b"From: Alice <alice@example.org>\nTo: jdoe@example.com\nSubject: cheap pills\n\nbuy now\n"


def adm(*args, cwd=None):
    return subprocess.run([ROOSTADM] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=30, cwd=cwd)


def empty_conf(tmp_path):
    path = tmp_path.parent / ("%s.conf" % tmp_path.name)
    path.write_text("")
    return path


def test_check_reports_every_error_with_line_and_column(tmp_path):
    good = tmp_path / "good.sieve"
    good.write_text('require "fileinto";\nif header :contains "subject" "pills" {\n'
                    '  fileinto "Junk";\n}\n')
    bad = tmp_path / "bad.sieve"
    bad.write_text('require "fileinto";\nfileinto "Junk"\nkeep;\n'
                   'if header :contians "subject" "x" { stop; }\nredirect;\n')
    r = adm("-c", empty_conf(tmp_path), "sieve", "check", good)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = adm("-c", empty_conf(tmp_path), "sieve", "check", good, bad)
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if ": error: " in line]
    assert errors, r.stderr
    assert all(line.startswith("%s:" % bad) for line in errors), r.stderr
    # "fileinto ... keep" reads as one command with a test; then the typo'd
    # tag and the missing argument: every error, not just the first.
    assert [line[len(str(bad)) + 1:].split(": ")[0] for line in errors] == \
        ["2:1", "3:1", "4:11", "5:1"], r.stderr
    assert "unknown tagged argument ':contians'" in errors[2]


def test_test_prints_the_actions_without_performing_them(tmp_path):
    script = tmp_path / "spam.sieve"
    script.write_text('require ["fileinto", "imap4flags"];\n'
                      'if header :contains "subject" "pills" {\n'
                      '  addflag "\\\\Seen";\n  fileinto "Junk";\n  stop;\n}\n')
    msg = tmp_path / "m.eml"
    msg.write_bytes(MESSAGE)
    r = adm("-c", empty_conf(tmp_path), "sieve", "test", "-f", "alice@example.org",
            "-a", "jdoe@example.com", script, msg, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("\nPerformed actions:\n\n"
                        " * store message in folder: Junk\n"
                        "        + add IMAP flags: \\seen\n"
                        "\nImplicit keep:\n\n  (none)\n\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.eml", "spam.sieve"]


def test_plugin_settings_from_roost_conf(tmp_path):
    """sieve_extensions in roost.conf's plugin block decides what compiles;
    -o on the command line still wins."""
    script = tmp_path / "edit.sieve"
    script.write_text('require "editheader";\naddheader "X-Filtered" "yes";\n')
    conf = tmp_path / "roost.conf"
    msg = tmp_path / "m.eml"
    msg.write_bytes(MESSAGE)
    r = adm("-c", conf.with_name("missing.conf"), "sieve", "check", script)
    assert r.returncode == 89 and "missing.conf" in r.stderr
    conf.write_text("plugin {\n  sieve_extensions = +editheader\n}\n")
    assert adm("-c", conf, "sieve", "check", script).returncode == 0
    conf.write_text("plugin {\n  sieve_extensions = -editheader\n}\n")
    r = adm("-c", conf, "sieve", "check", script)
    assert r.returncode == 1 and "editheader" in r.stderr
    r = adm("-c", conf, "sieve", "test", "-x", "+editheader", script, msg)
    assert r.returncode == 0, r.stderr
    assert "Implicit keep:\n\n * store message in folder: INBOX\n" in r.stdout
    conf.write_text("plugin {\n  sieve_extensions = +editheader\n  sieve_bogus = 1\n}\n")
    assert adm("-c", conf, "sieve", "check", script).returncode == 0


def test_usage(tmp_path):
    r = adm("-c", empty_conf(tmp_path), "sieve", "frobnicate")
    assert r.returncode == 64 and "usage: roostadm sieve check" in r.stderr
    r = adm("-c", empty_conf(tmp_path), "sieve", "test", tmp_path / "only-one-argument")
    assert r.returncode == 64
