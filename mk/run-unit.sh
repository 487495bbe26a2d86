#!/bin/sh
# Runs every cmocka unit test program of a build variant; fails on the first
# failing program but reports each.
set -u
dir=${1:?usage: run-unit.sh BUILD_DIR}/tests
fail=0
for t in "$dir"/test-*; do
	[ -x "$t" ] || continue
	if ! out=$("$t" 2>&1); then
		printf '%s\n' "$out"
		echo "unit: FAILED: $t"
		fail=1
	else
		printf 'unit: ok  %s (%s)\n' "${t##*/}" "$(printf '%s\n' "$out" | grep -c '^\[       OK \]')"
	fi
done
exit $fail
