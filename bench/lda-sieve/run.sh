#!/bin/bash
# Delivery benchmark with Sieve: roost-lda against Debian's dovecot-lda with
# Pigeonhole (dovecot-sieve), same scripts, same messages, same machine, one
# run; writes bench/lda-sieve/RESULTS.md. Runs as root (it starts a private
# roost and a private Dovecot for their userdb lookups) and is never part of
# make check.
#
# Environment (all optional):
#   N=2000            messages per run
#   RUNS=3            runs (each server in turn, medians reported)
#   PARALLEL=1,4      deliveries at once, comma-separated
#   MAIL_FSYNC=never  mail_fsync for both servers (default: each one's own)
#   SKIP_BUILD=1      use the existing build/release
#   RESULTS=FILE      where to write the table (default bench/lda-sieve/RESULTS.md)
#   NOTE=TEXT         a paragraph for the top of the results file
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
log() { printf '%s [run.sh] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ "$(id -u)" = 0 ] || { log "error: run as root"; exit 1; }
if [ ! -x /usr/lib/dovecot/dovecot-lda ] || ! command -v sievec >/dev/null ||
	[ ! -x /usr/bin/time ]; then
	log "installing dovecot-core dovecot-sieve time"
	DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-core dovecot-sieve time >/dev/null
fi
if [ -z "${SKIP_BUILD:-}" ]; then
	log "building roost (make release)"
	make -C "$top" release >/dev/null
fi
args=(--n "${N:-2000}" --runs "${RUNS:-3}" --parallel "${PARALLEL:-1,4}"
	--results "${RESULTS:-$here/RESULTS.md}" --build "$top/build/release")
[ -n "${MAIL_FSYNC:-}" ] && args+=(--mail-fsync "$MAIL_FSYNC")
[ -n "${NOTE:-}" ] && args+=(--note "$NOTE")
exec /usr/bin/python3 "$here/bench.py" "${args[@]}"
