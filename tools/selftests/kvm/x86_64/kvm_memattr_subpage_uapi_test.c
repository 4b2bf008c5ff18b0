// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sub-page write protection, what the uAPI refuses, without a guest: what
 * KVM_CHECK_EXTENSION(KVM_CAP_SUBPAGE_WRITE_PROTECT) advertises, that
 * KVM_ENABLE_CAP takes exactly one advertised mode, once, before the first
 * vCPU, and rejects every other bit; that before a mode is enabled SET fails
 * and GET reads all ones; that KVM_SET/GET_SUBPAGE_WRITE_ACCESS reject every
 * bad flag, reserved, npages, address and pointer with EINVAL or EFAULT
 * without changing any map; and that a SET whose maps are partly unreadable
 * changes nothing.  What accepted SETs leave in the maps is
 * kvm_memattr_subpage_maps_test.c.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_ref.h"

/* What a SET that should fail tries to write over the reference pages. */
#define BOGUS_MAP	0x12345678u

static const char *mode_name(uint32_t mode)
{
	return mode == KVM_SUBPAGE_WP_SOFTWARE ? "software" : "hardware";
}

/* A raw SET or GET, header and maps filled in by the caller. */
static int raw_ioctl(struct kvm_vm *vm, unsigned long cmd,
		     struct kvm_subpage_write_access *h)
{
	if (cmd == KVM_SET_SUBPAGE_WRITE_ACCESS)
		return __vm_ioctl(vm, KVM_SET_SUBPAGE_WRITE_ACCESS, h);
	return __vm_ioctl(vm, KVM_GET_SUBPAGE_WRITE_ACCESS, h);
}

/* KVM_ENABLE_CAP of the capability with these flags and args fails. */
static void assert_enable_einval(struct kvm_vm *vm, uint32_t flags,
				 uint64_t arg0, uint64_t arg1, uint64_t arg2,
				 uint64_t arg3, const char *what)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SUBPAGE_WRITE_PROTECT,
		.flags = flags,
		.args = { arg0, arg1, arg2, arg3 },
	};
	int r = __vm_ioctl(vm, KVM_ENABLE_CAP, &cap);

	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "KVM_ENABLE_CAP with %s (flags 0x%x, args 0x%lx 0x%lx 0x%lx 0x%lx) should fail with EINVAL, got %d (errno %d)",
		    what, flags, arg0, arg1, arg2, arg3, r, errno);
}

static bool test_check_extension(void)
{
	TEST_ASSERT(modes & KVM_SUBPAGE_WP_SOFTWARE,
		    "Modes 0x%x lack KVM_SUBPAGE_WP_SOFTWARE", modes);
	TEST_ASSERT(!(modes & ~ALL_MODES),
		    "Modes 0x%x include unknown bits", modes);
	pr_info("Modes: 0x%x (software%s)\n", modes,
		modes & KVM_SUBPAGE_WP_HARDWARE ? ", hardware" : "");
	return true;
}

/*
 * Every value but exactly one advertised mode, with flags and args[1..3]
 * 0, fails with EINVAL, and leaves the VM without a mode, to be enabled.
 */
static bool test_enable_invalid(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	uint32_t map = 0;
	int bit, i;

	assert_enable_einval(vm, 0, 0, 0, 0, 0, "no mode");
	assert_enable_einval(vm, 0, ALL_MODES, 0, 0, 0, "both modes");
	for (bit = 0; bit < 64; bit++) {
		if (modes & BIT_ULL(bit))
			continue;
		assert_enable_einval(vm, 0, BIT_ULL(bit), 0, 0, 0,
				     "a mode not advertised");
		assert_enable_einval(vm, 0, KVM_SUBPAGE_WP_SOFTWARE | BIT_ULL(bit),
				     0, 0, 0, "software and a mode not advertised");
	}
	for (bit = 0; bit < 32; bit++)
		assert_enable_einval(vm, BIT(bit), KVM_SUBPAGE_WP_SOFTWARE, 0, 0, 0,
				     "a flag");
	for (bit = 0; bit < 64; bit++) {
		for (i = 1; i <= 3; i++)
			assert_enable_einval(vm, 0, KVM_SUBPAGE_WP_SOFTWARE,
					     i == 1 ? BIT_ULL(bit) : 0,
					     i == 2 ? BIT_ULL(bit) : 0,
					     i == 3 ? BIT_ULL(bit) : 0,
					     "an args[1..3] bit");
	}

	/* Nothing was enabled: SET still fails, and the mode can be chosen. */
	TEST_ASSERT(__subpage_set(vm, BASE_GPA, 1, &map) == -1 && errno == EINVAL,
		    "SET after failed KVM_ENABLE_CAPs should fail with EINVAL");
	subpage_enable(vm, KVM_SUBPAGE_WP_SOFTWARE);
	subpage_set(vm, BASE_GPA, 1, &map);
	TEST_ASSERT_EQ(subpage_get_one(vm, BASE_GPA), 0);
	kvm_vm_free(vm);
	return true;
}

/* Each advertised mode enables on a fresh VM, and only once. */
static bool test_enable_once(void)
{
	uint32_t mode, other;
	struct kvm_vm *vm;

	for_each_mode(mode) {
		vm = vm_create_barebones();
		TEST_ASSERT(!__subpage_enable(vm, mode),
			    "Enabling the %s mode failed: %s", mode_name(mode),
			    strerror(errno));
		for (other = 1; other & ALL_MODES; other <<= 1)
			assert_enable_einval(vm, 0, other, 0, 0, 0,
					     "a mode, a second time");
		TEST_ASSERT_EQ(subpage_modes(vm), modes);
		kvm_vm_free(vm);
	}
	return true;
}

/* No mode can be chosen once the VM has a vCPU. */
static bool test_enable_after_vcpu(void)
{
	uint32_t mode, map = 0;
	struct kvm_vm *vm;

	for (mode = 1; mode & ALL_MODES; mode <<= 1) {
		vm = vm_create(1);
		vm_vcpu_add(vm, 0, guest_code);
		assert_enable_einval(vm, 0, mode, 0, 0, 0, "a mode after a vCPU");
		TEST_ASSERT(__subpage_set(vm, BASE_GPA, 1, &map) == -1 &&
			    errno == EINVAL,
			    "SET should fail with EINVAL: no mode was enabled");
		kvm_vm_free(vm);
	}
	return true;
}

/* Without a mode, SET fails and GET reads all ones. */
static bool test_before_enable(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	uint32_t maps[MAX_PAGES];

	subpage_make_maps(maps, MAX_PAGES, 1);
	TEST_ASSERT(__subpage_set(vm, BASE_GPA, MAX_PAGES, maps) == -1 &&
		    errno == EINVAL, "SET before the mode should fail with EINVAL");
	memset(maps, 0xff, sizeof(maps));
	TEST_ASSERT(__subpage_set(vm, BASE_GPA, 1, maps) == -1 && errno == EINVAL,
		    "SET of all ones before the mode should fail with EINVAL");
	subpage_assert_all_ones(vm, BASE_GPA, 1,
				"GET of one page before the mode");
	subpage_assert_all_ones(vm, BASE_GPA, MAX_PAGES, "GET before the mode");
	subpage_assert_all_ones(vm, GPA_1G - PAGE_SIZE, 2,
				"GET before the mode");
	subpage_assert_all_ones(vm, HIGH_GPA, MAX_PAGES, "GET before the mode");
	kvm_vm_free(vm);
	return true;
}

/*
 * SET (with @set) and GET of header @h fail with EINVAL and change no map;
 * SET would write BOGUS_MAP.
 */
static void assert_header_einval(struct kvm_vm *vm, bool set,
				 const struct kvm_subpage_write_access *h,
				 uint64_t val, const char *what)
{
	static struct subpage_access a;
	int i, r;

	for (i = 0; i < MAX_PAGES; i++)
		a.map[i] = BOGUS_MAP;
	a.h = *h;
	r = raw_ioctl(vm, KVM_GET_SUBPAGE_WRITE_ACCESS, &a.h);
	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "GET with %s (0x%lx) should fail with EINVAL, got %d (errno %d)",
		    what, val, r, errno);
	assert_window(vm, set, what);
	if (!set)
		return;

	a.h = *h;
	r = raw_ioctl(vm, KVM_SET_SUBPAGE_WRITE_ACCESS, &a.h);
	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "SET with %s (0x%lx) should fail with EINVAL, got %d (errno %d)",
		    what, val, r, errno);
	assert_window(vm, set, what);
}

/* The reference pages' header, but @field = @val. */
#define ASSERT_FIELD_EINVAL(vm, set, field, val, what)			\
do {									\
	struct kvm_subpage_write_access __h = {				\
		.address = REF_GPA,					\
		.npages = REF_NPAGES,					\
	};								\
									\
	__h.field = (val);						\
	assert_header_einval(vm, set, &__h, (val), what);		\
} while (0)

/*
 * Every bad flag, reserved, npages, address and range fails with EINVAL
 * and changes no map: GET (@set false, VM without a mode) or both.
 */
static void invalid_fields(struct kvm_vm *vm, bool set)
{
	static const uint32_t bad_npages[] = {
		0, MAX_PAGES + 1, 2 * MAX_PAGES, 0x80000000u, 0xffffffffu,
	};
	int bit, i;

	for (bit = 0; bit < 32; bit++)
		ASSERT_FIELD_EINVAL(vm, set, flags, BIT(bit), "a flag");
	for (bit = 0; bit < 64; bit++) {
		ASSERT_FIELD_EINVAL(vm, set, reserved[0], BIT_ULL(bit), "reserved[0]");
		ASSERT_FIELD_EINVAL(vm, set, reserved[1], BIT_ULL(bit), "reserved[1]");
	}
	for (i = 0; i < ARRAY_SIZE(bad_npages); i++)
		ASSERT_FIELD_EINVAL(vm, set, npages, bad_npages[i], "npages");
	for (bit = 0; bit < 12; bit++)
		ASSERT_FIELD_EINVAL(vm, set, address, REF_GPA | BIT(bit),
				    "an unaligned address");
	/* REF_NPAGES pages from here wrap past 2^64. */
	ASSERT_FIELD_EINVAL(vm, set, address, -PAGE_SIZE, "a wrapping range");
	ASSERT_FIELD_EINVAL(vm, set, address, -2 * PAGE_SIZE, "a wrapping range");
	ASSERT_FIELD_EINVAL(vm, set, address, -(REF_NPAGES - 1) * PAGE_SIZE,
			    "a range wrapping by one page");
}

/* Two pages: the first read-write, the second PROT_NONE. */
static uint8_t *guarded_buffer(void)
{
	uint8_t *buf = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(buf != MAP_FAILED, "mmap() failed");
	TEST_ASSERT(!mprotect(buf + PAGE_SIZE, PAGE_SIZE, PROT_NONE),
		    "mprotect() failed");
	return buf;
}

/*
 * A header at @buf + PAGE_SIZE - @room for @npages from @gpa, the maps
 * that fit before the PROT_NONE page being @maps.
 */
static struct kvm_subpage_write_access *guarded_header(uint8_t *buf, int room,
							 uint64_t gpa, uint32_t npages,
							 const uint32_t *maps)
{
	struct kvm_subpage_write_access *h = (void *)(buf + PAGE_SIZE - room);
	int i, readable = (room - (int)sizeof(*h)) / (int)sizeof(uint32_t);

	h->address = gpa;
	h->npages = npages;
	h->flags = 0;
	h->reserved[0] = h->reserved[1] = 0;
	for (i = 0; i < readable && i < npages; i++)
		h->access_map[i] = maps[i];
	return h;
}

static void assert_efault(struct kvm_vm *vm, unsigned long cmd,
			  struct kvm_subpage_write_access *h, bool set,
			  const char *what)
{
	int r = raw_ioctl(vm, cmd, h);

	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "%s with %s should fail with EFAULT, got %d (errno %d)",
		    cmd == KVM_SET_SUBPAGE_WRITE_ACCESS ? "SET" : "GET", what,
		    r, errno);
	assert_window(vm, set, what);
}

/* A bad header or map pointer: EFAULT, no map changed. */
static void bad_pointers(struct kvm_vm *vm, bool set)
{
	unsigned long cmds[] = { KVM_GET_SUBPAGE_WRITE_ACCESS,
				 KVM_SET_SUBPAGE_WRITE_ACCESS };
	struct kvm_subpage_write_access *h;
	uint8_t *buf = guarded_buffer();
	uint32_t bogus[REF_NPAGES];
	int c, k;

	for (k = 0; k < REF_NPAGES; k++)
		bogus[k] = BOGUS_MAP;
	for (c = 0; c < (set ? 2 : 1); c++) {
		assert_efault(vm, cmds[c], NULL, set, "a NULL header");
		assert_efault(vm, cmds[c], (void *)(buf + PAGE_SIZE), set,
			      "a PROT_NONE header");
		assert_efault(vm, cmds[c], (void *)(buf + PAGE_SIZE - 16), set,
			      "a header half in a PROT_NONE page");
		/* Maps 0..k-1 accessible, k and up in the PROT_NONE page. */
		for (k = 0; k < REF_NPAGES; k++) {
			h = guarded_header(buf, sizeof(*h) + k * sizeof(uint32_t),
					   REF_GPA, REF_NPAGES, bogus);
			assert_efault(vm, cmds[c], h, set,
				      "maps crossing into a PROT_NONE page");
		}
	}
	TEST_ASSERT(!munmap(buf, 2 * PAGE_SIZE), "munmap() failed");
}

static bool test_invalid_inputs(void)
{
	struct kvm_vm *vm;
	uint32_t mode;

	/* GET validates its input before a mode is enabled too. */
	vm = ref_vm(0);
	invalid_fields(vm, false);
	bad_pointers(vm, false);
	kvm_vm_free(vm);

	for_each_mode(mode) {
		vm = ref_vm(mode);
		invalid_fields(vm, true);
		bad_pointers(vm, true);
		pr_info("Invalid inputs, %s mode: EINVAL and EFAULT, maps unchanged\n",
			mode_name(mode));
		kvm_vm_free(vm);
	}
	return true;
}

/*
 * A SET whose maps become unreadable after @k of @npages changes no map,
 * neither of pages with maps nor of pages without.
 */
static void partial_set(struct kvm_vm *vm, uint64_t gpa, uint32_t npages,
			uint32_t k, uint8_t *buf)
{
	uint32_t before[MAX_PAGES], attempt[MAX_PAGES], i;
	struct kvm_subpage_write_access *h;

	/* The first half of the pages have maps, the second half none. */
	subpage_make_maps(before, npages / 2, npages + k);
	for (i = 0; i < npages / 2; i++)
		before[i] &= ~BIT(i % 32);	/* never all ones */
	subpage_set(vm, gpa, npages / 2, before);
	memset(&before[npages / 2], 0xff, (npages - npages / 2) * sizeof(uint32_t));
	for (i = 0; i < npages; i++)
		attempt[i] = ~before[i] & ~BIT(i % 32);

	h = guarded_header(buf, sizeof(*h) + k * sizeof(uint32_t), gpa, npages,
			   attempt);
	TEST_ASSERT(raw_ioctl(vm, KVM_SET_SUBPAGE_WRITE_ACCESS, h) == -1 &&
		    errno == EFAULT,
		    "SET of %u pages, %u maps readable, should fail with EFAULT",
		    npages, k);
	subpage_assert_maps(vm, gpa, npages, before, "partly unreadable SET");
}

static bool test_all_or_nothing(void)
{
	uint8_t *buf = guarded_buffer();
	uint32_t mode;
	struct kvm_vm *vm;

	for_each_mode(mode) {
		vm = ref_vm(mode);
		partial_set(vm, BASE_GPA + 16 * PAGE_SIZE, 8, 0, buf);
		partial_set(vm, BASE_GPA + 32 * PAGE_SIZE, 8, 6, buf);
		partial_set(vm, BASE_GPA + 48 * PAGE_SIZE, 8, 7, buf);
		partial_set(vm, HIGH_GPA, MAX_PAGES, MAX_PAGES / 2 + 3, buf);
		partial_set(vm, GPA_1G - 256 * PAGE_SIZE, MAX_PAGES,
			    MAX_PAGES - 1, buf);
		assert_window(vm, true, "partly unreadable SETs elsewhere");
		kvm_vm_free(vm);
	}
	TEST_ASSERT(!munmap(buf, 2 * PAGE_SIZE), "munmap() failed");
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. KVM_CHECK_EXTENSION", test_check_extension },
		{ "2. KVM_ENABLE_CAP, invalid values", test_enable_invalid },
		{ "3. KVM_ENABLE_CAP, each mode once", test_enable_once },
		{ "4. KVM_ENABLE_CAP after a vCPU", test_enable_after_vcpu },
		{ "5. SET and GET before the mode", test_before_enable },
		{ "6. SET and GET, invalid inputs", test_invalid_inputs },
		{ "7. SET with partly unreadable maps", test_all_or_nothing },
	};

	require_subpage_modes();
	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
