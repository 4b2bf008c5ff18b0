#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build kvm_memattr.ko out of tree against the cached kernel build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -e "$KERNEL_KEY_FILE" ] || die "no kernel$FLAVOR_SUFFIX build; run 'make kernel$FLAVOR_SUFFIX' first"
if [ "$MODULE_DIR" != "$PROJECT_DIR" ]; then
	mkdir -p "$MODULE_DIR/rust"
	cp "$PROJECT_DIR/Kbuild" "$MODULE_DIR/"
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		"$PROJECT_DIR/rust/kvm_memattr" "$MODULE_DIR/rust/"
fi
step "build kvm_memattr.ko$FLAVOR_SUFFIX" make -s -C "$KBUILD" M="$MODULE_DIR" \
	"${KBUILD_TOOLCHAIN[@]}" modules
log "module: $MODULE_KO"
