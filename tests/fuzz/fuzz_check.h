/* fuzz_check.h - CHECK(cond): abort with the condition and place when an
 * invariant a fuzz target checks does not hold (libFuzzer then saves the
 * input). Unlike assert() it stays on in every build. */
#ifndef PETREL_FUZZ_CHECK_H
#define PETREL_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

#endif
