#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack the test initramfs: busybox, /init and the suite, the selftests, the
# KVM modules of the kernel build and kvm_memattr.ko.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

make_initramfs() {
	local root=$OUT_DIR/initramfs$FLAVOR_SUFFIX krel applet bin
	krel=$(cat "$KBUILD/include/config/kernel.release")

	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/testbed,selftests}
	cp /bin/busybox "$root/bin/"
	for applet in $(/bin/busybox --list); do
		[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
	done
	ln -s bin "$root/sbin"

	install -m 755 "$TESTBED_DIR/guest/init" "$root/init"
	cp "$TESTBED_DIR/guest/suite.sh" "$TESTBED_DIR/guest/demo.sh" \
	   "$TESTBED_DIR/guest/bench.sh" \
	   "$TESTS_LIST" "$root/lib/testbed/"

	for bin in $(guest_binaries); do
		mkdir -p "$root/selftests/$(dirname "$bin")"
		cp "$SELFTESTS_OUT/$bin" "$root/selftests/$bin"
	done
	# The QEMU harness finds its guests' firmware images beside itself, and
	# runs the project's QEMU (build-qemu.sh) from /usr/bin.
	cp "$SELFTESTS_OUT"/vmm/fw_*.bin "$root/selftests/vmm/"
	mkdir -p "$root/usr/bin"
	install -m 755 "$(qemu_bin)" "$root/usr/bin/qemu-system-x86_64"

	mkdir -p "$root/lib/modules/$krel/kernel" "$root/lib/modules/$krel/extra"
	(cd "$KBUILD" && find . -name '*.ko' -exec cp --parents {} \
		"$root/lib/modules/$krel/kernel/" \;)
	cp "$MODULE_KO" "$root/lib/modules/$krel/extra/"
	/bin/busybox depmod -b "$root" "$krel"

	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRAMFS"
	log "initramfs: $INITRAMFS ($(du -h "$INITRAMFS" | cut -f1))"
}

step "pack initramfs" make_initramfs
