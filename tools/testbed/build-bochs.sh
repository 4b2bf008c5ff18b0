#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build Bochs 3.0, the Intel testbed's emulator, from Debian 13's source
# (bochs 3.0+dfsg-1; Debian 12 has 2.7) with the project's patches
# (patches/bochs-3.0/series), without GUI or internal debugger.
#
# The source tarball comes through apt with a private source list and lists
# directory, leaving the machine's apt sources as they are, or straight from
# the mirror's pool if that fails, and must match its pinned sha256.  The
# bochs binary is installed in $BOCHS_CACHE/KEY, KEY the hash of its inputs
# (bochs_key in lib.sh): the same key does nothing, a new one builds from
# scratch.  Prints the path of the binary; run-vm.sh finds it with bochs_bin.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEY=$(bochs_key)
PREFIX=$BOCHS_CACHE/$KEY
BOCHS=$PREFIX/bin/bochs
TARBALL=$BOCHS_CACHE/$BOCHS_TARBALL_NAME
WORK=$BOCHS_CACHE/work
SRC=$WORK/bochs-3.0
APT_DIR=$WORK/apt

# The Debian mirror this machine's apt uses (DEBIAN_MIRROR overrides it).
debian_mirror() {
	local uri=${DEBIAN_MIRROR:-}
	if [ -z "$uri" ]; then
		# shellcheck disable=SC2016 # apt's format, not the shell's
		uri=$(apt-get indextargets --format '$(REPO_URI)' 2> /dev/null |
			grep -m1 -E '/debian/?$' || true)
	fi
	uri=${uri:-http://deb.debian.org/debian}
	echo "${uri%/}"
}

# apt-get source with trixie's deb-src in a source list of our own: the .dsc
# answers 404, so apt-get fails although the tarballs are downloaded.
fetch_with_apt() {
	local apt_opts=(-q -o Dir::Etc::sourcelist="$APT_DIR/sources.list"
			-o Dir::Etc::sourceparts=- -o Dir::State::Lists="$APT_DIR/lists"
			-o Dir::Cache="$APT_DIR/cache")
	rm -rf "$APT_DIR"
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" \
		"$APT_DIR/download"
	echo "deb-src $(debian_mirror) trixie main" > "$APT_DIR/sources.list"
	apt-get "${apt_opts[@]}" update > "$APT_DIR/log" 2>&1 || return 1
	(cd "$APT_DIR/download" &&
	 apt-get "${apt_opts[@]}" source --download-only "bochs=$BOCHS_DEB_VERSION") \
		>> "$APT_DIR/log" 2>&1 || true
	[ -f "$APT_DIR/download/$BOCHS_TARBALL_NAME" ] || return 1
	mv "$APT_DIR/download/$BOCHS_TARBALL_NAME" "$TARBALL.part"
}

fetch_from_pool() {
	curl -fsSL -o "$TARBALL.part" \
		"$(debian_mirror)/pool/main/b/bochs/$BOCHS_TARBALL_NAME"
}

sha256_ok() {
	echo "$BOCHS_TARBALL_SHA256  $1" | sha256sum --check --status
}

fetch() {
	if [ -f "$TARBALL" ] && sha256_ok "$TARBALL"; then
		log "  $BOCHS_TARBALL_NAME: already downloaded"
		return
	fi
	mkdir -p "$BOCHS_CACHE"
	rm -f "$TARBALL" "$TARBALL.part"
	if ! fetch_with_apt; then
		log "  apt-get source failed (see $APT_DIR/log): from the pool"
		fetch_from_pool || return 1
	fi
	if ! sha256_ok "$TARBALL.part"; then
		echo "$BOCHS_TARBALL_NAME: sha256 $(sha256sum < "$TARBALL.part" | cut -d' ' -f1)," \
		     "not the pinned $BOCHS_TARBALL_SHA256" >&2
		return 1
	fi
	mv "$TARBALL.part" "$TARBALL"
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
