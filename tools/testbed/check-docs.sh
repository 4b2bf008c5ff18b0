#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Render Documentation/virt/kvm/memattr/ with Debian's Sphinx (python3-sphinx)
# and fail on any warning.  Prints one line per .rst file, then every
# warning in full.  Exit status: 0 clean, 1 a warning or a file that did not
# render, 2 Sphinx missing.
#
# Sphinx, not plain docutils: index.rst holds the set together with a
# toctree, which docutils does not know; Sphinx parses every file with
# docutils and reports the same warnings, plus a page left out of the set.
# No conf.py (-C): the kernel's own Sphinx extensions are not needed, as the
# pages are plain reST.  Debian's python, not the first python3 on PATH.
#
#   tools/testbed/check-docs.sh [DOC_DIR]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

DOC_DIR=$(cd "${1:-$PROJECT_DIR/Documentation/virt/kvm/memattr}" && pwd) ||
	exit 2
PYTHON=/usr/bin/python3

if ! "$PYTHON" -c 'import sphinx' 2> /dev/null; then
	echo "check-docs: Debian's python3-sphinx is not installed (make deps)" >&2
	exit 2
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# -W: warnings are errors; --keep-going: report them all; -n: also every
# broken reference; -E -a: read and write everything, no cache.
"$PYTHON" -m sphinx -b html -C -D language=en -W --keep-going -n -E -a -q \
	-N -j 1 -d "$out/doctrees" -w "$out/warnings" \
	"$DOC_DIR" "$out/html" > "$out/log" 2>&1
sphinx_rc=$?

rc=0
[ $sphinx_rc -eq 0 ] || rc=1
files=$(cd "$DOC_DIR" && find . -name '*.rst' | sed 's|^\./||' | LC_ALL=C sort)
[ -n "$files" ] || { echo "check-docs: no .rst file in $DOC_DIR"; exit 1; }
for f in $files; do
	n=$(grep -c -F "$DOC_DIR/$f:" "$out/warnings")
	if [ "$n" -gt 0 ]; then
		printf 'FAIL %s: %d warning(s)\n' "${DOC_DIR#"$PROJECT_DIR"/}/$f" "$n"
		rc=1
	elif [ ! -s "$out/html/${f%.rst}.html" ]; then
		printf 'FAIL %s: not rendered\n' "${DOC_DIR#"$PROJECT_DIR"/}/$f"
		rc=1
	else
		printf 'ok   %s\n' "${DOC_DIR#"$PROJECT_DIR"/}/$f"
	fi
done
if [ $rc -ne 0 ]; then
	echo "check-docs: Sphinx $("$PYTHON" -m sphinx --version 2>&1 | awk '{print $2}') (exit $sphinx_rc) said:"
	sed 's/^/  /' "$out/warnings"
	grep -v -F -x -f "$out/warnings" "$out/log" | sed 's/^/  /'
fi
exit $rc
