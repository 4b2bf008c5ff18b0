// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes against the accesses KVM itself makes to guest memory
 * through its host mapping, not through EPT/NPT: SVM VMSAVE/VMLOAD, the
 * pages of KVM's paravirtual MSRs (wall clock, kvmclock, steal time, PV EOI,
 * async PF), and the decode that skips an instruction KVM completed.  A
 * denied access ends KVM_RUN with KVM_EXIT_MEMORY_FAULT for the page and
 * changes nothing, KVM_RUN retries the instruction once allowed, and KVM's
 * own updates (kvmclock, steal time, PV EOI) skip a page they may not write.
 * kvm_memattr_set_race_test.c covers an emulated write that is already past
 * its check when SET forbids it.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"

#define TEST_GPA	0xc0000000ull
#define TEST_SLOT	10
#define TEST_NPAGES	5

#define FILL_BYTE	0x5a
#define FILL32		0x5a5a5a5au

/* A port and an MSR that only userspace handles (0x7e has a KVM quirk). */
#define TEST_PORT	0x55
#define TEST_MSR	0x474f4f00

/* The vector of async PF "page ready" interrupts (Linux's 0xf3). */
#define ASYNC_PF_VECTOR	0xf3

/* Case 6: the PV EOI flag, in the middle of page 3, and its interrupt. */
#define PV_EOI_OFFSET	0x104
#define PV_EOI_GPA	(TEST_GPA + 3 * PAGE_SIZE + PV_EOI_OFFSET)
#define PV_EOI_VECTOR	0xe0
#define PV_EOI_TRIES	8
#define APIC_ISR	0x100

enum guest_op {
	OP_NOP,
	OP_WRMSR,
	OP_SET_SVME,
	OP_VMSAVE,
	OP_VMLOAD,
	OP_CALL,
	OP_PV_EOI_IRQS,
};

/* The interrupts the guest's handler of PV_EOI_VECTOR took, and left to KVM. */
static uint32_t pv_eoi_irqs, pv_eoi_taken;

/*
 * As Linux's kvm_guest_apic_eoi_write(): a set PV EOI flag is cleared by one
 * BTR, which no exit splits, and the EOI left to KVM; else EOI via the APIC.
 * Unlike Linux, a clear flag is not written (on a NO_WRITE page, it exits).
 */
static void guest_pv_eoi_handler(struct ex_regs *regs)
{
	uint32_t *flag = (uint32_t *)PV_EOI_GPA;
	bool was_set = false;

	WRITE_ONCE(pv_eoi_irqs, pv_eoi_irqs + 1);
	if (READ_ONCE(*flag) & KVM_PV_EOI_ENABLED)
		asm volatile("btrl $0, %0" : "+m"(*flag), "=@ccc"(was_set) : : "memory");
	if (was_set)
		WRITE_ONCE(pv_eoi_taken, pv_eoi_taken + 1);
	else
		xapic_write_reg(APIC_EOI, 0);
}

/* The @n-th self-IPI, taken in a window of interrupts enabled. */
static void guest_self_ipi(uint32_t n)
{
	xapic_write_reg(APIC_ICR, APIC_DEST_SELF | APIC_DM_FIXED | PV_EOI_VECTOR);
	asm volatile("sti; nop; nop; cli" : : : "memory");
	__GUEST_ASSERT(READ_ONCE(pv_eoi_irqs) == n,
		       "Self-IPI %u not delivered: is a vector still in service?", n);
}

/*
 * Self-IPIs until the handler finds the PV EOI flag set, PV_EOI_TRIES at
 * most (an exit between KVM's write and the BTR, e.g. the first fault on a
 * page the handler uses, makes KVM clear the flag again), then one more,
 * which arrives only if the one before was EOIed.
 */
static void guest_pv_eoi_irqs(void)
{
	uint32_t i;

	xapic_enable();
	WRITE_ONCE(pv_eoi_irqs, 0);
	WRITE_ONCE(pv_eoi_taken, 0);
	for (i = 1; i <= PV_EOI_TRIES && !READ_ONCE(pv_eoi_taken); i++)
		guest_self_ipi(i);
	guest_self_ipi(i);
}

static void guest_run_op(uint64_t op, uint64_t arg, uint64_t val)
{
	switch (op) {
	case OP_WRMSR:
		memattr_guest_wrmsr(arg, val);
		break;
	case OP_SET_SVME:
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
		break;
	case OP_VMSAVE:
		asm volatile("vmsave %0" : : "a"(arg) : "memory");
		break;
	case OP_VMLOAD:
		asm volatile("vmload %0" : : "a"(arg) : "memory");
		break;
	case OP_CALL:
		((void (*)(void))arg)();
		break;
	case OP_PV_EOI_IRQS:
		guest_pv_eoi_irqs();
		break;
	}
}

static void guest_code(void)
{
	memattr_guest_loop(guest_run_op);
}

static uint64_t page_gpa(int page)
{
	return TEST_GPA + page * PAGE_SIZE;
}

static uint8_t *page_hva(struct kvm_vm *vm, int page)
{
	return addr_gpa2hva(vm, page_gpa(page));
}

static void do_op(struct kvm_vcpu *vcpu, enum guest_op op, uint64_t arg,
		  uint64_t val, const char *what)
{
	memattr_start_op(vcpu->vm, op, arg, val);
	memattr_finish_op(vcpu, what);
}

static bool page_filled(const uint8_t *p)
{
	int i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] != FILL_BYTE)
			return false;
	return true;
}

static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create_with_one_vcpu(vcpu, guest_code);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_NPAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, TEST_NPAGES);
	memset(page_hva(vm, 0), FILL_BYTE, TEST_NPAGES * PAGE_SIZE);
	memattr_run_to_sync(*vcpu, 0, "start");
	return vm;
}

/*
 * Case 1: SVM VMSAVE and VMLOAD.  When KVM intercepts them (no virtual
 * VMLOAD/VMSAVE, e.g. QEMU TCG, or shadow paging), it performs them itself on
 * a kvm_vcpu_map() of the page at rax; with virtual VMLOAD/VMSAVE the CPU
 * accesses the page through NPT.  Either way: VMSAVE to a NO_WRITE page exits
 * WRITE and leaves the page alone, VMLOAD from a no-access page exits READ;
 * both complete once allowed.  Buggy kernel (intercepted): VMSAVE writes the
 * page, VMLOAD reads it, without an exit.
 */
static bool test_svm_vmsave_vmload(void)
{
	uint64_t save_gpa = page_gpa(0), load_gpa = page_gpa(1);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint8_t *save;

	if (!host_cpu_is_amd) {
		pr_info("VMSAVE/VMLOAD: not applicable, Intel CPUs do not have them\n");
		return false;
	}
	if (!kvm_cpu_has(X86_FEATURE_SVM)) {
		pr_info("VMSAVE/VMLOAD: not applicable, KVM does not give guests SVM (kvm_amd nested=%d)\n",
			get_kvm_amd_param_integer("nested"));
		return false;
	}
	pr_info("VMSAVE/VMLOAD: kvm_amd vls=%d (virtual VMLOAD/VMSAVE, if the CPU has it), npt=%d\n",
		get_kvm_amd_param_integer("vls"), kvm_is_tdp_enabled());

	vm = create_vm(&vcpu);
	save = page_hva(vm, 0);
	do_op(vcpu, OP_SET_SVME, 0, 0, "set EFER.SVME");

	memattr_deny_then_complete(vcpu, OP_VMSAVE, save_gpa, 0, save_gpa, save,
				   NW, KVM_MEMORY_EXIT_FLAG_WRITE,
				   "VMSAVE to a NO_WRITE page");
	TEST_ASSERT(!page_filled(save),
		    "The retried VMSAVE did not write its save area");

	/* Load back the state just saved, so that the guest runs on. */
	memcpy(page_hva(vm, 1), save, PAGE_SIZE);
	memattr_deny_then_complete(vcpu, OP_VMLOAD, load_gpa, 0, load_gpa,
				   page_hva(vm, 1), NR | NW | NX,
				   KVM_MEMORY_EXIT_FLAG_READ,
				   "VMLOAD from a no-access page");

	kvm_vm_free(vm);
	return true;
}

static void force_clock_update(struct kvm_vm *vm)
{
	struct kvm_clock_data data = {};

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	vm_ioctl(vm, KVM_SET_CLOCK, &data);
}

/* The 32-bit version field at @offset of the page: odd while KVM writes. */
static uint32_t version_at(struct kvm_vm *vm, int page, int offset)
{
	return *(uint32_t *)(page_hva(vm, page) + offset);
}

/*
 * WRMSR @msr = @value, which makes KVM write the page @page or register it
 * for KVM's writes, on a NO_WRITE page: it exits WRITE and changes nothing;
 * once allowed, it is retried, and the guest reads @value back from @msr.
 * If KVM writes the page at once, @offset >= 0 is that of the version it
 * writes there.
 */
static void test_wrmsr_denied(struct kvm_vcpu *vcpu, uint32_t msr, int page,
			      uint64_t value, int offset, const char *what)
{
	uint32_t version;

	memattr_deny_then_complete(vcpu, OP_WRMSR, msr, value, page_gpa(page),
				   page_hva(vcpu->vm, page), NW,
				   KVM_MEMORY_EXIT_FLAG_WRITE, what);
	if (offset < 0)
		return;
	version = version_at(vcpu->vm, page, offset);
	TEST_ASSERT(version != FILL32 && version && !(version & 1),
		    "%s: the retried WRMSR did not make KVM write the page: version 0x%x",
		    what, version);
}

/*
 * The registered page @page is made NO_WRITE: KVM_RUNs, after a clock
 * update if @clock_update, leave it byte for byte alone.  Once writable
 * again, the next KVM_RUN writes it: the version at @offset changes.
 */
static void test_registered_page(struct kvm_vcpu *vcpu, int page, int offset,
				 bool clock_update, const char *what)
{
	struct kvm_vm *vm = vcpu->vm;
	uint8_t *hva = page_hva(vm, page), snapshot[PAGE_SIZE];
	uint32_t version = version_at(vm, page, offset);
	int i;

	memattr_set(vm, page_gpa(page), PAGE_SIZE, NW);
	memcpy(snapshot, hva, PAGE_SIZE);
	if (clock_update)
		force_clock_update(vm);
	for (i = 0; i < 3; i++)
		do_op(vcpu, OP_NOP, 0, 0, what);
	TEST_ASSERT(!memcmp(snapshot, hva, PAGE_SIZE),
		    "%s: KVM wrote the page after it was made NO_WRITE: version 0x%x -> 0x%x",
		    what, version, version_at(vm, page, offset));

	memattr_set(vm, page_gpa(page), PAGE_SIZE, 0);
	if (clock_update)
		force_clock_update(vm);
	do_op(vcpu, OP_NOP, 0, 0, what);
	TEST_ASSERT(version_at(vm, page, offset) != version,
		    "%s: KVM did not write the page again once writable: version 0x%x",
		    what, version);
}

/*
 * Case 2: KVM's paravirtual MSRs, each on its own page.  Fixed kernel: a
 * WRMSR that would make KVM write a NO_WRITE page, or register it for KVM's
 * writes, exits WRITE; KVM's own updates skip a registered page made
 * NO_WRITE (no exit), and write it again once it is writable.
 */
static bool test_pv_msrs(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_KVM_CLOCKSOURCE2) &&
		    kvm_cpu_has(X86_FEATURE_KVM_STEAL_TIME),
		    "KVM should support kvmclock and steal time (CONFIG_SCHED_INFO)");
	vm = create_vm(&vcpu);
	TEST_ASSERT(vcpu_cpuid_has(vcpu, X86_FEATURE_KVM_CLOCKSOURCE2) &&
		    vcpu_cpuid_has(vcpu, X86_FEATURE_KVM_STEAL_TIME),
		    "The vCPU's CPUID should have kvmclock and steal time");

	/*
	 * 2a: MSR_KVM_WALL_CLOCK_NEW writes the wall clock to the page at
	 * once.  Buggy kernel: a NO_WRITE page is written, no exit.
	 */
	test_wrmsr_denied(vcpu, MSR_KVM_WALL_CLOCK_NEW, 0, page_gpa(0), 0,
			  "MSR_KVM_WALL_CLOCK_NEW at a NO_WRITE page");

	/*
	 * 2b: MSR_KVM_SYSTEM_TIME_NEW registers a kvmclock page, which KVM
	 * writes on every clock update (KVM_SET_CLOCK requests one for every
	 * vCPU) through a gfn_to_pfn_cache.  Buggy kernel: a NO_WRITE page is
	 * registered and written, and a page made NO_WRITE after registration
	 * is written on the next update.
	 */
	test_wrmsr_denied(vcpu, MSR_KVM_SYSTEM_TIME_NEW, 1, page_gpa(1) | 1, 0,
			  "MSR_KVM_SYSTEM_TIME_NEW at a NO_WRITE page");
	test_registered_page(vcpu, 1, 0, true, "kvmclock page made NO_WRITE");

	/*
	 * 2c: MSR_KVM_STEAL_TIME registers a steal time page, which KVM writes
	 * at every KVM_RUN (vcpu_load requests an update), and on preemption,
	 * through a gfn_to_hva_cache.  Buggy kernel: as for kvmclock.
	 */
	test_wrmsr_denied(vcpu, MSR_KVM_STEAL_TIME, 2,
			  page_gpa(2) | KVM_MSR_ENABLED,
			  offsetof(struct kvm_steal_time, version),
			  "MSR_KVM_STEAL_TIME at a NO_WRITE page");
	test_registered_page(vcpu, 2, offsetof(struct kvm_steal_time, version),
			     false, "steal time page made NO_WRITE");
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 4: MSR_KVM_PV_EOI_EN registers a PV EOI flag (kvm_lapic_set_pv_eoi()
 * sets up a gfn_to_hva_cache for it) that KVM writes when it injects an
 * interrupt and clears on the guest's EOI.  The WRMSR itself writes nothing,
 * and nothing is injected here.  The flag is in the middle of its page: the
 * exit is for the whole page.  Buggy kernel: a NO_WRITE page is registered,
 * no exit.
 */
static bool test_pv_eoi(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_KVM_PV_EOI), "KVM should support PV EOI");
	vm = create_vm(&vcpu);
	TEST_ASSERT(vcpu_cpuid_has(vcpu, X86_FEATURE_KVM_PV_EOI),
		    "The vCPU's CPUID should have PV EOI");
	test_wrmsr_denied(vcpu, MSR_KVM_PV_EOI_EN, 3,
			  (page_gpa(3) + 0x104) | KVM_MSR_ENABLED, -1,
			  "MSR_KVM_PV_EOI_EN at a NO_WRITE page");
	kvm_vm_free(vm);
	return true;
}

/*
 * A new VM registers the PV EOI flag, its page is made NO_WRITE right after
 * if @protect, and the guest takes guest_pv_eoi_irqs() without exits.  If
 * @pv_eoi, KVM set the flag for some interrupt and EOIed it for the guest;
 * else the page is left byte for byte alone.  None is left in service.
 */
static void test_pv_eoi_irqs(bool protect, bool pv_eoi, const char *what)
{
	uint8_t *page, snapshot[PAGE_SIZE];
	struct kvm_lapic_state lapic;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int i;

	vm = create_vm(&vcpu);
	virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	vm_install_exception_handler(vm, PV_EOI_VECTOR, guest_pv_eoi_handler);
	page = page_hva(vm, 3);
	do_op(vcpu, OP_WRMSR, MSR_KVM_PV_EOI_EN, PV_EOI_GPA | KVM_MSR_ENABLED, what);
	if (protect)
		memattr_set(vm, page_gpa(3), PAGE_SIZE, NW);
	memcpy(snapshot, page, PAGE_SIZE);
	do_op(vcpu, OP_PV_EOI_IRQS, 0, 0, what);
	sync_global_from_guest(vm, pv_eoi_irqs);
	sync_global_from_guest(vm, pv_eoi_taken);
	vcpu_ioctl(vcpu, KVM_GET_LAPIC, &lapic);
	for (i = 0; i < 8; i++)
		TEST_ASSERT(!*(uint32_t *)&lapic.regs[APIC_ISR + i * 0x10],
			    "%s: ISR[%d] = 0x%x: a vector is still in service", what,
			    i, *(uint32_t *)&lapic.regs[APIC_ISR + i * 0x10]);
	TEST_ASSERT(pv_eoi ? pv_eoi_taken : !pv_eoi_taken && pv_eoi_irqs == PV_EOI_TRIES + 1,
		    "%s: the handler found the PV EOI flag set for %u of %u interrupts, expected %s",
		    what, pv_eoi_taken, pv_eoi_irqs,
		    pv_eoi ? "some: KVM should write it" : "none, of PV_EOI_TRIES + 1");
	/* KVM wrote 1 over the 0x5a, then the guest (or KVM) cleared it. */
	if (pv_eoi)
		snapshot[PV_EOI_OFFSET] = 0;
	TEST_ASSERT(!memcmp(snapshot, page, PAGE_SIZE),
		    "%s: the page is not as expected: the flag byte is 0x%x, expected 0x%x, or another byte changed",
		    what, page[PV_EOI_OFFSET], snapshot[PV_EOI_OFFSET]);
	kvm_vm_free(vm);
}

/*
 * Case 6: KVM's later writes to a PV EOI page registered before it was made
 * NO_WRITE.  To inject an interrupt whose EOI it can take over, KVM sets the
 * flag (pv_eoi_set_pending(), a kvm_write_guest_cached()), marks PV EOI
 * pending, and EOIs for the guest on the next exit if the guest cleared it.
 * On a NO_WRITE page the write is refused (-EFAULT, no exit) and nothing is
 * pending: the guest finds the flag clear and EOIs through its APIC, every
 * interrupt arrives, the page is unchanged, the VMM sees no exit.  This pins
 * today's behaviour, not a hole.  Control, page writable: the guest finds
 * the flag set, clears it, skips the APIC EOI, and the next interrupt still
 * arrives.  With APICv (AVIC), the ISR is the CPU's, highest_isr_cache stays
 * -1 and KVM never writes the flag: there is no later write to refuse.
 * (Bochs' APICv also delivers the guest's xAPIC self-IPI as vector 0.)
 */
static bool test_pv_eoi_protected_later(void)
{
	bool apicv = host_cpu_is_intel ? get_kvm_intel_param_bool("enable_apicv") :
					 get_kvm_amd_param_bool("avic");

	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_KVM_PV_EOI), "KVM should support PV EOI");
	if (apicv) {
		pr_info("PV EOI page made NO_WRITE later: not applicable: with %s, KVM never writes the PV EOI flag\n",
			host_cpu_is_intel ? "APICv" : "AVIC");
		return true;
	}
	test_pv_eoi_irqs(false, true, "PV EOI flag, page writable");
	test_pv_eoi_irqs(true, false, "PV EOI flag, page made NO_WRITE after registration");
	return true;
}

/*
 * Case 5: MSR_KVM_ASYNC_PF_EN registers the async PF data (a u64 at a
 * 64-byte aligned gpa, in a gfn_to_hva_cache) that KVM reads and writes to
 * deliver "page not present" and "page ready" tokens.  KVM registers it only
 * when the guest asks for delivery as an interrupt (kvm_pv_async_pf_enabled()),
 * whose vector MSR_KVM_ASYNC_PF_INT gives first.  No async PF happens here
 * (no SEND_ALWAYS, and the guest runs at CPL 0), and the broadcast wakeup
 * that enabling queues stays queued (its token slot holds 0x5a5a5a5a, not 0):
 * the WRMSR writes nothing.  The data is in the middle of its page.  Buggy
 * kernel: a NO_WRITE page is registered, no exit.
 */
static bool test_async_pf(void)
{
	uint64_t value = (page_gpa(4) + 0x40) | KVM_ASYNC_PF_ENABLED |
			 KVM_ASYNC_PF_DELIVERY_AS_INT;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_KVM_ASYNC_PF) &&
		    kvm_cpu_has(X86_FEATURE_KVM_ASYNC_PF_INT),
		    "KVM should support async PF delivered as an interrupt");
	vm = create_vm(&vcpu);
	TEST_ASSERT(vcpu_cpuid_has(vcpu, X86_FEATURE_KVM_ASYNC_PF) &&
		    vcpu_cpuid_has(vcpu, X86_FEATURE_KVM_ASYNC_PF_INT),
		    "The vCPU's CPUID should have async PF delivered as an interrupt");
	do_op(vcpu, OP_WRMSR, MSR_KVM_ASYNC_PF_INT, ASYNC_PF_VECTOR,
	      "MSR_KVM_ASYNC_PF_INT");
	test_wrmsr_denied(vcpu, MSR_KVM_ASYNC_PF_EN, 4, value, -1,
			  "MSR_KVM_ASYNC_PF_EN at a NO_WRITE page");
	kvm_vm_free(vm);
	return true;
}

/* An exit that userspace completes: the OUT or the WRMSR of case 3. */
static bool is_user_exit(struct kvm_run *run)
{
	if (run->exit_reason == KVM_EXIT_IO)
		return run->io.port == TEST_PORT &&
		       run->io.direction == KVM_EXIT_IO_OUT;
	if (run->exit_reason == KVM_EXIT_X86_WRMSR) {
		TEST_ASSERT(run->msr.index == TEST_MSR &&
			    run->msr.reason == KVM_MSR_EXIT_REASON_UNKNOWN,
			    "WRMSR exit for MSR 0x%x, reason 0x%x",
			    run->msr.index, run->msr.reason);
		run->msr.error = 0;
		return true;
	}
	return false;
}

/*
 * Make the guest call @len bytes of @code, put at the start of @page: an
 * instruction that exits to userspace, then "ret" at @ret_offset.  On that
 * exit, make the page NO_EXEC.  KVM completes the instruction, advancing RIP
 * past it, and the fetch of the "ret" exits.
 */
static void test_completion(struct kvm_vcpu *vcpu, int page, const uint8_t *code,
			    int len, int ret_offset, const char *what)
{
	struct kvm_vm *vm = vcpu->vm;
	uint64_t gpa = page_gpa(page);
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	int r, exits = 0;

	memcpy(page_hva(vm, page), code, len);
	memattr_start_op(vm, OP_CALL, gpa, 0);
	vcpu_run(vcpu);
	TEST_ASSERT(is_user_exit(run), "%s: expected its exit, got %s", what,
		    exit_reason_str(run->exit_reason));
	exits++;

	memattr_set(vm, gpa, PAGE_SIZE, NX);
	r = _vcpu_run(vcpu);
	TEST_ASSERT(r || !is_user_exit(run),
		    "%s: executed a second time: KVM did not complete it once userspace had",
		    what);
	assert_memory_fault(vcpu, r, gpa, PAGE_SIZE, KVM_MEMORY_EXIT_FLAG_EXEC, what);
	vcpu_regs_get(vcpu, &regs);
	TEST_ASSERT(regs.rip == gpa + ret_offset,
		    "%s: the fetch exited at RIP 0x%llx, expected 0x%lx (the ret): KVM did not complete the instruction",
		    what, regs.rip, gpa + ret_offset);

	memattr_set(vm, gpa, PAGE_SIZE, 0);
	for (;;) {
		r = _vcpu_run(vcpu);
		if (r || !is_user_exit(run))
			break;
		exits++;
	}
	TEST_ASSERT(!r,
		    "%s: the function should return once its page is executable, KVM_RUN failed (errno %d), exit reason %s",
		    what, errno, exit_reason_str(run->exit_reason));
	memattr_assert_sync(vcpu, 1, what);
	TEST_ASSERT(exits == 1, "%s: executed %d times, expected once", what, exits);
	memattr_run_to_sync(vcpu, 0, what);
}

/*
 * Case 3: skipping an instruction KVM has already completed.  SVM without
 * NRIPS has no length for most intercepted instructions: KVM decodes the
 * instruction again (EMULTYPE_SKIP) to move RIP past it, e.g. when a WRMSR
 * that userspace handled completes on the next KVM_RUN.  The CPU fetched and
 * executed the instruction already; that decode is not a guest fetch and
 * must not be denied.  Buggy kernel: the decode is checked as a fetch, the
 * denial is taken for success, RIP stays on the instruction, and the guest
 * executes it a second time once allowed.  VMX, and SVM with NRIPS, get the
 * length from the CPU; a fast OUT gets it from the IOIO exit on SVM too: the
 * expectations are the same everywhere.
 */
static bool test_skip_completed(void)
{
	static const uint8_t out_code[] = { 0xe6, TEST_PORT, 0xc3 };
	static const uint8_t wrmsr_code[] = {
		0xb9, TEST_MSR & 0xff, (TEST_MSR >> 8) & 0xff,
		(TEST_MSR >> 16) & 0xff, TEST_MSR >> 24,	/* mov $TEST_MSR, %ecx */
		0x0f, 0x30,					/* wrmsr */
		0xc3,						/* ret */
	};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int nrips;

	if (host_cpu_is_amd) {
		nrips = get_kvm_amd_param_integer("nrips");
		pr_info("Completed instructions: kvm_amd nrips=%d: %s\n", nrips,
			nrips ? "the CPU gives the next RIP" :
				"KVM decodes intercepted instructions to skip them");
	} else {
		pr_info("Completed instructions: VMX gives the instruction length, KVM does not decode\n");
	}

	vm = create_vm(&vcpu);
	vm_enable_cap(vm, KVM_CAP_X86_USER_SPACE_MSR, KVM_MSR_EXIT_REASON_UNKNOWN);
	test_completion(vcpu, 0, out_code, sizeof(out_code), 2,
			"OUT completed by userspace");
	test_completion(vcpu, 1, wrmsr_code, sizeof(wrmsr_code), 7,
			"WRMSR completed by userspace");
	kvm_vm_free(vm);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. SVM VMSAVE/VMLOAD", test_svm_vmsave_vmload },
		{ "2. paravirtual MSRs (wall clock, kvmclock, steal time)", test_pv_msrs },
		{ "3. skipping an instruction userspace completed", test_skip_completed },
		{ "4. PV EOI MSR", test_pv_eoi },
		{ "5. async PF MSR", test_async_pf },
		{ "6. PV EOI page made NO_WRITE later", test_pv_eoi_protected_later },
	};

	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);
	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
