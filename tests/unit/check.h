/*
 * check.h - a tiny TAP harness for the C unit tests.
 *
 *   CHECK(cond, "what")         one assertion: prints "ok N - what" or
 *                               "not ok N - what" with file:line
 *   CHECK_EQ_INT(a, b, "what")  the same, showing both values on failure
 *   return check_done();        prints the plan; exit status 1 on failure
 */
#ifndef WS_TESTS_CHECK_H
#define WS_TESTS_CHECK_H

#include <stdio.h>

static int check_n, check_failed;

#define CHECK(cond, what) do {                                          \
	check_n++;                                                      \
	if (cond) {                                                     \
		printf("ok %d - %s\n", check_n, what);                  \
	} else {                                                        \
		check_failed++;                                         \
		printf("not ok %d - %s\n#   at %s:%d: %s\n", check_n,  \
		       what, __FILE__, __LINE__, #cond);                \
	}                                                               \
} while (0)

#define CHECK_EQ_INT(a, b, what) do {                                   \
	long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
	CHECK(check_a_ == check_b_, what);                              \
	if (check_a_ != check_b_)                                       \
		printf("#   got %lld, want %lld\n", check_a_, check_b_);   \
} while (0)

static inline int check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}

#endif
