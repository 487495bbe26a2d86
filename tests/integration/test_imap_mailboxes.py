"""Mailbox management in roost-imap: CREATE, DELETE, RENAME, SUBSCRIBE,
LIST/LSUB with LIST-EXTENDED, SPECIAL-USE and LIST-STATUS, STATUS, NAMESPACE,
QUOTA and COMPRESS=DEFLATE, checked byte for byte on raw sessions, with
imaplib, curl, mbsync and neomutt; and names that must never reach outside
the user's mail root.
"""
import os
import pathlib
import re
import shutil
import subprocess
import zlib

import pytest

from conftest import PASSWORD, connect, imap, mail_user, start, wait_for

USER = "jdoe@example.com"


def maildir(server, user=USER):
    return server.tmp / "home" / user / "Maildir"


class Session:
    """A raw IMAP session: send a tagged command, get the exact lines back."""

    def __init__(self, server, user=USER):
        self.sock, self.f = connect(server, "imap")
        self.tagno = 0
        self.deflate = None
        self.inflate = None
        self.pending = b""
        greeting = self.readline()
        assert greeting.startswith(b"* OK"), greeting
        lines = self.cmd("LOGIN %s \"%s\"" % (user, PASSWORD))
        assert lines[-1].split(b" ")[1] == b"OK", lines

    def send(self, data):
        if self.deflate is not None:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.f.write(data)
        self.f.flush()

    def readline(self):
        if self.inflate is None:
            line = self.f.readline()
            assert line.endswith(b"\r\n"), line
            return line[:-2]
        while b"\r\n" not in self.pending:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.pending += self.inflate.decompress(chunk)
        line, _, self.pending = self.pending.partition(b"\r\n")
        return line

    def cmd(self, text, tag=None):
        """Sends one command; returns every line up to and including the tagged one."""
        if tag is None:
            self.tagno += 1
            tag = "a%d" % self.tagno
        if isinstance(text, str):
            text = text.encode()
        self.send(tag.encode() + b" " + text + b"\r\n")
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if line.startswith(tag.encode() + b" "):
                return lines

    def result(self, text):
        """The tagged answer to a command, without its tag."""
        return self.cmd(text)[-1].split(b" ", 1)[1].decode()

    def ok(self, text):
        lines = self.cmd(text)
        assert lines[-1].split(b" ")[1] == b"OK", lines
        return lines[:-1]

    def close(self):
        try:
            self.send(b"z LOGOUT\r\n")
        except OSError:
            pass
        self.sock.close()


def untagged(lines):
    return [l.decode() for l in lines if l.startswith(b"*")]


@pytest.fixture
def box(server):
    start(server)
    s = Session(server)
    yield s
    s.close()


def test_create_list_delete(server, box):
    assert box.ok("CREATE Archive") == []
    assert box.result("CREATE Archive") == "NO [ALREADYEXISTS] Mailbox already exists"
    assert box.result("CREATE inbox").startswith("NO [ALREADYEXISTS]")
    box.ok("CREATE Work/Projects/2024")
    assert untagged(box.ok('LIST "" "*"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasNoChildren) "/" Archive',
        '* LIST (\\Noselect \\HasChildren) "/" Work',
        '* LIST (\\Noselect \\HasChildren) "/" Work/Projects',
        '* LIST (\\HasNoChildren) "/" Work/Projects/2024',
    ]
    assert untagged(box.ok('LIST "" "%"')) == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* LIST (\\HasNoChildren) "/" Archive',
        '* LIST (\\Noselect \\HasChildren) "/" Work',
    ]
    assert untagged(box.ok('LIST "Work/" "%"')) == [
        '* LIST (\\Noselect \\HasChildren) "/" Work/Projects',
    ]
    assert untagged(box.ok('LIST "" ""')) == ['* LIST (\\Noselect) "/" ""']
    assert (maildir(server) / ".Work.Projects.2024" / "cur").is_dir()
    box.ok("DELETE Archive")
    assert not (maildir(server) / ".Archive").exists()
    assert box.result("DELETE Archive") == "NO [NONEXISTENT] Mailbox doesn't exist: Archive"
    assert box.result("DELETE INBOX").startswith("NO ")
