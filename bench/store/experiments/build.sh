#!/bin/bash
# Builds the experiment measured in bench/store/README.md ("Experiments")
# outside the source tree: a copy of HEAD with the patches of this folder
# applied, built with `make release`. The patches are measured prototypes,
# not merged code: the lead decides what goes into storage/ and pop3/.
#
# usage: bench/store/experiments/build.sh [DEST]      (default /tmp/roost-store-exp)
# then:  ROOST_BUILD=DEST/build/release RESULTS=bench/store/RESULTS-experiment.md \
#            bench/store/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
dest=${1:-/tmp/roost-store-exp}

rm -rf "$dest"
mkdir -p "$dest"
git -C "$top" archive HEAD | tar -x -C "$dest"
for p in "$here"/0*.patch; do
	patch -d "$dest" -p1 -s <"$p"
done
make -C "$dest" release >/dev/null
echo "built $dest/build/release (patches: $(cd "$here" && echo 0*.patch))"
