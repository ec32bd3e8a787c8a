/* evidence.c - newer versions and equivocation, told between peers
 * (see evidence.h) */
#include "evidence.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "WSE1"

size_t ws_evidence_encode(const struct ws_pointer *ps, size_t n, uint8_t *buf)
{
	size_t len = 4;

	memcpy(buf, MAGIC, 4);
	for (size_t i = 0; i < n && i < WS_EVIDENCE_ITEMS; i++) {
		size_t sl = strlen(ps[i].salt);
		uint64_t seq = (uint64_t)ps[i].seq;
		memcpy(buf + len, ps[i].pk, 32);
		len += 32;
		buf[len++] = (uint8_t)sl;
		memcpy(buf + len, ps[i].salt, sl);
		len += sl;
		for (int b = 7; b >= 0; b--)
			buf[len++] = (uint8_t)(seq >> (8 * b));
		buf[len++] = (uint8_t)(ps[i].vlen >> 8);
		buf[len++] = (uint8_t)ps[i].vlen;
		memcpy(buf + len, ps[i].v, ps[i].vlen);
		len += ps[i].vlen;
		memcpy(buf + len, ps[i].sig, 64);
		len += 64;
	}
	return len;
}

int ws_evidence_decode(const uint8_t *data, size_t len, struct ws_pointer *out,
		       size_t *n)
{
	size_t off = 4, k = 0;

	if (len < 4 || memcmp(data, MAGIC, 4))
		return WS_EFORMAT;
	while (off < len) {
		struct ws_pointer *p = &out[k];
		size_t sl, vl;
		uint64_t seq = 0;
		if (k == WS_EVIDENCE_ITEMS || len - off < 33)
			return WS_EFORMAT;
		memset(p, 0, sizeof(*p));
		memcpy(p->pk, data + off, 32);
		sl = data[off + 32];
		off += 33;
		if (sl == 0 || sl > WS_SALT_MAX || len - off < sl + 8 + 2)
			return WS_EFORMAT;
		memcpy(p->salt, data + off, sl);
		if (memchr(p->salt, '\0', sl))
			return WS_EFORMAT;
		off += sl;
		for (int b = 0; b < 8; b++)
			seq = seq << 8 | data[off++];
		vl = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (seq > (uint64_t)WS_VERSION_MAX || vl > WS_POINTER_VMAX || len - off < vl + 64)
			return WS_EFORMAT;
		p->seq = (int64_t)seq;
		p->vlen = vl;
		memcpy(p->v, data + off, vl);
		off += vl;
		memcpy(p->sig, data + off, 64);
		off += 64;
		k++;
	}
	*n = k;
	return 0;
}

int ws_evidence_offer(struct ws_store *st, ws_lt_torrent *t, const uint8_t pk[32],
		      const char *name)
{
	struct ws_pointer *ps = NULL, *pick;
	uint8_t *buf;
	size_t n = 0, k = 0;
	int64_t top = 0;
	int ret = ws_index_name_pointers(st->index, pk, name, &ps, &n);

	if (ret)
		return ret;
	pick = xcalloc(WS_EVIDENCE_ITEMS, sizeof(*pick));
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ps[i].salt, name) && ps[i].seq > top)
			top = ps[i].seq;
	for (size_t i = 0; i < n && k < WS_EVIDENCE_ITEMS; i++) {
		/* records sort by salt, then seq: a conflict is a neighbour
		 * with the same salt and seq */
		int conflict = (i > 0 && ps[i - 1].seq == ps[i].seq &&
				!strcmp(ps[i - 1].salt, ps[i].salt)) ||
			       (i + 1 < n && ps[i + 1].seq == ps[i].seq &&
				!strcmp(ps[i + 1].salt, ps[i].salt));
		if (conflict || (!strcmp(ps[i].salt, name) && ps[i].seq == top))
			pick[k++] = ps[i];
	}
	free(ps);
	buf = xmalloc(WS_LT_EVIDENCE_MAX);
	ret = ws_lt_evidence_offer(t, buf, k ? ws_evidence_encode(pick, k, buf) : 0);
	free(buf);
	free(pick);
	return ret;
}

/* a pointer of (pk, name): salt "NAME" or "NAME@digits" */
static int is_name_pointer(const struct ws_pointer *p, const uint8_t pk[32],
			   const char *name)
{
	size_t nl = strlen(name);

	if (memcmp(p->pk, pk, 32) || strncmp(p->salt, name, nl))
		return 0;
	return p->salt[nl] == '\0' || p->salt[nl] == '@';
}

int ws_evidence_take(struct ws_store *st, ws_lt_torrent *t, const uint8_t pk[32],
		     const char *name, struct ws_evidence_seen *seen)
{
	struct ws_lt_blob *b = NULL;
	struct ws_pointer *items = xcalloc(WS_EVIDENCE_ITEMS, sizeof(*items));
	size_t nb = 0;
	int ret = ws_lt_evidence_take(t, &b, &nb);

	for (size_t i = 0; i < nb && ret == 0; i++) {
		size_t n = 0;
		if (ws_evidence_decode(b[i].data, b[i].len, items, &n)) {
			seen->refused++;
			continue;
		}
		for (size_t j = 0; j < n && ret == 0; j++) {
			struct ws_pointer *p = &items[j];
			int r;
			/* believed only with the publisher's signature */
			if (!is_name_pointer(p, pk, name) || ws_pointer_check(p)) {
				seen->refused++;
				continue;
			}
			r = ws_index_put_pointer(st->index, p, NULL);
			if (r == 0)
				seen->kept++;
			if (r == WS_EEQUIVOCATION) {
				seen->equivocations++;
				seen->equivocated_version = p->seq;
			} else if (r && r != WS_EEXIST) {
				ret = r;
			}
			if (!strcmp(p->salt, name) &&
			    (!seen->have_newest || p->seq > seen->newest.seq)) {
				seen->newest = *p;
				seen->have_newest = 1;
			}
		}
	}
	for (size_t i = 0; i < nb; i++)
		free(b[i].data);
	free(b);
	free(items);
	return ret;
}

void ws_evidence_exchange(struct ws_store *st, ws_lt_torrent *t,
			  const uint8_t mhash[32])
{
	struct ws_evidence_seen seen;
	struct ws_release r;

	if (ws_index_find_release(st->index, mhash, &r))
		return;
	memset(&seen, 0, sizeof(seen));
	ws_evidence_take(st, t, r.pk, r.name, &seen);
	ws_evidence_offer(st, t, r.pk, r.name);
	ws_release_release(&r);
}
