/* control.c - the node's control socket and its framing (see control.h) */
#include "control.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int sock_addr(const char *home, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if ((size_t)snprintf(a->sun_path, sizeof(a->sun_path), "%s/" WS_CTL_SOCKET_FILE,
			     home) >= sizeof(a->sun_path))
		return WS_ETOOBIG;
	return 0;
}

int ws_ctl_listen(const char *home, int *fd, char **msg)
{
	struct sockaddr_un a;
	mode_t old;
	int s, ret;

	if (sock_addr(home, &a))
		return ws_seterr(msg, WS_ETOOBIG, "the home '%s' is too long a path for the "
				 "control socket", home);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return ws_seterr(msg, -errno, "cannot make the control socket: %s",
				 strerror(errno));
	unlink(a.sun_path);
	/* created 0600: no moment in which another user could connect (the
	 * peer check would refuse them anyway); the node is single-threaded
	 * here, so the umask change is seen by nobody else */
	old = umask(0177);
	ret = bind(s, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (ret < 0 || chmod(a.sun_path, 0600) < 0 || listen(s, 16) < 0) {
		ret = ws_seterr(msg, -errno, "cannot listen on '%s': %s", a.sun_path,
				strerror(errno));
		close(s);
		return ret;
	}
	*fd = s;
	return 0;
}

int ws_ctl_connect(const char *home, int *fd)
{
	struct sockaddr_un a;
	int s, e;

	if (sock_addr(home, &a))
		return WS_ENOTFOUND;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		e = errno;
		close(s);
		return e == ENOENT || e == ECONNREFUSED ? WS_ENOTFOUND : -e;
	}
	*fd = s;
	return 0;
}

int ws_ctl_peer_allowed(int fd, const char *home)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct stat sb;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || stat(home, &sb) < 0)
		return 0;
	return cr.uid == sb.st_uid;
}

char *ws_ctl_encode(const json_t *msg, size_t *len)
{
	char *text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER), *line;
	size_t n;

	if (!text)
		return NULL;
	n = strlen(text);
	/* compact JSON has no raw newline: strings escape it */
	if (n + 1 > WS_CTL_LINE_MAX) {
		free(text);
		return NULL;
	}
	line = xmalloc(n + 2);
	memcpy(line, text, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	free(text);
	*len = n + 1;
	return line;
}

int ws_ctl_send(int fd, const json_t *msg)
{
	size_t len, off = 0;
	char *line = ws_ctl_encode(msg, &len);
	int ret = 0;

	if (!line)
		return -EINVAL;
	while (off < len) {
		ssize_t w = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			break;
		}
		off += (size_t)w;
	}
	free(line);
	return ret;
}

int ws_ctl_take(struct ws_ctl_reader *r, json_t **out)
{
	char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
	size_t n;
	json_t *j;

	if (!nl)
		return r->len > WS_CTL_LINE_MAX ? WS_ETOOBIG : WS_ENOTFOUND;
	n = (size_t)(nl - r->buf);
	j = json_loadb(r->buf, n, JSON_REJECT_DUPLICATES, NULL);
	memmove(r->buf, nl + 1, r->len - n - 1);
	r->len -= n + 1;
	if (!json_is_object(j)) {
		json_decref(j);
		return WS_EFORMAT;
	}
	*out = j;
	return 0;
}

long ws_ctl_fill(struct ws_ctl_reader *r, int fd)
{
	ssize_t got;

	if (r->cap - r->len < 4096) {
		r->cap = r->cap ? 2 * r->cap : 8192;
		r->buf = xrealloc(r->buf, r->cap);
	}
	do
		got = read(fd, r->buf + r->len, r->cap - r->len);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	r->len += (size_t)got;
	return (long)got;
}

int ws_ctl_recv(int fd, struct ws_ctl_reader *r, int timeout_ms, json_t **out)
{
	for (;;) {
		int ret = ws_ctl_take(r, out);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long got;

		if (ret != WS_ENOTFOUND)
			return ret;
		ret = poll(&p, 1, timeout_ms);
		if (ret < 0 && errno == EINTR)
			return WS_EINTERRUPTED;
		if (ret < 0)
			return -errno;
		if (ret == 0)
			return WS_ETIMEOUT;
		got = ws_ctl_fill(r, fd);
		if (got == 0)
			return -EPIPE;
		if (got < 0 && got != -EINTR)
			return (int)got;
	}
}

void ws_ctl_reader_release(struct ws_ctl_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
}
