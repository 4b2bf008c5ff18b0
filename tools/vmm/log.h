/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The log of qemu_memattr_test: lines on stdout, each stamped with the
 * seconds since the test started, and fail(), which ends the test.
 */
#ifndef LOG_H
#define LOG_H

#include <stdio.h>

/* When the test started, on the clock of now(); main() sets it. */
extern double t_start;

/* Run by fail() before it exits, if set (qmp.c's ends the live QEMU). */
extern void (*fail_hook)(void);

/* The time of CLOCK_MONOTONIC, in seconds. */
double now(void);

/* Print a line of the log: fmt and its arguments, stamped. */
#define note(fmt, ...) \
	printf("[%8.3f] " fmt "\n", now() - t_start, ##__VA_ARGS__)

/* Print a stamped "FAIL: " line, run fail_hook, and exit with status 1. */
void fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

#endif /* LOG_H */
