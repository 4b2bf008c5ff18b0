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
/*
 * With KVM_MEMORY_EXIT_FLAG_WRITE: the sub-page write protection denied the
 * write.  memory_fault.gpa is then the start of the first denied 128-byte
 * sub-page that the write touches and memory_fault.size is 128.  Bit 3 is
 * upstream's KVM_MEMORY_EXIT_FLAG_PRIVATE.
 */
#define KVM_MEMORY_EXIT_FLAG_SUBPAGE		(1ULL << 4)

/*
 * Sub-page write protection: write permission per 128-byte sub-page of a
 * 4 KiB page, on top of the memslot's and the memory attributes'.
 *
 * KVM_CHECK_EXTENSION(KVM_CAP_SUBPAGE_WRITE_PROTECT) on a VM fd returns the
 * modes that the VM can use, KVM_SUBPAGE_WP_* bits.  KVM_ENABLE_CAP with
 * args[0] = exactly one of them (flags and args[1..3] 0) chooses the mode,
 * once, before the VM's first vCPU is created.
 */
#define KVM_CAP_SUBPAGE_WRITE_PROTECT		1001

/* KVM's emulator completes the writes to permitted sub-pages. */
#define KVM_SUBPAGE_WP_SOFTWARE			(1 << 0)
/* The CPU checks them (Intel SPP): no exit for a permitted write. */
#define KVM_SUBPAGE_WP_HARDWARE			(1 << 1)

#define KVM_SUBPAGE_SIZE			128
#define KVM_SUBPAGES_PER_PAGE			32
/* The most pages that one SET or GET covers. */
#define KVM_SUBPAGE_MAX_PAGES			512

/**
 * struct kvm_subpage_write_access - the write permission of sub-pages
 *
 * @address:	gpa of the first page, 4 KiB aligned.
 * @npages:	Pages covered, 1 to KVM_SUBPAGE_MAX_PAGES.
 * @flags:	0.
 * @reserved:	0.
 * @access_map:	One per page: bit i set means bytes [128 i, 128 i + 128) of
 *		the page are writable.  All ones leaves a page unprotected
 *		(and KVM forgets it); a page never set reads back as all ones.
 */
struct kvm_subpage_write_access {
	__u64 address;
	__u32 npages;
	__u32 flags;
	__u64 reserved[2];
	__u32 access_map[];
};

/*
 * Set the maps of the pages, all or nothing; when SET returns, no vCPU can
 * write through a mapping that the new maps forbid.  GET reads them into
 * access_map.  See Documentation/virt/kvm/memattr/api.rst.
 */
#define KVM_SET_SUBPAGE_WRITE_ACCESS	_IOW(KVMIO, 0xf1, struct kvm_subpage_write_access)
#define KVM_GET_SUBPAGE_WRITE_ACCESS	_IOWR(KVMIO, 0xf2, struct kvm_subpage_write_access)

#endif /* _UAPI_LINUX_KVM_MEMATTR_H */
