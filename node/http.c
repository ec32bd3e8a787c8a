/* http.c - the node's HTTP server: start, stop, route (see http.h) */
#include "http_int.h"
#include "proto/error.h"
#include "proto/util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum MHD_Result http_respond(struct MHD_Connection *c, unsigned code,
			     const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result http_not_found(struct MHD_Connection *c, const char *why)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "not found: %s\n", why);
	return http_respond(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", body,
			    (size_t)n < sizeof(body) ? (size_t)n : sizeof(body) - 1);
}

/* a copy of the status document, so rendering runs without the lock */
static char *status_copy(struct ws_http *h)
{
	char *s;
	pthread_mutex_lock(&h->lock);
	s = h->status ? xstrdup(h->status) : NULL;
	pthread_mutex_unlock(&h->lock);
	return s;
}

static enum MHD_Result serve_api(struct ws_http *h, struct MHD_Connection *c,
				 const char *what)
{
	char *status = status_copy(h), *text;
	json_t *doc = http_api(h->st, status, what);
	enum MHD_Result ret;

	free(status);
	if (!doc)
		return http_not_found(c, "no such API document (see /api/)");
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return http_respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "text/plain; charset=utf-8", "cannot format\n", 14);
	ret = http_respond(c, MHD_HTTP_OK, "application/json", text, strlen(text));
	free(text);
	return ret;
}

static enum MHD_Result serve_page(struct ws_http *h, struct MHD_Connection *c)
{
	char *status = status_copy(h), *page;
	size_t len;
	enum MHD_Result ret;

	page = http_page_status(h->st, status, &len);
	free(status);
	ret = http_respond(c, MHD_HTTP_OK, "text/html; charset=utf-8", page, len);
	free(page);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static const char refusal[] = "method not allowed: this server is read-only\n";
	struct ws_http *h = cls;
	static int seen;

	/* read-only: anything but GET and HEAD is refused before its body is
	 * read (libmicrohttpd then closes the connection) */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return http_respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
				    refusal, sizeof(refusal) - 1);
	/* the first call comes with the headers; answering only in the
	 * second, once the request is complete, keeps the connection alive
	 * for the next one (a web seed asks for many ranges) */
	if (!*req_cls) {
		*req_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size) {   /* a GET with a body: read and dropped */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/"))
		return serve_page(h, c);
	if (!strcmp(url, "/api") || !strcmp(url, "/api/"))
		return serve_api(h, c, "");
	if (!strncmp(url, "/api/", 5))
		return serve_api(h, c, url + 5);
	return http_serve_release(h, c, url);
}

/* addr "A.B.C.D:PORT" or "[V6]:PORT" into a bound, listening socket */
static int listen_on(const char *addr, int *fd_out, char **msg)
{
	struct addrinfo hints, *ai = NULL;
	char host[64];
	const char *colon, *h = addr;
	size_t n;
	int fd, one = 1, e;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':')
			goto bad;
		h = addr + 1;
		n = (size_t)(close - h);
		colon = close + 1;
	} else {
		if (!(colon = strrchr(addr, ':')))
			goto bad;
		n = (size_t)(colon - addr);
	}
	if (n == 0 || n >= sizeof(host) || !colon[1] || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1) || strlen(colon + 1) > 5 || atoi(colon + 1) > 65535)
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = addr[0] == '[' ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, colon + 1, &hints, &ai) || !ai)
		goto bad;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return ws_seterr(msg, WS_ENETWORK, "cannot listen on '%s' for HTTP: %s", addr,
				 strerror(e));
	}
	freeaddrinfo(ai);
	*fd_out = fd;
	return 0;
bad:
	return ws_seterr(msg, -EINVAL, "'%s' is not ADDR:PORT for HTTP", addr);
}

int ws_http_start(struct ws_store *st, const char *addr, ws_http **out, char **msg)
{
	struct ws_http *h;
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	int fd = -1, ret;

	if ((ret = listen_on(addr, &fd, msg)))
		return ret;
	h = xcalloc(1, sizeof(*h));
	h->st = st;
	pthread_mutex_init(&h->lock, NULL);
	if (getsockname(fd, (struct sockaddr *)&ss, &slen) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ?
				((struct sockaddr_in6 *)&ss)->sin6_port :
				((struct sockaddr_in *)&ss)->sin_port);
	h->address = xasprintf("%.*s:%d", (int)(strrchr(addr, ':') - addr), addr, h->port);
	/* a thread per connection: a big file goes out in large sendfile()
	 * calls, and a slow client never holds up the others */
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				MHD_USE_POLL,
				0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
				MHD_OPTION_END);
	if (!h->d) {
		close(fd);
		ws_http_stop(h);
		return ws_seterr(msg, WS_ENETWORK, "cannot start the HTTP server on '%s'", addr);
	}
	*out = h;
	return 0;
}

int ws_http_port(const ws_http *h)
{
	return h->port;
}

const char *ws_http_address(const ws_http *h)
{
	return h->address;
}

void ws_http_set_status(ws_http *h, const char *json, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, json, len);
	copy[len] = '\0';
	pthread_mutex_lock(&h->lock);
	free(h->status);
	h->status = copy;
	http_cache_clear(h);
	pthread_mutex_unlock(&h->lock);
}

void ws_http_stop(ws_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d); /* closes the listening socket */
	http_cache_clear(h);
	free(h->status);
	free(h->address);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
