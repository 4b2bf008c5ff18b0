/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A QEMU child driven over QMP on its stdin and stdout (no sockets: the
 * test kernel has no network).  Every wait is bounded by timeout_s, and a
 * wait or check that fails calls fail(), which also kills the live QEMU
 * and shows what it left.
 */
#ifndef QMP_H
#define QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The QEMU binary that vm_start() runs. */
extern const char *qemu_path;

/* The seconds that each wait for QEMU may take. */
extern int timeout_s;

/* A line of QEMU's that holds an event, and whether a check took it. */
struct event {
	const char *line;
	bool taken;
};

/* A QEMU child, from vm_start() to vm_end() (or fail()). */
struct vm {
	pid_t pid;
	int pidfd;
	int to_qemu;		/* QEMU's stdin: commands */
	int from_qemu;		/* QEMU's stdout: greeting, replies, events */
	bool eof;
	int status;		/* wait status, once QEMU exited */
	bool exited;
	char *buf;		/* what was read but not yet split in lines */
	size_t len;
	char **lines;		/* every line read; freed by vm_end() */
	int nlines;
	struct event *events;
	int nevents;
	unsigned int last_id;
	unsigned int pending;	/* a command whose reply may come any time */
	char dir[64], debugcon[96], errlog[96], memfile[96];
	char text[8192];	/* debugcon or stderr, as last read */
};

/*
 * Start QEMU on firmware fw with -accel accel and the NULL-terminated
 * extra arguments, stopped (-S), and negotiate QMP's capabilities.
 */
void vm_start(struct vm *vm, const char *fw, const char *accel,
	      const char *const *extra);

/*
 * Send a command without waiting: the next waits accept its reply if it
 * is a success (and do not require it: QEMU may exit before it writes it).
 * fmt gives its arguments, a JSON object with ' for ".  Returns its id.
 */
unsigned int qmp_sendf(struct vm *vm, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Send a command and return its reply; events that come first are kept. */
const char *qmp(struct vm *vm, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A command that must succeed: returns its reply. */
#define qmp_ok(vm, cmd, ...) qmp_check_ok(qmp(vm, cmd, __VA_ARGS__), cmd)

/* reply, which must be a success of cmd (for qmp_ok()). */
const char *qmp_check_ok(const char *reply, const char *cmd);

/*
 * A command that must fail cleanly: class GenericError, and a description
 * that is not empty and holds needle (if not NULL).
 */
#define qmp_error(vm, needle, cmd, ...) \
	qmp_check_error(qmp(vm, cmd, __VA_ARGS__), cmd, needle)

/* reply must be a clean error of cmd, naming needle (for qmp_error()). */
void qmp_check_error(const char *reply, const char *cmd, const char *needle);

/*
 * The first event named name not yet taken, waiting for it if needed.
 * Its index in vm->events is its rank among the events.
 */
int wait_event(struct vm *vm, const char *name);

/* Read what QEMU writes until it exits; returns the wait status. */
int vm_wait_exit(struct vm *vm);

/* QEMU exited with status code, or fail(). */
void expect_exit_status(struct vm *vm, int code);

/* The guest's debugcon output, so far, is exactly want, or fail(). */
void expect_debugcon(struct vm *vm, const char *want);

/*
 * The case is over and QEMU exited: no fault may be left unchecked.
 * Frees what vm holds and removes its files.
 */
void vm_end(struct vm *vm);

/* QEMU refuses to start: exit status 1 and a message holding needle. */
void expect_startup_error(const char *fw, const char *accel,
			  const char *needle);

#endif /* QMP_H */
