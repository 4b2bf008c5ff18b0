#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build what runs in the test VM on the VMM side, static, into
# $SELFTESTS_OUT/vmm/ beside the selftests: the QMP harness of the patched
# QEMU and its guests' firmware images (tools/vmm), the rust-vmm crate's
# example VMM (protect_guest) and its KVM tests.  cargo's target directory
# is in the cache, outside the clone, so that a warm run rebuilds nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CRATE_DIR=$PROJECT_DIR/rust/vmm
TARGET=x86_64-unknown-linux-gnu
export CARGO_TARGET_DIR=$CACHE_DIR/rust-vmm-target
# The gnu target links a static-pie binary with this flag alone.
export RUSTFLAGS='-C target-feature=+crt-static'
VMM_OUT=$SELFTESTS_OUT/vmm

build_crate_binaries() {
	local tests_bin
	cd "$CRATE_DIR"
	cargo build --quiet --locked --release --target "$TARGET" \
		--example protect_guest
	# The KVM tests are built for a machine with the module: the test VM.
	tests_bin=$(KVM_MEMATTR_TESTS=1 cargo test --quiet --locked --release \
		--target "$TARGET" --test kvm --no-run --message-format=json |
		sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
	[ -x "$tests_bin" ] || die "cargo did not build the crate's KVM tests"
	mkdir -p "$VMM_OUT"
	install -m 755 "$CARGO_TARGET_DIR/$TARGET/release/examples/protect_guest" \
		"$VMM_OUT/rust_vmm_protect_guest"
	install -m 755 "$tests_bin" "$VMM_OUT/rust_vmm_kvm_tests"
}

build_qemu_harness() {
	make -s -C "$PROJECT_DIR/tools/vmm" O="$VMM_OUT"
}

step "build the QEMU test harness and firmware" build_qemu_harness
step "build the rust-vmm crate's guest binaries" build_crate_binaries
