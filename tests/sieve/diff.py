#!/usr/bin/python3
"""Differential test of roost's Sieve engine against Pigeonhole's sieve-test.

Every case in tests/sieve/cases/*.sieve is a Sieve script whose leading
comment lines say how to run it:

    # message: basic.eml          message file from tests/sieve/messages
    # args: -f a@b.c -a bob@x.org  envelope and other sieve-test options
    # ext: +editheader             value for -x
    # before: other.sieve          scripts (in cases/aux/) run before it (-s)
    # config: key = value          extra plugin setting (both sides)
    # execute: yes                 also compare the -e decisions
    # known-difference: ID         documented in KNOWN-DIFFERENCES.md

Both tools run on the same script, message and envelope; their stdout (the
"Performed actions" / "Implicit keep" sections) and success/failure must be
identical. With "execute: yes", sieve-test -e's log lines are translated to
roost's "Executed actions:" section and compared too.

Usage: diff.py [--roost PATH] [--sieve-test PATH] [-v] [CASE...]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CASES = os.path.join(HERE, "cases")
MESSAGES = os.path.join(HERE, "messages")


def parse_case(path):
    meta = {"message": "basic.eml", "args": "", "ext": None, "before": [],
            "config": [], "execute": False, "known": None}
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace")
            m = re.match(r"#\s*([a-z-]+):\s*(.*?)\s*$", line)
            if not m:
                break
            key, val = m.group(1), m.group(2)
            if key == "message":
                meta["message"] = val
            elif key == "args":
                meta["args"] = val
            elif key == "ext":
                meta["ext"] = val
            elif key == "before":
                meta["before"].append(val)
            elif key == "config":
                meta["config"].append(val)
            elif key == "execute":
                meta["execute"] = val.lower() == "yes"
            elif key == "known-difference":
                meta["known"] = val
    return meta


def pigeonhole_conf(work, meta):
    lines = ["mail_uid = nobody", "mail_gid = nogroup",
             "mail_location = maildir:%s/mail" % work,
             "plugin {",
             "  sieve = file:%s/personal" % work,
             "  sieve_global = %s/global" % work]
    for c in meta["config"]:
        lines.append("  " + c)
    lines.append("}")
    path = os.path.join(work, "dovecot.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def translate_execute(log):
    """Turns sieve-test -e log lines into roost's Executed actions lines."""
    out = []
    for line in log.splitlines():
        m = re.search(r"^info: msgid=[^:]*: (.*?)\.?$", line)
        if not m:
            continue
        text = m.group(1)
        m2 = re.match(r"(?:fileinto action: )?stored mail into mailbox '(.*)'$", text)
        if m2:
            out.append(" * store message in folder: %s" % m2.group(1))
            continue
        m2 = re.match(r"redirect action: forwarded to <(.*)>$", text)
        if m2:
            out.append(" * redirect message to: <%s>" % m2.group(1))
            continue
        m2 = re.match(r"vacation action: sent vacation response to <(.*)>$", text)
        if m2:
            out.append(" * send vacation message to: <%s>" % m2.group(1))
            continue
        m2 = re.match(r"vacation action: (.*)$", text)
        if m2:
            out.append(" * vacation message not sent: %s" % m2.group(1))
            continue
        m2 = re.match(r"reject action: rejected message from", text)
        if m2:
            out.append(" * reject message")
            continue
        m2 = re.match(r"redirect action: (discarded duplicate .*)$", text)
        if m2:
            out.append(" * redirect message not sent: %s" % m2.group(1))
            continue
        if re.match(r"(discard action: )?[Mm]arked message to be discarded", text):
            out.append(" * discard")
    return out


def roost_executed(stdout):
    lines = stdout.splitlines()
    if "Executed actions:" not in lines:
        return None
    i = lines.index("Executed actions:")
    res = []
    for line in lines[i + 1:]:
        if line.startswith(" * "):
            res.append(line)
    return res


def roost_conf(work, meta):
    """roost.conf with the case's settings in plugin { }, as an administrator
    would write them; roostadm sieve test applies them before its options."""
    path = os.path.join(work, "roost.conf")
    with open(path, "w") as f:
        f.write("plugin {\n  sieve = file:%s/personal\n  sieve_global = %s/global\n" % (work, work))
        for c in meta["config"]:
            k, _, v = c.partition("=")
            f.write("  %s = %s\n" % (k.strip(), v.strip()))
        f.write("}\n")
    return path


def run_case(name, args, work):
    meta = parse_case(os.path.join(CASES, name))
    for d in ("mail", "personal", "global"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    for sub in ("personal", "global"):
        src = os.path.join(CASES, "aux", sub)
        if os.path.isdir(src):
            for f in os.listdir(src):
                shutil.copy(os.path.join(src, f), os.path.join(work, sub, f))
    script = os.path.join(work, name)
    shutil.copy(os.path.join(CASES, name), script)
    befores = []
    for b in meta["before"]:
        dst = os.path.join(work, b)
        shutil.copy(os.path.join(CASES, "aux", b), dst)
        befores.append(dst)
    msg = os.path.join(work, "message.eml")
    shutil.copy(os.path.join(MESSAGES, meta["message"]), msg)
    subprocess.run(["chmod", "-R", "a+rwX", work], check=True)
    conf = pigeonhole_conf(work, meta)
    extra = meta["args"].split()
    opts = []
    if meta["ext"]:
        opts += ["-x", meta["ext"]]
    for b in befores:
        opts += ["-s", b]
    ph_cmd = [args.sieve_test, "-c", conf] + opts + extra + [script, msg]
    ph = subprocess.run(ph_cmd, capture_output=True, cwd=work, timeout=60)
    ro_opts = ["-c", roost_conf(work, meta), "sieve", "test"]
    ro_cmd = [args.roost] + ro_opts + opts + extra + [script, msg]
    ro = subprocess.run(ro_cmd, capture_output=True, cwd=work, timeout=60)
    ph_out = ph.stdout.decode("utf-8", "replace")
    ro_out = ro.stdout.decode("utf-8", "replace")
    problems = []
    if ph_out != ro_out:
        problems.append("stdout differs")
    if (ph.returncode == 0) != (ro.returncode == 0):
        problems.append("exit status differs (sieve-test %d, roost %d)" %
                        (ph.returncode, ro.returncode))
    detail = {"ph": ph_out, "ro": ro_out, "ph_err": ph.stderr.decode("utf-8", "replace"),
              "ro_err": ro.stderr.decode("utf-8", "replace")}
    if meta["execute"] and not problems:
        shutil.rmtree(os.path.join(work, "mail"))
        os.makedirs(os.path.join(work, "mail"))
        subprocess.run(["chmod", "-R", "a+rwX", work], check=True)
        phe = subprocess.run([args.sieve_test, "-c", conf, "-e"] + opts + extra + [script, msg],
                             capture_output=True, cwd=work, timeout=60)
        roe = subprocess.run([args.roost] + ro_opts + ["-e"] + opts + extra + [script, msg],
                             capture_output=True, cwd=work, timeout=60)
        want = translate_execute(phe.stderr.decode("utf-8", "replace"))
        got = roost_executed(roe.stdout.decode("utf-8", "replace")) or []
        if want != got:
            problems.append("executed actions differ")
            detail["ph"] += "\n[-e translated]\n" + "\n".join(want) + "\n"
            detail["ro"] += "\n[-e]\n" + "\n".join(got) + "\n"
            detail["ph_err"] += phe.stderr.decode("utf-8", "replace")
    return meta, problems, detail


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--roost", default=os.path.join(ROOT, "build/test/bin/roostadm"))
    ap.add_argument("--sieve-test", default="/usr/bin/sieve-test")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    args.roost = os.path.abspath(args.roost)
    if not os.access(args.sieve_test, os.X_OK):
        print("diff.py: %s not found (apt-get install dovecot-sieve)" % args.sieve_test)
        return 77
    names = args.cases or sorted(f for f in os.listdir(CASES) if f.endswith(".sieve"))
    names = [os.path.basename(n) for n in names]
    agree = documented = 0
    failed = []
    fixed_known = []
    for name in names:
        work = tempfile.mkdtemp(prefix="sieve-diff-")
        try:
            meta, problems, detail = run_case(name, args, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if not problems:
            if meta["known"]:
                fixed_known.append(name)
            agree += 1
            if args.verbose:
                print("agree       %s" % name)
            continue
        if meta["known"]:
            documented += 1
            if args.verbose:
                print("documented  %s (%s)" % (name, meta["known"]))
            continue
        failed.append(name)
        print("DIFFERS     %s: %s" % (name, "; ".join(problems)))
        if args.verbose or len(names) == 1:
            print("--- sieve-test stdout\n%s--- roost stdout\n%s--- sieve-test stderr\n%s"
                  "--- roost stderr\n%s" % (detail["ph"], detail["ro"], detail["ph_err"],
                                            detail["ro_err"]))
    print("diff.py: %d cases, %d agree, %d documented differences, %d undocumented" %
          (len(names), agree, documented, len(failed)))
    for name in fixed_known:
        print("diff.py: note: %s is marked known-difference but agrees now" % name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
