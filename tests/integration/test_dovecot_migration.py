"""Migrating from Dovecot: a Maildir written by Debian's Dovecot (run by the
test in PREAUTH mode) is served by roost with the same UIDVALIDITY and UIDs,
so clients download nothing again. Also runs the store-level compatibility
checks of tests/storage/dovecot-compat.py (both directions)."""
import importlib.util
import os
import pathlib
import re

import pytest

from conftest import PASSWORD, ROOT, mail_user, pop3, start

spec = importlib.util.spec_from_file_location(
    "dovecot_compat", str(ROOT / "tests" / "storage" / "dovecot-compat.py"))
dovecot_compat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dovecot_compat)


def need_dovecot():
    if not dovecot_compat.have_dovecot():
        pytest.skip("Debian's dovecot-imapd is not installed")


def test_store_compatibility_both_ways():
    need_dovecot()
    dovecot_compat.run_all()


def test_roost_serves_dovecot_maildir_with_same_uids(server):
    need_dovecot()
    env = dovecot_compat.Env()
    try:
        msgs = [b"Subject: m%d\r\nMessage-ID: <m%d@example.com>\r\n\r\nbody %d\r\n" % (i, i, i)
                for i in range(5)]
        cmds = [dovecot_compat.append_cmd("a%d" % i, "INBOX", "", m) for i, m in enumerate(msgs)]
        # Expunge one, so that UIDs have a gap as real mailboxes do.
        cmds += ["s SELECT INBOX", "x UID STORE 2 +FLAGS (\\Deleted)", "e EXPUNGE"]
        env.imap("jdoe", cmds)
        # Dovecot runs pipelined commands together: ask for the UIDs apart.
        out = env.imap("jdoe", ["s SELECT INBOX", "f UID FETCH 1:* (UID)"])
        uidvalidity = int(re.search(r"\[UIDVALIDITY (\d+)\]", out).group(1))
        uids = [int(u) for u in re.findall(r"\* \d+ FETCH \(UID (\d+)\)", out)]
        assert uids == [1, 3, 4, 5]
        # Hand the Dovecot-written Maildir to roost's user.
        uid, gid = mail_user()
        target = server.tmp / "home" / "jdoe@example.com" / "Maildir"
        os.rename(os.path.join(env.mail, "jdoe"), target)
        for dirpath, dirnames, filenames in os.walk(target):
            os.chown(dirpath, uid, gid)
            for f in filenames:
                os.chown(os.path.join(dirpath, f), uid, gid)
        start(server)
        p = pop3(server)
        p.user("jdoe@example.com")
        p.pass_(PASSWORD)
        _, lines, _ = p.uidl()
        p.quit()
        # Dovecot's default pop3_uidl_format %08Xu%08Xv: UID and UIDVALIDITY,
        # in lower-case hex as Dovecot 2.3 writes them.
        assert [line.split()[1].decode() for line in lines] == [
            "%08x%08x" % (u, uidvalidity) for u in uids]
    finally:
        env.cleanup()
