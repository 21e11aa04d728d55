/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the counters (lib/stats): drop reason names from the
 * VSW_DROP_REASONS X-macro, and the sums the control thread makes.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vsw_stats.h"

static void
drop_names(void **state)
{
	static const char *const expect[] = {
#define NAME(id, name, help) #name,
		VSW_DROP_REASONS(NAME)
#undef NAME
	};
	unsigned int i, j;
	const char *n, *h;

	(void)state;
	assert_int_equal(RTE_DIM(expect), VSW_DROP_MAX);
	assert_true(VSW_DROP_MAX > 0);
	for (i = 0; i < VSW_DROP_MAX; i++) {
		n = vsw_drop_name(i);
		h = vsw_drop_help(i);
		assert_non_null(n);
		assert_non_null(h);
		assert_string_equal(n, expect[i]);
		assert_true(strlen(h) > 0);
		/* JSON keys of port-stats: lower_snake. */
		assert_true(strlen(n) > 0);
		for (j = 0; n[j] != '\0'; j++)
			assert_true(islower((unsigned char)n[j]) || n[j] == '_');
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, vsw_drop_name(j));
	}
	/* The enum order is the list order. */
	assert_string_equal(vsw_drop_name(VSW_DROP_RUNT), "runt");
	assert_string_equal(vsw_drop_name(VSW_DROP_TX_FULL), "tx_full");
	assert_string_equal(vsw_drop_name(VSW_DROP_LEARN_LIMIT), "learn_limit");
	assert_string_equal(vsw_drop_name(VSW_DROP_NO_MBUF), "no_mbuf");

	assert_null(vsw_drop_name(VSW_DROP_MAX));
	assert_null(vsw_drop_name(VSW_DROP_MAX + 100));
	assert_null(vsw_drop_name(UINT32_MAX));
	assert_null(vsw_drop_help(VSW_DROP_MAX));
	assert_null(vsw_drop_help(UINT32_MAX));
}

static void
fill(struct vsw_port_ctrs *c, uint64_t base)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->rx_pkts = base + 1;
	c->rx_bytes = base + 2;
	c->tx_pkts = base + 3;
	c->tx_bytes = base + 4;
	for (i = 0; i < VSW_DROP_MAX; i++)
		c->drops[i] = base + 10 + i;
}

static void
ctrs_add(void **state)
{
	struct vsw_port_ctrs a, b, z;
	unsigned int i;

	(void)state;
	fill(&a, 100);
	fill(&b, 1000);
	vsw_port_ctrs_add(&a, &b);
	assert_int_equal(a.rx_pkts, 1102);
	assert_int_equal(a.rx_bytes, 1104);
	assert_int_equal(a.tx_pkts, 1106);
	assert_int_equal(a.tx_bytes, 1108);
	for (i = 0; i < VSW_DROP_MAX; i++)
		assert_int_equal(a.drops[i], 1100 + 20 + 2 * i);
	/* b untouched. */
	assert_int_equal(b.rx_pkts, 1001);
	assert_int_equal(b.drops[VSW_DROP_MAX - 1], 1010 + VSW_DROP_MAX - 1);

	/* Adding zero is the identity; summing over PMDs starts from zero. */
	memset(&z, 0, sizeof(z));
	fill(&b, 7);
	vsw_port_ctrs_add(&z, &b);
	assert_memory_equal(&z, &b, sizeof(z));

	/* 64-bit wide. */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.rx_bytes = UINT64_C(1) << 40;
	b.rx_bytes = UINT64_C(1) << 40;
	vsw_port_ctrs_add(&a, &b);
	assert_true(a.rx_bytes == UINT64_C(1) << 41);
}

static void
ctrs_sub(void **state)
{
	struct vsw_port_ctrs a, b;
	unsigned int i;

	(void)state;
	fill(&a, 1000);
	fill(&b, 100);
	vsw_port_ctrs_sub(&a, &b);
	assert_int_equal(a.rx_pkts, 900);
	assert_int_equal(a.rx_bytes, 900);
	assert_int_equal(a.tx_pkts, 900);
	assert_int_equal(a.tx_bytes, 900);
	for (i = 0; i < VSW_DROP_MAX; i++)
		assert_int_equal(a.drops[i], 900);

	/* Clamped at zero, field by field (a baseline newer than the counters). */
	fill(&a, 100);
	fill(&b, 1000);
	a.tx_bytes = 5000;
	a.drops[VSW_DROP_TX_FULL] = 2000;
	vsw_port_ctrs_sub(&a, &b);
	assert_int_equal(a.rx_pkts, 0);
	assert_int_equal(a.rx_bytes, 0);
	assert_int_equal(a.tx_pkts, 0);
	assert_int_equal(a.tx_bytes, 5000 - 1004);
	for (i = 0; i < VSW_DROP_MAX; i++)
		assert_int_equal(a.drops[i],
				 i == VSW_DROP_TX_FULL ? 2000 - (1010 + VSW_DROP_TX_FULL) : 0);

	/* x - x = 0, and (x + y) - y = x. */
	fill(&a, 42);
	vsw_port_ctrs_sub(&a, &a);
	assert_int_equal(a.rx_pkts, 0);
	assert_int_equal(vsw_port_ctrs_drops(&a), 0);
	fill(&a, 42);
	fill(&b, 12345);
	vsw_port_ctrs_add(&a, &b);
	vsw_port_ctrs_sub(&a, &b);
	fill(&b, 42);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void
ctrs_drops(void **state)
{
	struct vsw_port_ctrs c;
	uint64_t want = 0;
	unsigned int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(vsw_port_ctrs_drops(&c), 0);
	c.rx_pkts = 99;
	c.tx_pkts = 99;
	assert_int_equal(vsw_port_ctrs_drops(&c), 0);
	for (i = 0; i < VSW_DROP_MAX; i++) {
		c.drops[i] = (uint64_t)1 << ((i * 3) % 60);
		want += c.drops[i];
	}
	assert_true(vsw_port_ctrs_drops(&c) == want);
	c.drops[VSW_DROP_NO_MBUF] += 1;
	assert_true(vsw_port_ctrs_drops(&c) == want + 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drop_names),
		cmocka_unit_test(ctrs_add),
		cmocka_unit_test(ctrs_sub),
		cmocka_unit_test(ctrs_drops),
	};

	/* ./test_x 'pattern': run only the matching tests. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
