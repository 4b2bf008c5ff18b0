# SPDX-License-Identifier: GPL-2.0
#
# Scenario "write": one write to RAM.  The guest stores 0xcafef00d at gpa
# 0x10000, reads it back and prints it, then exits with code 0x10 (QEMU
# status 33).  Debugcon, in full:
#
#	write: start wrote cafef00d end\n
#
# With page 0x10000 NO_WRITE the store faults after "write: start ".

	.include "fw_common.inc"

	.set	PAGE_SEG, 0x1000	# gpa 0x10000

main:
	print	"write: start "
	mov	$PAGE_SEG, %ax
	mov	%ax, %es
	movl	$0xcafef00d, %es:0
	print	"wrote "
	mov	%es:0, %eax
	call	puthex32
	print	" end\n"
	exit	0x10
