# SPDX-License-Identifier: GPL-2.0
#
# Scenario "call": code in RAM.  The guest copies a blob of code to gpa
# 0x20000, far-calls it, prints the value it returns (0x600dc0de) and
# exits with code 0x11 (QEMU status 35).  Debugcon, in full:
#
#	call: start copied returned 600dc0de end\n
#
# With page 0x20000 NO_EXEC the call faults after "call: start copied ".

	.include "fw_common.inc"

main:
	print	"call: start "
	call	copy_blob
	print	"copied "
	lcall	$CODE_SEG, $0
	print	"returned "
	call	puthex32
	print	" end\n"
	exit	0x11
