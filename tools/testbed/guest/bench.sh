# SPDX-License-Identifier: GPL-2.0
# The benchmarks of `make bench`, inside the guest; sourced by /init.
# Upstream first (module not loaded), then the module, in the same boot;
# then the fault cost without the module once more, to show the drift.

run_bench() {
	echo "=== kvm-memattr benchmarks: kernel $(uname -r), emulator $EMU"
	load_kvm
	/selftests/x86_64/kvm_memattr_bench upstream /tmp/upstream.txt &&
	modprobe $MODULE &&
	/selftests/x86_64/kvm_memattr_bench module /tmp/upstream.txt &&
	rmmod $MODULE &&
	/selftests/x86_64/kvm_memattr_bench faults /tmp/upstream.txt
}
