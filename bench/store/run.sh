#!/bin/bash
# Storage benchmark: roost-lda against dovecot-lda (deliveries into one
# Maildir, one process per message as Postfix's pipe(8) runs them) and
# roost-pop3 against Dovecot's pop3 (STAT+UIDL+RETR of every message of a
# 10,000-message Maildir, cold and warm), on this machine, in one run.
# Writes bench/store/RESULTS.md with every figure and the roost/Dovecot
# ratios. Runs as root; everything lives in $BENCH_ROOT.
#
# Environment (all optional):
#   REPS=3             repetitions of every measurement (servers alternate)
#   LDA_N=1000         deliveries of the mixed-size run
#   LDA_FIXED_N=200    deliveries of each fixed-size run
#   LDA_FIXED="1024 16384 131072 1048576"   fixed sizes (bytes); "" to skip
#   LDA_CONC="1 4"     concurrent deliveries for the mixed run
#   POP_N=10000        messages of the POP3 mailbox
#   NO_SIZES=1         POP3 mailbox names without ,S=,W= (servers must read files)
#   DROP_CACHES=1      drop the page cache before every cold POP3 session
#   SERVERS="dovecot roost"   which servers to measure
#   PARTS="lda pop3"   which benchmarks to run
#   SKIP_BUILD=1       use the existing build/release
#   ROOST_BUILD=DIR    measure the roost under DIR (sbin/, libexec/roost/); implies SKIP_BUILD
#   BENCH_ROOT=DIR     scratch directory (default /tmp/roost-bench-store; deleted and re-created)
#   RESULTS=FILE       where to write the table (default bench/store/RESULTS.md)
#   RAW_DIR=DIR        where the raw outputs are kept (default $BENCH_ROOT-raw-DATE)
#   NOTE=TEXT          a paragraph for the top of the results file
#   SETUP_ONLY=1       prepare $BENCH_ROOT, start both servers and stop (see README.md)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ROOT=${BENCH_ROOT:-/tmp/roost-bench-store}
REPS=${REPS:-3}
LDA_N=${LDA_N:-1000}
LDA_FIXED_N=${LDA_FIXED_N:-200}
LDA_FIXED=${LDA_FIXED-"1024 16384 131072 1048576"}
LDA_CONC=${LDA_CONC:-"1 4"}
POP_N=${POP_N:-10000}
SERVERS=${SERVERS:-"dovecot roost"}
PARTS=${PARTS:-"lda pop3"}
RESULTS=${RESULTS:-$here/RESULTS.md}
BUILD=${ROOST_BUILD:-$top/build/release}
PY=/usr/bin/python3
PASS=benchpass

# Ports differ from bench/login's (10110/20110 there) so that a server left
# running by one benchmark cannot answer for the other, and stay below 20000,
# where the integration tests take theirs.
DC_POP3=11110
RO_POP3=12110

log() { printf '%s [run.sh] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (it starts both servers and runs the LDAs as vmail)"

# --- prerequisites ------------------------------------------------------------
if [ ! -x /usr/lib/dovecot/dovecot-lda ] || [ ! -x /usr/lib/dovecot/pop3 ]; then
	log "installing dovecot-core dovecot-pop3d"
	DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-core dovecot-pop3d >/dev/null
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
[ -x "$BUILD/libexec/roost/roost-lda" ] || die "no $BUILD/libexec/roost/roost-lda"

# --- servers ------------------------------------------------------------------
# Only a master of ours: a stale pid file may name someone else's process.
stop_server() { # $1 = pid file
	local pid
	[ -f "$1" ] || return 0
	pid=$(cat "$1" 2>/dev/null || true)
	case "$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)" in
	*dovecot*"$ROOT"/* | *roost*"$ROOT"/*) kill -TERM "$pid" 2>/dev/null || true ;;
	*) return 0 ;;
	esac
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
}
stop_all() {
	stop_server "$ROOT/dovecot/run/master.pid"
	stop_server "$ROOT/roost/run/master.pid"
}
stop_all
trap stop_all EXIT

wait_port() {
	for _ in $(seq 200); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	die "nothing listens on 127.0.0.1:$1"
}

port_free() {
	if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then
		die "127.0.0.1:$1 is already in use: $(ss -ltnpH "sport = :$1" | head -1)"
	fi
}
start_dovecot() {
	port_free $DC_POP3
	dovecot -c "$ROOT/dovecot/dovecot.conf" >>"$ROOT/out/dovecot.start" 2>&1 </dev/null
	wait_port $DC_POP3
}
start_roost() {
	port_free $RO_POP3
	"$BUILD/sbin/roost" -c "$ROOT/roost/roost.conf" --defaults "$ROOT/roost/default-roost" \
		>>"$ROOT/out/roost.start" 2>&1 </dev/null
	wait_port $RO_POP3
	for _ in $(seq 100); do
		[ -S "$ROOT/roost/run/auth-userdb" ] && return 0
		sleep 0.05
	done
	die "roost's auth-userdb socket did not appear"
}

# --- scratch directory --------------------------------------------------------
rm -rf "$ROOT"
mkdir -p "$ROOT"/dovecot/run "$ROOT"/dovecot/state "$ROOT"/roost/run "$ROOT"/roost/state \
	"$ROOT"/mail-dovecot "$ROOT"/mail-roost "$ROOT"/home "$ROOT"/out "$ROOT"/bin "$ROOT"/data
chmod 755 "$ROOT" "$ROOT"/dovecot "$ROOT"/roost

log "users, configurations and test mail in $ROOT"
# One passwd-file for both servers: Dovecot's auth runs as user dovecot,
# roost-auth as user roost, so owner dovecot and group roost may read it.
# pop0 is the warm-up user (empty mailbox), pop1 holds the POP3 mailbox,
# lda1 receives the deliveries.
: >"$ROOT/users"
for u in pop0 pop1 lda1; do
	printf '%s:{PLAIN}%s:%d:%d::%s/home/%s::\n' "$u" "$PASS" "$VMAIL_UID" "$VMAIL_GID" "$ROOT" "$u" >>"$ROOT/users"
	mkdir -p "$ROOT/home/$u"
done
chown dovecot:roost "$ROOT/users"
chmod 440 "$ROOT/users"

for s in dovecot roost; do
	port=$DC_POP3
	[ $s = roost ] && port=$RO_POP3
	sed -e "s|@ROOT@|$ROOT|g" -e "s|@VMAIL_UID@|$VMAIL_UID|g" -e "s|@PORT@|$port|g" \
		"$here/$s-store.conf.in" >"$ROOT/$s/$s.conf"
	chmod 644 "$ROOT/$s/$s.conf"
	# The LDAs run as vmail and write their own log.
	touch "$ROOT/$s/lda.log"
	chown vmail:vmail "$ROOT/$s/lda.log"
	for u in pop0 lda1; do
		mkdir -p "$ROOT/mail-$s/$u/cur" "$ROOT/mail-$s/$u/new" "$ROOT/mail-$s/$u/tmp"
	done
done
echo 'ulimit -n 4096' >"$ROOT/roost/default-roost"
chown -R vmail:vmail "$ROOT/home" "$ROOT/mail-dovecot" "$ROOT/mail-roost"

gcc -O2 -Wall -static -o "$ROOT/bin/ldabench" "$here/ldabench.c"
gcc -O2 -Wall -pthread -o "$ROOT/bin/popbench" "$here/popbench.c" -lz

# The delivery mix and fixed-size sets, and the POP3 mailbox (pristine copy).
$PY "$here/gen_mail.py" messages --n "$LDA_N" --seed 1 --out "$ROOT/data/mix" >"$ROOT/out/lda-mix.sizes"
for sz in $LDA_FIXED; do
	$PY "$here/gen_mail.py" messages --n "$LDA_FIXED_N" --seed 3 --fixed "$sz" \
		--out "$ROOT/data/fixed-$sz" >"$ROOT/out/lda-fixed-$sz.sizes"
done
$PY "$here/gen_mail.py" maildir --n "$POP_N" --seed 2 --out "$ROOT/data/pop1" --owner vmail \
	${NO_SIZES:+--no-sizes} >"$ROOT/out/pop3.sizes"
chmod -R a+rX "$ROOT/data"

log "starting Dovecot and roost"
start_dovecot
start_roost

if [ -n "${SETUP_ONLY:-}" ]; then
	trap - EXIT
	log "setup done in $ROOT (SETUP_ONLY): both servers run; see README.md"
	exit 0
fi

# --- machine ------------------------------------------------------------------
{
	uname -a
	grep -m1 'model name' /proc/cpuinfo
	echo "cores: $(nproc)"
	grep MemTotal /proc/meminfo
	echo "filesystem of $ROOT: $(df -T "$ROOT" | awk 'NR==2 { print $2 " on " $1 }')"
	echo "Debian $(cat /etc/debian_version); Dovecot $(dovecot --version); $(dpkg-query -W -f='${Package} ${Version}\n' dovecot-core dovecot-pop3d | tr '\n' ';')"
	echo "roost: $(git -C "$top" log -1 --format='%h %s' 2>/dev/null || echo unknown) ($BUILD)"
} >"$ROOT/out/machine"
date -u '+%Y-%m-%d %H:%M UTC' >"$ROOT/out/date"

# Load next to every measurement, so that a busy machine is visible.
machine_note() {
	printf 'load %s; busy: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$(ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 > 10 { printf "%s %s%%, ", $2, $1 }' | head -c 160)"
}

lda_cmd() { # $1 = server
	if [ "$1" = dovecot ]; then
		echo "/usr/lib/dovecot/dovecot-lda -c $ROOT/dovecot/dovecot.conf -f sender@example.org -d lda1"
	else
		echo "$BUILD/libexec/roost/roost-lda -c $ROOT/roost/roost.conf -f sender@example.org -d lda1"
	fi
}

# An empty Maildir for lda1 before every run: no run inherits another's index.
reset_lda_maildir() { # $1 = server
	local md="$ROOT/mail-$1/lda1"
	rm -rf "$md"
	mkdir -p "$md/cur" "$md/new" "$md/tmp"
	chown -R vmail:vmail "$md"
	sync
}

# $1 = server, $2 = workload name, $3 = data dir, $4 = concurrency, $5 = rep
run_lda() {
	local s=$1 w=$2 data=$3 conc=$4 rep=$5 out="$ROOT/out/lda/$2"
	local n md="$ROOT/mail-$1/lda1"
	mkdir -p "$out"
	reset_lda_maildir "$s"
	machine_note >"$out/$s.$rep.machine"
	$PY "$here/treecpu.py" --master-pid-file "$ROOT/$s/run/master.pid" -- \
		"$ROOT/bin/ldabench" --list "$data/list" --uid "$VMAIL_UID" --gid "$VMAIL_GID" --concurrency "$conc" \
		--raw "$out/$s.$rep.raw" --errlog "$out/$s.$rep.stderr" -- $(lda_cmd "$s") \
		>"$out/$s.$rep.txt" 2>&1 || true
	n=$(find "$md/new" "$md/cur" -type f | wc -l)
	echo "STORED files=$n bytes=$(find "$md/new" "$md/cur" -type f -printf '%s\n' | awk '{ t += $1 } END { print t + 0 }')" >>"$out/$s.$rep.txt"
	log "  lda $w $s rep $rep: $(grep -o 'rate=[0-9.]*' "$out/$s.$rep.txt" || echo failed) ($n stored)"
}

# $1 = server, $2 = cold|warm, $3 = rep
run_pop3() {
	local s=$1 phase=$2 rep=$3 out="$ROOT/out/pop3" port=$DC_POP3 proc=pop3
	[ "$s" = roost ] && port=$RO_POP3 proc=roost-pop3
	mkdir -p "$out"
	machine_note >"$out/$s.$phase.$rep.machine"
	$PY "$here/treecpu.py" --master-pid-file "$ROOT/$s/run/master.pid" -- \
		"$ROOT/bin/popbench" --port "$port" --user pop1 --pass "$PASS" \
		--master-pid-file "$ROOT/$s/run/master.pid" --proc "$proc" \
		--uidl-out "$out/$s.$phase.$rep.uidl" --crc-out "$out/$s.$phase.$rep.crc" \
		>"$out/$s.$phase.$rep.txt" 2>&1 || true
	log "  pop3 $phase $s rep $rep: $(grep -o 'session_s=[0-9.]*' "$out/$s.$phase.$rep.txt" || echo failed)"
}

# One POP3 session of the empty pop0 before measuring, so that neither
# server's first-ever login (login process start, auth start) is measured.
warm_up_pop3() { # $1 = server
	local port=$DC_POP3
	[ "$1" = roost ] && port=$RO_POP3
	"$ROOT/bin/popbench" --port "$port" --user pop0 --pass "$PASS" >/dev/null 2>&1 || true
}

for s in $SERVERS; do
	warm_up_pop3 "$s"
done

if [[ " $PARTS " == *" lda "* ]]; then
	log "LDA: $LDA_N mixed deliveries (concurrency $LDA_CONC), fixed sizes: ${LDA_FIXED:-none}"
	for rep in $(seq "$REPS"); do
		for conc in $LDA_CONC; do
			for s in $SERVERS; do
				run_lda "$s" "mix-c$conc" "$ROOT/data/mix" "$conc" "$rep"
			done
		done
		for sz in $LDA_FIXED; do
			for s in $SERVERS; do
				run_lda "$s" "fixed-$sz" "$ROOT/data/fixed-$sz" 1 "$rep"
			done
		done
	done
fi

if [[ " $PARTS " == *" pop3 "* ]]; then
	log "POP3: $POP_N messages, cold and warm, $REPS repetitions"
	for rep in $(seq "$REPS"); do
		for s in $SERVERS; do
			# The same pristine Maildir for both servers (and every rep).
			rm -rf "$ROOT/mail-$s/pop1"
			cp -a "$ROOT/data/pop1" "$ROOT/mail-$s/pop1"
			sync
			[ -n "${DROP_CACHES:-}" ] && echo 3 >/proc/sys/vm/drop_caches
			run_pop3 "$s" cold "$rep"
			run_pop3 "$s" warm "$rep"
			# What each server left on disk, for the report.
			(cd "$ROOT/mail-$s/pop1" && ls -la && du -sh . &&
				echo "new: $(ls new | wc -l) cur: $(ls cur | wc -l)") \
				>"$ROOT/out/pop3/$s.$rep.disk" 2>&1
		done
	done
fi

for s in dovecot roost; do
	cp "$ROOT/$s/lda.log" "$ROOT/out/$s-lda.log" 2>/dev/null || true
	cp "$ROOT/$s/$s.log" "$ROOT/out/$s.log" 2>/dev/null || true
	cp "$ROOT/$s/$s.conf" "$ROOT/out/$s.conf"
done

$PY "$here/report.py" --out-dir "$ROOT/out" --reps "$REPS" --lda-n "$LDA_N" \
	--lda-fixed-n "$LDA_FIXED_N" --lda-fixed "$LDA_FIXED" --lda-conc "$LDA_CONC" \
	--pop-n "$POP_N" ${NO_SIZES:+--no-sizes} ${DROP_CACHES:+--drop-caches} \
	--note "${NOTE:-}" >"$RESULTS"
RAW_DIR=${RAW_DIR:-$ROOT-raw-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RAW_DIR"
cp -r "$ROOT/out/." "$RAW_DIR/"
log "wrote $RESULTS (raw output in $RAW_DIR)"
