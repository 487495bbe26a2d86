#!/bin/bash
# IMAP message benchmarks of issue 5, roost and Debian's Dovecot 2.3 side by
# side on the same Maildir, in one run on this machine:
#   (1) SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE) on N messages, cold (the
#       server's own index and cache removed) and warm;
#   (2) FETCH 1:* (ENVELOPE BODYSTRUCTURE), warm (after one run has filled
#       each server's cache);
#   (4) 1,000 APPENDs, one at a time with synchronizing literals (three
#       rounds, the servers taking turns);
#   (1f) "first open": SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE) on a
#       second Maildir of the same N messages whose names lack ,S= and ,W=,
#       with no dovecot-uidlist and no index of either server (a Maildir as
#       procmail or maildrop leave it), once with the page cache dropped
#       and once with the files cached, each FIRST_RUNS times.
# Writes every figure and the Dovecot/roost ratios (above 1: roost is
# faster) to bench/imap/RESULTS.md: (1), (2) and (4) replace the file, (1f)
# replaces (or adds) its own section in it. Runs as root; scratch directory
# $BENCH_ROOT (default /tmp/roost-bench-imap), deleted and re-created.
#
# Environment (all optional):
#   N=50000          messages in the mailbox
#   RUNS=5           warm runs per measurement (the median is reported)
#   APPENDS=1000     messages appended in (4)
#   PARTS="sized firstopen"   "sized": (1), (2) and (4); "firstopen": (1f)
#   FIRST_RUNS=3     rounds of (1f) (the median is reported)
#   SKIP_BUILD=1     use the existing build/release
#   KEEP_MAILDIR=1   reuse the Maildirs under $BENCH_ROOT/mail that hold N messages
#   RESULTS=FILE     default bench/imap/RESULTS.md
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ROOT=${BENCH_ROOT:-/tmp/roost-bench-imap}
N=${N:-50000}
RUNS=${RUNS:-5}
APPENDS=${APPENDS:-1000}
PARTS=${PARTS:-"sized firstopen"}
FIRST_RUNS=${FIRST_RUNS:-3}
RESULTS=${RESULTS:-$here/RESULTS.md}
BUILD=$top/build/release
PY=/usr/bin/python3
DC_PORT=${DC_PORT:-14143}
RO_PORT=${RO_PORT:-24143}
USER_NAME=bench
# The user of (1f), whose Maildir has no sizes in its file names.
NS_USER=nosizes
PASS=benchpass

want() { [[ " $PARTS " == *" $1 "* ]]; }

log() { printf '%s [imap-bench] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
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

MAIL=$ROOT/mail/$USER_NAME
NS_MAIL=$ROOT/mail/$NS_USER
if [ -n "${KEEP_MAILDIR:-}" ]; then
	rm -rf "$ROOT"/dovecot "$ROOT"/roost "$ROOT"/bin
	for m in "$MAIL" "$NS_MAIL"; do
		if [ -d "$m/cur" ] && [ "$(find "$m/cur" -type f | wc -l)" = "$N" ]; then
			log "reusing the Maildir in $m"
		else
			rm -rf "$m"
		fi
	done
else
	rm -rf "$ROOT"
fi
mkdir -p "$ROOT"/dovecot/run "$ROOT"/roost/run "$ROOT"/roost/state "$ROOT"/home/$USER_NAME \
	"$ROOT"/home/$NS_USER "$ROOT"/bin "$ROOT"/mail
chmod 755 "$ROOT" "$ROOT"/dovecot "$ROOT"/roost
cc -O2 -o "$ROOT"/bin/imapbench "$here"/imapbench.c
if want sized && [ ! -d "$MAIL/cur" ]; then
	log "writing $N messages into $MAIL"
	$PY "$here"/mkmaildir.py "$MAIL" "$N" "$ROOT"/sample.eml
fi
if want firstopen && [ ! -d "$NS_MAIL/cur" ]; then
	log "writing $N messages without sizes in their names into $NS_MAIL"
	$PY "$here"/mkmaildir.py "$NS_MAIL" "$N" "$ROOT"/sample.eml --no-sizes
fi
[ -f "$ROOT"/sample.eml ] || $PY -c "
import sys; sys.path.insert(0, '$here'); import mkmaildir, random
open('$ROOT/sample.eml', 'wb').write(mkmaildir.message(random.Random(1), 123456).replace('\n', '\r\n').encode())"
chown -R vmail:vmail "$ROOT"/mail "$ROOT"/home
# Both servers distrust a directory changed within the last second or two
# (they rescan it): let the fresh Maildir settle first.
sleep 3

for u in "$USER_NAME" "$NS_USER"; do
	printf '%s:{PLAIN}%s:%d:%d::%s/home/%s::\n' "$u" "$PASS" "$VMAIL_UID" "$VMAIL_GID" \
		"$ROOT" "$u"
done >"$ROOT"/users
chown root:roost "$ROOT"/users
chmod 644 "$ROOT"/users

# Dovecot: its defaults (mail_fsync = optimized, a fresh mail process per
# session), passwd-file, Maildir, IMAP on 127.0.0.1 only.
cat >"$ROOT"/dovecot/dovecot.conf <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $ROOT/dovecot/run
state_dir = $ROOT/dovecot/run
instance_name = dovecot-imap-bench
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
instance_name = roost-imap-bench
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

bench() { # PORT STEP... -> the imapbench lines
	"$ROOT"/bin/imapbench 127.0.0.1 "$1" "$USER_NAME" "$PASS" "${@:2}"
}

# Seconds of the line whose command ends the given text (first match).
secs_of() { awk -F'\t' -v c="$2" 'index($4, c) { print $1; exit }' <<<"$1"; }

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

SEL="SELECT INBOX"
FAST="FETCH 1:* (UID FLAGS RFC822.SIZE)"
ENVBS="FETCH 1:* (ENVELOPE BODYSTRUCTURE)"

measure() { # NAME PORT INDEX_GLOB -> sets cold/warm/env/append figures in NAME_*
	local name=$1 port=$2 glob=$3 out sel fetch i runs_sw="" runs_env="" first_env
	log "$name: cold SELECT + FETCH (index and cache removed)"
	# shellcheck disable=SC2086
	rm -f "$MAIL"/$glob
	out=$(bench "$port" "$SEL" "$FAST")
	sel=$(secs_of "$out" "$SEL")
	fetch=$(secs_of "$out" "$FAST")
	eval "${name}_cold=$(awk -v a="$sel" -v b="$fetch" 'BEGIN { printf "%.4f", a + b }')"
	sleep 2
	log "$name: warm SELECT + FETCH x$RUNS"
	for i in $(seq "$RUNS"); do
		out=$(bench "$port" "$SEL" "$FAST")
		sel=$(secs_of "$out" "$SEL")
		fetch=$(secs_of "$out" "$FAST")
		runs_sw+="$(awk -v a="$sel" -v b="$fetch" 'BEGIN { printf "%.4f", a + b }') "
	done
	eval "${name}_warm=$(tr ' ' '\n' <<<"$runs_sw" | grep . | median)"
	eval "${name}_warm_runs='$runs_sw'"
	log "$name: FETCH ENVELOPE BODYSTRUCTURE: first (fills the cache), then x$RUNS"
	out=$(bench "$port" "$SEL" "$ENVBS")
	first_env=$(secs_of "$out" "$ENVBS")
	eval "${name}_env_first=$first_env"
	# Dovecot caches a field for good once a later session asks again.
	bench "$port" "$SEL" "$ENVBS" >/dev/null
	for i in $(seq "$RUNS"); do
		out=$(bench "$port" "$SEL" "$ENVBS")
		runs_env+="$(secs_of "$out" "$ENVBS") "
	done
	eval "${name}_env=$(tr ' ' '\n' <<<"$runs_env" | grep . | median)"
	eval "${name}_env_runs='$runs_env'"
	grep -q FAILED <<<"$out" && die "$name: a command failed: $out"
	true
}

ratio() { awk -v d="$1" -v r="$2" 'BEGIN { printf "%.2f", (r > 0 ? d / r : 0) }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
# One row of a results table: row LABEL FORMAT DOVECOT ROOST TARGET.
row() { echo "| $1 | $($2 "$3") | $($2 "$4") | $(ratio "$3" "$4") | $5 |"; }

if want sized; then
	rm -rf "$MAIL"/.AppendBench*
	sync
	deleted_at=$(date +%s)
	log "starting Dovecot"
	dovecot -c "$ROOT"/dovecot/dovecot.conf
	wait_port $DC_PORT
	measure dc $DC_PORT 'dovecot.index*'
	stop_all

	log "starting roost"
	"$BUILD"/sbin/roost -c "$ROOT"/roost/roost.conf --defaults "$ROOT"/roost/defaults
	wait_port $RO_PORT
	measure ro $RO_PORT 'roost.index*'

	# (4) APPEND: both servers up, rounds alternating, each into a fresh
	# Maildir++ folder made here (CREATE is not measured). ext4 avoids inodes
	# freed in the last 30 seconds and allocates slowly while many are, so no
	# folder is removed until the end and the first round waits for that.
	dovecot -c "$ROOT"/dovecot/dovecot.conf
	wait_port $DC_PORT
	wait=$((deleted_at + 35 - $(date +%s)))
	[ "$wait" -gt 0 ] && sleep "$wait"
	dc_appends="" ro_appends=""
	for round in 1 2 3; do
		for name in dc ro; do
			port=$DC_PORT
			[ $name = ro ] && port=$RO_PORT
			box=AppendBench$name$round
			mkdir -p "$MAIL/.$box/cur" "$MAIL/.$box/new" "$MAIL/.$box/tmp"
			touch "$MAIL/.$box/maildirfolder"
			chown -R vmail:vmail "$MAIL/.$box"
			sync
			log "$name: $APPENDS APPENDs, round $round"
			out=$(bench "$port" "@append $APPENDS $ROOT/sample.eml $box")
			grep -q FAILED <<<"$out" && die "$name: an APPEND failed: $out"
			eval "${name}_appends+=\"$(secs_of "$out" "APPEND x") \""
		done
	done
	dc_append=$(tr ' ' '\n' <<<"$dc_appends" | grep . | median)
	ro_append=$(tr ' ' '\n' <<<"$ro_appends" | grep . | median)
	stop_all
	rm -rf "$MAIL"/.AppendBench*

	{
		echo "# IMAP message benchmarks: roost vs Dovecot"
		echo
		echo "Measured by \`bench/imap/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPUs,"
		echo "$(dovecot --version | head -1 | sed 's/^/Dovecot /') from Debian, roost $(git -C "$top" rev-parse --short HEAD)."
		echo "One Maildir of $N messages (70 % text/plain, 20 % multipart/alternative,"
		echo "10 % multipart/mixed with a base64 attachment; sizes in the file names),"
		echo "served in turn by each server with its defaults. Times are client-side wall"
		echo "clock from sending the command to its tagged OK (\`imapbench\`), median of $RUNS"
		echo "warm runs. Ratio = Dovecot / roost (above 1: roost is faster)."
		echo
		echo "| measure | Dovecot | roost | ratio | target |"
		echo "|---|---|---|---|---|"
		row "(1) SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE), cold (no index)" ms "$dc_cold" "$ro_cold" "≤ 200 ms"
		row "(1) SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE), warm" ms "$dc_warm" "$ro_warm" "≤ 30 ms"
		row "(2) FETCH 1:* (ENVELOPE BODYSTRUCTURE), first (filling the cache)" ms "$dc_env_first" "$ro_env_first" ""
		row "(2) FETCH 1:* (ENVELOPE BODYSTRUCTURE), warm" ms "$dc_env" "$ro_env" "ratio ≥ 2"
		row "(4) $APPENDS APPENDs, one at a time (median of 3 rounds)" ms "$dc_append" "$ro_append" "ratio ≥ 2"
		echo
		echo "Warm runs (seconds): Dovecot SELECT+FETCH $dc_warm_runs; roost $ro_warm_runs;"
		echo "Dovecot ENVELOPE/BODYSTRUCTURE $dc_env_runs; roost $ro_env_runs;"
		echo "Dovecot APPENDs $dc_appends; roost $ro_appends."
	} >"$RESULTS"
	log "wrote $RESULTS"
	cat "$RESULTS"
fi

# (1f) First open of a Maildir without sizes in its names. Before every
# session each file at the Maildir's top is deleted (dovecot-uidlist,
# dovecot-uidvalidity*, dovecot.index*, roost.index*, dovecot-keywords...);
# cur/ stays as it is. The uidlist goes too: it is shared by both servers,
# and the sizes one of them learnt would be stored in it and spare the
# other the reading.
if want firstopen; then
	first_open() { # NAME PORT CACHE -> appends SELECT+FETCH seconds to NAME_CACHE
		local name=$1 port=$2 cache=$3 out sel fetch
		find "$NS_MAIL" -maxdepth 1 -type f -delete
		sync
		if [ "$cache" = dropped ]; then
			echo 3 >/proc/sys/vm/drop_caches
		else
			find "$NS_MAIL/cur" -type f -print0 | xargs -0 cat >/dev/null
		fi
		log "$name: first open, page cache $cache"
		out=$("$ROOT"/bin/imapbench 127.0.0.1 "$port" "$NS_USER" "$PASS" "$SEL" "$FAST")
		grep -q FAILED <<<"$out" && die "$name: a command failed: $out"
		sel=$(secs_of "$out" "$SEL")
		fetch=$(secs_of "$out" "$FAST")
		eval "${name}_$cache+=\"$(awk -v a="$sel" -v b="$fetch" 'BEGIN { printf "%.4f", a + b }') \""
		eval "${name}_bytes=$(awk -F'\t' -v c="$FAST" 'index($4, c) { print $3; exit }' <<<"$out")"
	}
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	log "starting both servers (load average $load)"
	dovecot -c "$ROOT"/dovecot/dovecot.conf
	"$BUILD"/sbin/roost -c "$ROOT"/roost/roost.conf --defaults "$ROOT"/roost/defaults
	wait_port $DC_PORT
	wait_port $RO_PORT
	dc_dropped="" ro_dropped="" dc_cached="" ro_cached="" dc_second="" ro_second=""
	for round in $(seq "$FIRST_RUNS"); do
		for name in dc ro; do
			port=$DC_PORT
			[ $name = ro ] && port=$RO_PORT
			first_open $name $port dropped
			first_open $name $port cached
			# The same session again: what the first open saved.
			out=$("$ROOT"/bin/imapbench 127.0.0.1 "$port" "$NS_USER" "$PASS" "$SEL" "$FAST")
			eval "${name}_second+=\"$(awk -v a="$(secs_of "$out" "$SEL")" \
				-v b="$(secs_of "$out" "$FAST")" 'BEGIN { printf "%.4f", a + b }') \""
		done
	done
	stop_all
	for v in dc_dropped ro_dropped dc_cached ro_cached dc_second ro_second; do
		eval "${v}_med=$(tr ' ' '\n' <<<"${!v}" | grep . | median)"
	done
	secs() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }
	head="## (1f) First open of a Maildir without sizes in its names"
	{
		echo "$head"
		echo
		echo "Measured by \`PARTS=firstopen bench/imap/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPUs,"
		echo "load average $load at the start, $(dovecot --version | head -1 | sed 's/^/Dovecot /'),"
		echo "roost $(git -C "$top" rev-parse --short HEAD). SELECT INBOX + FETCH 1:* (UID FLAGS"
		echo "RFC822.SIZE) on the same $N messages as above, in a Maildir whose names"
		echo "lack ,S= and ,W= and that has nothing but cur/, new/ and tmp/: before every"
		echo "session, every file at its top is deleted, the shared dovecot-uidlist"
		echo "included (Dovecot stores the sizes it learnt there, which would spare"
		echo "roost the reading). So both servers open it as procmail or maildrop leave"
		echo "it and must read every file to count its lines for RFC822.SIZE. \"Page"
		echo "cache dropped\": \`sync; echo 3 > /proc/sys/vm/drop_caches\` just before the"
		echo "session (files, directories and the servers' own binaries come from the"
		echo "disk); \"files cached\": every file read once just before. \"Second open\":"
		echo "the same session again right after, served from what the first one saved."
		echo "Median of $FIRST_RUNS rounds, the servers taking turns; ratio = Dovecot / roost."
		echo
		echo "| measure | Dovecot | roost | ratio | target |"
		echo "|---|---|---|---|---|"
		row "(1f) first open, page cache dropped" secs "$dc_dropped_med" "$ro_dropped_med" "≤ 2.5 s"
		row "(1f) first open, files cached" secs "$dc_cached_med" "$ro_cached_med" "≤ 2.5 s"
		row "(1f) second open" ms "$dc_second_med" "$ro_second_med" ""
		echo
		echo "Runs (seconds): Dovecot dropped $dc_dropped; cached $dc_cached; second $dc_second;"
		echo "roost dropped $ro_dropped; cached $ro_cached; second $ro_second."
		echo "FETCH response bytes: Dovecot $dc_bytes, roost $ro_bytes."
	} >"$ROOT"/firstopen.md
	# Replace the section in RESULTS (up to the next "## " heading), or add it.
	touch "$RESULTS"
	awk -v sec="$ROOT"/firstopen.md -v head="$head" '
		function put(l) { while ((getline l < sec) > 0) print l; done = 1 }
		$0 == head { put(); skip = 1; next }
		skip && /^## / { skip = 0; print "" }
		!skip { print }
		END { if (!done) { if (NR > 0) print ""; put() } }' "$RESULTS" >"$ROOT"/results.new
	cat "$ROOT"/results.new >"$RESULTS"
	log "wrote the first-open section of $RESULTS"
	cat "$ROOT"/firstopen.md
fi
