#!/bin/sh
# Runs every libFuzzer harness briefly over its seed corpus (fuzz/corpus/NAME)
# to prove it builds, loads its seeds and survives a few seconds of mutation.
set -u
dir=${1:?usage: fuzz-smoke.sh BUILD_DIR SECONDS}/fuzz
secs=${2:-5}
fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$dir"/fuzz-*; do
	[ -x "$f" ] || continue
	name=${f##*/fuzz-}
	seeds=fuzz/corpus/$name
	mkdir -p "$work/$name"
	if [ -d "$seeds" ]; then cp -r "$seeds"/. "$work/$name"/; fi
	if "$f" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
		"$work/$name" >"$work/$name.log" 2>&1; then
		echo "fuzz: ok  $name ($(grep -o 'DONE.*' "$work/$name.log" | head -1))"
	else
		tail -40 "$work/$name.log"
		echo "fuzz: FAILED: $name"
		fail=1
	fi
done
exit $fail
