"""Sieve inside roost-lda: a real Postfix delivering through the seed's
pipe line, users' ~/.dovecot.sieve scripts and server-wide sieve_before
scripts filing into folders and setting flags, redirects, vacation replies
and reject bounces sent back through Postfix by the submission helper,
broken scripts and limits that still deliver to INBOX and leave the error
in the user's sieve log, the CPU-time backstop, and the sandbox of both
processes."""
import os
import re
import subprocess
import time

import pytest

from conftest import ASAN, exited, proc_status, wait_for
from lda_fixtures import (LDA, header_fields, mail, postfix_factory, rfc822,  # noqa: F401
                          vmail_ids, wait_messages)

EX_OK, EX_TEMPFAIL = 0, 75
JDOE, OTHER, SENDER = "jdoe@example.com", "other@example.com", "sender@example.com"


def put_script(mail, user, text, name=".dovecot.sieve"):
    """Writes a script into user's home as the mail user owns it."""
    path = mail.home(user) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    uid, gid = vmail_ids()
    os.chown(path.parent, uid, gid)
    os.chown(path, uid, gid)
    return path


def start_with_postfix(mail, postfix_factory, script):
    """roost-lda sending through a Postfix that delivers back to it, and
    jdoe@'s script; returns the started Postfix."""
    mail.start()
    postfix = postfix_factory()
    mail.lda_config = "submission_host = 127.0.0.1:%d\n" % postfix.port
    mail.write_config_only()
    put_script(mail, JDOE, script)
    postfix.start()
    return postfix


def global_script(mail, name, text):
    """A script of the administrator's, readable by the mail user."""
    d = mail.tmp / "sieve"
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o755)
    path = d / name
    if name.endswith("/"):
        path.mkdir(exist_ok=True)
        os.chmod(path, 0o755)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o644)
    return path


def header(message, name):
    values = [v for n, v in header_fields(message) if n.lower() == name.lower()]
    return values[0] if values else None


def stored_files(mail, user, folder=""):
    found = []
    for sub in ("new", "cur"):
        d = mail.maildir(user, folder) / sub
        if d.is_dir():
            found.extend(sorted(d.iterdir()))
    return found


def deliver(mail, *args, user=JDOE, sender="sender@example.org", message=None, **kw):
    args = ("-d", user, "-f", sender) + args
    return mail.lda(*args, input=message if message is not None else rfc822("s", "m@x"), **kw)


def sieve_config(**plugin):
    lines = ["plugin {"] + ["  %s = %s" % (k, v) for k, v in plugin.items()] + ["}"]
    return "\n".join(lines) + "\n"


# ---- through Postfix ----

def test_postfix_user_script_files_by_header(mail, postfix_factory):
    """The seed's setup: ~/.dovecot.sieve files list mail into a folder
    (created by lda_mailbox_autocreate); the rest stays in INBOX."""
    mail.lda_config = "lda_mailbox_autocreate = yes\n"
    mail.start()
    put_script(mail, JDOE, 'require "fileinto";\n'
                           'if header :contains "List-Id" "roost.example.org" {\n'
                           '  fileinto "Lists";\n'
                           '}\n')
    postfix = postfix_factory().start()
    postfix.send("sender@example.org", [JDOE],
                 rfc822("list post", "pf-l1@example.org", extra="List-Id: <roost.example.org>\n"))
    postfix.send("sender@example.org", [JDOE], rfc822("personal", "pf-l2@example.org"))
    [listed] = wait_messages(mail, JDOE, 1, folder="Lists")
    assert header(listed, "Message-ID") == "<pf-l1@example.org>"
    [kept] = wait_messages(mail, JDOE, 1)
    assert header(kept, "Message-ID") == "<pf-l2@example.org>"
    mail.wait_log(r"msgid=<pf-l1@example\.org>: saved mail to Lists")
    postfix.wait_log(r"(?s)to=<jdoe@example\.com>, relay=dovecot, [^\n]*status=sent.*"
                     r"to=<jdoe@example\.com>, relay=dovecot, [^\n]*status=sent")


def test_postfix_redirect_reaches_second_user(mail, postfix_factory):
    """redirect goes out through the submission helper (SMTP to Postfix)
    and reaches other@ through Postfix and roost-lda again, with the
    original envelope sender and the loop marker; other@ redirecting it
    back is caught as a loop and jdoe@ keeps it."""
    postfix = start_with_postfix(mail, postfix_factory, 'redirect "other@example.com";\n')
    postfix.send("sender@example.org", [JDOE], rfc822("forward me", "pf-r1@example.org"))
    [got] = wait_messages(mail, OTHER, 1)
    assert header(got, "Message-ID") == "<pf-r1@example.org>"
    assert header(got, "X-Sieve-Redirected-From") == JDOE
    assert header(got, "Return-Path") == "<sender@example.org>"
    # One Return-Path only: the redirect dropped roost-lda's.
    assert [n for n, _ in header_fields(got)].count("Return-Path") == 1
    assert mail.messages(JDOE) == []
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=<pf-r1@example\.org>: forwarded to "
                  r"<other@example\.com>")

    # A loop: other@ sends everything back to jdoe@. Postfix's pipe wrote
    # Delivered-To: jdoe@ (flag D) and the redirect keeps it, so Postfix
    # refuses the second delivery to jdoe@ itself.
    put_script(mail, OTHER, 'redirect "jdoe@example.com";\n')
    postfix.send("sender@example.org", [JDOE], rfc822("loop", "pf-r2@example.org"))
    postfix.wait_log(r"to=<jdoe@example\.com>, relay=dovecot, .*dsn=5\.4\.6, status=bounced "
                     r"\(mail forwarding loop for jdoe@example\.com\)")
    mail.wait_log(r"lda\(other@example\.com\): Info: msgid=<pf-r2@example\.org>: forwarded to "
                  r"<jdoe@example\.com>")
    assert mail.messages(JDOE) == []
    assert len(mail.messages(OTHER)) == 1


def test_redirect_loop_marker_keeps(mail):
    """Without an MTA's Delivered-To, roost's own marker stops the loop:
    a message that already went through jdoe@'s redirect is kept."""
    mail.start()
    put_script(mail, JDOE, 'redirect "other@example.com";\n')
    r = deliver(mail, message=rfc822("loop", "lm@example.org",
                                     extra="X-Sieve-Redirected-From: jdoe@example.com\n"))
    assert r.returncode == EX_OK, r.stderr
    assert len(mail.messages(JDOE)) == 1
    mail.wait_log(r"lda\(jdoe@example\.com\): Info: msgid=<lm@example\.org>: not forwarding "
                  r"message to <other@example\.com>: the `x-sieve-redirected-from' header "
                  r"indicates a mail loop")


def test_postfix_vacation_once_per_sender(mail, postfix_factory):
    """vacation answers sender@ once within :days, through Postfix, with
    RFC 3834's marks; lists, bulk mail, auto-replies and bounces are never
    answered."""
    postfix = start_with_postfix(
        mail, postfix_factory,
        'require "vacation";\n'
        'vacation :days 3 :subject "Out of office"\n'
        '  :from "John Doe <jdoe@example.com>" "I am away until Monday.";\n')
    postfix.send(SENDER, [JDOE], rfc822("first", "pf-v1@example.org"))
    [reply] = wait_messages(mail, SENDER, 1)
    assert header(reply, "Subject") == "Out of office"
    assert header(reply, "From") == "John Doe <jdoe@example.com>"
    assert header(reply, "To") == "<sender@example.com>"
    assert header(reply, "In-Reply-To") == "<pf-v1@example.org>"
    assert header(reply, "References") == "<pf-v1@example.org>"
    assert header(reply, "Auto-Submitted") == "auto-replied (vacation)"
    # Sent from the null sender, so nothing ever answers it (Postfix's
    # pipe passes <> on as its null_sender, MAILER-DAEMON).
    assert header(reply, "Return-Path") == "<MAILER-DAEMON>"
    postfix.wait_log(r"from=<>, size=\d+, nrcpt=1")
    assert b"I am away until Monday." in reply
    assert len(mail.messages(JDOE)) == 1
    mail.wait_log(r"msgid=<pf-v1@example\.org>: sent vacation response to "
                  r"<sender@example\.com>")

    # The same sender again within :days: no second reply.
    postfix.send(SENDER, [JDOE], rfc822("second", "pf-v2@example.org"))
    wait_messages(mail, JDOE, 2)
    mail.wait_log(r"msgid=<pf-v2@example\.org>: discarded duplicate vacation response to "
                  r"<sender@example\.com>")
    assert (mail.home(JDOE) / ".roost.lda-dupes").exists()

    # Never to lists, bulk mail, auto-replies or bounces.
    cases = [("List-Id: <l.example.org>\n", "mailinglist"),
             ("Precedence: bulk\n", "precedence=bulk"),
             ("Auto-Submitted: auto-generated\n", "auto-submitted")]
    for i, (extra, why) in enumerate(cases):
        postfix.send(OTHER, [JDOE], rfc822("n%d" % i, "pf-vn%d@example.org" % i, extra=extra))
        mail.wait_log(r"msgid=<pf-vn%d@example\.org>: discard.* vacation response .*%s" %
                      (i, re.escape(why)) if why != "mailinglist" else
                      r"msgid=<pf-vn0@example\.org>: discarding vacation response to "
                      r"mailinglist recipient")
    # A bounce: Postfix's pipe passes <> as MAILER-DAEMON, a system address.
    postfix.send("", [JDOE], rfc822("bounce", "pf-vb@example.org"))
    mail.wait_log(r"msgid=<pf-vb@example\.org>: not sending vacation response to system "
                  r"address <MAILER-DAEMON>")
    wait_messages(mail, JDOE, 6)
    assert len(mail.messages(SENDER)) == 1
    assert mail.messages(OTHER) == []


def test_postfix_reject_bounces_to_sender(mail, postfix_factory):
    """reject (and ereject, at delivery the same) sends an MDN to the
    envelope sender and stores nothing."""
    postfix = start_with_postfix(
        mail, postfix_factory,
        'require ["reject", "ereject"];\n'
        'if header :contains "subject" "offer" { reject "No offers, thanks."; }\n'
        'elsif header :contains "subject" "spam" { ereject "Go away."; }\n')
    postfix.send(SENDER, [JDOE], rfc822("special offer", "pf-j1@example.org"))
    [bounce] = wait_messages(mail, SENDER, 1)
    assert header(bounce, "Subject") == "Rejected: special offer"
    assert header(bounce, "From") == "Mail Delivery Subsystem <postmaster@example.com>"
    assert header(bounce, "Return-Path") == "<MAILER-DAEMON>"  # <> through Postfix's pipe
    assert header(bounce, "Auto-Submitted") == "auto-replied (rejected)"
    assert "multipart/report" in header(bounce, "Content-Type")
    assert "report-type=disposition-notification" in header(bounce, "Content-Type")
    text = bounce.decode()
    assert "Your message to <jdoe@example.com> was automatically rejected:" in text
    assert "No offers, thanks." in text
    assert "Original-Message-ID: <pf-j1@example.org>" in text
    assert "Disposition: automatic-action/MDN-sent-automatically; deleted" in text
    assert "Subject: special offer" in text  # the original header comes back
    mail.wait_log(r"msgid=<pf-j1@example\.org>: rejected message from <sender@example\.com> "
                  r"\(reject\)")
    postfix.send(SENDER, [JDOE], rfc822("spam spam", "pf-j2@example.org"))
    wait_messages(mail, SENDER, 2)
    mail.wait_log(r"msgid=<pf-j2@example\.org>: rejected message from <sender@example\.com> "
                  r"\(ereject\)")
    assert mail.messages(JDOE) == []
    # roost-lda sent the bounces itself: exit 0, so Postfix sends none, and
    # roostadm stats counts both deliveries as rejected.
    postfix.wait_log(r"(?s)to=<jdoe@example\.com>, relay=dovecot, [^\n]*status=sent.*"
                     r"to=<jdoe@example\.com>, relay=dovecot, [^\n]*status=sent")
    assert "status=bounced" not in postfix.log()
    wait_for(lambda: "deliveries_rejected 2" in mail.server.adm("stats").stdout,
             what="two rejected deliveries in roostadm stats")


def test_postfix_global_before_files_spam_for_every_user(mail, postfix_factory):
    """A sieve_before script files X-Spam-Flag: YES into Junk for every
    user, before (and instead of) their own scripts; sieve_after runs
    last; a directory of before scripts runs in name order."""
    before = global_script(mail, "before.sieve",
                           'require "fileinto";\n'
                           'if header :is "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }\n')
    before_dir = global_script(mail, "before.d/", "")
    global_script(mail, "before.d/10-tag.sieve",
                  'require ["imap4flags"];\n'
                  'if header :contains "subject" "urgent" { addflag "\\\\Flagged"; }\n')
    after = global_script(mail, "after.sieve",
                          'require "fileinto";\n'
                          'if header :contains "subject" "report" { fileinto "Reports"; }\n')
    mail.lda_config = ("lda_mailbox_autocreate = yes\n" +
                       sieve_config(sieve_before=before, sieve_before2=before_dir,
                                    sieve_after=after))
    mail.start()
    # jdoe@'s own script would keep spam in "Personal": never reached.
    put_script(mail, JDOE, 'require "fileinto";\nif true { fileinto "Personal"; keep; }\n')
    postfix = postfix_factory().start()
    for user in (JDOE, OTHER):
        postfix.send("sender@example.org", [user],
                     rfc822("cheap pills", "pf-s-%s@example.org" % user.split("@")[0],
                            extra="X-Spam-Flag: YES\n"))
    wait_messages(mail, JDOE, 1, folder="Junk")
    wait_messages(mail, OTHER, 1, folder="Junk")
    assert mail.messages(JDOE, "Personal") == [] and mail.messages(JDOE) == []
    assert mail.messages(OTHER) == []
    # Ham: other@ has no script, so before, then after.
    postfix.send("sender@example.org", [OTHER], rfc822("urgent report", "pf-h1@example.org"))
    wait_messages(mail, OTHER, 1, folder="Reports")
    # The keep of the before script's flag sequence went on to after's fileinto.
    assert mail.messages(OTHER) == []
    # jdoe@'s own script runs for ham, and sieve_after after it.
    postfix.send("sender@example.org", [JDOE], rfc822("hello", "pf-h2@example.org"))
    wait_messages(mail, JDOE, 1, folder="Personal")
    wait_messages(mail, JDOE, 1)


# ---- direct deliveries ----

def test_flags_and_keywords(mail):
    """imap4flags: system flags in the Maildir file name, keywords in
    dovecot-keywords; fileinto :flags for one copy."""
    mail.start()
    put_script(mail, JDOE, 'require ["imap4flags", "fileinto", "mailbox"];\n'
                           'addflag ["\\\\Flagged", "$Important"];\n'
                           'fileinto :create :flags "\\\\Seen" "Archive";\n'
                           'keep;\n')
    r = deliver(mail)
    assert r.returncode == EX_OK, r.stderr
    [inbox] = stored_files(mail, JDOE)
    [archived] = stored_files(mail, JDOE, "Archive")
    # \Flagged and the first keyword (letter a) on the kept copy.
    assert inbox.name.endswith(":2,Fa"), inbox.name
    assert archived.name.endswith(":2,S"), archived.name
    keywords = (mail.maildir(JDOE) / "dovecot-keywords").read_text()
    assert "0 $Important" in keywords.splitlines()


def test_broken_script_keeps_and_writes_user_log(mail):
    """A syntax error never loses mail: INBOX, the error with
    file:line:column in roost-lda's log and in ~/.dovecot.sieve.log."""
    mail.start()
    script = put_script(mail, JDOE, 'require "fileinto";\n'
                                    'if header :contains "subject" "x" {\n'
                                    '  fileinto "Lists"\n'
                                    '}\n')
    r = deliver(mail, message=rfc822("x", "broken@example.org"))
    assert r.returncode == EX_OK, r.stderr
    assert len(mail.messages(JDOE)) == 1
    mail.wait_log(r"Error: sieve: %s:4:1: error: " % re.escape(str(script)))
    mail.wait_log(r"failed to compile script %s \(see the user log %s\.log\)"
                  % (re.escape(str(script)), re.escape(str(script))))
    mail.wait_log(r"msgid=<broken@example\.org>: saved mail to INBOX")
    log = (mail.home(JDOE) / ".dovecot.sieve.log").read_text()
    assert log.startswith("sieve: info: started log at ")
    assert "%s:4:1: error: " % script in log
    st = os.stat(mail.home(JDOE) / ".dovecot.sieve.log")
    assert st.st_uid == vmail_ids()[0]


def test_active_script_link_and_its_log(mail):
    """sieve = file:~/sieve;active=~/.dovecot.sieve: the active link picks
    the script, the log sits next to the link, includes come from ~/sieve
    and from sieve_global."""
    gdir = global_script(mail, "global/", "")
    global_script(mail, "global/spam.sieve",
                  'require "fileinto";\nif exists "X-Spam" { fileinto "Junk"; }\n')
    mail.lda_config = ("lda_mailbox_autocreate = yes\n" +
                       sieve_config(sieve="file:~/sieve;active=~/.dovecot.sieve",
                                    sieve_global=gdir))
    mail.start()
    put_script(mail, JDOE, 'require ["include", "fileinto"];\n'
                           'include :global "spam";\n'
                           'include :personal "lists";\n', name="sieve/main.sieve")
    put_script(mail, JDOE, 'require "fileinto";\n'
                           'if exists "List-Id" { fileinto "Lists"; }\n',
               name="sieve/lists.sieve")
    put_script(mail, JDOE, 'this is not sieve', name="sieve/other.sieve")
    link = mail.home(JDOE) / ".dovecot.sieve"
    os.symlink("sieve/main.sieve", link)
    os.lchown(link, *vmail_ids())
    assert deliver(mail, message=rfc822("a", "i1@x", extra="X-Spam: yes\n")).returncode == 0
    assert deliver(mail, message=rfc822("b", "i2@x", extra="List-Id: <l>\n")).returncode == 0
    assert deliver(mail, message=rfc822("c", "i3@x")).returncode == 0
    assert len(mail.messages(JDOE, "Junk")) == 1
    assert len(mail.messages(JDOE, "Lists")) == 1
    assert len(mail.messages(JDOE)) == 1
    # A runtime error (a missing include) goes to the log next to the link.
    put_script(mail, JDOE, 'require "include";\ninclude :personal "gone";\n',
               name="sieve/main.sieve")
    assert deliver(mail, message=rfc822("d", "i4@x")).returncode == 0
    assert len(mail.messages(JDOE)) == 2
    log = (mail.home(JDOE) / ".dovecot.sieve.log").read_text()
    assert "included personal script 'gone' does not exist" in log
    mail.wait_log(r"sieve: .*/\.dovecot\.sieve:2:1: error: included personal script 'gone' "
                  r"does not exist")


def test_sieve_default_when_user_has_none(mail):
    """sieve_default (and its old name sieve_global_path) runs only for
    users without a script; its errors stay out of the user's log."""
    default = global_script(mail, "default.sieve",
                            'require "fileinto";\nfileinto "FromDefault";\n')
    mail.lda_config = "lda_mailbox_autocreate = yes\n" + sieve_config(sieve_global_path=default)
    mail.start()
    assert deliver(mail, user=OTHER).returncode == EX_OK
    assert len(mail.messages(OTHER, "FromDefault")) == 1
    put_script(mail, JDOE, "keep;\n")
    assert deliver(mail).returncode == EX_OK
    assert len(mail.messages(JDOE)) == 1 and mail.messages(JDOE, "FromDefault") == []
    default.write_text("fileinto broken\n")
    assert deliver(mail, user=OTHER).returncode == EX_OK
    assert len(mail.messages(OTHER)) == 1
    assert not (mail.home(OTHER) / ".dovecot.sieve.log").exists()
    mail.wait_log(r"failed to compile script %s\n" % re.escape(str(default)))


def test_max_actions_keeps(mail):
    """Over sieve_max_actions is a runtime error: implicit keep only."""
    mail.lda_config = "lda_mailbox_autocreate = yes\n" + sieve_config(sieve_max_actions=2)
    mail.start()
    put_script(mail, JDOE, 'require "fileinto";\n'
                           'fileinto "A";\nfileinto "B";\nfileinto "C";\n')
    r = deliver(mail, message=rfc822("many", "max@x"))
    assert r.returncode == EX_OK, r.stderr
    assert len(mail.messages(JDOE)) == 1
    for box in ("A", "B", "C"):
        assert mail.messages(JDOE, box) == []
    mail.wait_log(r"sieve: .*\.dovecot\.sieve:4:1: error: total number of actions exceeds "
                  r"policy limit")
    assert "exceeds policy limit" in (mail.home(JDOE) / ".dovecot.sieve.log").read_text()


def test_max_redirects_and_script_size(mail):
    mail.lda_config = sieve_config(sieve_max_redirects=1, sieve_max_script_size="64")
    mail.start()
    put_script(mail, JDOE, 'redirect "a@example.org";\nredirect "b@example.org";\n')
    assert deliver(mail, message=rfc822("r", "rd@x")).returncode == EX_OK
    assert len(mail.messages(JDOE)) == 1
    mail.wait_log(r"error: number of redirect actions exceeds policy limit")
    put_script(mail, JDOE, "# " + "x" * 100 + "\nkeep;\n")
    assert deliver(mail, message=rfc822("s", "sz@x")).returncode == EX_OK
    assert len(mail.messages(JDOE)) == 2
    mail.wait_log(r"failed to compile script")


@pytest.mark.skipif(ASAN, reason="the backstop jumps out of the sanitizer's regexec interceptor")
def test_cpu_time_backstop_stops_a_runaway_regex(mail):
    """One regular expression match the engine cannot interrupt: the
    ITIMER_PROF backstop ends it and the message is kept."""
    mail.lda_config = sieve_config(sieve_max_cpu_time="1s")
    mail.start()
    put_script(mail, JDOE, 'require ["regex", "fileinto"];\n'
                           'if header :regex "subject" '
                           '"(.*)(.*)(.*)(.*)(.*)(.*)(.*)\\\\7\\\\6\\\\5\\\\4\\\\3\\\\2\\\\1x" '
                           '{ fileinto "Never"; }\n')
    started = time.monotonic()
    r = deliver(mail, message=rfc822("a" * 80, "cpu@x"), timeout=60)
    assert r.returncode == EX_OK, r.stderr
    assert time.monotonic() - started < 30
    assert len(mail.messages(JDOE)) == 1
    mail.wait_log(r"sieve: execution exceeded the CPU time limit \(sieve_max_cpu_time\): "
                  r"keeping the message")
    assert "CPU time limit" in (mail.home(JDOE) / ".dovecot.sieve.log").read_text()


def test_editheader_stores_the_edited_message(mail):
    mail.lda_config = sieve_config(sieve_extensions="+editheader")
    mail.start()
    put_script(mail, JDOE, 'require "editheader";\n'
                           'deleteheader "X-Internal";\n'
                           'addheader "X-Filtered" "by roost";\n')
    r = deliver(mail, message=rfc822("e", "eh@x", extra="X-Internal: secret\n"))
    assert r.returncode == EX_OK, r.stderr
    [stored] = mail.messages(JDOE)
    assert header(stored, "X-Filtered") == "by roost"
    assert header(stored, "X-Internal") is None
    assert header(stored, "Message-ID") == "<eh@x>"


def test_duplicate_mailboxexists_environment_subaddress(mail):
    """duplicate remembers ids in the home; mailboxexists asks the store;
    environment says location MDA, phase during; :detail comes from the
    recipient's +detail."""
    mail.lda_config = "lda_mailbox_autocreate = yes\n"
    mail.start()
    put_script(mail, JDOE, 'require ["duplicate", "fileinto", "mailbox", "environment",\n'
                           '         "envelope", "subaddress", "variables"];\n'
                           'if duplicate { fileinto "Dups"; stop; }\n'
                           'if allof (environment "location" "MDA",\n'
                           '          environment "phase" "during",\n'
                           '          envelope :detail "to" "lists") {\n'
                           '  if mailboxexists "Lists" { fileinto "Lists"; }\n'
                           '  else { fileinto "NoLists"; }\n'
                           '}\n')
    assert deliver(mail, user="jdoe+lists@example.com",
                   message=rfc822("one", "d1@x")).returncode == EX_OK
    assert len(mail.messages(JDOE, "NoLists")) == 1
    assert subprocess.run(["mkdir", "-p", str(mail.maildir(JDOE, "Lists") / "cur"),
                           str(mail.maildir(JDOE, "Lists") / "new"),
                           str(mail.maildir(JDOE, "Lists") / "tmp")]).returncode == 0
    subprocess.run(["chown", "-R", "vmail:vmail", str(mail.maildir(JDOE, "Lists"))], check=True)
    assert deliver(mail, user="jdoe+lists@example.com",
                   message=rfc822("two", "d2@x")).returncode == EX_OK
    assert len(mail.messages(JDOE, "Lists")) == 1
    # The same Message-ID again.
    assert deliver(mail, message=rfc822("again", "d1@x")).returncode == EX_OK
    assert len(mail.messages(JDOE, "Dups")) == 1
    assert mail.messages(JDOE) == []


def test_sendmail_path_argv_and_failures(mail):
    """sendmail_path is run with argv only: the configured words, then -i
    -f SENDER -- RECIPIENT; EX_TEMPFAIL defers the delivery (nothing is
    stored, the redirect is not repeated on retry), another failure keeps
    the message."""
    fake = mail.tmp / "fake"
    fake.mkdir()
    os.chmod(fake, 0o777)
    code = fake / "code"
    code.write_text("0")
    os.chmod(code, 0o666)
    prog = fake / "sendmail"
    prog.write_text('#!/bin/sh\nn=$(date +%%s%%N)\nprintf "%%s\\n" "$@" > %s/$n.args\n'
                    'cat > %s/$n.msg\nexit $(cat %s)\n' % (fake, fake, code))
    os.chmod(prog, 0o755)
    mail.lda_config = "sendmail_path = %s -oi\n" % prog
    mail.start()
    put_script(mail, JDOE, 'redirect "other@example.com";\n'
                           'redirect "third@example.net";\n')
    assert deliver(mail, message=rfc822("fwd", "sm1@x")).returncode == EX_OK
    args = sorted(p.read_text() for p in fake.glob("*.args"))
    assert args == ["-oi\n-i\n-f\nsender@example.org\n--\nother@example.com\n",
                    "-oi\n-i\n-f\nsender@example.org\n--\nthird@example.net\n"]
    msgs = [p.read_bytes() for p in fake.glob("*.msg")]
    # sendmail gets LF line ends; the redirect marker is on top.
    assert all(m.startswith(b"X-Sieve-Redirected-From: jdoe@example.com\n") for m in msgs)
    assert all(b"\r" not in m for m in msgs)
    assert mail.messages(JDOE) == []
    for p in fake.glob("*.a*"):
        p.unlink()
    for p in fake.glob("*.msg"):
        p.unlink()

    # The first recipient goes, the second is deferred: exit 75, nothing
    # stored; the retry sends only the second.
    code.write_text("0")
    prog.write_text('#!/bin/sh\nn=$(date +%%s%%N)\nprintf "%%s\\n" "$@" > %s/$n.args\n'
                    'cat > /dev/null\n'
                    'case "$*" in *third*) exit $(cat %s);; esac\n' % (fake, code))
    code.write_text("75")
    r = deliver(mail, message=rfc822("retry", "sm2@x"))
    assert r.returncode == EX_TEMPFAIL
    assert mail.messages(JDOE) == []
    code.write_text("0")
    for p in fake.glob("*.args"):
        p.unlink()
    assert deliver(mail, message=rfc822("retry", "sm2@x")).returncode == EX_OK
    args = [p.read_text() for p in fake.glob("*.args")]
    assert args == ["-oi\n-i\n-f\nsender@example.org\n--\nthird@example.net\n"], args
    mail.wait_log(r"msgid=<sm2@x>: discarded duplicate forward to <other@example\.com>")

    # A permanent failure keeps the message.
    code.write_text("1")
    assert deliver(mail, message=rfc822("perm", "sm3@x")).returncode == EX_OK
    assert len(mail.messages(JDOE)) == 1
    mail.wait_log(r"sieve: failed to send redirect to <third@example\.net>: .* exited with "
                  r"status 1")


# ---- the sandbox ----

def children_of(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry))
    return kids


@pytest.mark.parametrize("transport", ["sendmail", "smtp"])
@pytest.mark.parametrize("as_user", ["vmail", None])
def test_sandbox_of_delivery_and_helper(mail, transport, as_user):
    """While roost-lda waits for the message it is confined as before (no
    execve, no socket in its filter); its submission helper runs as the
    user with no capabilities; with SMTP it is seccomp-confined, with
    sendmail only when started as root (NO_NEW_PRIVS is then inherited)."""
    if transport == "smtp":
        mail.lda_config = "submission_host = 127.0.0.1:25\n"
    mail.start()
    put_script(mail, JDOE, 'require "vacation";\nvacation "away";\n')
    p = mail.popen_lda("-d", JDOE, user=as_user)
    try:
        def ready():
            try:
                st = proc_status(p.pid)
            except FileNotFoundError:
                return None
            return st.get("Seccomp") == "2" and children_of(p.pid) and st
        st = wait_for(ready, what="roost-lda to confine itself and fork its helper")
        uid, gid = vmail_ids()
        assert st["Uid"].split() == [str(uid)] * 4
        assert st["NoNewPrivs"] == "1"
        [helper] = children_of(p.pid)
        hs = wait_for(lambda: proc_status(helper).get("Seccomp") in ("0", "2") and
                      proc_status(helper), what="helper status")
        if transport == "smtp":
            wait_for(lambda: proc_status(helper)["Seccomp"] == "2", what="helper seccomp")
            hs = proc_status(helper)
        assert hs["Uid"].split() == [str(uid)] * 4
        assert hs["Gid"].split() == [str(gid)] * 4
        assert hs["CapEff"] == "0000000000000000"
        assert hs["CapPrm"] == "0000000000000000"
        if transport == "smtp":
            assert hs["Seccomp"] == "2" and hs["NoNewPrivs"] == "1"
        elif as_user == "vmail":
            # Postfix's set-gid postdrop must keep working.
            assert hs["Seccomp"] == "0" and hs["NoNewPrivs"] == "0"
        else:
            assert hs["NoNewPrivs"] == "1"
        # The helper holds nothing of the delivery's: no message pipe.
        fds = {os.readlink("/proc/%d/fd/%s" % (helper, fd))
               for fd in os.listdir("/proc/%d/fd" % helper)}
        assert not any(f.startswith("pipe:") for f in fds
                       if f != os.readlink("/proc/%d/fd/2" % helper)), fds
        out, err = p.communicate(rfc822("x", "sb@x"), timeout=60)
        assert p.returncode == EX_OK, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # The helper is gone with the delivery.
    wait_for(lambda: exited(helper), what="helper exit")


def test_no_helper_without_sending_commands(mail):
    """A script that cannot send mail starts no helper process."""
    mail.start()
    put_script(mail, JDOE, 'require "fileinto";\nkeep;\n')
    p = mail.popen_lda("-d", JDOE)
    try:
        wait_for(lambda: proc_status(p.pid).get("Seccomp") == "2", what="confinement")
        time.sleep(0.2)
        assert children_of(p.pid) == []
        out, err = p.communicate(rfc822("x", "nh@x"), timeout=60)
        assert p.returncode == EX_OK, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_sandbox_profiles_of_the_binary():
    out = subprocess.run([LDA, "--sandbox-profile"], capture_output=True, text=True,
                         check=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert "socket" not in fields["syscalls"].split()
    assert "execve" not in fields["syscalls"].split()
    assert "setitimer" not in fields["syscalls"].split()
    out = subprocess.run([LDA, "--sandbox-profile=submit"], capture_output=True, text=True,
                         check=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert fields["profile"].strip() == "lda-submit"
    syscalls = fields["syscalls"].split()
    assert "execve" not in syscalls and "openat" not in syscalls and "open" not in syscalls
    assert sorted(s for s in syscalls if s.startswith("socket")) == ["socket(arg0=10)",
                                                                     "socket(arg0=2)"]
