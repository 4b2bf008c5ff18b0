// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_SET_MEMORY_ATTRIBUTES against an access that KVM makes itself, through
 * its host mapping of guest memory, and that is already past its attribute
 * check when SET forbids it: here an emulated write, held in flight by
 * userfaultfd.
 *
 * The API promises that once SET(NO_WRITE) has returned, no write lands in
 * the page.  For the accesses the CPU makes through EPT/NPT, SET zapping the
 * MMU's mappings and waiting for the vCPUs in guest mode is enough.  KVM's
 * own accesses for a vCPU (the emulator, the page walker's accessed/dirty
 * updates, the paravirtual pages) instead check the attributes and then copy
 * to the host page, and nothing orders that pair against SET: a write that
 * passed its check just before SET can land after SET returned.  Those
 * accesses run with kvm->srcu held, so the fix is for SET to wait for an SRCU
 * grace period before it returns whenever it narrows rights (a change to 0
 * only relaxes, and need not wait).
 *
 * This test proves that SET(NO_WRITE) orders such a write before its return:
 * it does not return while the write is in flight, the write (issued before
 * SET returned) completes, and the next write to the page ends KVM_RUN with
 * KVM_EXIT_MEMORY_FAULT (WRITE) for the page and changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kvm_memattr.h>
#include <linux/userfaultfd.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"

/* The single page of the test, backed by userfaultfd. */
#define UFFD_GPA	0xd0000000ull
#define UFFD_SLOT	11

#define FILL_BYTE	0x5a
#define WRITE_VALUE	0x0123456789abcdefull
#define WRITE_VALUE2	0xfedcba9876543210ull
#define DATA_OFFSET	64

/* Bounds, generous for Bochs. */
#define UFFD_EVENT_MS	20000
#define SET_BLOCKED_MS	2000
#define COMPLETION_MS	30000

enum guest_op {
	OP_WRITE = 1,
	OP_FEP_WRITE,
};

/* The guest's commands: write @val at @gva, by the CPU or by KVM's emulator. */
static void guest_write(uint64_t op, uint64_t gva, uint64_t val)
{
	if (op == OP_FEP_WRITE)
		asm volatile(KVM_FEP "movq %0, (%1)"
			     : : "a"(val), "D"(gva) : "memory");
	else if (op == OP_WRITE)
		WRITE_ONCE(*(uint64_t *)gva, val);
}

static void guest_code(void)
{
	memattr_guest_loop(guest_write);
}

/* The threads of the race, and what they saw. */
static struct {
	struct kvm_vcpu *vcpu;
	int run_r, run_errno, set_r, set_errno;
	bool run_done, set_done;
} race;

static void *race_vcpu_thread(void *arg)
{
	race.run_r = _vcpu_run(race.vcpu);
	race.run_errno = errno;
	WRITE_ONCE(race.run_done, true);
	return NULL;
}

static void *race_set_thread(void *arg)
{
	race.set_r = __memattr_set(race.vcpu->vm, UFFD_GPA, PAGE_SIZE, NW);
	race.set_errno = errno;
	WRITE_ONCE(race.set_done, true);
	return NULL;
}

/* Wait up to @ms milliseconds for @flag; return it. */
static bool wait_for(bool *flag, int ms)
{
	for (; !READ_ONCE(*flag) && ms > 0; ms -= 10)
		usleep(10000);
	return READ_ONCE(*flag);
}

static int uffd_register(void *hva)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uint64_t)hva, .len = PAGE_SIZE },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	TEST_ASSERT(uffd >= 0,
		    "userfaultfd() failed: %s (faults in KVM's copy_to_user() need a privileged userfaultfd)",
		    strerror(errno));
	TEST_ASSERT(!ioctl(uffd, UFFDIO_API, &api), "UFFDIO_API failed: %s",
		    strerror(errno));
	TEST_ASSERT(!ioctl(uffd, UFFDIO_REGISTER, &reg),
		    "UFFDIO_REGISTER failed: %s", strerror(errno));
	return uffd;
}

/*
 * SET(NO_WRITE) against an emulated write that has passed its attribute
 * check and is copying to the host page.  Nothing but SRCU orders the two:
 * the emulator runs under kvm->srcu, so a SET that takes write away must wait
 * for a grace period before it returns.
 *
 * The write is made to stall deterministically: the page is a never touched
 * userfaultfd page, so KVM's copy_to_user() blocks in a MISSING fault after
 * the check.  Buggy kernel: SET returns at once, and the write lands in the
 * page after SET has returned.  Fixed: SET is still blocked seconds later,
 * returns once the fault is resolved and the write has landed (it was issued
 * before SET returned), and the next write to the page exits.
 */
static void test_set_vs_emulated_write(void)
{
	static uint8_t fill[PAGE_SIZE];
	pthread_t vcpu_thread, set_thread;
	struct uffdio_copy copy;
	struct kvm_vcpu *vcpu;
	struct uffd_msg msg;
	struct pollfd pfd;
	struct kvm_vm *vm;
	uint64_t *value;
	bool set_early;
	uint8_t *hva;
	int uffd;

	TEST_ASSERT(kvm_is_forced_emulation_enabled(),
		    "This test needs kvm.force_emulation_prefix=1");

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	hva = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(hva != MAP_FAILED, "mmap failed");
	uffd = uffd_register(hva);
	vm_set_user_memory_region(vm, UFFD_SLOT, 0, UFFD_GPA, PAGE_SIZE, hva);
	virt_map(vm, UFFD_GPA, UFFD_GPA, 1);
	memattr_run_to_sync(vcpu, 0, "start");

	memset(&race, 0, sizeof(race));
	race.vcpu = vcpu;
	memattr_start_op(vm, OP_FEP_WRITE, UFFD_GPA + DATA_OFFSET, WRITE_VALUE);
	pthread_create(&vcpu_thread, NULL, race_vcpu_thread, NULL);

	/* The emulated write reaches the host page and stalls there. */
	pfd = (struct pollfd) { .fd = uffd, .events = POLLIN };
	TEST_ASSERT(poll(&pfd, 1, UFFD_EVENT_MS) == 1,
		    "No userfault from the emulated write within %d ms (vCPU %s)",
		    UFFD_EVENT_MS, READ_ONCE(race.run_done) ?
		    "returned without touching the page" : "still running");
	TEST_ASSERT(read(uffd, &msg, sizeof(msg)) == sizeof(msg),
		    "Reading the userfault failed: %s", strerror(errno));
	TEST_ASSERT(msg.event == UFFD_EVENT_PAGEFAULT &&
		    (msg.arg.pagefault.address & ~(PAGE_SIZE - 1)) == (uint64_t)hva &&
		    (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE),
		    "Expected a write fault on the page at %p, got event 0x%x at 0x%llx, flags 0x%llx",
		    hva, msg.event, msg.arg.pagefault.address,
		    msg.arg.pagefault.flags);
	TEST_ASSERT(!READ_ONCE(race.run_done), "KVM_RUN returned during the fault");

	/* The write passed its check: take write away while it is in flight. */
	pthread_create(&set_thread, NULL, race_set_thread, NULL);
	set_early = wait_for(&race.set_done, SET_BLOCKED_MS);

	/* Let the write land, whatever happened, so that every thread ends. */
	memset(fill, FILL_BYTE, PAGE_SIZE);
	copy = (struct uffdio_copy) {
		.dst = (uint64_t)hva, .src = (uint64_t)fill, .len = PAGE_SIZE,
	};
	TEST_ASSERT(!ioctl(uffd, UFFDIO_COPY, &copy) && copy.copy == PAGE_SIZE,
		    "UFFDIO_COPY failed: %s", strerror(errno));

	TEST_ASSERT(wait_for(&race.set_done, COMPLETION_MS),
		    "SET(NO_WRITE) did not return within %d ms of the fault's resolution",
		    COMPLETION_MS);
	TEST_ASSERT(wait_for(&race.run_done, COMPLETION_MS),
		    "KVM_RUN did not return within %d ms of the fault's resolution",
		    COMPLETION_MS);
	pthread_join(set_thread, NULL);
	pthread_join(vcpu_thread, NULL);

	TEST_ASSERT(!set_early,
		    "SET(NO_WRITE) returned while an emulated write that it forbids was still in flight: the write landed after SET returned");
	TEST_ASSERT(!race.set_r, "SET(NO_WRITE) failed: %s",
		    strerror(race.set_errno));

	/* The write was issued before SET returned: it completed. */
	value = (uint64_t *)(hva + DATA_OFFSET);
	TEST_ASSERT(!race.run_r,
		    "The emulated write in flight should complete: KVM_RUN failed (errno %d), exit reason %s",
		    race.run_errno, exit_reason_str(vcpu->run->exit_reason));
	memattr_assert_sync(vcpu, 1, "emulated write in flight");
	TEST_ASSERT_EQ(*value, WRITE_VALUE);
	memattr_run_to_sync(vcpu, 0, "emulated write in flight");

	/* From now on, writes to the page exit (NO_WRITE is set already). */
	memattr_deny_then_complete(vcpu, OP_WRITE, UFFD_GPA + DATA_OFFSET,
				   WRITE_VALUE2, UFFD_GPA, hva, NW,
				   KVM_MEMORY_EXIT_FLAG_WRITE,
				   "write after SET(NO_WRITE) returned");
	TEST_ASSERT_EQ(*value, WRITE_VALUE2);

	kvm_vm_free(vm);
	close(uffd);
	munmap(hva, PAGE_SIZE);
}

int main(void)
{
	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);

	test_set_vs_emulated_write();
	pr_info("SET vs. an emulated write in flight: passed\n");
	return 0;
}
