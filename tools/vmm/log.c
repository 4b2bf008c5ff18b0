// SPDX-License-Identifier: GPL-2.0
/*
 * The log of qemu_memattr_test: the clock of its stamps, and fail().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

double t_start;
void (*fail_hook)(void);

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void fail(const char *fmt, ...)
{
	va_list ap;

	printf("[%8.3f] FAIL: ", now() - t_start);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (fail_hook)
		fail_hook();
	fflush(stdout);
	exit(1);
}
