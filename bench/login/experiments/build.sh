#!/bin/bash
# Builds the measured experiment of bench/login/README.md ("What the cheap
# fixes buy") outside the source tree: a copy of HEAD with the patches in
# this folder, plus roost-imap and roost-pop3 re-linked as static PIE. The
# patches are measurement prototypes, not reviewed code: the lead decides.
#
# usage: bench/login/experiments/build.sh [DEST]      (default /tmp/roost-exp)
# then:  ROOST_BUILD=DEST/build/release bench/login/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
dest=${1:-/tmp/roost-exp}

rm -rf "$dest"
mkdir -p "$dest"
git -C "$top" archive HEAD | tar -x -C "$dest"
for p in "$here"/0*.patch; do
	patch -d "$dest" -p1 -s <"$p"
done
make -C "$dest" release >/dev/null
b=$dest/build/release
for p in imap pop3; do
	# Same objects and libraries, linked statically: no ld.so work per session.
	gcc -static-pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -o "$b/libexec/roost/roost-$p" \
		"$b"/obj/$p/*.o -Wl,--start-group "$b/libroost.a" "$b/libstorage.a" -Wl,--end-group \
		-lseccomp -lcap 2>&1 | grep -v "warning: Using 'get" || true
done
echo "built $b (roost-imap, roost-pop3 static PIE; patches: $(cd "$here" && echo 0*.patch))"
