# SPDX-License-Identifier: GPL-2.0
#
# Scenario "subpage": two writes to page 0x30000.  The first goes to
# sub-page 0 (bytes 0x000-0x07f), the second to sub-page 5 (bytes
# 0x280-0x2ff, gpa 0x30280).  The guest then prints both dwords and exits
# with code 0x13 (QEMU status 39).  Debugcon, in full:
#
#	subpage: start wrote0 wrote5 11111111 55555555 end\n
#
# With a map that denies only sub-page 5 the second write faults after
# "subpage: start wrote0 ".  The print between the writes is a VM exit:
# Bochs 2.7's SPP checks no more writes to a page once it allowed one,
# until the next exit.

	.include "fw_common.inc"

	.set	PAGE_SEG, 0x3000	# gpa 0x30000

main:
	print	"subpage: start "
	mov	$PAGE_SEG, %ax
	mov	%ax, %es
	movl	$0x11111111, %es:0x000	# sub-page 0
	print	"wrote0 "
	movl	$0x55555555, %es:0x280	# sub-page 5
	print	"wrote5 "
	mov	%es:0x000, %eax
	call	puthex32
	print	" "
	mov	%es:0x280, %eax
	call	puthex32
	print	" end\n"
	exit	0x13
