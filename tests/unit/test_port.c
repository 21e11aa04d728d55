/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of port configuration checks (lib/port) that need no device:
 * devargs parsing (PCI addresses in both forms, vdevs, garbage), the
 * NUMA node choice, configuration equality.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vsw_port.h"

static void
devargs_pci(void **state)
{
	static const struct {
		const char *in, *name, *args;
	} ok[] = {
		{"0000:01:00.0", "0000:01:00.0", ""},
		{"01:00.0", "0000:01:00.0", ""},
		{"0000:3B:02.7", "0000:3b:02.7", ""},
		{"3b:1f.1,rxq_pkt_pad_en=1", "0000:3b:1f.1", "rxq_pkt_pad_en=1"},
		{"0001:af:00.1,a=1,b=2", "0001:af:00.1", "a=1,b=2"},
		{"0000:01:00.0,", "0000:01:00.0", ""},
	};
	struct vsw_devargs d;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(vsw_devargs_parse(ok[i].in, &d, err, sizeof(err)), 0);
		assert_true(d.is_pci);
		assert_string_equal(d.name, ok[i].name);
		assert_string_equal(d.args, ok[i].args);
	}
}

static void
devargs_vdev(void **state)
{
	struct vsw_devargs d;
	char err[256];

	(void)state;
	assert_int_equal(vsw_devargs_parse("net_tap0,iface=vswtap0", &d, err, sizeof(err)), 0);
	assert_false(d.is_pci);
	assert_string_equal(d.name, "net_tap0");
	assert_string_equal(d.args, "iface=vswtap0");
	assert_int_equal(vsw_devargs_parse("net_af_packet12", &d, err, sizeof(err)), 0);
	assert_string_equal(d.name, "net_af_packet12");
	assert_string_equal(d.args, "");
}

static void
devargs_bad(void **state)
{
	static const char *const bad[] = {
		"", ",iface=x", "net_", "tap0", "eth0", "01:00", "01:00.8", "01:20.0",
		"0000:01:00", "00000:01:00.0", "0g:00.0", "net tap0", "net_tap0/x,a=1",
		"../net_tap0", "0000-01-00.0",
		"net_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct vsw_devargs d;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (vsw_devargs_parse(bad[i], &d, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(strlen(err) > 0);
	}
}

static void
numa_node(void **state)
{
	(void)state;
	assert_int_equal(vsw_port_numa_node(1, 0), 1);	/* the NIC's node wins */
	assert_int_equal(vsw_port_numa_node(0, 1), 0);
	assert_int_equal(vsw_port_numa_node(-1, 1), 1);	/* unknown (vdev): the fallback */
}

static void
conf_check_and_equal(void **state)
{
	struct vsw_port_conf a, b;
	char err[256];

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "nic0");
	a.type = VSW_PORT_DPDK;
	a.n_rxq = 2;
	snprintf(a.devargs, sizeof(a.devargs), "01:00.0");
	assert_int_equal(vsw_port_conf_check(&a, err, sizeof(err)), 0);
	snprintf(a.devargs, sizeof(a.devargs), "bogus");
	assert_int_equal(vsw_port_conf_check(&a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither a PCI address"));
	snprintf(a.devargs, sizeof(a.devargs), "01:00.0");
	b = a;
	assert_true(vsw_port_conf_equal(&a, &b));
	b.mtu = 9000;
	assert_false(vsw_port_conf_equal(&a, &b));
	b = a;
	b.has_mac = true;
	assert_false(vsw_port_conf_equal(&a, &b));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(devargs_pci),
		cmocka_unit_test(devargs_vdev),
		cmocka_unit_test(devargs_bad),
		cmocka_unit_test(numa_node),
		cmocka_unit_test(conf_check_and_equal),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
