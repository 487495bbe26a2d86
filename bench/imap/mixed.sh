#!/bin/bash
# Issue 5's benchmark (5): a mixed-session load, roost against Debian's
# Dovecot 2.3 on the same machine, one server after the other with the same
# load. CLIENTS clients at once on one shared INBOX of N messages (MODE
# shared) or each on its own folder of FOLDER_N messages (MODE folders), each
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
#   FOLDER_N=500    messages in each client's folder (MODE folders)
#   MODES="shared folders"  which loads to run, in this order
#   CLIENTS=50      concurrent clients
#   DURATION=30     seconds measured per run (after WARMUP=3 s)
#   ROUNDS=3        runs per server, the servers taking turns (medians)
#   TIMEOUT=15      seconds without an answer that count as an error (the
#                   error text then says what the server process waits in)
#   SKIP_BUILD=1    use the existing build/release
#   RESULTS=FILE    default bench/imap/RESULTS-mixed.md
#   EXTRA_CONF=TEXT lines added to both servers' configurations (to try a
#                   setting both know, e.g. "maildir_very_dirty_syncs = yes")
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ROOT=${BENCH_ROOT:-/tmp/roost-bench-mixed}
N=${N:-2000}
FOLDER_N=${FOLDER_N:-500}
MODES=${MODES:-shared folders}
EXTRA_CONF=${EXTRA_CONF:-}
CLIENTS=${CLIENTS:-50}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
TIMEOUT=${TIMEOUT:-15}
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
# Templates copied before every run: the INBOX of N messages (shared), and
# an empty INBOX with CLIENTS folders of FOLDER_N messages (folders).
log "writing $N messages into the template INBOX, $CLIENTS folders of $FOLDER_N"
$PY "$here"/mkmaildir.py "$ROOT"/template/shared "$N" "$ROOT"/sample.eml
$PY "$here"/mkmaildir.py "$ROOT"/template/folder "$FOLDER_N" "$ROOT"/sample.eml
touch "$ROOT"/template/folder/maildirfolder
mkdir -p "$ROOT"/template/folders/cur "$ROOT"/template/folders/new "$ROOT"/template/folders/tmp
for i in $(seq 0 $((CLIENTS - 1))); do
	cp -a "$ROOT"/template/folder "$ROOT"/template/folders/.Load$i
done
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
$EXTRA_CONF
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
$EXTRA_CONF
CONF
printf 'ulimit -n 4096\n' >"$ROOT"/roost/defaults

wait_port() {
	for _ in $(seq 200); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	die "nothing listens on port $1"
}

# One run: a fresh copy of the template Maildir, the server started, one
# session that builds the indexes (not measured), then the load.
run_one() { # NAME ROUND MODE
	local name=$1 round=$2 mode=$3 port pidf comm prime=() load=()
	rm -rf "$ROOT"/mail/$USER_NAME
	cp -a "$ROOT"/template/"$mode" "$ROOT"/mail/$USER_NAME
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
	logsize=$(stat -c %s "$ROOT/$name/$name.log" 2>/dev/null || echo 0)
	if [ "$mode" = folders ]; then
		for i in $(seq 0 $((CLIENTS - 1))); do
			prime+=("SELECT Load$i" "FETCH 1:* (FLAGS)")
		done
		load=(--folders "$CLIENTS" --stable "$FOLDER_N")
	else
		prime=("SELECT INBOX" "FETCH 1:* (FLAGS)")
		load=(--stable "$N")
	fi
	"$ROOT"/bin/imapbench 127.0.0.1 "$port" "$USER_NAME" "$PASS" "${prime[@]}" >/dev/null
	log "$name, $mode, round $round: $CLIENTS clients for $DURATION s"
	$PY "$here"/mixed.py 127.0.0.1 "$port" "$USER_NAME" "$PASS" --clients "$CLIENTS" \
		--duration "$DURATION" --warmup "$WARMUP" --timeout "$TIMEOUT" "${load[@]}" \
		--append-file "$ROOT"/sample.eml --master-pid "$(cat "$pidf")" \
		--session-comm "$comm" --label "$name" --seed "$round" \
		>"$ROOT"/out/$mode-$name-$round.json
	# The log of this run up to (not including) the server's shutdown.
	tail -c +$((logsize + 1)) "$ROOT/$name/$name.log" >>"$ROOT"/out/$name-runs.log
	stop_all
}

for mode in $MODES; do
	for round in $(seq "$ROUNDS"); do
		if [ $((round % 2)) = 1 ]; then
			run_one dovecot "$round" "$mode"
			run_one roost "$round" "$mode"
		else
			run_one roost "$round" "$mode"
			run_one dovecot "$round" "$mode"
		fi
	done
done

# Server log lines that look like trouble, for the results (the logs of the
# runs, not of the shutdowns that follow them).
for name in dovecot roost; do
	grep -iE 'error|panic|fatal|warning|killed|signal' "$ROOT"/out/$name-runs.log \
		>"$ROOT"/out/$name-log-errors.txt || true
done

$PY - "$ROOT/out" "$ROUNDS" "$RESULTS" "$N" "$FOLDER_N" "$(nproc)" \
	"$(dovecot --version | head -1)" "$(git -C "$top" rev-parse --short HEAD)" "$WARMUP" \
	"$EXTRA_CONF" $MODES <<'PYEOF'
import json, statistics, sys, time
out, rounds, results, n, folder_n, cpus, dcver, rev, warmup, extra = sys.argv[1:11]
modes = sys.argv[11:]
rounds = int(rounds)
L = []
w = L.append


def ratio(a, b):
    return a / b if b else 0.0


def section(mode):
    runs = {s: [json.load(open("%s/%s-%s-%d.json" % (out, mode, s, r)))
                for r in range(1, rounds + 1)] for s in ("dovecot", "roost")}
    dc, ro = runs["dovecot"], runs["roost"]

    def med(s, f):
        return statistics.median(f(x) for x in runs[s])
    cps = {s: med(s, lambda x: x["ok_per_s"]) for s in runs}
    errs = {s: sum(x["errors"] for x in runs[s]) for s in runs}
    werrs = {s: sum(x["warmup_errors"] for x in runs[s]) for s in runs}
    mem = {s: med(s, lambda x: x.get("session_pss_kb_per_session", 0)) for s in runs}
    rss = {s: med(s, lambda x: x.get("session_rss_kb_per_session", 0)) for s in runs}
    tree = {s: med(s, lambda x: x.get("tree_pss_kb_per_session", 0)) for s in runs}
    cpu_k = {s: med(s, lambda x: 1000 * x["server_cpu_s"] / max(1, x["ok"])) for s in runs}
    client = {s: med(s, lambda x: x["client_cpu_s"] / x["duration"]) for s in runs}
    busy = {s: med(s, lambda x: x["machine_busy"]) for s in runs}
    if mode == "shared":
        w("## All clients on one shared INBOX of %s messages" % n)
    else:
        w("## Each client on its own folder of %s messages" % folder_n)
    w("")
    w("| measure | Dovecot | roost | roost / Dovecot | target |")
    w("|---|---|---|---|---|")
    w("| commands/s (tagged OK) | %.1f | %.1f | %.2f | ≥ 1.5 |"
      % (cps["dovecot"], cps["roost"], ratio(cps["roost"], cps["dovecot"])))
    w("| errors in the windows (all rounds) | %d | %d | | 0 |" % (errs["dovecot"], errs["roost"]))
    w("| errors outside the windows (warm-up, end; all rounds) | %d | %d | | 0 |"
      % (werrs["dovecot"], werrs["roost"]))
    w("| memory per session: PSS of session processes | %d kB | %d kB | %.2f | ≤ 1 |"
      % (mem["dovecot"], mem["roost"], ratio(mem["roost"], mem["dovecot"])))
    w("| memory per session: RSS of session processes | %d kB | %d kB | %.2f | |"
      % (rss["dovecot"], rss["roost"], ratio(rss["roost"], rss["dovecot"])))
    w("| memory per session: PSS of the whole server | %d kB | %d kB | %.2f | |"
      % (tree["dovecot"], tree["roost"], ratio(tree["roost"], tree["dovecot"])))
    w("| server CPU per 1000 commands | %.2f s | %.2f s | %.2f | |"
      % (cpu_k["dovecot"], cpu_k["roost"], ratio(cpu_k["roost"], cpu_k["dovecot"])))
    w("| load client CPU (share of one core) | %.0f %% | %.0f %% | | |"
      % (100 * client["dovecot"], 100 * client["roost"]))
    w("| machine busy (both CPUs, everything) | %.0f %% | %.0f %% | | |"
      % (100 * busy["dovecot"], 100 * busy["roost"]))
    w("")
    w("Per command: rate (median of the rounds) and latency from sending the")
    w("command to its tagged OK (median / 99th percentile / maximum, last round):")
    w("")
    w("| command | Dovecot /s | roost /s | Dovecot ms | roost ms |")
    w("|---|---|---|---|---|")
    names = sorted(set(dc[-1]["commands"]) | set(ro[-1]["commands"]))
    for nm in names:
        def rate(s):
            return med(s, lambda x: x["commands"].get(nm, {}).get("per_s", 0))

        def lat(s):
            c = runs[s][-1]["commands"].get(nm)
            return ("%.1f / %.0f / %.0f" % (c["median_ms"], c["p99_ms"], c.get("max_ms", 0))
                    if c else "-")
        w("| %s | %.1f | %.1f | %s | %s |" % (nm.replace("|", "\\|"), rate("dovecot"),
                                             rate("roost"), lat("dovecot"), lat("roost")))
    w("")
    w("Every round (commands/s, errors, PSS per session of the session processes):")
    w("")
    for r in range(rounds):
        w("- round %d: Dovecot %.1f/s, %d errors, %d kB; roost %.1f/s, %d errors, %d kB;"
          " ratio %.2f"
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
    w("")


first = json.load(open("%s/%s-dovecot-1.json" % (out, modes[0])))
w("# IMAP mixed-session load: roost vs Dovecot")
w("")
w("Issue 5's benchmark (5). Measured by `bench/imap/mixed.sh` on %s, %s CPUs"
  % (time.strftime("%Y-%m-%d", time.gmtime()), cpus))
w("shared with other work (builds, tests and benchmarks of other sessions ran at")
w("the same time), Dovecot %s from Debian, roost %s (build/release). Both" % (dcver, rev))
w("with their defaults (the configuration of `run.sh`%s), served one after the"
  % (", plus `%s`" % extra.strip() if extra.strip() else ""))
w("other, %d rounds with the servers taking turns; figures are medians of the" % rounds)
w("rounds.")
w("")
w("Load (`mixed.py`, one Python selectors loop over raw sockets): %d clients at"
  % first["clients"])
w("once, each looping SELECT, FETCH 1:* (FLAGS), 2 × FETCH n (BODY.PEEK[]) of a")
w("random message, STORE n +FLAGS (\\Flagged), STORE m -FLAGS (\\Flagged), APPEND")
w("of a 1.5 KB message (synchronizing literal), every other loop UID STORE")
w("+FLAGS.SILENT (\\Deleted) + UID EXPUNGE of the messages it appended, IDLE with")
w("DONE after 100 ms, and after 10 % of the loops LOGOUT, a new connection and")
w("LOGIN; %g s measured after %s s of warm-up. Commands/s = tagged OKs in the"
  % (first["duration"], warmup))
w("window / its length. Errors = tagged NO/BAD, unexpected disconnects or BYE,")
w("timeouts (%g s), broken responses. Memory = PSS (`/proc/PID/smaps_rollup`," % first["timeout"])
w("shared pages split between their users) of the session processes (Dovecot")
w("`imap`, roost `roost-imap`) summed at mid-run, divided by their number; RSS")
w("counts shared pages in full; \"whole server\" adds master, login, auth and the")
w("rest. Server CPU = user + system time of the server's process tree (reaped")
w("children included) during the window.")
w("")
for mode in modes:
    section(mode)
w("## Server logs")
w("")
w("Lines of each server's log matching error, panic, fatal, warning, killed or")
w("signal during the runs (their shutdowns left out):")
for s in ("dovecot", "roost"):
    lines = open("%s/%s-log-errors.txt" % (out, s), errors="replace").read().splitlines()
    w("")
    w("- %s: %d%s" % (s, len(lines), ", the first ones:" if lines else ""))
    if lines:
        w("")
        for line in lines[:8]:
            w("      " + line[:300])
w("")
open(results, "w").write("\n".join(L))
print("\n".join(L))
PYEOF
log "wrote $RESULTS"
