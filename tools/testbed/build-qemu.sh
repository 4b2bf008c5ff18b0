#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build QEMU 10.0, the VMM that the tests run inside the test guest, from
# Debian 13's source (qemu 1:10.0.13+ds-0+deb13u1) with the project's series
# (patches/qemu-10.0/series): a static qemu-system-x86_64 with KVM only and
# the devices of qemu-devices.mak.  Debian's own packaging patches are not
# applied.
#
# The source tarball comes as Bochs' does (fetch_trixie_source in lib.sh),
# pinned by sha256; the wheels that Debian's repack drops come from PyPI
# through pip, pinned too.  The pristine tree is committed to a git
# repository of its own and the series applied with git am, so that a patch
# that does not apply stops the build.  The binary is installed in
# $QEMU_CACHE/KEY, KEY the hash of its inputs (qemu_key in lib.sh): the same
# key does nothing, a new one builds from scratch.  Prints the path of the
# binary; qemu_bin finds it.
#
# QEMU_JOBS sets ninja's parallelism (default 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEY=$(qemu_key)
PREFIX=$QEMU_CACHE/$KEY
QEMU=$PREFIX/bin/qemu-system-x86_64
TARBALL=$QEMU_CACHE/$QEMU_TARBALL_NAME
WHEEL_DIR=$QEMU_CACHE/wheels
WORK=$QEMU_CACHE/work
SRC=$WORK/qemu-10.0
BUILD=$SRC/build
APT_DIR=$WORK/apt
QEMU_JOBS=${QEMU_JOBS:-2}
GIT_ID=(-c user.name="kvm-memattr build" -c user.email=kvm-memattr@localhost)

fetch() {
	fetch_trixie_source qemu "$QEMU_DEB_VERSION" "$QEMU_TARBALL_NAME" \
		"$QEMU_TARBALL_SHA256" "$TARBALL" "$APT_DIR"
}

# fetch_wheel SPEC SHA256: the wheel of SPEC (NAME==VERSION) from PyPI into
# $WHEEL_DIR, unless a wheel with that sha256 is there.
fetch_wheel() {
	local spec=$1 sha=$2 name=${1%%==*} version=${1##*==} tmp whl
	whl=$WHEEL_DIR/$name-$version-py3-none-any.whl
	if sha256_ok "$sha" "$whl"; then
		log "  $(basename "$whl"): already downloaded"
		return
	fi
	tmp=$(mktemp -d "$WORK/wheel.XXXXXX")
	/usr/bin/python3 -m pip download -q --no-deps --only-binary=:all: \
		--dest "$tmp" "$spec" >&2 || { rm -rf "$tmp"; return 1; }
	if ! sha256_ok "$sha" "$tmp/$(basename "$whl")"; then
		echo "$spec: no wheel with the pinned sha256 $sha" >&2
		ls -l "$tmp" >&2
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "$WHEEL_DIR"
	mv "$tmp/$(basename "$whl")" "$whl"
	rm -rf "$tmp"
}

fetch_wheels() {
	local w
	for w in "${QEMU_WHEELS[@]}"; do
		fetch_wheel "${w%=*}" "${w##*=}"
	done
}

# The pristine tree, committed, so that git am applies the series on it.
unpack() {
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xf "$TARBALL" -C "$SRC" --strip-components=1
	git -C "$SRC" init -q
	git -C "$SRC" add -A -f
	git -C "$SRC" "${GIT_ID[@]}" commit -q -m "QEMU $QEMU_DEB_VERSION ($QEMU_TARBALL_NAME)"
}

apply_series() {
	local p
	while read -r p; do
		log "  applying $p"
		git -C "$SRC" "${GIT_ID[@]}" am -q "$QEMU_PATCH_DIR/$p"
	done < "$QEMU_PATCH_DIR/series"
}

# What the build needs beside the series, left out of git: the wheels, the
# devices file where configure looks for it, and empty stand-ins for the
# EDK2 images that Debian's repack drops but pc-bios/meson.build names (they
# are unpacked only for a full build, never for qemu-system-x86_64).
prepare() {
	local w f
	mkdir -p "$SRC/python/wheels"
	for w in "${QEMU_WHEELS[@]}"; do
		w=${w%=*}
		cp "$WHEEL_DIR/${w%%==*}-${w##*==}-py3-none-any.whl" "$SRC/python/wheels/"
	done
	cp "$QEMU_DEVICES" "$SRC/configs/devices/x86_64-softmmu/kvm-memattr.mak"
	sed -n "s/^ *'\(edk2-[^']*\.fd\)',\$/\1/p" "$SRC/pc-bios/meson.build" |
	while read -r f; do
		[ -e "$SRC/pc-bios/$f.bz2" ] || : > "$SRC/pc-bios/$f.bz2"
	done
}

# run_logged LOG DIR COMMAND...: in DIR, the output to LOG, its end shown on
# failure.
run_logged() {
	local out=$WORK/$1 dir=$2; shift 2
	if ! (cd "$dir" && "$@") > "$out" 2>&1; then
		tail -n 40 "$out" >&2
		echo "(all of it in $out)" >&2
		return 1
	fi
}

configure() {
	mkdir -p "$BUILD"
	run_logged configure.log "$BUILD" ../configure "${QEMU_CONFIGURE_FLAGS[@]}"
}

build() {
	run_logged ninja.log "$BUILD" ninja -j"$QEMU_JOBS" qemu-system-x86_64
}

# The static binary is all it needs: the tests' guests take no firmware
# from QEMU (-bios FLAT, no option ROMs).
install_qemu() {
	rm -rf "$PREFIX.tmp"
	mkdir -p "$PREFIX.tmp/bin"
	install -m 755 "$BUILD/qemu-system-x86_64" "$PREFIX.tmp/bin/"
	cp -r "$QEMU_PATCH_DIR" "$PREFIX.tmp/patches"
	printf '%s\n' "${QEMU_CONFIGURE_FLAGS[@]}" > "$PREFIX.tmp/configure-flags"
	cp "$QEMU_DEVICES" "$PREFIX.tmp/"
	cp "$WORK/configure.log" "$WORK/ninja.log" "$PREFIX.tmp/"
	rm -rf "$PREFIX"
	mv "$PREFIX.tmp" "$PREFIX"
	rm -rf "$SRC"
}

if [ -x "$QEMU" ]; then
	log "qemu: cached build in $PREFIX (key $KEY)"
	echo "$QEMU"
	exit 0
fi

mkdir -p "$WORK"
step "fetch $QEMU_TARBALL_NAME ($QEMU_DEB_VERSION, Debian 13)" fetch
step "fetch the meson wheels from PyPI" fetch_wheels
step "unpack QEMU 10.0 into a git tree" unpack
step "git am patches/qemu-10.0/series" apply_series
step "add the wheels and the devices file" prepare
step "configure QEMU" configure
log "compiler: $(gcc --version | head -1)"
step "build qemu-system-x86_64 (-j$QEMU_JOBS)" build
step "install QEMU in $PREFIX" install_qemu
log "qemu: $QEMU (key $KEY)"
echo "$QEMU"
