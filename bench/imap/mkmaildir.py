#!/usr/bin/python3
"""Writes a benchmark Maildir: N messages straight into cur/, named as
Dovecot names them ("T.MuP.host,S=size,W=vsize:2,FLAGS"), a mix of plain
text (70 %), multipart/alternative (20 %) and multipart/mixed with a small
base64 attachment (10 %), so that ENVELOPE and BODYSTRUCTURE have real work.
Deterministic (fixed seed). Also writes one sample message for APPEND.

usage: mkmaildir.py MAILDIR N SAMPLE_FILE [--no-sizes]
"""
import base64
import os
import random
import sys

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega").split()


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def body_lines(rng, lines):
    return "\n".join(words(rng, 10) for _ in range(lines))


def message(rng, i):
    sender = i % 97
    head = ("Return-Path: <sender%d@example.com>\n"
            "From: Sender %d <sender%d@example.com>\n"
            "To: Bench User <bench@example.com>, list%d@lists.example.org\n"
            "Subject: Test message %d %s\n"
            "Date: Tue, 14 Nov 2023 22:%02d:%02d +0000\n"
            "Message-ID: <bench%d@example.com>\n"
            % (sender, sender, sender, i % 13, i, words(rng, 3), (i // 60) % 60, i % 60, i))
    if i % 7 == 3:
        head += "In-Reply-To: <bench%d@example.com>\nReferences: <bench%d@example.com>\n" % (
            i - 1, i - 1)
    kind = rng.random()
    if kind < 0.7:
        return (head + "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
                + body_lines(rng, rng.randint(3, 30)) + "\n")
    if kind < 0.9:
        text = body_lines(rng, rng.randint(3, 20))
        return (head + "MIME-Version: 1.0\n"
                "Content-Type: multipart/alternative; boundary=\"alt%d\"\n\n"
                "--alt%d\nContent-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: quoted-printable\n\n%s\n"
                "--alt%d\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>%s</p></body></html>\n"
                "--alt%d--\n" % (i, i, text, i, text.replace("\n", "<br>"), i))
    blob = base64.encodebytes(bytes(rng.getrandbits(8) for _ in range(rng.randint(200, 1500))))
    return (head + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"mix%d\"\n\n"
            "--mix%d\nContent-Type: text/plain; charset=us-ascii\n\n%s\n"
            "--mix%d\nContent-Type: application/octet-stream; name=\"data%d.bin\"\n"
            "Content-Transfer-Encoding: base64\n"
            "Content-Disposition: attachment; filename=\"data%d.bin\"\n\n%s"
            "--mix%d--\n" % (i, i, body_lines(rng, rng.randint(2, 10)), i, i, i,
                             blob.decode(), i))


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    root, n, sample = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sizes = "--no-sizes" not in sys.argv[4:]
    rng = random.Random(7)
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    t0 = 1700000000
    for i in range(n):
        data = message(rng, i).encode()
        flags = "S" if rng.random() < 0.7 else ""
        if rng.random() < 0.05:
            flags += "F"
        flags = "".join(sorted(flags))
        name = "%d.M%dP4242.bench" % (t0 + i, i % 1000000)
        if sizes:
            name += ",S=%d,W=%d" % (len(data), len(data) + data.count(b"\n"))
        path = os.path.join(root, "cur", name + ":2," + flags)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (t0 + i, t0 + i))
    with open(sample, "wb") as f:
        f.write(message(random.Random(1), 123456).replace("\n", "\r\n").encode())


if __name__ == "__main__":
    main()
