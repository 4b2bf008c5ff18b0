/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest of kvm_memattr_protection_test and kvm_memattr_mmu_paths_test,
 * which makes one read, write or execute access at a time.
 */
#ifndef SELFTEST_KVM_MEMATTR_ACCESS_GUEST_H
#define SELFTEST_KVM_MEMATTR_ACCESS_GUEST_H

#include "kvm_memattr_util.h"

/*
 * The access guest of kvm_memattr_protection_test and
 * kvm_memattr_mmu_paths_test: parked at GUEST_SYNC(0), it makes the one
 * read, write or execute access at access_guest_page that the host wrote in
 * access_guest_op, then reports GUEST_SYNC(1).  create_access_vm() gives it
 * ACCESS_TEST_NPAGES pages at ACCESS_TEST_GPA, mapped at the same address.
 */
#define ACCESS_TEST_GPA		0xc0000000ull
#define ACCESS_TEST_GVA		ACCESS_TEST_GPA
#define ACCESS_TEST_SLOT	10
#define ACCESS_TEST_NPAGES	64

enum access_op { ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC };

/* For each op: its name, the flag of its exit, the attribute that denies it. */
static const char * const access_op_names[] = { "read", "write", "execute" };

static const uint64_t access_op_exit_flags[] = {
	[ACCESS_READ] = KVM_MEMORY_EXIT_FLAG_READ,
	[ACCESS_WRITE] = KVM_MEMORY_EXIT_FLAG_WRITE,
	[ACCESS_EXEC] = KVM_MEMORY_EXIT_FLAG_EXEC,
};

static const uint64_t access_op_denied_by[] = {
	[ACCESS_READ] = NR, [ACCESS_WRITE] = NW, [ACCESS_EXEC] = NX,
};

/* The command of the host, written before each access. */
static uint64_t access_guest_op;
static uint64_t access_guest_page;

/* The code at the start of every test page: ret. */
#define ACCESS_RET_OPCODE	0xc3
/* Where the guest reads and writes, away from the code, unless told. */
#define ACCESS_DATA_OFFSET	64
static uint64_t access_data_offset = ACCESS_DATA_OFFSET;

static inline void access_guest_code(void)
{
	for (;;) {
		GUEST_SYNC(0);
		switch (READ_ONCE(access_guest_op)) {
		case ACCESS_READ:
			READ_ONCE(*(volatile uint64_t *)(access_guest_page +
							 access_data_offset));
			break;
		case ACCESS_WRITE:
			WRITE_ONCE(*(volatile uint64_t *)(access_guest_page +
							  access_data_offset),
				   0x5a5a5a5a);
			break;
		case ACCESS_EXEC:
			((void (*)(void))access_guest_page)();
			break;
		}
		GUEST_SYNC(1);
	}
}

/* KVM_RUN exits for GUEST_SYNC(@stage) of access_guest_code(). */
static inline void access_run_to_sync(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int r = _vcpu_run(vcpu);

	TEST_ASSERT(!r,
		    "KVM_RUN failed (errno %d) on the way to stage %lu: exit reason %s, memory fault at 0x%llx, flags 0x%llx",
		    errno, stage, exit_reason_str(run->exit_reason),
		    run->memory_fault.gpa, run->memory_fault.flags);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage, "Expected stage %lu, got %lu",
			    stage, uc.args[1]);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("Unexpected ucall %lu", uc.cmd);
	}
}

/*
 * Make the guest access @gpa and check that the access succeeds, or, if the
 * current attributes deny it, exits with the right gpa, size and flags.
 */
static inline void check_access(struct kvm_vcpu *vcpu, uint64_t gpa,
				uint64_t attributes, enum access_op op)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	int r;

	access_guest_op = op;
	access_guest_page = gpa;
	sync_global_to_guest(vm, access_guest_op);
	sync_global_to_guest(vm, access_guest_page);

	if (!(attributes & access_op_denied_by[op])) {
		access_run_to_sync(vcpu, 1);
		access_run_to_sync(vcpu, 0);
		return;
	}

	r = _vcpu_run(vcpu);
	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "%s of a page with attributes 0x%lx: KVM_RUN should fail with EFAULT, got %d (errno %d), exit reason %s",
		    access_op_names[op], attributes, r, errno,
		    exit_reason_str(run->exit_reason));
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MEMORY_FAULT);
	TEST_ASSERT_EQ(run->memory_fault.gpa, gpa);
	TEST_ASSERT_EQ(run->memory_fault.size, PAGE_SIZE);
	TEST_ASSERT(run->memory_fault.flags == access_op_exit_flags[op],
		    "%s of a page with attributes 0x%lx: flags 0x%llx, expected 0x%lx",
		    access_op_names[op], attributes, run->memory_fault.flags,
		    access_op_exit_flags[op]);
}

/*
 * Set @attributes on the page at @gpa and make the guest access it: the
 * access succeeds, or exits and then succeeds once the attributes are
 * cleared, KVM_RUN retrying the instruction.
 */
static inline void test_access_at(struct kvm_vcpu *vcpu, uint64_t gpa,
				  uint64_t attributes, enum access_op op)
{
	memattr_set(vcpu->vm, gpa, PAGE_SIZE, attributes);
	check_access(vcpu, gpa, attributes, op);
	if (attributes & access_op_denied_by[op]) {
		memattr_set(vcpu->vm, gpa, PAGE_SIZE, 0);
		access_run_to_sync(vcpu, 1);
		access_run_to_sync(vcpu, 0);
	}
}

/* A VM whose vCPU runs access_guest_code(), parked at GUEST_SYNC(0). */
static inline struct kvm_vm *create_access_vm(struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create_with_one_vcpu(vcpu, access_guest_code);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, ACCESS_TEST_GPA,
				    ACCESS_TEST_SLOT, ACCESS_TEST_NPAGES, 0);
	virt_map(vm, ACCESS_TEST_GVA, ACCESS_TEST_GPA, ACCESS_TEST_NPAGES);
	*(uint8_t *)addr_gpa2hva(vm, ACCESS_TEST_GPA) = ACCESS_RET_OPCODE;
	access_run_to_sync(*vcpu, 0);
	return vm;
}

#endif /* SELFTEST_KVM_MEMATTR_ACCESS_GUEST_H */
