/*
 * index_check.c - walk LMDB's file and check its page structure (see
 * ix_check in index_int.h).
 *
 * LMDB trusts its file: a page header or node offset changed on disk
 * sends it reading outside the page or past the end of the file, which is
 * a SIGBUS or SIGSEGV, or into one of its assertions (abort).  So before
 * the first transaction of a process reads a page, every page the
 * snapshot reaches is read here with pread, where a bad offset is only a
 * number, and checked against the layout of LMDB 0.9's data file
 * (lmdb.h's MDB_page, MDB_node, MDB_db and MDB_meta; data version 1).
 * Only the B-tree pages and the first page of each overflow run are read,
 * not the overflow data, so the cost is small beside the manifests and
 * torrents the index holds.
 */
#include "index_int.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* MDB_page: pgno(8) pad(2) flags(2) lower(2) upper(2), then offsets of
 * the nodes; an overflow page keeps its page count where lower/upper are */
#define PAGEHDRSZ 16
#define P_BRANCH 0x01
#define P_LEAF 0x02
#define P_OVERFLOW 0x04
#define P_STRUCTURE (P_BRANCH | P_LEAF | P_OVERFLOW | 0x08 | 0x20 | 0x40)
/* MDB_node: lo(2) hi(2) flags(2) ksize(2), then key, then data */
#define NODESIZE 8
#define F_BIGDATA 0x01
#define F_SUBDATA 0x02
#define F_DUPDATA 0x04
/* MDB_db: pad(4) flags(2) depth(2) branch(8) leaf(8) overflow(8)
 * entries(8) root(8) */
#define DBSIZE 48
/* MDB_meta after the page header: magic(4) version(4) address(8)
 * mapsize(8) dbs[2] last_pg(8) txnid(8) */
#define META_MAGIC 0xBEEFC0DEu
#define META_VERSION 1
#define META_DBS 24
#define META_LAST (META_DBS + 2 * DBSIZE)
#define META_TXNID (META_LAST + 8)
#define P_INVALID UINT64_MAX
#define DEPTH_MAX 32            /* LMDB's CURSOR_STACK */

struct db {
	unsigned depth;
	uint64_t branch, leaf, overflow, entries, root;
};

struct counts {
	uint64_t branch, leaf, overflow, entries;
};

struct walk {
	int fd;
	size_t psize;
	uint64_t last_pg;           /* the snapshot's last page */
	uint64_t visited;           /* pages read, to stop at a cycle */
	char **why;
	int free_db;                /* keys are native integers (txn ids) */
};

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int bad(struct walk *w, uint64_t pgno, const char *what)
{
	if (w->why && !*w->why)
		*w->why = xasprintf("page %llu: %s", (unsigned long long)pgno, what);
	return WS_ECORRUPT;
}

static void get_db(const uint8_t *p, struct db *d)
{
	d->depth = get16(p + 6);
	d->branch = get64(p + 8);
	d->leaf = get64(p + 16);
	d->overflow = get64(p + 24);
	d->entries = get64(p + 32);
	d->root = get64(p + 40);
}

static int read_page(struct walk *w, uint64_t pgno, uint8_t *buf, size_t len)
{
	ssize_t n;

	if (pgno < 2 || pgno > w->last_pg)
		return bad(w, pgno, "page number outside the file");
	do
		n = pread(w->fd, buf, len, (off_t)(pgno * w->psize));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return bad(w, pgno, "past the end of the file");
	if (get64(buf) != pgno)
		return bad(w, pgno, "the page says it is another page");
	return 0;
}

/* memcmp order, shorter first on a tie; the free DB's keys are integers */
static int key_cmp(const struct walk *w, const uint8_t *a, size_t alen,
		   const uint8_t *b, size_t blen)
{
	if (w->free_db && alen == 8 && blen == 8) {
		uint64_t x = get64(a), y = get64(b);
		return x < y ? -1 : x > y;
	}
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

static int check_overflow(struct walk *w, uint64_t pgno, uint64_t dsize,
			  struct counts *n)
{
	uint8_t hdr[PAGEHDRSZ];
	uint64_t pages;
	int ret;

	if ((ret = read_page(w, pgno, hdr, sizeof(hdr))))
		return ret;
	pages = get32(hdr + 12);
	if ((get16(hdr + 10) & P_STRUCTURE) != P_OVERFLOW)
		return bad(w, pgno, "not an overflow page");
	if (pages == 0 || pages > w->last_pg - pgno + 1 ||
	    pages * w->psize - PAGEHDRSZ < dsize)
		return bad(w, pgno, "overflow run does not fit its value");
	n->overflow += pages;
	return 0;
}

/* A free DB value is a page-number list: a count, then that many. */
static int check_idl(struct walk *w, uint64_t pgno, const uint8_t *data,
		     uint64_t dsize, uint64_t ovpg)
{
	uint8_t first[8];

	if (dsize < 8 || dsize % 8)
		return bad(w, pgno, "free list of a bad size");
	if (ovpg != P_INVALID) {
		ssize_t r = pread(w->fd, first, 8, (off_t)(ovpg * w->psize + PAGEHDRSZ));
		if (r != 8)
			return bad(w, ovpg, "free list past the end of the file");
		data = first;
	}
	/* LMDB may reserve more room than it fills: the count must fit */
	if (get64(data) > dsize / 8 - 1)
		return bad(w, pgno, "free list count larger than its record");
	return 0;
}

static int walk_page(struct walk *w, uint64_t pgno, unsigned level,
		     unsigned depth, int main_db, struct counts *n);

/* The trees of named databases, from the main DB's leaf nodes. */
static int walk_db(struct walk *w, uint64_t where, const struct db *d,
		   int main_db)
{
	struct counts n = {0};
	int ret;

	if (d->root == P_INVALID) {
		if (d->depth || d->entries)
			return bad(w, where, "an empty database with entries");
		return 0;
	}
	if (d->depth < 1 || d->depth > DEPTH_MAX)
		return bad(w, where, "database depth out of range");
	if ((ret = walk_page(w, d->root, 1, d->depth, main_db, &n)))
		return ret;
	if (n.entries != d->entries || n.branch != d->branch ||
	    n.leaf != d->leaf || n.overflow != d->overflow)
		return bad(w, d->root, "database counts disagree with its pages");
	return 0;
}

static int walk_node(struct walk *w, uint64_t pgno, const uint8_t *page,
		     const uint8_t *node, unsigned level, unsigned depth,
		     int leaf, int main_db, struct counts *n)
{
	uint16_t nflags = get16(node + 4), ksize = get16(node + 6);
	const uint8_t *key = node + NODESIZE;
	size_t off = (size_t)(node - page);
	int ret;

	if (off + NODESIZE + ksize > w->psize)
		return bad(w, pgno, "key outside the page");
	if (!leaf) {
		uint64_t child = get16(node) | (uint64_t)get16(node + 2) << 16 |
				 (uint64_t)nflags << 32;
		return walk_page(w, child, level + 1, depth, main_db, n);
	}
	uint64_t dsize = get16(node) | (uint64_t)get16(node + 2) << 16;
	const uint8_t *data = key + ksize;
	n->entries++;
	if (nflags & ~(F_BIGDATA | F_SUBDATA))
		return bad(w, pgno, "node flags we never write");
	if (nflags & F_BIGDATA) {
		uint64_t ov;
		if (off + NODESIZE + ksize + 8 > w->psize)
			return bad(w, pgno, "value outside the page");
		ov = get64(data);
		if ((ret = check_overflow(w, ov, dsize, n)))
			return ret;
		return w->free_db ? check_idl(w, pgno, NULL, dsize, ov) : 0;
	}
	if (off + NODESIZE + ksize + dsize > w->psize)
		return bad(w, pgno, "value outside the page");
	if (w->free_db)
		return check_idl(w, pgno, data, dsize, P_INVALID);
	if (nflags & F_SUBDATA) {
		struct db d;
		if (!main_db || dsize != DBSIZE)
			return bad(w, pgno, "a database record out of place");
		get_db(data, &d);
		return walk_db(w, pgno, &d, 0);
	}
	return main_db ? bad(w, pgno, "a plain record in the main database") : 0;
}

static int check_page(struct walk *w, uint64_t pgno, uint8_t *page,
		      unsigned level, unsigned depth, int main_db,
		      struct counts *n)
{
	uint16_t flags, lower, upper;
	const uint8_t *prev = NULL;
	size_t prevlen = 0, nkeys;
	int ret, leaf;

	flags = get16(page + 10);
	lower = get16(page + 12);
	upper = get16(page + 14);
	leaf = level == depth;
	if ((flags & P_STRUCTURE) != (leaf ? P_LEAF : P_BRANCH))
		return bad(w, pgno, leaf ? "expected a leaf page" : "expected a branch page");
	if (lower < PAGEHDRSZ || lower % 2 || lower > upper || upper > w->psize)
		return bad(w, pgno, "free-space bounds out of range");
	nkeys = (size_t)(lower - PAGEHDRSZ) / 2;
	if (nkeys == 0)
		return bad(w, pgno, "a page without records");
	if (leaf)
		n->leaf++;
	else
		n->branch++;
	for (size_t i = 0; i < nkeys; i++) {
		uint16_t off = get16(page + PAGEHDRSZ + 2 * i);
		const uint8_t *node;
		size_t ksize;
		if (off < upper || off % 2 || (size_t)off + NODESIZE > w->psize)
			return bad(w, pgno, "record offset outside the page");
		node = page + off;
		ksize = get16(node + 6);
		if ((size_t)off + NODESIZE + ksize > w->psize)
			return bad(w, pgno, "key outside the page");
		/* a branch page's first key is empty: it stands for "below" */
		if ((leaf || i > 0) && prev &&
		    key_cmp(w, prev, prevlen, node + NODESIZE, ksize) >= 0)
			return bad(w, pgno, "keys out of order");
		if (leaf || i > 0) {
			prev = node + NODESIZE;
			prevlen = ksize;
		}
		if ((ret = walk_node(w, pgno, page, node, level, depth, leaf, main_db, n)))
			return ret;
	}
	return 0;
}

static int walk_page(struct walk *w, uint64_t pgno, unsigned level,
		     unsigned depth, int main_db, struct counts *n)
{
	uint8_t *page;
	int ret;

	if (++w->visited > w->last_pg)
		return bad(w, pgno, "reached twice: the trees loop");
	page = xmalloc(w->psize);
	ret = read_page(w, pgno, page, w->psize);
	if (ret == 0)
		ret = check_page(w, pgno, page, level, depth, main_db, n);
	free(page);
	return ret;
}

int ix_check(ws_index *ix, MDB_txn *txn, char **why)
{
	struct walk w = { .why = why };
	uint8_t meta[PAGEHDRSZ + META_TXNID + 8];
	struct db free_db, main_db;
	MDB_stat st;
	int ret = 0, found = 0;

	/* the layout read here is LMDB 0.9's with 64-bit page numbers; with
	 * another, skip the walk rather than call a good file damaged */
	if (sizeof(size_t) != 8 || MDB_VERSION_MAJOR != 0 || MDB_VERSION_MINOR != 9)
		return 0;
	if (mdb_env_get_fd(ix->env, &w.fd) || mdb_env_stat(ix->env, &st))
		return WS_ESTORE;
	w.psize = st.ms_psize;
	/* the meta page of this snapshot: the one with its transaction id */
	for (int i = 0; i < 2 && !found; i++) {
		if (pread(w.fd, meta, sizeof(meta), (off_t)(i * w.psize)) != (ssize_t)sizeof(meta))
			return bad(&w, (uint64_t)i, "meta page past the end of the file");
		if (get32(meta + PAGEHDRSZ) != META_MAGIC ||
		    get32(meta + PAGEHDRSZ + 4) != META_VERSION)
			continue;
		found = get64(meta + PAGEHDRSZ + META_TXNID) == mdb_txn_id(txn);
	}
	if (!found)
		return 0;   /* two writers committed meanwhile: that snapshot's meta
			     * page is gone, and the next open checks theirs */
	w.last_pg = get64(meta + PAGEHDRSZ + META_LAST);
	get_db(meta + PAGEHDRSZ + META_DBS, &free_db);
	get_db(meta + PAGEHDRSZ + META_DBS + DBSIZE, &main_db);
	w.free_db = 1;
	ret = walk_db(&w, 0, &free_db, 0);
	w.free_db = 0;
	if (ret == 0)
		ret = walk_db(&w, 1, &main_db, 1);
	return ret;
}
