/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vsw_util.h"
#include "vsw_state.h"


int
vsw_state_load(const char *path, json_t **root, char *err, size_t len)
{
	json_error_t jerr;
	const char *fmt;
	json_t *r, *v;
	struct stat st;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return vsw_errf(err, len, -ENOENT, "state file %s does not exist", path);
		return vsw_errf(err, len, -errno, "cannot read state file %s: %s", path,
			    strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return vsw_errf(err, len, -EINVAL, "state file %s is not a regular file", path);
	if (st.st_size == 0)
		return vsw_errf(err, len, -EINVAL, "state file %s is empty (truncated?)", path);
	if (access(path, R_OK) != 0)
		return vsw_errf(err, len, -errno, "cannot read state file %s: %s", path,
			    strerror(errno));
	r = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (r == NULL)
		return vsw_errf(err, len, -EINVAL, "state file %s is corrupt: line %d column %d: %s",
			    path, jerr.line, jerr.column, jerr.text);
	if (!json_is_object(r)) {
		json_decref(r);
		return vsw_errf(err, len, -EINVAL, "state file %s: top level is not an object", path);
	}
	fmt = json_string_value(json_object_get(r, "format"));
	if (fmt == NULL || strcmp(fmt, "vsw-state") != 0) {
		json_decref(r);
		return vsw_errf(err, len, -EINVAL, "state file %s: not a vsw state file (no "
			    "\"format\": \"vsw-state\")", path);
	}
	v = json_object_get(r, "version");
	if (!json_is_integer(v) || json_integer_value(v) != VSW_STATE_VERSION) {
		json_decref(r);
		return vsw_errf(err, len, -EINVAL, "state file %s: unsupported version (want %d)",
			    path, VSW_STATE_VERSION);
	}
	if (!json_is_array(json_object_get(r, "bridges"))) {
		json_decref(r);
		return vsw_errf(err, len, -EINVAL, "state file %s: \"bridges\" is not a list", path);
	}
	*root = r;
	return 0;
}

int
vsw_state_save(const char *path, const json_t *root, char *err, size_t len)
{
	char tmp[4096], dir[4096];
	char *text;
	size_t n, off = 0;
	ssize_t w;
	int fd, dfd, ret = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return vsw_errf(err, len, -ENAMETOOLONG, "state path too long");
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		return vsw_errf(err, len, -ENOMEM, "cannot serialize state");
	n = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		ret = vsw_errf(err, len, -errno, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < n) {
		w = write(fd, text + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ret = vsw_errf(err, len, -errno, "write %s: %s", tmp, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (ret == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
		ret = vsw_errf(err, len, -errno, "fsync %s: %s", tmp, strerror(errno));
	close(fd);
	if (ret == 0 && rename(tmp, path) != 0)
		ret = vsw_errf(err, len, -errno, "rename %s -> %s: %s", tmp, path, strerror(errno));
	if (ret != 0) {
		unlink(tmp);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(text);
	return ret;
}
