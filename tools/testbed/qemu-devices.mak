# SPDX-License-Identifier: GPL-2.0
# The devices of the QEMU that runs as the VMM inside the test guest
# (build-qemu.sh: --without-default-devices --with-devices-x86_64=THIS):
# the microvm machine, and isa-debugcon and isa-debug-exit, through which
# the tests' firmware-less guests report and end.  Kconfig adds what these
# select.
CONFIG_MICROVM=y
CONFIG_ISA_DEBUG=y
