/*
 * utp_reset.c - a uTP connection attempt on a node that refuses uTP gets
 * a reset at once, so the other client falls back to TCP at once.
 *
 * Part of node/.  In a private swarm (loopback, LAN) weightsync turns uTP
 * off: on this kind of machine it is about 25x slower than TCP
 * (docs/datapath.md).  Clients such as qBittorrent try uTP first by
 * default.  With incoming uTP off, libtorrent 2.0.8 drops the SYN without
 * an answer (utp_socket_manager::incoming_packet returns early), so the
 * client waits for its uTP connect timeout (3 s in libtorrent) before it
 * tries TCP: measured with qBittorrent 4.5.2, the first byte came 5-7 s
 * after the torrent was added.  An ST_RESET is what BEP 29 answers for a
 * connection that does not exist, and libtorrent (peer_connection::
 * connect_failed) takes a failed uTP connect as "no uTP here" and
 * reconnects over TCP immediately.
 *
 * libtorrent reads its UDP socket (DHT and uTP share it) with recvfrom()
 * through asio, out of reach of its API, so the executable interposes
 * recvfrom(), as node/nodelay.c does for connect() and accept(): while
 * refusing is on, a datagram that is a uTP SYN (version 1, type ST_SYN,
 * at least the 20-byte header) read from a datagram socket is answered
 * from the same socket and dropped, and the read goes on with the next
 * datagram (libtorrent's socket is non-blocking: EAGAIN when none is
 * left).  Nothing else on that socket begins with the SYN's first byte:
 * DHT messages are bencoded dictionaries ('d'), UDP tracker replies begin
 * with a zero byte.  Everything else passes untouched.
 */
#include "node/utp_reset.h"
#include "node/interpose.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define UTP_HEADER 20
#define UTP_SYN 0x41    /* type ST_SYN (4) << 4 | version 1 */
#define UTP_RESET 0x31  /* type ST_RESET (3) << 4 | version 1 */

typedef ssize_t (*recvfrom_fn)(int, void *, size_t, int, struct sockaddr *, socklen_t *);

static int refusing;

void ws_utp_reset_refused(int on)
{
	__atomic_store_n(&refusing, on != 0, __ATOMIC_RELEASE);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/*
 * The SYN's connection id is the id its sender receives on, and its
 * seq_nr the number the reset acknowledges: libtorrent matches a reply to
 * its socket by that id and the address, and takes a reset whose ack_nr
 * is the SYN's (utp_socket_impl::incoming_packet).
 */
static void send_reset(int fd, const uint8_t *syn, const struct sockaddr *to,
		       socklen_t tolen)
{
	uint8_t r[UTP_HEADER];
	struct timespec ts;
	int saved = errno;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	memset(r, 0, sizeof(r));
	r[0] = UTP_RESET;
	memcpy(r + 2, syn + 2, 2);      /* connection_id */
	put32(r + 4, (uint32_t)(ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
	memcpy(r + 18, syn + 16, 2);    /* ack_nr = the SYN's seq_nr */
	sendto(fd, r, sizeof(r), MSG_DONTWAIT | MSG_NOSIGNAL, to, tolen);
	errno = saved;
}

static int is_datagram(int fd)
{
	int type = 0, saved = errno;
	socklen_t len = sizeof(type);
	int ok = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM;

	errno = saved;
	return ok;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
		 socklen_t *fromlen)
{
	static void *real;
	recvfrom_fn f = (recvfrom_fn)ws_next_symbol(&real, "recvfrom");

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	for (;;) {
		struct sockaddr_storage own;
		socklen_t ownlen = sizeof(own);
		struct sockaddr *src = from ? from : (struct sockaddr *)&own;
		socklen_t *srclen = from ? fromlen : &ownlen;
		socklen_t given = srclen ? *srclen : 0;
		ssize_t n = f(fd, buf, len, flags, src, srclen);
		const uint8_t *p = buf;

		if (n < UTP_HEADER || p[0] != UTP_SYN || (flags & MSG_PEEK) ||
		    !__atomic_load_n(&refusing, __ATOMIC_ACQUIRE) || !srclen ||
		    *srclen == 0 || *srclen > given || !is_datagram(fd))
			return n;
		send_reset(fd, p, src, *srclen);
		*srclen = given;
	}
}
