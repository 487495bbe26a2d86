#!/bin/bash
# IMAP message benchmarks of issue 5, roost and Debian's Dovecot 2.3 side by
# side on the same Maildir, in one run on this machine:
#   (1) SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE) on N messages, cold (the
#       server's own index and cache removed) and warm;
#   (2) FETCH 1:* (ENVELOPE BODYSTRUCTURE), warm (after one run has filled
#       each server's cache);
#   (4) 1,000 APPENDs, one at a time with synchronizing literals (three
#       rounds, the servers taking turns).
# Writes every figure and the Dovecot/roost ratios (above 1: roost is
# faster) to bench/imap/RESULTS.md. Runs as root; scratch directory
# $BENCH_ROOT (default /tmp/roost-bench-imap), deleted and re-created.
#
# Environment (all optional):
#   N=50000          messages in the mailbox
#   RUNS=5           warm runs per measurement (the median is reported)
#   APPENDS=1000     messages appended in (4)
#   SKIP_BUILD=1     use the existing build/release
#   KEEP_MAILDIR=1   reuse $BENCH_ROOT/mail if it holds N messages
#   RESULTS=FILE     default bench/imap/RESULTS.md
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ROOT=${BENCH_ROOT:-/tmp/roost-bench-imap}
N=${N:-50000}
RUNS=${RUNS:-5}
APPENDS=${APPENDS:-1000}
RESULTS=${RESULTS:-$here/RESULTS.md}
BUILD=$top/build/release
PY=/usr/bin/python3
DC_PORT=${DC_PORT:-14143}
RO_PORT=${RO_PORT:-24143}
USER_NAME=bench
PASS=benchpass

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
if [ -n "${KEEP_MAILDIR:-}" ] && [ -d "$MAIL/cur" ] &&
	[ "$(find "$MAIL/cur" -type f | wc -l)" = "$N" ]; then
	log "reusing the Maildir in $MAIL"
	rm -rf "$ROOT"/dovecot "$ROOT"/roost "$ROOT"/bin
else
	rm -rf "$ROOT"
fi
mkdir -p "$ROOT"/dovecot/run "$ROOT"/roost/run "$ROOT"/roost/state "$ROOT"/home/$USER_NAME \
	"$ROOT"/bin "$ROOT"/mail
chmod 755 "$ROOT" "$ROOT"/dovecot "$ROOT"/roost
cc -O2 -o "$ROOT"/bin/imapbench "$here"/imapbench.c
if [ ! -d "$MAIL/cur" ]; then
	log "writing $N messages into $MAIL"
	$PY "$here"/mkmaildir.py "$MAIL" "$N" "$ROOT"/sample.eml
fi
[ -f "$ROOT"/sample.eml ] || $PY -c "
import sys; sys.path.insert(0, '$here'); import mkmaildir, random
open('$ROOT/sample.eml', 'wb').write(mkmaildir.message(random.Random(1), 123456).replace('\n', '\r\n').encode())"
chown -R vmail:vmail "$ROOT"/mail "$ROOT"/home
# Both servers distrust a directory changed within the last second or two
# (they rescan it): let the fresh Maildir settle first.
sleep 3

printf '%s:{PLAIN}%s:%d:%d::%s/home/%s::\n' "$USER_NAME" "$PASS" "$VMAIL_UID" "$VMAIL_GID" \
	"$ROOT" "$USER_NAME" >"$ROOT"/users
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

ratio() { awk -v d="$1" -v r="$2" 'BEGIN { printf "%.2f", (r > 0 ? d / r : 0) }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
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
	echo "| (1) SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE), cold (no index) | $(ms "$dc_cold") | $(ms "$ro_cold") | $(ratio "$dc_cold" "$ro_cold") | ≤ 200 ms |"
	echo "| (1) SELECT + FETCH 1:* (UID FLAGS RFC822.SIZE), warm | $(ms "$dc_warm") | $(ms "$ro_warm") | $(ratio "$dc_warm" "$ro_warm") | ≤ 30 ms |"
	echo "| (2) FETCH 1:* (ENVELOPE BODYSTRUCTURE), first (filling the cache) | $(ms "$dc_env_first") | $(ms "$ro_env_first") | $(ratio "$dc_env_first" "$ro_env_first") | |"
	echo "| (2) FETCH 1:* (ENVELOPE BODYSTRUCTURE), warm | $(ms "$dc_env") | $(ms "$ro_env") | $(ratio "$dc_env" "$ro_env") | ratio ≥ 2 |"
	echo "| (4) $APPENDS APPENDs, one at a time (median of 3 rounds) | $(ms "$dc_append") | $(ms "$ro_append") | $(ratio "$dc_append" "$ro_append") | ratio ≥ 2 |"
	echo
	echo "Warm runs (seconds): Dovecot SELECT+FETCH $dc_warm_runs; roost $ro_warm_runs;"
	echo "Dovecot ENVELOPE/BODYSTRUCTURE $dc_env_runs; roost $ro_env_runs;"
	echo "Dovecot APPENDs $dc_appends; roost $ro_appends."
} >"$RESULTS"
log "wrote $RESULTS"
cat "$RESULTS"
