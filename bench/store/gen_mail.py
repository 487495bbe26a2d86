#!/usr/bin/python3
"""Realistic test mail for bench/store: a delivery mix and a POP3 Maildir.

Sizes follow a log-normal distribution truncated to [1 KiB, 1 MiB]
(median 8 KiB, sigma 1.5 in natural-log units; out-of-range draws are drawn
again, not clipped, so there is no spike at either bound). Measured email
sizes are log-normal-like (Matsubara, "Fluctuations in email size", EPJ Plus
132 (2017); arXiv:2501.04042): most mail is a few KiB of text, a long tail
carries attachments. With these parameters about 1 message in 20 is over
64 KiB and the mean is about 24 KiB; `summary` prints the exact figures of a
generated set. Content follows the size: plain text below 12 KiB, then
multipart/alternative (text + HTML, newsletters) or multipart/mixed with a
base64 attachment. Line ends are LF, as Postfix's pipe(8) hands mail to an
LDA. Everything is seeded: the same arguments give the same bytes.

usage:
  gen_mail.py messages --n N --seed S --out DIR [--fixed BYTES]
      DIR/NNNNN.eml, one message each (what the MTA pipes into the LDA),
      and DIR/list (their paths, in delivery order).
  gen_mail.py maildir --n N --seed S --out MAILDIR [--no-sizes] [--owner USER]
      N messages in MAILDIR/new/ as an LDA leaves them (Return-Path and
      Delivered-To added; names "T.MusecPpid.bench,S=size,W=vsize"; with
      --no-sizes just "T.MusecPpid.bench", so a server must read the files).
  gen_mail.py summary FILE...   (or a directory) size statistics.
"""
import argparse
import base64
import math
import os
import pwd
import random
import sys

MIN_SIZE = 1024
MAX_SIZE = 1024 * 1024
MEDIAN = 8 * 1024
SIGMA = 1.5

WORDS = ("the of and to in is for that with on as are this be by at from it an or was "
         "mail server message delivery mailbox folder account password quota index cache "
         "meeting report invoice project schedule review update release question answer "
         "thanks regards please attached document weekly monthly budget customer support "
         "order shipping account holiday agenda minutes draft final version").split()
NAMES = ["Alice Martin", "Bob Durand", "Carol Petit", "David Moreau", "Eve Laurent",
         "Frank Simon", "Grace Michel", "Hugo Lefebvre", "Iris Garcia", "Jules Bernard"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.fr"]


def draw_size(rng):
    while True:
        s = int(math.exp(rng.gauss(math.log(MEDIAN), SIGMA)))
        if MIN_SIZE <= s <= MAX_SIZE:
            return s


def words_line(rng, width=72):
    out, n = [], 0
    while n < width - 10:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)


def text_fill(rng, nbytes):
    """Lines of words, nbytes long (give or take the last line)."""
    lines, n = [], 0
    while n < nbytes:
        line = words_line(rng)
        lines.append(line)
        n += len(line) + 1
    return "\n".join(lines) + "\n"


def b64_fill(rng, nbytes):
    """base64 lines of random data, about nbytes long."""
    raw = rng.randbytes(max(3, nbytes * 3 // 4 * 76 // 77))
    e = base64.b64encode(raw).decode()
    return "\n".join(e[i:i + 76] for i in range(0, len(e), 76)) + "\n"


def addr(rng):
    name = rng.choice(NAMES)
    return '"%s" <%s@%s>' % (name, name.split()[0].lower(), rng.choice(DOMAINS))


def headers(rng, i, to, ts):
    frm = addr(rng)
    h = [
        "Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\n"
        "\tby mail.example.com (Postfix) with ESMTPS id 4Q%06X\n"
        "\tfor <%s>; Tue, 14 Nov 2023 22:%02d:%02d +0000 (UTC)"
        % (i % 7, i % 7, i % 250 + 1, i, to, (i // 60) % 60, i % 60),
        "Received: from [198.51.100.%d] (helo=client)\n\tby mx%d.example.net with esmtpsa"
        % (i % 250 + 1, i % 7),
        "From: " + frm,
        "To: " + to,
        "Subject: %s %d" % (words_line(rng, 40).capitalize(), i),
        "Date: Tue, 14 Nov 2023 22:%02d:%02d +0000" % ((ts // 60) % 60, ts % 60),
        "Message-ID: <bench.%d.%d@%s>" % (i, rng.randrange(1 << 30), rng.choice(DOMAINS)),
        "MIME-Version: 1.0",
    ]
    if rng.random() < 0.3:
        h.append("List-Id: <list%d.example.org>" % rng.randrange(5))
    return "\n".join(h) + "\n"


def make_message(rng, i, size, to):
    """One message of about size bytes (within a line), LF line ends."""
    hdr = headers(rng, i, to, 1700000000 + i)
    room = max(0, size - len(hdr) - 60)
    if size < 12 * 1024:
        return (hdr + "Content-Type: text/plain; charset=us-ascii\n\n" + text_fill(rng, room)).encode()
    b = "=_bench_%d_%d" % (i, rng.randrange(1 << 30))
    kind = "alternative" if size < 200 * 1024 and rng.random() < 0.4 else "mixed"
    top = hdr + 'Content-Type: multipart/%s; boundary="%s"\n\nThis is a multi-part message in MIME format.\n\n' % (kind, b)
    text = text_fill(rng, min(room // 3, 3000) if kind == "mixed" else room // 3)
    part1 = "--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s" % (b, text)
    if kind == "alternative":
        head2 = "--%s\nContent-Type: text/html; charset=us-ascii\n\n<html><body>\n" % b
        tail2 = "</body></html>\n--%s--\n" % b
        fill = max(0, size - len(top) - len(part1) - len(head2) - len(tail2))
        body = ""
        while len(body) < fill:
            body += "<p>" + words_line(rng) + "</p>\n"
        return (top + part1 + head2 + body + tail2).encode()
    ext, ct = rng.choice([("pdf", "application/pdf"), ("jpg", "image/jpeg"),
                          ("docx", "application/vnd.openxmlformats-officedocument."
                                   "wordprocessingml.document")])
    head2 = ('--%s\nContent-Type: %s; name="file%d.%s"\nContent-Disposition: attachment; '
             'filename="file%d.%s"\nContent-Transfer-Encoding: base64\n\n' % (b, ct, i, ext, i, ext))
    tail2 = "--%s--\n" % b
    fill = max(4, size - len(top) - len(part1) - len(head2) - len(tail2))
    return (top + part1 + head2 + b64_fill(rng, fill) + tail2).encode()


def summary(sizes):
    s = sorted(sizes)
    n = len(s)
    q = lambda p: s[min(n - 1, int(p * n))]
    buckets = [(0, 4096), (4096, 16384), (16384, 65536), (65536, 262144), (262144, 1 << 30)]
    out = ["n=%d total=%d mean=%.0f median=%d p90=%d p99=%d min=%d max=%d"
           % (n, sum(s), sum(s) / n, q(0.5), q(0.9), q(0.99), s[0], s[-1])]
    for lo, hi in buckets:
        c = sum(1 for x in s if lo <= x < hi)
        out.append("  %7s..%-7s %5.1f%% of messages, %5.1f%% of bytes" % (
            human(lo), human(hi) if hi < 1 << 30 else "", 100.0 * c / n,
            100.0 * sum(x for x in s if lo <= x < hi) / sum(s)))
    return "\n".join(out)


def human(x):
    return "%dK" % (x // 1024) if x else "0"


def cmd_messages(a):
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    paths, sizes = [], []
    for i in range(a.n):
        size = a.fixed or draw_size(rng)
        data = make_message(rng, i, size, "lda1@example.com")
        p = os.path.join(a.out, "%05d.eml" % i)
        with open(p, "wb") as f:
            f.write(data)
        paths.append(p)
        sizes.append(len(data))
    with open(os.path.join(a.out, "list"), "w") as f:
        f.write("\n".join(paths) + "\n")
    print(summary(sizes))


def cmd_maildir(a):
    rng = random.Random(a.seed)
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.out, d), exist_ok=True)
    sizes = []
    for i in range(a.n):
        size = draw_size(rng)
        body = make_message(rng, i, size, "pop1@example.com")
        data = (b"Return-Path: <sender%d@example.org>\nDelivered-To: pop1@example.com\n" % (i % 97)) + body
        base = "%d.M%dP%d.bench" % (1700000000 + i, (i * 7919) % 1000000, 4242)
        if not a.no_sizes:
            base += ",S=%d,W=%d" % (len(data), len(data) + data.count(b"\n"))
        with open(os.path.join(a.out, "new", base), "wb") as f:
            f.write(data)
        os.utime(os.path.join(a.out, "new", base), (1700000000 + i, 1700000000 + i))
        sizes.append(len(data))
    if a.owner:
        pw = pwd.getpwnam(a.owner)
        for root, dirs, files in os.walk(a.out):
            for n in dirs + files:
                os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
        os.chown(a.out, pw.pw_uid, pw.pw_gid)
    print(summary(sizes))


def cmd_summary(a):
    sizes = []
    for p in a.files:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                sizes += [os.path.getsize(os.path.join(root, f)) for f in files
                          if f != "list"]
        else:
            sizes.append(os.path.getsize(p))
    print(summary(sizes))


ap = argparse.ArgumentParser()
sub = ap.add_subparsers(dest="cmd", required=True)
m = sub.add_parser("messages")
m.add_argument("--n", type=int, required=True)
m.add_argument("--seed", type=int, default=1)
m.add_argument("--out", required=True)
m.add_argument("--fixed", type=int, default=0, help="every message about this size")
d = sub.add_parser("maildir")
d.add_argument("--n", type=int, required=True)
d.add_argument("--seed", type=int, default=2)
d.add_argument("--out", required=True)
d.add_argument("--no-sizes", action="store_true")
d.add_argument("--owner")
s = sub.add_parser("summary")
s.add_argument("files", nargs="+")
a = ap.parse_args()
{"messages": cmd_messages, "maildir": cmd_maildir, "summary": cmd_summary}[a.cmd](a)
sys.stdout.flush()
