// SPDX-License-Identifier: GPL-2.0-only
/*
 * The demonstration of `make run`: what KVM reports with kvm_memattr loaded,
 * per VM type, and a guest running in a VM bound to the module.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"

static const struct {
	uint64_t bit;
	const char *name;
} attribute_names[] = {
	{ KVM_MEMORY_ATTRIBUTE_NO_READ, "NO_READ" },
	{ KVM_MEMORY_ATTRIBUTE_NO_WRITE, "NO_WRITE" },
	{ KVM_MEMORY_ATTRIBUTE_NO_EXEC, "NO_EXEC" },
	{ KVM_MEMORY_ATTRIBUTE_PRIVATE, "PRIVATE" },
};

static const struct {
	unsigned long type;
	const char *name;
} vm_types[] = {
	{ KVM_X86_DEFAULT_VM, "KVM_X86_DEFAULT_VM" },
	{ KVM_X86_SW_PROTECTED_VM, "KVM_X86_SW_PROTECTED_VM" },
};

static int module_refcount(void)
{
	FILE *f = fopen("/sys/module/kvm_memattr/refcnt", "r");
	int refcount = -1;

	if (f) {
		if (fscanf(f, "%d", &refcount) != 1)
			refcount = -1;
		fclose(f);
	}
	return refcount;
}

static void print_attributes(uint64_t attributes)
{
	int i;

	printf("0x%llx (", (unsigned long long)attributes);
	if (!attributes)
		printf("none");
	for (i = 0; i < ARRAY_SIZE(attribute_names); i++) {
		if (attributes & attribute_names[i].bit) {
			attributes &= ~attribute_names[i].bit;
			printf("%s%s", attribute_names[i].name, attributes ? " " : "");
		}
	}
	printf(")\n");
}

#define DEMO_GPA	0xc0000000ull
#define DEMO_SLOT	10

static void guest_code(void)
{
	GUEST_SYNC(42);
	/* Write a page that the host made NO_WRITE. */
	WRITE_ONCE(*(volatile uint64_t *)DEMO_GPA, 0x1234);
	GUEST_DONE();
}

static void set_attributes(struct kvm_vm *vm, uint64_t attributes)
{
	struct kvm_memory_attributes attr = {
		.address = DEMO_GPA,
		.size = PAGE_SIZE,
		.attributes = attributes,
	};

	vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
	printf("KVM_SET_MEMORY_ATTRIBUTES [0x%llx, +0x%lx) = ", DEMO_GPA,
	       (unsigned long)PAGE_SIZE);
	print_attributes(attributes);
}

static void print_map(struct kvm_vm *vm)
{
	struct kvm_memory_attributes attr = {
		.address = DEMO_GPA - 2 * PAGE_SIZE,
		.size = 5 * PAGE_SIZE,
	};
	uint64_t end = attr.address + attr.size;

	printf("KVM_GET_MEMORY_ATTRIBUTES, run by run:\n");
	while (attr.address < end) {
		attr.size = end - attr.address;
		vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &attr);
		printf("  [0x%llx, +0x%llx): ", attr.address, attr.size);
		print_attributes(attr.attributes);
		attr.address += attr.size;
	}
}

int main(void)
{
	uint64_t supported_types = kvm_check_cap(KVM_CAP_VM_TYPES);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int i;

	printf("KVM_CAP_VM_TYPES: 0x%llx\n", (unsigned long long)supported_types);
	printf("kvm_memattr reference count, no VM: %d\n", module_refcount());

	for (i = 0; i < ARRAY_SIZE(vm_types); i++) {
		if (!(supported_types & BIT(vm_types[i].type))) {
			printf("%s: not supported by this KVM\n", vm_types[i].name);
			continue;
		}
		vm = vm_create_barebones_type(vm_types[i].type);
		printf("%s: KVM_CAP_MEMORY_ATTRIBUTES = ", vm_types[i].name);
		print_attributes(vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES));
		printf("%s: kvm_memattr reference count with this VM: %d\n",
		       vm_types[i].name, module_refcount());
		kvm_vm_free(vm);
	}

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DEMO_GPA,
				    DEMO_SLOT, 1, 0);
	virt_map(vm, DEMO_GPA, DEMO_GPA, 1);
	if (syscall(__NR_delete_module, "kvm_memattr", O_NONBLOCK))
		printf("unloading kvm_memattr while a VM exists: %s\n", strerror(errno));
	else
		printf("unloading kvm_memattr while a VM exists: succeeded (wrong!)\n");
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
	printf("guest in a bound VM says: %lu\n", uc.args[1]);

	set_attributes(vm, KVM_MEMORY_ATTRIBUTE_NO_WRITE);
	print_map(vm);
	printf("guest writes 0x%llx ...\n", DEMO_GPA);
	if (_vcpu_run(vcpu) && errno == EFAULT &&
	    vcpu->run->exit_reason == KVM_EXIT_MEMORY_FAULT)
		printf("KVM_RUN: EFAULT, KVM_EXIT_MEMORY_FAULT gpa 0x%llx size 0x%llx flags 0x%llx%s\n",
		       vcpu->run->memory_fault.gpa, vcpu->run->memory_fault.size,
		       vcpu->run->memory_fault.flags,
		       vcpu->run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_WRITE ?
		       " (WRITE)" : "");
	else
		printf("KVM_RUN: no memory fault exit (wrong!)\n");

	set_attributes(vm, 0);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_DONE);
	printf("KVM_RUN again: the write is retried and succeeds, memory now holds 0x%lx\n",
	       *(uint64_t *)addr_gpa2hva(vm, DEMO_GPA));
	kvm_vm_free(vm);

	return 0;
}
