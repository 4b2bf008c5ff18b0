# SPDX-License-Identifier: GPL-2.0
#
# kvm-memattr: the two commands that matter are `make run` and `make check`;
# both set up everything they need on a fresh machine.  See README.md.
#
# When kbuild reads this directory (make -C $KDIR M=$PWD), it uses Kbuild.

TESTBED := tools/testbed
CPU ?= amd

.PHONY: all deps kernel module selftests vmm qemu initramfs unit check run \
	bench fuzz clean kernel-debug module-debug initramfs-debug bochs

# Bochs is built only for what runs on it: check unless EMUS leaves it out,
# and run and bench with CPU=intel.
CHECK_BOCHS := $(if $(filter bochs,$(or $(EMUS),qemu bochs)),bochs)
CPU_BOCHS := $(if $(filter intel,$(CPU)),bochs)

all: initramfs

deps:
	@$(TESTBED)/install-deps.sh

kernel: deps
	@$(TESTBED)/build-kernel.sh

module: kernel
	@$(TESTBED)/build-module.sh

selftests: kernel
	@$(TESTBED)/build-selftests.sh

# What runs in the test VM on the VMM side: the QEMU test harness and the
# rust-vmm crate's binaries.
vmm: deps
	@$(TESTBED)/build-vmm.sh

# QEMU 10.0 from Debian 13's source with patches/qemu-10.0: the VMM that the
# tests run inside the test VM, cached outside the clone like the kernel.
qemu: deps
	@$(TESTBED)/build-qemu.sh > /dev/null

initramfs: module selftests vmm qemu
	@$(TESTBED)/mkinitramfs.sh

# Bochs 3.0 from Debian 13's source with patches/bochs-3.0: the Intel
# testbed's emulator, cached outside the clone like the kernel.
bochs: deps
	@$(TESTBED)/build-bochs.sh > /dev/null

# The same kernel with KASAN, lockdep, UBSAN, kmemleak...: make check runs
# the project's selftests on it too (kernel/kvm_memattr-debug.config).
kernel-debug: kernel
	@KERNEL_FLAVOR=debug $(TESTBED)/build-kernel.sh

module-debug: kernel-debug
	@KERNEL_FLAVOR=debug $(TESTBED)/build-module.sh

initramfs-debug: module-debug selftests vmm qemu
	@KERNEL_FLAVOR=debug $(TESTBED)/mkinitramfs.sh

# Host unit tests of the module's pure logic; needs no kernel.
unit:
	cd rust/host && cargo test

# EMUS="qemu bochs" and ONLY=<test name> narrow the run; see README.md.
check: initramfs initramfs-debug $(CHECK_BOCHS)
	@$(TESTBED)/check.sh

# CPU=amd boots QEMU (SVM + NPT), CPU=intel boots Bochs (VMX + EPT).
run: initramfs $(CPU_BOCHS)
	@$(TESTBED)/run-vm.sh $(if $(filter intel,$(CPU)),bochs,qemu) run build/run-$(CPU).log

# The uAPI fuzzer for longer than make check runs it: FUZZ_SECONDS (default
# 300) on each MMU, FUZZ_SEED=0x... to replay a failure (CPU= as for run).
fuzz: initramfs $(CPU_BOCHS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) $(TESTBED)/run-vm.sh \
		$(if $(filter intel,$(CPU)),bochs,qemu) fuzz build/fuzz-$(CPU).log

# Benchmarks against upstream KVM, in one boot; prints tables (CPU= as for run)
# and draws their curves in build/bench-$(CPU).svg.  BENCH_CLOCK=wall measures
# time instead of QEMU's instruction count (Bochs measures time).
BENCH_CLOCK ?= instructions
bench: initramfs $(CPU_BOCHS)
	@BENCH_CLOCK=$(BENCH_CLOCK) $(TESTBED)/run-vm.sh \
		$(if $(filter intel,$(CPU)),bochs,qemu) bench build/bench-$(CPU).log
	@python3 tools/bench/plot.py build/bench-$(CPU).log

clean:
	rm -rf build rust/host/target
	find rust/kvm_memattr \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.d' \) -delete
	rm -f modules.order Module.symvers rust/kvm_memattr/modules.order
