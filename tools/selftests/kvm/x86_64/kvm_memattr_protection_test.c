// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory protection attributes: every combination of NO_READ, NO_WRITE and
 * NO_EXEC against every access from the guest, with the exits that report a
 * denied access; the attributes on a read-only memslot and on a 4K page
 * inside a 2M huge page; KVM_GET_MEMORY_ATTRIBUTES against a model, and the
 * validation of both ioctls over every bit.  The MMU's paths around the
 * protections are in kvm_memattr_mmu_paths_test.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "vmx.h"

#include "kvm_memattr_access_guest.h"

/* A read-only memslot. */
#define RO_GPA		0xd0000000ull
#define RO_SLOT		11

/* A memslot backed by a transparent huge page. */
#define HUGE_GPA	0x100000000ull
#define HUGE_SLOT	12
#define HUGE_NPAGES	512

#define PROTECTIONS	(NR | NW | NX)

/* IA32_VMX_EPT_VPID_CAP bit 0. */
#define VMX_EPT_VPID_CAP_EXEC_ONLY	BIT_ULL(0)

static int __set_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			    uint64_t attributes, uint64_t flags)
{
	struct kvm_memory_attributes attr = {
		.address = gpa,
		.size = size,
		.attributes = attributes,
		.flags = flags,
	};

	return __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
}

static int __get_attributes(struct kvm_vm *vm, struct kvm_memory_attributes *attr)
{
	return __vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, attr);
}

/* The attributes at @gpa and the length of their run within @size. */
static uint64_t get_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			       uint64_t *run_size)
{
	struct kvm_memory_attributes attr = { .address = gpa, .size = size };

	TEST_ASSERT(!__get_attributes(vm, &attr), "GET at 0x%lx failed: %s",
		    gpa, strerror(errno));
	*run_size = attr.size;
	return attr.attributes;
}

static bool combination_valid(uint64_t attributes, uint64_t supported)
{
	bool read = !(attributes & NR), write = !(attributes & NW);
	bool exec = !(attributes & NX);

	if (write && !read)
		return false;
	if (exec && !read)
		return supported & NR;
	return true;
}

static void test_access(struct kvm_vcpu *vcpu, uint64_t attributes,
			enum access_op op)
{
	test_access_at(vcpu, ACCESS_TEST_GPA, attributes, op);
}

/*
 * Writes to a read-only memslot exit as MMIO, whatever the attributes;
 * other accesses follow the attributes.
 */
static void test_readonly_memslot(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_access_vm(&vcpu);
	struct kvm_run *run = vcpu->run;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, RO_GPA, RO_SLOT,
				    1, KVM_MEM_READONLY);
	virt_map(vm, RO_GPA, RO_GPA, 1);

	memattr_set(vm, RO_GPA, PAGE_SIZE, NW);
	access_guest_op = ACCESS_WRITE;
	access_guest_page = RO_GPA;
	sync_global_to_guest(vm, access_guest_op);
	sync_global_to_guest(vm, access_guest_page);
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
	TEST_ASSERT_EQ(run->mmio.phys_addr, RO_GPA + ACCESS_DATA_OFFSET);
	TEST_ASSERT(run->mmio.is_write, "MMIO exit for a write should say so");
	access_run_to_sync(vcpu, 1);
	access_run_to_sync(vcpu, 0);

	test_access_at(vcpu, RO_GPA, PROTECTIONS, ACCESS_READ);
	kvm_vm_free(vm);
}

/*
 * A 2M mapping is used only where the attributes are uniform: with one 4K
 * page of a huge page protected, the other pages stay writable and the
 * protected one does not.
 */
static void test_huge_page(void)
{
	uint64_t protected_gpa = HUGE_GPA + 5 * PAGE_SIZE;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_access_vm(&vcpu);
	uint64_t pages_2m;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS_THP, HUGE_GPA,
				    HUGE_SLOT, HUGE_NPAGES, 0);
	virt_map(vm, HUGE_GPA, HUGE_GPA, HUGE_NPAGES);

	/*
	 * Uniform attributes: KVM maps the region with a huge page, unless
	 * it shadows the guest's page tables, which map it with 4K pages.
	 */
	pages_2m = vm_get_stat(vm, "pages_2m");
	test_access_at(vcpu, HUGE_GPA, 0, ACCESS_WRITE);
	if (kvm_is_tdp_enabled())
		TEST_ASSERT(vm_get_stat(vm, "pages_2m") > pages_2m,
			    "The THP-backed region should be mapped with a 2M page");

	memattr_set(vm, protected_gpa, PAGE_SIZE, NW);
	test_access_at(vcpu, HUGE_GPA, 0, ACCESS_WRITE);
	test_access_at(vcpu, HUGE_GPA + HUGE_NPAGES * PAGE_SIZE - PAGE_SIZE, 0,
		       ACCESS_WRITE);
	test_access_at(vcpu, protected_gpa, NW, ACCESS_WRITE);
	kvm_vm_free(vm);
}

/*
 * Execute-only leaves: EPT whose capabilities (as KVM reports them for
 * nested VMX) include execute-only; never NPT or shadow paging.
 */
static bool has_exec_only_leaves(void)
{
	if (!host_cpu_is_intel || !kvm_is_tdp_enabled())
		return false;
	return kvm_get_feature_msr(MSR_IA32_VMX_EPT_VPID_CAP) &
	       VMX_EPT_VPID_CAP_EXEC_ONLY;
}

static void test_combinations(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_access_vm(&vcpu);
	uint64_t supported, attributes;
	enum access_op op;

	supported = vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	TEST_ASSERT(supported & NW && supported & NX,
		    "NO_WRITE and NO_EXEC must be supported, got 0x%lx", supported);
	TEST_ASSERT(!(supported & KVM_MEMORY_ATTRIBUTE_PRIVATE),
		    "PRIVATE advertised for a VM without private memory");
	TEST_ASSERT(!(supported & NR) == !has_exec_only_leaves(),
		    "NO_READ must be advertised exactly where EPT has execute-only leaves");

	for (attributes = 0; attributes <= PROTECTIONS; attributes++) {
		if (!combination_valid(attributes, supported)) {
			TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA, PAGE_SIZE,
						     attributes, 0) == -1 &&
				    errno == EINVAL,
				    "SET 0x%lx should fail with EINVAL", attributes);
			continue;
		}
		for (op = ACCESS_READ; op <= ACCESS_EXEC; op++)
			test_access(vcpu, attributes, op);
	}

	kvm_vm_free(vm);
}

/* Dump the map with GET and compare it with @expected, one entry a page. */
static void check_map(struct kvm_vm *vm, const uint64_t *expected)
{
	uint64_t gpa = ACCESS_TEST_GPA, end = ACCESS_TEST_GPA + ACCESS_TEST_NPAGES * PAGE_SIZE;
	uint64_t attributes, run_size, i, page;

	while (gpa < end) {
		attributes = get_attributes(vm, gpa, end - gpa, &run_size);
		TEST_ASSERT(run_size && !(run_size % PAGE_SIZE) &&
			    run_size <= end - gpa, "Bad run size 0x%lx", run_size);
		for (i = 0; i < run_size / PAGE_SIZE; i++) {
			page = (gpa - ACCESS_TEST_GPA) / PAGE_SIZE + i;
			TEST_ASSERT(expected[page] == attributes,
				    "Page %lu: GET says 0x%lx, expected 0x%lx",
				    page, attributes, expected[page]);
		}
		/* The run is maximal: the next page differs. */
		if (gpa + run_size < end)
			TEST_ASSERT(expected[(gpa + run_size - ACCESS_TEST_GPA) /
					     PAGE_SIZE] != attributes,
				    "Run at 0x%lx stops early", gpa);
		gpa += run_size;
	}
}

static void test_get_runs(void)
{
	static const uint64_t values[] = { 0, NX, NW, NW | NX, PROTECTIONS };
	uint64_t expected[ACCESS_TEST_NPAGES] = {};
	struct kvm_vm *vm = vm_create_barebones();
	uint64_t first, npages, value, i, n;

	/* A pseudo-random sequence of overlapping SETs, checked after each. */
	for (n = 0; n < 200; n++) {
		first = random() % ACCESS_TEST_NPAGES;
		npages = 1 + random() % (ACCESS_TEST_NPAGES - first);
		value = values[random() % ARRAY_SIZE(values)];
		memattr_set(vm, ACCESS_TEST_GPA + first * PAGE_SIZE,
			    npages * PAGE_SIZE, value);
		for (i = first; i < first + npages; i++)
			expected[i] = value;
		check_map(vm, expected);
	}
	kvm_vm_free(vm);
}

/* Every invalid argument fails with EINVAL and changes nothing. */
static void test_invalid_arguments(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	struct kvm_memory_attributes attr;
	uint64_t supported = vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	uint64_t run_size;
	int bit;

	memattr_set(vm, ACCESS_TEST_GPA, PAGE_SIZE, NW);

	for (bit = 0; bit < 64; bit++) {
		TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA, PAGE_SIZE, 0,
					     BIT_ULL(bit)) == -1 && errno == EINVAL,
			    "SET with flags bit %d should fail with EINVAL", bit);
		attr = (struct kvm_memory_attributes) {
			.address = ACCESS_TEST_GPA, .size = PAGE_SIZE,
			.flags = BIT_ULL(bit),
		};
		TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
			    "GET with flags bit %d should fail with EINVAL", bit);

		if (BIT_ULL(bit) & (supported | PROTECTIONS))
			continue;
		TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA, PAGE_SIZE,
					     BIT_ULL(bit), 0) == -1 &&
			    errno == EINVAL,
			    "SET of attribute bit %d should fail with EINVAL", bit);
		attr = (struct kvm_memory_attributes) {
			.address = ACCESS_TEST_GPA, .size = PAGE_SIZE,
			.attributes = BIT_ULL(bit),
		};
		TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
			    "GET with attribute bit %d should fail with EINVAL", bit);
	}

	/* Zero size, unaligned address or size, overflow. */
	TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA, 0, NX, 0) == -1 && errno == EINVAL,
		    "SET of size 0 should fail");
	TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA + 1, PAGE_SIZE, NX, 0) == -1 &&
		    errno == EINVAL, "SET of an unaligned address should fail");
	TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA, PAGE_SIZE + 1, NX, 0) == -1 &&
		    errno == EINVAL, "SET of an unaligned size should fail");
	TEST_ASSERT(__set_attributes(vm, -PAGE_SIZE, 2 * PAGE_SIZE, NX, 0) == -1 &&
		    errno == EINVAL, "SET of an overflowing range should fail");
	/* Write without read, and NO_READ where it is not supported. */
	TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA, PAGE_SIZE, NR, 0) == -1 &&
		    errno == EINVAL, "SET of write-execute should fail");
	TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA, PAGE_SIZE, NR | NX, 0) == -1 &&
		    errno == EINVAL, "SET of write-only should fail");
	if (!(supported & NR))
		TEST_ASSERT(__set_attributes(vm, ACCESS_TEST_GPA, PAGE_SIZE, NR | NW, 0) == -1 &&
			    errno == EINVAL,
			    "SET of execute-only should fail where NO_READ is not advertised");

	attr = (struct kvm_memory_attributes) { .address = ACCESS_TEST_GPA, .size = 0 };
	TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
		    "GET of size 0 should fail");
	attr = (struct kvm_memory_attributes) { .address = ACCESS_TEST_GPA + 8, .size = PAGE_SIZE };
	TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
		    "GET of an unaligned address should fail");
	attr = (struct kvm_memory_attributes) { .address = -PAGE_SIZE, .size = 2 * PAGE_SIZE };
	TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
		    "GET of an overflowing range should fail");

	/* None of the above changed anything. */
	TEST_ASSERT_EQ(get_attributes(vm, ACCESS_TEST_GPA, 2 * PAGE_SIZE, &run_size), NW);
	TEST_ASSERT_EQ(run_size, PAGE_SIZE);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);

	test_combinations();
	test_readonly_memslot();
	test_huge_page();
	test_get_runs();
	test_invalid_arguments();

	return 0;
}
