/* fetch_origin.c - pieces a fetch takes from the release's hf:// origin
 * (fetch_impl.h, node/hub.h) */
#include "fetch_impl.h"
#include "hub.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdlib.h>
#include <string.h>

/* seconds without a new verified byte before the origin is asked */
#define ORIGIN_AFTER 3
/* seconds a handed-over piece may take to show up as verified; a piece
 * still missing then failed its check */
#define ADDED_WAIT 3
/* times the origin is asked for one piece */
#define TRIES 2
#define POLL_BUDGET_MS 120

enum { P_IDLE, P_READING, P_ADDED, P_DONE, P_GIVEN_UP };

struct origin_req {
	int piece;
	uint8_t *buf;
	uint32_t plen, len;
};

struct fetch_origin {
	struct ws_hub hub;
	struct ws_hub_ranges *rs;
	char *repo;
	int npieces;
	uint8_t *have, *state, *tries;
	double *added_at;
	struct origin_req **inflight; /* per piece, while P_READING */
	int last_code;              /* the origin's last failure */
	char *last_err;
	int active;                 /* asking the origin now */
	uint64_t last_have;
	double last_change;
	int next;                   /* where the scan for missing pieces goes on */
};

/* "hf://ORG/NAME@COMMIT" -> repo, commit (40 hex); 0 or -1 */
static int parse_origin(const char *o, char **repo, char commit[41])
{
	char *rev = NULL;
	if (!o || ws_hub_parse_ref(o, repo, &rev, NULL))
		return -1;
	if (strlen(rev) != 40 || strspn(rev, "0123456789abcdef") != 40) {
		free(*repo);
		*repo = NULL;
		free(rev);
		return -1;
	}
	memcpy(commit, rev, 41);
	free(rev);
	return 0;
}

int ws_fetch_origin_open(struct fetch *f)
{
	struct fetch_origin *o;
	char commit[41], *repo = NULL;
	int ret;

	if (f->o->origin == WS_ORIGIN_OFF)
		return 0;
	if (parse_origin(f->res->m.origin, &repo, commit)) {
		if (f->o->origin == WS_ORIGIN_ONLY)
			return ws_seterr(f->msg, WS_EUNSUPPORTED, "the release names no "
					 "hf://ORG/NAME@COMMIT origin to fetch from");
		return 0;
	}
	o = xcalloc(1, sizeof(*o));
	o->repo = repo;
	if ((ret = ws_hub_init(&o->hub, NULL, f->msg)) ||
	    (ret = ws_lt_piece_count(f->t, &o->npieces)) ||
	    (ret = ws_hub_ranges_new(&o->hub, repo, commit, &o->rs))) {
		if (ret && f->msg && !*f->msg)
			ws_seterr(f->msg, ret, "cannot use the origin: %s", ws_strerror(ret));
		ws_hub_release(&o->hub);
		free(repo);
		free(o);
		return ret;
	}
	if (f->o->stall_timeout > 0 && f->o->stall_timeout < o->hub.stall_seconds)
		o->hub.stall_seconds = f->o->stall_timeout;
	o->have = xcalloc((size_t)o->npieces + 1, 1);
	o->state = xcalloc((size_t)o->npieces + 1, 1);
	o->tries = xcalloc((size_t)o->npieces + 1, 1);
	o->added_at = xcalloc((size_t)o->npieces + 1, sizeof(double));
	o->inflight = xcalloc((size_t)o->npieces + 1, sizeof(*o->inflight));
	o->last_change = ws_fetch_now();
	o->last_have = UINT64_MAX;
	o->next = o->npieces - 1;
	if (f->o->origin == WS_ORIGIN_ONLY) {
		o->active = 1;
		ws_lt_swarm_data(f->t, 0);
	}
	f->origin = o;
	return 0;
}

/* a range came back: to libtorrent, which checks it */
static void take(struct fetch *f, struct origin_req *q, int result, char *err)
{
	struct fetch_origin *o = f->origin;

	o->inflight[q->piece] = NULL;
	if (result == 0 && (result = ws_lt_add_piece(f->t, q->piece, q->buf, q->plen)) == 0) {
		o->state[q->piece] = P_ADDED;
		o->added_at[q->piece] = ws_fetch_now();
	} else {
		o->state[q->piece] = ++o->tries[q->piece] >= TRIES ? P_GIVEN_UP : P_IDLE;
		o->last_code = result;
		free(o->last_err);
		o->last_err = xstrdup(err ? err : ws_strerror(result));
	}
	free(q->buf);
	free(q);
}

static void start_some(struct fetch *f)
{
	struct fetch_origin *o = f->origin;

	for (int scanned = 0; scanned < o->npieces &&
	     ws_hub_ranges_active(o->rs) < (size_t)o->hub.connections; scanned++) {
		int p = o->next;
		o->next = o->next > 0 ? o->next - 1 : o->npieces - 1;
		if (o->have[p] || o->state[p] != P_IDLE)
			continue;
		int file;
		uint64_t off;
		uint32_t len, plen;
		const struct ws_lt_file_info *fi = NULL;
		if (ws_lt_piece_span(f->t, p, &file, &off, &len, &plen) || !len)
			continue;
		for (size_t i = 0; i < f->nfiles; i++)
			if (f->files[i].index == file)
				fi = &f->files[i];
		/* the weightsync manifest is not on the hub */
		if (!fi || !strncmp(fi->path, WS_META_DIR "/", strlen(WS_META_DIR) + 1))
			continue;
		struct origin_req *q = xcalloc(1, sizeof(*q));
		q->piece = p;
		q->plen = plen;
		q->len = len;
		q->buf = xcalloc(plen, 1);  /* a pad file's bytes are zeros */
		o->state[p] = P_READING;
		o->inflight[p] = q;
		ws_hub_range_start(o->rs, fi->path, off, len, q->buf, q);
	}
}

int ws_fetch_origin_tick(struct fetch *f)
{
	struct fetch_origin *o = f->origin;
	struct ws_lt_status s;
	uint64_t have = 0;
	double now = ws_fetch_now(), until;

	if (!o)
		return 0;
	ws_lt_status(f->t, &s);
	/* no piece may be added while libtorrent checks the files */
	if (s.state == WS_LT_CHECKING || s.state == WS_LT_CHECKING_RESUME)
		return 0;
	if (ws_lt_have_pieces(f->t, o->have, o->npieces) == 0) {
		for (int p = 0; p < o->npieces; p++) {
			if (o->state[p] == P_ADDED && o->have[p]) {
				int file;
				uint64_t off;
				uint32_t len, plen;
				o->state[p] = P_DONE;
				if (ws_lt_piece_span(f->t, p, &file, &off, &len, &plen) == 0)
					f->res->from_origin += len;
			} else if (o->state[p] == P_ADDED && now - o->added_at[p] > ADDED_WAIT) {
				/* it failed libtorrent's check (if it only came late,
				 * asking again costs a duplicate, nothing more) */
				o->state[p] = ++o->tries[p] >= TRIES ? P_GIVEN_UP : P_IDLE;
				o->last_code = WS_EBADHASH;
				free(o->last_err);
				o->last_err = xstrdup("a piece it sent failed its hash check");
			}
			have += o->have[p];
		}
	}
	if (have != o->last_have) {
		o->last_have = have;
		o->last_change = now;
	} else if (!o->active && now - o->last_change > ORIGIN_AFTER) {
		o->active = 1;      /* the swarm is not delivering: ask the origin */
	}
	if (f->o->origin == WS_ORIGIN_ONLY) {
		/* the only source: when it has failed every piece still missing,
		 * say why now rather than after the stall timeout */
		int left = 0, missing = 0;
		for (int p = 0; p < o->npieces; p++) {
			missing += !o->have[p];
			left += !o->have[p] && o->state[p] != P_GIVEN_UP;
		}
		if (missing && !left)
			return ws_seterr(f->msg, o->last_code ? o->last_code : WS_ENETWORK,
					 "the origin hf://%s could not supply %d pieces: %s; "
					 "nothing unverified was kept", o->repo, missing,
					 o->last_err ? o->last_err : "no answer");
	}
	/* drive the requests for a moment: the caller waits on libtorrent
	 * between ticks, not on these sockets */
	until = now + POLL_BUDGET_MS / 1000.0;
	do {
		void *tag;
		int result;
		char *err = NULL;
		if (o->active)
			start_some(f);
		if (!ws_hub_ranges_active(o->rs))
			break;
		if (ws_hub_ranges_poll(o->rs, 20, &tag, &result, &err) == 1)
			take(f, tag, result, err);
		free(err);
	} while (ws_fetch_now() < until);
	return 0;
}

void ws_fetch_origin_close(struct fetch *f)
{
	struct fetch_origin *o = f->origin;

	if (!o)
		return;
	ws_hub_ranges_free(o->rs);
	for (int p = 0; p < o->npieces; p++)
		if (o->inflight[p]) {
			free(o->inflight[p]->buf);
			free(o->inflight[p]);
		}
	ws_hub_release(&o->hub);
	free(o->repo);
	free(o->have);
	free(o->state);
	free(o->tries);
	free(o->added_at);
	free(o->inflight);
	free(o->last_err);
	free(o);
	f->origin = NULL;
}
