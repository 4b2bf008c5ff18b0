# SPDX-License-Identifier: GPL-2.0
#
# Scenario "execonly": execute a page, then read it.  The guest copies the
# blob to gpa 0x20000, then writes a doorbell at gpa 0x10000: the harness
# denies that write, and while the guest is paused makes page 0x20000
# execute-only (deny read, write) and lets the doorbell write through.
# The guest then calls the blob (a fetch: allowed), prints what it
# returned, and reads the blob's immediate from the page (a read: denied
# on an execute-only page).  Exit code 0x12 (QEMU status 37).  Debugcon,
# in full:
#
#	execonly: start copied rang returned 600dc0de read 600dc0de end\n

	.include "fw_common.inc"

	.set	DOORBELL_SEG, 0x1000	# gpa 0x10000

main:
	print	"execonly: start "
	call	copy_blob
	print	"copied "
	mov	$DOORBELL_SEG, %ax
	mov	%ax, %es
	movl	$0xd00be11, %es:0
	print	"rang "
	lcall	$CODE_SEG, $0
	print	"returned "
	call	puthex32
	mov	$CODE_SEG, %ax
	mov	%ax, %es
	mov	%es:2, %eax		# the blob's immediate: BLOB_VALUE
	print	" read "
	call	puthex32
	print	" end\n"
	exit	0x12
