#!/bin/bash
# Issue 5's benchmark (5): a mixed-session load, roost against Debian's
# Dovecot 2.3 on the same machine, one server after the other with the same
# load. CLIENTS clients at once on one shared INBOX of N messages, each
# looping over SELECT, FETCH 1:* (FLAGS), FETCH of a random body, STORE
# +FLAGS/-FLAGS, APPEND, UID EXPUNGE of what it appended, a short IDLE and
# now and then LOGOUT + LOGIN (bench/imap/mixed.py, the load client), for
# DURATION seconds per run. Reports tagged OKs per second, errors, server
# CPU and memory (PSS) per session, and the roost/Dovecot ratios, in
# bench/imap/RESULTS-mixed.md. The servers are set up as bench/imap/run.sh
# sets them up (their defaults, IMAP on 127.0.0.1, run as root, mail owned by
# vmail), in the scratch directory $BENCH_ROOT (default
# /tmp/roost-bench-mixed), deleted and re-created. Runs as root. Never part
# of make check.
#
# Environment (all optional):
#   N=2000          messages in the shared INBOX (never expunged)
#   CLIENTS=50      concurrent clients
#   DURATION=30     seconds measured per run (after WARMUP=3 s)
#   ROUNDS=3        runs per server, the servers taking turns (medians)
#   SKIP_BUILD=1    use the existing build/release
#   RESULTS=FILE    default bench/imap/RESULTS-mixed.md
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ROOT=${BENCH_ROOT:-/tmp/roost-bench-mixed}
N=${N:-2000}
CLIENTS=${CLIENTS:-50}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
RESULTS=${RESULTS:-$here/RESULTS-mixed.md}
BUILD=$top/build/release
PY=/usr/bin/python3
DC_PORT=${DC_PORT:-14145}
RO_PORT=${RO_PORT:-24145}
USER_NAME=bench
PASS=benchpass

log() { printf '%s [mixed-bench] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (it starts both servers as root)"
if [ ! -x /usr/lib/dovecot/imap ]; then
	log "installing dovecot-imapd"
	DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd >/dev/null
fi
for u in roostnull roost vmail; do
	id "$u" >/dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
done
VMAIL_UID=$(id -u vmail)
VMAIL_GID=$(id -g vmail)
if [ -z "${SKIP_BUILD:-}" ]; then
	log "building roost (make release)"
	make -C "$top" release >/dev/null
fi
[ -x "$BUILD/sbin/roost" ] || die "no $BUILD/sbin/roost: run make release"

stop_all() {
	local pidf pid
	for pidf in "$ROOT"/dovecot/run/master.pid "$ROOT"/roost/run/master.pid; do
		[ -f "$pidf" ] || continue
		pid=$(cat "$pidf" 2>/dev/null || true)
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		rm -f "$pidf"
	done
}
trap stop_all EXIT
stop_all

rm -rf "$ROOT"
mkdir -p "$ROOT"/dovecot/run "$ROOT"/roost/run "$ROOT"/roost/state "$ROOT"/home/$USER_NAME \
	"$ROOT"/bin "$ROOT"/mail "$ROOT"/template "$ROOT"/out
chmod 755 "$ROOT" "$ROOT"/dovecot "$ROOT"/roost
cc -O2 -o "$ROOT"/bin/imapbench "$here"/imapbench.c
log "writing $N messages into the template Maildir"
$PY "$here"/mkmaildir.py "$ROOT"/template/$USER_NAME "$N" "$ROOT"/sample.eml
chown -R vmail:vmail "$ROOT"/mail "$ROOT"/home

printf '%s:{PLAIN}%s:%d:%d::%s/home/%s::\n' "$USER_NAME" "$PASS" "$VMAIL_UID" "$VMAIL_GID" \
	"$ROOT" "$USER_NAME" >"$ROOT"/users
chown root:roost "$ROOT"/users
chmod 644 "$ROOT"/users

# The same two configurations as run.sh (only the ports differ, so both
# benchmarks can run at once): each server's defaults, passwd-file,
# Maildir, IMAP on 127.0.0.1 only.
cat >"$ROOT"/dovecot/dovecot.conf <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $ROOT/dovecot/run
state_dir = $ROOT/dovecot/run
instance_name = dovecot-imap-mixed
log_path = $ROOT/dovecot/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$ROOT/mail/%n
first_valid_uid = $VMAIL_UID
mail_max_userip_connections = 1000
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $ROOT/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $ROOT/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DC_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
CONF

cat >"$ROOT"/roost/roost.conf <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $ROOT/roost/run
state_dir = $ROOT/roost/state
instance_name = roost-imap-mixed
log_path = $ROOT/roost/roost.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$ROOT/mail/%n
first_valid_uid = $VMAIL_UID
mail_max_userip_connections = 1000
passdb {
  driver = passwd-file
  args = $ROOT/users
}
userdb {
  driver = passwd-file
  args = $ROOT/users
}
service imap-login {
  inet_listener imap {
    port = $RO_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
printf 'ulimit -n 4096\n' >"$ROOT"/roost/defaults

wait_port() {
	for _ in $(seq 200); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	die "nothing listens on port $1"
}

# One run: a fresh copy of the template INBOX, the server started, one
# session that builds its index (not measured), then the load.
run_one() { # NAME ROUND
	local name=$1 round=$2 port pidf comm
	rm -rf "$ROOT"/mail/$USER_NAME
	cp -a "$ROOT"/template/$USER_NAME "$ROOT"/mail/$USER_NAME
	chown -R vmail:vmail "$ROOT"/mail
	# Both servers distrust a directory changed within the last second or
	# two (they rescan it): let the fresh Maildir settle first.
	sync
	sleep 3
	if [ "$name" = dovecot ]; then
		port=$DC_PORT
		comm=imap
		dovecot -c "$ROOT"/dovecot/dovecot.conf
	else
		port=$RO_PORT
		comm=roost-imap
		"$BUILD"/sbin/roost -c "$ROOT"/roost/roost.conf --defaults "$ROOT"/roost/defaults
	fi
	pidf=$ROOT/$name/run/master.pid
	wait_port "$port"
	"$ROOT"/bin/imapbench 127.0.0.1 "$port" "$USER_NAME" "$PASS" "SELECT INBOX" \
		"FETCH 1:* (FLAGS)" >/dev/null
	log "$name, round $round: $CLIENTS clients for $DURATION s"
	$PY "$here"/mixed.py 127.0.0.1 "$port" "$USER_NAME" "$PASS" --clients "$CLIENTS" \
		--duration "$DURATION" --warmup "$WARMUP" --stable "$N" \
		--append-file "$ROOT"/sample.eml --master-pid "$(cat "$pidf")" \
		--session-comm "$comm" --label "$name" --seed "$round" \
		>"$ROOT"/out/$name-$round.json
	stop_all
}

for round in $(seq "$ROUNDS"); do
	if [ $((round % 2)) = 1 ]; then
		run_one dovecot "$round"
		run_one roost "$round"
	else
		run_one roost "$round"
		run_one dovecot "$round"
	fi
done

# Server log lines that look like trouble, for the results.
grep -iE 'error|panic|fatal|warning|killed|signal' "$ROOT"/roost/roost.log >"$ROOT"/out/roost-log-errors.txt || true
grep -iE 'error|panic|fatal|warning|killed|signal' "$ROOT"/dovecot/dovecot.log >"$ROOT"/out/dovecot-log-errors.txt || true

$PY - "$ROOT/out" "$ROUNDS" "$RESULTS" "$N" "$(nproc)" \
	"$(dovecot --version | head -1)" "$(git -C "$top" rev-parse --short HEAD)" <<'PYEOF'
import json, statistics, sys, time
out, rounds, results, n, cpus, dcver, rev = sys.argv[1:]
rounds = int(rounds)
runs = {s: [json.load(open("%s/%s-%d.json" % (out, s, r))) for r in range(1, rounds + 1)]
        for s in ("dovecot", "roost")}
def med(s, f):
    return statistics.median(f(x) for x in runs[s])
def fmt(v, d=1):
    return ("%%.%df" % d) % v
dc, ro = runs["dovecot"], runs["roost"]
r0 = dc[0]
cps = {s: med(s, lambda x: x["ok_per_s"]) for s in runs}
errs = {s: sum(x["errors"] for x in runs[s]) for s in runs}
werrs = {s: sum(x["warmup_errors"] for x in runs[s]) for s in runs}
mem = {s: med(s, lambda x: x.get("session_pss_kb_per_session", 0)) for s in runs}
rss = {s: med(s, lambda x: x.get("session_rss_kb_per_session", 0)) for s in runs}
tree = {s: med(s, lambda x: x.get("tree_pss_kb_per_session", 0)) for s in runs}
cpu_per_k = {s: med(s, lambda x: 1000 * x["server_cpu_s"] / max(1, x["ok"])) for s in runs}
client = {s: med(s, lambda x: x["client_cpu_s"] / x["duration"]) for s in runs}
busy = {s: med(s, lambda x: x["machine_busy"]) for s in runs}
def ratio(a, b):
    return a / b if b else 0.0
L = []
w = L.append
w("# IMAP mixed-session load: roost vs Dovecot")
w("")
w("Measured by `bench/imap/mixed.sh` on %s, %s CPUs shared with other work" % (time.strftime("%Y-%m-%d", time.gmtime()), cpus))
w("(builds and test suites of other sessions ran at the same time), %s from Debian," % ("Dovecot " + dcver))
w("roost %s (build/release). Both with their defaults (run.sh's configuration)," % rev)
w("one after the other, %d rounds with the servers taking turns; figures are medians" % rounds)
w("of the rounds. Load (`mixed.py`, one Python selectors loop): %d clients on one shared" % r0["clients"])
w("INBOX of %s messages, each looping SELECT INBOX, FETCH 1:* (FLAGS), 2 × FETCH n" % n)
w("(BODY.PEEK[]) of a random message, STORE n +FLAGS (\\Flagged), STORE m -FLAGS")
w("(\\Flagged), APPEND of a 1.5 KB message (synchronizing literal), UID STORE")
w("+FLAGS.SILENT (\\Deleted) + UID EXPUNGE of its own appended messages every other")
w("loop, IDLE with DONE after 100 ms, and LOGOUT + new connection + LOGIN after 10 %")
w("of the loops; %g s measured after %g s of warm-up. Commands/s = tagged OKs in" % (r0["duration"], 3))
w("the window / its length. Errors = tagged NO/BAD, unexpected disconnects or BYE,")
w("timeouts (15 s), broken responses. Memory = PSS (`/proc/PID/smaps_rollup`) of the")
w("session processes (Dovecot `imap`, roost `roost-imap`) summed at mid-run, divided")
w("by their number; \"whole server\" adds master, login, auth and the rest.")
w("")
w("| measure | Dovecot | roost | roost / Dovecot | target |")
w("|---|---|---|---|---|")
w("| commands/s (tagged OK) | %s | %s | %.2f | ≥ 1.5 |" % (fmt(cps["dovecot"]), fmt(cps["roost"]), ratio(cps["roost"], cps["dovecot"])))
w("| errors in the windows (all rounds) | %d | %d | | 0 |" % (errs["dovecot"], errs["roost"]))
w("| errors during warm-up (all rounds) | %d | %d | | 0 |" % (werrs["dovecot"], werrs["roost"]))
w("| memory per session, PSS of session processes | %d kB | %d kB | %.2f | ≤ 1 |" % (mem["dovecot"], mem["roost"], ratio(mem["roost"], mem["dovecot"])))
w("| memory per session, RSS of session processes | %d kB | %d kB | %.2f | |" % (rss["dovecot"], rss["roost"], ratio(rss["roost"], rss["dovecot"])))
w("| memory per session, PSS of the whole server | %d kB | %d kB | %.2f | |" % (tree["dovecot"], tree["roost"], ratio(tree["roost"], tree["dovecot"])))
w("| server CPU per 1000 commands | %.2f s | %.2f s | %.2f | |" % (cpu_per_k["dovecot"], cpu_per_k["roost"], ratio(cpu_per_k["roost"], cpu_per_k["dovecot"])))
w("| load client CPU (share of one core) | %.0f %% | %.0f %% | | |" % (100 * client["dovecot"], 100 * client["roost"]))
w("| machine busy (both CPUs, everything) | %.0f %% | %.0f %% | | |" % (100 * busy["dovecot"], 100 * busy["roost"]))
w("")
w("Per command (median over rounds of the rate; latency from sending the command")
w("to its tagged OK, median and 99th percentile of the last round):")
w("")
w("| command | Dovecot /s | roost /s | Dovecot median / p99 ms | roost median / p99 ms |")
w("|---|---|---|---|---|")
names = sorted(set(dc[-1]["commands"]) | set(ro[-1]["commands"]))
for nm in names:
    def rate(s):
        return med(s, lambda x: x["commands"].get(nm, {}).get("per_s", 0))
    def lat(s):
        c = runs[s][-1]["commands"].get(nm)
        return "%.2f / %.2f" % (c["median_ms"], c["p99_ms"]) if c else "-"
    w("| %s | %s | %s | %s | %s |" % (nm.replace("|", "\\|"), fmt(rate("dovecot")), fmt(rate("roost")), lat("dovecot"), lat("roost")))
w("")
w("Every run (commands/s, errors, PSS per session):")
w("")
for r in range(rounds):
    w("- round %d: Dovecot %.1f/s, %d errors, %d kB; roost %.1f/s, %d errors, %d kB; ratio %.2f"
      % (r + 1, dc[r]["ok_per_s"], dc[r]["errors"], dc[r].get("session_pss_kb_per_session", 0),
         ro[r]["ok_per_s"], ro[r]["errors"], ro[r].get("session_pss_kb_per_session", 0),
         ratio(ro[r]["ok_per_s"], dc[r]["ok_per_s"])))
for s in ("dovecot", "roost"):
    texts = [t for x in runs[s] for t in x["error_texts"]]
    if texts:
        w("")
        w("First error texts, %s:" % s)
        w("")
        for t in texts[:12]:
            w("    " + t)
open(results, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PYEOF
log "wrote $RESULTS"
