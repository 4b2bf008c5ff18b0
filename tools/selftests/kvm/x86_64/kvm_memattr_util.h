/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the kvm_memattr selftests: setting memory attributes and
 * checking the KVM_EXIT_MEMORY_FAULT that reports a denied access.
 */
#ifndef SELFTEST_KVM_MEMATTR_UTIL_H
#define SELFTEST_KVM_MEMATTR_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"

#define NR	KVM_MEMORY_ATTRIBUTE_NO_READ
#define NW	KVM_MEMORY_ATTRIBUTE_NO_WRITE
#define NX	KVM_MEMORY_ATTRIBUTE_NO_EXEC
#define XO	(NR | NW)

static inline int __memattr_set(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
				uint64_t attributes)
{
	struct kvm_memory_attributes attr = {
		.address = gpa,
		.size = size,
		.attributes = attributes,
	};

	return __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
}

static inline void memattr_set(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			       uint64_t attributes)
{
	TEST_ASSERT(!__memattr_set(vm, gpa, size, attributes),
		    "SET 0x%lx over [0x%lx, +0x%lx) failed: %s",
		    attributes, gpa, size, strerror(errno));
}

static inline uint64_t memattr_supported(struct kvm_vm *vm)
{
	return vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
}

/*
 * KVM_RUN, whose result is @r, stopped with -1/EFAULT and a
 * KVM_EXIT_MEMORY_FAULT for a denied @flags access to [@gpa, +@size).
 */
static inline void assert_memory_fault(struct kvm_vcpu *vcpu, int r,
				       uint64_t gpa, uint64_t size,
				       uint64_t flags, const char *what)
{
	struct kvm_run *run = vcpu->run;

	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "%s: KVM_RUN should fail with EFAULT, got %d (errno %d), exit reason %s",
		    what, r, errno, exit_reason_str(run->exit_reason));
	TEST_ASSERT(run->exit_reason == KVM_EXIT_MEMORY_FAULT,
		    "%s: exit reason %s", what, exit_reason_str(run->exit_reason));
	TEST_ASSERT(run->memory_fault.gpa == gpa &&
		    run->memory_fault.size == size &&
		    run->memory_fault.flags == flags,
		    "%s: memory fault at 0x%llx, size 0x%llx, flags 0x%llx; expected 0x%lx, 0x%lx, 0x%lx",
		    what, run->memory_fault.gpa, run->memory_fault.size,
		    run->memory_fault.flags, gpa, size, flags);
}

#endif /* SELFTEST_KVM_MEMATTR_UTIL_H */
