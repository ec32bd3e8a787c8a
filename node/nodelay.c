/*
 * nodelay.c - TCP_NODELAY on every TCP connection the process makes or
 * accepts.
 *
 * Part of node/.  libtorrent 2.0.8 never turns Nagle's algorithm off on
 * its peer sockets (there is no setting for it).  A peer that is sent a
 * request for two blocks answers with one write that is shorter than a
 * loopback segment; Nagle holds it until the previous answer is
 * acknowledged, and the requesting side acknowledges late (delayed ACK,
 * 40 ms on Linux).  Measured on a 1 MiB fetch over loopback: one 32 KiB
 * answer per 43 ms, 1.3 s for the megabyte; with TCP_NODELAY on the
 * seeder, 0.3-0.5 s (docs/datapath.md).
 *
 * The connections are made inside libtorrent (through asio), out of
 * reach of its API, so this file interposes the C library's connect(),
 * accept() and accept4(): the executable's definitions come before
 * libc's for every shared library it loads.  Each calls the next
 * definition (libc's, or a sanitizer's) and, for an IPv4 or IPv6 stream
 * socket, sets TCP_NODELAY; errno is what the real call left.  Datagram
 * sockets (uTP, the DHT) and Unix sockets are left alone.
 *
 * Linked in only when something refers to ws_nodelay_linked(), which
 * node/lt.cpp does when it starts a session.
 */
#include "node/nodelay.h"
#include "node/interpose.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

int ws_nodelay_linked(void)
{
	return 1;
}

/* Set TCP_NODELAY on fd if it is an IPv4 or IPv6 stream socket. */
static void no_delay(int fd)
{
	int saved = errno, type = 0, one = 1;
	socklen_t tlen = sizeof(type);
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);

	if (fd >= 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM &&
	    getsockname(fd, (struct sockaddr *)&ss, &slen) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	errno = saved;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	static void *real;
	connect_fn f = (connect_fn)ws_next_symbol(&real, "connect");

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	/* before connecting: the handshake's first data goes out at once */
	if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6))
		no_delay(fd);
	return f(fd, addr, len);
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	static void *real;
	accept_fn f = (accept_fn)ws_next_symbol(&real, "accept");
	int c;

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	c = f(fd, addr, len);
	no_delay(c);
	return c;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static void *real;
	accept4_fn f = (accept4_fn)ws_next_symbol(&real, "accept4");
	int c;

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	c = f(fd, addr, len, flags);
	no_delay(c);
	return c;
}
