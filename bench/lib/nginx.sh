# bench/lib/nginx.sh - sourced by the benchmarks that compare against nginx
# (not a benchmark itself: bench/run runs only bench/*.sh).
#
# nginx_conf DIR LISTEN ROOT - write DIR/nginx.conf for one foreground nginx
# process (no master, one worker, sendfile, no access log, temporary files
# and pid under DIR) serving ROOT on LISTEN (ADDR:PORT).  Start it with
#   nginx -e DIR/error.log -p DIR -c DIR/nginx.conf
nginx_conf() {
	mkdir -p "$1/tmp"
	cat >"$1/nginx.conf" <<NGX
user root;
daemon off;
master_process off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	default_type application/octet-stream;
	client_body_temp_path $1/tmp/body;
	proxy_temp_path $1/tmp/proxy;
	fastcgi_temp_path $1/tmp/fastcgi;
	uwsgi_temp_path $1/tmp/uwsgi;
	scgi_temp_path $1/tmp/scgi;
	server {
		listen $2;
		root $3;
	}
}
NGX
}
