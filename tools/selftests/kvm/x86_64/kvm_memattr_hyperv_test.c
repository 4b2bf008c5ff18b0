// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes against the accesses KVM's Hyper-V emulation makes to
 * guest memory for the guest: the write of the hypercall page when the guest
 * enables it (WRMSR HV_X64_MSR_HYPERCALL), the reads of the input of
 * non-fast hypercalls that KVM handles itself (HvFlushVirtualAddressSpace,
 * HvSendSyntheticClusterIpi), and the guest's registration of the pages KVM
 * reads and writes on its own later (VP assist, reference TSC, SynIC message
 * and event flags pages).  Like the CPU's own accesses, a denied access
 * ends KVM_RUN with KVM_EXIT_MEMORY_FAULT for the page and changes nothing,
 * and KVM_RUN retries the instruction once the VMM relaxes the attributes.
 * And one access KVM makes on its own: the delivery of a synthetic timer's
 * message, which reads the slot before it writes.
 * KVM's in-kernel hypercalls return only a status, never write an output
 * page: there is no output case.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "hyperv.h"
#include "test_util.h"
#include "kvm_memattr_util.h"

#define TEST_GPA	0xc0000000ull
#define TEST_SLOT	10
#define TEST_NPAGES	7

/* The pages of TEST_SLOT, nothing else in each. */
#define HYPERCALL_PAGE	0
#define FLUSH_PAGE	1
#define IPI_PAGE	2
#define VP_ASSIST_PAGE	3
#define TSC_PAGE	4
#define SYNIC_MSG_PAGE	5
#define SYNIC_EVT_PAGE	6

#define FILL_BYTE	0x5a

#ifndef HV_X64_MSR_HYPERCALL_ENABLE
#define HV_X64_MSR_HYPERCALL_ENABLE	BIT_ULL(0)
#endif
/* The enable bits of the other page MSRs (TLFS), all bit 0. */
#define HV_X64_MSR_TSC_REFERENCE_ENABLE	BIT_ULL(0)
#define HV_SYNIC_SIMP_ENABLE		BIT_ULL(0)
#define HV_SYNIC_SIEFP_ENABLE		BIT_ULL(0)

/* SynIC (TLFS): SCONTROL's enable, a synthetic timer's config, messages. */
#define HV_SYNIC_CONTROL_ENABLE		BIT_ULL(0)
#define STIMER_ENABLE			BIT_ULL(0)
#define STIMER_AUTO_ENABLE		BIT_ULL(3)
#define STIMER_SINTX_SHIFT		16
#define HVMSG_NONE			0
#define HVMSG_TIMER_EXPIRED		0x80000010u
#define MESSAGE_SIZE			256
/* Timer 0 sends its messages to SINT 2, vector 0x41 (left pending: IF=0). */
#define TIMER_SINT			2
#define TIMER_VECTOR			0x41

/* A vector KVM accepts for a synthetic IPI (HV_IPI_LOW_VECTOR is 0x10). */
#define IPI_VECTOR	0x40

struct hv_tlb_flush {
	u64 address_space;
	u64 flags;
	u64 processor_mask;
} __packed;

struct hv_send_ipi {
	u32 vector;
	u32 reserved;
	u64 cpu_mask;
} __packed;

enum guest_op {
	OP_ENABLE_HYPERCALL_PAGE,
	OP_HYPERCALL,
	OP_WRMSR,
};

/*
 * The guest's hypercalls are the vmcall of hyperv.h in its code, in slot 0;
 * on AMD, KVM's emulator patches it to vmmcall there, in unprotected memory.
 */
static void guest_run_op(uint64_t op, uint64_t arg, uint64_t val)
{
	uint64_t status;
	uint8_t vector;

	switch (op) {
	case OP_ENABLE_HYPERCALL_PAGE:
		wrmsr(HV_X64_MSR_GUEST_OS_ID, HYPERV_LINUX_OS_ID);
		vector = wrmsr_safe(HV_X64_MSR_HYPERCALL, arg);
		__GUEST_ASSERT(!vector,
			       "WRMSR(HV_X64_MSR_HYPERCALL, 0x%lx) took vector %u: KVM failed to write the hypercall page",
			       arg, vector);
		GUEST_ASSERT_EQ(rdmsr(HV_X64_MSR_HYPERCALL), arg);
		break;
	case OP_HYPERCALL:
		vector = __hyperv_hypercall(arg, val, 0, &status);
		__GUEST_ASSERT(!vector && (status & 0xffff) == HV_STATUS_SUCCESS,
			       "Hypercall 0x%lx with input at 0x%lx: vector %u, status 0x%lx, expected success",
			       arg, val, vector, status);
		break;
	case OP_WRMSR:
		memattr_guest_wrmsr(arg, val);
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

/*
 * A vCPU with Hyper-V CPUID, parked in its command loop; @write_only enables
 * KVM_CAP_MEMORY_ATTRIBUTES_EMULATED (NO_READ without NO_WRITE everywhere)
 * before the vCPU exists.
 */
static struct kvm_vm *__create_vm(struct kvm_vcpu **vcpu, bool write_only)
{
	struct kvm_vm *vm = vm_create(1);

	if (write_only)
		vm_enable_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED, 0);
	*vcpu = vm_vcpu_add(vm, 0, guest_code);
	vcpu_set_hv_cpuid(*vcpu);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_NPAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, TEST_NPAGES);
	memset(page_hva(vm, 0), FILL_BYTE, TEST_NPAGES * PAGE_SIZE);
	memattr_run_to_sync(*vcpu, 0, "start");
	return vm;
}

static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu)
{
	return __create_vm(vcpu, false);
}

static void enable_hypercall_page(struct kvm_vcpu *vcpu)
{
	memattr_start_op(vcpu->vm, OP_ENABLE_HYPERCALL_PAGE,
			 page_gpa(HYPERCALL_PAGE) | HV_X64_MSR_HYPERCALL_ENABLE, 0);
	memattr_finish_op(vcpu, "enable the hypercall page");
}

/*
 * Case 1: the hypercall page.  WRMSR HV_X64_MSR_HYPERCALL with the enable
 * bit makes KVM write "vmcall; ret" (AMD: vmmcall) to the page
 * (kvm_hv_set_msr_pw(), kvm_vcpu_write_guest()).  On a NO_WRITE page:
 * exit WRITE for the page, which stays as it was; once writable, the WRMSR
 * is retried, completes and the page holds the sequence.  Buggy kernel: the
 * guest accessor refuses the write silently, WRMSR fails and the guest takes
 * #GP; no exit.
 */
static bool test_hypercall_page(void)
{
	uint8_t expected[] = { 0x0f, 0x01, host_cpu_is_intel ? 0xc1 : 0xd9, 0xc3 };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint8_t *hva;
	int i;

	vm = create_vm(&vcpu);
	hva = page_hva(vm, HYPERCALL_PAGE);
	memattr_deny_then_complete(vcpu, OP_ENABLE_HYPERCALL_PAGE,
				   page_gpa(HYPERCALL_PAGE) | HV_X64_MSR_HYPERCALL_ENABLE,
				   0, page_gpa(HYPERCALL_PAGE), hva, NW,
				   KVM_MEMORY_EXIT_FLAG_WRITE,
				   "HV_X64_MSR_HYPERCALL at a NO_WRITE page");
	TEST_ASSERT(!memcmp(hva, expected, sizeof(expected)),
		    "The retried WRMSR should write %s; ret to the hypercall page, found %02x %02x %02x %02x",
		    host_cpu_is_intel ? "vmcall" : "vmmcall",
		    hva[0], hva[1], hva[2], hva[3]);
	for (i = sizeof(expected); i < PAGE_SIZE; i++)
		TEST_ASSERT(hva[i] == FILL_BYTE,
			    "Byte %d of the hypercall page is 0x%x, expected the fill 0x%x",
			    i, hva[i], FILL_BYTE);
	kvm_vm_free(vm);
	pr_info("Hypercall page: enabling it on a NO_WRITE page exits WRITE and writes nothing; retried, it writes %s; ret\n",
		host_cpu_is_intel ? "vmcall" : "vmmcall");
	return true;
}

/*
 * Case 2: the input of non-fast hypercalls, which KVM reads from the gpa in
 * rdx (kvm_hv_flush_tlb(), kvm_hv_send_ipi(): kvm_read_guest()).  With the
 * input page no-access: exit READ for the page; once allowed, the hypercall
 * is retried and succeeds.  Buggy kernel: the uncached read accessor is not
 * checked, KVM reads the page and the hypercall succeeds without an exit.
 */
static bool test_hypercall_input(void)
{
	struct hv_tlb_flush *flush;
	struct hv_send_ipi *ipi;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = create_vm(&vcpu);
	enable_hypercall_page(vcpu);

	/* 2a: HvFlushVirtualAddressSpace, all processors and address spaces. */
	flush = (struct hv_tlb_flush *)page_hva(vm, FLUSH_PAGE);
	flush->address_space = 0;
	flush->flags = HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES;
	flush->processor_mask = 0;
	memattr_deny_then_complete(vcpu, OP_HYPERCALL, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE,
				   page_gpa(FLUSH_PAGE), page_gpa(FLUSH_PAGE),
				   page_hva(vm, FLUSH_PAGE), NR | NW | NX,
				   KVM_MEMORY_EXIT_FLAG_READ,
				   "HvFlushVirtualAddressSpace with its input in a no-access page");
	pr_info("Hypercall input: HvFlushVirtualAddressSpace from a no-access page exits READ, succeeds once allowed\n");

	/* 2b: HvSendSyntheticClusterIpi to no vCPU: KVM returns success. */
	ipi = (struct hv_send_ipi *)page_hva(vm, IPI_PAGE);
	ipi->vector = IPI_VECTOR;
	ipi->reserved = 0;
	ipi->cpu_mask = 0;
	memattr_deny_then_complete(vcpu, OP_HYPERCALL, HVCALL_SEND_IPI,
				   page_gpa(IPI_PAGE), page_gpa(IPI_PAGE),
				   page_hva(vm, IPI_PAGE), NR | NW | NX,
				   KVM_MEMORY_EXIT_FLAG_READ,
				   "HvSendSyntheticClusterIpi with its input in a no-access page");
	pr_info("Hypercall input: HvSendSyntheticClusterIpi from a no-access page exits READ, succeeds once allowed\n");
	kvm_vm_free(vm);
	return true;
}

/*
 * What KVM wrote to the page of @page_msr once its registration completed:
 * the VP assist page's first u32 (apic_assist) cleared, the reference TSC
 * page's sequence written (0 while KVM computes the parameters, or, with
 * them, a new sequence: never the fill), the SynIC pages cleared whole.
 */
static void assert_registered_page(const uint8_t *hva, uint32_t msr,
				   const char *what)
{
	uint32_t first = *(const uint32_t *)hva;
	int i;

	switch (msr) {
	case HV_X64_MSR_VP_ASSIST_PAGE:
		TEST_ASSERT(!first, "%s: apic_assist is 0x%x, KVM should clear it",
			    what, first);
		for (i = sizeof(first); i < PAGE_SIZE; i++)
			TEST_ASSERT(hva[i] == FILL_BYTE,
				    "%s: byte %d is 0x%x, expected the fill 0x%x",
				    what, i, hva[i], FILL_BYTE);
		break;
	case HV_X64_MSR_REFERENCE_TSC:
		TEST_ASSERT(first != FILL_BYTE * 0x01010101u,
			    "%s: KVM never wrote the sequence (still the fill)",
			    what);
		break;
	default:
		for (i = 0; i < PAGE_SIZE; i++)
			TEST_ASSERT(!hva[i], "%s: byte %d is 0x%x, KVM should clear the page",
				    what, i, hva[i]);
	}
}

/*
 * Case 3: the pages KVM reads and writes on its own once the guest has
 * registered them with WRMSR: the VP assist page (kvm_hv_set_msr() writes
 * its first u32 at once, through its host address), the reference TSC page
 * (kvm_hv_setup_tsc_page() at the next clock update) and the SynIC message
 * and event flags pages (synic_set_msr() clears them, with KVM_CAP_HYPERV_SYNIC).
 * Registering a NO_WRITE page exits WRITE for the page, which stays as it
 * was; once writable, the WRMSR is retried and completes (the SynIC pages
 * then exit KVM_EXIT_HYPERV, as always), and KVM has written the page.
 * Buggy kernel: the VP assist page is written in the NO_WRITE page, the
 * reference TSC page registration succeeds and its updates are refused
 * later, the SynIC registrations take #GP; none exits.
 */
static bool test_registered_pages(void)
{
	static const struct {
		const char *what;
		uint32_t msr;
		uint64_t enable;
		int page;
	} regs[] = {
		{ "HV_X64_MSR_VP_ASSIST_PAGE at a NO_WRITE page",
		  HV_X64_MSR_VP_ASSIST_PAGE, HV_X64_MSR_VP_ASSIST_PAGE_ENABLE,
		  VP_ASSIST_PAGE },
		{ "HV_X64_MSR_REFERENCE_TSC at a NO_WRITE page",
		  HV_X64_MSR_REFERENCE_TSC, HV_X64_MSR_TSC_REFERENCE_ENABLE,
		  TSC_PAGE },
		{ "HV_X64_MSR_SIMP at a NO_WRITE page",
		  HV_X64_MSR_SIMP, HV_SYNIC_SIMP_ENABLE, SYNIC_MSG_PAGE },
		{ "HV_X64_MSR_SIEFP at a NO_WRITE page",
		  HV_X64_MSR_SIEFP, HV_SYNIC_SIEFP_ENABLE, SYNIC_EVT_PAGE },
	};
	struct kvm_vcpu *vcpu;
	struct kvm_run *run;
	struct kvm_vm *vm;
	uint8_t *hva;
	int i;

	vm = create_vm(&vcpu);
	vcpu_enable_cap(vcpu, KVM_CAP_HYPERV_SYNIC, 0);
	run = vcpu->run;
	for (i = 0; i < ARRAY_SIZE(regs); i++) {
		hva = page_hva(vm, regs[i].page);
		memattr_start_op(vm, OP_WRMSR, regs[i].msr,
				 page_gpa(regs[i].page) | regs[i].enable);
		memattr_run_denied(vcpu, page_gpa(regs[i].page), hva, NW,
				   KVM_MEMORY_EXIT_FLAG_WRITE, regs[i].what);
		if (regs[i].page == SYNIC_MSG_PAGE ||
		    regs[i].page == SYNIC_EVT_PAGE) {
			vcpu_run(vcpu);
			TEST_ASSERT(run->exit_reason == KVM_EXIT_HYPERV &&
				    run->hyperv.type == KVM_EXIT_HYPERV_SYNIC &&
				    run->hyperv.u.synic.msr == regs[i].msr,
				    "%s: the retried WRMSR should exit KVM_EXIT_HYPERV (SynIC) for MSR 0x%x, exit reason %s",
				    regs[i].what, regs[i].msr,
				    exit_reason_str(run->exit_reason));
		}
		memattr_finish_op(vcpu, regs[i].what);
		assert_registered_page(hva, regs[i].msr, regs[i].what);
		pr_info("%s: WRITE exit, nothing written; retried, KVM wrote the page\n",
			regs[i].what);
	}
	kvm_vm_free(vm);
	return true;
}

/*
 * The guest's WRMSR of @val to @msr, run to its end; SynIC MSRs exit
 * KVM_EXIT_HYPERV on the way.
 */
static void run_wrmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t val,
		      const char *what)
{
	memattr_start_op(vcpu->vm, OP_WRMSR, msr, val);
	vcpu_run(vcpu);
	if (vcpu->run->exit_reason == KVM_EXIT_HYPERV)
		vcpu_run(vcpu);
	memattr_assert_sync(vcpu, 1, what);
	memattr_run_to_sync(vcpu, 0, what);
}

static uint32_t timer_message_type(struct kvm_vm *vm)
{
	uint8_t *slot = page_hva(vm, SYNIC_MSG_PAGE) + TIMER_SINT * MESSAGE_SIZE;

	return *(uint32_t *)slot;
}

/*
 * Case 4: a SynIC message slot the guest may not read.  KVM delivers a
 * synthetic timer's message by reading the slot's message type and then
 * writing either the message (type HVMSG_NONE) or the slot's msg_pending
 * flag (synic_deliver_msg()): with the page write-only, what it writes
 * would tell the guest whether the slot was empty.  Protected: nothing is
 * written, the timer's message stays pending (the one-shot timer stays
 * enabled); once the VMM relaxes the page and the guest writes EOM, KVM
 * delivers it.  Buggy kernel: KVM reads the type, writes the message into
 * the write-only page at once.
 */
static bool test_synic_message_slot(void)
{
	const char *what = "SynIC timer message, message page write-only";
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = __create_vm(&vcpu, true);
	vcpu_enable_cap(vcpu, KVM_CAP_HYPERV_SYNIC, 0);
	run_wrmsr(vcpu, HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE, what);
	run_wrmsr(vcpu, HV_X64_MSR_SIMP, page_gpa(SYNIC_MSG_PAGE) |
		  HV_SYNIC_SIMP_ENABLE, what);
	run_wrmsr(vcpu, HV_X64_MSR_SINT0 + TIMER_SINT, TIMER_VECTOR, what);
	run_wrmsr(vcpu, HV_X64_MSR_STIMER0_CONFIG, STIMER_AUTO_ENABLE |
		  (uint64_t)TIMER_SINT << STIMER_SINTX_SHIFT, what);
	TEST_ASSERT_EQ(timer_message_type(vm), HVMSG_NONE);

	/* A count in the past: the one-shot timer expires at once. */
	memattr_set(vm, page_gpa(SYNIC_MSG_PAGE), PAGE_SIZE, NR | NX);
	run_wrmsr(vcpu, HV_X64_MSR_STIMER0_COUNT, 1, what);
	run_wrmsr(vcpu, HV_X64_MSR_EOM, 0, what);
	TEST_ASSERT(timer_message_type(vm) == HVMSG_NONE,
		    "%s: KVM wrote message type 0x%x into the slot", what,
		    timer_message_type(vm));
	TEST_ASSERT(vcpu_get_msr(vcpu, HV_X64_MSR_STIMER0_CONFIG) & STIMER_ENABLE,
		    "%s: the timer should stay enabled, its message pending", what);

	memattr_set(vm, page_gpa(SYNIC_MSG_PAGE), PAGE_SIZE, 0);
	run_wrmsr(vcpu, HV_X64_MSR_EOM, 0, what);
	TEST_ASSERT(timer_message_type(vm) == HVMSG_TIMER_EXPIRED,
		    "%s: once readable, the message should be delivered, slot type 0x%x",
		    what, timer_message_type(vm));
	kvm_vm_free(vm);
	pr_info("%s: nothing written, the message pending; relaxed, delivered at EOM\n",
		what);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. the hypercall page", test_hypercall_page },
		{ "2. hypercall input", test_hypercall_input },
		{ "3. pages KVM writes later", test_registered_pages },
		{ "4. SynIC message slot", test_synic_message_slot },
	};

	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);
	TEST_ASSERT(kvm_has_cap(KVM_CAP_SYS_HYPERV_CPUID) &&
		    kvm_has_cap(KVM_CAP_HYPERV_TLBFLUSH) &&
		    kvm_has_cap(KVM_CAP_HYPERV_SEND_IPI) &&
		    kvm_has_cap(KVM_CAP_HYPERV_SYNIC),
		    "KVM should emulate Hyper-V (CONFIG_KVM_HYPERV) with TLB flush and IPI hypercalls and SynIC");

	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
