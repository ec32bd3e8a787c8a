/*
 * utp_reset.h - answer uTP connection attempts with a reset while uTP is
 * refused (node/utp_reset.c says why and how).
 *
 * Part of node/.  Linked into a program by calling ws_utp_reset_refused();
 * node/lt.cpp does when it creates a session.
 */
#ifndef WS_NODE_UTP_RESET_H
#define WS_NODE_UTP_RESET_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ws_utp_reset_refused - on (nonzero): from now on, a uTP SYN read from a
 * datagram socket of this process is answered with an ST_RESET and not
 * handed to the caller; off: datagrams pass untouched (the default).
 * Process-wide: a process runs one libtorrent session.
 */
void ws_utp_reset_refused(int on);

#ifdef __cplusplus
}
#endif

#endif
