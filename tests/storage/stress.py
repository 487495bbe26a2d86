#!/usr/bin/python3
"""Crash/concurrency stress for the mail store: builds stress.c against
$ROOST_BUILD (default build/test) and runs it on a scratch Maildir for
--seconds (default 20) while it SIGKILLs workers at random. Fails if an
acknowledged delivery was lost or any message duplicated, or if a worker
saw UIDs go backwards.

usage: tests/storage/stress.py [--seconds 20] [--very-dirty]
"""
import argparse, os, shutil, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=int, default=20)
ap.add_argument("--very-dirty", action="store_true", help="with very_dirty_syncs")
a = ap.parse_args()
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = os.environ.get("ROOST_BUILD", os.path.join(root, "build/test"))
work = tempfile.mkdtemp(prefix="roost-stress.")
try:
    exe = os.path.join(work, "stress")
    san = ["-fsanitize=address,undefined"] if "asan" in build else []
    subprocess.run(["gcc", "-std=c17", "-O1", "-g", "-D_GNU_SOURCE"] + san + [
                    "-I" + os.path.join(root, "lib"), "-I" + os.path.join(root, "storage"),
                    "-o", exe, os.path.join(root, "tests/storage/stress.c"),
                    os.path.join(build, "libstorage.a"), os.path.join(build, "libroost.a"),
                    "-lz"], check=True)
    env = dict(os.environ)
    if a.very_dirty:
        env["STRESS_VERY_DIRTY"] = "1"
    r = subprocess.run([exe, os.path.join(work, "mail"), str(a.seconds)], env=env)
    sys.exit(r.returncode)
finally:
    shutil.rmtree(work, ignore_errors=True)
