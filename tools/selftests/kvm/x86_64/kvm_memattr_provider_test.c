// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every VM created while kvm_memattr is loaded binds to it and pins the
 * module: its reference count follows the number of live VMs, of every VM
 * type, and unloading it while a VM exists fails without side effects.
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
#include "test_util.h"

#define MODULE_NAME	"kvm_memattr"
#define NR_VMS		4

static int module_refcount(void)
{
	int refcount = -1;
	FILE *f;

	f = fopen("/sys/module/" MODULE_NAME "/refcnt", "r");
	TEST_ASSERT(f, "Failed to open /sys/module/" MODULE_NAME "/refcnt");
	TEST_ASSERT(fscanf(f, "%d", &refcount) == 1, "Failed to read refcnt");
	fclose(f);
	return refcount;
}

static void guest_code(void)
{
	GUEST_SYNC(0);
	GUEST_DONE();
}

/* A bound VM still runs guest code normally. */
static void test_bound_vm_runs(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int base = module_refcount();

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	TEST_ASSERT_EQ(module_refcount(), base + 1);

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_DONE);

	kvm_vm_free(vm);
	TEST_ASSERT_EQ(module_refcount(), base);
}

/* Each VM of @type holds one reference until it is freed. */
static void test_refcount_follows_vms(unsigned long type)
{
	struct kvm_vm *vms[NR_VMS];
	int base = module_refcount();
	int i;

	for (i = 0; i < NR_VMS; i++) {
		vms[i] = vm_create_barebones_type(type);
		TEST_ASSERT_EQ(module_refcount(), base + i + 1);
	}

	for (i = NR_VMS - 1; i >= 0; i--) {
		kvm_vm_free(vms[i]);
		TEST_ASSERT_EQ(module_refcount(), base + i);
	}
}

/* Unloading fails while a VM exists, and leaves the module loaded. */
static void test_unload_refused_while_bound(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	int base = module_refcount();
	long r;

	r = syscall(__NR_delete_module, MODULE_NAME, O_NONBLOCK);
	TEST_ASSERT(r == -1 && errno == EWOULDBLOCK,
		    "delete_module() of a module in use should fail with EWOULDBLOCK, got r = %ld, errno = %d (%s)",
		    r, errno, strerror(errno));
	TEST_ASSERT(access("/sys/module/" MODULE_NAME, F_OK) == 0,
		    "Module gone after a refused unload");
	TEST_ASSERT_EQ(module_refcount(), base);

	kvm_vm_free(vm);
	TEST_ASSERT_EQ(module_refcount(), base - 1);
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(access("/sys/module/" MODULE_NAME, F_OK) == 0);

	test_bound_vm_runs();
	test_refcount_follows_vms(KVM_X86_DEFAULT_VM);
	if (kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM))
		test_refcount_follows_vms(KVM_X86_SW_PROTECTED_VM);
	else
		pr_info("KVM_X86_SW_PROTECTED_VM not supported, not tested\n");
	test_unload_refused_while_bound();

	return 0;
}
