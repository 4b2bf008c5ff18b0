// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmarks of kvm-memattr against upstream KVM, run in one boot:
 *
 *   kvm_memattr_bench upstream RESULTS   without the module: upstream's store
 *   kvm_memattr_bench module RESULTS     with the module; prints the tables
 *   kvm_memattr_bench faults RESULTS     without the module again: the fault
 *                                        cost once more, to show the drift
 *
 * SET: time of one KVM_SET_MEMORY_ATTRIBUTES over 2^k pages, and back to 0.
 * Upstream sets PRIVATE on a KVM_X86_SW_PROTECTED_VM (its only attribute);
 * the module sets NO_WRITE on a default VM.  Memory: the kernel's Slab
 * growth for a map of many runs.
 * Faults: a vCPU touching every page of a memslot once, with no attributes,
 * and with a map of 10^4 runs elsewhere.
 * Emulated access modes: a vCPU writing one page in a loop, mapped
 * read/write, and write-only (KVM_CAP_MEMORY_ATTRIBUTES_EMULATED), where
 * every write is a fault completed by KVM's emulator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define MAX_ORDER		24
#define MAX_UPSTREAM_ORDER	20
#define SET_REPS		3
#define FAULT_REPS		11
#define FAULT_GPA		0x100000000ull
#define FAULT_SLOT		10
#define FAULT_NPAGES		8192
#define RUNS_GPA		0x1000000000ull
#define NR_RUNS			10000
#define MEMORY_RUNS		100000
#define NR_WRITES		10000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median and spread (max - min) of @n samples. */
static double median(double *samples, int n, double *spread)
{
	qsort(samples, n, sizeof(*samples), compare_doubles);
	*spread = samples[n - 1] - samples[0];
	return samples[n / 2];
}

static void set_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			   uint64_t attributes)
{
	struct kvm_memory_attributes attr = {
		.address = gpa, .size = size, .attributes = attributes,
	};

	vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
}

/* Median time of one SET of @attributes over 2^@order pages, in ns. */
static double time_set(struct kvm_vm *vm, int order, uint64_t attributes)
{
	double samples[SET_REPS], start, spread;
	uint64_t size = PAGE_SIZE << order;
	int i;

	for (i = 0; i < SET_REPS; i++) {
		start = now_ns();
		set_attributes(vm, 0, size, attributes);
		samples[i] = now_ns() - start;
		set_attributes(vm, 0, size, 0);
	}
	return median(samples, SET_REPS, &spread);
}

static long slab_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	TEST_ASSERT(f, "/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* @nr runs: every other page of 2 * @nr pages. */
static void make_runs(struct kvm_vm *vm, int nr, uint64_t attributes)
{
	int i;

	for (i = 0; i < nr; i++)
		set_attributes(vm, RUNS_GPA + 2 * i * PAGE_SIZE, PAGE_SIZE,
			       attributes);
}

static void guest_touch(void)
{
	uint64_t gpa;

	for (gpa = FAULT_GPA; gpa < FAULT_GPA + FAULT_NPAGES * PAGE_SIZE;
	     gpa += PAGE_SIZE)
		*(volatile uint64_t *)gpa = gpa;
	GUEST_DONE();
}

/* A VM whose vCPU runs @guest_code over @npages at FAULT_GPA, faulted in. */
static struct kvm_vm *create_bench_vm(void *guest_code, uint64_t npages,
				      struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create_with_one_vcpu(vcpu, guest_code);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, FAULT_GPA,
				    FAULT_SLOT, npages, 0);
	virt_map(vm, FAULT_GPA, FAULT_GPA, npages);
	/* Fault the host pages in first: time KVM's side only. */
	memset(addr_gpa2hva(vm, FAULT_GPA), 1, npages * PAGE_SIZE);
	return vm;
}

/* Run the vCPU to GUEST_DONE; the time per operation of @nr_ops, in ns. */
static double time_run(struct kvm_vcpu *vcpu, int nr_ops)
{
	double start = now_ns(), ns;
	struct ucall uc;

	vcpu_run(vcpu);
	ns = (now_ns() - start) / nr_ops;
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_DONE);
	return ns;
}

/* Median time per fault of a vCPU touching FAULT_NPAGES new pages, in ns. */
static double time_faults(bool with_runs, double *spread)
{
	double samples[FAULT_REPS];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int i;

	for (i = 0; i < FAULT_REPS; i++) {
		vm = create_bench_vm(guest_touch, FAULT_NPAGES, &vcpu);
		if (with_runs)
			make_runs(vm, NR_RUNS, KVM_MEMORY_ATTRIBUTE_NO_EXEC);
		samples[i] = time_run(vcpu, FAULT_NPAGES);
		kvm_vm_free(vm);
	}
	return median(samples, FAULT_REPS, spread);
}

static void guest_write_loop(uint64_t nr)
{
	uint64_t i;

	for (i = 0; i < nr; i++)
		*(volatile uint64_t *)(FAULT_GPA + 8 * (i % 512)) = i;
	GUEST_DONE();
}

/* Median time per write of a vCPU writing a page with @attributes, in ns. */
static double time_writes(uint64_t attributes, double *spread)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MEMORY_ATTRIBUTES_EMULATED };
	double samples[FAULT_REPS];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int i;

	for (i = 0; i < FAULT_REPS; i++) {
		vm = create_bench_vm(guest_write_loop, 1, &vcpu);
		vcpu_args_set(vcpu, 1, NR_WRITES);
		vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
		set_attributes(vm, FAULT_GPA, PAGE_SIZE, attributes);
		samples[i] = time_run(vcpu, NR_WRITES);
		TEST_ASSERT_EQ(*(uint64_t *)addr_gpa2hva(vm, FAULT_GPA +
						    8 * ((NR_WRITES - 1) % 512)),
			       NR_WRITES - 1);
		kvm_vm_free(vm);
	}
	return median(samples, FAULT_REPS, spread);
}

static void run_upstream(FILE *out)
{
	struct kvm_vm *vm = vm_create_barebones_type(KVM_X86_SW_PROTECTED_VM);
	double spread, ns;
	long before;
	int order;

	for (order = 0; order <= MAX_UPSTREAM_ORDER; order++)
		fprintf(out, "set %d %.0f\n", order,
			time_set(vm, order, KVM_MEMORY_ATTRIBUTE_PRIVATE));
	before = slab_kb();
	make_runs(vm, MEMORY_RUNS, KVM_MEMORY_ATTRIBUTE_PRIVATE);
	fprintf(out, "memory %ld\n", slab_kb() - before);
	kvm_vm_free(vm);

	ns = time_faults(false, &spread);
	fprintf(out, "faults %.0f %.0f\n", ns, spread);
}

int main(int argc, char *argv[])
{
	double up_set[MAX_ORDER + 1] = {}, ns, spread, up_fault = 0, up_spread = 0;
	double mapped;
	long up_memory = -1, before, memory;
	struct kvm_vm *vm;
	char line[128];
	int order;
	FILE *f;

	TEST_ASSERT(argc == 3, "usage: %s upstream|module|faults RESULTS", argv[0]);
	if (!strcmp(argv[1], "upstream")) {
		f = fopen(argv[2], "w");
		TEST_ASSERT(f, "Cannot write %s", argv[2]);
		run_upstream(f);
		fclose(f);
		return 0;
	}

	f = fopen(argv[2], "r");
	TEST_ASSERT(f, "Run '%s upstream %s' first", argv[0], argv[2]);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "set %d %lf", &order, &ns) == 2 && order <= MAX_ORDER)
			up_set[order] = ns;
		sscanf(line, "memory %ld", &up_memory);
		sscanf(line, "faults %lf %lf", &up_fault, &up_spread);
	}
	fclose(f);

	if (!strcmp(argv[1], "faults")) {
		ns = time_faults(false, &spread);
		printf("\nGuest page faults again, module unloaded (ns per fault, spread)\n");
		printf("  upstream, second run:         %8.0f  (%.0f)  %+.1f%% over the first\n",
		       ns, spread, (ns - up_fault) * 100 / up_fault);
		return 0;
	}

	vm = vm_create_barebones();
	printf("\nKVM_SET_MEMORY_ATTRIBUTES, one call over 2^k pages (median of %d, us)\n",
	       SET_REPS);
	printf("%6s %12s %14s %14s %10s\n", "k", "pages", "upstream", "kvm_memattr",
	       "ratio");
	for (order = 0; order <= MAX_ORDER; order++) {
		ns = time_set(vm, order, KVM_MEMORY_ATTRIBUTE_NO_WRITE);
		if (up_set[order])
			printf("%6d %12llu %14.1f %14.1f %9.1fx\n", order, 1ull << order,
			       up_set[order] / 1e3, ns / 1e3, up_set[order] / ns);
		else
			printf("%6d %12llu %14s %14.1f %10s\n", order, 1ull << order,
			       "(not run)", ns / 1e3, "");
	}

	before = slab_kb();
	make_runs(vm, MEMORY_RUNS, KVM_MEMORY_ATTRIBUTE_NO_WRITE);
	memory = slab_kb() - before;
	kvm_vm_free(vm);
	printf("\nMemory of a map of %d one-page runs (Slab growth)\n", MEMORY_RUNS);
	printf("  upstream:    %6ld kB, %5.0f bytes per run\n", up_memory,
	       up_memory * 1024.0 / MEMORY_RUNS);
	printf("  kvm_memattr: %6ld kB, %5.0f bytes per run\n", memory,
	       memory * 1024.0 / MEMORY_RUNS);

	printf("\nGuest page faults, %d pages touched once (median of %d, ns per fault, spread)\n",
	       FAULT_NPAGES, FAULT_REPS);
	printf("  upstream, module not loaded:  %8.0f  (%.0f)\n", up_fault, up_spread);
	ns = time_faults(false, &spread);
	printf("  kvm_memattr, no attributes:   %8.0f  (%.0f)  %+.1f%%\n", ns, spread,
	       (ns - up_fault) * 100 / up_fault);
	ns = time_faults(true, &spread);
	printf("  kvm_memattr, %d runs:      %8.0f  (%.0f)  %+.1f%%\n", NR_RUNS, ns,
	       spread, (ns - up_fault) * 100 / up_fault);

	printf("\nGuest writes to one page, %d in a loop (median of %d, ns per write, spread)\n",
	       NR_WRITES, FAULT_REPS);
	mapped = time_writes(0, &spread);
	printf("  read/write page, mapped:       %8.0f  (%.0f)\n", mapped, spread);
	ns = time_writes(KVM_MEMORY_ATTRIBUTE_NO_READ | KVM_MEMORY_ATTRIBUTE_NO_EXEC,
			 &spread);
	printf("  write-only page, emulated:     %8.0f  (%.0f)  %.0fx slower\n", ns,
	       spread, ns / mapped);
	return 0;
}
