/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server: one epoll loop on the control thread.
 *
 * Each client has an input buffer (up to VSW_CTL_MAX_LINE) and an output
 * buffer; sockets are non-blocking, so a client that sends half a line or
 * never reads its replies cannot stall the others. Over-long lines get an
 * error reply and the connection is closed. Peers are checked with
 * SO_PEERCRED: root, the daemon's own uid, or the socket's group (primary or,
 * with SO_PEERGROUPS, supplementary).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsw_util.h"
#include "vsw_ctl.h"

struct client {
	int fd;			/* -1 when free. */
	char *in;		/* Bytes received, not yet a full line. */
	size_t in_len;
	size_t in_cap;
	char *out;		/* Bytes to send. */
	size_t out_len;
	size_t out_off;
	bool closing;		/* Close once out is sent. */
};

struct vsw_ctl_server {
	int lfd;
	int epfd;
	int watch_fd;		/* vsw_ctl_server_watch(), or -1. */
	gid_t gid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct vsw_cmd *table;
	size_t n;
	void *ctx;
	unsigned int n_clients;
	struct client clients[VSW_CTL_MAX_CLIENTS];
};


static void
client_close(struct vsw_ctl_server *s, struct client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	s->n_clients--;
}

static void
client_queue(struct client *c, const char *data, size_t len)
{
	char *p;

	if (c->out_off == c->out_len) {
		c->out_off = 0;
		c->out_len = 0;
	}
	p = realloc(c->out, c->out_len + len);
	if (p == NULL) {
		c->closing = true;
		return;
	}
	c->out = p;
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

/* Send what we can. @return -1 when the client must go. */
static int
client_flush(struct vsw_ctl_server *s, struct client *c)
{
	struct epoll_event ev;
	ssize_t w;

	while (c->out_off < c->out_len) {
		w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->out_off += (size_t)w;
	}
	memset(&ev, 0, sizeof(ev));
	ev.data.ptr = c;
	ev.events = EPOLLIN | (c->out_off < c->out_len ? EPOLLOUT : 0);
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	if (c->out_off == c->out_len && c->closing)
		return -1;
	return 0;
}

static void
client_error(struct client *c, const char *msg, int errnum)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line),
		     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,\"message\":\"%s\","
		     "\"data\":{\"errno\":%d}}}\n", VSW_RPC_INVALID_REQUEST, msg, errnum);
	client_queue(c, line, (size_t)n);
	c->closing = true;
}

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59	/* Linux >= 4.13 */
#endif

/* Is gid among the peer's supplementary groups (as they were at connect)? */
static bool
peer_in_groups(int fd, gid_t gid)
{
	gid_t some[64], *groups = some;
	socklen_t len = sizeof(some);
	bool found = false;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
		if (errno != ERANGE || len == 0)
			return false;
		/* more than 64 groups: len now says how much room they need */
		groups = malloc(len);
		if (groups == NULL)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
			free(groups);
			return false;
		}
	}
	for (i = 0; i < len / sizeof(gid_t); i++)
		found |= groups[i] == gid;
	if (groups != some)
		free(groups);
	return found;
}

/* Root, vswd's own user, or a member of the socket's group (primary or
 * supplementary: a user added to the group with usermod -aG). */
static bool
peer_allowed(const struct vsw_ctl_server *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (s->gid == (gid_t)-1)
		return false;
	return cred.gid == s->gid || peer_in_groups(fd, s->gid);
}

static void
do_accept(struct vsw_ctl_server *s)
{
	struct epoll_event ev;
	struct client *c = NULL;
	unsigned int i;
	int fd;

	for (;;) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < VSW_CTL_MAX_CLIENTS; i++) {
			if (s->clients[i].fd < 0) {
				c = &s->clients[i];
				break;
			}
		}
		if (c == NULL) {
			static const char busy[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
				"{\"code\":-32000,\"message\":\"too many control clients\","
				"\"data\":{\"errno\":16}}}\n";

			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		s->n_clients++;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			c->fd = -1;
			s->n_clients--;
			continue;
		}
		if (!peer_allowed(s, fd)) {
			client_error(c, "permission denied", EACCES);
			if (client_flush(s, c) < 0)
				client_close(s, c);
		}
		c = NULL;
	}
}

/* Handle every complete line in the input buffer. */
static void
process_lines(struct vsw_ctl_server *s, struct client *c)
{
	size_t start = 0, len;
	char *nl, *out;

	while (!c->closing && start < c->in_len) {
		nl = memchr(c->in + start, '\n', c->in_len - start);
		if (nl == NULL)
			break;
		len = (size_t)(nl - (c->in + start));
		if (len > VSW_CTL_MAX_LINE) {
			client_error(c, "request line longer than 1 MiB", EMSGSIZE);
			c->in_len = 0;
			return;
		}
		if (len > 0 && c->in[start + len - 1] == '\r')
			len--;
		if (len > 0) {
			out = vsw_ctl_handle(s->table, s->n, s->ctx, c->in + start, len);
			if (out != NULL) {
				client_queue(c, out, strlen(out));
				free(out);
			}
		}
		start = (size_t)(nl - c->in) + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
}

static int
client_read(struct vsw_ctl_server *s, struct client *c)
{
	char *p;
	ssize_t r;

	for (;;) {
		if (c->in_cap - c->in_len < 4096) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 8192;

			if (cap > VSW_CTL_MAX_LINE + 8192)
				cap = VSW_CTL_MAX_LINE + 8192;
			if (cap <= c->in_len) {
				client_error(c, "request line longer than 1 MiB", EMSGSIZE);
				c->in_len = 0;
				return 0;
			}
			p = realloc(c->in, cap);
			if (p == NULL)
				return -1;
			c->in = p;
			c->in_cap = cap;
		}
		r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (r == 0)
			return c->out_off < c->out_len ? (c->closing = true, 0) : -1;
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->in_len += (size_t)r;
		process_lines(s, c);
		if (c->closing)
			return 0;
		if (c->in_len > VSW_CTL_MAX_LINE) {
			client_error(c, "request line longer than 1 MiB", EMSGSIZE);
			c->in_len = 0;
			return 0;
		}
	}
}

struct vsw_ctl_server *
vsw_ctl_server_create(const char *path, gid_t gid, const struct vsw_cmd *table, size_t n,
		      void *ctx, char *err, size_t len)
{
	struct vsw_ctl_server *s;
	struct sockaddr_un sa;
	struct epoll_event ev;
	struct stat st;
	unsigned int i;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		vsw_errf(err, len, -ENAMETOOLONG, "control socket path too long (%zu bytes, max %zu)",
		     strlen(path), sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			vsw_errf(err, len, -EEXIST, "%s exists and is not a socket", path);
			return NULL;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			vsw_errf(err, len, -EADDRINUSE, "another vswd is serving %s", path);
			return NULL;
		}
		if (fd >= 0)
			close(fd);
		unlink(path);
	}

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		vsw_errf(err, len, -ENOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < VSW_CTL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->epfd = -1;
	s->gid = gid;
	s->table = table;
	s->n = n;
	s->ctx = ctx;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		vsw_errf(err, len, -errno, "socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		vsw_errf(err, len, -errno, "cannot bind %s: %s", path, strerror(errno));
		goto fail;
	}
	if (chmod(path, 0660) != 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0)) {
		vsw_errf(err, len, -errno, "cannot set mode/group of %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	if (listen(s->lfd, 128) != 0) {
		vsw_errf(err, len, -errno, "listen %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	s->watch_fd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		vsw_errf(err, len, -errno, "epoll_create1: %s", strerror(errno));
		goto fail_unlink;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) != 0) {
		vsw_errf(err, len, -errno, "epoll_ctl: %s", strerror(errno));
		goto fail_unlink;
	}
	return s;

fail_unlink:
	unlink(path);
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
	return NULL;
}

/* epoll data of a watched eventfd (the listener's is NULL, a client's its struct). */
static int watched_tag;

int
vsw_ctl_server_watch(struct vsw_ctl_server *s, int fd)
{
	struct epoll_event ev;

	ev.events = EPOLLIN;
	ev.data.u64 = 0;
	ev.data.ptr = &watched_tag;
	s->watch_fd = fd;
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int
vsw_ctl_server_poll(struct vsw_ctl_server *s, int timeout_ms)
{
	struct epoll_event ev[16];
	struct client *c;
	int n, i;

	n = epoll_wait(s->epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		if (ev[i].data.ptr == &watched_tag) {
			uint64_t v;

			if (read(s->watch_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
			continue;
		}
		c = ev[i].data.ptr;
		if (c == NULL) {
			do_accept(s);
			continue;
		}
		if (c->fd < 0)
			continue;
		if ((ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->closing &&
		    client_read(s, c) < 0) {
			client_close(s, c);
			continue;
		}
		if (client_flush(s, c) < 0)
			client_close(s, c);
		else if (c->closing && (ev[i].events & (EPOLLHUP | EPOLLERR)))
			client_close(s, c);
	}
	return 0;
}

void
vsw_ctl_server_destroy(struct vsw_ctl_server *s)
{
	unsigned int i;

	if (s == NULL)
		return;
	for (i = 0; i < VSW_CTL_MAX_CLIENTS; i++)
		client_close(s, &s->clients[i]);
	close(s->lfd);
	close(s->epfd);
	unlink(s->path);
	free(s);
}

unsigned int
vsw_ctl_server_clients(const struct vsw_ctl_server *s)
{
	return s->n_clients;
}
