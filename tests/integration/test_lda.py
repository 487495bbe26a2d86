"""roost-lda: Postfix delivering through the seed's pipe line into Maildir,
recipient delimiters and folders, unknown users and a stopped server as
Postfix sees them, quota and size rejections, mountpoints, the sandbox it
enters before reading the message, and kill -9 at random points without a
lost or doubled message."""
import os
import random
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import ASAN, BUILD, ROOT, proc_status, wait_for
from lda_fixtures import (LDA, header_fields, mail, postfix_factory, rfc822,  # noqa: F401
                          vmail_ids, wait_messages)

EX_OK, EX_USAGE, EX_NOUSER, EX_TEMPFAIL, EX_NOPERM = 0, 64, 67, 75, 77


# ---- through Postfix ----

def test_postfix_delivers_to_inbox(mail, postfix_factory):
    mail.start()
    postfix = postfix_factory().start()
    sent = rfc822("Postfix to roost", "pf1@example.org", body="Line one.\nLine two.\n")
    postfix.send("sender@example.org", ["jdoe@example.com"], sent)
    postfix.wait_log(r"to=<jdoe@example\.com>, relay=dovecot, .*status=sent \(delivered via "
                     r"dovecot service\)")
    [stored] = wait_messages(mail, "jdoe@example.com", 1)
    # What we sent, byte for byte (with LF line ends, as Dovecot stores
    # mail), below the fields Postfix prepends.
    assert stored.endswith(sent.replace(b"\r\n", b"\n")), stored
    fields = header_fields(stored)
    names = [n for n, _ in fields]
    # flags=DORqhu: Postfix writes Return-Path, X-Original-To and
    # Delivered-To; roost-lda sees them and adds nothing.
    assert names[:3] == ["Return-Path", "X-Original-To", "Delivered-To"], names
    assert names.count("Return-Path") == 1 and names.count("Delivered-To") == 1
    assert dict(fields)["Return-Path"] == "<sender@example.org>"
    assert dict(fields)["Delivered-To"] == "jdoe@example.com"
    assert names[3] == "Received"
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=<pf1@example\.org>: saved mail to "
                  r"INBOX")
    # Exactly once, in new/, with Dovecot-style size fields in the name.
    files = os.listdir(mail.maildir("jdoe@example.com") / "new")
    assert len(files) == 1
    assert re.search(r",S=%d,W=%d$" % (len(stored), len(stored) + stored.count(b"\n")),
                     files[0]), files[0]
    assert os.listdir(mail.maildir("jdoe@example.com") / "tmp") == []
    st = os.stat(mail.maildir("jdoe@example.com") / "new" / files[0])
    assert (st.st_uid, st.st_gid) == vmail_ids()
    assert st.st_mode & 0o777 == 0o600


def test_postfix_recipient_delimiter_and_folder(mail, postfix_factory):
    """jdoe+lists@example.com reaches jdoe@example.com: with the seed's line
    in INBOX (the detail is kept for Sieve), with -m ${extension} in the
    folder, created by lda_mailbox_autocreate and subscribed."""
    mail.lda_config = "lda_mailbox_autocreate = yes\nlda_mailbox_autosubscribe = yes\n"
    mail.start()
    postfix = postfix_factory().start()
    postfix.send("sender@example.org", ["jdoe+lists@example.com"],
                 rfc822("to the detail", "pf2@example.org"))
    [stored] = wait_messages(mail, "jdoe@example.com", 1)
    assert dict(header_fields(stored))["Delivered-To"] == "jdoe+lists@example.com"
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=<pf2@example\.org>: saved mail to "
                  r"INBOX")
    postfix.stop()

    postfix = postfix_factory(lda_args="-f ${sender} -d ${user}@${nexthop} -m ${extension}")
    postfix.start()
    # Postfix folds ${extension} to lower case.
    postfix.send("sender@example.org", ["jdoe+Lists@example.com"],
                 rfc822("into a folder", "pf3@example.org"))
    [stored] = wait_messages(mail, "jdoe@example.com", 1, folder="lists")
    assert b"Message-ID: <pf3@example.org>" in stored
    mail.wait_log(r"msgid=<pf3@example\.org>: saved mail to lists")
    subs = (mail.maildir("jdoe@example.com") / "subscriptions").read_text()
    assert "lists" in subs.split("\n")
    # No extension: -m "" means INBOX.
    postfix.send("sender@example.org", ["jdoe@example.com"],
                 rfc822("no extension", "pf4@example.org"))
    wait_messages(mail, "jdoe@example.com", 2)
    mail.wait_log(r"msgid=<pf4@example\.org>: saved mail to INBOX")


def test_postfix_unknown_user_bounces(mail, postfix_factory):
    mail.start()
    postfix = postfix_factory().start()
    postfix.send("sender@example.com", ["nobody@example.com"],
                 rfc822("to nobody", "pf5@example.org"))
    postfix.wait_log(r"to=<nobody@example\.com>, relay=dovecot, .*dsn=5\.1\.1, "
                     r"status=bounced \(user unknown")
    mail.wait_log(r"lda\(nobody@example\.com\): Error: Unknown user")
    # The bounce reaches the sender, itself delivered by roost-lda.
    [bounce] = wait_messages(mail, "sender@example.com", 1)
    assert b"Undelivered Mail Returned to Sender" in bounce
    assert b"Return-Path: <MAILER-DAEMON>" in bounce
    assert mail.messages("jdoe@example.com") == []


def test_postfix_defers_while_roost_is_stopped(mail, postfix_factory):
    mail.start()
    postfix = postfix_factory().start()
    mail.server.stop()
    postfix.send("sender@example.org", ["jdoe@example.com"],
                 rfc822("while stopped", "pf6@example.org"))
    postfix.wait_log(r"to=<jdoe@example\.com>, relay=dovecot, .*dsn=4\.3\.0, "
                     r"status=deferred \(temporary failure")
    mail.wait_log(r"lda\(jdoe@example\.com\): Error: connect\(.*auth-userdb\) failed: .*"
                  r"\(is roost running\?\)")
    assert mail.messages("jdoe@example.com") == []
    assert postfix.queue_count() == 1
    # roost comes back: the queued message arrives, once.
    mail.server.start(mail.config())
    postfix.flush()
    postfix.wait_log(r"to=<jdoe@example\.com>, relay=dovecot, .*status=sent")
    wait_for(lambda: postfix.queue_count() == 0, what="empty queue")
    [stored] = wait_messages(mail, "jdoe@example.com", 1)
    assert b"Message-ID: <pf6@example.org>" in stored
    time.sleep(1)
    assert len(mail.messages("jdoe@example.com")) == 1


def test_postfix_over_quota_bounces_with_the_reason(mail, postfix_factory):
    mail.extra_users["jdoe@example.com"] = "userdb_quota_rule=*:storage=1K"
    mail.start()
    postfix = postfix_factory().start()
    postfix.send("sender@example.com", ["jdoe@example.com"],
                 rfc822("big", "pf7@example.org", body="x" * 4000 + "\n"))
    postfix.wait_log(r"to=<jdoe@example\.com>, relay=dovecot, .*dsn=5\.2\.2, status=bounced "
                     r"\(Quota exceeded \(mailbox for user is full\)")
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=<pf7@example\.org>: rejected: "
                  r"Quota exceeded \(mailbox for user is full\)")
    [bounce] = wait_messages(mail, "sender@example.com", 1)
    assert b"Quota exceeded (mailbox for user is full)" in bounce
    assert mail.messages("jdoe@example.com") == []


# ---- roost-lda run directly ----

def test_direct_delivery_adds_trace_fields(mail):
    """Without Postfix's flags the trace fields come from roost-lda, with
    the message's own line ends; CRLF is stored as LF, as Dovecot does."""
    mail.start()
    crlf = b"From: a@example.org\r\nSubject: crlf\r\nMessage-ID: <d1@x>\r\n\r\nbody\r\n"
    r = mail.lda("-f", "a@example.org", "-d", "jdoe@example.com", input=crlf)
    assert r.returncode == EX_OK, r.stderr
    [stored] = mail.messages("jdoe@example.com")
    assert stored == (b"Return-Path: <a@example.org>\nDelivered-To: jdoe@example.com\n" +
                      crlf.replace(b"\r\n", b"\n"))
    lf = b"Subject: lf\n\nbody\n"
    r = mail.lda("-f", "", "-a", "jdoe+x@example.com", "-d", "jdoe@example.com", input=lf)
    assert r.returncode == EX_OK, r.stderr
    stored = mail.messages("jdoe@example.com")
    assert (b"Return-Path: <>\nDelivered-To: jdoe+x@example.com\n" + lf) in stored
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=<d1@x>: saved mail to INBOX")
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=unspecified: saved mail to INBOX")
    # The `deliver` name works the same.
    r = mail.lda("-d", "jdoe@example.com", input=lf,
                 binary=str(BUILD / "libexec" / "roost" / "deliver"))
    assert r.returncode == EX_OK, r.stderr
    assert len(mail.messages("jdoe@example.com")) == 3


def test_direct_mailbox_fallback_and_autocreate(mail):
    mail.start()
    msg = b"Subject: folder\nMessage-ID: <f1@x>\n\nbody\n"
    # -m to a missing folder without autocreate: INBOX, as dovecot-lda does.
    r = mail.lda("-d", "jdoe@example.com", "-m", "Work", input=msg)
    assert r.returncode == EX_OK, r.stderr
    assert len(mail.messages("jdoe@example.com")) == 1
    mail.wait_log(r"msgid=<f1@x>: save failed to open mailbox Work: Mailbox doesn't exist: "
                  r"Work\n.*msgid=<f1@x>: saved mail to INBOX")
    # -o turns autocreate on for one delivery; a nested name works too.
    r = mail.lda("-d", "jdoe@example.com", "-m", "Work/2024", "-o",
                 "lda_mailbox_autocreate=yes", input=msg)
    assert r.returncode == EX_OK, r.stderr
    assert len(mail.messages("jdoe@example.com", "Work.2024")) == 1
    mail.wait_log(r"msgid=<f1@x>: saved mail to Work/2024")
    assert not (mail.maildir("jdoe@example.com") / "subscriptions").exists()
    # A name the store refuses falls back to INBOX too.
    r = mail.lda("-d", "jdoe@example.com", "-m", "../evil", "-o",
                 "lda_mailbox_autocreate=yes", input=msg)
    assert r.returncode == EX_OK, r.stderr
    assert len(mail.messages("jdoe@example.com")) == 2
    mail.wait_log(r"save failed to open mailbox \.\./evil: Invalid mailbox name")


def test_direct_seed_layout_created_on_first_delivery(mail):
    """The seed's mail_location = maildir:/home/vmail/%d/%n: the first
    delivery creates the domain and user directories under the vmail-owned
    base, and Landlock then covers what was just created."""
    mail.start()
    base = mail.tmp / "vmail"
    base.mkdir()
    os.chown(base, *vmail_ids())
    r = mail.lda("-d", "jdoe@example.com", "-o", "mail_location=maildir:%s/%%d/%%n" % base,
                 "-o", "mail_fsync=always", input=b"Subject: first\n\nbody\n")
    assert r.returncode == EX_OK, r.stderr
    assert len(os.listdir(base / "example.com" / "jdoe" / "new")) == 1
    st = os.stat(base / "example.com" / "jdoe")
    assert (st.st_uid, st.st_mode & 0o777) == (vmail_ids()[0], 0o700)


def test_direct_recipient_delimiter(mail):
    mail.start()
    r = mail.lda("-f", "a@example.org", "-d", "jdoe+lists@example.com",
                 input=b"Subject: d\n\nb\n")
    assert r.returncode == EX_OK, r.stderr
    [stored] = mail.messages("jdoe@example.com")
    assert stored.startswith(b"Return-Path: <a@example.org>\n"
                             b"Delivered-To: jdoe+lists@example.com\n")
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=unspecified: saved mail to INBOX")
    # Another delimiter character set by the administrator.
    r = mail.lda("-d", "jdoe-lists@example.com", "-o", "recipient_delimiter=+-",
                 input=b"Subject: d\n\nb\n")
    assert r.returncode == EX_OK, r.stderr
    assert len(mail.messages("jdoe@example.com")) == 2


def test_direct_exit_codes(mail):
    mail.start()
    msg = b"Subject: x\n\nbody\n"
    r = mail.lda("-d", "nobody@example.com", input=msg)
    assert r.returncode == EX_NOUSER
    r = mail.lda("-d", "nobody@example.com", "-e", input=msg)
    assert r.returncode == EX_NOUSER and b"Unknown user" in r.stderr
    r = mail.lda("-x", input=msg)
    assert r.returncode == EX_USAGE and b"Usage: roost-lda" in r.stderr
    assert b"Unknown option: -x" in r.stderr
    r = mail.lda("-d", "jdoe@example.com", "stray", input=msg)
    assert r.returncode == EX_USAGE
    r = mail.lda("-d", "jdoe@example.com", "-a", "not an address", input=msg)
    assert r.returncode == EX_USAGE and b"Invalid -a parameter" in r.stderr
    r = mail.lda("-d", "jdoe@example.com", "-o", "no_such_setting=1", input=msg)
    assert r.returncode == EX_TEMPFAIL and b"Invalid -o no_such_setting=1" in r.stderr
    # Root must say who: dovecot-lda's rule.
    r = mail.lda(input=msg, user=None)
    assert r.returncode == EX_USAGE
    assert b"destination user parameter (-d user) not given" in r.stderr
    # A broken -f is delivered with the null sender, never bounced.
    r = mail.lda("-f", "<broken", "-d", "jdoe@example.com", input=msg)
    assert r.returncode == EX_OK, r.stderr
    assert mail.messages("jdoe@example.com")[0].startswith(b"Return-Path: <>\n")
    assert mail.messages("other@example.com") == []


def test_direct_tempfail_without_roost(mail):
    mail.write_config_only()
    r = mail.lda("-e", "-d", "jdoe@example.com", input=b"Subject: x\n\nb\n")
    assert r.returncode == EX_TEMPFAIL
    assert b"auth-userdb) failed" in r.stderr and b"is roost running?" in r.stderr
    # Without -e the reason goes to the log only.
    r = mail.lda("-d", "jdoe@example.com", input=b"Subject: x\n\nb\n")
    assert r.returncode == EX_TEMPFAIL and r.stderr == b""
    assert "is roost running?" in mail.log()
    # A broken configuration is a temporary failure too (never a bounce).
    r = mail.lda("-d", "jdoe@example.com", "-c", "/nonexistent.conf", input=b"x")
    assert r.returncode == EX_TEMPFAIL


def test_direct_identity_rules(mail):
    mail.start()
    msg = b"Subject: who\n\nb\n"
    # As root, roost-lda becomes the user's uid and gid.
    r = mail.lda("-d", "jdoe@example.com", input=msg, user=None)
    assert r.returncode == EX_OK, r.stderr
    [path] = list((mail.maildir("jdoe@example.com") / "new").iterdir())
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == vmail_ids()
    # As another unprivileged user, it refuses, as dovecot-lda does.
    os.chmod(mail.lda_log, 0o666)
    r = mail.lda("-e", "-d", "jdoe@example.com", input=msg, user="nobody", group="vmail")
    assert r.returncode == EX_TEMPFAIL
    assert re.search(rb"setuid\(\d+\(vmail\) from userdb lookup\) failed with euid=\d+\(nobody"
                     rb"\): Operation not permitted \(This binary should probably be called "
                     rb"with process user set to \d+\(vmail\) instead of \d+\(nobody\)\)",
                     r.stderr), r.stderr
    # first_valid_uid keeps system users out.
    r = mail.lda("-e", "-d", "jdoe@example.com", "-o", "first_valid_uid=60000", input=msg)
    assert r.returncode == EX_TEMPFAIL
    assert b"Mail access for users with UID %d not permitted" % vmail_ids()[0] in r.stderr
    assert len(mail.messages("jdoe@example.com")) == 1


def test_direct_quota_and_size_limits(mail):
    mail.extra_users["jdoe@example.com"] = "userdb_quota_rule=*:storage=2K"
    mail.start()
    small = b"Subject: small\n\n" + b"s" * 100 + b"\n"
    big = b"Subject: big\nMessage-ID: <big@x>\n\n" + b"b" * 3000 + b"\n"
    assert mail.lda("-d", "jdoe@example.com", input=small).returncode == EX_OK
    # Over quota: rejected (exit 77, the reason on stderr for the MTA's
    # bounce, with RFC 3463's "mailbox full" code; -e: as dovecot-lda -e).
    r = mail.lda("-d", "jdoe@example.com", input=big)
    assert r.returncode == EX_NOPERM
    assert r.stderr == b"5.2.2 Quota exceeded (mailbox for user is full)\n"
    r = mail.lda("-e", "-d", "jdoe@example.com", input=big)
    assert r.returncode == EX_NOPERM
    assert r.stderr == b"Quota exceeded (mailbox for user is full)\n"
    mail.wait_log(r"Info: msgid=<big@x>: rejected: Quota exceeded \(mailbox for user is full\)")
    # quota_full_tempfail = yes: the MTA keeps it and retries.
    r = mail.lda("-d", "jdoe@example.com", "-o", "quota_full_tempfail=yes", input=big)
    assert r.returncode == EX_TEMPFAIL and r.stderr == b""
    r = mail.lda("-e", "-d", "jdoe@example.com", "-o", "quota_full_tempfail=yes", input=big)
    assert r.returncode == EX_TEMPFAIL and b"Quota exceeded" in r.stderr
    # The administrator's wording, as Dovecot's quota_exceeded_message.
    r = mail.lda("-d", "jdoe@example.com", "-o", "plugin/quota_exceeded_message=Full, sorry",
                 input=big)
    assert r.returncode == EX_NOPERM and r.stderr == b"5.2.2 Full, sorry\n"
    assert len(mail.messages("jdoe@example.com")) == 1
    # lda_max_message_size: larger input is rejected after reading it all.
    r = mail.lda("-d", "other@example.com", "-o", "lda_max_message_size=1k",
                 input=b"Subject: x\n\n" + b"y" * 2000)
    assert r.returncode == EX_NOPERM
    assert r.stderr == (b"5.2.3 Message too large (more than lda_max_message_size = 1024 "
                        b"bytes)\n")
    mail.wait_log(r"lda\(other@example\.com\): Info: rejected: Message too large")
    assert mail.messages("other@example.com") == []
    # Messages of tens of MB go through with the default limit.
    body = (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&*+-=\n"
            * (30 * 1024 * 1024 // 72))
    r = mail.lda("-d", "other@example.com", input=b"Subject: huge\n\n" + body, timeout=120)
    assert r.returncode == EX_OK, r.stderr
    [stored] = mail.messages("other@example.com")
    assert stored.endswith(body) and len(stored) > 30 * 1000 * 1000


def test_direct_message_from_file(mail, tmp_path):
    mail.start()
    path = mail.tmp / "message.eml"
    path.write_bytes(b"From other@example.org Mon Jan  1 00:00:00 2024\n"
                     b"Subject: from a file\n\nbody\n")
    os.chmod(path, 0o644)
    r = mail.lda("-d", "jdoe@example.com", "-p", str(path))
    assert r.returncode == EX_OK, r.stderr
    [stored] = mail.messages("jdoe@example.com")
    # The mbox From_ line is dropped and gives the envelope sender.
    assert stored == (b"Return-Path: <other@example.org>\nDelivered-To: jdoe@example.com\n"
                      b"Subject: from a file\n\nbody\n")
    r = mail.lda("-d", "jdoe@example.com", "-p", str(mail.tmp / "missing.eml"))
    assert r.returncode == EX_TEMPFAIL


def test_direct_log_format(mail):
    mail.lda_config = ("deliver_log_format = msgid=%m from=%f subject=\"%s\" size=%p "
                       "vsize=%w from_envelope=%e: %$\n")
    mail.start()
    msg = (b"From: Alice <alice@example.org>\nSubject: =?utf-8?q?caf=C3=A9?=\n"
           b"Message-ID: <lf@x>\n\nbody\n")
    r = mail.lda("-f", "bounce@example.org", "-d", "jdoe@example.com", input=msg)
    assert r.returncode == EX_OK, r.stderr
    [stored] = mail.messages("jdoe@example.com")
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=<lf@x> from=alice@example\.org "
                  r"subject=\"caf\u00e9\" size=%d vsize=%d from_envelope=bounce@example\.org: "
                  r"saved mail to INBOX" % (len(stored), len(stored) + stored.count(b"\n")))


def test_unmounted_mountpoint_is_a_temporary_failure(mail):
    """A mail root under a registered mountpoint that is not mounted: exit
    75, and nothing at all is created on the bare directory."""
    mail.start()
    mount = mail.tmp / "mnt"
    mount.mkdir()
    os.chmod(mount, 0o777)
    state = mail.tmp / "state"
    state.mkdir(exist_ok=True)
    (state / "mounts").write_text("%s\n" % mount)
    os.chmod(state / "mounts", 0o644)
    r = mail.lda("-e", "-d", "jdoe@example.com", "-o", "mail_location=maildir:%s/%%n" % mount,
                 input=b"Subject: x\n\nbody\n")
    assert r.returncode == EX_TEMPFAIL, r.stderr
    assert b"not mounted" in r.stderr
    assert os.listdir(mount) == []
    mail.wait_log(r"Error: Mail storage unavailable: .*under mountpoint %s, which is not "
                  r"mounted" % re.escape(str(mount)))
    # Mounted (a bind mount counts), the same delivery works.
    if subprocess.run(["mount", "--bind", str(mount), str(mount)]).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        r = mail.lda("-d", "jdoe@example.com", "-o", "mail_location=maildir:%s/%%n" % mount,
                     input=b"Subject: x\n\nbody\n")
        assert r.returncode == EX_OK, r.stderr
        assert len(os.listdir(mount / "jdoe" / "new")) == 1
    finally:
        subprocess.run(["umount", str(mount)])


def test_sandbox_is_entered_before_the_message_is_read(mail):
    mail.start()
    for user in ("vmail", None):
        p = mail.popen_lda("-d", "jdoe@example.com", user=user)
        try:
            # Blocked reading stdin: by then the sandbox must be complete.
            def blocked():
                try:
                    st = proc_status(p.pid)
                    return st.get("Seccomp") == "2" and st
                except FileNotFoundError:
                    return None
            st = wait_for(blocked, what="roost-lda to confine itself")
            uid, gid = vmail_ids()
            assert st["Uid"].split() == [str(uid)] * 4
            assert st["Gid"].split() == [str(gid)] * 4
            assert st["NoNewPrivs"] == "1"
            assert st["CapEff"] == "0000000000000000"
            assert st["CapPrm"] == "0000000000000000"
            if user is None:
                assert st["CapBnd"] == "0000000000000000"
            with open("/proc/%d/wchan" % p.pid) as f:
                assert "pipe_read" in f.read()
            out, err = p.communicate(b"Subject: s\n\nb\n", timeout=30)
            assert p.returncode == EX_OK, err
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert len(mail.messages("jdoe@example.com")) == 2


def test_sandbox_profile_matches_binary(mail):
    out = subprocess.run([LDA, "--sandbox-profile"], capture_output=True, text=True,
                         check=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert fields["profile"].strip() == "lda"
    assert fields["landlock"].strip() == "fs=deny net=deny scope=on"
    assert "socket" not in fields["syscalls"].split()
    assert "execve" not in fields["syscalls"].split()


def test_parallel_deliveries_each_stored_once(mail):
    """Twenty roost-lda processes at once into one mailbox (and its folder):
    the store's locks serialise the UID assignments, nothing is lost."""
    mail.lda_config = "lda_mailbox_autocreate = yes\n"
    mail.start()
    procs = []
    for n in range(20):
        args = ["-d", "jdoe@example.com"] + (["-m", "Par"] if n % 2 else [])
        p = mail.popen_lda(*args)
        procs.append((n, p))
    for n, p in procs:
        p.communicate(b"Message-ID: <par-%d@x>\n\n" % n + b"x" * (n * 5000) + b"\n",
                      timeout=60)
        assert p.returncode == EX_OK, (n, p.returncode)
    inbox = mail.messages("jdoe@example.com")
    folder = mail.messages("jdoe@example.com", "Par")
    assert len(inbox) == 10 and len(folder) == 10
    for n in range(20):
        where = folder if n % 2 else inbox
        assert sum(b"<par-%d@x>" % n in m for m in where) == 1
    uidlist = (mail.maildir("jdoe@example.com") / "dovecot-uidlist").read_text()
    uids = [line.split()[0] for line in uidlist.splitlines()[1:] if line.strip()]
    assert len(uids) == len(set(uids)) == 10


# ---- crash safety ----

def build_storage_tool(tmp):
    tool = str(tmp / "storage-tool")
    subprocess.run(["gcc", "-std=c17", "-O1", "-D_GNU_SOURCE", "-I" + str(ROOT / "lib"),
                    "-I" + str(ROOT / "storage"), "-o", tool,
                    str(ROOT / "tests" / "storage" / "storage-tool.c"),
                    str(BUILD / "libstorage.a"), str(BUILD / "libroost.a"), "-lz"],
                   check=True)
    return tool


def dump(tool, root):
    r = subprocess.run(["setpriv", "--reuid=vmail", "--regid=vmail", "--clear-groups", tool,
                        root, "dump", "INBOX"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line.startswith("MSG ")]


@pytest.mark.skipif(ASAN, reason="kill timing is meaningless under the sanitizers")
def test_kill_9_at_random_points(mail):
    """200 deliveries killed at random moments: every delivery that exited 0
    is there exactly once, nothing half-written is visible, no message is
    there twice, and the index rebuilds to the same view."""
    mail.start()
    rng = random.Random(4)
    runs = 200
    outcome = {}
    batch = []

    def finish(entry):
        n, p, killed = entry
        p.wait(timeout=60)
        outcome[n] = "ok" if p.returncode == 0 else "killed" if killed else p.returncode

    def feed(p, msg):
        try:
            p.stdin.write(msg)
            p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    for n in range(runs):
        size = rng.choice([300, 2000, 20000, 200000, 1000000])
        msg = (b"Subject: crash %d\nMessage-ID: <crash-%d@test>\n\n" % (n, n) +
               (b"%d " % n) * (size // 8) + b"\n")
        p = mail.popen_lda("-d", "jdoe@example.com")
        writer = threading.Thread(target=feed, args=(p, msg))
        writer.start()
        # A delivery takes a few milliseconds: kill anywhere in it, or never.
        time.sleep(rng.random() * 0.012)
        killed = p.poll() is None
        if killed:
            os.kill(p.pid, signal.SIGKILL)
        writer.join()
        batch.append((n, p, killed))
        if len(batch) >= 8:
            for entry in batch:
                finish(entry)
            batch = []
    for entry in batch:
        finish(entry)

    root = mail.maildir("jdoe@example.com")
    stored = {}
    for sub in ("new", "cur"):
        for name in os.listdir(root / sub):
            data = (root / sub / name).read_bytes()
            m = re.search(rb"Message-ID: <crash-(\d+)@test>", data)
            assert m, name
            n = int(m.group(1))
            stored[n] = stored.get(n, 0) + 1
            # A visible message is always complete.
            assert data.endswith(b"%d \n" % n), name
    ok = [n for n, o in outcome.items() if o == "ok"]
    killed = [n for n, o in outcome.items() if o == "killed"]
    others = {n: o for n, o in outcome.items() if o not in ("ok", "killed")}
    assert not others, others
    assert ok and killed, (len(ok), len(killed))
    leftovers = os.listdir(root / "tmp")
    print("kill -9 test: %d delivered, %d killed (%d of them stored), %d files left in tmp/"
          % (len(ok), len(killed), len([n for n in killed if n in stored]), len(leftovers)))
    for n in ok:
        assert stored.get(n) == 1, (n, stored.get(n))
    assert all(count == 1 for count in stored.values()), stored
    # Whatever a kill left in tmp/ is not a message.
    tool = build_storage_tool(mail.tmp)
    view = dump(tool, str(root))
    assert len(view) == len(stored)
    uids = [int(line.split()[1]) for line in view]
    assert len(set(uids)) == len(uids)
    # The index is a cache: deleted, it is rebuilt with the same UIDs.
    for name in ("roost.index", "roost.index.cache"):
        try:
            os.unlink(root / name)
        except FileNotFoundError:
            pass
    assert dump(tool, str(root)) == view


# ---- logging ----

def test_logs_to_syslog(mail, syslog_capture):
    """log_path = syslog: the delivery line reaches syslog in Dovecot's
    shape (no "Info: " there, syslog carries the level)."""
    os.chmod("/dev/log", 0o666)  # as syslog daemons make it
    mail.lda_config = "protocol lda {\n  log_path = syslog\n}\n"
    mail.start()
    r = mail.lda("-d", "jdoe@example.com", input=b"Message-ID: <sys@x>\n\nbody\n")
    assert r.returncode == EX_OK, r.stderr
    wait_for(lambda: any("lda(jdoe@example.com): msgid=<sys@x>: saved mail to INBOX" in line
                         for line in syslog_capture.lines), what="the syslog line")
    assert any(re.match(r"<22>\w{3} [ \d]\d \d\d:\d\d:\d\d roost-test\[\d+\]: lda\(jdoe", line)
               for line in syslog_capture.lines), syslog_capture.lines


def test_missing_syslog_never_kills_after_saving(mail):
    """With log_path = syslog and nothing listening on /dev/log, glibc would
    open a new socket for each line, which the sandbox forbids; roost-lda
    must not die after storing the message (the MTA would deliver it
    again)."""
    if os.path.exists("/dev/log"):
        pytest.skip("a syslog daemon owns /dev/log")
    mail.lda_config = "protocol lda {\n  log_path = syslog\n}\n"
    mail.start()
    r = mail.lda("-d", "jdoe@example.com", input=b"Subject: x\n\nbody\n")
    assert r.returncode == EX_OK, r
    assert len(mail.messages("jdoe@example.com")) == 1
