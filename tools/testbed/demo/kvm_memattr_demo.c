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
#define CODE_GPA	(DEMO_GPA + PAGE_SIZE)
#define DEMO_SLOT	10

/* mov $0x4242, %eax; ret */
static const uint8_t demo_function[] = { 0xb8, 0x42, 0x42, 0x00, 0x00, 0xc3 };

/* Whether the host runs the execute-only part of the demo. */
static bool exec_only;

static void guest_code(void)
{
	uint64_t value;

	GUEST_SYNC(42);
	/* Write a page that the host made NO_WRITE. */
	WRITE_ONCE(*(volatile uint64_t *)DEMO_GPA, 0x1234);
	GUEST_SYNC(0);

	if (READ_ONCE(exec_only)) {
		/* Call a function in an execute-only page, then read it. */
		value = ((uint64_t (*)(void))CODE_GPA)();
		GUEST_SYNC(value);
		value = READ_ONCE(*(volatile uint64_t *)CODE_GPA);
		GUEST_SYNC(value);
	}
	GUEST_DONE();
}

static void set_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t attributes)
{
	struct kvm_memory_attributes attr = {
		.address = gpa,
		.size = PAGE_SIZE,
		.attributes = attributes,
	};

	vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
	printf("KVM_SET_MEMORY_ATTRIBUTES [0x%lx, +0x%lx) = ", gpa,
	       (unsigned long)PAGE_SIZE);
	print_attributes(attributes);
}

/* Run the guest to its next ucall; report a memory fault exit instead. */
static bool run_reports_fault(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;
	static const char * const access[] = { "READ", "WRITE", "EXEC" };
	int i;

	if (!_vcpu_run(vcpu)) {
		get_ucall(vcpu, uc);
		return false;
	}
	TEST_ASSERT(errno == EFAULT && run->exit_reason == KVM_EXIT_MEMORY_FAULT,
		    "KVM_RUN failed without a memory fault exit (errno %d)", errno);
	printf("KVM_RUN: EFAULT, KVM_EXIT_MEMORY_FAULT gpa 0x%llx size 0x%llx flags 0x%llx (",
	       run->memory_fault.gpa, run->memory_fault.size, run->memory_fault.flags);
	for (i = 0; i < ARRAY_SIZE(access); i++)
		if (run->memory_fault.flags & BIT_ULL(i))
			printf("%s", access[i]);
	printf(")\n");
	return true;
}

/* Execute-only memory: EPT with execute-only leaves (make run CPU=intel). */
static void demo_exec_only(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;
	struct ucall uc;

	memcpy(addr_gpa2hva(vm, CODE_GPA), demo_function, sizeof(demo_function));
	set_attributes(vm, CODE_GPA, KVM_MEMORY_ATTRIBUTE_NO_READ |
				     KVM_MEMORY_ATTRIBUTE_NO_WRITE);
	printf("guest calls the function at 0x%llx ...\n", CODE_GPA);
	TEST_ASSERT(!run_reports_fault(vcpu, &uc), "Execution was denied");
	printf("the function returned 0x%lx\n", uc.args[1]);
	printf("guest reads 0x%llx ...\n", CODE_GPA);
	TEST_ASSERT(run_reports_fault(vcpu, &uc), "The read was not denied");
	set_attributes(vm, CODE_GPA, 0);
	TEST_ASSERT(!run_reports_fault(vcpu, &uc), "The read was denied");
	printf("KVM_RUN again: the read is retried and returns 0x%lx\n", uc.args[1]);
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
				    DEMO_SLOT, 2, 0);
	virt_map(vm, DEMO_GPA, DEMO_GPA, 2);
	exec_only = vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES) &
		    KVM_MEMORY_ATTRIBUTE_NO_READ;
	sync_global_to_guest(vm, exec_only);
	if (syscall(__NR_delete_module, "kvm_memattr", O_NONBLOCK))
		printf("unloading kvm_memattr while a VM exists: %s\n", strerror(errno));
	else
		printf("unloading kvm_memattr while a VM exists: succeeded (wrong!)\n");
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
	printf("guest in a bound VM says: %lu\n", uc.args[1]);

	set_attributes(vm, DEMO_GPA, KVM_MEMORY_ATTRIBUTE_NO_WRITE);
	print_map(vm);
	printf("guest writes 0x%llx ...\n", DEMO_GPA);
	TEST_ASSERT(run_reports_fault(vcpu, &uc), "The write was not denied");
	set_attributes(vm, DEMO_GPA, 0);
	TEST_ASSERT(!run_reports_fault(vcpu, &uc), "The write was denied");
	printf("KVM_RUN again: the write is retried and succeeds, memory now holds 0x%lx\n",
	       *(uint64_t *)addr_gpa2hva(vm, DEMO_GPA));

	if (exec_only)
		demo_exec_only(vcpu);
	else
		printf("\nNO_READ is not advertised: execute-only memory needs EPT with execute-only leaves (make run CPU=intel)\n");
	TEST_ASSERT(!run_reports_fault(vcpu, &uc), "KVM_RUN failed");
	TEST_ASSERT_EQ(uc.cmd, UCALL_DONE);
	kvm_vm_free(vm);

	return 0;
}
