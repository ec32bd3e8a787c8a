/* http_page.c - the status page and the JSON API of the HTTP server
 * (see http.h, docs/http.md).  The page is rendered from the same JSON
 * documents the API serves, so the two never disagree. */
#include "http_int.h"
#include "proto/util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the JSON documents ---- */

static json_t *pk_json(const uint8_t pk[32])
{
	char hex[65];
	ws_hex(pk, 32, hex);
	return json_string(hex);
}

/* the node's entry for NAME@VERSION in its status document, or NULL */
static json_t *seeded_entry(json_t *status, const char *name, int64_t version)
{
	json_t *rels = json_object_get(status, "releases"), *e;
	size_t i;

	json_array_foreach(rels, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && !strcmp(n, name) &&
		    json_integer_value(json_object_get(e, "version")) == version)
			return e;
	}
	return NULL;
}

static json_t *api_releases(struct ws_store *st, json_t *status)
{
	struct ws_release *rels = NULL;
	size_t n = 0;
	json_t *arr = json_array();

	if (ws_index_list(st->index, NULL, NULL, &rels, &n))
		return arr;
	for (size_t i = 0; i < n; i++) {
		struct ws_release *r = &rels[i];
		int accepted = r->status == WS_REL_ACCEPTED;
		char seen[21], hex[65];
		json_t *e, *s;

		ws_format_time(r->first_seen, seen);
		ws_hex(r->mhash, 32, hex);
		e = json_pack("{s:s, s:I, s:o, s:s, s:b, s:s, s:s}",
			      "name", r->name, "version", (json_int_t)r->version,
			      "publisher", pk_json(r->pk),
			      "status", accepted ? "accepted" : "evidence",
			      "complete", r->complete, "manifest_sha256", hex,
			      "first_seen", seen);
		if (accepted && r->complete) {
			json_object_set_new(e, "url", json_sprintf("/%s@%" PRId64 "/", r->name,
								   r->version));
			if ((s = seeded_entry(status, r->name, r->version)))
				json_object_set(e, "node", s);
		}
		json_array_append_new(arr, e);
	}
	ws_releases_free(rels, n);
	return arr;
}

/* events that mean someone tried to mislead this node */
static int event_is_alert(int kind)
{
	return kind == WS_EV_EQUIVOCATION || kind == WS_EV_POINTER_EQUIVOCATION ||
	       kind == WS_EV_ROLLBACK_REFUSED || kind == WS_EV_FORK_REFUSED ||
	       kind == WS_EV_GAP_REFUSED;
}

static json_t *api_events(struct ws_store *st)
{
	struct ws_event *ev = NULL;
	size_t n = 0;
	json_t *arr = json_array();

	if (ws_index_events(st->index, NULL, &ev, &n))
		return arr;
	for (size_t i = 0; i < n; i++) {
		char t[21];
		ws_format_time(ev[i].time, t);
		json_array_append_new(arr, json_pack(
			"{s:I, s:s, s:s, s:b, s:s, s:I, s:o, s:s}",
			"seq", (json_int_t)ev[i].seq, "time", t,
			"kind", ws_event_kind_name(ev[i].kind),
			"alert", event_is_alert(ev[i].kind), "name", ev[i].name,
			"version", (json_int_t)ev[i].version, "publisher", pk_json(ev[i].pk),
			"detail", ev[i].detail));
	}
	free(ev);
	return arr;
}

static json_t *api_follows(struct ws_store *st)
{
	struct ws_follow *fl = NULL;
	size_t n = 0;
	json_t *arr = json_array();

	if (ws_index_follows(st->index, &fl, &n))
		return arr;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:o}", "name", fl[i].name,
						     "publisher", pk_json(fl[i].pk.pk)));
	free(fl);
	return arr;
}

/* the node's document, or one that says the node has not reported yet */
static json_t *parse_status(const char *status)
{
	json_t *j = status ? json_loads(status, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_pack("{s:s}", "state", "starting");
	}
	return j;
}

json_t *http_api(struct ws_store *st, const char *status, const char *what)
{
	json_t *s, *doc = NULL;

	if (!strcmp(what, ""))
		return json_pack("{s:[s,s,s,s]}", "documents", "/api/status",
				 "/api/releases", "/api/events", "/api/follows");
	s = parse_status(status);
	if (!strcmp(what, "status"))
		doc = json_incref(s);
	else if (!strcmp(what, "releases"))
		doc = api_releases(st, s);
	else if (!strcmp(what, "events"))
		doc = api_events(st);
	else if (!strcmp(what, "follows"))
		doc = api_follows(st);
	json_decref(s);
	return doc;
}

/* ---- HTML ---- */

struct page {
	char *p;
	size_t len, cap;
};

static void put(struct page *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void text(struct page *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putf(struct page *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct page *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort(); /* out of memory, as the x-wrappers do */
	put(b, s, (size_t)n);
	free(s);
}

/* text from outside (names, paths, details, peers' words) as HTML text */
static void put_esc(struct page *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': text(b, "&amp;"); break;
		case '<': text(b, "&lt;"); break;
		case '>': text(b, "&gt;"); break;
		case '"': text(b, "&quot;"); break;
		case '\'': text(b, "&#39;"); break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				text(b, "\xef\xbf\xbd"); /* U+FFFD */
			else
				put(b, s, 1);
		}
	}
}

/* s as a URL path (percent-escaped but for unreserved characters and
 * '/', '@'), inside an attribute */
static void put_url(struct page *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/@", c))
			put(b, s, 1);
		else
			putf(b, "%%%02X", c);
	}
}

static const char *human(uint64_t n, char out[32])
{
	const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return out;
}

static const char *str_of(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static uint64_t num_of(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v > 0 ? (uint64_t)v : 0;
}

/* o's "NAME@VERSION", escaped; only NAME when o has no version */
static void put_ref(struct page *b, json_t *o)
{
	/* a release has a name; a node's transfer says what it fetches */
	put_esc(b, json_object_get(o, "name") ? str_of(o, "name") : str_of(o, "what"));
	if (num_of(o, "version"))
		putf(b, "@%" PRIu64, num_of(o, "version"));
}

static const char style[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72em;padding:1em 2em;"
	"color:#1d232b;background:#f6f7f9}"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.6em 0 .4em}"
	"table{border-collapse:collapse;width:100%;background:#fff}"
	"th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #e2e5e9;vertical-align:top}"
	"th{background:#eceff3;font-weight:600}td.n{text-align:right;white-space:nowrap}td.t{white-space:nowrap}"
	".tiles{display:flex;flex-wrap:wrap;gap:.8em;margin:.8em 0}"
	".tile{background:#fff;border:1px solid #e2e5e9;border-radius:6px;padding:.5em 1em;min-width:9em}"
	".tile b{display:block;font-size:1.4em}"
	".bar{background:#e2e5e9;border-radius:3px;height:.9em;width:12em;display:inline-block;"
	"vertical-align:middle;overflow:hidden}.bar i{display:block;height:100%;background:#2f7d32}"
	"tr.alert td{background:#fde8e8;color:#8a1111;font-weight:600}"
	".ok{color:#2f7d32}.warn{color:#8a1111;font-weight:600}.muted{color:#6b7480}"
	"code{font-size:.9em}a{color:#1f5fa8}";

static void page_head(struct page *b, const char *title, int refresh)
{
	text(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
	if (refresh)
		putf(b, "<meta http-equiv=\"refresh\" content=\"%d\">", refresh);
	text(b, "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	put_esc(b, title);
	putf(b, "</title><style>%s</style></head><body>\n", style);
}

static void tile(struct page *b, const char *label, const char *value)
{
	text(b, "<div class=\"tile\"><b>");
	put_esc(b, value);
	text(b, "</b>");
	put_esc(b, label);
	text(b, "</div>");
}

/*
 * A section's heading, then either the sentence empty (n == 0: returns 0)
 * or the start of its table with these column headings (returns 1).
 */
static int section(struct page *b, const char *id, const char *title, size_t n,
		   const char *empty, const char *const *cols)
{
	putf(b, "<h2 id=\"%s\">%s</h2>\n", id, title);
	if (!n) {
		putf(b, "<p class=\"muted\">%s</p>\n", empty);
		return 0;
	}
	text(b, "<table><tr>");
	for (; *cols; cols++)
		putf(b, "<th>%s</th>", *cols);
	text(b, "</tr>\n");
	return 1;
}

static void section_summary(struct page *b, json_t *s, size_t nseeded, json_t *ev)
{
	size_t alerts = 0;

	char v[64], h1[32], h2[32];
	const char *state = str_of(s, "state");

	text(b, "<h1>weightsync node</h1><p>");
	putf(b, "<span class=\"%s\">", !strcmp(state, "running") ? "ok" : "warn");
	put_esc(b, state);
	text(b, "</span>");
	if (*str_of(s, "listen")) {
		text(b, " &middot; BitTorrent on <code>");
		put_esc(b, str_of(s, "listen"));
		if (*str_of(s, "http")) {
			text(b, "</code> &middot; HTTP on <code>");
			put_esc(b, str_of(s, "http"));
		}
		text(b, "</code> &middot; since ");
		put_esc(b, str_of(s, "started"));
		putf(b, " &middot; pid %" PRIu64 " &middot; updated ", num_of(s, "pid"));
		char t[21];
		ws_format_time((int64_t)num_of(s, "updated"), t);
		put_esc(b, t);
	}
	text(b, "</p><div class=\"tiles\">");
	snprintf(v, sizeof(v), "%zu", nseeded);
	tile(b, "releases seeded", v);
	snprintf(v, sizeof(v), "%" PRIu64, num_of(s, "peers"));
	tile(b, "peers", v);
	if (json_is_false(json_object_get(s, "dht")))
		snprintf(v, sizeof(v), "off");
	else
		snprintf(v, sizeof(v), "%" PRIu64 " node%s", num_of(s, "dht_nodes"),
			 num_of(s, "dht_nodes") == 1 ? "" : "s");
	tile(b, "DHT", v);
	snprintf(v, sizeof(v), "%s / %s", human(num_of(s, "bytes_up"), h1),
		 human(num_of(s, "bytes_down"), h2));
	tile(b, "uploaded / downloaded", v);
	text(b, "</div>\n");
	for (size_t i = 0; i < json_array_size(ev); i++)
		alerts += json_is_true(json_object_get(json_array_get(ev, i), "alert"));
	if (alerts)
		putf(b, "<p class=\"warn\">%zu refusal or equivocation event%s: someone offered "
		     "this node data its rules refuse (<a href=\"#events\">event log</a>).</p>\n",
		     alerts, alerts == 1 ? "" : "s");
}

static void section_transfers(struct page *b, json_t *s)
{
	json_t *arr = json_object_get(s, "transfers"), *t;
	size_t i;
	char h1[32], h2[32], h3[32], h4[32];

	static const char *const cols[] = { "Release", "Phase", "Progress", "Done", "Down",
					    "Up", "Peers", NULL };

	if (!section(b, "transfers", "Transfers", json_array_size(arr),
		     "No transfer in progress.", cols))
		return;
	json_array_foreach(arr, i, t) {
		uint64_t done = num_of(t, "done"), total = num_of(t, "total");
		double pct = total ? 100.0 * (double)done / (double)total : 0;
		text(b, "<tr class=\"transfer\"><td>");
		put_ref(b, t);
		text(b, "</td><td>");
		put_esc(b, str_of(t, "phase"));
		putf(b, "</td><td><span class=\"bar\"><i style=\"width:%.1f%%\"></i></span> %.1f%%"
		     "</td><td class=\"n\">%s of %s</td><td class=\"n\">%s/s</td>"
		     "<td class=\"n\">%s/s</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
		     pct, pct, human(done, h1), human(total, h2),
		     human(num_of(t, "rate_down"), h3), human(num_of(t, "rate_up"), h4),
		     num_of(t, "peers"));
	}
	text(b, "</table>\n");
}

static void section_releases(struct page *b, json_t *rels)
{
	json_t *r;
	size_t i;
	char h[32];

	static const char *const cols[] = { "Release", "Publisher", "State", "Peers",
					    "Uploaded", "Up", "First seen", NULL };

	if (!section(b, "releases", "Releases", json_array_size(rels),
		     "The store holds no release.", cols))
		return;
	json_array_foreach(rels, i, r) {
		json_t *node = json_object_get(r, "node");
		int evidence = !strcmp(str_of(r, "status"), "evidence");
		const char *state = evidence ? "evidence of equivocation" :
				    node ? str_of(node, "state") :
				    json_is_true(json_object_get(r, "complete")) ? "complete" :
				    "incomplete";
		text(b, evidence ? "<tr class=\"alert\"><td>" : "<tr><td>");
		if (json_object_get(r, "url")) {
			text(b, "<a href=\"");
			put_url(b, str_of(r, "url"));
			text(b, "\">");
		}
		put_esc(b, str_of(r, "name"));
		putf(b, "@%" PRIu64 "%s</td><td><code>%.16s</code></td><td>", num_of(r, "version"),
		     json_object_get(r, "url") ? "</a>" : "", str_of(r, "publisher"));
		put_esc(b, state);
		putf(b, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%s</td>",
		     num_of(node, "peers"), human(num_of(node, "uploaded"), h));
		putf(b, "<td class=\"n\">%s/s</td><td>", human(num_of(node, "rate_up"), h));
		put_esc(b, str_of(r, "first_seen"));
		text(b, "</td></tr>\n");
	}
	text(b, "</table>\n");
}

static void section_follows(struct page *b, json_t *fl)
{
	json_t *f;
	size_t i;

	static const char *const cols[] = { "Name", "Publisher", NULL };

	if (!section(b, "follows", "Followed names", json_array_size(fl),
		     "No name is followed.", cols))
		return;
	json_array_foreach(fl, i, f) {
		text(b, "<tr><td>");
		put_esc(b, str_of(f, "name"));
		putf(b, "</td><td><code>%.16s</code></td></tr>\n", str_of(f, "publisher"));
	}
	text(b, "</table>\n");
}

#define EVENTS_SHOWN 100

static void section_events(struct page *b, json_t *ev)
{
	size_t n = json_array_size(ev);
	json_t *e;

	static const char *const cols[] = { "Time", "Event", "Release", "Detail", NULL };

	if (!section(b, "events", "Event log", n, "No event yet.", cols))
		return;
	/* newest first, the latest EVENTS_SHOWN */
	for (size_t i = n; i > 0 && i + EVENTS_SHOWN > n; i--) {
		e = json_array_get(ev, i - 1);
		int alert = json_is_true(json_object_get(e, "alert"));
		text(b, alert ? "<tr class=\"alert\"><td class=\"t\">" : "<tr><td class=\"t\">");
		put_esc(b, str_of(e, "time"));
		text(b, "</td><td>");
		put_esc(b, str_of(e, "kind"));
		text(b, "</td><td>");
		put_ref(b, e);
		text(b, "</td><td>");
		put_esc(b, str_of(e, "detail"));
		text(b, "</td></tr>\n");
	}
	text(b, "</table>\n");
	if (n > EVENTS_SHOWN)
		putf(b, "<p class=\"muted\">%zu older events: <a href=\"/api/events\">/api/events</a>"
		     "</p>\n", n - EVENTS_SHOWN);
}

char *http_page_status(struct ws_store *st, const char *status, size_t *len)
{
	struct page b = { 0 };
	json_t *s = parse_status(status);
	json_t *rels = api_releases(st, s), *fl = api_follows(st), *ev = api_events(st);

	page_head(&b, "weightsync node", 5);
	section_summary(&b, s, json_array_size(json_object_get(s, "releases")), ev);
	section_transfers(&b, s);
	section_releases(&b, rels);
	section_follows(&b, fl);
	section_events(&b, ev);
	text(&b, "<p class=\"muted\">JSON: <a href=\"/api/status\">/api/status</a>, "
	    "<a href=\"/api/releases\">/api/releases</a>, <a href=\"/api/events\">/api/events"
	    "</a>, <a href=\"/api/follows\">/api/follows</a>.  This page reloads every 5 s."
	    "</p>\n</body></html>\n");
	json_decref(s);
	json_decref(rels);
	json_decref(fl);
	json_decref(ev);
	*len = b.len;
	return b.p;
}

char *http_page_release(const struct ws_manifest *m, const char *prefix, size_t *len)
{
	struct page b = { 0 };
	char title[WS_NAME_MAX + 32], h[32], hex[65];

	snprintf(title, sizeof(title), "%s@%" PRId64, m->name, m->version);
	page_head(&b, title, 0);
	text(&b, "<p><a href=\"/\">weightsync node</a></p><h1>");
	put_esc(&b, title);
	text(&b, "</h1>\n<table><tr><th>File</th><th>Size</th><th>SHA-256</th></tr>\n");
	for (size_t i = 0; i < m->nfiles; i++) {
		text(&b, "<tr><td><a href=\"");
		put_url(&b, prefix);
		put_url(&b, m->files[i].path);
		text(&b, "\">");
		put_esc(&b, m->files[i].path);
		ws_hex(m->files[i].sha256, 32, hex);
		putf(&b, "</a></td><td class=\"n\">%s</td><td><code>%s</code></td></tr>\n",
		     human(m->files[i].size, h), hex);
	}
	text(&b, "</table>\n<p class=\"muted\">Signed manifest: <a href=\"");
	put_url(&b, prefix);
	text(&b, WS_MANIFEST_FILE "\">" WS_MANIFEST_FILE "</a>, <a href=\"");
	put_url(&b, prefix);
	text(&b, WS_SIG_FILE "\">signature</a>.</p>\n</body></html>\n");
	*len = b.len;
	return b.p;
}
