// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU child driven over QMP on its stdin and stdout (no sockets: the
 * test kernel has no network), and the checks on what it did.
 *
 * Nothing here sleeps to synchronise: every wait is a poll() on QEMU's
 * stdout or on a pidfd of QEMU, bounded by timeout_s.
 */
#define _GNU_SOURCE		/* pipe2() */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "json.h"
#include "log.h"
#include "qmp.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

const char *qemu_path = "/usr/bin/qemu-system-x86_64";
int timeout_s = 30;
static struct vm *live_vm;	/* the VM that fail() reports and kills */

static double deadline(void)
{
	return now() + timeout_s;
}

/* The next line from QEMU, or NULL at EOF; fails after the deadline. */
static const char *vm_line(struct vm *vm, double until, const char *what)
{
	struct pollfd pfd = { .fd = vm->from_qemu, .events = POLLIN };
	char *nl;
	ssize_t n;

	while (!(nl = vm->buf ? memchr(vm->buf, '\n', vm->len) : NULL)) {
		if (vm->eof)
			return NULL;
		n = poll(&pfd, 1, until > now() ? (until - now()) * 1000 : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("no %s from QEMU within %d s", what, timeout_s);
		vm->buf = realloc(vm->buf, vm->len + 65536);
		n = read(vm->from_qemu, vm->buf + vm->len, 65536);
		if (n < 0 && errno != EINTR)
			fail("read from QEMU: %s", strerror(errno));
		vm->eof = !n;
		vm->len += n > 0 ? n : 0;
	}
	*nl = '\0';
	if (nl > vm->buf && nl[-1] == '\r')
		nl[-1] = '\0';
	vm->lines = realloc(vm->lines, (vm->nlines + 1) * sizeof(char *));
	vm->lines[vm->nlines] = strdup(vm->buf);
	vm->len -= nl + 1 - vm->buf;
	memmove(vm->buf, nl + 1, vm->len);
	return vm->lines[vm->nlines++];
}

/*
 * A line other than the reply awaited: an event (kept for wait_event()),
 * the success of the pending command, or QMP's greeting if unawaited.
 * Returns false for anything else.
 */
static bool vm_aside(struct vm *vm, const char *line)
{
	uint64_t id;

	if (json_get(line, "event")) {
		vm->events = realloc(vm->events,
				     (vm->nevents + 1) * sizeof(*vm->events));
		vm->events[vm->nevents++] = (struct event){ .line = line };
		note("  event %s", line);
		return true;
	}
	if (vm->pending && json_u64(json_get(line, "id"), &id) &&
	    id == vm->pending && json_get(line, "return")) {
		note("<- %s", line);
		vm->pending = 0;
		return true;
	}
	return json_get(line, "QMP");
}

/* Send a command: fmt gives its arguments, a JSON object with ' for ". */
static unsigned int qmp_send(struct vm *vm, const char *cmd,
			     const char *fmt, va_list ap)
{
	char args[8192], msg[8400], *p;
	size_t off = 0;
	ssize_t n;

	vsnprintf(args, sizeof(args), fmt, ap);
	for (p = args; (p = strchr(p, '\'')); )
		*p = '"';
	snprintf(msg, sizeof(msg),
		 "{\"execute\": \"%s\", \"arguments\": %s, \"id\": %u}\n",
		 cmd, args, ++vm->last_id);
	note("-> %.*s%s", (int)strcspn(msg, "\n") < 200 ?
	     (int)strcspn(msg, "\n") : 200, msg,
	     strlen(msg) > 201 ? "..." : "");
	while (off < strlen(msg)) {
		n = write(vm->to_qemu, msg + off, strlen(msg) - off);
		if (n < 0 && errno != EINTR)
			fail("write to QEMU: %s", strerror(errno));
		off += n > 0 ? n : 0;
	}
	return vm->last_id;
}

/* The reply to command id; events that come first are kept. */
static const char *qmp_reply(struct vm *vm, unsigned int id, const char *cmd)
{
	const char *line;
	uint64_t got;

	while ((line = vm_line(vm, deadline(), "reply"))) {
		if (vm_aside(vm, line))
			continue;
		if (!json_u64(json_get(line, "id"), &got) || got != id)
			fail("%s: expected the reply with id %u, got %s", cmd,
			     id, line);
		note("<- %.300s", line);
		return line;
	}
	fail("%s: QEMU closed QMP without a reply", cmd);
}

/*
 * Send a command without waiting: the next waits accept its reply if it
 * is a success (and do not require it: QEMU may exit before it writes it).
 */
unsigned int qmp_sendf(struct vm *vm, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	unsigned int id;

	va_start(ap, fmt);
	id = qmp_send(vm, cmd, fmt, ap);
	va_end(ap);
	vm->pending = id;
	return id;
}

/* Send a command and return its reply. */
const char *qmp(struct vm *vm, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	unsigned int id;

	va_start(ap, fmt);
	id = qmp_send(vm, cmd, fmt, ap);
	va_end(ap);
	return qmp_reply(vm, id, cmd);
}

/* The reply of a command that must succeed (qmp_ok()). */
const char *qmp_check_ok(const char *reply, const char *cmd)
{
	if (!json_get(reply, "return"))
		fail("%s: expected success, got %s", cmd, reply);
	return reply;
}

/*
 * The reply of a command that must fail cleanly (qmp_error()): class
 * GenericError, and a description that is not empty and holds needle (if
 * not NULL).
 */
void qmp_check_error(const char *reply, const char *cmd, const char *needle)
{
	char desc[512];

	if (!json_get(reply, "error"))
		fail("%s: expected an error, got %s", cmd, reply);
	expect_str(reply, "error/class", "GenericError");
	if (!json_str(json_get(reply, "error/desc"), desc, sizeof(desc)) ||
	    !*desc || (needle && !strstr(desc, needle)))
		fail("%s: expected a description naming %s, got %s", cmd,
		     needle ? needle : "the error", reply);
	note("  ok: error/desc = \"%s\"", desc);
}

/*
 * The first event named name not yet taken, waiting for it if needed.
 * Its index in vm->events is its rank among the events.
 */
int wait_event(struct vm *vm, const char *name)
{
	double until = deadline();
	const char *line;
	char got[64];
	int i;

	for (i = 0;; i++) {
		while (i == vm->nevents) {
			line = vm_line(vm, until, name);
			if (!line)
				fail("QEMU closed QMP before the event %s", name);
			if (!vm_aside(vm, line))
				fail("expected the event %s, got %s", name, line);
		}
		json_str(json_get(vm->events[i].line, "event"), got,
			 sizeof(got));
		if (!vm->events[i].taken && !strcmp(got, name)) {
			vm->events[i].taken = true;
			return i;
		}
	}
}

/* Read what QEMU writes until it exits; returns the wait status. */
int vm_wait_exit(struct vm *vm)
{
	struct pollfd pfd = { .fd = vm->pidfd, .events = POLLIN };
	double until = deadline(), t = now();
	const char *line;

	while ((line = vm_line(vm, until, "exit")))
		if (!vm_aside(vm, line))
			fail("expected nothing but events, got %s", line);
	for (;;) {
		int r = poll(&pfd, 1,
			     until > now() ? (until - now()) * 1000 : 0);

		if (r > 0)
			break;
		if (!r || errno != EINTR)
			fail("QEMU closed QMP but did not exit in %d s",
			     timeout_s);
	}
	if (waitpid(vm->pid, &vm->status, 0) != vm->pid)
		fail("waitpid: %s", strerror(errno));
	vm->exited = true;
	note("QEMU exited, wait status %#x, %.3f s after the wait began",
	     vm->status, now() - t);
	return vm->status;
}

void expect_exit_status(struct vm *vm, int code)
{
	if (!WIFEXITED(vm->status) || WEXITSTATUS(vm->status) != code)
		fail("expected QEMU to exit with status %d, got wait status %#x",
		     code, vm->status);
	note("  ok: QEMU exit status %d", code);
}

/* The whole of a small file, in vm->text. */
static const char *slurp(struct vm *vm, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, vm->text, sizeof(vm->text) - 1);

	vm->text[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return vm->text;
}

/* Print s, one line each, after prefix; newlines shown as \n if nl. */
static void show(const char *prefix, const char *s, bool nl)
{
	size_t n;

	if (!*s)
		printf("%s(nothing)\n", prefix);
	for (; *s; s += n + (s[n] == '\n')) {
		n = strcspn(s, "\n");
		printf("%s%.*s%s\n", prefix, (int)n, s,
		       nl && s[n] ? "\\n" : "");
	}
}

void expect_debugcon(struct vm *vm, const char *want)
{
	const char *got = slurp(vm, vm->debugcon);

	if (strcmp(got, want)) {
		show("  expected debugcon: ", want, true);
		show("  got debugcon:      ", got, true);
		fail("the guest's debugcon output differs");
	}
	show("  ok: debugcon = ", got, true);
}

static void vm_cleanup(struct vm *vm)
{
	int i;

	if (!vm->exited && vm->pid > 0) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, &vm->status, 0);
	}
	if (*slurp(vm, vm->errlog))
		show("  qemu stderr: ", vm->text, false);
	close(vm->to_qemu);
	close(vm->from_qemu);
	close(vm->pidfd);
	unlink(vm->debugcon);
	unlink(vm->errlog);
	unlink(vm->memfile);
	rmdir(vm->dir);
	for (i = 0; i < vm->nlines; i++)
		free(vm->lines[i]);
	free(vm->lines);
	free(vm->events);
	free(vm->buf);
	live_vm = NULL;
}

/* The case is over and QEMU exited: no fault may be left unchecked. */
void vm_end(struct vm *vm)
{
	char name[64];
	int i;

	for (i = 0; i < vm->nevents; i++) {
		json_str(json_get(vm->events[i].line, "event"), name,
			 sizeof(name));
		if (!vm->events[i].taken && !strcmp(name, "MEMATTR_FAULT"))
			fail("expected no more MEMATTR_FAULT, got %s",
			     vm->events[i].line);
	}
	vm_cleanup(vm);
}

/* fail()'s hook: what the live VM left unchecked, then the end of it. */
static void vm_fail(void)
{
	struct vm *vm = live_vm;
	int i;

	if (vm) {
		for (i = 0; i < vm->nevents; i++)
			if (!vm->events[i].taken)
				printf("  event not checked: %s\n",
				       vm->events[i].line);
		show("  debugcon: ", slurp(vm, vm->debugcon), true);
		vm_cleanup(vm);
	}
}

/*
 * Start QEMU on firmware fw with -accel accel and the NULL-terminated
 * extra arguments; stopped (-S), QMP on stdin/stdout, debugcon and stderr
 * into files of a private directory.
 */
static void vm_spawn(struct vm *vm, const char *fw, const char *accel,
		     const char *const *extra)
{
	static const char *const fixed[] = {
		"-M", "microvm,x-option-roms=off,pit=off,pic=off,rtc=off,"
		      "isa-serial=off",
		"-cpu", "host", "-m", "16M", "-nodefaults", "-no-user-config",
		"-display", "none",
		"-no-reboot",	/* a guest that resets ends QEMU, not loops */
		"-S",
		"-chardev", "stdio,id=qmp", "-mon", "chardev=qmp,mode=control",
		NULL
	}, *const devices[] = {
		"-device", "isa-debugcon,iobase=0xe9,chardev=dbg",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=1",
		NULL
	};
	const char *argv[64];
	int i, n = 0, in[2], out[2], err;
	char dbg[128];

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->dir, sizeof(vm->dir), "%s/qemu_memattr.XXXXXX",
		 getenv("TMPDIR") ? : "/tmp");
	if (!mkdtemp(vm->dir))
		fail("mkdtemp %s: %s", vm->dir, strerror(errno));
	snprintf(vm->debugcon, sizeof(vm->debugcon), "%s/debugcon", vm->dir);
	snprintf(vm->errlog, sizeof(vm->errlog), "%s/stderr", vm->dir);
	snprintf(vm->memfile, sizeof(vm->memfile), "%s/mem", vm->dir);
	snprintf(dbg, sizeof(dbg), "file,id=dbg,path=%s", vm->debugcon);

	argv[n++] = qemu_path;
	for (i = 0; fixed[i]; i++)
		argv[n++] = fixed[i];
	argv[n++] = "-accel";
	argv[n++] = accel;
	argv[n++] = "-bios";
	argv[n++] = fw;
	argv[n++] = "-chardev";
	argv[n++] = dbg;
	for (i = 0; devices[i]; i++)
		argv[n++] = devices[i];
	while (*extra && n < 63)
		argv[n++] = *extra++;
	argv[n] = NULL;

	printf("[%8.3f] $", now() - t_start);
	for (i = 0; argv[i]; i++)
		printf(" %s", argv[i]);
	printf("\n");

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		fail("pipe2: %s", strerror(errno));
	err = open(vm->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (err < 0)
		fail("open %s: %s", vm->errlog, strerror(errno));
	fflush(stdout);
	vm->pid = fork();
	if (vm->pid < 0)
		fail("fork: %s", strerror(errno));
	if (!vm->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err, 2);
		execv(qemu_path, (char **)argv);
		dprintf(2, "exec %s: %s\n", qemu_path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err);
	vm->to_qemu = in[1];
	vm->from_qemu = out[0];
	vm->pidfd = syscall(SYS_pidfd_open, vm->pid, 0);
	live_vm = vm;
	fail_hook = vm_fail;
	if (vm->pidfd < 0)
		fail("pidfd_open: %s", strerror(errno));
}

/* vm_spawn(), then QMP's greeting and capabilities negotiation. */
void vm_start(struct vm *vm, const char *fw, const char *accel,
	      const char *const *extra)
{
	const char *greeting;
	uint64_t major = 0, minor = 0, micro = 0;

	vm_spawn(vm, fw, accel, extra);
	greeting = vm_line(vm, deadline(), "QMP greeting");
	if (!greeting || !json_get(greeting, "QMP"))
		fail("expected QMP's greeting, got %s",
		     greeting ? greeting : "end of file");
	json_u64(json_get(greeting, "QMP/version/qemu/major"), &major);
	json_u64(json_get(greeting, "QMP/version/qemu/minor"), &minor);
	json_u64(json_get(greeting, "QMP/version/qemu/micro"), &micro);
	note("QMP greeting: QEMU %" PRIu64 ".%" PRIu64 ".%" PRIu64,
	     major, minor, micro);
	qmp_ok(vm, "qmp_capabilities", "{}");
}

/* QEMU refuses to start: exit status 1 and a message holding needle. */
void expect_startup_error(const char *fw, const char *accel,
			  const char *needle)
{
	const char *const none[] = { NULL };
	struct vm vm;

	vm_spawn(&vm, fw, accel, none);
	vm_wait_exit(&vm);
	expect_exit_status(&vm, 1);
	if (!strstr(slurp(&vm, vm.errlog), needle))
		fail("expected QEMU's error message to name \"%s\"", needle);
	note("  ok: QEMU's error names \"%s\"", needle);
	vm_cleanup(&vm);
}
