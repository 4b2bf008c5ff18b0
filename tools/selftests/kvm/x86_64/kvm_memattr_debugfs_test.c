// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-VM debugfs file "memattr" of kvm_memattr, for VMM developers: it
 * lists what the module holds for the VM, and nothing else.
 *
 * 1. The file is in the VM's debugfs directory, readable by root only.
 * 2. It shows exactly the attribute runs that KVM_SET_MEMORY_ATTRIBUTES
 *    left, merged as the store keeps them, and the sub-page mode and the
 *    protected pages with their maps; cleared protections disappear.
 * 3. A report larger than seq_file's first buffer is whole (the module
 *    stops when the buffer is full and is called again with a larger one).
 * 4. The directory, and the file, go away with the VM.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm_util.h"
#include "test_util.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"

#define REPORT_HEADER	"# attribute runs: gpa size attributes\n"
#define SUBPAGE_HEADER	"# sub-page write protection: %s\n" \
			"# protected pages: gpa map-of-writable-sub-pages\n"

/* Enough one-page runs for a report of several pages. */
#define NR_RUNS		1024
#define MANY_RUNS_GPA	0x40000000ul

static char path[128];
static char expected[NR_RUNS * 64 + 512];

static void vm_report_path(struct kvm_vm *vm, char *buf, size_t size)
{
	snprintf(buf, size, "/sys/kernel/debug/kvm/%d-%d/memattr", getpid(),
		 vm->fd);
}

/* The whole file, read in small chunks as a tool like cat would. */
static char *read_report(void)
{
	size_t size = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	TEST_ASSERT(buf, "malloc");
	fd = open(path, O_RDONLY);
	TEST_ASSERT(fd >= 0, "Cannot open %s (%s): is debugfs mounted?", path,
		    strerror(errno));
	do {
		if (cap - size < 256) {
			cap *= 2;
			buf = realloc(buf, cap);
			TEST_ASSERT(buf, "realloc");
		}
		n = read(fd, buf + size, 255);
		TEST_ASSERT(n >= 0, "read(%s): %s", path, strerror(errno));
		size += n;
	} while (n);
	close(fd);
	buf[size] = '\0';
	return buf;
}

static void assert_report(const char *what)
{
	char *got = read_report();

	TEST_ASSERT(!strcmp(got, expected),
		    "%s: %s reads\n%s\nexpected\n%s", what, path, got, expected);
	printf("%s: %zu bytes as expected\n", what, strlen(got));
	free(got);
}

/* Appends to the expected report. */
static void expect(const char *fmt, ...)
{
	size_t len = strlen(expected);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(expected + len, sizeof(expected) - len, fmt, ap);
	va_end(ap);
}

static void test_file_mode(void)
{
	struct stat st;

	TEST_ASSERT(!stat(path, &st), "stat(%s): %s", path, strerror(errno));
	TEST_ASSERT(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0400,
		    "%s: mode 0%o, expected a regular file with mode 0400",
		    path, st.st_mode);
	printf("%s: mode 0400\n", path);
}

static void test_attribute_runs(struct kvm_vm *vm)
{
	expected[0] = '\0';
	expect(REPORT_HEADER);
	expect(SUBPAGE_HEADER, "off");
	assert_report("no protections");

	/* Three pages, then one more adjacent with the same value: one run. */
	memattr_set(vm, 0x100000, 0x3000, NW);
	memattr_set(vm, 0x103000, 0x1000, NW);
	memattr_set(vm, 0x200000, 0x1000, NX);
	memattr_set(vm, 0x201000, 0x2000, NW | NX);
	/* A protection cleared in the middle of a run splits it. */
	memattr_set(vm, 0x101000, 0x1000, 0);

	expected[0] = '\0';
	expect(REPORT_HEADER);
	expect("0x100000 0x1000 0x2 NO_WRITE\n");
	expect("0x102000 0x2000 0x2 NO_WRITE\n");
	expect("0x200000 0x1000 0x4 NO_EXEC\n");
	expect("0x201000 0x2000 0x6 NO_WRITE|NO_EXEC\n");
	expect(SUBPAGE_HEADER, "off");
	assert_report("attribute runs");

	memattr_set(vm, 0x100000, 0x4000, 0);
	memattr_set(vm, 0x200000, 0x3000, 0);
}

static void test_subpage_maps(struct kvm_vm *vm)
{
	uint32_t maps[3] = { 0xffffffdf, SUBPAGE_ALL_WRITABLE, 0 };

	subpage_enable(vm, KVM_SUBPAGE_WP_SOFTWARE);
	subpage_set(vm, 0x300000, 3, maps);
	memattr_set(vm, 0x302000, 0x1000, NW);

	expected[0] = '\0';
	expect(REPORT_HEADER);
	expect("0x302000 0x1000 0x2 NO_WRITE\n");
	expect(SUBPAGE_HEADER, "software");
	expect("0x300000 0xffffffdf\n");
	expect("0x302000 0x00000000\n");
	assert_report("sub-page maps");

	/* All ones forgets a page. */
	subpage_set_one(vm, 0x300000, SUBPAGE_ALL_WRITABLE);
	subpage_set_one(vm, 0x302000, SUBPAGE_ALL_WRITABLE);
	memattr_set(vm, 0x302000, 0x1000, 0);

	expected[0] = '\0';
	expect(REPORT_HEADER);
	expect(SUBPAGE_HEADER, "software");
	assert_report("sub-page maps cleared");
}

static void test_long_report(struct kvm_vm *vm)
{
	uint64_t gpa;
	int i;

	expected[0] = '\0';
	expect(REPORT_HEADER);
	for (i = 0; i < NR_RUNS; i++) {
		gpa = MANY_RUNS_GPA + 2 * i * PAGE_SIZE;
		memattr_set(vm, gpa, PAGE_SIZE, NW);
		expect("0x%lx 0x1000 0x2 NO_WRITE\n", gpa);
	}
	expect(SUBPAGE_HEADER, "software");
	TEST_ASSERT(strlen(expected) > 4 * PAGE_SIZE,
		    "a report of %zu bytes does not overflow seq_file's buffer",
		    strlen(expected));
	assert_report("1024 runs");
	memattr_set(vm, MANY_RUNS_GPA, 2 * NR_RUNS * PAGE_SIZE, 0);
}

int main(int argc, char *argv[])
{
	struct kvm_vm *vm;
	struct stat st;

	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);

	vm = vm_create_barebones();
	TEST_REQUIRE(subpage_modes(vm) & KVM_SUBPAGE_WP_SOFTWARE);
	vm_report_path(vm, path, sizeof(path));

	test_file_mode();
	test_attribute_runs(vm);
	test_subpage_maps(vm);
	test_long_report(vm);

	kvm_vm_free(vm);
	TEST_ASSERT(stat(path, &st) && errno == ENOENT,
		    "%s still exists after the VM was destroyed", path);
	printf("%s: gone with the VM\n", path);
	return 0;
}
