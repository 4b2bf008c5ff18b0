#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unpack linux-source-6.12, apply the hook series, configure from the
# fragments and build bzImage, modules and uAPI headers, out of tree (O=).
# KERNEL_FLAVOR=debug builds the debug kernel from the same source tree.
#
# The result is cached under $KERNEL_DIR with the key of its inputs: the same
# key does nothing; a new series re-patches the tree in place and a new
# config reconfigures, and either rebuilds incrementally; a new source
# tarball or toolchain starts over.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

APPLIED=$KERNEL_DIR/applied

print_versions() {
	log "kernel: $(make -s -C "$KSRC" O="$KBUILD" kernelversion)" \
	    "(linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12))"
	log "toolchain: $(clang --version | head -1); $(/usr/bin/rustc --version);" \
	    "$("$BINDGEN" --version)"
}

unpack() {
	rm -rf "$KERNEL_DIR"
	mkdir -p "$KSRC"
	tar -xf "$KERNEL_TARBALL" -C "$KSRC" --strip-components=1
	toolchain_key > "$KERNEL_DIR/toolchain.key"
}

# Take the previously applied series out again, newest first.
unapply_series() {
	local p
	for p in $(tac "$APPLIED/series"); do
		patch -d "$KSRC" -p1 -R --quiet < "$APPLIED/$p" || return 1
	done
	rm -rf "$APPLIED"
}

apply_series() {
	apply_patch_series "$PATCH_DIR" "$KSRC"
	cp -r "$PATCH_DIR" "$APPLIED"
}

configure() {
	local opt missing=0
	make -s -C "$KSRC" O="$KBUILD" "${KBUILD_TOOLCHAIN[@]}" tinyconfig
	"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KBUILD" \
		"$KBUILD/.config" "${CONFIG_FRAGMENTS[@]}" \
		> "$KBUILD/merge_config.log"
	make -s -C "$KSRC" O="$KBUILD" "${KBUILD_TOOLCHAIN[@]}" olddefconfig
	# olddefconfig silently drops what a dependency forbids: refuse that.
	while read -r opt; do
		if [ "${opt#*=}" = n ]; then
			! grep -q "^${opt%=n}=" "$KBUILD/.config" && continue
		elif grep -qx "$opt" "$KBUILD/.config"; then
			continue
		fi
		echo "config: '$opt' requested but not set" >&2
		missing=1
	done < <(grep -hE '^CONFIG_' "${CONFIG_FRAGMENTS[@]}")
	return $missing
}

build() {
	make -s -C "$KSRC" O="$KBUILD" "${KBUILD_TOOLCHAIN[@]}" -j"$JOBS" \
		bzImage modules
	rm -rf "$KHDRS"
	make -s -C "$KSRC" O="$KBUILD" "${KBUILD_TOOLCHAIN[@]}" \
		headers_install INSTALL_HDR_PATH="$KHDRS"
}

key=$(kernel_key)
if [ "$(cat "$KERNEL_KEY_FILE" 2> /dev/null)" = "$key" ]; then
	log "kernel$FLAVOR_SUFFIX: cached build in $KBUILD (key $key)"
	print_versions
	exit 0
fi

rm -f "$KERNEL_KEY_FILE"
if [ "$(cat "$KERNEL_DIR/toolchain.key" 2> /dev/null)" != "$(toolchain_key)" ] ||
   [ ! -d "$APPLIED" ]; then
	step "unpack linux-source-6.12" unpack
	step "apply patches/v6.12/series" apply_series
elif ! diff -rq "$APPLIED" "$PATCH_DIR" > /dev/null; then
	# The other flavor's build is stale now: its key no longer matches.
	if ! step "take out the previous series" unapply_series; then
		step "unpack linux-source-6.12" unpack
	fi
	step "apply patches/v6.12/series" apply_series
fi
mkdir -p "$KBUILD"
step "configure" configure
print_versions
step "build kernel$FLAVOR_SUFFIX (-j$JOBS)" build
echo "$key" > "$KERNEL_KEY_FILE"
log "kernel$FLAVOR_SUFFIX: $KBUILD/arch/x86/boot/bzImage (key $key)"
