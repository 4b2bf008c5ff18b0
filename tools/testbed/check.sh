#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# All tests: the host unit tests, then the VM suite on each emulator.  Prints
# TAP and a last line "N passed, N failed"; exits non-zero on any failure.
#
# EMUS    emulators to run the VM suite on (default: "qemu bochs")
# ONLY    run only the selftests whose command contains one of these
#         comma-separated strings
# DEBUG_KERNEL=0 leaves out the debug kernel's suite
set -uo pipefail
. "$(dirname "$0")/lib.sh"

EMUS=${EMUS:-qemu bochs}
ONLY=${ONLY:-}
DEBUG_KERNEL=${DEBUG_KERNEL:-1}
RESULTS=$OUT_DIR/results
PASSED=0
FAILED=0

# result OK|FAIL NAME
result() {
	if [ "$1" = OK ]; then
		PASSED=$((PASSED + 1))
		echo "ok $((PASSED + FAILED)) - $2"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $((PASSED + FAILED)) - $2"
	fi
}

host_unit_tests() {
	local log=$RESULTS/host.log name status
	(cd "$PROJECT_DIR/rust/host" && cargo test --quiet -- --test-threads=1 \
		--format=pretty) > "$log" 2>&1
	if ! grep -q '^test result:' "$log"; then
		sed 's/^/# /' "$log"
		result FAIL "host: cargo test did not run"
		return
	fi
	while read -r _ name _ status; do
		case $status in
		ok)	result OK "host: $name" ;;
		*)	result FAIL "host: $name" ;;
		esac
	done < <(grep -E '^test .* \.\.\. ' "$log")
	if grep -q 'test result: FAILED' "$log"; then
		sed 's/^/# /' "$log"
	fi
}

# vm_suite EMULATOR [debug]: the VM suite, or with "debug" the debug
# kernel's suite, on one emulator.
vm_suite() {
	local emu=$1 mode=${2:-check} log line name
	log=$RESULTS/$emu${2:+-$2}.log
	log "$emu: booting the VM suite on the ${2:-test} kernel (serial log: $log)"
	KERNEL_FLAVOR=${2:-} ONLY=$ONLY "$TESTBED_DIR/run-vm.sh" "$emu" "$mode" "$log"
	local finished=$?
	# An emulator that stopped executing (exit 3) says nothing about the
	# tests: say where it stopped, and run the whole suite once more.
	if [ $finished -eq 3 ]; then
		echo "# $emu stopped executing after: $(grep -E '^(ok|not ok) ' "$log" | tail -n 1)"
		mv "$log" "$log.stalled"
		log "$emu: the emulator stalled; running the suite again, once"
		KERNEL_FLAVOR=${2:-} ONLY=$ONLY "$TESTBED_DIR/run-vm.sh" "$emu" "$mode" "$log"
		finished=$?
	fi

	while IFS= read -r line; do
		case $line in
		"ok "*)		name=${line#ok * - }; result OK "$name" ;;
		"not ok "*)	name=${line#not ok * - }; result FAIL "$name" ;;
		"# "*)		echo "$line" ;;
		esac
	done < <(grep -E '^(ok|not ok|# )' "$log")

	if [ $finished -ne 0 ]; then
		tail -n 30 "$log" | sed 's/^/# /'
		result FAIL "$emu${2:+ $2}: guest finished the suite (no end marker: crash or wall-clock limit)"
	fi
	# The guest checks dmesg itself; this catches what it could not report.
	if grep -v '^# ' "$log" | grep -E 'Kernel panic|BUG:|WARNING:|Oops' |
	   sed 's/^/# /' | grep .; then
		result FAIL "$emu${2:+ $2}: serial console free of kernel errors"
	fi
}

mkdir -p "$RESULTS"
echo "TAP version 13"
step "host unit tests" host_unit_tests
for emu in $EMUS; do
	step "VM suite on $emu" vm_suite "$emu"
done
# The debug kernel runs on QEMU only: its checkers slow the guest several
# times, which Bochs' budget does not allow (README.md, "The test suite").
if [ "$DEBUG_KERNEL" = 1 ]; then
	step "VM suite on the debug kernel (qemu)" vm_suite qemu debug
fi
echo "1..$((PASSED + FAILED))"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
