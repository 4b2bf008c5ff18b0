# SPDX-License-Identifier: GPL-2.0
# The benchmarks of `make bench`, inside the guest; sourced by /init.
# Upstream first (module not loaded), then the module, in the same boot;
# then the fault cost without the module once more, to show the drift.
# CLOCK (memattr.clock=) is what the guest clock counts, and the unit of the
# tables: "instructions" under QEMU -icount, or "wall" time in ns.

BENCH=$SELFTESTS/x86_64/kvm_memattr_bench

run_bench() {
	clock=${CLOCK:-wall}
	echo "=== kvm-memattr benchmarks: kernel $(uname -r), emulator $EMU," \
	     "clock $clock, clocksource" \
	     "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	load_kvm
	$BENCH upstream /tmp/upstream.txt $clock &&
	modprobe $MODULE &&
	$BENCH module /tmp/upstream.txt $clock &&
	rmmod $MODULE &&
	$BENCH faults /tmp/upstream.txt $clock
}
