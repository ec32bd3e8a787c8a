/*
 * test_control.c - the node's control framing (node/control.h) and its
 * config file parser (node/config.h), without a node.
 */
#include "node/config.h"
#include "node/control.h"
#include "proto/error.h"
#include "proto/util.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void feed(struct ws_ctl_reader *r, const char *s)
{
	size_t n = strlen(s);
	if (r->cap - r->len < n) {
		r->cap = r->len + n + 16;
		r->buf = xrealloc(r->buf, r->cap);
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
}

static void test_framing(void)
{
	struct ws_ctl_reader r = { 0 };
	json_t *j = NULL, *o = json_pack("{s:s, s:i}", "cmd", "a\nb", "id", 3);
	size_t len;
	char *line = ws_ctl_encode(o, &len);

	CHECK(line && len == strlen(line) && line[len - 1] == '\n' &&
	      !memchr(line, '\n', len - 1), "a message is one line, its newlines escaped");
	feed(&r, line);
	CHECK_EQ_INT(ws_ctl_take(&r, &j), 0, "and reads back");
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "cmd")), "a\nb") &&
	      json_integer_value(json_object_get(j, "id")) == 3, "with its fields");
	json_decref(j);
	CHECK_EQ_INT(r.len, 0, "nothing left over");
	free(line);
	json_decref(o);

	feed(&r, "{\"cmd\": \"status\"}\n{\"cmd\": \"tr");
	CHECK_EQ_INT(ws_ctl_take(&r, &j), 0, "two lines at once: the first");
	json_decref(j);
	CHECK_EQ_INT(ws_ctl_take(&r, &j), WS_ENOTFOUND, "the second is not complete yet");
	feed(&r, "ansfers\"}\n");
	CHECK_EQ_INT(ws_ctl_take(&r, &j), 0, "until its newline comes");
	CHECK(!strcmp(json_string_value(json_object_get(j, "cmd")), "transfers"), "whole");
	json_decref(j);

	feed(&r, "[1, 2]\nnot json\n{\"a\": 1, \"a\": 2}\n");
	CHECK_EQ_INT(ws_ctl_take(&r, &j), WS_EFORMAT, "an array is not a message");
	CHECK_EQ_INT(ws_ctl_take(&r, &j), WS_EFORMAT, "nor is text");
	CHECK_EQ_INT(ws_ctl_take(&r, &j), WS_EFORMAT, "nor an object with a key twice");
	CHECK_EQ_INT(r.len, 0, "each dropped");
	ws_ctl_reader_release(&r);

	r.cap = WS_CTL_LINE_MAX + 2;
	r.buf = xmalloc(r.cap);
	memset(r.buf, 'x', r.cap);
	r.len = r.cap;
	CHECK_EQ_INT(ws_ctl_take(&r, &j), WS_ETOOBIG, "too long without a newline");
	ws_ctl_reader_release(&r);
}

static void test_socket(const char *home)
{
	int l = -1, c = -1, s = -1;
	char *msg = NULL, *path = xasprintf("%s/" WS_CTL_SOCKET_FILE, home);
	struct stat sb;
	struct ws_ctl_reader r = { 0 };
	json_t *j = NULL;

	CHECK_EQ_INT(ws_ctl_connect(home, &c), WS_ENOTFOUND, "no node: not found");
	CHECK_EQ_INT(ws_ctl_listen(home, &l, &msg), 0, "listen");
	CHECK(stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode) && (sb.st_mode & 0777) == 0600,
	      "the socket is mode 0600");
	CHECK_EQ_INT(ws_ctl_connect(home, &c), 0, "connect");
	s = accept(l, NULL, NULL);
	CHECK(s >= 0 && ws_ctl_peer_allowed(s, home), "the home's owner is allowed");
	json_t *o = json_pack("{s:s}", "cmd", "status");
	CHECK_EQ_INT(ws_ctl_send(c, o), 0, "send");
	json_decref(o);
	CHECK_EQ_INT(ws_ctl_recv(s, &r, 5000, &j), 0, "receive");
	json_decref(j);
	CHECK_EQ_INT(ws_ctl_recv(s, &r, 10, &j), WS_ETIMEOUT, "nothing more: a timeout");
	close(c);
	CHECK_EQ_INT(ws_ctl_recv(s, &r, 5000, &j), -EPIPE, "closed: EPIPE");
	ws_ctl_reader_release(&r);
	close(s);
	close(l);
	unlink(path);
	CHECK_EQ_INT(ws_ctl_listen(home, &l, &msg), 0, "a stale socket file is replaced");
	close(l);
	free(path);
	free(msg);
}

static int write_conf(const char *home, const char *text)
{
	char *p = xasprintf("%s/" WS_NODE_CONFIG_FILE, home);
	int ret = ws_write_file_atomic(p, text, strlen(text), 0600, 0);
	free(p);
	return ret;
}

static void test_config(const char *home)
{
	struct ws_node_config cf;
	struct ws_seed_opts o;
	char *msg = NULL;

	CHECK_EQ_INT(ws_node_config_load(home, &cf, &msg), 0, "no file: fine");
	CHECK(cf.path == NULL && cf.dht == -1 && cf.upload_limit == -1, "and nothing set");
	ws_node_config_release(&cf);

	write_conf(home, "# comment\n\n  listen = 127.0.0.1:6881  # trailing\n"
		   "bootstrap = a.example:1, 10.0.0.1:2\nbootstrap=10.0.0.3:3\n"
		   "dht = no\nlsd = yes\nupload_limit = 5M\ndownload_limit = 0\n"
		   "follow_interval = 60\nmax_transfers = 2\nhttp = 127.0.0.1:8080\n");
	CHECK_EQ_INT(ws_node_config_load(home, &cf, &msg), 0, "a full file");
	memset(&o, 0, sizeof(o));
	o.follow_s = 5;
	o.reput_s = 9;
	ws_node_config_apply(&cf, &o);
	CHECK(!strcmp(o.net.listen, "127.0.0.1:6881"), "listen, comment and spaces gone");
	CHECK(o.net.nbootstrap == 3 && !strcmp(o.net.bootstrap[1], "10.0.0.1:2") &&
	      !strcmp(o.net.bootstrap[2], "10.0.0.3:3"), "bootstrap lists add up");
	CHECK(o.net.no_dht == 1 && o.net.lsd == 1 && o.net.upnp == 0, "yes and no");
	CHECK(o.net.upload_limit == 5000000 && o.net.download_limit == 0, "sizes");
	CHECK(o.follow_s == 60 && o.reput_s == 9 && o.max_active == 2, "numbers; unset kept");
	CHECK(!strcmp(o.http_listen, "127.0.0.1:8080") && o.config_file == cf.path,
	      "http passed through, the file named");
	ws_node_config_release(&cf);

	static const char *const bad[] = {
		"colour = blue\n", "dht = maybe\n", "upload_limit = 5X\n",
		"follow_interval = 0\n", "max_transfers = 65\n", "listen =\n",
		"no equals sign\n", "reput_interval = -1\n", "upload_limit = 99999999999\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[96];
		write_conf(home, bad[i]);
		snprintf(what, sizeof(what), "refused: %.*s", (int)strlen(bad[i]) - 1, bad[i]);
		free(msg);
		msg = NULL;
		CHECK(ws_node_config_load(home, &cf, &msg) == WS_EFORMAT && msg &&
		      strstr(msg, "line 1"), what);
		ws_node_config_release(&cf);
	}
	free(msg);
}

int main(void)
{
	char home[] = "/tmp/ws-test-control.XXXXXX";

	if (!mkdtemp(home))
		return 1;
	test_framing();
	test_socket(home);
	test_config(home);
	ws_rm_rf(home);
	return check_done();
}
