# SPDX-License-Identifier: GPL-2.0
# Shared settings of the testbed scripts; sourced, never run.

TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_DIR=$(cd "$TESTBED_DIR/../.." && pwd)

# Debian's rustc-web ships rust-src; the rustup toolchain first on PATH does not.
export PATH=/usr/lib/llvm-19/bin:$PATH
BINDGEN=${BINDGEN:-$HOME/.cargo/bin/bindgen}
KBUILD_TOOLCHAIN=(LLVM=1 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc
		  BINDGEN="$BINDGEN")

# Everything built from the kernel lives outside the clone, keyed by what
# goes into it, so that CI and later sessions on this machine reuse it.
CACHE_DIR=${KVM_MEMATTR_CACHE:-$HOME/.cache/kvm-memattr}
KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
PATCH_DIR=$PROJECT_DIR/patches/v6.12
CONFIG_FRAGMENT=$PROJECT_DIR/kernel/kvm_memattr.config
# KERNEL_FLAVOR=debug builds the same kernel with the checkers of
# kvm_memattr-debug.config (KASAN, lockdep, UBSAN, kmemleak...), beside the
# test kernel and from the same patched source.
KERNEL_FLAVOR=${KERNEL_FLAVOR:-}
CONFIG_FRAGMENTS=("$CONFIG_FRAGMENT")
case $KERNEL_FLAVOR in
"")	;;
debug)	CONFIG_FRAGMENTS+=("$PROJECT_DIR/kernel/kvm_memattr-debug.config") ;;
*)	echo "unknown KERNEL_FLAVOR '$KERNEL_FLAVOR'" >&2; exit 1 ;;
esac
FLAVOR_SUFFIX=${KERNEL_FLAVOR:+-$KERNEL_FLAVOR}
JOBS=${JOBS:-$(( $(nproc) + 1 ))}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a named step and report how long it took.
step() {
	local name=$1 start rc; shift
	start=$(date +%s)
	log "$name ..."
	"$@"; rc=$?
	if [ $rc -eq 0 ]; then
		log "$name: done in $(( $(date +%s) - start )) s"
	else
		log "$name: FAILED (rc $rc) after $(( $(date +%s) - start )) s"
	fi
	return $rc
}

# Hash of the kernel source and the toolchain: when it changes, the cached
# kernel is rebuilt from scratch.
toolchain_key() {
	{
		ls -l --time-style=+ "$KERNEL_TARBALL" | awk '{print $5, $NF}'
		dpkg-query -W -f='${Package} ${Version}\n' linux-source-6.12 \
			rustc-web clang-19 2> /dev/null
		"$BINDGEN" --version 2> /dev/null
	} | sha256sum | cut -c1-16
}

# Hash of everything the kernel build depends on: when it changes, the cached
# kernel is rebuilt, incrementally where only the series or config changed.
kernel_key() {
	{
		toolchain_key
		cat "$PATCH_DIR/series"
		while read -r p; do cat "$PATCH_DIR/$p"; done < "$PATCH_DIR/series"
		cat "${CONFIG_FRAGMENTS[@]}"
	} | sha256sum | cut -c1-16
}

# One kernel tree and a build directory per flavor, reused across keys: the
# build records absolute paths, so a stable location keeps rebuilds
# incremental.
KERNEL_DIR=$CACHE_DIR/linux-6.12
KSRC=$KERNEL_DIR/src
KBUILD=$KERNEL_DIR/build$FLAVOR_SUFFIX
KERNEL_KEY_FILE=$KERNEL_DIR/kernel$FLAVOR_SUFFIX.key
KHDRS=$KERNEL_DIR/headers

# Debian 13 ("trixie") sources, for the emulators that Debian 12 has too old
# (build-bochs.sh, build-qemu.sh): through apt with a source list and lists
# directory of our own, leaving the machine's apt sources as they are, or
# straight from the mirror's pool if that fails; pinned by sha256 either way.

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

# sha256_ok SHA256 FILE: FILE is there and has that sha256.
sha256_ok() {
	[ -f "$2" ] && echo "$1  $2" | sha256sum --check --status
}

# trixie_source_apt PACKAGE VERSION FILE OUT APT_DIR: apt-get source with
# trixie's deb-src in a source list of our own under APT_DIR (its log in
# APT_DIR/log), FILE of the source package moved to OUT.  A .dsc that
# answers 404 (bochs) makes apt-get fail although the tarballs are there:
# only FILE's presence counts.
trixie_source_apt() {
	local pkg=$1 version=$2 file=$3 out=$4 apt_dir=$5
	local apt_opts=(-q -o Dir::Etc::sourcelist="$apt_dir/sources.list"
			-o Dir::Etc::sourceparts=- -o Dir::State::Lists="$apt_dir/lists"
			-o Dir::Cache="$apt_dir/cache")
	rm -rf "$apt_dir"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
		"$apt_dir/download"
	echo "deb-src $(debian_mirror) trixie main" > "$apt_dir/sources.list"
	apt-get "${apt_opts[@]}" update > "$apt_dir/log" 2>&1 || return 1
	(cd "$apt_dir/download" &&
	 apt-get "${apt_opts[@]}" source --download-only "$pkg=$version") \
		>> "$apt_dir/log" 2>&1 || true
	[ -f "$apt_dir/download/$file" ] || return 1
	mv "$apt_dir/download/$file" "$out"
}

# trixie_source_pool PACKAGE FILE OUT: FILE straight from the mirror's pool.
trixie_source_pool() {
	local pkg=$1 file=$2 out=$3 dir
	case $pkg in
	lib?*)	dir=${pkg:0:4} ;;
	*)	dir=${pkg:0:1} ;;
	esac
	curl -fsSL -o "$out" "$(debian_mirror)/pool/main/$dir/$pkg/$file"
}

# fetch_trixie_source PACKAGE VERSION FILE SHA256 DEST APT_DIR: FILE of
# Debian 13's source package PACKAGE=VERSION as DEST, which must have the
# pinned SHA256; nothing to do if DEST has it already.
fetch_trixie_source() {
	local pkg=$1 version=$2 file=$3 sha=$4 dest=$5 apt_dir=$6
	if sha256_ok "$sha" "$dest"; then
		log "  $file: already downloaded"
		return
	fi
	mkdir -p "$(dirname "$dest")"
	rm -f "$dest" "$dest.part"
	if ! trixie_source_apt "$pkg" "$version" "$file" "$dest.part" "$apt_dir"; then
		log "  apt-get source failed (see $apt_dir/log): from the pool"
		trixie_source_pool "$pkg" "$file" "$dest.part" || return 1
	fi
	if ! sha256_ok "$sha" "$dest.part"; then
		echo "$file: sha256 $(sha256sum < "$dest.part" | cut -d' ' -f1)," \
		     "not the pinned $sha" >&2
		return 1
	fi
	mv "$dest.part" "$dest"
}

# Bochs 3.0, the Intel testbed's emulator, built from Debian 13's source
# with the project's patches (build-bochs.sh): Debian 12's Bochs is 2.7.
# Installed in a directory per key of its inputs under $BOCHS_CACHE.
BOCHS_DEB_VERSION=3.0+dfsg-1
BOCHS_TARBALL_NAME=bochs_3.0+dfsg.orig.tar.xz
BOCHS_TARBALL_SHA256=78f6c73d4a6472d5130a87ab9dc306d02c7c71ed8e25b3a8ef642e2a7acd282b
BOCHS_PATCH_DIR=$PROJECT_DIR/patches/bochs-3.0
# No GUI and no internal debugger, so no prompt to answer, no plugins; the
# CPU options of Debian's own build (its debian/rules).  No IPS display:
# its SIGALRM handler logs, and deadlocks on the log's mutex when the
# signal lands while Bochs is logging (the stalls README.md describes).
BOCHS_CONFIGURE_FLAGS=(--with-nogui --with-term --disable-debugger
		       --disable-show-ips
		       --disable-docbook --enable-x86-64 --enable-vmx=2
		       --enable-svm --enable-cpu-level=6 --enable-smp
		       --enable-avx --enable-evex --enable-cet --enable-pci
		       --enable-a20-pin --enable-all-optimizations
		       --enable-protection-keys --enable-memtype --enable-fpu
		       --enable-repeat-speedups)
BOCHS_CACHE=$CACHE_DIR/bochs-3.0

# apply_patch_series DIR TREE: the patches that DIR/series lists, in order,
# to the source tree TREE.
apply_patch_series() {
	local p
	while read -r p; do
		log "  applying $p"
		patch -d "$2" -p1 --quiet --forward < "$1/$p"
	done < "$1/series"
}

# Hash of everything the Bochs build depends on: the source tarball, the
# patches, the configure flags, the build script and the compiler.  Any
# change builds Bochs anew, in a directory of its own.
bochs_key() {
	local p
	{
		echo "$BOCHS_TARBALL_SHA256"
		cat "$BOCHS_PATCH_DIR/series"
		while read -r p; do
			cat "$BOCHS_PATCH_DIR/$p"
		done < "$BOCHS_PATCH_DIR/series"
		printf '%s\n' "${BOCHS_CONFIGURE_FLAGS[@]}"
		cat "$TESTBED_DIR/build-bochs.sh"
		g++ -dumpfullversion 2> /dev/null || true
	} | sha256sum | cut -c1-16
}

# The bochs binary of the current key (build-bochs.sh builds it).
bochs_bin() {
	echo "$BOCHS_CACHE/$(bochs_key)/bin/bochs"
}

# QEMU 10.0, the VMM that the tests run inside the test guest, built from
# Debian 13's source with the project's series (build-qemu.sh): Debian 12's
# QEMU 7.2 does not know KVM_EXIT_MEMORY_FAULT.  Static, x86_64-softmmu with
# KVM only, the devices of qemu-devices.mak; installed in a directory per key
# of its inputs under $QEMU_CACHE.
QEMU_DEB_VERSION=1:10.0.13+ds-0+deb13u1
QEMU_TARBALL_NAME=qemu_10.0.13+ds.orig.tar.xz
QEMU_TARBALL_SHA256=6a0888e806c2ffc0c5f0733e974f9aea55491950d3c47c98669c8b236dde59ae
QEMU_PATCH_DIR=$PROJECT_DIR/patches/qemu-10.0
QEMU_DEVICES=$TESTBED_DIR/qemu-devices.mak
# Debian's +ds repack drops python/wheels, which configure installs its
# meson group from (meson >= 1.5, Debian 12 has 1.0.1; pycotap): the
# wheels upstream ships, from PyPI, as NAME=SHA256.
QEMU_WHEELS=(
	meson==1.5.0=52b34f4903b882df52ad0d533146d4b992c018ea77399f825579737672ae7b20
	pycotap==1.3.1=1c3a25b3ff89e48f4e00f1f71dbbc1642b4f65c65d416524d07e73492fff25ea
)
# configure finds a device file by name under configs/devices/TARGET/:
# build-qemu.sh copies qemu-devices.mak there as kvm-memattr.mak.  Another
# python3 comes first on PATH on some machines: name Debian's.
QEMU_CONFIGURE_FLAGS=(--python=/usr/bin/python3 --static
		      --target-list=x86_64-softmmu
		      --without-default-features --without-default-devices
		      --with-devices-x86_64=kvm-memattr
		      --enable-kvm --disable-tcg --enable-fdt=system
		      --disable-docs --disable-tools --disable-guest-agent
		      --disable-user --disable-install-blobs
		      --disable-debug-info --disable-download)
QEMU_CACHE=$CACHE_DIR/qemu-10.0

# Hash of everything the QEMU build depends on: the source tarball, the
# wheels, the series, the configure flags, the devices, the build script,
# and the compiler and the libraries linked in statically.  Any change
# builds QEMU anew, in a directory of its own.
qemu_key() {
	local p
	{
		echo "$QEMU_TARBALL_SHA256"
		printf '%s\n' "${QEMU_WHEELS[@]}"
		cat "$QEMU_PATCH_DIR/series"
		while read -r p; do
			cat "$QEMU_PATCH_DIR/$p"
		done < "$QEMU_PATCH_DIR/series"
		printf '%s\n' "${QEMU_CONFIGURE_FLAGS[@]}"
		cat "$QEMU_DEVICES"
		cat "$TESTBED_DIR/build-qemu.sh"
		gcc -dumpfullversion 2> /dev/null || true
		dpkg-query -W -f='${Package} ${Version}\n' libc6-dev \
			libglib2.0-dev libpcre2-dev libfdt-dev zlib1g-dev \
			ninja-build python3 2> /dev/null || true
	} | sha256sum | cut -c1-16
}

# The qemu-system-x86_64 of the current key (build-qemu.sh builds it).
qemu_bin() {
	echo "$QEMU_CACHE/$(qemu_key)/bin/qemu-system-x86_64"
}

# What the project builds itself lives in the clone, under build/.
OUT_DIR=${OUT_DIR:-$PROJECT_DIR/build}
SELFTESTS_OUT=$OUT_DIR/selftests
HDRS_OUT=$OUT_DIR/usr/include
# The test kernel's module builds in the clone, as kbuild does; another
# flavor's builds from a copy of the sources under build/.
if [ -z "$KERNEL_FLAVOR" ]; then
	MODULE_DIR=$PROJECT_DIR
else
	MODULE_DIR=$OUT_DIR/module$FLAVOR_SUFFIX
fi
MODULE_KO=$MODULE_DIR/rust/kvm_memattr/kvm_memattr.ko
INITRAMFS=$OUT_DIR/initramfs$FLAVOR_SUFFIX.cpio.gz
TESTS_LIST=$TESTBED_DIR/tests.list

DEMO_BINARY=x86_64/kvm_memattr_demo
BENCH_BINARY=x86_64/kvm_memattr_bench

# Selftest binaries the guest needs: the first word of every command of the
# suite, the demo and the benchmarks.
guest_binaries() {
	{
		grep -Ev '^[[:space:]]*(#|$)' "$TESTS_LIST" | awk '{print $4}'
		echo "$DEMO_BINARY"
		echo "$BENCH_BINARY"
	} | sort -u
}
