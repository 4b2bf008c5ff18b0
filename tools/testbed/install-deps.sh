#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what the build and the emulators need, from Debian's packages, and
# bindgen from crates.io (Debian's is older than the kernel's minimum).
# Installs only what is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	linux-source-6.12
	rustc-web rust-web-src
	clang-19 lld-19 llvm-19 libclang-19-dev
	make flex bison bc cpio xz-utils rsync libelf-dev libssl-dev
	qemu-system-x86
	# Bochs 3.0 is built from Debian 13's source (build-bochs.sh); it
	# runs Debian 12's BIOS and VGA BIOS.
	g++ libncurses-dev patch curl
	bochsbios vgabios
	syslinux syslinux-common mtools dosfstools fdisk
	busybox-static
	# QEMU 10.0 is built statically from Debian 13's source (build-qemu.sh)
	# to run inside the test VM.
	git ninja-build pkgconf libglib2.0-dev libpcre2-dev zlib1g-dev
	libfdt-dev python3-pip python3-venv
	# make check renders Documentation/ (check-docs.sh).
	python3-sphinx
)
BINDGEN_VERSION=0.71.1

missing_packages() {
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2> /dev/null |
			grep -q 'install ok installed' || echo "$p"
	done
}

install_packages() {
	local missing
	missing=$(missing_packages)
	if [ -z "$missing" ]; then
		log "packages: all present"
		return
	fi
	log "packages: installing" $missing
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q > /dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing > /dev/null
}

install_bindgen() {
	if "$BINDGEN" --version 2> /dev/null | grep -qx "bindgen $BINDGEN_VERSION"; then
		log "bindgen: $BINDGEN_VERSION present"
		return
	fi
	cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
}

step "Debian packages" install_packages
step "bindgen-cli" install_bindgen
