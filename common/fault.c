/* SPDX-License-Identifier: MIT */
#include "config.h"

#include "fault.h"

#if SEALMR_FAULT_INJECTION
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	pthread_once_t once;
	char name[64];
	unsigned long nth;
	unsigned long hits;
} fault = { .once = PTHREAD_ONCE_INIT };

static void fault_parse(void)
{
	const char *v = getenv("SEALMR_FAULT");
	const char *colon;
	size_t n;

	if (!v || !*v)
		return;
	colon = strchr(v, ':');
	n = colon ? (size_t)(colon - v) : strlen(v);
	if (n >= sizeof(fault.name))
		n = sizeof(fault.name) - 1;
	memcpy(fault.name, v, n);
	fault.nth = colon ? strtoul(colon + 1, NULL, 10) : 1;
	if (fault.nth == 0)
		fault.nth = 1;
}

bool fault_fire(const char *point)
{
	unsigned long hit;

	pthread_once(&fault.once, fault_parse);
	if (!fault.name[0] || strcmp(point, fault.name))
		return false;
	hit = __atomic_add_fetch(&fault.hits, 1, __ATOMIC_RELAXED);
	if (hit != fault.nth)
		return false;
	fprintf(stderr, "sealmr fault injection: %s fails (hit %lu)\n", point, hit);
	return true;
}
#endif
