/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON reader that is just enough for QMP's replies and events, and the
 * checks on the values it reads.  A path names a value in a JSON text:
 * members and array indexes separated by '/', e.g. "return/runs/1/deny".
 */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value at path in json, or NULL if there is none. */
const char *json_get(const char *json, const char *path);

/* The number of elements of the array at p, or -1. */
int json_len(const char *p);

/* Read the unsigned integer at p into *v; false if there is none. */
bool json_u64(const char *p, uint64_t *v);

/* Copy the string at p, unescaped (non-ASCII becomes '?'), into buf. */
bool json_str(const char *p, char *buf, size_t size);

/* Whether the array of strings at path holds name. */
bool json_has(const char *json, const char *path, const char *name);

/* The integer at path is want, or fail(). */
void expect_u64(const char *json, const char *path, uint64_t want);

/* The boolean at path is want, or fail(). */
void expect_bool(const char *json, const char *path, bool want);

/* The string at path is want, or fail(). */
void expect_str(const char *json, const char *path, const char *want);

/*
 * The array of strings at path holds exactly the names of the
 * comma-separated want ("" for none), each once, in any order; or fail().
 */
void expect_set(const char *json, const char *path, const char *want);

#endif /* JSON_H */
