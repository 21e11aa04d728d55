/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the L2 option parsers (lib/common/l2.c): VLAN lists, MAC
 * lists, rates.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vsw_l2.h"

static uint64_t set[(VSW_VLAN_MAX + 1) / 64];

static unsigned int
count(void)
{
	unsigned int v, n = 0;

	for (v = 0; v <= VSW_VLAN_MAX; v++)
		n += vsw_vlan_test(set, v);
	return n;
}

static void
vlan_lists(void **state)
{
	char err[256], buf[64];

	(void)state;
	assert_int_equal(vsw_vlan_list_parse("10", set, err, sizeof(err)), 0);
	assert_true(vsw_vlan_test(set, 10));
	assert_int_equal(count(), 1);
	assert_int_equal(vsw_vlan_list_parse("10,20,30-40,4095", set, err, sizeof(err)), 0);
	assert_int_equal(count(), 14);
	assert_true(vsw_vlan_test(set, 35) && vsw_vlan_test(set, 4095));
	assert_false(vsw_vlan_test(set, 0) || vsw_vlan_test(set, 41));
	vsw_vlan_list_format(set, buf, sizeof(buf));
	assert_string_equal(buf, "10,20,30-40,4095");
	assert_int_equal(vsw_vlan_list_parse("all", set, err, sizeof(err)), 0);
	assert_int_equal(count(), 4095);
	assert_false(vsw_vlan_test(set, 0));
	vsw_vlan_list_format(set, buf, sizeof(buf));
	assert_string_equal(buf, "1-4095");
	assert_int_equal(vsw_vlan_list_parse("none", set, err, sizeof(err)), 0);
	assert_int_equal(count(), 0);
	/* Truncated output still reports the full length. */
	assert_int_equal(vsw_vlan_list_parse("1,3,5,7", set, err, sizeof(err)), 0);
	assert_int_equal(vsw_vlan_list_format(set, buf, 4), 7);
	assert_string_equal(buf, "1,3");
}

static void
vlan_lists_bad(void **state)
{
	static const char *const bad[] = {
		"", "0", "4096", "10-", "-10", "20-10", "10,,20", "10,", "a", "1.5", "99999",
		"10 ,20", "+5", "1-2-3", "0x10",
	};
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(vsw_vlan_list_parse(bad[i], set, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
}

static void
mac_lists(void **state)
{
	struct rte_ether_addr m[VSW_MAX_ALLOWED_MACS];
	char err[256], many[VSW_MAX_ALLOWED_MACS * 18 + 40];
	unsigned int i;
	size_t n = 0;

	(void)state;
	assert_int_equal(vsw_mac_list_parse("none", m, err, sizeof(err)), 0);
	assert_int_equal(vsw_mac_list_parse("02:00:00:00:00:01,0A:bb:cc:dd:ee:ff", m, err,
					    sizeof(err)), 2);
	assert_int_equal(m[1].addr_bytes[0], 0x0a);
	assert_int_equal(m[1].addr_bytes[5], 0xff);
	assert_int_equal(vsw_mac_list_parse("02:00:00:00:00:01,", m, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_mac_list_parse("02:00:00:00:00", m, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_mac_list_parse("02-00-00-00-00-01", m, err, sizeof(err)), -EINVAL);
	assert_int_equal(vsw_mac_list_parse("01:00:5e:00:00:01", m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a unicast"));
	for (i = 0; i <= VSW_MAX_ALLOWED_MACS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s02:00:00:00:00:%02x",
				      i ? "," : "", i);
	assert_int_equal(vsw_mac_list_parse(many, m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than"));
}

static void
rates(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(vsw_rate_parse("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vsw_rate_parse("500k", &v), 0);
	assert_int_equal(v, 500000);
	assert_int_equal(vsw_rate_parse("2M", &v), 0);
	assert_int_equal(v, 2000000);
	assert_int_equal(vsw_rate_parse("10g", &v), 0);
	assert_int_equal(v, 10000000000ULL);
	assert_int_equal(vsw_rate_parse("", &v), -EINVAL);
	assert_int_equal(vsw_rate_parse("-1", &v), -EINVAL);
	assert_int_equal(vsw_rate_parse("1kb", &v), -EINVAL);
	assert_int_equal(vsw_rate_parse("1t", &v), -EINVAL);
	assert_int_equal(vsw_rate_parse("999g", &v), -EINVAL);
	assert_int_equal(vsw_rate_parse("99999999999999999999999", &v), -EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vlan_lists),
		cmocka_unit_test(vlan_lists_bad),
		cmocka_unit_test(mac_lists),
		cmocka_unit_test(rates),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
