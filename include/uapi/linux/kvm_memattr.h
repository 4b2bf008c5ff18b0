/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvm-memattr: memory protection attributes for KVM guests.
 *
 * Extends upstream's KVM_SET_MEMORY_ATTRIBUTES (see <linux/kvm.h>) while the
 * kvm_memattr module is loaded.  Which attributes a VM accepts is reported by
 * KVM_CHECK_EXTENSION(KVM_CAP_MEMORY_ATTRIBUTES) on that VM's fd: never assume
 * a bit below is accepted without asking.
 *
 * See Documentation/virt/kvm/memattr/api.rst.
 */
#ifndef _UAPI_LINUX_KVM_MEMATTR_H
#define _UAPI_LINUX_KVM_MEMATTR_H

#include <linux/kvm.h>

/*
 * Protections are inverted: a set bit takes a permission away, so 0 means
 * "whatever the memslot allows".  Attributes never grant more than the
 * memslot does.  KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3) is upstream's.
 */
#define KVM_MEMORY_ATTRIBUTE_NO_READ		(1ULL << 0)
#define KVM_MEMORY_ATTRIBUTE_NO_WRITE		(1ULL << 1)
#define KVM_MEMORY_ATTRIBUTE_NO_EXEC		(1ULL << 2)

/*
 * Read the attributes back: in, address and size; out, the attributes of
 * the page at address, and size shrunk to the run of pages from address
 * that share them.  Validation as for KVM_SET_MEMORY_ATTRIBUTES.
 */
#define KVM_GET_MEMORY_ATTRIBUTES	_IOWR(KVMIO, 0xf0, struct kvm_memory_attributes)

/*
 * KVM_ENABLE_CAP on a VM fd (flags and args 0): accept the access modes that
 * give write without read, write-only (NO_READ | NO_EXEC) and, where EPT
 * has execute-only leaves, write+execute (NO_READ).  No MMU can map them:
 * KVM maps what it can and completes the guest's writes in its emulator,
 * which is much slower than a mapped write.  KVM_CHECK_EXTENSION on a VM fd
 * returns 1 where the capability exists.  The number is far above upstream's
 * capabilities so that it cannot collide with a future one.
 */
#define KVM_CAP_MEMORY_ATTRIBUTES_EMULATED	1000

/* memory_fault.flags of KVM_EXIT_MEMORY_FAULT: the access that was denied. */
#define KVM_MEMORY_EXIT_FLAG_READ		(1ULL << 0)
#define KVM_MEMORY_EXIT_FLAG_WRITE		(1ULL << 1)
#define KVM_MEMORY_EXIT_FLAG_EXEC		(1ULL << 2)

#endif /* _UAPI_LINUX_KVM_MEMATTR_H */
