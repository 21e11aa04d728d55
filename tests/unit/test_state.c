/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the state file (lib/state): atomic save, and load of
 * good, missing, empty, truncated, corrupt and foreign files. Each test
 * works in its own temporary directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vsw_state.h"

struct tdir {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];	/* dir/state.json */
};

static int
tdir_setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));
	const char *tmp = getenv("TMPDIR");

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "%s/vswunit-state-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/state.json", t->dir);
	*state = t;
	return 0;
}

static int
tdir_teardown(void **state)
{
	struct tdir *t = *state;
	char p[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	chmod(t->dir, 0700);
	d = opendir(t->dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", t->dir, de->d_name);
			if (unlink(p) != 0)
				rmdir(p);
		}
		closedir(d);
	}
	rmdir(t->dir);
	free(t);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static unsigned int
dir_entries(const char *dir)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static json_t *
sample(void)
{
	json_error_t jerr;
	json_t *r;

	r = json_loads("{\"format\": \"vsw-state\", \"version\": 1, \"bridges\": ["
		       " {\"name\": \"br0\", \"aging\": 300, \"max_macs\": 65536,"
		       "  \"port_max_macs\": 0,"
		       "  \"ports\": [{\"name\": \"vm1\", \"type\": \"vhost-user\","
		       "              \"path\": \"/run/vsw/vm1.sock\", \"n_rxq\": 2},"
		       "             {\"name\": \"p0\", \"type\": \"dpdk\","
		       "              \"devargs\": \"net_pcap0,rx_pcap=/tmp/a b.pcap\"}],"
		       "  \"static_macs\": [{\"mac\": \"02:00:00:00:00:01\", \"vlan\": 0,"
		       "                   \"port\": \"vm1\"}]},"
		       " {\"name\": \"br\\u00e9\", \"aging\": 0, \"ports\": [], \"static_macs\": []}"
		       "]}", 0, &jerr);
	assert_non_null(r);
	return r;
}

/* Load must fail with -EINVAL, name the file, and leave *root alone. */
static void
expect_einval(const struct tdir *t, const char *text, const char *what)
{
	json_t *root = (json_t *)(uintptr_t)0x1;
	char err[512] = "";

	write_file(t->path, text);
	if (vsw_state_load(t->path, &root, err, sizeof(err)) != -EINVAL)
		fail_msg("%s: not -EINVAL", what);
	assert_ptr_equal(root, (json_t *)(uintptr_t)0x1);
	if (strstr(err, t->path) == NULL)
		fail_msg("%s: message does not name the file: '%s'", what, err);
	assert_null(strchr(err, '\n'));
}

static void
round_trip(void **state)
{
	struct tdir *t = *state;
	json_t *in = sample(), *out = NULL;
	char err[512] = "", tmp[PATH_MAX + 64];
	struct stat st;

	assert_int_equal(vsw_state_save(t->path, in, err, sizeof(err)), 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_true(st.st_size > 0);
	/* Not world-readable: it holds socket paths and device arguments. */
	assert_int_equal(st.st_mode & 0007, 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", t->path);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dir_entries(t->dir), 1);

	assert_int_equal(vsw_state_load(t->path, &out, err, sizeof(err)), 0);
	assert_non_null(out);
	assert_true(json_equal(in, out));
	json_decref(out);

	/* Saving again replaces the file, still without leftovers. */
	json_object_set_new(json_array_get(json_object_get(in, "bridges"), 0), "aging",
			    json_integer(10));
	assert_int_equal(vsw_state_save(t->path, in, err, sizeof(err)), 0);
	assert_int_equal(dir_entries(t->dir), 1);
	out = NULL;
	assert_int_equal(vsw_state_load(t->path, &out, err, sizeof(err)), 0);
	assert_true(json_equal(in, out));
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(json_object_get(out, "bridges"), 0), "aging")), 10);
	json_decref(out);

	/* A stale tmp file from a crash is overwritten, not appended to. */
	write_file(tmp, "garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage"
		   " garbage garbage garbage garbage garbage garbage garbage garbage");
	assert_int_equal(vsw_state_save(t->path, in, err, sizeof(err)), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	out = NULL;
	assert_int_equal(vsw_state_load(t->path, &out, err, sizeof(err)), 0);
	assert_true(json_equal(in, out));
	json_decref(out);
	json_decref(in);
}

static void
minimal_file(void **state)
{
	struct tdir *t = *state;
	char err[256] = "";
	json_t *out = NULL;

	write_file(t->path, "{\"format\":\"vsw-state\",\"version\":1,\"bridges\":[]}");
	assert_int_equal(vsw_state_load(t->path, &out, err, sizeof(err)), 0);
	assert_non_null(out);
	assert_int_equal(json_array_size(json_object_get(out, "bridges")), 0);
	json_decref(out);
}

static void
missing_file(void **state)
{
	struct tdir *t = *state;
	char err[512] = "", p[PATH_MAX + 64];
	json_t *out = NULL;

	assert_int_equal(vsw_state_load(t->path, &out, err, sizeof(err)), -ENOENT);
	assert_null(out);
	assert_non_null(strstr(err, t->path));
	/* A missing directory is a missing file too. */
	snprintf(p, sizeof(p), "%s/nodir/state.json", t->dir);
	assert_int_equal(vsw_state_load(p, &out, err, sizeof(err)), -ENOENT);
	assert_null(out);
}

static void
bad_files(void **state)
{
	struct tdir *t = *state;
	static const char good[] = "{\"format\": \"vsw-state\", \"version\": 1, \"bridges\": "
				   "[{\"name\": \"br0\", \"ports\": []}]}";
	char trunc[sizeof(good)];
	size_t n;

	expect_einval(t, "", "empty");
	expect_einval(t, "\n", "newline only");
	expect_einval(t, "   \n\t", "blanks only");
	/* Every truncation of a good file is rejected. */
	for (n = 1; n < sizeof(good) - 1; n++) {
		memcpy(trunc, good, n);
		trunc[n] = '\0';
		expect_einval(t, trunc, "truncated");
	}
	expect_einval(t, "{\"format\": \"vsw-state\", \"version\": 1, \"bridges\": []} x",
		      "trailing garbage");
	expect_einval(t, "\x7f" "ELF\x02\x01\x01", "binary");
	expect_einval(t, "{\"format\": \"vsw-state\", \"format\": \"vsw-state\", "
		      "\"version\": 1, \"bridges\": []}", "duplicate key");
	expect_einval(t, "[]", "array");
	expect_einval(t, "\"vsw-state\"", "string");
	expect_einval(t, "1", "number");
	expect_einval(t, "null", "null");
	expect_einval(t, "{}", "empty object");
	expect_einval(t, "{\"version\": 1, \"bridges\": []}", "no format");
	expect_einval(t, "{\"format\": \"ovs-state\", \"version\": 1, \"bridges\": []}",
		      "wrong format");
	expect_einval(t, "{\"format\": 1, \"version\": 1, \"bridges\": []}", "format not string");
	expect_einval(t, "{\"format\": \"vsw-state\", \"bridges\": []}", "no version");
	expect_einval(t, "{\"format\": \"vsw-state\", \"version\": 2, \"bridges\": []}",
		      "version 2");
	expect_einval(t, "{\"format\": \"vsw-state\", \"version\": 0, \"bridges\": []}",
		      "version 0");
	expect_einval(t, "{\"format\": \"vsw-state\", \"version\": \"1\", \"bridges\": []}",
		      "version string");
	expect_einval(t, "{\"format\": \"vsw-state\", \"version\": 1.0, \"bridges\": []}",
		      "version real");
	expect_einval(t, "{\"format\": \"vsw-state\", \"version\": 1}", "no bridges");
	expect_einval(t, "{\"format\": \"vsw-state\", \"version\": 1, \"bridges\": {}}",
		      "bridges object");
}

static void
not_a_file(void **state)
{
	struct tdir *t = *state;
	json_t *out = NULL;
	char err[512] = "";

	assert_int_equal(mkdir(t->path, 0700), 0);
	assert_int_equal(vsw_state_load(t->path, &out, err, sizeof(err)), -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err, t->path));
	assert_int_equal(vsw_state_load("/dev/null", &out, err, sizeof(err)), -EINVAL);
	assert_null(out);
}

static void
save_missing_dir(void **state)
{
	struct tdir *t = *state;
	char p[PATH_MAX + 64], err[512] = "";
	json_t *in = sample();
	int ret;

	snprintf(p, sizeof(p), "%s/nodir/state.json", t->dir);
	ret = vsw_state_save(p, in, err, sizeof(err));
	assert_int_equal(ret, -ENOENT);
	assert_true(strlen(err) > 0);
	assert_non_null(strstr(err, "nodir"));
	assert_int_equal(dir_entries(t->dir), 0);
	json_decref(in);
}

static void
save_failure_keeps_old_file(void **state)
{
	struct tdir *t = *state;
	char err[512] = "", sub[PATH_MAX + 16], target[PATH_MAX + 64];
	json_t *in = sample(), *out = NULL;

	/* Target is a non-empty directory: rename fails, tmp is removed. */
	snprintf(sub, sizeof(sub), "%s/d", t->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(target, sizeof(target), "%s/d/x", t->dir);
	write_file(target, "x");
	err[0] = '\0';
	assert_true(vsw_state_save(sub, in, err, sizeof(err)) < 0);
	assert_true(strlen(err) > 0);
	snprintf(target, sizeof(target), "%s/d.tmp", t->dir);
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(dir_entries(t->dir), 1);
	snprintf(target, sizeof(target), "%s/d/x", t->dir);
	unlink(target);

	/* A good file survives a failed save. */
	assert_int_equal(vsw_state_save(t->path, in, err, sizeof(err)), 0);
	if (geteuid() != 0) {
		/* Read-only directory: cannot create the tmp file. */
		assert_int_equal(chmod(t->dir, 0500), 0);
		json_object_set_new(in, "version", json_integer(1));
		json_array_clear(json_object_get(in, "bridges"));
		assert_int_equal(vsw_state_save(t->path, in, err, sizeof(err)), -EACCES);
		assert_int_equal(chmod(t->dir, 0700), 0);
		assert_int_equal(vsw_state_load(t->path, &out, err, sizeof(err)), 0);
		assert_int_equal(json_array_size(json_object_get(out, "bridges")), 2);
		json_decref(out);
	}
	json_decref(in);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, tdir_setup, tdir_teardown),
		cmocka_unit_test_setup_teardown(minimal_file, tdir_setup, tdir_teardown),
		cmocka_unit_test_setup_teardown(missing_file, tdir_setup, tdir_teardown),
		cmocka_unit_test_setup_teardown(bad_files, tdir_setup, tdir_teardown),
		cmocka_unit_test_setup_teardown(not_a_file, tdir_setup, tdir_teardown),
		cmocka_unit_test_setup_teardown(save_missing_dir, tdir_setup, tdir_teardown),
		cmocka_unit_test_setup_teardown(save_failure_keeps_old_file, tdir_setup,
						tdir_teardown),
	};

	/* ./test_x 'pattern': run only the matching tests. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
