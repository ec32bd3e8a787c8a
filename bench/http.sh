#!/bin/bash
# bench/http.sh - the node's HTTP server (`seed --http`) against nginx: one
# file of WS_BENCH_HTTP_MIB (default 1024) MiB of a published release, to
# curl over loopback, from the page cache, written to /dev/null.  Both
# servers serve the same file at the same path (/NAME@1/FILE; nginx's root
# is the publisher's folder under releases/), in the same run, alternating.
#
#   WS_BIN              the weightsync binary (bench/run sets it)
#   WS_BENCH_HTTP_MIB   file size in MiB (default 1024)
#   WS_BENCH_RUNS       downloads per server; the median is reported (default 5)
#   WS_BENCH_DIR        where the temporary folder goes (default $TMPDIR or /tmp)
#
# Target (informational, the exit status ignores it): weightsync >= 0.8x
# nginx's throughput.  Also a ranged pass: 256 requests of 4 MiB at random
# offsets on one kept-alive connection (what a web seed asks for).
# Needs curl and nginx (scripts/deps.sh nginx; `make bench` installs it).
set -euo pipefail

: "${WS_BIN:?set WS_BIN to the weightsync binary (bench/run does)}"
MIB=${WS_BENCH_HTTP_MIB:-1024}
RUNS=${WS_BENCH_RUNS:-5}
BASE=${WS_BENCH_DIR:-${TMPDIR:-/tmp}}
ADDR=127.0.0.4
PY=/usr/bin/python3
. "$(dirname "$0")/lib/nginx.sh"

die() { echo "bench/http: $*" >&2; exit 1; }
[[ $MIB =~ ^[1-9][0-9]*$ ]] || die "WS_BENCH_HTTP_MIB must be a positive integer"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "WS_BENCH_RUNS must be a positive integer"
for tool in curl nginx; do
	command -v "$tool" >/dev/null || die "'$tool' is needed (scripts/deps.sh $tool)"
done
avail_kb=$(df -Pk "$BASE" | awk 'NR == 2 { print $4 }')
(( avail_kb > 3 * MIB * 1024 )) || die "$BASE needs $(( 3 * MIB )) MiB free"

tmp=$(mktemp -d "$BASE/ws-bench-http.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	$PY -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}
wait_for() { # SECONDS CMD
	local i=0
	until eval "$2" >/dev/null 2>&1; do
		(( ++i < $1 * 10 )) || return 1
		sleep 0.1
	done
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- the release -----------------------------------------------------------
export WEIGHTSYNC_HOME=$tmp/home
mkdir -p "$tmp/model"
head -c $(( MIB << 20 )) /dev/urandom >"$tmp/model/big.bin"
printf '{"note": "weightsync bench data, random bytes"}\n' >"$tmp/model/config.json"
"$WS_BIN" keygen --no-password >/dev/null 2>&1
"$WS_BIN" publish "$tmp/model" --name http-bench >/dev/null 2>&1 || die "publish failed"
rm -rf "$tmp/model"
rel=$("$WS_BIN" show http-bench@1 --json | $PY -c 'import json, sys; print(json.load(sys.stdin)["path"])')
FILE=http-bench@1/big.bin

# --- the servers -----------------------------------------------------------
WS_PORT=$(free_port $ADDR)
"$WS_BIN" seed --listen $ADDR:0 --no-dht --http $ADDR:$WS_PORT >"$tmp/seed.log" 2>&1 &
PIDS+=($!)
wait_for 30 "curl -sf -o /dev/null -r 0-0 http://$ADDR:$WS_PORT/$FILE" ||
	{ tail "$tmp/seed.log" >&2; die "the node did not serve HTTP"; }

NGX_PORT=$(free_port $ADDR)
nginx_conf "$tmp/nginx" $ADDR:$NGX_PORT "$(dirname "$rel")"
nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx/stderr.log" 2>&1 &
PIDS+=($!)
wait_for 10 "curl -sf -o /dev/null -r 0-0 http://$ADDR:$NGX_PORT/$FILE" ||
	die "nginx did not start: $(tail -n 3 "$tmp/nginx/error.log" 2>/dev/null | tr '\n' ' ')"

# same bytes from both, and in the page cache before timing
cat "$rel/big.bin" >/dev/null
for p in $WS_PORT $NGX_PORT; do
	curl -sf -r 1000000-1000099 "http://$ADDR:$p/$FILE" | cmp - <(tail -c +1000001 "$rel/big.bin" | head -c 100) ||
		die "port $p serves other bytes"
done

# --- whole file ------------------------------------------------------------
: >"$tmp/ws.mbs"; : >"$tmp/ngx.mbs"
for (( i = 0; i < RUNS; i++ )); do
	for p in $WS_PORT $NGX_PORT; do
		bps=$(curl -sf -o /dev/null -w '%{speed_download}' "http://$ADDR:$p/$FILE")
		awk -v b="$bps" 'BEGIN { printf "%.1f\n", b / 1048576 }' \
			>>"$tmp/$( [ $p = $WS_PORT ] && echo ws || echo ngx ).mbs"
	done
done
ws=$(median <"$tmp/ws.mbs"); ngx=$(median <"$tmp/ngx.mbs")

# --- ranged: what a web seed does -----------------------------------------
ranged() { # PORT -> MiB/s over 256 x 4 MiB ranges on one connection
	local args=() off
	for (( k = 0; k < 256; k++ )); do
		off=$(( (RANDOM * 32768 + RANDOM) % ((MIB << 20) - (4 << 20)) ))
		(( k == 0 )) || args+=(--next)
		args+=(-sf -r "$off-$(( off + (4 << 20) - 1 ))" -o /dev/null "http://$ADDR:$1/$FILE")
	done
	local t0 t1
	t0=$(date +%s.%N)
	curl "${args[@]}"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", 1024 / (b - a) }'
}
: >"$tmp/ws.r"; : >"$tmp/ngx.r"
for (( i = 0; i < RUNS; i++ )); do
	ranged $WS_PORT >>"$tmp/ws.r"
	ranged $NGX_PORT >>"$tmp/ngx.r"
done
wsr=$(median <"$tmp/ws.r"); ngxr=$(median <"$tmp/ngx.r")

echo "HTTP: one ${MIB} MiB file to curl over loopback, median of $RUNS (MiB/s)"
printf '  %-34s %10s %10s %8s\n' "" "weightsync" "nginx" "ratio"
printf '  %-34s %10s %10s %7.2fx\n' "whole file" "$ws" "$ngx" "$(awk -v a="$ws" -v b="$ngx" 'BEGIN { print a / b }')"
printf '  %-34s %10s %10s %7.2fx\n' "256 x 4 MiB ranges, one connection" "$wsr" "$ngxr" "$(awk -v a="$wsr" -v b="$ngxr" 'BEGIN { print a / b }')"
echo "  target: weightsync >= 0.8x nginx (whole file); $(nginx -v 2>&1 | sed 's/.*\///'), libmicrohttpd $(pkg-config --modversion libmicrohttpd 2>/dev/null || echo '?')"
echo "  runs:  weightsync $(tr '\n' ' ' <"$tmp/ws.mbs")/ nginx $(tr '\n' ' ' <"$tmp/ngx.mbs")"
