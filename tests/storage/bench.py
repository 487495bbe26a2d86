#!/usr/bin/python3
"""Storage benchmark: builds bench-open against build/test, makes a 50,000
message Maildir with /work/shared/bench/maildir50k.py (or the path in
$MAILDIR50K), and times opening INBOX and listing (uid, flags, vsize):

  cold     no roost.index (dovecot-uidlist present): one readdir, sizes from names
  first    no index and no dovecot-uidlist: UIDs assigned, uidlist written
  warm     valid index: no readdir, no per-message stat
  nosizes  names without S=/W=, no index or uidlist: every file read once

usage: tests/storage/bench.py [--n 50000] [--dir /tmp/roost-bench]
Run from the top of the tree after `make test-build`.
"""
import argparse, os, pwd, runpy, shutil, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=50000)
ap.add_argument("--dir", default="/tmp/roost-bench")
ap.add_argument("--build", default="build/test")
ap.add_argument("--gen", default=os.environ.get("MAILDIR50K", "/work/shared/bench/maildir50k.py"))
a = ap.parse_args()

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
exe = os.path.join(a.dir, "bench-open")
os.makedirs(a.dir, exist_ok=True)
subprocess.run(["gcc", "-std=c17", "-O2", "-D_GNU_SOURCE", "-I" + os.path.join(root, "lib"),
                "-I" + os.path.join(root, "storage"), "-o", exe,
                os.path.join(root, "tests/storage/bench-open.c"),
                os.path.join(root, a.build, "libstorage.a"),
                os.path.join(root, a.build, "libroost.a"), "-lz"], check=True)


def generate(no_sizes):
    """Runs maildir50k.py create with chown to the current user."""
    me = os.getuid(), os.getgid()

    class FakePw:
        pw_uid, pw_gid = me

    real_getpwnam, real_run = pwd.getpwnam, subprocess.run
    pwd.getpwnam = lambda name: FakePw()
    subprocess.run = lambda args, **kw: real_run(
        ["true"] if args and args[0] == "chown" else args, **kw)
    argv = sys.argv
    sys.argv = ["maildir50k.py", "create", "--n", str(a.n), "--root", a.dir, "--user", "box"]
    if no_sizes:
        sys.argv.append("--no-sizes")
    try:
        runpy.run_path(a.gen, run_name="__main__")
    except SystemExit:
        pass
    finally:
        sys.argv, pwd.getpwnam, subprocess.run = argv, real_getpwnam, real_run
    return os.path.join(a.dir, "box")


def run(md, label, repeat=1):
    out = subprocess.run([exe, md, str(repeat)], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        print("%-8s %s" % (label, line))


def drop(md, *names):
    for n in names:
        p = os.path.join(md, n)
        if os.path.exists(p):
            os.unlink(p)


md = generate(False)
time.sleep(1.2)   # let directory mtimes settle, as on a live system
run(md, "first")
drop(md, "roost.index", "roost.index.cache")
run(md, "cold")
run(md, "warm", 3)
print("-- single operations, default (strict) syncs:")
subprocess.run([exe, md, "ops"], check=True)
time.sleep(1.2)
print("-- single operations, very_dirty_syncs:")
subprocess.run([exe, md, "ops-dirty"], check=True)
md = generate(True)
time.sleep(1.2)
run(md, "nosizes")
run(md, "warm", 2)
shutil.rmtree(a.dir)
