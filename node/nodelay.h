/*
 * nodelay.h - TCP_NODELAY on every TCP connection of the process
 * (node/nodelay.c says why and how).
 *
 * Part of node/.  Including this header and calling ws_nodelay_linked()
 * is what links the interposed connect()/accept()/accept4() into a
 * program; it does nothing else and always returns 1.
 */
#ifndef WS_NODE_NODELAY_H
#define WS_NODE_NODELAY_H

#ifdef __cplusplus
extern "C" {
#endif

int ws_nodelay_linked(void);

#ifdef __cplusplus
}
#endif

#endif
