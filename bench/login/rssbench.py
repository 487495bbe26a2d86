#!/usr/bin/env python3
"""Memory per idle authenticated IMAP connection.

Adapted from ../shared/bench/rssbench.py for bench/login: works for Dovecot
and roost alike (process names are reduced to their base name, so
"dovecot/imap" and ".../roost-imap" both read well; roost's pid file is
base_dir/master.pid) and ends with one machine-readable RESULT line.

Opens N connections to the server, LOGINs each (users user1..userU round-robin),
optionally SELECTs INBOX, then sums memory of all processes in the Dovecot
master's process tree (RSS, PSS, anon RSS) and divides by N.

usage: rssbench.py [--n 500] [--port 10143] [--users 200] [--select] [--tls]
                   [--master-pid-file run/master.pid]
"""
import argparse, asyncio, os, ssl, time, collections

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, default=10143)
ap.add_argument("--n", type=int, default=500)
ap.add_argument("--users", type=int, default=200)
ap.add_argument("--select", action="store_true")
ap.add_argument("--tls", action="store_true")
ap.add_argument("--master-pid-file", default="run/master.pid")
a = ap.parse_args()

def tree(root):
    kids = collections.defaultdict(list)
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids[ppid].append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out

def mem(pid):
    d = {}
    try:
        for l in open("/proc/%d/status" % pid):
            k, _, v = l.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                d[k] = int(v.split()[0])
        for l in open("/proc/%d/smaps_rollup" % pid):
            if l.startswith("Pss:"):
                d["Pss"] = int(l.split()[1])
        name = open("/proc/%d/cmdline" % pid).read().split("\0")[0]
    except OSError:
        return None, None
    return name, d

def snapshot(label):
    master = int(open(a.master_pid_file).read())
    tot = collections.Counter(); per = collections.defaultdict(collections.Counter); cnt = collections.Counter()
    for p in tree(master):
        name, d = mem(p)
        if name is None:
            continue
        name = os.path.basename(name.split(" ")[0])
        cnt[name] += 1
        tot.update(d); per[name].update(d)
    print("[%s] processes: %s" % (label, dict(cnt)))
    print("[%s] total KiB: RSS=%d PSS=%d anon=%d file=%d shmem=%d" % (
        label, tot["VmRSS"], tot["Pss"], tot["RssAnon"], tot["RssFile"], tot["RssShmem"]))
    for n in sorted(per):
        c = cnt[n]
        print("   %-24s n=%-4d avg RSS=%6.0f PSS=%6.0f anon=%6.0f KiB" % (
            n, c, per[n]["VmRSS"] / c, per[n]["Pss"] / c, per[n]["RssAnon"] / c))
    return tot

async def conn(i, sslctx):
    r, w = await asyncio.open_connection(a.host, a.port, ssl=sslctx)
    await r.readline()
    w.write(b"a LOGIN user%d pass\r\n" % (i % a.users + 1))
    while True:
        l = await r.readline()
        if l.startswith(b"a "):
            assert l.startswith(b"a OK"), l
            break
    if a.select:
        w.write(b"s SELECT INBOX\r\n")
        while True:
            l = await r.readline()
            if l.startswith(b"s "):
                assert l.startswith(b"s OK"), l
                break
    return r, w

async def main():
    sslctx = None
    if a.tls:
        sslctx = ssl.create_default_context(); sslctx.check_hostname = False; sslctx.verify_mode = ssl.CERT_NONE
    base = snapshot("before")
    conns = []
    sem = asyncio.Semaphore(20)
    async def lim(i):
        async with sem:
            return await conn(i, sslctx)
    t = time.monotonic()
    conns = await asyncio.gather(*(lim(i) for i in range(a.n)))
    print("opened+authenticated %d connections in %.1fs (select=%s tls=%s)" % (len(conns), time.monotonic() - t, a.select, a.tls))
    await asyncio.sleep(3)
    after = snapshot("with %d idle conns" % a.n)
    for k in ("VmRSS", "Pss", "RssAnon"):
        print("per connection %-7s: total/N=%.0f KiB   (total-before)/N=%.0f KiB" % (
            k, after[k] / a.n, (after[k] - base[k]) / a.n))
    print("RESULT n=%d tls=%s pss_total_kib=%d pss_before_kib=%d pss_delta_per_conn_kib=%.0f "
          "pss_total_per_conn_kib=%.0f" % (a.n, a.tls, after["Pss"], base["Pss"],
                                           (after["Pss"] - base["Pss"]) / a.n, after["Pss"] / a.n))
    for r, w in conns:
        w.write(b"z LOGOUT\r\n")
    for r, w in conns:
        try:
            await r.read()
        except Exception:
            pass
        w.close()
    await asyncio.sleep(1)
    snapshot("after logout")

asyncio.run(main())
