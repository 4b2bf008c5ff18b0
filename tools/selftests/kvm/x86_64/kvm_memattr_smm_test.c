// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes against the accesses KVM makes to SMRAM for the guest:
 * the state save at SMI entry, which KVM writes to SMBASE + 0xfe00..0xffff
 * through its host mapping, and the state load of RSM, which KVM's emulator
 * reads from there.  The state save that may not write its page, or the RSM
 * that may not read it, ends KVM_RUN with KVM_EXIT_MEMORY_FAULT for the page
 * and changes nothing: the SMI stays pending (resp. the vCPU stays in SMM at
 * the RSM), and KVM_RUN delivers it (resp. retries the RSM) once allowed.
 *
 * The SMM setup is kvm_memattr_smm.h's.  Nothing here depends on the CPU
 * vendor or on the MMU.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_smm.h"
#include "kvm_memattr_util.h"

#define FILL_BYTE		0x5a

/* Reports one stage after the other: an SMI must not break the count. */
static void guest_code(void)
{
	uint64_t stage;

	for (stage = 0;; stage++)
		GUEST_SYNC(stage);
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;
/* The last stage the guest reported, and its system registers then. */
static uint64_t stage;
static struct kvm_sregs sregs_at_stage;

static bool save_page_filled(void)
{
	const uint8_t *p = smram_hva(vm, SMM_SAVE_PAGE_OFFSET);
	int i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] != FILL_BYTE)
			return false;
	return true;
}

/*
 * The vCPU is still in the state it had at the guest's last GUEST_SYNC.
 * CR0.ET is left out: RSM sets it under shadow paging (ET is fixed to 1 on
 * CPUs since the 486), with or without attributes.
 */
static void assert_sregs_unchanged(const char *what)
{
	struct kvm_sregs s;

	vcpu_sregs_get(vcpu, &s);
	TEST_ASSERT((s.cr0 | X86_CR0_ET) == (sregs_at_stage.cr0 | X86_CR0_ET) &&
		    s.cr3 == sregs_at_stage.cr3 &&
		    s.cr4 == sregs_at_stage.cr4 && s.efer == sregs_at_stage.efer &&
		    s.cs.selector == sregs_at_stage.cs.selector &&
		    s.cs.base == sregs_at_stage.cs.base &&
		    s.ss.selector == sregs_at_stage.ss.selector,
		    "%s: CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx CS 0x%x (base 0x%llx) SS 0x%x; expected 0x%llx 0x%llx 0x%llx 0x%llx 0x%x (0x%llx) 0x%x",
		    what, s.cr0, s.cr3, s.cr4, s.efer, s.cs.selector, s.cs.base,
		    s.ss.selector, sregs_at_stage.cr0, sregs_at_stage.cr3,
		    sregs_at_stage.cr4, sregs_at_stage.efer,
		    sregs_at_stage.cs.selector, sregs_at_stage.cs.base,
		    sregs_at_stage.ss.selector);
}

/*
 * KVM_RUN goes on to the guest's next GUEST_SYNC, outside SMM, with the
 * system registers it had at the previous one (RSM restored them).
 */
static void run_to_next_sync(const char *what)
{
	memattr_run_to_sync(vcpu, ++stage, what);
	assert_smm_events(vcpu, 0, 0, what);
	assert_sregs_unchanged(what);
}

static void create_vm(void)
{
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	smram_add(vm, vcpu);

	stage = 0;
	memattr_run_to_sync(vcpu, stage, "start");
	vcpu_sregs_get(vcpu, &sregs_at_stage);
	assert_smm_events(vcpu, 0, 0, "start");
}

/*
 * The guest is at a GUEST_SYNC: fill the state-save page, so that the
 * state save shows, and make an SMI pending.
 */
static void inject_smi(void)
{
	memset(smram_hva(vm, SMM_SAVE_PAGE_OFFSET), FILL_BYTE, PAGE_SIZE);
	smi_inject(vcpu);
}

/*
 * Case 1, the control: with the attributes at 0, an SMI enters SMM at the
 * relocated SMBASE and RSM returns, twice; this proves the setup.
 */
static bool test_control(void)
{
	int i;

	create_vm();
	for (i = 0; i < 2; i++) {
		inject_smi();
		smm_run_to_handler(vcpu, "SMI with no attributes");
		run_to_next_sync("RSM with no attributes");
	}
	kvm_vm_free(vm);
	pr_info("Control: with the attributes at 0, SMIs save the state at SMBASE 0x%llx, run the handler and RSM back\n",
		SMRAM_GPA);
	return true;
}

/*
 * Case 2: SMI entry, whose state save KVM writes with kvm_vcpu_write_guest()
 * to SMBASE + 0xfe00, a page the guest may not write.  Fixed kernel: KVM_RUN
 * exits WRITE for the state-save page, writes nothing, leaves the SMI
 * pending and the vCPU outside SMM, as often as it is run; once the page is
 * writable, KVM_RUN delivers the SMI.  Buggy kernel: the write is refused
 * silently and enter_smm() kills the VM (KVM_RUN fails with EIO), or,
 * without the refusal, the page is written.
 */
static bool test_smi_entry(void)
{
	const char *what = "SMI entry, state save to a NO_WRITE page";
	int i, r;

	create_vm();
	memattr_set(vm, SMM_SAVE_GPA, PAGE_SIZE, NW);
	inject_smi();
	for (i = 0; i < 2; i++) {
		r = _vcpu_run(vcpu);
		assert_memory_fault(vcpu, r, SMM_SAVE_GPA, PAGE_SIZE,
				    KVM_MEMORY_EXIT_FLAG_WRITE, what);
		assert_smm_events(vcpu, 1, 0, what);
		assert_sregs_unchanged(what);
		TEST_ASSERT(save_page_filled(),
			    "%s: the state-save page changed although its write was denied",
			    what);
	}

	memattr_set(vm, SMM_SAVE_GPA, PAGE_SIZE, 0);
	smm_run_to_handler(vcpu, "SMI entry once the state-save page is writable");
	run_to_next_sync("RSM after the SMI delivered late");
	kvm_vm_free(vm);
	pr_info("SMI entry: a NO_WRITE state-save page exits WRITE at 0x%llx with the SMI kept pending, and the SMI is delivered once writable\n",
		SMM_SAVE_GPA);
	return true;
}

/*
 * Case 3: RSM, whose emulation reads the state back with
 * kvm_vcpu_read_guest() from SMBASE + 0xfe00, a page the guest may not
 * read (no access: accepted on every VM).  The page is protected while the
 * handler is stopped at its IN, before its RSM.  Fixed kernel: KVM_RUN exits
 * READ for the state-save page, the vCPU stays in SMM at the RSM, as often
 * as it is run; once readable, KVM_RUN retries the RSM and the guest goes on
 * where the SMI stopped it.  Buggy kernel: the read is not checked, RSM
 * loads the protected state and completes without an exit.
 */
static bool test_rsm(void)
{
	const char *what = "RSM from a no-access state-save page";
	uint8_t before[PAGE_SIZE];
	int i, r;

	create_vm();
	inject_smi();
	smm_run_to_handler(vcpu, "SMI before the protected RSM");

	memattr_set(vm, SMM_SAVE_GPA, PAGE_SIZE, NR | NW | NX);
	memcpy(before, smram_hva(vm, SMM_SAVE_PAGE_OFFSET), PAGE_SIZE);
	for (i = 0; i < 2; i++) {
		r = _vcpu_run(vcpu);
		assert_memory_fault(vcpu, r, SMM_SAVE_GPA, PAGE_SIZE,
				    KVM_MEMORY_EXIT_FLAG_READ, what);
		assert_at_rsm(vcpu, what);
		TEST_ASSERT(!memcmp(before, smram_hva(vm, SMM_SAVE_PAGE_OFFSET), PAGE_SIZE),
			    "%s: the state-save page changed", what);
	}

	memattr_set(vm, SMM_SAVE_GPA, PAGE_SIZE, 0);
	run_to_next_sync("RSM once the state-save page is readable");
	kvm_vm_free(vm);
	pr_info("RSM: a no-access state-save page exits READ at 0x%llx with the vCPU kept in SMM at the RSM, and RSM completes once readable\n",
		SMM_SAVE_GPA);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. SMI and RSM without attributes (control)", test_control },
		{ "2. SMI entry, state save to a NO_WRITE page", test_smi_entry },
		{ "3. RSM, state load from a no-access page", test_rsm },
	};

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_X86_SMM));
	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);

	pr_info("MMU: %s; SMBASE 0x%llx, state-save page 0x%llx, handler at 0x%llx\n",
		!kvm_is_tdp_enabled() ? "shadow paging" :
		get_kvm_param_bool("tdp_mmu") ? "TDP MMU" : "legacy MMU",
		SMRAM_GPA, SMM_SAVE_GPA, SMRAM_GPA + SMM_HANDLER_OFFSET);

	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
