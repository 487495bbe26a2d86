#!/bin/sh
# Style checks run by `make check`: clang-format conformance and the ban on
# unbounded string functions outside lib/ (STYLE.md rule 5).
set -u
cd "$(dirname "$0")/.." || exit 1
fail=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
if [ -n "$files" ]; then
	if ! clang-format --dry-run -Werror $files >/dev/null 2>&1; then
		clang-format --dry-run -Werror $files 2>&1 | grep -E '^[^ ].*warning' | head -20
		echo "style: clang-format differences (run: make format)"
		fail=1
	fi
fi
banned='\<(strcpy|strcat|sprintf|vsprintf|gets|strtok|stpcpy|wcscpy)[[:space:]]*\('
hits=$(printf '%s\n' $files | grep -v '^lib/' | xargs -r grep -nE "$banned" /dev/null)
if [ -n "$hits" ]; then
	printf '%s\n' "$hits"
	echo "style: unbounded string functions outside lib/ (use lib/buf.h)"
	fail=1
fi
hits=$(printf '%s\n' $files | grep '^lib/' | xargs -r grep -nE "$banned" /dev/null)
if [ -n "$hits" ]; then
	printf '%s\n' "$hits"
	echo "style: unbounded string functions in lib/"
	fail=1
fi
if ! mandoc -Tlint -Wwarning docs/*.[1-8] >/dev/null 2>&1; then
	mandoc -Tlint -Wwarning docs/*.[1-8]
	echo "style: man page warnings (mandoc -Tlint)"
	fail=1
fi
[ $fail = 0 ] && echo "style: ok"
exit $fail
