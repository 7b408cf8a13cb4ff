/*
 * A tiny test framework: each test function is run by RUN(); any failed
 * CHECK marks it failed (and goes on, to report every broken assertion).
 * Every test prints exactly one line, "PASS <name>" or "FAIL <name>", that
 * tests/run.sh counts. Exit status is non-zero when any test failed.
 */
#ifndef ANNALS_TESTS_CHECK_H
#define ANNALS_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_now;
static int check_passed_total;
static int check_failed_total;

#define CHECK(cond)                                                               \
	do {                                                                          \
		if (!(cond)) {                                                            \
			fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			check_failed_now = 1;                                                 \
		}                                                                         \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                     \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                         \
		if (check_a_ != check_b_) {                                                            \
			fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
			        #b, check_a_, check_b_);                                                   \
			check_failed_now = 1;                                                              \
		}                                                                                      \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                       \
	do {                                                                                         \
		const char *check_a_ = (a), *check_b_ = (b);                                             \
		if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_) != 0) {          \
			fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
			        #a, #b, check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");   \
			check_failed_now = 1;                                                                \
		}                                                                                        \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                             \
	do {                                                                                        \
		const char *check_h_ = (hay), *check_n_ = (needle);                                     \
		if (check_h_ == NULL || strstr(check_h_, check_n_) == NULL) {                           \
			fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,    \
			        check_h_ ? check_h_ : "(null)", check_n_);                                  \
			check_failed_now = 1;                                                               \
		}                                                                                       \
	} while (0)

#define RUN(fn)                                            \
	do {                                                   \
		check_failed_now = 0;                              \
		fn();                                              \
		if (check_failed_now) {                            \
			check_failed_total++;                          \
			printf("FAIL %s\n", #fn);                      \
		} else {                                           \
			check_passed_total++;                          \
			printf("PASS %s\n", #fn);                      \
		}                                                  \
		fflush(stdout);                                    \
	} while (0)

#define CHECK_DONE() (check_failed_total ? 1 : 0)

#endif
