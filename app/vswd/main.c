/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vswd: the vsw daemon. Parses options, builds the EAL command line,
 * starts the PMDs, restores the configuration, then runs the control loop
 * (control socket, learn requests, link polling, aging) on the main lcore
 * until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "vsw_ctl.h"
#include "vsw_dp.h"
#include "vswd.h"

#define MAX_EAL_ARGS 128
#define VSWD_IDLE_TICK_MS 50	/* Control tick while every PMD sleeps until kicked. */


static volatile sig_atomic_t quit_signal;

struct options {
	char rundir[2048];
	char ctl[4096];
	char state[4096];
	char pmd_cores[256];
	char main_core[16];
	char socket_mem[64];
	char log_level[128];
	char pidfile[4096];
	char group[64];
	char metrics[128];
	char vhost_dirs[4096];
	unsigned int pmd_sleep_max;
	bool tso;
	bool walk_vsw;
	bool copy_once;
	bool no_huge;
	bool foreground;
	unsigned int mbufs;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: vswd [OPTIONS] [-- EAL-ARGS...]\n"
		"vsw daemon: a DPDK vhost-user learning L2 switch.\n\n"
		"  --rundir DIR        run directory (default $VSW_RUNDIR or /run/vsw)\n"
		"  --ctl PATH          control socket (default RUNDIR/vswd.ctl)\n"
		"  --state PATH        state file (default RUNDIR/state.json)\n"
		"  --pmd-cores LIST    CPUs for PMD threads, e.g. 1 or 2,3 (default: last CPU)\n"
		"  --main-core CPU     CPU of the control thread (default: first CPU not a PMD)\n"
		"  --socket-mem MB     memory to reserve, MB (default 512)\n"
		"  --no-huge           use ordinary memory instead of hugepages\n"
		"  --mbufs N           mbufs per NUMA socket (default 16384)\n"
		"  --log-level LEVEL   EAL log level, e.g. info, debug, vsw.*:debug\n"
		"  --group NAME        group allowed to use the control socket\n"
		"  --metrics ADDR:PORT serve Prometheus metrics (off by default)\n"
		"  --vhost-dir DIR[:DIR] only allow vhost-user sockets in these directories\n"
		"  --pmd-sleep-max US  idle PMDs sleep up to US microseconds (default 0: poll)\n"
		"  --tso               offer TCP segmentation offload to vhost-user guests\n"
		"  --vhost-walk WHO    who walks guests' rings: vsw (default) or rte (rte_vhost)\n"
		"  --vhost-copy HOW    frames between walked guests: once (default; the receiver\n"
		"                      copies from the sender's buffer) or twice (via an mbuf)\n"
		"  --pidfile PATH      pid file (default RUNDIR/vswd.pid)\n"
		"  --foreground        do not daemonize; log to stderr\n"
		"  --help              this text\n"
		"  --version           print the version\n\n"
		"EAL arguments after -- are passed to DPDK (for example --file-prefix=NAME,\n"
		"-a 0000:01:00.0). Documentation: README.md, docs/.\n");
}

/* EAL wants char *; our literals are const. The copies are freed at exit. */
static char *owned[MAX_EAL_ARGS];
static unsigned int n_owned;

static char *
arg(const char *s)
{
	char *d = strdup(s);

	if (d == NULL || n_owned == MAX_EAL_ARGS)
		abort();
	owned[n_owned++] = d;
	return d;
}

static void
free_args(void)
{
	while (n_owned > 0)
		free(owned[--n_owned]);
}

static void
on_signal(int sig)
{
	quit_signal = sig;
}

/* Parse "1,3-4" into CPU numbers. @return count or -1. */
static int
parse_cpus(const char *s, unsigned int *cpus, unsigned int max)
{
	unsigned int n = 0, a, b, c;
	const char *p = s;
	char *end;

	while (*p != '\0') {
		a = (unsigned int)strtoul(p, &end, 10);
		if (end == p)
			return -1;
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			b = (unsigned int)strtoul(p, &end, 10);
			if (end == p || b < a)
				return -1;
			p = end;
		}
		for (c = a; c <= b; c++) {
			if (n >= max || c >= RTE_MAX_LCORE)
				return -1;
			cpus[n++] = c;
		}
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -1;
	}
	return (int)n;
}

static bool
cpu_allowed(unsigned int cpu)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return true;
	return CPU_ISSET(cpu, &set);
}

static unsigned int
last_cpu(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (i = CPU_SETSIZE - 1; i >= 0; i--)
		if (CPU_ISSET(i, &set))
			return (unsigned int)i;
	return 0;
}

static int
mkdir_p(const char *dir)
{
	char buf[2048], *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static bool
has_arg(int argc, char **argv, const char *const *names)
{
	int i, j;

	for (i = 0; i < argc; i++)
		for (j = 0; names[j] != NULL; j++)
			if (strncmp(argv[i], names[j], strlen(names[j])) == 0)
				return true;
	return false;
}

static void
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

/* Is process pid gone or on its way out (zombie, or dead threads only)? */
static bool
pid_exiting(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool exiting = true;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		/* "pid (comm) S ...": the state follows the last ')' */
		p = strrchr(buf, ')');
		exiting = p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X';
	}
	fclose(f);
	return exiting;
}

/*
 * A vswd killed a moment ago (SIGKILL, then restarted at once by a
 * supervisor) can still hold the EAL's lock on its runtime config file
 * while its last threads exit, and rte_eal_init() would then refuse to
 * start ("Is another primary process running?"). Wait for such a dying
 * holder, up to 10 s. A holder that is alive is a real second vswd on the
 * same --file-prefix: do not wait, the EAL says so.
 */
static void
wait_dying_primary(int argc, char **argv)
{
	const char *prefix = "rte", *base;
	char path[4096];
	struct flock fl;
	int i, fd;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--in-memory") == 0 || strcmp(argv[i], "--no-shconf") == 0)
			return;
		if (strncmp(argv[i], "--file-prefix=", 14) == 0)
			prefix = argv[i] + 14;
		else if (strcmp(argv[i], "--file-prefix") == 0 && i + 1 < argc)
			prefix = argv[i + 1];
	}
	base = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	if (base == NULL)
		base = "/tmp";
	snprintf(path, sizeof(path), "%s/dpdk/%s/config", base, prefix);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < 100; i++) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
			break;
		if (!pid_exiting(fl.l_pid))
			break;
		if (i == 0)
			fprintf(stderr, "vswd: waiting for the exiting pid %d to release %s\n",
				(int)fl.l_pid, path);
		usleep(100 * 1000);
	}
	close(fd);
}

/* Fork; the parent exits when the child reports ready (or failed). */
static int
daemonize(int *ready_fd, const char *rundir)
{
	int fds[2], nul;
	char status = 1;
	pid_t pid;

	if (pipe(fds) != 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		if (status != 0)
			fprintf(stderr, "vswd: failed to start; see %s/vswd.log\n", rundir);
		_exit(status == 0 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, STDIN_FILENO);
		close(nul);
	}
	*ready_fd = fds[1];
	return 0;
}

static void
report_ready(int *fd, char status)
{
	if (*fd < 0)
		return;
	(void)!write(*fd, &status, 1);
	close(*fd);
	*fd = -1;
}

/* An option that is one of two words: *first = (optarg is the first). */
static int
pick2(const char *opt, const char *first, const char *second, bool *is_first)
{
	if (strcmp(optarg, first) != 0 && strcmp(optarg, second) != 0) {
		fprintf(stderr, "vswd: %s is %s or %s\n", opt, first, second);
		return -1;
	}
	*is_first = strcmp(optarg, first) == 0;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "pmd-cores", required_argument, NULL, 'p' },
		{ "main-core", required_argument, NULL, 'M' },
		{ "socket-mem", required_argument, NULL, 'm' },
		{ "no-huge", no_argument, NULL, 'H' },
		{ "mbufs", required_argument, NULL, 'n' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "group", required_argument, NULL, 'g' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "metrics", required_argument, NULL, 'x' },
		{ "vhost-dir", required_argument, NULL, 'D' },
		{ "pmd-sleep-max", required_argument, NULL, 'S' },
		{ "tso", no_argument, NULL, 'T' },
		{ "vhost-walk", required_argument, NULL, 'W' },
		{ "vhost-copy", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const lcore_opts[] = { "-l", "--lcores", "-c", NULL };
	static const char *const prefix_opts[] = { "--file-prefix", "--in-memory", NULL };
	static const char *const mem_opts[] = { "-m", "--socket-mem", "--no-huge", NULL };
	static const char *const pci_opts[] = { "-a", "--allow", "-b", "--block", "--no-pci",
						NULL };
	unsigned int pmd_cpus[VSW_MAX_PMDS], lcores[VSW_MAX_PMDS], main_cpu = 0, i;
	char *eal_argv[MAX_EAL_ARGS], lcore_arg[512], log_file[2200];
	struct vsw_switch *sw = &vsw_sw;
	struct vsw_ctl_server *srv = NULL;
	int n_pmd = 0, opt, eal_argc = 0, ret, ready_fd = -1, log_fd;
	gid_t gid = (gid_t)-1;
	struct options o;
	char err[1024];
	const char *env;
	uint64_t hz, start_tsc, now_ms;
	unsigned int lc;

	memset(&o, 0, sizeof(o));
	o.mbufs = 16384;
	o.walk_vsw = true;	/* vsw walks the guests' rings (rte: rte_vhost's functions). */
	o.copy_once = true;	/* Long frames between walked guests: one copy. */
	env = getenv("VSW_RUNDIR");
	snprintf(o.rundir, sizeof(o.rundir), "%s", env != NULL && *env ? env : "/run/vsw");
	snprintf(o.socket_mem, sizeof(o.socket_mem), "512");
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': snprintf(o.rundir, sizeof(o.rundir), "%s", optarg); break;
		case 'c': snprintf(o.ctl, sizeof(o.ctl), "%s", optarg); break;
		case 's': snprintf(o.state, sizeof(o.state), "%s", optarg); break;
		case 'p': snprintf(o.pmd_cores, sizeof(o.pmd_cores), "%s", optarg); break;
		case 'M': snprintf(o.main_core, sizeof(o.main_core), "%s", optarg); break;
		case 'm': snprintf(o.socket_mem, sizeof(o.socket_mem), "%s", optarg); break;
		case 'H': o.no_huge = true; break;
		case 'n': o.mbufs = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'l': snprintf(o.log_level, sizeof(o.log_level), "%s", optarg); break;
		case 'g': snprintf(o.group, sizeof(o.group), "%s", optarg); break;
		case 'P': snprintf(o.pidfile, sizeof(o.pidfile), "%s", optarg); break;
		case 'f': o.foreground = true; break;
		case 'x': snprintf(o.metrics, sizeof(o.metrics), "%s", optarg); break;
		case 'D': snprintf(o.vhost_dirs, sizeof(o.vhost_dirs), "%s", optarg); break;
		case 'S': o.pmd_sleep_max = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'T': o.tso = true; break;
		case 'W':
			if (pick2("--vhost-walk", "vsw", "rte", &o.walk_vsw) != 0)
				return 2;
			break;
		case 'C':
			if (pick2("--vhost-copy", "once", "twice", &o.copy_once) != 0)
				return 2;
			break;
		case 'V': printf("vswd %s\n", VSW_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.pmd_sleep_max > 10000) {
		fprintf(stderr, "vswd: --pmd-sleep-max is at most 10000 (us)\n");
		return 2;
	}
	if (o.mbufs < 1024) {
		fprintf(stderr, "vswd: --mbufs must be at least 1024\n");
		return 2;
	}
	if (o.ctl[0] == '\0')
		snprintf(o.ctl, sizeof(o.ctl), "%s/vswd.ctl", o.rundir);
	if (o.state[0] == '\0')
		snprintf(o.state, sizeof(o.state), "%s/state.json", o.rundir);
	if (o.pidfile[0] == '\0')
		snprintf(o.pidfile, sizeof(o.pidfile), "%s/vswd.pid", o.rundir);
	if (o.group[0] != '\0') {
		struct group *g = getgrnam(o.group);

		if (g == NULL) {
			fprintf(stderr, "vswd: no group named '%s'\n", o.group);
			return 2;
		}
		gid = g->gr_gid;
	}
	/* Sockets and files we create: no access for others. */
	umask(0007);
	if (mkdir_p(o.rundir) < 0) {
		fprintf(stderr, "vswd: cannot create run directory %s: %s\n", o.rundir,
			strerror(errno));
		return 1;
	}

	/* EAL command line. */
	eal_argv[eal_argc++] = argv[0];
	if (!has_arg(argc - optind, argv + optind, lcore_opts)) {
		if (o.pmd_cores[0] != '\0') {
			n_pmd = parse_cpus(o.pmd_cores, pmd_cpus, VSW_MAX_PMDS);
			if (n_pmd <= 0) {
				fprintf(stderr, "vswd: bad --pmd-cores '%s'\n", o.pmd_cores);
				return 2;
			}
		} else {
			pmd_cpus[0] = last_cpu();
			n_pmd = 1;
		}
		if (o.main_core[0] != '\0') {
			main_cpu = (unsigned int)strtoul(o.main_core, NULL, 10);
		} else {
			for (main_cpu = 0; main_cpu < CPU_SETSIZE; main_cpu++) {
				bool used = false;

				for (i = 0; i < (unsigned int)n_pmd; i++)
					used |= pmd_cpus[i] == main_cpu;
				if (!used && cpu_allowed(main_cpu))
					break;
			}
			if (main_cpu == CPU_SETSIZE)
				main_cpu = 0;
		}
		ret = snprintf(lcore_arg, sizeof(lcore_arg), "0@%u", main_cpu);
		for (i = 0; i < (unsigned int)n_pmd; i++)
			ret += snprintf(lcore_arg + ret, sizeof(lcore_arg) - (size_t)ret, ",%u@%u",
					i + 1, pmd_cpus[i]);
		eal_argv[eal_argc++] = arg("--lcores");
		eal_argv[eal_argc++] = lcore_arg;
		eal_argv[eal_argc++] = arg("--main-lcore=0");
	}
	if (!has_arg(argc - optind, argv + optind, prefix_opts))
		eal_argv[eal_argc++] = arg("--file-prefix=vsw");
	if (!has_arg(argc - optind, argv + optind, mem_opts)) {
		eal_argv[eal_argc++] = arg("-m");
		eal_argv[eal_argc++] = o.socket_mem;
		if (o.no_huge)
			eal_argv[eal_argc++] = arg("--no-huge");
		else
			eal_argv[eal_argc++] = arg("--huge-unlink");
	}
	/*
	 * Never grab the host's NICs by surprise: without an explicit PCI
	 * allow/block list, vswd does not scan the PCI bus. Physical ports
	 * are given with -- -a ADDR (docs/uplinks.md).
	 */
	if (!has_arg(argc - optind, argv + optind, pci_opts))
		eal_argv[eal_argc++] = arg("--no-pci");
	if (o.log_level[0] != '\0') {
		eal_argv[eal_argc++] = arg("--log-level");
		eal_argv[eal_argc++] = o.log_level;
	}
	for (i = (unsigned int)optind; i < (unsigned int)argc && eal_argc < MAX_EAL_ARGS - 1; i++)
		eal_argv[eal_argc++] = argv[i];
	eal_argv[eal_argc] = NULL;

	if (!o.foreground) {
		if (daemonize(&ready_fd, o.rundir) < 0) {
			fprintf(stderr, "vswd: cannot daemonize: %s\n", strerror(errno));
			return 1;
		}
		snprintf(log_file, sizeof(log_file), "%s/vswd.log", o.rundir);
		log_fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (log_fd >= 0) {
			dup2(log_fd, STDOUT_FILENO);
			dup2(log_fd, STDERR_FILENO);
			close(log_fd);
		}
	}

	wait_dying_primary(eal_argc, eal_argv);
	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "vswd: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		report_ready(&ready_fd, 1);
		return 1;
	}

	/* PMDs: every worker lcore. */
	n_pmd = 0;
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (n_pmd < VSW_MAX_PMDS)
			lcores[n_pmd++] = lc;
	}
	if (n_pmd == 0) {
		fprintf(stderr, "vswd: no PMD lcore: give --pmd-cores on another CPU than the "
			"main core\n");
		report_ready(&ready_fd, 1);
		rte_eal_cleanup();
		return 1;
	}
	memset(sw, 0, sizeof(*sw));
	sw->n_mbufs = o.mbufs;
	snprintf(sw->state_path, sizeof(sw->state_path), "%s", o.state);
	snprintf(sw->rundir, sizeof(sw->rundir), "%s", o.rundir);
	snprintf(sw->vhost_dirs, sizeof(sw->vhost_dirs), "%s", o.vhost_dirs);

	ret = vsw_dp_init(lcores, (unsigned int)n_pmd);
	if (ret < 0) {
		fprintf(stderr, "vswd: data path init failed: %s\n", strerror(-ret));
		goto fail;
	}
	if (vswd_pool_for((int)rte_socket_id()) == NULL) {
		fprintf(stderr, "vswd: cannot create the mbuf pool (%u mbufs); raise --socket-mem "
			"or lower --mbufs\n", o.mbufs);
		goto fail;
	}
	atomic_store(&vsw_pmd_sleep_max_us, o.pmd_sleep_max);
	/* Without the partial-sum flag a TSO frame could not be carried (csum.c). */
	vsw_port_vhost_tso = o.tso && vsw_csum_partial != 0;
	vsw_port_vhost_hook = vsw_dp_set_vid;
	vsw_port_vhost_pause = vsw_dp_pause_vid;
	vsw_port_vhost_walked = vsw_dp_vid_walked;
	vsw_port_vhost_rarp = vsw_dp_rarp_vid;
	vsw_vdev_walk = o.walk_vsw;
	if (o.walk_vsw && o.copy_once && vsw_lazy_init() != 0)
		RTE_LOG(WARNING, USER1, "vswd: no mbuf field for copy-once; frames are copied "
			"twice\n");
	if (o.tso && !vsw_port_vhost_tso)
		RTE_LOG(WARNING, USER1, "vswd: --tso ignored: no mbuf flag for partial checksums\n");
	ret = vsw_dp_start();
	if (ret < 0)
		goto fail;

	hz = rte_get_tsc_hz();
	start_tsc = rte_get_tsc_cycles();
	ret = vswd_restore(sw, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "vswd: %s\n", err);
		goto fail_stop;
	}
	vswd_fdb_restore(sw);
	srv = vsw_ctl_server_create(o.ctl, gid, vswd_cmds, vswd_n_cmds, sw, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "vswd: %s\n", err);
		goto fail_stop;
	}
	vswd_telemetry_init(o.ctl);
	if (vsw_ctl_server_watch(srv, vsw_dp_main_wake_fd) < 0)
		RTE_LOG(WARNING, USER1, "vswd: cannot watch the PMD wake fd: the control tick "
			"may lag 50 ms behind an idle PMD's first frames\n");
	if (o.metrics[0] != '\0' && vswd_metrics_init(o.metrics, err, sizeof(err)) < 0) {
		fprintf(stderr, "vswd: %s\n", err);
		vsw_ctl_server_destroy(srv);
		goto fail_stop;
	}
	write_pidfile(o.pidfile);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	RTE_LOG(NOTICE, USER1, "vswd %s ready: control socket %s, state %s, %d PMD(s)\n",
		VSW_VERSION, o.ctl, o.state, n_pmd);
	report_ready(&ready_fd, 0);

	while (quit_signal == 0) {
		now_ms = (rte_get_tsc_cycles() - start_tsc) * 1000 / hz;
		atomic_store_explicit(&vsw_clock_sec, (uint32_t)(now_ms / 1000),
				      memory_order_relaxed);
		/*
		 * A 2 ms tick drains learn requests and watches links; while
		 * every PMD sleeps until a guest kicks there is nothing to
		 * drain, so tick every 50 ms (a kick wakes this loop too).
		 */
		vsw_ctl_server_poll(srv, atomic_load_explicit(&vsw_dp_kick_sleepers,
							      memory_order_relaxed) ==
					 vsw_n_pmds ? VSWD_IDLE_TICK_MS : 2);
		vswd_metrics_poll();
		vswd_tick(sw, now_ms);
	}
	RTE_LOG(NOTICE, USER1, "vswd: signal %d, stopping\n", (int)quit_signal);
	vsw_ctl_server_destroy(srv);
	vswd_metrics_close();
	vsw_dp_stop();
	vswd_fdb_save(sw);
	vswd_shutdown(sw);
	unlink(o.pidfile);
	rte_eal_cleanup();
	free_args();
	return 0;

fail_stop:
	vsw_dp_stop();
	vswd_shutdown(sw);
fail:
	report_ready(&ready_fd, 1);
	rte_eal_cleanup();
	free_args();
	return 1;
}
