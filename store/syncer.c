/* syncer.c - fsync and rename finished files on a worker thread (see syncer.h) */
#include "syncer.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
	struct job *next;
	int fd;
	char *from, *to;            /* NULL: a writeback start of [off, off + len) */
	uint64_t off, len;
};

struct ws_syncer {
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, **tail;   /* FIFO, guarded by lock */
	int closing;
	int err;                    /* first failure */
	char *msg;
};

/* fsync, then rename: never a file at its destination before its bytes
 * are on disk */
static int sync_one(int fd, const char *from, const char *to, char **msg)
{
	int ret = 0;

	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (!ret)
		ret = ws_mkdir_parent(to);
	if (!ret && rename(from, to) < 0)
		ret = -errno;
	if (ret)
		ws_seterr(msg, ret, "cannot move '%s' into place: %s", from, ws_strerror(ret));
	return ret;
}

static void *worker(void *arg)
{
	struct ws_syncer *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->head && !s->closing)
			pthread_cond_wait(&s->cond, &s->lock);
		struct job *j = s->head;
		if (!j)
			break;
		s->head = j->next;
		if (!s->head)
			s->tail = &s->head;
		pthread_mutex_unlock(&s->lock);
		char *m = NULL;
		int ret = 0;
		if (j->from) {
			ret = sync_one(j->fd, j->from, j->to, &m);
		} else {
			sync_file_range(j->fd, (off_t)j->off, (off_t)j->len, SYNC_FILE_RANGE_WRITE);
			close(j->fd);
		}
		free(j->from);
		free(j->to);
		free(j);
		pthread_mutex_lock(&s->lock);
		if (ret && !s->err) {
			s->err = ret;
			s->msg = m;
			m = NULL;
		}
		free(m);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct ws_syncer *ws_syncer_new(void)
{
	struct ws_syncer *s = xcalloc(1, sizeof(*s));

	s->tail = &s->head;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pthread_create(&s->tid, NULL, worker, s) != 0) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s);
		return NULL;
	}
	return s;
}

static void push(struct ws_syncer *s, struct job *j)
{
	pthread_mutex_lock(&s->lock);
	*s->tail = j;
	s->tail = &j->next;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

int ws_syncer_put(struct ws_syncer *s, int fd, const char *from, const char *to, char **msg)
{
	struct job *j;

	if (!s)
		return sync_one(fd, from, to, msg);
	j = xcalloc(1, sizeof(*j));
	j->fd = fd;
	j->from = xstrdup(from);
	j->to = xstrdup(to);
	push(s, j);
	return 0;
}

void ws_syncer_writeback(struct ws_syncer *s, int fd, uint64_t off, uint64_t len)
{
	struct job *j;
	int dfd;

	if (!s || (dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->fd = dfd;
	j->off = off;
	j->len = len;
	push(s, j);
}

int ws_syncer_error(struct ws_syncer *s)
{
	int err;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	err = s->err;
	pthread_mutex_unlock(&s->lock);
	return err;
}

int ws_syncer_finish(struct ws_syncer *s, char **msg)
{
	int ret;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->closing = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->tid, NULL);
	ret = s->err;
	if (ret && msg) {
		free(*msg);
		*msg = s->msg;
		s->msg = NULL;
	}
	free(s->msg);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
	return ret;
}
