#!/bin/bash
# Login benchmark: roost and Debian's Dovecot 2.3 side by side, in one run,
# on this machine; writes bench/login/RESULTS.md with every figure and the
# roost/Dovecot ratios. Runs as root and builds everything it needs in a
# scratch directory ($BENCH_ROOT, default /tmp/roost-bench-login).
#
# Environment (all optional):
#   SECS=20            seconds per rate measurement
#   CLIENTS=20         concurrent clients for the rate measurements
#   RSS_N=500          idle authenticated sessions for the memory measurement
#   MIN_AVAIL="20 50"  roost runs, one per service imap/pop3 process_min_avail
#   CONFIGS="baseline hp hp-reuse roost"   which servers to measure
#   CLIENT=c|py        load generator: the C client (default) or loginbench.py
#   SKIP_BUILD=1       use the existing build/release
#   ROOST_BUILD=DIR    measure the roost under DIR (sbin/roost, libexec/roost/) instead;
#                      implies SKIP_BUILD
#   BENCH_ROOT=DIR     scratch directory (deleted and re-created)
#   RESULTS=FILE       where to write the table (default bench/login/RESULTS.md)
#   RAW_DIR=DIR        where the raw outputs are kept (default $BENCH_ROOT-raw-DATE)
#   NOTE=TEXT          a paragraph for the top of the results file
#   SETUP_ONLY=1       prepare $BENCH_ROOT (users, certificate, configs, client) and stop
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ROOT=${BENCH_ROOT:-/tmp/roost-bench-login}
SECS=${SECS:-20}
CLIENTS=${CLIENTS:-20}
RSS_N=${RSS_N:-500}
MIN_AVAIL=${MIN_AVAIL:-"20 50"}
CONFIGS=${CONFIGS:-"baseline hp hp-reuse roost"}
CLIENT=${CLIENT:-c}
RESULTS=${RESULTS:-$here/RESULTS.md}
BUILD=${ROOST_BUILD:-$top/build/release}
PY=/usr/bin/python3
NUSERS=200

# Ports: Dovecot's are fixed by the reference configuration; roost's differ
# so that a lingering instance of one cannot answer for the other.
DC_IMAP=10143 DC_IMAPS=10993 DC_POP3=10110
RO_IMAP=20143 RO_IMAPS=20993 RO_POP3=20110

log() { printf '%s [run.sh] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (it starts both servers as root)"

# --- prerequisites ------------------------------------------------------------
if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/imap ] || [ ! -x /usr/lib/dovecot/pop3 ]; then
	log "installing dovecot-imapd dovecot-pop3d"
	DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd dovecot-pop3d >/dev/null
fi
# The system instance must not run: it would compete for the CPU.
if pgrep -x dovecot >/dev/null 2>&1; then
	for pid in $(pgrep -x dovecot); do
		case "$(tr '\0' ' ' </proc/"$pid"/cmdline)" in
		*"$ROOT"/*) ;; # one of ours from an interrupted run: handled below
		*)
			log "stopping the system dovecot (pid $pid)"
			service dovecot stop >/dev/null 2>&1 || kill "$pid" || true
			;;
		esac
	done
fi
for u in roostnull roost vmail; do
	id "$u" >/dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
done
for u in dovecot dovenull; do
	id "$u" >/dev/null 2>&1 || die "user $u missing (it comes with dovecot-core)"
done
VMAIL_UID=$(id -u vmail)
VMAIL_GID=$(id -g vmail)

if [ -z "${SKIP_BUILD:-}" ] && [ -z "${ROOST_BUILD:-}" ]; then
	log "building roost (make release)"
	make -C "$top" release >/dev/null
fi
[ -x "$BUILD/sbin/roost" ] || die "no $BUILD/sbin/roost: run make release"

# --- scratch directory --------------------------------------------------------
stop_all() {
	local pidf pid
	for pidf in "$ROOT"/dovecot/run/master.pid "$ROOT"/roost/run/master.pid; do
		[ -f "$pidf" ] || continue
		pid=$(cat "$pidf" 2>/dev/null || true)
		# Only a master of ours: a stale pid file may name someone else's process.
		case "$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)" in
		*dovecot*"$ROOT"/* | *roost*"$ROOT"/*) kill -TERM "$pid" 2>/dev/null || true ;;
		*) continue ;;
		esac
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
}
stop_all
trap stop_all EXIT

rm -rf "$ROOT"
mkdir -p "$ROOT"/dovecot/run "$ROOT"/dovecot/state "$ROOT"/roost/run "$ROOT"/roost/state \
	"$ROOT"/mail "$ROOT"/home "$ROOT"/out "$ROOT"/bin
chmod 755 "$ROOT" "$ROOT"/dovecot "$ROOT"/roost

log "certificate, users, mail directories in $ROOT"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
	-keyout "$ROOT"/dovecot/ssl.key -out "$ROOT"/dovecot/ssl.crt >/dev/null 2>&1
chmod 600 "$ROOT"/dovecot/ssl.key

# One passwd-file for both servers: Dovecot's auth runs as user dovecot,
# roost-auth as user roost, so owner dovecot and group roost may read it.
: >"$ROOT"/dovecot/users
for i in $(seq $NUSERS); do
	printf 'user%d:{PLAIN}pass:%d:%d::%s/home/user%d::\n' "$i" "$VMAIL_UID" "$VMAIL_GID" "$ROOT" "$i"
	mkdir -p "$ROOT"/home/user$i "$ROOT"/mail/user$i/cur "$ROOT"/mail/user$i/new "$ROOT"/mail/user$i/tmp
done >>"$ROOT"/dovecot/users
chown dovecot:roost "$ROOT"/dovecot/users
chmod 440 "$ROOT"/dovecot/users
chown -R vmail:vmail "$ROOT"/mail "$ROOT"/home
# Users have no domain: mail_location's %d is empty and maildir:ROOT/mail/%d/%n
# is ROOT/mail//userN, the directories made above.

# --- Dovecot configurations ---------------------------------------------------
for v in baseline hp hp-reuse; do
	sed -e "s|@ROOT@|$ROOT|g" "$here/dovecot-$v.conf.in" >"$ROOT/dovecot/dovecot-$v.conf"
done
# The reference file says first_valid_uid = 999; vmail may have a lower uid here.
if [ "$VMAIL_UID" -lt 999 ]; then
	sed -i -e "s/^first_valid_uid = 999$/first_valid_uid = $VMAIL_UID/" "$ROOT/dovecot/dovecot-baseline.conf"
fi

# --- roost configurations -----------------------------------------------------
roost_conf() { # $1 = process_min_avail of the imap and pop3 services
	cat <<CONF
# roost, equivalent to dovecot-hp.conf plus pre-started mail processes
# (process_min_avail = $1); every session still gets a fresh mail process.
protocols = imap pop3
listen = 127.0.0.1
base_dir = $ROOT/roost/run
state_dir = $ROOT/roost/state
instance_name = roost-bench
log_path = $ROOT/roost/roost.log

default_process_limit = 1000
default_client_limit = 4000

ssl = yes
ssl_cert = <$ROOT/dovecot/ssl.crt
ssl_key = <$ROOT/dovecot/ssl.key
disable_plaintext_auth = no
auth_mechanisms = plain login

mail_location = maildir:$ROOT/mail/%d/%n
mail_uid = vmail
mail_gid = vmail
first_valid_uid = $VMAIL_UID

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
  mailbox Junk {
    special_use = \\Junk
  }
}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $ROOT/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $ROOT/dovecot/users
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $RO_IMAP
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $RO_IMAPS
    ssl = yes
  }
  process_min_avail = 2
  client_limit = 1000
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $RO_POP3
  }
  inet_listener pop3s {
    port = 0
  }
  process_min_avail = 2
  client_limit = 1000
}
service imap {
  process_limit = 1000
  process_min_avail = $1
}
service pop3 {
  process_limit = 1000
  process_min_avail = $1
}
mail_max_userip_connections = 1000
protocol imap {
  mail_max_userip_connections = 1000
}
protocol pop3 {
  mail_max_userip_connections = 1000
}
CONF
}
for n in $MIN_AVAIL; do
	roost_conf "$n" >"$ROOT/roost/roost-$n.conf"
done
echo 'ulimit -n 20000' >"$ROOT/roost/default-roost"

# --- load generator -----------------------------------------------------------
gcc -O2 -Wall -Wextra -pthread -o "$ROOT/bin/loginbench" "$here/loginbench.c" -lssl -lcrypto
loadgen() { # args for loginbench
	if [ "$CLIENT" = py ]; then
		$PY "$here/loginbench.py" "$@"
	else
		"$ROOT/bin/loginbench" "$@"
	fi
}
# A rate measurement, with the server's CPU time per session split by
# process kind (cpushare.py reads /proc before and after). $1 = master.pid
measured_loadgen() {
	local pidf=$1
	shift
	if [ "$CLIENT" = py ]; then
		$PY "$here/cpushare.py" --master-pid-file "$pidf" -- $PY "$here/loginbench.py" "$@"
	else
		$PY "$here/cpushare.py" --master-pid-file "$pidf" -- "$ROOT/bin/loginbench" "$@"
	fi
}

wait_port() {
	for _ in $(seq 200); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	die "nothing listens on 127.0.0.1:$1"
}

# Machine state next to every measurement, so a busy machine is visible.
machine_note() {
	printf 'load average: %s; top other processes: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$(ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 > 5 { printf "%s %s%%, ", $2, $1 }' | head -c 200)"
}

# Rates on one running server. $1 = label, $2 imap port, $3 imaps port,
# $4 pop3 port, $5 master.pid
measure_rates() {
	local label=$1 out="$ROOT/out/$1"
	mkdir -p "$out"
	log "$label: warm-up"
	loadgen --port "$2" --clients "$CLIENTS" --secs 2 >/dev/null 2>&1 || true
	log "$label: IMAP logins"
	machine_note >"$out/imap.machine"
	measured_loadgen "$5" --port "$2" --clients "$CLIENTS" --secs "$SECS" >"$out/imap.txt" 2>&1 || true
	sleep 1
	log "$label: IMAPS logins"
	machine_note >"$out/imaps.machine"
	measured_loadgen "$5" --port "$3" --tls --clients "$CLIENTS" --secs "$SECS" >"$out/imaps.txt" 2>&1 || true
	sleep 1
	log "$label: POP3 logins"
	loadgen --port "$4" --proto pop3 --clients "$CLIENTS" --secs 2 >/dev/null 2>&1 || true
	machine_note >"$out/pop3.machine"
	measured_loadgen "$5" --port "$4" --proto pop3 --clients "$CLIENTS" --secs "$SECS" >"$out/pop3.txt" 2>&1 || true
}

# Memory on a freshly started server, so that neither processes kept from
# earlier sessions (Dovecot's service_count > 1) nor a heap grown by the rate
# runs hides the cost of new sessions. $1 = label, $2 port, $3 = plain | tls,
# $4 master.pid
measure_rss() {
	local out="$ROOT/out/$1" name=rss tls=
	[ "$3" = tls ] && name=rss-tls && tls=--tls
	log "$1: memory, $RSS_N idle IMAP${tls:+S} sessions"
	$PY "$here/rssbench.py" --n "$RSS_N" --port "$2" $tls --master-pid-file "$4" >"$out/$name.txt" 2>&1 || true
}

start_dovecot() { # $1 = baseline | hp | hp-reuse
	log "starting Dovecot ($1)"
	dovecot -c "$ROOT/dovecot/dovecot-$1.conf"
	wait_port $DC_IMAP
	wait_port $DC_IMAPS
	wait_port $DC_POP3
	sleep 1
}

start_roost() { # $1 = process_min_avail
	log "starting roost (process_min_avail = $1)"
	"$BUILD/sbin/roost" -c "$ROOT/roost/roost-$1.conf" --defaults "$ROOT/roost/default-roost"
	wait_port $RO_IMAP
	wait_port $RO_IMAPS
	wait_port $RO_POP3
	sleep 2 # the pre-started mail processes
}

run_dovecot() { # $1 = baseline | hp | hp-reuse
	local label="dovecot-$1" pidf="$ROOT/dovecot/run/master.pid"
	: >"$ROOT/dovecot/dovecot.log"
	start_dovecot "$1"
	measure_rates "$label" $DC_IMAP $DC_IMAPS $DC_POP3 "$pidf"
	stop_all
	start_dovecot "$1"
	measure_rss "$label" $DC_IMAP plain "$pidf"
	stop_all
	start_dovecot "$1"
	measure_rss "$label" $DC_IMAPS tls "$pidf"
	stop_all
	cp "$ROOT/dovecot/dovecot.log" "$ROOT/out/$label/server.log"
	grep -h "rate=\|client CPU\|RESULT\|  total " "$ROOT/out/$label"/*.txt | sed "s/^/  $label: /" >&2 || true
}

run_roost() { # $1 = process_min_avail
	local label="roost-$1" pidf="$ROOT/roost/run/master.pid"
	: >"$ROOT/roost/roost.log"
	start_roost "$1"
	measure_rates "$label" $RO_IMAP $RO_IMAPS $RO_POP3 "$pidf"
	stop_all
	start_roost "$1"
	measure_rss "$label" $RO_IMAP plain "$pidf"
	stop_all
	start_roost "$1"
	measure_rss "$label" $RO_IMAPS tls "$pidf"
	stop_all
	cp "$ROOT/roost/roost.log" "$ROOT/out/$label/server.log"
	grep -h "rate=\|client CPU\|RESULT\|  total " "$ROOT/out/$label"/*.txt | sed "s/^/  $label: /" >&2 || true
}

if [ -n "${SETUP_ONLY:-}" ]; then
	trap - EXIT
	log "setup done in $ROOT (SETUP_ONLY): start a server by hand, see README.md"
	exit 0
fi

uname -a >"$ROOT/out/machine"
{
	grep -m1 'model name' /proc/cpuinfo
	echo "cores: $(nproc)"
	grep MemTotal /proc/meminfo
	echo "Debian $(cat /etc/debian_version); $(dovecot --version | sed 's/^/Dovecot /'); $(openssl version)"
	echo "roost: $(git -C "$top" log -1 --format='%h %s' 2>/dev/null || echo unknown) ($BUILD)"
} >>"$ROOT/out/machine"
date -u '+%Y-%m-%d %H:%M UTC' >"$ROOT/out/date"

for c in $CONFIGS; do
	case "$c" in
	baseline | hp | hp-reuse) run_dovecot "$c" ;;
	roost)
		for n in $MIN_AVAIL; do
			run_roost "$n"
		done
		;;
	*) die "unknown configuration $c" ;;
	esac
done

$PY "$here/report.py" --out-dir "$ROOT/out" --secs "$SECS" --clients "$CLIENTS" --rss-n "$RSS_N" \
	--client "$CLIENT" --min-avail "$MIN_AVAIL" --note "${NOTE:-}" >"$RESULTS"
# The scratch directory goes with the next run: keep the raw outputs.
RAW_DIR=${RAW_DIR:-$ROOT-raw-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RAW_DIR"
cp -r "$ROOT/out/." "$RAW_DIR/"
log "wrote $RESULTS (raw output in $RAW_DIR)"
