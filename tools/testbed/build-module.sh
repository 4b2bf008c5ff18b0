#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build kvm_memattr.ko out of tree against the cached kernel build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -e "$KERNEL_DIR/kernel.key" ] || die "no kernel build; run 'make kernel' first"
step "build kvm_memattr.ko" make -s -C "$KBUILD" M="$PROJECT_DIR" \
	"${KBUILD_TOOLCHAIN[@]}" modules
log "module: $MODULE_KO"
