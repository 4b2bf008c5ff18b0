/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host side of kvm_memattr_stress_test's vCPUs: one thread each, which
 * runs its vCPU and checks every denial it exits for, and what the test
 * reports of a vCPU that does not finish (its KVM stats over a second, then
 * its registers once kicked out of KVM_RUN).
 */
#ifndef SELFTEST_KVM_MEMATTR_STRESS_VCPU_H
#define SELFTEST_KVM_MEMATTR_STRESS_VCPU_H

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "kvm_memattr_stress_guest.h"

/* How long a vCPU may take to finish once told to stop. */
#define JOIN_SECONDS		30

enum exit_kind { EXIT_READ, EXIT_WRITE, EXIT_SUBPAGE, EXIT_EXEC, NR_EXITS };

static const char * const exit_names[] = {
	"read", "write", "sub-page write", "exec",
};

static const uint64_t exit_flags[] = {
	[EXIT_READ] = KVM_MEMORY_EXIT_FLAG_READ,
	[EXIT_WRITE] = KVM_MEMORY_EXIT_FLAG_WRITE,
	[EXIT_SUBPAGE] = KVM_MEMORY_EXIT_FLAG_WRITE | KVM_MEMORY_EXIT_FLAG_SUBPAGE,
	[EXIT_EXEC] = KVM_MEMORY_EXIT_FLAG_EXEC,
};

struct vcpu_thread {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	int id;
	uint64_t exits[NR_EXITS];
	/* Its stats file, readable while it runs. */
	int stats_fd;
	/* The last denial, for the message if the vCPU never finishes. */
	uint64_t last_fault_gpa;
	uint64_t last_fault_flags;
};

/* A denied access: one flag, on a test page, at the right granularity. */
static void check_fault(struct vcpu_thread *t)
{
	struct kvm_run *run = t->vcpu->run;
	uint64_t gpa = run->memory_fault.gpa, size = run->memory_fault.size;
	uint64_t flags = run->memory_fault.flags, page = gpa & PAGE_MASK;
	int kind;

	for (kind = 0; kind < NR_EXITS && flags != exit_flags[kind]; kind++)
		;
	TEST_ASSERT(kind < NR_EXITS &&
		    gpa >= TEST_GPA && gpa < TEST_GPA + NPAGES * PAGE_SIZE,
		    "vCPU %d: memory fault at 0x%lx with flags 0x%lx: expected one access to a test page",
		    t->id, gpa, flags);
	if (kind == EXIT_SUBPAGE)
		TEST_ASSERT(size == KVM_SUBPAGE_SIZE &&
			    gpa == page + cell_subpage(t->id) * KVM_SUBPAGE_SIZE,
			    "vCPU %d: sub-page fault at 0x%lx, size 0x%lx; its cell is in sub-page %d",
			    t->id, gpa, size, cell_subpage(t->id));
	else
		TEST_ASSERT(size == PAGE_SIZE && gpa == page,
			    "vCPU %d: %s fault at 0x%lx, size 0x%lx: expected a page",
			    t->id, exit_names[kind], gpa, size);
	t->exits[kind]++;
	t->last_fault_gpa = gpa;
	t->last_fault_flags = flags;
}

/* Set when a vCPU that does not finish is kicked out of KVM_RUN to say where it is. */
static bool dump_requested;

static void kick_handler(int sig)
{
}

/* Where a vCPU that did not finish stands: registers, pending events, code. */
static void dump_vcpu(struct vcpu_thread *t)
{
	struct kvm_vcpu_events events;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint8_t *code;
	int i;

	vcpu_regs_get(t->vcpu, &regs);
	vcpu_sregs_get(t->vcpu, &sregs);
	vcpu_events_get(t->vcpu, &events);
	pr_info("vCPU %d: rip 0x%llx rsp 0x%llx rax 0x%llx rdi 0x%llx rsi 0x%llx cr2 0x%llx; exception injected %u pending %u nr %u error %u (has %u)\n  code:",
		t->id, regs.rip, regs.rsp, regs.rax, regs.rdi, regs.rsi,
		sregs.cr2, events.exception.injected,
		events.exception.pending, events.exception.nr,
		events.exception.error_code, events.exception.has_error_code);
	code = addr_gva2hva(t->vcpu->vm, regs.rip);
	for (i = 0; i < 16; i++)
		pr_info(" %02x", code[i]);
	pr_info("\n");
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_thread *t = arg;
	struct kvm_run *run = t->vcpu->run;
	struct kvm_regs regs;
	struct ucall uc;
	int r;

	for (;;) {
		/* Not _vcpu_run(), which retries KVM_RUN on EINTR. */
		r = __vcpu_run(t->vcpu);
		if (r == -1 && errno == EINTR && !READ_ONCE(dump_requested))
			continue;
		if (r == -1 && errno == EFAULT &&
		    run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
			check_fault(t);
			/* No stale fault may pass for the next one. */
			memset(&run->memory_fault, 0, sizeof(run->memory_fault));
			/* The flipper relaxes the page soon: let it run. */
			sched_yield();
			continue;
		}
		if (r == -1 && errno == EINTR) {
			dump_vcpu(t);
			return NULL;
		}
		TEST_ASSERT(!r, "vCPU %d: KVM_RUN failed (errno %d), exit reason %s",
			    t->id, errno, exit_reason_str(run->exit_reason));
		assert_on_unhandled_exception(t->vcpu);
		switch (get_ucall(t->vcpu, &uc)) {
		case UCALL_DONE:
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			dump_vcpu(t);
			vcpu_regs_get(t->vcpu, &regs);
			TEST_FAIL("vCPU %d: unexpected exit %s (MMIO: gpa 0x%llx, len %u, write %u; rip 0x%llx)",
				  t->id, exit_reason_str(run->exit_reason),
				  run->mmio.phys_addr, run->mmio.len,
				  run->mmio.is_write, regs.rip);
		}
	}
}

/*
 * What a vCPU that does not finish is doing, over one second: whether its
 * guest still makes accesses, and which of its KVM stats move (exits, page
 * faults, emulations...).
 */
static void describe_stuck_vcpu(struct kvm_vm *vm, struct vcpu_thread *t)
{
	struct guest_stats *st = addr_gva2hva(vm, (vm_vaddr_t)&guest_stats[t->id]);
	uint64_t before[256], after, done_before = 0, done_after = 0;
	struct kvm_stats_desc *descs, *desc;
	struct kvm_stats_header header;
	int i;

	read_stats_header(t->stats_fd, &header);
	descs = read_stats_descriptors(t->stats_fd, &header);
	for (i = 0; i < NR_OPS; i++)
		done_before += READ_ONCE(st->done[i]);
	for (i = 0; i < header.num_desc && i < ARRAY_SIZE(before); i++) {
		desc = get_stats_descriptor(descs, i, &header);
		read_stat_data(t->stats_fd, &header, desc, &before[i], 1);
	}
	sleep(1);
	for (i = 0; i < NR_OPS; i++)
		done_after += READ_ONCE(st->done[i]);
	pr_info("vCPU %d over 1 s: %lu guest accesses", t->id,
		done_after - done_before);
	for (i = 0; i < header.num_desc && i < ARRAY_SIZE(before); i++) {
		desc = get_stats_descriptor(descs, i, &header);
		read_stat_data(t->stats_fd, &header, desc, &after, 1);
		if (after != before[i])
			pr_info(", %s %+ld", desc->name, (long)(after - before[i]));
	}
	pr_info("\n");
	free(descs);
}

/* Joins @thread, waiting at most JOIN_SECONDS: whether it finished. */
static bool join_bounded(pthread_t thread)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += JOIN_SECONDS;
	return !pthread_timedjoin_np(thread, NULL, &ts);
}

#endif /* SELFTEST_KVM_MEMATTR_STRESS_VCPU_H */
