/*
 * control.h - the node's control socket: where it is, who may use it, and
 * how messages are framed (docs/control.md).
 *
 * Part of node/.  The socket is HOME/node.sock (AF_UNIX, SOCK_STREAM),
 * mode 0600; the node answers only peers whose uid (SO_PEERCRED) owns the
 * home.  A message is one JSON object on one line (no newline inside,
 * '\n' after it), at most WS_CTL_LINE_MAX bytes.  A client sends one
 * request and reads lines until one has "ok" (the reply; progress lines
 * before it have "event").  What the verbs are and what the node does with
 * them is node/server.c's business; this file knows only the transport,
 * for both ends.
 */
#ifndef WS_NODE_CONTROL_H
#define WS_NODE_CONTROL_H

#include <stddef.h>

#include <jansson.h>

#define WS_CTL_SOCKET_FILE "node.sock"
#define WS_CTL_LINE_MAX (96u << 20)  /* a 64 MiB .torrent in base64 fits */

/*
 * ws_ctl_listen - bind HOME/node.sock (replacing a stale one: the caller
 * holds node.lock, so no other node owns it), mode 0600, listening,
 * non-blocking, close-on-exec.  *fd on success.  Errors: -errno, with
 * *msg; WS_ETOOBIG when the path does not fit a sockaddr_un.
 */
int ws_ctl_listen(const char *home, int *fd, char **msg);

/*
 * ws_ctl_connect - connect to the node of home.  0 with *fd (blocking,
 * close-on-exec); WS_ENOTFOUND when no node listens there (no socket, or a
 * stale one: ECONNREFUSED); another -errno otherwise.
 */
int ws_ctl_connect(const char *home, int *fd);

/*
 * ws_ctl_peer_allowed - 1 when the peer of the connected socket fd runs as
 * the uid that owns home (SO_PEERCRED), else 0.
 */
int ws_ctl_peer_allowed(int fd, const char *home);

/*
 * ws_ctl_encode - msg as one line: compact JSON and '\n' (malloc'd, NUL
 * terminated, *len without the NUL).  NULL when it cannot be encoded or is
 * longer than WS_CTL_LINE_MAX.
 */
char *ws_ctl_encode(const json_t *msg, size_t *len);

/*
 * ws_ctl_send - write msg as one line to the blocking socket fd.  0, or
 * -errno (EPIPE: the other end went away), -EINVAL (cannot encode).
 */
int ws_ctl_send(int fd, const json_t *msg);

/* Bytes received and not yet returned as a line. */
struct ws_ctl_reader {
	char *buf;
	size_t len, cap;
};

/*
 * ws_ctl_take - the next complete line in r (parsed; *out a new reference
 * the caller releases), removing it.  0 with *out; WS_ENOTFOUND when no
 * complete line is buffered; WS_EFORMAT when the line is not a JSON
 * object (dropped); WS_ETOOBIG when more than WS_CTL_LINE_MAX bytes came
 * without a newline (the connection cannot be trusted further).
 */
int ws_ctl_take(struct ws_ctl_reader *r, json_t **out);

/*
 * ws_ctl_fill - read what fd has into r (one read(2)).  Returns the bytes
 * read, 0 at end of file, or -errno (-EAGAIN on a non-blocking socket
 * with nothing to read).
 */
long ws_ctl_fill(struct ws_ctl_reader *r, int fd);

/*
 * ws_ctl_recv - the next line from the blocking socket fd, waiting at most
 * timeout_ms (-1: no bound) for it.  0 with *out; WS_ETIMEOUT; -EPIPE when
 * the node closed the connection; errors of ws_ctl_take.
 */
int ws_ctl_recv(int fd, struct ws_ctl_reader *r, int timeout_ms, json_t **out);

void ws_ctl_reader_release(struct ws_ctl_reader *r);

#endif
