# SPDX-License-Identifier: GPL-2.0
# The VM suite, run inside the guest; sourced by /init.

TEST_NUM=0
FAILED=0
# What each TAP line starts with: the emulator, and the kernel if not the
# test kernel.
TAP_PREFIX=$EMU

# tap_result RC NAME [DETAIL]: print one TAP line.
tap_result() {
	TEST_NUM=$((TEST_NUM + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TEST_NUM - $TAP_PREFIX: $2${3:+ ($3)}"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $TEST_NUM - $TAP_PREFIX: $2${3:+ ($3)}"
	fi
}

# tap_check NAME COMMAND...: run a short command as one test.
tap_check() {
	name=$1; shift
	if "$@" > /tmp/check.log 2>&1; then
		sed 's/^/#| /' /tmp/check.log
		tap_result 0 "$name"
	else
		sed 's/^/# /' /tmp/check.log
		tap_result 1 "$name"
	fi
}

kvm_vendor() {
	if grep -q '^flags.* vmx' /proc/cpuinfo; then
		echo kvm_intel
	else
		echo kvm_amd
	fi
}

# The forced emulation prefix lets the emulator tests hand any instruction
# to KVM's emulator.
KVM_PARAMS=force_emulation_prefix=1

load_kvm() {
	modprobe kvm $KVM_PARAMS && modprobe "$(kvm_vendor)" "$@"
}

# reload_kvm KVM_PARAMS VENDOR_PARAMS: reload KVM, and the module, with
# other parameters (e.g. another MMU).
reload_kvm() {
	rmmod $MODULE "$(kvm_vendor)" kvm &&
	modprobe kvm $KVM_PARAMS $1 && modprobe "$(kvm_vendor)" $2 && modprobe $MODULE
}

module_loaded() {
	[ -d /sys/module/$MODULE ]
}

# log_ends FILE: a failed test's output, its first lines (what it set up,
# its seed) and its last ones (the failure).
log_ends() {
	if [ "$(wc -l < "$1")" -le 60 ]; then
		cat "$1"
	else
		head -n 20 "$1"
		echo "[...]"
		tail -n 40 "$1"
	fi
}

# run_selftest LABEL TIMEOUT COMMAND...: run one selftest as one TAP test.
# A skip (exit code 4) is a failure: every test in tests.list must run.
run_selftest() {
	label=$1 limit=$2; shift 2
	start=$(date +%s)
	timeout -s KILL "$limit" "$SELFTESTS/$@" > /tmp/test.log 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0)	# Kept in the serial log (build/results/), not echoed by check.sh.
		sed 's/^/#| /' /tmp/test.log
		tap_result 0 "$* $label" "${secs} s" ;;
	4)	sed 's/^/# /' /tmp/test.log
		tap_result 1 "$* $label" "skipped, but must run" ;;
	137)	tail -n 20 /tmp/test.log | sed 's/^/# /'
		tap_result 1 "$* $label" "timed out after ${limit} s" ;;
	*)	log_ends /tmp/test.log | sed 's/^/# /'
		tap_result 1 "$* $label" "exit code $rc after ${secs} s" ;;
	esac
}

# selected COMMAND: whether COMMAND contains one of the comma-separated
# strings of memattr.only (all commands when it is empty).
selected() {
	[ -z "$ONLY" ] && return 0
	for pattern in $(echo "$ONLY" | tr , ' '); do
		case "$1" in *"$pattern"*) return 0 ;; esac
	done
	return 1
}

# run_pass LABEL PASSES: run the tests.list lines of this emulator whose
# pass is one of PASSES.
run_pass() {
	label=$1 passes=$2
	grep -Ev '^[[:space:]]*(#|$)' /lib/testbed/tests.list |
	while read -r pass emus limit cmd; do
		case ",$emus," in *",$EMU,"*) ;; *) continue ;; esac
		case " $passes " in *" $pass "*) ;; *) continue ;; esac
		selected "$cmd" || continue
		echo "$limit $cmd"
	done > /tmp/pass.list
	while read -r limit cmd; do
		# shellcheck disable=SC2086
		run_selftest "$label" "$limit" $cmd
	done < /tmp/pass.list
}

# Load and unload the module repeatedly, with a VM created, given
# attributes and sub-page maps, and destroyed in each cycle (the lifecycle
# test checks that the module's counts return to 0); every cycle must
# leave no trace.  A run narrowed by memattr.only has them only when a
# pattern matches "load/unload cycles".
LOAD_UNLOAD_CYCLES=100
load_unload_cycles() {
	i=0
	while [ $i -lt $LOAD_UNLOAD_CYCLES ]; do
		modprobe $MODULE || return 1
		module_loaded || return 1
		"$SELFTESTS/x86_64/kvm_memattr_lifecycle_test" -n 1 > /dev/null ||
			{ echo "cycle $i: the VM's lifecycle failed"; return 1; }
		rmmod $MODULE || return 1
		! module_loaded || return 1
		i=$((i + 1))
	done
	echo "figure: module-lifecycle: $LOAD_UNLOAD_CYCLES module loads and unloads, $LOAD_UNLOAD_CYCLES VMs"
}

KERNEL_ERRORS='WARNING:|BUG:|Oops|Call Trace:|circular locking|possible recursive locking|INFO: task .* blocked|UBSAN:|KASAN:'

# Report what the kernel said while booting, before KVM was loaded, and
# start the log afresh for kernel_log_clean.  Bochs' tigerlake model makes
# the boot code warn about its CPUID (topology, xstate sizes).
set_boot_log_aside() {
	if dmesg | grep -qE "$KERNEL_ERRORS"; then
		echo "# boot-time kernel warnings (before any test; the emulated CPU):"
		dmesg | grep -E "$KERNEL_ERRORS" | sed 's/^/#   /'
	fi
	dmesg -c > /dev/null
}

# dmesg without the reports of failed allocations (warn_alloc(): "vmalloc
# error" or "page allocation failure", with the allocator's stack), which
# kvm_memattr_fault_inject_test provokes on purpose.  A warning, bug or
# lockdep report is a report of its own, outside these.
dmesg_without_alloc_failures() {
	dmesg | awk '/(vmalloc error|page allocation failure):/ { skip = 1 }
		     !skip { print }
		     /<\/TASK>/ { skip = 0 }'
}

# Since the suite started, the kernel log must be free of warnings, bugs
# and lockdep reports.
kernel_log_clean() {
	! dmesg_without_alloc_failures | grep -E "$KERNEL_ERRORS"
}

suite_header() {
	echo "TAP version 13"
	echo "# kernel $(uname -r), emulator $EMU, $(grep -c ^processor /proc/cpuinfo) CPU(s)"
	echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	set_boot_log_aside
}

# other_mmu_passes LABEL: the project's tests again on the legacy MMU and on
# shadow paging, then KVM back with its defaults.
other_mmu_passes() {
	tdp=npt
	[ "$(kvm_vendor)" = kvm_intel ] && tdp=ept
	tap_check "reload KVM with tdp_mmu=0" reload_kvm tdp_mmu=0 ""
	run_pass "[$1, tdp_mmu=0]" "with-module"
	tap_check "reload KVM with $tdp=0" reload_kvm "" $tdp=0
	run_pass "[$1, $tdp=0]" "with-module shadow-only"
	tap_check "reload KVM with defaults" reload_kvm "" ""
}

run_suite() {
	suite_header
	tap_check "load KVM" load_kvm
	tap_check "insmod $MODULE" modprobe $MODULE
	run_pass "[module]" "with-module module-once module-only both vmm"
	other_mmu_passes module

	tap_check "rmmod $MODULE" rmmod $MODULE
	selected "load/unload cycles" &&
		tap_check "$LOAD_UNLOAD_CYCLES load/unload cycles of $MODULE, a VM in each" load_unload_cycles
	run_pass "[no module]" "both vmm-no-module"
	tap_check "kernel log clean" kernel_log_clean

	echo "1..$TEST_NUM"
}

# kmemleak reports what it found since the last "clear" after two scans.
kmemleak_clean() {
	echo scan > /sys/kernel/debug/kmemleak &&
	echo scan > /sys/kernel/debug/kmemleak &&
	! grep . /sys/kernel/debug/kmemleak
}

# The debug kernel (KASAN, lockdep, UBSAN, kmemleak...): the project's tests
# on every MMU, then a leak scan; any report of a checker fails.
run_debug_suite() {
	TAP_PREFIX="$EMU, debug kernel"
	suite_header
	echo clear > /sys/kernel/debug/kmemleak
	tap_check "load KVM" load_kvm
	tap_check "insmod $MODULE" modprobe $MODULE
	run_pass "[debug]" "with-module module-once"
	other_mmu_passes debug
	tap_check "rmmod $MODULE" rmmod $MODULE
	selected "load/unload cycles" &&
		tap_check "$LOAD_UNLOAD_CYCLES load/unload cycles of $MODULE, a VM in each" load_unload_cycles
	tap_check "kmemleak finds no leak" kmemleak_clean
	tap_check "kernel log clean" kernel_log_clean
	echo "1..$TEST_NUM"
}

# make fuzz: the uAPI fuzzer for FUZZ_SECONDS (default 300) on each MMU,
# with FUZZ_SEED if given (to replay a failure), then the kernel log check.
run_fuzz() {
	secs=${FUZZ_SECONDS:-300}
	args="-t $secs${FUZZ_SEED:+ -s $FUZZ_SEED}"
	tdp=npt
	[ "$(kvm_vendor)" = kvm_intel ] && tdp=ept
	suite_header
	tap_check "load KVM" load_kvm
	tap_check "insmod $MODULE" modprobe $MODULE
	# shellcheck disable=SC2086
	run_selftest "[fuzz]" $((secs + 120)) x86_64/kvm_memattr_fuzz_test $args
	tap_check "reload KVM with tdp_mmu=0" reload_kvm tdp_mmu=0 ""
	# shellcheck disable=SC2086
	run_selftest "[fuzz, tdp_mmu=0]" $((secs + 120)) x86_64/kvm_memattr_fuzz_test $args
	tap_check "reload KVM with $tdp=0" reload_kvm "" $tdp=0
	# shellcheck disable=SC2086
	run_selftest "[fuzz, $tdp=0]" $((secs + 120)) x86_64/kvm_memattr_fuzz_test $args
	tap_check "kernel log clean" kernel_log_clean
	echo "1..$TEST_NUM"
}
