#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test kernel and initramfs on an emulated CPU and wait for the guest
# to finish, within a wall-clock limit.
#
# usage: run-vm.sh qemu|bochs check|run|bench|debug|fuzz LOG
#   qemu   QEMU TCG, -cpu max: AMD SVM with nested paging
#   bochs  Bochs 3.0 (build-bochs.sh), tigerlake: Intel VMX with EPT,
#          execute-only EPT and SPP
#   debug  the project's selftests on the debug kernel (KERNEL_FLAVOR=debug)
#   fuzz   the uAPI fuzzer, FUZZ_SECONDS on each MMU, FUZZ_SEED to replay
# The guest's serial console goes to LOG (and to stdout with 'run' and
# 'bench').
# BENCH_CLOCK=instructions|wall: what 'bench' measures on QEMU (default
# instructions, with -icount: the guest clock advances 1 ns per emulated
# instruction); Bochs measures wall time.
# Exit status: 0 when the guest printed its end marker, 1 otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EMU=$1 MODE=$2 LOG=$3
BZIMAGE=$KBUILD/arch/x86/boot/bzImage
END_MARKER=KVM_MEMATTR_END
# Wall-clock limits, seconds.  Bochs is several times slower than QEMU.
case $EMU in
qemu)	LIMIT=${QEMU_LIMIT:-1500} ;;
bochs)	LIMIT=${BOCHS_LIMIT:-1800} ;;
*)	die "unknown emulator '$EMU'" ;;
esac
# Bochs 3.0 has stopped executing mid-suite (README.md, "The test suite"):
# this much wall-clock silence on its serial console ends the run.
BOCHS_STALL=${BOCHS_STALL:-300}
# The test suites write to the log only; run and bench show the guest too.
SHOW_OUTPUT=
case $MODE in run|bench|fuzz) SHOW_OUTPUT=1 ;; esac
# log_buf_len: room for the allocation-failure reports that fault injection
# provokes, so that none pushes an earlier message out before it is checked.
CMDLINE="console=ttyS0 panic=-1 oops=panic loglevel=4 log_buf_len=4M memattr.mode=$MODE memattr.emu=$EMU"
[ -n "${ONLY:-}" ] && CMDLINE+=" memattr.only=$ONLY"
[ -n "${FUZZ_SECONDS:-}" ] && CMDLINE+=" memattr.fuzz_seconds=$FUZZ_SECONDS"
[ -n "${FUZZ_SEED:-}" ] && CMDLINE+=" memattr.fuzz_seed=$FUZZ_SEED"

# bench: QEMU's options for BENCH_CLOCK, passed to the guest's benchmark.
QEMU_CLOCK=()
if [ "$MODE" = bench ]; then
	BENCH_CLOCK=${BENCH_CLOCK:-instructions}
	case $EMU/$BENCH_CLOCK in
	qemu/instructions)
		# One-instruction resolution; single-threaded TCG, which is
		# what -icount implies.
		QEMU_CLOCK=(-icount shift=0,sleep=off) ;;
	bochs/instructions)
		log "bochs: no instruction count here, the benchmark uses wall time"
		BENCH_CLOCK=wall ;;
	*/wall)	;;
	*)	die "unknown BENCH_CLOCK '$BENCH_CLOCK' (instructions or wall)" ;;
	esac
	CMDLINE+=" memattr.clock=$BENCH_CLOCK"
fi

[ -e "$BZIMAGE" ] && [ -e "$INITRAMFS" ] || die "kernel or initramfs missing"
mkdir -p "$(dirname "$LOG")"
: > "$LOG"

run_qemu() {
	local out=/dev/null
	[ "$SHOW_OUTPUT" ] && out=/dev/stdout
	timeout -s KILL "$LIMIT" qemu-system-x86_64 -accel tcg "${QEMU_CLOCK[@]}" -cpu max -m 2G \
		-smp ${QEMU_SMP:-2} -nographic -no-reboot -nic none -monitor none -serial stdio \
		-kernel "$BZIMAGE" -initrd "$INITRAMFS" -append "$CMDLINE" \
		< /dev/null 2>&1 | tr -d '\r' | tee "$LOG" > "$out" || true
}

make_bochs_disk() {
	local dir=$1 img=$1/disk.img
	rm -f "$img" "$img.lock"
	truncate -s 96M "$img"
	echo 'start=2048, type=c, bootable' | sfdisk -q "$img"
	dd if=/usr/lib/syslinux/mbr/mbr.bin of="$img" bs=440 count=1 \
		conv=notrunc status=none
	mkfs.vfat -F 16 --offset 2048 "$img" $(( (96 - 1) * 1024 )) > /dev/null
	syslinux --offset 1048576 --install "$img"
	cat > "$dir/syslinux.cfg" <<-CFG
	SERIAL 0 115200
	DEFAULT linux
	LABEL linux
	  KERNEL bzimage
	  INITRD initrd.gz
	  APPEND $CMDLINE
	CFG
	mcopy -i "$img@@1M" "$BZIMAGE" ::bzimage
	mcopy -i "$img@@1M" "$INITRAMFS" ::initrd.gz
	mcopy -i "$img@@1M" "$dir/syslinux.cfg" ::syslinux.cfg
}

# note_wall_times SERIAL: append the TAP lines that came since the last call
# to $LOG.wall, each after the wall-clock seconds since $start (Bochs' guest
# clock says little of where a run's time goes).
note_wall_times() {
	local lines
	lines=$(grep -cE '^(ok|not ok) ' "$1" || true)
	[ "$lines" -gt "$wall_lines" ] || return 0
	grep -E '^(ok|not ok) ' "$1" | tail -n +$((wall_lines + 1)) |
		sed "s/^/$(( $(date +%s) - start )) s: /" >> "$LOG.wall"
	wall_lines=$lines
}

run_bochs() {
	local dir=$OUT_DIR/bochs bochs serial pid start tail_pid= wall_lines=0
	bochs=$(bochs_bin)
	[ -x "$bochs" ] || die "Bochs 3.0 is not built (key $(bochs_key)): run make bochs"
	mkdir -p "$dir"
	serial=$dir/serial.out
	make_bochs_disk "$dir"
	# The BIOS and VGA BIOS are Debian 12's (bochsbios, vgabios).  No info
	# messages: Bochs logs one for every EPT violation, hundreds of MB in
	# the stress test; errors and panics stay in bochs.log.
	cat > "$dir/bochsrc" <<-RC
	megs: 1024
	cpu: model=tigerlake, count=2, ips=20000000, reset_on_triple_fault=0
	romimage: file=/usr/share/bochs/BIOS-bochs-latest
	vgaromimage: file=/usr/share/vgabios/vgabios.bin
	ata0-master: type=disk, path=$dir/disk.img, mode=flat
	boot: disk
	clock: sync=none, time0=local
	display_library: nogui
	speaker: enabled=0
	com1: enabled=1, mode=file, dev=$serial
	log: $dir/bochs.log
	info: action=ignore
	panic: action=fatal
	RC
	: > "$serial"
	# No GUI and no debugger prompt; its own session, killed as a whole.
	setsid "$bochs" -q -f "$dir/bochsrc" > "$dir/bochs.out" 2>&1 < /dev/null &
	pid=$!
	[ "$SHOW_OUTPUT" ] && { tail -f "$serial" & tail_pid=$!; }

	start=$(date +%s)
	rm -f "$dir/stalled"
	: > "$LOG.wall"
	while kill -0 "$pid" 2> /dev/null; do
		note_wall_times "$serial"
		if grep -q -e "^$END_MARKER" -e 'Kernel panic' "$serial"; then
			sleep 3
			break
		fi
		if [ $(( $(date +%s) - start )) -ge "$LIMIT" ]; then
			echo "run-vm: bochs wall-clock limit of $LIMIT s reached" >&2
			break
		fi
		# No test is silent that long: every one is bounded by its guest
		# timeout, and the guest clock runs faster than the wall clock.
		if [ $(( $(date +%s) - $(stat -c %Y "$serial") )) -ge "$BOCHS_STALL" ]; then
			echo "run-vm: bochs stalled: no serial output for $BOCHS_STALL s" >&2
			: > "$dir/stalled"
			break
		fi
		sleep 2
	done
	# SIGKILL (2.7's term display caught SIGTERM); a killed Bochs leaves
	# its disk's lock file behind.
	kill -KILL -- -"$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
	[ -n "$tail_pid" ] && kill "$tail_pid" 2> /dev/null
	rm -f "$dir/disk.img.lock"
	tr -d '\r' < "$serial" > "$LOG"
}

start=$(date +%s)
"run_$EMU"
log "$EMU: guest ran for $(( $(date +%s) - start )) s wall clock"
# Exit status 3: the emulator stopped executing (see run_bochs).
[ -e "$OUT_DIR/$EMU/stalled" ] && exit 3
grep -q "^$END_MARKER" "$LOG"
