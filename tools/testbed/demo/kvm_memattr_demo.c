// SPDX-License-Identifier: GPL-2.0-only
/*
 * The demonstration of `make run`: what KVM reports with kvm_memattr loaded,
 * per VM type, and a guest running in a VM bound to the module.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"

struct bit_name {
	uint64_t bit;
	const char *name;
};

static const struct bit_name attribute_names[] = {
	{ KVM_MEMORY_ATTRIBUTE_NO_READ, "NO_READ" },
	{ KVM_MEMORY_ATTRIBUTE_NO_WRITE, "NO_WRITE" },
	{ KVM_MEMORY_ATTRIBUTE_NO_EXEC, "NO_EXEC" },
	{ KVM_MEMORY_ATTRIBUTE_PRIVATE, "PRIVATE" },
};

static const struct bit_name fault_flag_names[] = {
	{ KVM_MEMORY_EXIT_FLAG_READ, "READ" },
	{ KVM_MEMORY_EXIT_FLAG_WRITE, "WRITE" },
	{ KVM_MEMORY_EXIT_FLAG_EXEC, "EXEC" },
	{ KVM_MEMORY_EXIT_FLAG_PRIVATE, "PRIVATE" },
	{ KVM_MEMORY_EXIT_FLAG_SUBPAGE, "SUBPAGE" },
};

static const struct bit_name subpage_mode_names[] = {
	{ KVM_SUBPAGE_WP_SOFTWARE, "SOFTWARE" },
	{ KVM_SUBPAGE_WP_HARDWARE, "HARDWARE" },
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

/* The names of the bits of @bits, @sep between them; unknown ones in hex. */
static void print_bits(uint64_t bits, const struct bit_name *names, int n,
		       const char *sep)
{
	int i;

	if (!bits)
		printf("none");
	for (i = 0; i < n; i++) {
		if (bits & names[i].bit) {
			bits &= ~names[i].bit;
			printf("%s%s", names[i].name, bits ? sep : "");
		}
	}
	if (bits)
		printf("0x%llx", (unsigned long long)bits);
}

static void print_attributes(uint64_t attributes)
{
	printf("0x%llx (", (unsigned long long)attributes);
	print_bits(attributes, attribute_names, ARRAY_SIZE(attribute_names), " ");
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

	if (!_vcpu_run(vcpu)) {
		get_ucall(vcpu, uc);
		return false;
	}
	TEST_ASSERT(errno == EFAULT && run->exit_reason == KVM_EXIT_MEMORY_FAULT,
		    "KVM_RUN failed without a memory fault exit (errno %d)", errno);
	printf("KVM_RUN: EFAULT, KVM_EXIT_MEMORY_FAULT gpa 0x%llx size 0x%llx flags 0x%llx (",
	       run->memory_fault.gpa, run->memory_fault.size, run->memory_fault.flags);
	print_bits(run->memory_fault.flags, fault_flag_names,
		   ARRAY_SIZE(fault_flag_names), "|");
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

/*
 * Sub-page write protection: a page of 32 sub-pages of 128 bytes, sub-page 5
 * denied.  The guest writes sub-page 2 once, then SUBPAGE_WRITES times, then
 * 8 bytes into sub-page 5.
 */
#define SUBPAGE_WRITES		1000
/* Hardware mode: exits for interrupts and the ucall, not one per write. */
#define SUBPAGE_HW_MAX_EXITS	(SUBPAGE_WRITES / 10)
#define SUBPAGE_DENIED		5
#define PERMITTED_GPA		(DEMO_GPA + 2 * KVM_SUBPAGE_SIZE)
#define DENIED_GPA		(DEMO_GPA + SUBPAGE_DENIED * KVM_SUBPAGE_SIZE)
#define DENIED_DST		(DENIED_GPA + 8)
#define DENIED_VALUE		0x5ab

static void subpage_guest_code(void)
{
	int i;

	WRITE_ONCE(*(volatile uint64_t *)PERMITTED_GPA, 1);
	GUEST_SYNC(1);
	for (i = 0; i < SUBPAGE_WRITES; i++)
		WRITE_ONCE(*(volatile uint64_t *)PERMITTED_GPA, i + 1);
	GUEST_SYNC(2);
	WRITE_ONCE(*(volatile uint64_t *)DENIED_DST, DENIED_VALUE);
	GUEST_DONE();
}

static void set_subpage_map(struct kvm_vm *vm, uint32_t map)
{
	int i;

	subpage_set_one(vm, DEMO_GPA, map);
	TEST_ASSERT(subpage_get_one(vm, DEMO_GPA) == map,
		    "KVM_GET_SUBPAGE_WRITE_ACCESS does not read back 0x%x", map);
	printf("KVM_SET_SUBPAGE_WRITE_ACCESS [0x%llx, +0x%lx) = 0x%x (%s",
	       DEMO_GPA, (unsigned long)PAGE_SIZE, map,
	       map == SUBPAGE_ALL_WRITABLE ? "all writable" : "denied:");
	for (i = 0; i < KVM_SUBPAGES_PER_PAGE; i++)
		if (!(map & BIT(i)))
			printf(" [0x%llx, +0x%x)",
			       DEMO_GPA + i * KVM_SUBPAGE_SIZE, KVM_SUBPAGE_SIZE);
	printf(")\n");
}

/* Run the guest to its GUEST_SYNC(@stage), with no memory fault. */
static void subpage_run_to(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct ucall uc;

	TEST_ASSERT(!run_reports_fault(vcpu, &uc), "A permitted write was denied");
	TEST_ASSERT(uc.cmd == UCALL_SYNC && uc.args[1] == stage,
		    "Expected the guest's sync %lu, got ucall %lu", stage, uc.cmd);
}

static void demo_subpage(void)
{
	struct kvm_vm *vm = vm_create(1);
	uint32_t modes = subpage_modes(vm);
	bool hardware = modes & KVM_SUBPAGE_WP_HARDWARE;
	uint64_t exits, *permitted, *denied;
	struct kvm_vcpu *vcpu;
	struct kvm_run *run;
	struct ucall uc;

	printf("\nKVM_CAP_SUBPAGE_WRITE_PROTECT = 0x%x (", modes);
	print_bits(modes, subpage_mode_names, ARRAY_SIZE(subpage_mode_names), " ");
	printf(")\n");
	TEST_ASSERT(modes & KVM_SUBPAGE_WP_SOFTWARE,
		    "A VM bound to kvm_memattr has no software mode");
	subpage_enable(vm, hardware ? KVM_SUBPAGE_WP_HARDWARE :
				      KVM_SUBPAGE_WP_SOFTWARE);
	printf("KVM_ENABLE_CAP: %s mode, %s\n", hardware ? "HARDWARE" : "SOFTWARE",
	       hardware ? "the CPU checks each write (Intel SPP)" :
	       "KVM's emulator checks each write to a protected page");
	if (!hardware)
		printf("HARDWARE is not advertised: it needs Intel SPP (make run CPU=intel)\n");
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DEMO_GPA,
				    DEMO_SLOT, 1, 0);
	virt_map(vm, DEMO_GPA, DEMO_GPA, 1);
	vcpu = vm_vcpu_add(vm, 0, subpage_guest_code);
	run = vcpu->run;
	permitted = addr_gpa2hva(vm, PERMITTED_GPA);
	denied = addr_gpa2hva(vm, DENIED_DST);
	set_subpage_map(vm, SUBPAGE_ALL_WRITABLE & ~BIT(SUBPAGE_DENIED));

	printf("guest writes 0x%llx (sub-page 2) ...\n", PERMITTED_GPA);
	subpage_run_to(vcpu, 1);
	TEST_ASSERT(*permitted == 1, "The write did not land: 0x%lx", *permitted);
	printf("the write landed, memory holds 0x%lx\n", *permitted);
	exits = memattr_vcpu_stat(vcpu, "exits");
	subpage_run_to(vcpu, 2);
	exits = memattr_vcpu_stat(vcpu, "exits") - exits;
	TEST_ASSERT(*permitted == SUBPAGE_WRITES,
		    "The last write did not land: 0x%lx", *permitted);
	TEST_ASSERT(hardware ? exits <= SUBPAGE_HW_MAX_EXITS : exits >= SUBPAGE_WRITES,
		    "%s mode: %lu exits for %d writes", hardware ? "Hardware" :
		    "Software", exits, SUBPAGE_WRITES);
	printf("%d more writes there: all landed, vCPU exits +%lu (%s)\n",
	       SUBPAGE_WRITES, exits, hardware ? "the CPU let them through" :
	       "each write exits to KVM's emulator");

	printf("guest writes 0x%llx (sub-page %d) ...\n", DENIED_DST,
	       SUBPAGE_DENIED);
	TEST_ASSERT(run_reports_fault(vcpu, &uc), "The write was not denied");
	TEST_ASSERT(run->memory_fault.gpa == DENIED_GPA &&
		    run->memory_fault.size == KVM_SUBPAGE_SIZE &&
		    run->memory_fault.flags == (KVM_MEMORY_EXIT_FLAG_WRITE |
						KVM_MEMORY_EXIT_FLAG_SUBPAGE),
		    "Expected gpa 0x%llx size 0x80 flags WRITE|SUBPAGE", DENIED_GPA);
	TEST_ASSERT(!*denied, "The denied write changed memory: 0x%lx", *denied);
	printf("nothing was written, 0x%llx still holds 0x%lx\n", DENIED_DST,
	       *denied);
	set_subpage_map(vm, SUBPAGE_ALL_WRITABLE);
	TEST_ASSERT(!run_reports_fault(vcpu, &uc), "The write was denied again");
	TEST_ASSERT(uc.cmd == UCALL_DONE && *denied == DENIED_VALUE,
		    "The retried write did not land: ucall %lu, memory 0x%lx",
		    uc.cmd, *denied);
	printf("KVM_RUN again: the write is retried and succeeds, memory now holds 0x%lx\n",
	       *denied);
	kvm_vm_free(vm);
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

	demo_subpage();
	return 0;
}
