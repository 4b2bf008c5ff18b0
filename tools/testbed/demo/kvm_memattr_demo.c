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

static void guest_code(void)
{
	GUEST_SYNC(42);
	GUEST_DONE();
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
	if (syscall(__NR_delete_module, "kvm_memattr", O_NONBLOCK))
		printf("unloading kvm_memattr while a VM exists: %s\n", strerror(errno));
	else
		printf("unloading kvm_memattr while a VM exists: succeeded (wrong!)\n");
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
	printf("guest in a bound VM says: %lu\n", uc.args[1]);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_DONE);
	kvm_vm_free(vm);

	return 0;
}
