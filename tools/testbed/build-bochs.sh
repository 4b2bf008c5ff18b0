#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build Bochs 3.0, the Intel testbed's emulator, from Debian 13's source
# (bochs 3.0+dfsg-1; Debian 12 has 2.7) with the project's patches
# (patches/bochs-3.0/series), without GUI or internal debugger.
#
# The source tarball comes through apt with a private source list and lists
# directory, leaving the machine's apt sources as they are, or straight from
# the mirror's pool if that fails, and must match its pinned sha256
# (fetch_trixie_source in lib.sh).  The bochs binary is installed in
# $BOCHS_CACHE/KEY, KEY the hash of its inputs (bochs_key in lib.sh): the
# same key does nothing, a new one builds from scratch.  Prints the path of the binary; run-vm.sh finds it with bochs_bin.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEY=$(bochs_key)
PREFIX=$BOCHS_CACHE/$KEY
BOCHS=$PREFIX/bin/bochs
TARBALL=$BOCHS_CACHE/$BOCHS_TARBALL_NAME
WORK=$BOCHS_CACHE/work
SRC=$WORK/bochs-3.0
APT_DIR=$WORK/apt

fetch() {
	fetch_trixie_source bochs "$BOCHS_DEB_VERSION" "$BOCHS_TARBALL_NAME" \
		"$BOCHS_TARBALL_SHA256" "$TARBALL" "$APT_DIR"
}

unpack() {
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xf "$TARBALL" -C "$SRC" --strip-components=1
}

# run_logged LOG COMMAND...: in $SRC, the output to LOG, its end shown on
# failure.
run_logged() {
	local out=$WORK/$1; shift
	if ! (cd "$SRC" && "$@") > "$out" 2>&1; then
		tail -n 40 "$out" >&2
		echo "(all of it in $out)" >&2
		return 1
	fi
}

configure() {
	run_logged configure.log ./configure CC=gcc CXX=g++ \
		"${BOCHS_CONFIGURE_FLAGS[@]}"
}

build() {
	run_logged make.log make -j2 bochs
}

# The binary is all it needs at run time: it has no plugins, and run-vm.sh
# takes the BIOS and VGA BIOS from Debian 12's bochsbios and vgabios.
install_bochs() {
	rm -rf "$PREFIX.tmp"
	mkdir -p "$PREFIX.tmp/bin"
	install -m 755 "$SRC/bochs" "$PREFIX.tmp/bin/bochs"
	cp -r "$BOCHS_PATCH_DIR" "$PREFIX.tmp/patches"
	printf '%s\n' "${BOCHS_CONFIGURE_FLAGS[@]}" > "$PREFIX.tmp/configure-flags"
	cp "$WORK/configure.log" "$WORK/make.log" "$PREFIX.tmp/"
	rm -rf "$PREFIX"
	mv "$PREFIX.tmp" "$PREFIX"
	rm -rf "$SRC"
}

if [ -x "$BOCHS" ]; then
	log "bochs: cached build in $PREFIX (key $KEY)"
	echo "$BOCHS"
	exit 0
fi

mkdir -p "$WORK"
step "fetch $BOCHS_TARBALL_NAME ($BOCHS_DEB_VERSION, Debian 13)" fetch
step "unpack Bochs 3.0" unpack
step "apply patches/bochs-3.0/series" apply_patch_series "$BOCHS_PATCH_DIR" "$SRC"
step "configure Bochs" configure
log "compiler: $(g++ --version | head -1)"
step "build Bochs (-j2)" build
step "install Bochs in $PREFIX" install_bochs
log "bochs: $BOCHS (key $KEY)"
echo "$BOCHS"
