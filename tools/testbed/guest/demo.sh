# SPDX-License-Identifier: GPL-2.0
# The demonstration of `make run`, inside the guest; sourced by /init.

show() {
	echo
	echo "\$ $*"
	"$@"
}

# QEMU 10.0 with patches/qemu-10.0 as the VMM of a tiny guest, driven over
# QMP by the test harness: a denied write raises MEMATTR_FAULT and pauses the
# VM; memattr-set and cont let the guest finish.  The QMP exchange only.
qemu_demo() {
	echo
	echo "\$ qemu_memattr_test write-pause    # QMP, as the harness sends and receives it"
	/selftests/vmm/qemu_memattr_test write-pause > /tmp/qemu-demo.log 2>&1
	rc=$?
	sed -n -e 's/^\[ *[0-9.]*\] //' \
	       -e '/^\(-> \|<- \|  event \|QEMU exited\|case \)/p' \
	       -e '/debugcon = /p' /tmp/qemu-demo.log |
		sed -e 's/"timestamp": {[^}]*}, //' -e 's/, "id": [0-9]*}$/}/'
	[ $rc -eq 0 ] || echo "qemu_memattr_test failed (exit code $rc)"
}

run_demo() {
	echo "=== kvm-memattr demo: kernel $(uname -r), emulator $EMU"
	show load_kvm
	show modinfo -F description /lib/modules/$(uname -r)/extra/$MODULE.ko
	show modprobe $MODULE
	show cat /sys/module/$MODULE/refcnt
	show /selftests/x86_64/kvm_memattr_demo
	qemu_demo
	show rmmod $MODULE
	echo
	echo "kernel log:"
	dmesg | grep -i -e memattr -e 'kvm_amd\|kvm_intel'
}
