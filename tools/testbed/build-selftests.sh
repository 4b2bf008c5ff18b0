#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the uAPI headers (the kernel's plus kvm_memattr.h) and build the
# selftests of tests.list, statically, with the kernel tree's selftest library.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -e "$KERNEL_DIR/kernel.key" ] || die "no kernel build; run 'make kernel' first"

install_headers() {
	rm -rf "$HDRS_OUT"
	mkdir -p "$HDRS_OUT"
	cp -a "$KHDRS/include/." "$HDRS_OUT/"
	cp "$PROJECT_DIR/include/uapi/linux/kvm_memattr.h" "$HDRS_OUT/linux/"
}

build_selftests() {
	local kvm_selftests=$KSRC/tools/testing/selftests/kvm progs targets

	# The project's tests build inside the tree's selftest directory, like
	# upstream tests, so they share its library and flags.
	cp "$PROJECT_DIR"/tools/selftests/kvm/x86_64/*.[ch] \
	   "$TESTBED_DIR/demo/kvm_memattr_demo.c" \
	   "$PROJECT_DIR/tools/bench/kvm_memattr_bench.c" "$kvm_selftests/x86_64/"

	progs=$(guest_binaries | grep -v '^vmm/' | tr '\n' ' ')
	targets=$(guest_binaries | grep -v '^vmm/' |
		  sed "s|^|$SELFTESTS_OUT/|" | tr '\n' ' ')
	mkdir -p "$SELFTESTS_OUT"
	# shellcheck disable=SC2086
	make -s -C "$kvm_selftests" -j"$JOBS" OUTPUT="$SELFTESTS_OUT" \
		KHDR_INCLUDES="-isystem $HDRS_OUT" LDFLAGS=-static \
		TEST_GEN_PROGS_x86_64="$progs" $targets
}

step "install uAPI headers" install_headers
step "build selftests" build_selftests
