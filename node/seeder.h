/*
 * seeder.h - the long-running node: seed every complete release in the
 * store.
 *
 * Part of node/.  One loop (ws_seed_run) with a housekeeping tick:
 *   - every complete release the index holds a torrent for is seeded; new
 *     ones (published or fetched by other processes on the same home) are
 *     picked up within a tick, without a restart;
 *   - a release starts in libtorrent's seed mode unless resume data from
 *     an earlier run is at hand: no start-up re-hash of the store, yet each
 *     piece is verified the first time it is asked for, so a file changed
 *     on disk after publishing never has its bad pieces served;
 *   - every signed name pointer the index keeps is put into the DHT at
 *     start, when new ones appear, and every reput_s seconds (no key
 *     needed): mirrors keep names alive after their publisher is gone;
 *   - followed names are resolved every follow_s seconds and new versions
 *     fetched (verified as `weightsync fetch NAME` does) and seeded: each
 *     is a transfer (transfers.h) on a worker thread, so the tick never
 *     waits for one;
 *   - clients (`fetch`, `resolve`, `follow`, `status`, `transfers`,
 *     `pause`, `resume`, `cancel`) are served on home/node.sock
 *     (server.h, docs/control.md); their fetches are transfers in this
 *     node's session;
 *   - a status file (home/node.json) is rewritten every tick for
 *     `weightsync status` (and anyone who reads files), and handed to the
 *     HTTP server (http.h) when http_listen is set;
 *   - on stop (SIGTERM/SIGINT), resume data is saved for every release and
 *     the status file says "stopped".
 * One node per home: home/node.lock is held (flock) while it runs.
 */
#ifndef WS_NODE_SEEDER_H
#define WS_NODE_SEEDER_H

#include <signal.h>

#include "session.h"
#include "store/store.h"

#define WS_NODE_STATUS_FILE "node.json"
#define WS_NODE_LOCK_FILE "node.lock"

struct ws_seed_opts {
	struct ws_net_opts net;
	int tick_ms;                /* housekeeping period (0: 1000) */
	int reput_s;                /* re-put every kept pointer this often
				     * (0: 3600) */
	int follow_s;               /* check followed names this often (0: 300) */
	int max_active;             /* transfers running at once (0: 4) */
	const char *http_listen;    /* "ADDR:PORT" to serve HTTP on (http.h), or
				     * NULL: no HTTP (node.conf `http`, --http) */
	const char *config_file;    /* the config file read, for `status`, or
				     * NULL */
	volatile sig_atomic_t *stop; /* set from a signal handler */
	volatile sig_atomic_t *reload; /* SIGHUP: rescan the store now */
	void (*log)(const char *line); /* one line per event, or NULL */
};

/*
 * ws_seed_run - run the node until *o->stop is set.  Returns 0 after a
 * clean stop, WS_EEXIST when another node holds the home, or a start-up
 * error (cannot listen, ...), with *msg.
 */
int ws_seed_run(struct ws_store *st, const struct ws_seed_opts *o, char **msg);

#endif
