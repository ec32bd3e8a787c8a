/* hasher.c - parallel file hashing (see hasher.h) */
#include "hasher.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHA_READ_SIZE (4u << 20)
/* A chunk task reads this much, or one v1 piece when pieces are larger:
 * small pieces are hashed many to a task, so a file of 32 KiB pieces is
 * still read 4 MiB at a time. */
#define TASK_SIZE WS_CHUNK_SIZE

enum task_kind { TASK_SHA256, TASK_CHUNKS };

struct task {
	enum task_kind kind;
	size_t file;
	uint64_t off, len;          /* byte range (TASK_CHUNKS) */
};

struct run {
	struct ws_hash_file *files;
	int *fds;
	struct task *tasks;
	size_t ntasks;
	atomic_size_t next;
	atomic_uint_fast64_t done;
	uint64_t buf_size;
	pthread_mutex_t lock;       /* guards files[].error and running */
	pthread_cond_t finished;    /* signalled as each worker ends */
	int running;                /* workers not yet ended */
};

static void set_error(struct run *r, size_t file, int err)
{
	pthread_mutex_lock(&r->lock);
	if (!r->files[file].error)
		r->files[file].error = err;
	pthread_mutex_unlock(&r->lock);
}

/* Read exactly len bytes at off; a short read means the file shrank. */
static int read_exact(int fd, uint8_t *buf, uint64_t len, uint64_t off)
{
	return ws_pread_full(fd, buf, (size_t)len, off);
}

static void run_sha256(struct run *r, struct task *t, uint8_t *buf)
{
	struct ws_hash_file *f = &r->files[t->file];
	ws_sha *h = ws_sha256_new();
	uint64_t off = 0;

	while (off < f->size) {
		uint64_t n = f->size - off < SHA_READ_SIZE ? f->size - off : SHA_READ_SIZE;
		int err = read_exact(r->fds[t->file], buf, n, off);
		if (err) {
			set_error(r, t->file, err);
			break;
		}
		ws_sha_update(h, buf, n);
		off += n;
		atomic_fetch_add(&r->done, n);
	}
	ws_sha_final(h, f->sha256);
	ws_sha_free(h);
}

/* Chunk roots of the span [off, off + len) of f, whose bytes are in buf:
 * off is on a chunk boundary, the span whole chunks or the file's tail.
 * Shared by the file hasher (a task) and the stream hasher (a chunk). */
static void chunk_roots(struct ws_hash_file *f, const uint8_t *buf, uint64_t off, uint64_t len)
{
	uint64_t width = ws_merkle_chunk_width(f->chunk_size, f->size);

	for (uint64_t o = 0; o < len; o += f->chunk_size) {
		uint64_t n = len - o < f->chunk_size ? len - o : f->chunk_size;
		ws_merkle_chunk_root(buf + o, n, width, f->chunks[(off + o) / f->chunk_size]);
	}
}

/* Chunk roots and v1 pieces of a task's span: off is on a piece boundary
 * and the span whole pieces, or the file's tail; buf has room for whole
 * pieces, so the last one can be padded in place. */
static void hash_span(struct ws_hash_file *f, uint8_t *buf, uint64_t off, uint64_t len)
{
	uint64_t ps = f->v1_piece_size;

	chunk_roots(f, buf, off, len);
	if (ps) {
		ws_sha *h = ws_sha1_new();
		for (uint64_t o = 0; o < len; o += ps) {
			uint64_t n = len - o < ps ? len - o : ps;
			if (n < ps && f->v1_pad_last) {
				memset(buf + o + n, 0, ps - n);
				n = ps;
			}
			ws_sha_update(h, buf + o, n);
			ws_sha_final(h, f->v1[(off + o) / ps]);
		}
		ws_sha_free(h);
	}
}

/* The bytes one chunk task (or one stream buffer) covers: 4 MiB, or one v1
 * piece when pieces are larger (both powers of two: one is a multiple of
 * the other). */
static uint64_t hash_step(const struct ws_hash_file *f)
{
	return f->v1_piece_size > TASK_SIZE ? f->v1_piece_size : TASK_SIZE;
}

/* Check f's inputs and allocate its outputs for a file of f->size bytes. */
static int hash_setup(struct ws_hash_file *f)
{
	if (f->v1_piece_size && (f->v1_piece_size < WS_BLOCK_SIZE ||
				 (f->v1_piece_size & (f->v1_piece_size - 1))))
		return WS_EFORMAT;
	f->chunk_size = ws_merkle_chunk_size(f->v1_piece_size);
	f->nchunks = (f->size + f->chunk_size - 1) / f->chunk_size;
	f->chunks = xcalloc(f->nchunks ? f->nchunks : 1, 32);
	if (f->v1_piece_size) {
		f->nv1 = (f->size + f->v1_piece_size - 1) / f->v1_piece_size;
		f->v1 = xcalloc(f->nv1 ? f->nv1 : 1, 20);
	}
	return 0;
}

static void run_chunks(struct run *r, struct task *t, uint8_t *buf)
{
	int err = read_exact(r->fds[t->file], buf, t->len, t->off);

	if (err) {
		set_error(r, t->file, err);
		return;
	}
	hash_span(&r->files[t->file], buf, t->off, t->len);
	atomic_fetch_add(&r->done, t->len);
}

static void work(struct run *r)
{
	uint8_t *buf = malloc(r->buf_size);

	if (!buf) {
		/* let the other workers carry on; mark what we would take */
		for (;;) {
			size_t i = atomic_fetch_add(&r->next, 1);
			if (i >= r->ntasks)
				break;
			set_error(r, r->tasks[i].file, -ENOMEM);
		}
		return;
	}
	for (;;) {
		size_t i = atomic_fetch_add(&r->next, 1);
		if (i >= r->ntasks)
			break;
		struct task *t = &r->tasks[i];
		if (r->files[t->file].error)
			continue;
		if (t->kind == TASK_SHA256)
			run_sha256(r, t, buf);
		else
			run_chunks(r, t, buf);
	}
	free(buf);
}

static void *worker(void *arg)
{
	struct run *r = arg;

	work(r);
	pthread_mutex_lock(&r->lock);
	r->running--;
	pthread_cond_broadcast(&r->finished);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static int cmp_sha_tasks(const void *a, const void *b, void *arg)
{
	const struct task *x = a, *y = b;
	struct ws_hash_file *files = arg;
	uint64_t sx = files[x->file].size, sy = files[y->file].size;
	return sx < sy ? 1 : sx > sy ? -1 : 0;
}

/* Open every file and cut the work into tasks. */
static size_t plan(struct run *r, size_t n, uint64_t *total)
{
	size_t cap = 16, nt = 0;

	r->tasks = xmalloc(cap * sizeof(*r->tasks));
	r->buf_size = TASK_SIZE;
	*total = 0;
	for (size_t i = 0; i < n; i++) {
		struct ws_hash_file *f = &r->files[i];
		struct stat st;
		uint64_t step;

		f->error = 0;
		r->fds[i] = open(f->path, O_RDONLY | O_CLOEXEC);
		if (r->fds[i] < 0 || fstat(r->fds[i], &st) < 0) {
			f->error = -errno;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			f->error = -EINVAL;
			continue;
		}
		f->size = (uint64_t)st.st_size;
		if ((f->error = hash_setup(f)))
			continue;
		posix_fadvise(r->fds[i], 0, 0, POSIX_FADV_SEQUENTIAL);
		step = hash_step(f);
		if (step > r->buf_size)
			r->buf_size = step;
		if (nt + 1 + f->size / step + 1 > cap) {
			cap = 2 * (nt + 1 + f->size / step + 1);
			r->tasks = xrealloc(r->tasks, cap * sizeof(*r->tasks));
		}
		if (f->want_sha256) {
			r->tasks[nt++] = (struct task){ TASK_SHA256, i, 0, f->size };
			*total += f->size;
		}
		if (f->sha256_only)
			continue;
		for (uint64_t off = 0; off < f->size; off += step) {
			uint64_t len = f->size - off < step ? f->size - off : step;
			r->tasks[nt++] = (struct task){ TASK_CHUNKS, i, off, len };
		}
		*total += f->size;
	}
	/* SHA-256 tasks first, biggest first: they are the long sequential
	 * ones, and chunk tasks fill the other cores around them */
	size_t nsha = 0;
	for (size_t i = 0; i < nt; i++)
		if (r->tasks[i].kind == TASK_SHA256) {
			struct task t = r->tasks[i];
			memmove(&r->tasks[nsha + 1], &r->tasks[nsha],
				(i - nsha) * sizeof(*r->tasks));
			r->tasks[nsha++] = t;
		}
	qsort_r(r->tasks, nsha, sizeof(*r->tasks), cmp_sha_tasks, r->files);
	return nt;
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int ws_hash_files(struct ws_hash_file *files, size_t n, int threads,
		  ws_hash_progress_fn progress, void *ctx)
{
	struct run r = { .files = files };
	pthread_t *tids = NULL;
	uint64_t total;
	int started = 0, ret = 0;

	r.fds = xmalloc((n ? n : 1) * sizeof(int));
	for (size_t i = 0; i < n; i++)
		r.fds[i] = -1;
	pthread_mutex_init(&r.lock, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&r.finished, &ca);
		pthread_condattr_destroy(&ca);
	}
	r.ntasks = plan(&r, n, &total);
	atomic_init(&r.next, 0);
	atomic_init(&r.done, 0);
	if (threads <= 0)
		threads = online_cpus();
	if ((size_t)threads > r.ntasks)
		threads = r.ntasks ? (int)r.ntasks : 1;
	tids = xmalloc((size_t)threads * sizeof(*tids));
	for (; started < threads; started++) {
		pthread_mutex_lock(&r.lock);
		r.running++;
		pthread_mutex_unlock(&r.lock);
		if (pthread_create(&tids[started], NULL, worker, &r) != 0) {
			pthread_mutex_lock(&r.lock);
			r.running--;
			pthread_mutex_unlock(&r.lock);
			break;
		}
	}
	if (started == 0) {
		ret = -EAGAIN;
		goto out;
	}
	if (progress) {
		/* poll rather than call back from workers: the callback may
		 * write to the terminal, which should happen on one thread.
		 * Wait on the workers' ending, not a plain sleep, so the
		 * last poll does not hold up a finished run. */
		pthread_mutex_lock(&r.lock);
		while (r.running > 0) {
			struct timespec ts;
			pthread_mutex_unlock(&r.lock);
			progress(ctx, atomic_load(&r.done), total);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_mutex_lock(&r.lock);
			while (r.running > 0 &&
			       pthread_cond_timedwait(&r.finished, &r.lock, &ts) != ETIMEDOUT)
				;
		}
		pthread_mutex_unlock(&r.lock);
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (progress)
		progress(ctx, total, total);
	for (size_t i = 0; i < n; i++) {
		struct ws_hash_file *f = &files[i];
		if (f->error)
			continue;
		/* a file that grew while we read it: our hashes do not
		 * describe what is there now */
		struct stat st;
		if (fstat(r.fds[i], &st) < 0 || (uint64_t)st.st_size != f->size) {
			f->error = -EIO;
			continue;
		}
		if (!f->sha256_only)
			ws_merkle_root_from_chunks((const uint8_t (*)[32])f->chunks,
						   f->nchunks, f->chunk_size, f->size,
						   f->root);
	}
out:
	for (size_t i = 0; i < n; i++)
		if (r.fds[i] >= 0)
			close(r.fds[i]);
	free(r.fds);
	free(r.tasks);
	free(tids);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.finished);
	return ret;
}

void ws_hash_file_release(struct ws_hash_file *f)
{
	free(f->chunks);
	free(f->v1);
	f->chunks = NULL;
	f->v1 = NULL;
	f->nchunks = f->nv1 = 0;
}

/* ---- streaming ---- */

/*
 * A stream buffers one chunk (the merkle tree's unit, at most 4 MiB) and
 * hashes it whole; SHA-256 and the v1 SHA-1 run over the bytes as they
 * come.  With a thread, full chunks go through a queue of STREAM_BUFS
 * buffers to the stream's worker, which does all of the hashing: the
 * caller only copies, and waits when the worker is that far behind.
 */
#define STREAM_BUFS 3

struct sbuf {
	uint8_t *data;
	uint64_t len, off;          /* bytes, and where they start in the file */
};

struct ws_hash_stream {
	struct ws_hash_file *f;
	ws_sha *sha256;             /* NULL unless f->want_sha256 */
	ws_sha *sha1;               /* the v1 piece being hashed, or NULL */
	uint64_t piece_fill;        /* its bytes so far */
	uint64_t cap;               /* bytes per buffer (a chunk, or less) */
	uint64_t fed;               /* bytes fed in all (the caller's thread) */
	struct sbuf bufs[STREAM_BUFS];
	int cur;                    /* the buffer being filled (-1: none yet) */
	/* threaded: free and full buffers, guarded by lock */
	int threaded;
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int full[STREAM_BUFS], nfull, head;  /* queue of indices, FIFO */
	int free_list[STREAM_BUFS], nfree;
	int closing;                /* no more buffers will come */
};

/* the v1 pieces of the n bytes at p, at offset off of the file, continuing
 * the current piece */
static void v1_feed(struct ws_hash_stream *s, const uint8_t *p, uint64_t n, uint64_t off)
{
	struct ws_hash_file *f = s->f;
	uint64_t ps = f->v1_piece_size;

	while (n) {
		uint64_t k = ps - s->piece_fill < n ? ps - s->piece_fill : n;
		ws_sha_update(s->sha1, p, k);
		s->piece_fill += k;
		p += k;
		n -= k;
		off += k;
		if (s->piece_fill == ps) {
			ws_sha_final(s->sha1, f->v1[off / ps - 1]);
			s->piece_fill = 0;
		}
	}
}

/* everything one full (or last) buffer holds, on whichever thread hashes:
 * only that thread touches the hashes, piece_fill and f's outputs */
static void stream_hash(struct ws_hash_stream *s, const struct sbuf *b)
{
	if (s->sha256)
		ws_sha_update(s->sha256, b->data, b->len);
	if (s->f->sha256_only)
		return;
	chunk_roots(s->f, b->data, b->off, b->len);
	if (s->sha1)
		v1_feed(s, b->data, b->len, b->off);
}

static void *stream_worker(void *arg)
{
	struct ws_hash_stream *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->nfull && !s->closing)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->nfull)
			break;
		int i = s->full[s->head];
		s->head = (s->head + 1) % STREAM_BUFS;
		s->nfull--;
		pthread_mutex_unlock(&s->lock);
		stream_hash(s, &s->bufs[i]);
		pthread_mutex_lock(&s->lock);
		s->free_list[s->nfree++] = i;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int ws_hash_stream_new(struct ws_hash_file *f, uint64_t size, int thread,
		       struct ws_hash_stream **out)
{
	struct ws_hash_stream *s;
	int ret;

	f->error = 0;
	f->size = size;
	if ((ret = hash_setup(f)))
		return ret;
	s = xcalloc(1, sizeof(*s));
	s->f = f;
	s->cur = -1;
	if (f->want_sha256)
		s->sha256 = ws_sha256_new();
	if (!f->sha256_only && f->v1_piece_size)
		s->sha1 = ws_sha1_new();
	/* one chunk per buffer (a file shorter than a chunk needs less);
	 * SHA-256 alone needs no chunk, any slice will do */
	s->cap = f->sha256_only ? (256u << 10) : f->chunk_size;
	if (size < s->cap)
		s->cap = size ? size : 1;
	/* a thread is worth it only for more than one buffer of bytes */
	s->threaded = thread && size > s->cap;
	for (int i = 0; i < (s->threaded ? STREAM_BUFS : 1); i++) {
		s->bufs[i].data = xmalloc(s->cap);
		s->free_list[s->nfree++] = i;
	}
	if (s->threaded) {
		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->cond, NULL);
		if (pthread_create(&s->tid, NULL, stream_worker, s) != 0) {
			/* hash on the caller's thread instead */
			pthread_mutex_destroy(&s->lock);
			pthread_cond_destroy(&s->cond);
			s->threaded = 0;
		}
	}
	*out = s;
	return 0;
}

/* hand the buffer being filled over: to the worker, or hash it here */
static void stream_flush(struct ws_hash_stream *s)
{
	if (s->cur < 0 || !s->bufs[s->cur].len)
		return;
	if (!s->threaded) {
		stream_hash(s, &s->bufs[s->cur]);
		s->free_list[s->nfree++] = s->cur;
	} else {
		pthread_mutex_lock(&s->lock);
		s->full[(s->head + s->nfull) % STREAM_BUFS] = s->cur;
		s->nfull++;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	s->cur = -1;
}

/* a free buffer to fill, waiting for the worker when there is none */
static void stream_take(struct ws_hash_stream *s)
{
	if (s->threaded) {
		pthread_mutex_lock(&s->lock);
		while (!s->nfree)
			pthread_cond_wait(&s->cond, &s->lock);
		s->cur = s->free_list[--s->nfree];
		pthread_mutex_unlock(&s->lock);
	} else {
		s->cur = s->free_list[--s->nfree];
	}
	s->bufs[s->cur].len = 0;
	s->bufs[s->cur].off = s->fed;
}

void ws_hash_stream_update(struct ws_hash_stream *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (s->f->error)
		return;
	if (s->fed + len > s->f->size) {
		/* more than announced: the result can only be wrong */
		s->f->error = WS_EMISMATCH;
		return;
	}
	while (len) {
		if (s->cur < 0)
			stream_take(s);
		struct sbuf *b = &s->bufs[s->cur];
		uint64_t k = s->cap - b->len < len ? s->cap - b->len : len;
		memcpy(b->data + b->len, p, k);
		b->len += k;
		s->fed += k;
		p += k;
		len -= k;
		if (b->len == s->cap)
			stream_flush(s);
	}
}

uint64_t ws_hash_stream_fed(const struct ws_hash_stream *s)
{
	return s->fed;
}

/* let the worker finish what it has and end */
static void stream_join(struct ws_hash_stream *s)
{
	if (!s->threaded)
		return;
	pthread_mutex_lock(&s->lock);
	s->closing = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->tid, NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	s->threaded = 0;
}

int ws_hash_stream_final(struct ws_hash_stream *s)
{
	struct ws_hash_file *f = s->f;

	stream_flush(s);
	stream_join(s);
	if (!f->error && s->fed != f->size)
		f->error = WS_EMISMATCH;
	if (f->error)
		return f->error;
	if (s->sha256)
		ws_sha_final(s->sha256, f->sha256);
	if (s->sha1 && s->piece_fill) {
		/* the last piece, padded with zeros as the file hasher does */
		static const uint8_t zeros[1u << 14];
		uint64_t pad = f->v1_pad_last ? f->v1_piece_size - s->piece_fill : 0;
		while (pad) {
			uint64_t k = pad < sizeof(zeros) ? pad : sizeof(zeros);
			ws_sha_update(s->sha1, zeros, k);
			pad -= k;
		}
		ws_sha_final(s->sha1, f->v1[f->nv1 - 1]);
		s->piece_fill = 0;
	}
	if (!f->sha256_only)
		ws_merkle_root_from_chunks((const uint8_t (*)[32])f->chunks, f->nchunks,
					   f->chunk_size, f->size, f->root);
	return 0;
}

void ws_hash_stream_free(struct ws_hash_stream *s)
{
	if (!s)
		return;
	stream_join(s);
	ws_sha_free(s->sha256);
	ws_sha_free(s->sha1);
	for (int i = 0; i < STREAM_BUFS; i++)
		free(s->bufs[i].data);
	free(s);
}
