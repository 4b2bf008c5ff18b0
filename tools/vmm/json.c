// SPDX-License-Identifier: GPL-2.0
/*
 * A JSON reader that is just enough for QMP's replies and events: values
 * are read in place, by path, in a line that QEMU produced; and the checks
 * on them, which print what they checked or fail.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

/* ---- JSON: read values in place, in a reply that QEMU produced ---- */

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* The character after the value at p, or NULL if it is malformed. */
static const char *json_skip(const char *p)
{
	char close;

	p = json_ws(p);
	switch (*p) {
	case '"':
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p ? p + 1 : NULL;
	case '{':
	case '[':
		close = *p == '{' ? '}' : ']';
		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {	/* "key": */
				p = json_skip(p);
				if (!p || *(p = json_ws(p)) != ':')
					return NULL;
				p++;
			}
			p = json_skip(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	case '\0':
		return NULL;
	default:		/* number, true, false, null */
		while (*p && !strchr(",}] \t\r\n", *p))
			p++;
		return p;
	}
}

/* The value of member key[0..len) of the object at p, or NULL. */
static const char *json_member(const char *p, const char *key, size_t len)
{
	bool match = false;

	p = json_ws(p);
	if (*p++ != '{')
		return NULL;
	for (p = json_ws(p); *p == '"'; p = json_ws(p + 1)) {
		const char *k = p + 1, *v;

		p = json_skip(p);	/* QMP's keys have no escapes */
		if (!p)
			return NULL;
		if ((size_t)(p - 1 - k) == len && !strncmp(k, key, len))
			match = true;
		if (*(p = json_ws(p)) != ':')
			return NULL;
		v = json_ws(p + 1);
		if (match)
			return v;
		p = json_skip(v);
		if (!p || *(p = json_ws(p)) != ',')
			return NULL;
	}
	return NULL;
}

/* Element idx of the array at p, or NULL. */
static const char *json_elem(const char *p, unsigned long idx)
{
	p = json_ws(p);
	if (*p++ != '[' || *(p = json_ws(p)) == ']')
		return NULL;
	for (; idx; idx--) {
		p = json_skip(p);
		if (!p || *(p = json_ws(p)) != ',')
			return NULL;
		p = json_ws(p + 1);
	}
	return p;
}

/*
 * The value at path in json: members and array indexes separated by '/',
 * e.g. "return/runs/1/deny".  NULL if there is none.
 */
const char *json_get(const char *json, const char *path)
{
	const char *p = json;

	while (p && *path) {
		size_t len = strcspn(path, "/");
		char *end;
		unsigned long idx = strtoul(path, &end, 10);

		if (*json_ws(p) == '[' && end == path + len && len)
			p = json_elem(p, idx);
		else
			p = json_member(p, path, len);
		path += len + (path[len] == '/');
	}
	return p;
}

/* The number of elements of the array at p, or -1. */
int json_len(const char *p)
{
	int n = 0;

	if (!p || *(p = json_ws(p)) != '[')
		return -1;
	while (json_elem(p, n))
		n++;
	return n;
}

bool json_u64(const char *p, uint64_t *v)
{
	char *end;

	if (!p || *(p = json_ws(p)) < '0' || *p > '9')
		return false;
	errno = 0;
	*v = strtoull(p, &end, 10);
	return !errno && (!*end || strchr(",}] \t\r\n", *end));
}

static bool json_bool(const char *p, bool *v)
{
	p = p ? json_ws(p) : "";
	*v = !strncmp(p, "true", 4);
	return *v || !strncmp(p, "false", 5);
}

/* The character of the \\uXXXX escape at *p (its 'u'), '?' if not ASCII. */
static char json_u(const char **p)
{
	char hex[5] = "";
	unsigned long u;

	strncpy(hex, *p + 1, 4);
	u = strtoul(hex, NULL, 16);
	*p += strlen(hex);
	return u && u < 0x80 ? u : '?';
}

/* Copy the string at p, unescaped (non-ASCII becomes '?'), into buf. */
bool json_str(const char *p, char *buf, size_t size)
{
	size_t n = 0;

	if (!p || *(p = json_ws(p)) != '"' || !size)
		return false;
	for (p++; *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			c = *++p;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'r')
				c = '\r';
			else if (c == 'u')
				c = json_u(&p);
			else if (c != '"' && c != '\\' && c != '/')
				return false;
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return *p == '"';
}

/* ---- Checks: each prints what it checked, or fails ---- */

void expect_u64(const char *json, const char *path, uint64_t want)
{
	uint64_t got;

	if (!json_u64(json_get(json, path), &got))
		fail("%s: expected the integer %#" PRIx64 ", got none in %s",
		     path, want, json);
	if (got != want)
		fail("%s: expected %#" PRIx64 ", got %#" PRIx64, path, want,
		     got);
	note("  ok: %s = %#" PRIx64, path, got);
}

void expect_bool(const char *json, const char *path, bool want)
{
	bool got;

	if (!json_bool(json_get(json, path), &got))
		fail("%s: expected %s, got no boolean in %s", path,
		     want ? "true" : "false", json);
	if (got != want)
		fail("%s: expected %s, got %s", path, want ? "true" : "false",
		     got ? "true" : "false");
	note("  ok: %s = %s", path, got ? "true" : "false");
}

void expect_str(const char *json, const char *path, const char *want)
{
	char got[256];

	if (!json_str(json_get(json, path), got, sizeof(got)))
		fail("%s: expected \"%s\", got no string in %s", path, want,
		     json);
	if (strcmp(got, want))
		fail("%s: expected \"%s\", got \"%s\"", path, want, got);
	note("  ok: %s = \"%s\"", path, got);
}

/* Whether the array of strings at path holds name. */
bool json_has(const char *json, const char *path, const char *name)
{
	const char *a = json_get(json, path), *e;
	char s[64];
	int i;

	for (i = 0; (e = json_elem(a, i)); i++)
		if (json_str(e, s, sizeof(s)) && !strcmp(s, name))
			return true;
	return false;
}

/*
 * The array of strings at path holds exactly the names of the
 * comma-separated want ("" for none), each once, in any order.
 */
void expect_set(const char *json, const char *path, const char *want)
{
	int n = 0, len = json_len(json_get(json, path));
	char names[128], *name, *save;

	snprintf(names, sizeof(names), "%s", want);
	for (name = strtok_r(names, ",", &save); name;
	     name = strtok_r(NULL, ",", &save), n++)
		if (!json_has(json, path, name))
			fail("%s: expected [%s], got no \"%s\" in %s", path,
			     want, name, json);
	if (len != n)
		fail("%s: expected exactly [%s], got %d names in %s", path,
		     want, len, json);
	note("  ok: %s = [%s]", path, want);
}
