/* SPDX-License-Identifier: MIT */
#include "config.h"

#include "fault.h"

#if SEALMR_FAULT_INJECTION
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_MAX 128

/*
 * Several points armed at once let one daemon walk every point reached per
 * connection: each fires once, so the next connection gets past it to the
 * next armed point of the same path.
 */
static struct {
	pthread_once_t once;
	unsigned n;
	struct {
		char name[48];
		unsigned long nth;
		unsigned long hits;
	} arm[FAULT_MAX];
} fault = { .once = PTHREAD_ONCE_INIT };

static void fault_parse(void)
{
	const char *v = getenv("SEALMR_FAULT");

	while (v && *v && fault.n < FAULT_MAX) {
		size_t len = strcspn(v, ",");
		const char *colon = memchr(v, ':', len);
		size_t n = colon ? (size_t)(colon - v) : len;

		if (n > 0 && n < sizeof(fault.arm[0].name)) {
			memcpy(fault.arm[fault.n].name, v, n);
			fault.arm[fault.n].nth = colon ? strtoul(colon + 1, NULL, 10) : 1;
			if (fault.arm[fault.n].nth == 0)
				fault.arm[fault.n].nth = 1;
			fault.n++;
		} else {
			fprintf(stderr,
				"sealmr fault injection: ignoring '%.*s' in SEALMR_FAULT "
				"(NAME[:N][,NAME[:N]]...)\n",
				(int)len, v);
		}
		v += len;
		if (*v == ',')
			v++;
	}
}

bool fault_fire(const char *point)
{
	bool fire = false;
	unsigned long hit = 0;

	pthread_once(&fault.once, fault_parse);
	for (unsigned i = 0; i < fault.n; i++) {
		if (strcmp(point, fault.arm[i].name))
			continue;
		hit = __atomic_add_fetch(&fault.arm[i].hits, 1, __ATOMIC_RELAXED);
		if (hit == fault.arm[i].nth)
			fire = true;
	}
	if (fire)
		fprintf(stderr, "sealmr fault injection: %s fails (hit %lu)\n", point, hit);
	return fire;
}
#endif
