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

# cargo_tests LABEL CRATE_DIR CARGO_TEST_ARGS...: one result per test that
# cargo test runs in CRATE_DIR.
cargo_tests() {
	local label=$1 dir=$2 log=$RESULTS/$1.log name status; shift 2
	(cd "$dir" && cargo test --quiet "$@" -- --test-threads=1 \
		--format=pretty) > "$log" 2>&1
	if ! grep -q '^test result:' "$log"; then
		sed 's/^/# /' "$log"
		result FAIL "$label: cargo test did not run"
		return
	fi
	# "test NAME ... STATUS", where a doc test's NAME has spaces.
	while read -r status name; do
		case $status in
		ok)	result OK "$label: $name" ;;
		*)	result FAIL "$label: $name ($status)" ;;
		esac
	done < <(sed -nE 's/^test (.*) \.\.\. (.*)$/\2 \1/p' "$log")
	if grep -q 'test result: FAILED' "$log"; then
		sed 's/^/# /' "$log"
	fi
}

# cargo_check LABEL CRATE_DIR COMMAND...: one result for a lint of the crate.
cargo_check() {
	local label=$1 dir=$2; shift 2
	if (cd "$dir" && "$@") > "$RESULTS/check.log" 2>&1; then
		result OK "$label"
	else
		sed 's/^/# /' "$RESULTS/check.log"
		result FAIL "$label"
	fi
}

host_unit_tests() {
	cargo_tests host "$PROJECT_DIR/rust/host"
}

# The rust-vmm crate on the host: its encoding tests, the comparison with
# the uAPI header, its doc examples (those that need KVM are compiled only)
# and its lints.  Its KVM tests run in the VM suite (tests.list).
rust_vmm_host_tests() {
	local dir=$PROJECT_DIR/rust/vmm
	export CARGO_TARGET_DIR=$CACHE_DIR/rust-vmm-target
	cargo_tests rust-vmm "$dir" --locked --lib --test header
	cargo_tests rust-vmm-doc "$dir" --locked --doc
	cargo_check "rust-vmm: cargo clippy --all-targets -D warnings" "$dir" \
		cargo clippy --quiet --locked --all-targets -- -D warnings
	cargo_check "rust-vmm: cargo fmt --check" "$dir" cargo fmt --check
	cargo_check "rust-vmm: cargo doc without warnings" "$dir" \
		env RUSTDOCFLAGS='-D warnings' cargo doc --quiet --locked --no-deps
	unset CARGO_TARGET_DIR
}

# Documentation/virt/kvm/memattr renders without a warning (check-docs.sh).
docs_check() {
	local log=$RESULTS/docs.log line rc
	"$TESTBED_DIR/check-docs.sh" > "$log" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok   "*)	result OK "docs: ${line#ok   } renders without warnings" ;;
		"FAIL "*)	result FAIL "docs: ${line#FAIL }" ;;
		*)		echo "# $line" ;;
		esac
	done < "$log"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
		result FAIL "docs: check-docs.sh exited with $rc"
	fi
}

# collect_figures LOG: the "figure: " lines that tests print (their counts:
# calls, faults injected, seconds of stress...), each with the name of the
# test that printed it, from the TAP line that follows it.
collect_figures() {
	awk '/^#\| figure: / { sub(/^#\| figure: /, ""); held[n++] = $0; next }
	     /^(ok|not ok) / {
		name = $0; sub(/^(ok|not ok) [0-9]+ - /, "", name)
		sub(/ \([^()]*\)$/, "", name)
		for (i = 0; i < n; i++) print held[i] "  <- " name
		n = 0
	     }' "$1" >> "$RESULTS/figures.txt"
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
	collect_figures "$log"

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
: > "$RESULTS/figures.txt"
echo "TAP version 13"
step "host unit tests" host_unit_tests
step "rust-vmm crate, host tests" rust_vmm_host_tests
step "documentation" docs_check
for emu in $EMUS; do
	step "VM suite on $emu" vm_suite "$emu"
done
# The debug kernel runs on QEMU only: its checkers slow the guest several
# times, which Bochs' budget does not allow (README.md, "The test suite").
if [ "$DEBUG_KERNEL" = 1 ]; then
	step "VM suite on the debug kernel (qemu)" vm_suite qemu debug
fi
if [ -s "$RESULTS/figures.txt" ]; then
	echo "# Figures (also in $RESULTS/figures.txt):"
	sed 's/^/#   /' "$RESULTS/figures.txt"
fi
echo "1..$((PASSED + FAILED))"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
