/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL for unit tests that need DPDK memory: no hugepages, no PCI, no
 * shared config, one lcore on a CPU the test may run on, a file prefix of
 * its own; unit_eal_fini() also removes EAL's (emptied) runtime directory.
 * Include after cmocka.h.
 */
#ifndef VSW_UNIT_EAL_H
#define VSW_UNIT_EAL_H

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

static int
unit_eal_init(const char *name)
{
	char prefix[64], lcore[32];
	char *argv[] = {
		(char *)(uintptr_t)name,
		lcore,
		(char *)(uintptr_t)"--no-huge",
		(char *)(uintptr_t)"-m",
		(char *)(uintptr_t)"128",
		(char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"--no-shconf",
		(char *)(uintptr_t)"--no-telemetry",
		(char *)(uintptr_t)"--log-level=error",
		prefix,
	};
	cpu_set_t cpus;
	int cpu = 0;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &cpus))
			cpu++;
	snprintf(lcore, sizeof(lcore), "-l%d", cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=vswunit-%s-%d", name, (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0) {
		print_error("rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static void
unit_eal_fini(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
}

#endif
