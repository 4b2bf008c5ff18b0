# SPDX-License-Identifier: GPL-2.0
# The demonstration of `make run`, inside the guest; sourced by /init.

show() {
	echo
	echo "\$ $*"
	"$@"
}

run_demo() {
	echo "=== kvm-memattr demo: kernel $(uname -r), emulator $EMU"
	show load_kvm
	show modinfo -F description /lib/modules/$(uname -r)/extra/$MODULE.ko
	show modprobe $MODULE
	show cat /sys/module/$MODULE/refcnt
	show /selftests/x86_64/kvm_memattr_demo
	show rmmod $MODULE
	echo
	echo "kernel log:"
	dmesg | grep -i -e memattr -e 'kvm_amd\|kvm_intel'
}
