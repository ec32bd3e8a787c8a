/*
 * interpose.h - calling the libc function an executable interposes.
 *
 * Part of node/.  node/nodelay.c (connect, accept) and node/utp_reset.c
 * (recvfrom) define libc functions in the executable, to reach sockets
 * libtorrent makes through asio, out of reach of its API.  Each calls the
 * definition it replaces through ws_next_symbol.
 */
#ifndef WS_NODE_INTERPOSE_H
#define WS_NODE_INTERPOSE_H

#include <dlfcn.h>

/*
 * ws_next_symbol - the next definition of name after this executable's
 * (libc's, or a sanitizer runtime's), or NULL.  *slot caches it (a static
 * per function, initially NULL): looked up once; a race only looks it up
 * twice.
 */
static inline void *ws_next_symbol(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

#endif
