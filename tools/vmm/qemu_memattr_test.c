// SPDX-License-Identifier: GPL-2.0
/*
 * qemu_memattr_test: the project's QEMU series, end to end.
 *
 * Runs inside the test VM: QEMU (patched, static) is the VMM of a tiny
 * firmware-less microvm guest whose flat firmware (fw_*.s) writes, calls
 * and reads a few RAM pages and reports over isa-debugcon.  The harness
 * drives QEMU over QMP on pipes and proves that, through QEMU:
 *
 * - a protection set before the guest runs (-S, memattr-set, cont) is
 *   enforced: the denied access raises MEMATTR_FAULT with the vCPU, the
 *   page (or the 128-byte sub-page), the access and the action, the VM
 *   pauses before the access lands, and `cont` after relaxing retries it
 *   so the guest completes with the value it wrote;
 * - query-memattr reads back exactly the runs that were set (merged,
 *   clipped to the range asked) and what the VM can deny; HMP does the same;
 * - the other actions: shutdown ends QEMU, internal-error stops the VM;
 * - NO_EXEC stops a call into RAM; execute-only (Intel EPT) lets the call
 *   through and stops the read, and elsewhere is refused cleanly;
 * - sub-page maps (software mode, and hardware mode where offered; where
 *   not, asking for it is a clean startup error) deny exactly the sub-page
 *   they deny, and read back as set;
 * - every bad argument is a clean QMP error that changes nothing and
 *   leaves the VM able to run to completion.
 *
 * Usage: qemu_memattr_test [-q QEMU] [-f FIRMWARE_DIR] [-t SECONDS] CASE
 * CASE is one of the cases below, or "all" (every case but no-module,
 * which needs kvm_memattr unloaded).  Exit 0 = every check passed; 1 = a
 * check failed (QEMU is killed; the output says expected vs got).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "qmp.h"

#define MiB		(1024 * 1024ULL)

/* The scenarios' exit codes (fw_*.s): QEMU exits with (code << 1) | 1. */
#define STATUS_WRITE	((0x10 << 1) | 1)
#define STATUS_CALL	((0x11 << 1) | 1)
#define STATUS_EXECONLY	((0x12 << 1) | 1)
#define STATUS_SUBPAGE	((0x13 << 1) | 1)

/* The scenarios' debugcon output, in full. */
#define OUT_WRITE	"write: start wrote cafef00d end\n"
#define OUT_CALL	"call: start copied returned 600dc0de end\n"
#define OUT_EXECONLY	"execonly: start copied rang returned 600dc0de " \
			"read 600dc0de end\n"
#define OUT_SUBPAGE	"subpage: start wrote0 wrote5 11111111 55555555 end\n"

static const char *const no_args[] = { NULL };
static char fw_dir[PATH_MAX];

static const char *fw(const char *scenario)
{
	static char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/fw_%s.bin", fw_dir, scenario);
	return path;
}

static void memattr_set(struct vm *vm, uint64_t addr, uint64_t size,
			const char *deny)
{
	qmp_ok(vm, "memattr-set",
	       "{'addr': %" PRIu64 ", 'size': %" PRIu64 ", 'deny': [%s]}",
	       addr, size, deny);
}

static void expect_status(struct vm *vm, const char *status, bool running)
{
	const char *r = qmp_ok(vm, "query-status", "{}");

	expect_str(r, "return/status", status);
	expect_bool(r, "return/running", running);
}

/* The next MEMATTR_FAULT has exactly these fields; returns its rank. */
static int expect_fault(struct vm *vm, uint64_t gpa, uint64_t size,
			const char *access, bool subpage, const char *action)
{
	int i = wait_event(vm, "MEMATTR_FAULT");
	const char *ev = vm->events[i].line;

	expect_u64(ev, "data/cpu-index", 0);
	expect_u64(ev, "data/gpa", gpa);
	expect_u64(ev, "data/size", size);
	expect_str(ev, "data/access", access);
	expect_bool(ev, "data/subpage", subpage);
	expect_str(ev, "data/action", action);
	return i;
}

/* A fault with action pause: the VM stopped, and stays stopped. */
static void expect_paused(struct vm *vm, uint64_t gpa, uint64_t size,
			  const char *access, bool subpage)
{
	double t = now();

	expect_fault(vm, gpa, size, access, subpage, "pause");
	wait_event(vm, "STOP");
	note("  ok: STOP, %.3f s after the wait began", now() - t);
	expect_status(vm, "paused", false);
}

/* The dword of guest RAM at gpa, read by QEMU (pmemsave). */
static void expect_guest_u32(struct vm *vm, uint64_t gpa, uint32_t want)
{
	unsigned char b[4];
	uint32_t got;
	int fd;

	qmp_ok(vm, "pmemsave",
	       "{'val': %" PRIu64 ", 'size': 4, 'filename': '%s'}", gpa,
	       vm->memfile);
	fd = open(vm->memfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, 4) != 4)
		fail("pmemsave gave no 4 bytes in %s", vm->memfile);
	close(fd);
	got = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
	if (got != want)
		fail("guest RAM at %#" PRIx64 ": expected %#x, got %#x", gpa,
		     want, got);
	note("  ok: guest RAM at %#" PRIx64 " = %#x", gpa, got);
}

/* cont, then the guest runs to its end: QEMU exits with status. */
static void cont_to_exit(struct vm *vm, int status)
{
	qmp_sendf(vm, "cont", "{}");
	vm_wait_exit(vm);
	expect_exit_status(vm, status);
}

static bool file_has(const char *path, const char *needle)
{
	static char text[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, text, sizeof(text) - 1);

	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	return strstr(text, needle);
}

/*
 * Whether KVM lets this VM deny reads: only on EPT with execute-only
 * leaves (Intel, ept=Y; Bochs' tigerlake has them), never on NPT or
 * shadow paging (Documentation/virt/kvm/memattr/api.rst).
 */
static bool read_supported(void)
{
	bool vmx = file_has("/proc/cpuinfo", " vmx");
	bool ept = file_has("/sys/module/kvm_intel/parameters/ept", "Y");

	note("cpu: %s, ept %s: 'read' %s", vmx ? "vmx" : "no vmx",
	     ept ? "on" : "off", vmx && ept ? "expected" : "not expected");
	return vmx && ept;
}

struct run {
	uint64_t addr, size;
	const char *deny;
};

static void expect_runs(const char *r, const struct run *want, int n)
{
	char path[64];
	int i;

	if (json_len(json_get(r, "return/runs")) != n)
		fail("return/runs: expected %d runs, got %s", n, r);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "return/runs/%d/addr", i);
		expect_u64(r, path, want[i].addr);
		snprintf(path, sizeof(path), "return/runs/%d/size", i);
		expect_u64(r, path, want[i].size);
		snprintf(path, sizeof(path), "return/runs/%d/deny", i);
		expect_set(r, path, want[i].deny);
		snprintf(path, sizeof(path), "return/runs/%d/private", i);
		expect_bool(r, path, false);
	}
}

static const char *query_memattr(struct vm *vm, uint64_t addr, uint64_t size)
{
	return qmp_ok(vm, "query-memattr",
		      "{'addr': %" PRIu64 ", 'size': %" PRIu64 "}", addr,
		      size);
}

static const char *hmp(struct vm *vm, const char *cmdline)
{
	return qmp_ok(vm, "human-monitor-command", "{'command-line': '%s'}",
		      cmdline);
}

/* The string that a command returned holds needle. */
static bool reply_has(const char *r, const char *needle)
{
	char text[4096];

	return json_str(json_get(r, "return"), text, sizeof(text)) &&
	       strstr(text, needle);
}

/* The maps of query-subpage (npages of them) are all want. */
static void expect_maps(const char *r, int npages, uint32_t want)
{
	char path[32];
	uint64_t got;
	int i;

	if (json_len(json_get(r, "return/maps")) != npages)
		fail("return/maps: expected %d maps, got %s", npages, r);
	for (i = 0; i < npages; i++) {
		snprintf(path, sizeof(path), "return/maps/%d", i);
		if (!json_u64(json_get(r, path), &got) || got != want)
			fail("%s: expected %#x, got %s", path, want, r);
	}
	note("  ok: return/maps = %d x %#x", npages, want);
}

/* ---- The cases ---- */

static void case_write_pause(void)
{
	struct vm vm;

	vm_start(&vm, fw("write"), "kvm", no_args);
	memattr_set(&vm, 0x10000, 0x1000, "'write'");
	qmp_ok(&vm, "cont", "{}");
	expect_paused(&vm, 0x10000, 0x1000, "write", false);
	expect_debugcon(&vm, "write: start ");
	expect_guest_u32(&vm, 0x10000, 0);
	memattr_set(&vm, 0x10000, 0x1000, "");
	cont_to_exit(&vm, STATUS_WRITE);
	expect_debugcon(&vm, OUT_WRITE);
	vm_end(&vm);
}

static void case_query(void)
{
	static const struct run set[] = {
		{ 0xf000, 0x1000, "" },
		{ 0x10000, 0x3000, "write" },	/* two adjacent SETs */
		{ 0x13000, 0x1000, "" },
		{ 0x14000, 0x1000, "exec" },
		{ 0x15000, 0x2000, "" },
	}, inner[] = {
		{ 0x11000, 0x1000, "write" },
	}, hmp_set[] = {
		{ 0x14000, 0x1000, "write,exec" },
	}, cleared[] = {
		{ 0xf000, 0x8000, "" },
	};
	bool read = read_supported();
	const char *r;
	struct vm vm;

	vm_start(&vm, fw("write"), "kvm", no_args);
	memattr_set(&vm, 0x10000, 0x2000, "'write'");
	memattr_set(&vm, 0x12000, 0x1000, "'write'");
	memattr_set(&vm, 0x14000, 0x1000, "'exec'");
	r = query_memattr(&vm, 0xf000, 0x8000);
	expect_set(r, "return/supported", read ? "read,write,exec" :
						 "write,exec");
	expect_runs(r, set, 5);
	expect_runs(query_memattr(&vm, 0x11000, 0x1000), inner, 1);

	r = hmp(&vm, "memattr_set 0x14000 0x1000 write,exec");
	expect_str(r, "return", "");
	expect_runs(query_memattr(&vm, 0x14000, 0x1000), hmp_set, 1);
	r = hmp(&vm, "info memattr 0x10000 0x8000");
	if (!reply_has(r, "write") || !reply_has(r, "exec"))
		fail("info memattr: expected the runs' write and exec, got %s",
		     r);
	note("  ok: info memattr names write and exec");
	expect_str(hmp(&vm, "memattr_set 0x14000 0x1000 none"), "return", "");

	memattr_set(&vm, 0x10000, 0x3000, "");
	expect_runs(query_memattr(&vm, 0xf000, 0x8000), cleared, 1);
	cont_to_exit(&vm, STATUS_WRITE);
	expect_debugcon(&vm, OUT_WRITE);
	vm_end(&vm);
}

static void case_shutdown(void)
{
	static const char *const action[] = {
		"-action", "memattr-fault=shutdown", NULL
	};
	struct vm vm;
	int fault, down;

	vm_start(&vm, fw("write"), "kvm", action);
	memattr_set(&vm, 0x10000, 0x1000, "'write'");
	qmp_sendf(&vm, "cont", "{}");
	fault = expect_fault(&vm, 0x10000, 0x1000, "write", false,
			     "shutdown");
	down = wait_event(&vm, "SHUTDOWN");
	if (down < fault)
		fail("expected MEMATTR_FAULT before SHUTDOWN, got the reverse");
	note("  ok: MEMATTR_FAULT came before SHUTDOWN");
	expect_bool(vm.events[down].line, "data/guest", true);
	expect_str(vm.events[down].line, "data/reason", "guest-shutdown");
	vm_wait_exit(&vm);
	expect_exit_status(&vm, 0);
	expect_debugcon(&vm, "write: start ");
	vm_end(&vm);
}

static void case_internal_error(void)
{
	static const char *const action[] = {
		"-action", "memattr-fault=internal-error", NULL
	};
	struct vm vm;

	vm_start(&vm, fw("write"), "kvm", action);
	memattr_set(&vm, 0x10000, 0x1000, "'write'");
	qmp_ok(&vm, "cont", "{}");
	expect_fault(&vm, 0x10000, 0x1000, "write", false, "internal-error");
	wait_event(&vm, "STOP");
	expect_status(&vm, "internal-error", false);
	expect_debugcon(&vm, "write: start ");
	qmp_sendf(&vm, "quit", "{}");
	vm_wait_exit(&vm);
	expect_exit_status(&vm, 0);
	vm_end(&vm);
}

static void case_noexec(void)
{
	struct vm vm;

	vm_start(&vm, fw("call"), "kvm", no_args);
	memattr_set(&vm, 0x20000, 0x1000, "'exec'");
	qmp_ok(&vm, "cont", "{}");
	expect_paused(&vm, 0x20000, 0x1000, "exec", false);
	expect_debugcon(&vm, "call: start copied ");
	expect_guest_u32(&vm, 0x20002, 0x600dc0de);	/* the copy landed */
	memattr_set(&vm, 0x20000, 0x1000, "");
	cont_to_exit(&vm, STATUS_CALL);
	expect_debugcon(&vm, OUT_CALL);
	vm_end(&vm);
}

/*
 * The guest copies the blob, then rings a doorbell (a write to 0x10000)
 * that pauses it: page 0x20000 is made execute-only only then, as the
 * copy had to write it.
 */
static void case_execonly(void)
{
	static const struct run xo[] = { { 0x20000, 0x1000, "read,write" } };
	static const struct run none[] = { { 0x20000, 0x1000, "" } };
	bool read = read_supported();
	struct vm vm;
	const char *r;

	vm_start(&vm, fw("execonly"), "kvm", no_args);
	memattr_set(&vm, 0x10000, 0x1000, "'write'");
	qmp_ok(&vm, "cont", "{}");
	expect_paused(&vm, 0x10000, 0x1000, "write", false);
	expect_debugcon(&vm, "execonly: start copied ");
	if (read) {
		memattr_set(&vm, 0x20000, 0x1000, "'read', 'write'");
		expect_runs(query_memattr(&vm, 0x20000, 0x1000), xo, 1);
		memattr_set(&vm, 0x10000, 0x1000, "");
		qmp_ok(&vm, "cont", "{}");
		expect_paused(&vm, 0x20000, 0x1000, "read", false);
		expect_debugcon(&vm, "execonly: start copied rang returned "
				     "600dc0de");
		memattr_set(&vm, 0x20000, 0x1000, "");
	} else {
		qmp_error(&vm, "'read'", "memattr-set",
			  "{'addr': %d, 'size': %d, 'deny': ['read', 'write']}",
			  0x20000, 0x1000);
		expect_status(&vm, "paused", false);
		r = query_memattr(&vm, 0x20000, 0x1000);
		expect_set(r, "return/supported", "write,exec");
		expect_runs(r, none, 1);
		memattr_set(&vm, 0x10000, 0x1000, "");
	}
	cont_to_exit(&vm, STATUS_EXECONLY);
	expect_debugcon(&vm, OUT_EXECONLY);
	vm_end(&vm);
}

/* One run of the sub-page case in mode; returns whether hardware is offered. */
static bool subpage_run(const char *mode)
{
	char accel[64];
	const char *r;
	struct vm vm;
	bool hw;

	snprintf(accel, sizeof(accel), "kvm,subpage-wp=%s", mode);
	vm_start(&vm, fw("subpage"), accel, no_args);
	r = qmp_ok(&vm, "query-subpage", "{'addr': %d, 'npages': 2}",
		   0x30000);
	expect_str(r, "return/mode", mode);
	if (!json_has(r, "return/supported", "software") ||
	    !json_has(r, "return/supported", mode))
		fail("return/supported: expected software and %s, got %s",
		     mode, r);
	hw = json_has(r, "return/supported", "hardware");
	note("  ok: return/supported has software%s", hw ? ", hardware" : "");
	expect_maps(r, 2, 0xffffffff);

	qmp_ok(&vm, "subpage-set", "{'addr': %d, 'maps': [%u]}", 0x30000,
	       0xffffffdfU);
	r = qmp_ok(&vm, "query-subpage", "{'addr': %d, 'npages': 2}",
		   0x30000);
	expect_u64(r, "return/maps/0", 0xffffffdf);
	expect_u64(r, "return/maps/1", 0xffffffff);
	qmp_ok(&vm, "cont", "{}");
	expect_paused(&vm, 0x30280, 128, "write", true);
	expect_debugcon(&vm, "subpage: start wrote0 ");
	expect_guest_u32(&vm, 0x30000, 0x11111111);	/* permitted: landed */
	expect_guest_u32(&vm, 0x30280, 0);		/* denied: did not */

	qmp_ok(&vm, "subpage-set", "{'addr': %d, 'maps': [%u]}", 0x30000,
	       0xffffffffU);
	expect_maps(qmp_ok(&vm, "query-subpage", "{'addr': %d, 'npages': 1}",
			   0x30000), 1, 0xffffffff);
	cont_to_exit(&vm, STATUS_SUBPAGE);
	expect_debugcon(&vm, OUT_SUBPAGE);
	vm_end(&vm);
	return hw;
}

static void case_subpage(void)
{
	if (subpage_run("software"))
		subpage_run("hardware");
	else
		expect_startup_error(fw("subpage"), "kvm,subpage-wp=hardware",
				     "hardware");
}

/* A bad command: a clean error, and the VM still waits to be started. */
#define bad(vm, needle, what, cmd, ...) do {				\
	note("bad argument: %s", what);					\
	qmp_error(vm, needle, cmd, __VA_ARGS__);			\
	expect_status(vm, "prelaunch", false);				\
} while (0)

static void case_bad_args(void)
{
	static const struct run clean[] = { { 0, 16 * MiB, "" } };
	const uint64_t wrap = 0xfffffffffffff000ULL;
	char maps[513 * 12 + 16] = "";
	struct vm vm;
	int i;

	vm_start(&vm, fw("write"), "kvm", no_args);
	bad(&vm, NULL, "unaligned addr", "memattr-set",
	    "{'addr': %d, 'size': %d, 'deny': ['write']}", 0x10800, 0x1000);
	bad(&vm, NULL, "unaligned size", "memattr-set",
	    "{'addr': %d, 'size': %d, 'deny': ['write']}", 0x10000, 0x800);
	bad(&vm, NULL, "size 0", "memattr-set",
	    "{'addr': %d, 'size': 0, 'deny': ['write']}", 0x10000);
	bad(&vm, NULL, "wrapping range", "memattr-set",
	    "{'addr': %" PRIu64 ", 'size': %d, 'deny': ['write']}", wrap,
	    0x2000);
	bad(&vm, NULL, "unknown access", "memattr-set",
	    "{'addr': %d, 'size': %d, 'deny': ['write', 'bogus']}", 0x10000,
	    0x1000);
	bad(&vm, NULL, "unaligned addr", "query-memattr",
	    "{'addr': %d, 'size': %d}", 0x10800, 0x1000);
	bad(&vm, NULL, "size 0", "query-memattr",
	    "{'addr': %d, 'size': 0}", 0x10000);
	bad(&vm, NULL, "wrapping range", "query-memattr",
	    "{'addr': %" PRIu64 ", 'size': %d}", wrap, 0x2000);
	bad(&vm, "subpage-wp", "subpage-set with subpage-wp off",
	    "subpage-set", "{'addr': %d, 'maps': [%u]}", 0x30000, 0xffffffdfU);
	bad(&vm, NULL, "npages 0", "query-subpage",
	    "{'addr': %d, 'npages': 0}", 0x30000);
	bad(&vm, NULL, "npages 513", "query-subpage",
	    "{'addr': %d, 'npages': 513}", 0x30000);
	bad(&vm, NULL, "unaligned addr", "query-subpage",
	    "{'addr': %d, 'npages': 1}", 0x30080);
	/* Nothing was applied; the largest query works, with the mode off. */
	expect_runs(query_memattr(&vm, 0, 16 * MiB), clean, 1);
	expect_maps(qmp_ok(&vm, "query-subpage", "{'addr': %d, 'npages': 512}",
			   0x30000), 512, 0xffffffff);
	cont_to_exit(&vm, STATUS_WRITE);
	expect_debugcon(&vm, OUT_WRITE);
	vm_end(&vm);

	vm_start(&vm, fw("subpage"), "kvm,subpage-wp=software", no_args);
	bad(&vm, NULL, "no maps", "subpage-set",
	    "{'addr': %d, 'maps': []}", 0x30000);
	for (i = 0; i < 513; i++)
		strcat(maps, i ? ", 4294967295" : "4294967295");
	bad(&vm, NULL, "513 maps", "subpage-set",
	    "{'addr': %d, 'maps': [%s]}", 0x30000, maps);
	bad(&vm, NULL, "unaligned addr", "subpage-set",
	    "{'addr': %d, 'maps': [%u]}", 0x30080, 0xffffffdfU);
	bad(&vm, NULL, "wrapping range", "subpage-set",
	    "{'addr': %" PRIu64 ", 'maps': [%u, %u]}", wrap, 0xffffffdfU,
	    0xffffffdfU);
	bad(&vm, NULL, "map wider than 32 bits", "subpage-set",
	    "{'addr': %d, 'maps': [%" PRIu64 "]}", 0x30000, (uint64_t)1 << 32);
	/* 512 maps is the most, and all ones is no protection at all. */
	*strrchr(maps, ',') = '\0';
	qmp_ok(&vm, "subpage-set", "{'addr': %d, 'maps': [%s]}", 0x30000,
	       maps);
	expect_maps(qmp_ok(&vm, "query-subpage", "{'addr': %d, 'npages': 2}",
			   0x30000), 2, 0xffffffff);
	cont_to_exit(&vm, STATUS_SUBPAGE);
	expect_debugcon(&vm, OUT_SUBPAGE);
	vm_end(&vm);
}

/* With kvm_memattr unloaded: clean errors, and the guest runs. */
/*
 * Protections are not migrated: while memattr-set or subpage-set protects a
 * page, migrate fails with the blocker's reason; once everything is
 * cleared, the VM migrates again (here to a file).
 */
static void case_migrate_blocked(void)
{
	static const char *const capture = "file:%s/migration";
	char uri[160];
	const char *r;
	struct vm vm;

	vm_start(&vm, fw("write"), "kvm,subpage-wp=software", no_args);
	snprintf(uri, sizeof(uri), capture, vm.dir);

	memattr_set(&vm, 0x10000, 0x1000, "'write'");
	qmp_error(&vm, "not migrated", "migrate", "{'uri': '%s'}", uri);
	memattr_set(&vm, 0x10000, 0x1000, "");
	qmp_ok(&vm, "subpage-set", "{'addr': %d, 'maps': [%u]}", 0x30000,
	       0xffffffdfu);
	qmp_error(&vm, "not migrated", "migrate", "{'uri': '%s'}", uri);
	qmp_ok(&vm, "subpage-set", "{'addr': %d, 'maps': [%u]}", 0x30000,
	       0xffffffffu);

	/* Nothing protected: the blocker is gone. */
	qmp_ok(&vm, "migrate", "{'uri': '%s'}", uri);
	r = qmp_ok(&vm, "query-migrate", "{}");
	if (!json_get(r, "return/status"))
		fail("query-migrate: no migration after the blocker went: %s",
		     r);
	note("  ok: migrate accepted once nothing is protected");
	vm_end(&vm);
}

static void case_no_module(void)
{
	const char *text = "kvm_memattr";
	struct vm vm;

	if (!access("/sys/module/kvm_memattr", F_OK))
		fail("kvm_memattr is loaded: no-module needs it unloaded");
	vm_start(&vm, fw("write"), "kvm", no_args);
	qmp_error(&vm, text, "memattr-set",
		  "{'addr': %d, 'size': %d, 'deny': ['write']}", 0x10000,
		  0x1000);
	qmp_error(&vm, text, "query-memattr", "{'addr': %d, 'size': %d}",
		  0x10000, 0x1000);
	expect_status(&vm, "prelaunch", false);
	cont_to_exit(&vm, STATUS_WRITE);
	expect_debugcon(&vm, OUT_WRITE);
	vm_end(&vm);
	expect_startup_error(fw("subpage"), "kvm,subpage-wp=software",
			     "software");
}

static const struct {
	const char *name;
	void (*run)(void);
	bool in_all;
} cases[] = {
	{ "write-pause", case_write_pause, true },
	{ "query", case_query, true },
	{ "shutdown", case_shutdown, true },
	{ "internal-error", case_internal_error, true },
	{ "noexec", case_noexec, true },
	{ "execonly", case_execonly, true },
	{ "subpage", case_subpage, true },
	{ "bad-args", case_bad_args, true },
	{ "migrate-blocked", case_migrate_blocked, true },
	{ "no-module", case_no_module, false },
};

static void usage(const char *argv0)
{
	size_t i;

	fprintf(stderr, "usage: %s [-q QEMU] [-f FIRMWARE_DIR] [-t SECONDS] "
		"CASE\n  QEMU defaults to %s, FIRMWARE_DIR to this program's "
		"directory,\n  SECONDS (each wait) to %d.\n  CASE: all",
		argv0, qemu_path, timeout_s);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fprintf(stderr, " %s", cases[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	const char *which;
	double t;
	size_t i;
	int opt, n = 0;

	t_start = now();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!realpath("/proc/self/exe", self))
		snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(fw_dir, sizeof(fw_dir), "%s", dirname(self));

	while ((opt = getopt(argc, argv, "q:f:t:")) != -1) {
		if (opt == 'q')
			qemu_path = optarg;
		else if (opt == 'f')
			snprintf(fw_dir, sizeof(fw_dir), "%s", optarg);
		else if (opt == 't' && atoi(optarg) > 0)
			timeout_s = atoi(optarg);
		else
			usage(argv[0]);
	}
	if (optind != argc - 1)
		usage(argv[0]);
	which = argv[optind];
	note("qemu %s, firmware %s, %d s per wait", qemu_path, fw_dir,
	     timeout_s);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(which, cases[i].name) &&
		    (strcmp(which, "all") || !cases[i].in_all))
			continue;
		note("case %s", cases[i].name);
		t = now();
		cases[i].run();
		note("case %s: passed in %.3f s", cases[i].name, now() - t);
		n++;
	}
	if (!n)
		usage(argv[0]);
	note("%d case(s) passed", n);
	return 0;
}
