#!/bin/bash
# bench/fetch.sh - swarm benchmarks of weightsync fetch/seed on loopback:
#
#  1. throughput: one seeder (127.0.0.2), one fetcher (127.0.0.3), a release of
#     WS_BENCH_FETCH_MIB in WS_BENCH_FETCH_FILES files; the whole `weightsync
#     fetch` (metadata, download, SHA-256 of every file, commit) is timed.
#     Side by side, on the same files: curl from nginx (127.0.0.4) and aria2c
#     on a v1-only torrent seeded by a tuned python-libtorrent session
#     (127.0.0.5), with aria2c finding the seeder through opentracker
#     (127.0.0.7).  aria2c listens on 127.0.0.6.
#  2. scaling: seeder and every fetcher capped at WS_BENCH_SCALE_LIMIT upload;
#     a WS_BENCH_SCALE_MIB release fetched by 1 fetcher alone, then by
#     WS_BENCH_SCALE_PEERS fetchers at once (127.0.0.10...), each dialling
#     the seeder and every other fetcher.
#  3. memory: peak VmRSS of a node seeding a WS_BENCH_MEM_GIB release while
#     one fetcher downloads it (sampled every second, at most
#     WS_BENCH_MEM_SECONDS).
#
# Knobs (environment):
#   WS_BIN                 the weightsync binary (bench/run sets it)
#   WS_BENCH_PARTS         which parts, comma-separated (default
#                          throughput,scaling,memory)
#   WS_BENCH_FETCH_MIB     throughput release size in MiB (default 1024)
#   WS_BENCH_FETCH_FILES   files in it (default 4)
#   WS_BENCH_RUNS          runs per contender, median reported (default 3)
#   WS_BENCH_SCALE_MIB     scaling release size in MiB (default 256)
#   WS_BENCH_SCALE_PEERS   fetchers in the swarm run (default 8, max 100)
#   WS_BENCH_SCALE_LIMIT   upload cap for seeder and fetchers (default 20M)
#   WS_BENCH_MEM_GIB       memory release size in GiB (default 10; scaled
#                          down when the disk has less than 4x that free)
#   WS_BENCH_MEM_SECONDS   longest memory window in seconds (default 120)
#   WS_BENCH_DIR           where the temporary folder goes (default $TMPDIR
#                          or /tmp)
#
# Targets (informational; the exit status ignores them):
#   weightsync / curl throughput   >= 0.8
#   weightsync / aria2c throughput >= 2
#   time(N fetchers) / time(1)     <= 2
#   seeder peak VmRSS              <  200 MB
# Exit status: 0 unless a command failed or the setup is impossible.  A
# missing comparison tool (nginx, aria2c, opentracker, python3-libtorrent)
# is reported and its column skipped, not a failure.  Loopback only.
set -euo pipefail

: "${WS_BIN:?set WS_BIN to the weightsync binary (bench/run does)}"
PARTS=${WS_BENCH_PARTS:-throughput,scaling,memory}
FETCH_MIB=${WS_BENCH_FETCH_MIB:-1024}
FETCH_FILES=${WS_BENCH_FETCH_FILES:-4}
RUNS=${WS_BENCH_RUNS:-3}
SCALE_MIB=${WS_BENCH_SCALE_MIB:-256}
SCALE_PEERS=${WS_BENCH_SCALE_PEERS:-8}
SCALE_LIMIT=${WS_BENCH_SCALE_LIMIT:-20M}
MEM_GIB=${WS_BENCH_MEM_GIB:-10}
MEM_SECONDS=${WS_BENCH_MEM_SECONDS:-120}
BASE=${WS_BENCH_DIR:-${TMPDIR:-/tmp}}
PY=/usr/bin/python3
. "$(dirname "$0")/lib/nginx.sh"

die() { echo "bench/fetch: $*" >&2; exit 1; }
note() { echo "note: $*"; }
posint() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer (got '$2')"; }
posint WS_BENCH_FETCH_MIB "$FETCH_MIB"
posint WS_BENCH_FETCH_FILES "$FETCH_FILES"
posint WS_BENCH_RUNS "$RUNS"
posint WS_BENCH_SCALE_MIB "$SCALE_MIB"
posint WS_BENCH_SCALE_PEERS "$SCALE_PEERS"
posint WS_BENCH_MEM_GIB "$MEM_GIB"
posint WS_BENCH_MEM_SECONDS "$MEM_SECONDS"
(( SCALE_PEERS <= 100 )) || die "WS_BENCH_SCALE_PEERS is at most 100"
[[ $SCALE_LIMIT =~ ^[1-9][0-9]*[kKmM]?$ ]] || die "WS_BENCH_SCALE_LIMIT is bytes/s, e.g. 20M"
[ -x "$WS_BIN" ] || die "WS_BIN '$WS_BIN' is not executable"
for tool in openssl awk df timeout python3 curl; do
	command -v "$tool" >/dev/null || die "'$tool' is needed"
done
part() { [[ ,$PARTS, == *,$1,* ]]; }
TIMEBIN=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	TIMEBIN=/usr/bin/time
fi

mkdir -p "$BASE"
tmp=$(mktemp -d "$BASE/ws-bench-fetch.XXXXXX")
. "$(dirname "$0")/lib/procs.sh"   # PIDS, cleanup on exit
# run a copy: the binary in build/ may be rebuilt while this runs
mkdir -p "$tmp/bin"
cp "$WS_BIN" "$tmp/bin/weightsync"
WS_BIN_ORIG=$WS_BIN
WS_BIN=$tmp/bin/weightsync

# ---- helpers -----------------------------------------------------------------
now_ns() { date +%s%N; }
secs() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e9 }'; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? b / t / 1e6 : 0) }'; }
median() { # NUMBERS... -> median
	printf '%s\n' "$@" | sort -g |
		awk '{ a[NR] = $1 } END { if (!NR) exit; printf "%.3f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}
verdict() { # VALUE OP TARGET
	if [ -z "$1" ] || [ "$1" = n/a ]; then echo "n/a"; return; fi
	if awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? v >= t : op == "<" ? v < t : v <= t) }'; then
		echo PASS
	else
		echo MISS
	fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 <= 0) print "n/a"; else printf "%.2f", a / b }'; }

free_port() { # ADDR
	$PY -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}
# bounded wait: wait_for SECONDS CMD-STRING
wait_for() {
	local deadline=$(( SECONDS + $1 ))
	while ! eval "$2" >/dev/null 2>&1; do
		(( SECONDS < deadline )) || { echo "bench/fetch: timed out after $1 s waiting for: $2" >&2; return 1; }
		sleep 0.1
	done
}
ws() { # HOME ARGS...
	local home=$1; shift
	WEIGHTSYNC_HOME=$home "$WS_BIN" "$@" </dev/null
}
must() { # LOG CMD... - run, show the log and stop when it fails
	local log=$1; shift
	if ! "$@" >"$log" 2>&1; then
		echo "bench/fetch: command failed: $*" >&2
		tail -n 30 "$log" >&2
		exit 1
	fi
}
json_get() { # FILE KEY
	$PY -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
# bg LOG CMD... - start in the background, recorded for cleanup; sets BG
bg() {
	local log=$1; shift
	"$@" </dev/null >"$log" 2>&1 &
	BG=$!
	PIDS+=("$BG")
}
stop_pid() { # PID - TERM, 10 s, KILL; reaps it
	local p=$1 i=0
	kill -TERM "$p" 2>/dev/null || return 0
	while kill -0 "$p" 2>/dev/null && (( i < 100 )); do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
# fast random bytes: AES-128-CTR keystream; openssl dies of SIGPIPE at the end
random_file() { # FILE BYTES SEED
	set +o pipefail
	openssl enc -aes-128-ctr -pass "pass:$3" -nosalt -pbkdf2 </dev/zero 2>/dev/null |
		head -c "$2" >"$1"
	set -o pipefail
	[ "$(stat -c %s "$1")" = "$2" ] || die "could not write $1 (disk full?)"
}
make_release_dir() { # DIR TOTAL_BYTES NFILES SEED
	local dir=$1 total=$2 n=$3 seed=$4 i per
	per=$(( total / n ))
	mkdir -p "$dir"
	local -a pids=()
	for (( i = 1; i <= n; i++ )); do
		random_file "$(printf '%s/shard-%05d-of-%05d.bin' "$dir" "$i" "$n")" "$per" "$seed-$i" &
		pids+=($!)
		if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}" || die "generating data failed"; pids=("${pids[@]:1}"); fi
	done
	for p in "${pids[@]}"; do wait "$p" || die "generating data failed"; done
	printf '{"note": "weightsync bench data, random bytes"}\n' >"$dir/config.json"
}
dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }'; }
warm() { find "$@" -type f -exec cat {} + >/dev/null; }
# node_seeds HOME REF - the node of HOME reports REF (name@version) seeding
node_seeds() {
	ws "$1" status --json | $PY -c 'import json, sys
j = json.load(sys.stdin)
sys.exit(0 if any("%s@%d" % (r["name"], r["version"]) == sys.argv[1] and
                  r["state"] == "seeding" for r in j["releases"]) else 1)' "$2"
}
# start_seeder HOME ADDR [SEED-OPTIONS] - sets SEED_PID SEED_PORT
start_seeder() {
	local home=$1 addr=$2; shift 2
	SEED_PORT=$(free_port "$addr")
	bg "$home.seed.log" env WEIGHTSYNC_HOME="$home" "$WS_BIN" seed \
		--listen "$addr:$SEED_PORT" --no-dht "$@"
	SEED_PID=$BG
	wait_for 30 "ws '$home' status" || { tail "$home.seed.log" >&2; exit 1; }
}
publish() { # HOME DIR NAME -> prints the link; JSON in HOME.pub.json
	local home=$1 dir=$2 name=$3
	[ -f "$home/keys/publisher.key" ] || must "$home.keygen.log" ws "$home" keygen --no-password
	ws "$home" publish "$dir" --name "$name" --json >"$home.pub.json" 2>"$home.pub.err" ||
		{ cat "$home.pub.err" >&2; die "publish failed"; }
	json_get "$home.pub.json" link
}
new_fetch_home() { # HOME PUBHOME NAME - a fresh home that trusts the publisher
	rm -rf "$1"
	must "$1.trust.log" ws "$1" trust add "$3" "$2/keys/publisher.key.pub"
}
rss_kb() { awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

SUMMARY=()
sumrow() { SUMMARY+=("$(printf '%-44s %12s  %-14s %s' "$1" "$2" "$3" "$4")"); }

echo "weightsync fetch benchmark (parts: $PARTS) in $tmp"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
     "$(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)," \
     "$("$WS_BIN" --version 2>/dev/null | head -n1)"
echo "binary: $WS_BIN_ORIG ($(stat -c '%y' "$WS_BIN_ORIG" | cut -d. -f1), sha256 $(sha256sum "$WS_BIN" | cut -c1-16)), run from a copy"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if awk '{ exit !($1 > 0.5) }' /proc/loadavg; then
	note "other work is running on this machine; figures will be noisy"
fi

# ============================================================================
# 1. throughput
# ============================================================================
bench_throughput() {
	local total=$(( FETCH_MIB * 1048576 )) model=$tmp/tp/model pub=$tmp/tp/pub
	local link bytes rel piece r k
	echo
	echo "--- 1. throughput: $FETCH_FILES x $(( FETCH_MIB / FETCH_FILES )) MiB, $RUNS runs each ---"
	mkdir -p "$tmp/tp"
	local t0; t0=$(now_ns)
	make_release_dir "$model" "$total" "$FETCH_FILES" tp
	bytes=$(dir_bytes "$model")
	echo "generated $(( bytes >> 20 )) MiB in $(secs $(( $(now_ns) - t0 ))) s"
	sync

	# a 1 MiB release too, on the same seeder: the fixed cost of a fetch
	mkdir -p "$tmp/tp/tiny"
	random_file "$tmp/tp/tiny/tiny.bin" 1048576 tiny
	local tiny_link; tiny_link=$(publish "$pub" "$tmp/tp/tiny" bench-tiny)
	link=$(publish "$pub" "$model" bench-tp)
	rel=$(json_get "$pub.pub.json" path)
	piece=$(json_get "$pub.pub.json" piece_size)
	start_seeder "$pub" 127.0.0.2
	local WS_SEED_PID=$SEED_PID WS_SEED_PORT=$SEED_PORT
	wait_for 60 "node_seeds '$pub' bench-tp@1 && node_seeds '$pub' bench-tiny@1" ||
		die "the seeder never seeded bench-tp@1 and bench-tiny@1"
	echo "weightsync seeder: pid $WS_SEED_PID on 127.0.0.2:$WS_SEED_PORT, piece size $piece"

	# -- nginx (or a fallback) on 127.0.0.4 --
	local http_port http_label="" http_pid=""
	http_port=$(free_port 127.0.0.4)
	if command -v nginx >/dev/null; then
		nginx_conf "$tmp/nginx" 127.0.0.4:$http_port "$model"
		bg "$tmp/nginx/stderr.log" nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
		http_pid=$BG
		if wait_for 10 "curl -sf -o /dev/null http://127.0.0.4:$http_port/config.json"; then
			http_label="curl from nginx $(nginx -v 2>&1 | sed 's/.*\///')"
		else
			note "nginx did not start:"; cat "$tmp/nginx/stderr.log" "$tmp/nginx/error.log" 2>/dev/null | tail -n 5
			stop_pid "$http_pid"; http_pid=
		fi
	fi
	if [ -z "$http_pid" ] && command -v busybox >/dev/null; then
		note "falling back to busybox httpd"
		bg "$tmp/httpd.log" busybox httpd -f -p "127.0.0.4:$http_port" -h "$model"
		http_pid=$BG
		wait_for 10 "curl -sf -o /dev/null http://127.0.0.4:$http_port/config.json" &&
			http_label="curl from busybox httpd" || { stop_pid "$http_pid"; http_pid=; }
	fi
	if [ -z "$http_pid" ]; then
		note "falling back to python3 -m http.server"
		bg "$tmp/httpd.log" python3 -m http.server --bind 127.0.0.4 --directory "$model" "$http_port"
		http_pid=$BG
		wait_for 10 "curl -sf -o /dev/null http://127.0.0.4:$http_port/config.json" &&
			http_label="curl from python3 http.server" || { stop_pid "$http_pid"; http_pid=; }
	fi
	[ -n "$http_pid" ] || note "no HTTP server could be started: the curl column is skipped"

	# -- aria2c: v1-only torrent, python-libtorrent seeder, opentracker --
	local aria_ok="" why_no_aria="" trk_port trk_pid="" pyseed_pid="" pyseed_port
	if ! command -v aria2c >/dev/null; then
		why_no_aria="aria2c is not installed (apt-get install aria2)"
	elif ! command -v opentracker >/dev/null; then
		why_no_aria="opentracker is not installed (apt-get install opentracker); aria2c cannot be given a peer address, it needs a tracker"
	elif ! $PY -c 'import libtorrent' 2>/dev/null; then
		why_no_aria="python3-libtorrent is missing (apt-get install python3-libtorrent)"
	fi
	if [ -z "$why_no_aria" ]; then
		trk_port=$(free_port 127.0.0.7)
		pyseed_port=$(free_port 127.0.0.5)
		# v1-only torrent of the same folder, same piece size as weightsync's
		$PY - "$model" "$piece" "http://127.0.0.7:$trk_port/announce" "$tmp/tp/v1.torrent" \
			>"$tmp/tp/v1.ih" 2>"$tmp/tp/v1.err" <<'EOF' || why_no_aria="building the v1 torrent failed: $(tail -n 3 "$tmp/tp/v1.err")"
import libtorrent as lt, os, sys
model, piece, tracker, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
fs = lt.file_storage()
lt.add_files(fs, model)
ct = lt.create_torrent(fs, piece, lt.create_torrent.v1_only)
ct.add_tracker(tracker)
ct.set_creator("weightsync bench")
lt.set_piece_hashes(ct, os.path.dirname(model))
buf = lt.bencode(ct.generate())
open(out, "wb").write(buf)
print(str(lt.torrent_info(out).info_hashes().v1))
EOF
	fi
	if [ -z "$why_no_aria" ]; then
		# opentracker chroots to -d and drops root for -u (nobody); the
		# whitelist path is relative to the chroot
		mkdir -p "$tmp/tracker"
		cp "$tmp/tp/v1.ih" "$tmp/tracker/whitelist.txt"
		chmod 755 "$tmp/tracker"; chmod 644 "$tmp/tracker/whitelist.txt"
		bg "$tmp/tracker.log" opentracker -i 127.0.0.7 -p "$trk_port" -P "$trk_port" \
			-d "$tmp/tracker" -u nobody -w whitelist.txt
		trk_pid=$BG
		if ! wait_for 10 "curl -s -o /dev/null http://127.0.0.7:$trk_port/stats"; then
			why_no_aria="opentracker did not start: $(tail -n 3 "$tmp/tracker.log" | tr '\n' ' ')"
		fi
	fi
	if [ -z "$why_no_aria" ]; then
		cat >"$tmp/pyseed.py" <<'EOF'
# a tuned libtorrent seeder of one torrent; prints "announced" once the
# tracker has replied, then serves until SIGTERM
import libtorrent as lt, signal, sys, time
addr, port, torrent, save = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
ses = lt.session({
    "listen_interfaces": "%s:%d" % (addr, port),
    "outgoing_interfaces": addr,
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True,
    "send_buffer_watermark": 4 << 20, "send_buffer_watermark_factor": 150,
    "max_queued_disk_bytes": 16 << 20, "aio_threads": 4, "hashing_threads": 2,
    "max_out_request_queue": 1500,
    "stop_tracker_timeout": 1,
    "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.tracker_notification
                  | lt.alert.category_t.error_notification,
})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
atp.flags |= lt.torrent_flags.seed_mode
h = ses.add_torrent(atp)
announced = False
while not stop:
    ses.wait_for_alert(500)
    for a in ses.pop_alerts():
        if isinstance(a, lt.tracker_reply_alert) and not announced:
            announced = True
            print("announced", flush=True)
        elif isinstance(a, (lt.tracker_error_alert, lt.torrent_error_alert, lt.listen_failed_alert)):
            print("error:", a.message(), flush=True)
st = h.status()
print("uploaded %d" % st.all_time_upload, flush=True)
EOF
		bg "$tmp/pyseed.log" $PY "$tmp/pyseed.py" 127.0.0.5 "$pyseed_port" "$tmp/tp/v1.torrent" "$tmp/tp"
		pyseed_pid=$BG
		if wait_for 30 "grep -q announced '$tmp/pyseed.log'"; then
			aria_ok=1
		else
			why_no_aria="the python-libtorrent seeder never got a tracker reply: $(tail -n 3 "$tmp/pyseed.log" | tr '\n' ' ')"
		fi
	fi
	if [ -n "$why_no_aria" ]; then
		note "aria2c column skipped: $why_no_aria"
	else
		echo "aria2c: v1-only torrent $(cat "$tmp/tp/v1.ih"), seeder python-libtorrent" \
		     "$($PY -c 'import libtorrent; print(libtorrent.__version__)') on 127.0.0.5:$pyseed_port," \
		     "opentracker on 127.0.0.7:$trk_port"
	fi

	# -- contenders, in rounds --
	local -a keys=(ws tiny)
	[ -n "$http_pid" ] && keys+=(curl)
	[ -n "$aria_ok" ] && keys+=(aria2)
	declare -gA TP_TIMES=() TP_RSS=()
	local urls=() f
	for f in "$model"/*; do
		urls+=(-o "$tmp/out-curl/$(basename "$f")" "http://127.0.0.4:$http_port/$(basename "$f")")
	done
	local aria_port; aria_port=$(free_port 127.0.0.6)
	for k in "${keys[@]}"; do TP_TIMES[$k]=""; TP_RSS[$k]=0; done
	for (( r = 1; r <= RUNS; r++ )); do
		for k in "${keys[@]}"; do
			warm "$model" "$rel"
			local -a cmd=()
			case $k in
			ws)
				new_fetch_home "$tmp/fh" "$pub" bench-tp
				cmd=(env WEIGHTSYNC_HOME="$tmp/fh" "$WS_BIN" fetch "$link"
				     --peer "127.0.0.2:$WS_SEED_PORT" --listen 127.0.0.3:0 --no-dht
				     --timeout 30 --json) ;;
			tiny)
				new_fetch_home "$tmp/fh" "$pub" bench-tiny
				cmd=(env WEIGHTSYNC_HOME="$tmp/fh" "$WS_BIN" fetch "$tiny_link"
				     --peer "127.0.0.2:$WS_SEED_PORT" --listen 127.0.0.3:0 --no-dht
				     --timeout 30 --json) ;;
			curl)
				rm -rf "$tmp/out-curl"; mkdir -p "$tmp/out-curl"
				cmd=(curl -s --fail "${urls[@]}") ;;
			aria2)
				rm -rf "$tmp/out-aria"; mkdir -p "$tmp/out-aria"
				cmd=(aria2c --dir="$tmp/out-aria" --seed-time=0 --enable-dht=false
				     --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false
				     --disable-ipv6=true --interface=127.0.0.6 --listen-port="$aria_port"
				     --file-allocation=falloc --summary-interval=0 --console-log-level=warn
				     --download-result=hide --bt-stop-timeout=120 --bt-save-metadata=false
				     --allow-overwrite=true --auto-file-renaming=false "$tmp/tp/v1.torrent") ;;
			esac
			[ -n "$TIMEBIN" ] && cmd=("$TIMEBIN" -f %M -o "$tmp/rss" "${cmd[@]}")
			local t0 t1
			t0=$(now_ns)
			if ! timeout -k 10 600 "${cmd[@]}" >"$tmp/$k.out" 2>"$tmp/$k.err"; then
				echo "bench/fetch: $k run $r failed: ${cmd[*]}" >&2
				tail -n 20 "$tmp/$k.err" "$tmp/$k.out" >&2
				exit 1
			fi
			t1=$(now_ns)
			TP_TIMES[$k]="${TP_TIMES[$k]} $(secs $(( t1 - t0 )))"
			if [ -n "$TIMEBIN" ]; then
				local m; m=$(tail -n1 "$tmp/rss")
				(( m > TP_RSS[$k] )) && TP_RSS[$k]=$m
			fi
			# the data arrived whole: sizes (weightsync checked SHA-256 itself)
			case $k in
			ws)
				cp "$tmp/ws.out" "$tmp/ws.last.json"
				[ "$(dir_bytes "$(json_get "$tmp/ws.out" path)")" -ge "$bytes" ] ||
					die "weightsync fetch left less data than the release"
				rm -rf "$tmp/fh" ;;
			tiny) rm -rf "$tmp/fh" ;;
			curl) [ "$(dir_bytes "$tmp/out-curl")" = "$bytes" ] || die "curl fetched $(dir_bytes "$tmp/out-curl") bytes, not $bytes"
			      rm -rf "$tmp/out-curl" ;;
			aria2) [ "$(dir_bytes "$tmp/out-aria")" -ge "$bytes" ] || die "aria2c fetched too little"
			       rm -rf "$tmp/out-aria" ;;
			esac
			sync
			echo "  round $r: $k $(secs $(( t1 - t0 ))) s" >&2
		done
	done
	echo "weightsync's own report of its last fetch: $(tr -d '\n ' <"$tmp/ws.last.json" | cut -c1-200)"

	local ws_med tiny_med curl_med="" aria_med=""
	echo
	printf '%-44s %-24s %9s %7s %9s\n' "contender ($(( bytes >> 20 )) MiB)" "runs (s)" "median s" "MB/s" "peak RSS"
	for k in "${keys[@]}"; do
		local label med
		case $k in
		ws) label="weightsync fetch (SHA-256 verified)" ;;
		tiny) label="weightsync fetch of a 1 MiB release" ;;
		curl) label="$http_label (no verification)" ;;
		aria2) label="aria2c $(aria2c --version | awk 'NR==1 {print $3}'), v1 torrent (SHA-1 pieces)" ;;
		esac
		# shellcheck disable=SC2086
		med=$(median ${TP_TIMES[$k]})
		case $k in ws) ws_med=$med ;; tiny) tiny_med=$med ;; curl) curl_med=$med ;; aria2) aria_med=$med ;; esac
		printf '%-44s %-24s %9s %7s %9s\n' "${label:0:44}" "$(echo ${TP_TIMES[$k]})" "$med" \
			"$( [ $k = tiny ] && echo - || mbps "$bytes" "$med")" "$( [ -n "$TIMEBIN" ] && echo "$(( TP_RSS[$k] / 1024 )) MiB" || echo n/a)"
	done
	local r1 r2
	r1=$(ratio "$curl_med" "$ws_med")   # throughput ratio = inverse time ratio
	r2=$(ratio "$aria_med" "$ws_med")
	echo "weightsync / curl   throughput: ${r1}x (target >= 0.8)"
	echo "weightsync / aria2c throughput: ${r2}x (target >= 2)"
	sumrow "throughput: weightsync fetch MB/s" "$(mbps "$bytes" "$ws_med")" "(info)" ""
	sumrow "fixed cost: weightsync fetch of 1 MiB (s)" "$tiny_med" "(info)" ""
	sumrow "throughput: weightsync / curl" "${r1}x" ">= 0.8x" "$(verdict "$r1" ">=" 0.8)"
	sumrow "throughput: weightsync / aria2c" "${r2}x" ">= 2x" "$(verdict "$r2" ">=" 2)"

	# stop everything of this part
	[ -n "$pyseed_pid" ] && stop_pid "$pyseed_pid"
	[ -n "$trk_pid" ] && stop_pid "$trk_pid"
	[ -n "$http_pid" ] && stop_pid "$http_pid"
	stop_pid "$WS_SEED_PID"
	rm -rf "$tmp/tp" "$pub" "$tmp/nginx" "$tmp/tracker"
}

# ============================================================================
# 2. scaling
# ============================================================================
# fetch_swarm N LOGPREFIX - N capped fetchers at once on 127.0.0.(10+i), each
# dialling the seeder and every other fetcher; sets SW_MAX (seconds until the
# last one finished) and SW_MEAN
fetch_swarm() {
	local n=$1 pfx=$2 i j t0
	local -a addr=() port=() pids=() ends=()
	for (( i = 0; i < n; i++ )); do
		addr[i]=127.0.0.$(( 10 + i ))
		port[i]=$(free_port "${addr[i]}")
		new_fetch_home "$tmp/sh$i" "$SC_PUB" bench-scale
	done
	t0=$(now_ns)
	for (( i = 0; i < n; i++ )); do
		local -a peers=(--peer "127.0.0.2:$SC_SEED_PORT")
		for (( j = 0; j < n; j++ )); do
			(( j == i )) || peers+=(--peer "${addr[j]}:${port[j]}")
		done
		WEIGHTSYNC_HOME=$tmp/sh$i "$WS_BIN" fetch "$SC_LINK" "${peers[@]}" \
			--listen "${addr[i]}:${port[i]}" --no-dht --timeout 60 \
			--upload-limit "$SCALE_LIMIT" --json </dev/null >"$pfx.$i.json" 2>"$pfx.$i.err" &
		pids[i]=$!
		PIDS+=("$!")
		ends[i]=0
	done
	# poll: when did each one end (bounded)
	local left=$n deadline=$(( t0 + 900 * 1000000000 ))
	while (( left > 0 )); do
		for (( i = 0; i < n; i++ )); do
			if (( ends[i] == 0 )) && ! kill -0 "${pids[i]}" 2>/dev/null; then
				ends[i]=$(now_ns); left=$((left - 1))
			fi
		done
		(( left == 0 )) && break
		if (( $(now_ns) > deadline )); then
			die "the swarm of $n fetchers did not finish in 900 s"
		fi
		sleep 0.1
	done
	for (( i = 0; i < n; i++ )); do
		if ! wait "${pids[i]}"; then
			echo "bench/fetch: fetcher $i of $n failed:" >&2
			cat "$pfx.$i.err" >&2
			exit 1
		fi
	done
	local all=""
	for (( i = 0; i < n; i++ )); do all="$all $(( ends[i] - t0 ))"; done
	# shellcheck disable=SC2086
	SW_MAX=$(printf '%s\n' $all | sort -n | tail -n1 | awk '{ printf "%.2f", $1 / 1e9 }')
	# shellcheck disable=SC2086
	SW_MEAN=$(printf '%s\n' $all | awk '{ s += $1 } END { printf "%.2f", s / NR / 1e9 }')
	SW_EACH=$(printf '%s\n' $all | sort -n | awk '{ printf "%.1f ", $1 / 1e9 }')
	for (( i = 0; i < n; i++ )); do rm -rf "$tmp/sh$i"; done
}

bench_scaling() {
	local total=$(( SCALE_MIB * 1048576 )) model=$tmp/sc/model bytes
	echo
	echo "--- 2. scaling: $SCALE_MIB MiB, upload cap $SCALE_LIMIT B/s on the seeder and on every fetcher ---"
	make_release_dir "$model" "$total" 4 sc
	bytes=$(dir_bytes "$model")
	SC_PUB=$tmp/scpub
	SC_LINK=$(publish "$SC_PUB" "$model" bench-scale)
	start_seeder "$SC_PUB" 127.0.0.2 --upload-limit "$SCALE_LIMIT"
	SC_SEED_PORT=$SEED_PORT
	local sc_pid=$SEED_PID
	wait_for 60 "node_seeds '$SC_PUB' bench-scale@1" || die "the seeder never seeded bench-scale@1"
	warm "$model"

	fetch_swarm 1 "$tmp/sc1"
	local t1=$SW_MAX cap_bps cap_t
	cap_bps=$(awk -v l="$SCALE_LIMIT" 'BEGIN { m = (l ~ /[mM]$/ ? 1e6 : l ~ /[kK]$/ ? 1e3 : 1); printf "%.0f", (l + 0) * m }')
	cap_t=$(awk -v b="$bytes" -v c="$cap_bps" 'BEGIN { printf "%.1f", b / c }')
	echo "1 fetcher:  ${t1} s ($(mbps "$bytes" "$t1") MB/s; at the cap of $(mbps "$cap_bps" 1) MB/s it cannot take less than $cap_t s)"
	local honoured=yes
	if awk -v t="$t1" -v c="$cap_t" 'BEGIN { exit !(t < 0.9 * c) }'; then
		honoured=no
		echo "WARNING: the seeder's --upload-limit $SCALE_LIMIT was not enforced: one fetcher got" \
		     "$(mbps "$bytes" "$t1") MB/s from it. The swarm figures below are uncapped."
	fi
	sumrow "scaling: upload cap honoured (1-fetch MB/s)" "$(mbps "$bytes" "$t1")" "<= $(mbps "$cap_bps" 1)" \
		"$( [ $honoured = yes ] && echo PASS || echo MISS)"
	sync
	fetch_swarm "$SCALE_PEERS" "$tmp/sc$SCALE_PEERS"
	echo "$SCALE_PEERS fetchers: last done after ${SW_MAX} s, mean ${SW_MEAN} s (each: ${SW_EACH}s)"
	sleep 2  # the node rewrites its status every second
	local up; up=$(ws "$SC_PUB" status --json | $PY -c 'import json, sys
j = json.load(sys.stdin)
print("%d MiB of payload for bench-scale, %d MiB in all (bytes_up)" % (
    sum(r["uploaded"] for r in j["releases"] if r["name"] == "bench-scale") >> 20, j["bytes_up"] >> 20))' 2>/dev/null || echo "?")
	echo "seeder's status says it uploaded $up; 1 + $SCALE_PEERS fetches of $(( bytes >> 20 )) MiB took" \
	     "$(( (SCALE_PEERS + 1) * bytes >> 20 )) MiB"
	local r; r=$(ratio "$SW_MAX" "$t1")
	echo "time($SCALE_PEERS) / time(1): ${r}x (target <= 2)"
	sumrow "scaling: time($SCALE_PEERS fetchers) / time(1)" "${r}x" "<= 2x" \
		"$(verdict "$r" "<=" 2)$( [ $honoured = yes ] || echo " (uncapped)")"
	stop_pid "$sc_pid"
	rm -rf "$tmp/sc" "$SC_PUB"
	sync
}

# ============================================================================
# 3. memory
# ============================================================================
bench_memory() {
	local gib=$MEM_GIB avail_gb model=$tmp/mem/model pub=$tmp/mempub link bytes nfiles
	avail_gb=$(df -Pk "$tmp" | awk 'NR == 2 { printf "%d", $4 * 1024 / 1e9 }')
	echo
	if (( avail_gb < 4 * gib )); then
		local was=$gib
		gib=$(( avail_gb / 4 ))
		(( gib >= 1 )) || { note "memory part skipped: only $avail_gb GB free"; sumrow "memory: seeder peak VmRSS" "skipped" "< 200 MB" "n/a"; return 0; }
		note "only $avail_gb GB free on $(df -P "$tmp" | awk 'NR == 2 { print $6 }'): the memory release is scaled down from $was GiB to $gib GiB"
	fi
	nfiles=$(( gib >= 5 ? gib : 4 ))
	echo "--- 3. memory: a node seeding $gib GiB ($nfiles files) while one fetcher downloads it (window <= $MEM_SECONDS s; $avail_gb GB free) ---"
	local t0; t0=$(now_ns)
	make_release_dir "$model" $(( gib * 1073741824 )) "$nfiles" mem
	bytes=$(dir_bytes "$model")
	echo "generated $(( bytes >> 20 )) MiB in $(secs $(( $(now_ns) - t0 ))) s"
	t0=$(now_ns)
	link=$(publish "$pub" "$model" bench-mem)
	echo "published in $(secs $(( $(now_ns) - t0 ))) s"
	sync
	start_seeder "$pub" 127.0.0.2
	local spid=$SEED_PID sport=$SEED_PORT
	local t_seed=$SECONDS
	if wait_for 120 "node_seeds '$pub' bench-mem@1"; then
		echo "seeder pid $spid: state seeding after $(( SECONDS - t_seed )) s; VmRSS $(rss_kb "$spid") kB before any peer"
	else
		note "after 120 s the node still reports bench-mem@1 as '$(ws "$pub" status --json | $PY -c 'import json, sys
print(",".join(r["state"] for r in json.load(sys.stdin)["releases"]))' 2>/dev/null)', not 'seeding'" \
		     "(VmRSS $(rss_kb "$spid") kB); fetching from it anyway"
		echo "    its log: $(tr '\n' ' ' <"$pub.seed.log")"
	fi

	new_fetch_home "$tmp/mh" "$pub" bench-mem
	bg "$tmp/mfetch.out" env WEIGHTSYNC_HOME="$tmp/mh" "$WS_BIN" fetch "$link" \
		--peer "127.0.0.2:$sport" --listen 127.0.0.3:0 --no-dht --timeout 60 --json
	local fpid=$BG
	# sample every second: seeder VmRSS/RssAnon/RssFile, fetcher VmRSS
	local peak=0 peak_anon=0 peak_file=0 max_anon=0 fpeak=0 n=0 v a f fr done_at=""
	t0=$(now_ns)
	echo "  t(s)  seeder VmRSS  RssAnon  RssFile (MiB)   fetcher VmRSS" >"$tmp/mem.samples"
	while (( n < MEM_SECONDS )); do
		v=$(rss_kb "$spid"); a=$(rss_kb "$spid" RssAnon); f=$(rss_kb "$spid" RssFile)
		fr=$(rss_kb "$fpid")
		[ -n "$v" ] || die "the seeder died during the memory run"
		(( v > peak )) && { peak=$v; peak_anon=$a; peak_file=$f; }
		(( a > max_anon )) && max_anon=$a
		[ -n "$fr" ] && (( fr > fpeak )) && fpeak=$fr
		printf '  %4d  %12d  %7d  %7d         %7s\n' "$n" $(( v >> 10 )) $(( a >> 10 )) $(( f >> 10 )) \
			"$( [ -n "$fr" ] && echo $(( fr >> 10 )) || echo -)" >>"$tmp/mem.samples"
		if ! kill -0 "$fpid" 2>/dev/null; then done_at=$(( $(now_ns) - t0 )); break; fi
		sleep 1
		n=$((n + 1))
	done
	local hwm; hwm=$(rss_kb "$spid" VmHWM)
	if [ -z "$done_at" ]; then
		note "the fetch did not finish in the $MEM_SECONDS s window; stopped it"
		stop_pid "$fpid"
	else
		if wait "$fpid"; then
			echo "fetch of $(( bytes >> 20 )) MiB finished in $(secs "$done_at") s" \
			     "($(mbps "$bytes" "$(secs "$done_at")") MB/s, including the final SHA-256 pass)"
		else
			note "the memory-run fetch failed after $(secs "$done_at") s: $(tail -n 2 "$tmp/mfetch.out" | tr '\n' ' ')"
		fi
	fi
	# every 10th sample, and the last
	awk 'NR == 1 || (NR - 2) % 10 == 0 { print } END { print }' "$tmp/mem.samples" | uniq
	echo "seeder peak VmRSS sampled: $(( peak >> 10 )) MiB (RssAnon $(( peak_anon >> 10 )) MiB +" \
	     "RssFile $(( peak_file >> 10 )) MiB + shmem); VmHWM $(( hwm >> 10 )) MiB;" \
	     "fetcher peak VmRSS $(( fpeak >> 10 )) MiB; seeder peak RssAnon $(( max_anon >> 10 )) MiB"
	echo "(RssFile is file pages of the release mapped by libtorrent's mmap disk I/O: shared page cache,"
	echo " reclaimable; RssAnon is the process's own heap)"
	local mb; mb=$(awk -v k="$peak" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }')
	local mba; mba=$(awk -v k="$max_anon" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }')
	sumrow "memory: seeder peak VmRSS, ${gib} GiB (MB)" "$mb" "< 200 MB" "$(verdict "$mb" "<" 200)"
	sumrow "memory: seeder peak RssAnon (heap), MB" "$mba" "< 200 MB" "$(verdict "$mba" "<" 200) (info)"
	stop_pid "$spid"
	rm -rf "$tmp/mem" "$pub" "$tmp/mh"
}

part throughput && bench_throughput
part scaling && bench_scaling
part memory && bench_memory

echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "=== summary (MB = 10^6 bytes; targets informational) ==="
printf '%-44s %12s  %-14s %s\n' measure value target verdict
for row in "${SUMMARY[@]}"; do echo "$row"; done
echo "note: $(nproc) cores shared by seeder, fetcher(s) and whatever else runs; figures vary ~15% run to run"
