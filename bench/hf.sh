#!/bin/bash
# bench/hf.sh - weightsync mirror against curl, from the same CDN, same run.
#
# A repository of WS_BENCH_HF_MIB MiB in WS_BENCH_HF_FILES LFS files (random
# bytes, *.safetensors) plus a config.json.  The hub's API and resolve
# redirects come from tests/hub_server.py on 127.0.0.1; the LFS files from
# nginx on 127.0.0.2 standing in for the hub's CDN (served from the page
# cache).  Contenders, each WS_BENCH_RUNS times, median reported:
#   curl        curl --parallel fetching the same LFS URLs from nginx, to
#               files, no verification (what a plain download costs)
#   mirror      the whole `weightsync mirror` into a fresh home: API call,
#               download with every file hashed once as it streams
#               (SHA-256, v2 merkle and v1 pieces, on a thread per file),
#               then the publish (which takes those hashes), torrent,
#               signature and commit; split into the download
#               phase (to the moment the release folder to publish appears)
#               and the publish phase (the rest)
#   baseline    the same with another binary, WS_BENCH_HF_BASE (optional:
#               an older build, to compare before and after in one run)
#   curl+fsync  the curl run above, then its files fsynced (coreutils
#               sync FILE...): the durability a mirror must give before it
#               signs and indexes a release (informational)
#   mirror, no fsync  the mirror under eatmydata (fsync and
#               sync_file_range made no-ops): what the disk's write speed
#               takes of the mirror's time (informational; needs eatmydata)
# Knobs: WS_BENCH_HF_MIB (1024), WS_BENCH_HF_FILES (4), WS_BENCH_RUNS (3),
# WS_BENCH_DIR (where the temporary folder goes; default $TMPDIR or /tmp),
# WS_BENCH_HF_BASE (a second weightsync binary to run side by side).
# Also printed: the CPU seconds (user + system) of curl and of each mirror
# process, from GNU time when it is installed.
# Target (informational): mirror / curl throughput >= 0.8.
# Needs nginx and curl (make bench installs them).  Loopback only.
set -euo pipefail

: "${WS_BIN:?set WS_BIN to the weightsync binary (bench/run does)}"
MIB=${WS_BENCH_HF_MIB:-1024}
NFILES=${WS_BENCH_HF_FILES:-4}
RUNS=${WS_BENCH_RUNS:-3}
BASE=${WS_BENCH_DIR:-${TMPDIR:-/tmp}}
here=$(cd "$(dirname "$0")" && pwd)
COMMIT=b3ac0ffee0b3ac0ffee0b3ac0ffee0b3ac0ffee0

die() { echo "bench/hf: $*" >&2; exit 1; }
[[ $MIB =~ ^[1-9][0-9]*$ && $NFILES =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] ||
	die "WS_BENCH_HF_MIB, WS_BENCH_HF_FILES and WS_BENCH_RUNS are positive integers"
for tool in nginx curl python3 awk; do
	command -v "$tool" >/dev/null || die "'$tool' is needed (make bench installs it)"
done

mkdir -p "$BASE"
tmp=$(mktemp -d "$BASE/ws-bench-hf.XXXXXX")
. "$here/lib/procs.sh"   # PIDS, cleanup on exit
cp "$WS_BIN" "$tmp/weightsync"
WS=$tmp/weightsync
BASE_WS=
if [ -n "${WS_BENCH_HF_BASE:-}" ]; then
	cp "$WS_BENCH_HF_BASE" "$tmp/weightsync-base"
	BASE_WS=$tmp/weightsync-base
fi

now_ns() { date +%s%N; }
# CPU seconds (user + system) of a command, when GNU time is there
TIMEBIN=
if [ -x /usr/bin/time ] && /usr/bin/time -f %U -o /dev/null true 2>/dev/null; then
	TIMEBIN=/usr/bin/time
fi
timed() {
	if [ -n "$TIMEBIN" ]; then
		"$TIMEBIN" -f "%U %S" -o "$tmp/cpu" "$@"
	else
		echo "0 0" >"$tmp/cpu"
		"$@"
	fi
}
cpu_secs() { tail -1 "$tmp/cpu" | awk '{ printf "%.2f", $1 + $2 }'; }
secs() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e9 }'; }
median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}
wait_for() {
	local deadline=$(( SECONDS + $1 ))
	while ! eval "$2" >/dev/null 2>&1; do
		(( SECONDS < deadline )) || die "timed out after $1 s waiting for: $2"
		sleep 0.1
	done
}

# ---- the repository ----
repo=$tmp/repo
mkdir -p "$repo"
per=$(( MIB / NFILES ))
for i in $(seq 1 "$NFILES"); do
	head -c $(( per << 20 )) /dev/urandom >"$repo/model-$(printf %05d "$i")-of-$(printf %05d "$NFILES").safetensors"
done
echo '{"model_type": "bench"}' >"$repo/config.json"
bytes=$(du -bc "$repo"/*.safetensors | tail -1 | cut -f1)

# ---- nginx as the CDN on 127.0.0.2 ----
cdn_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/nginx/tmp"
cat >"$tmp/nginx/nginx.conf" <<EOF
user root;
daemon off;
master_process off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	default_type application/octet-stream;
	client_body_temp_path $tmp/nginx/tmp/body;
	proxy_temp_path $tmp/nginx/tmp/proxy;
	fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
	uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
	scgi_temp_path $tmp/nginx/tmp/scgi;
	server {
		listen 127.0.0.2:$cdn_port;
		root $repo;
	}
}
EOF
nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx.log" 2>&1 &
PIDS+=($!)
cdn=http://127.0.0.2:$cdn_port
wait_for 10 "curl -sf -o /dev/null $cdn/config.json"

# ---- the hub's API on 127.0.0.1 (another CDN address: not used) ----
python3 "$here/../tests/hub_server.py" --dir "$repo" --repo bench/big --commit $COMMIT \
	--ports "$tmp/hub.ports" --cdn 127.0.0.3 --cdn-url "$cdn" &
PIDS+=($!)
wait_for 60 "test -s $tmp/hub.ports"
hub=http://127.0.0.1:$(cut -d' ' -f1 "$tmp/hub.ports")
cat "$repo"/*.safetensors >/dev/null   # page cache, for both contenders

echo "repository: $NFILES files, $(( bytes >> 20 )) MiB; nginx $(nginx -v 2>&1 | sed 's/.*\///') as the CDN; $(nproc) cores"
echo "note: the machine may be shared; figures vary with its load"
EATMYDATA=$(command -v eatmydata || true)
[ -n "$EATMYDATA" ] || echo "note: eatmydata is not installed: the 'mirror, no fsync' row is skipped"
# mirror_once BIN - one mirror into a fresh home; sets T_ALL (start to
# exit) and T_DL (start to the end of the download phase, when the release
# folder to publish appears; the rest is the publish phase)
mirror_once() {
	local mpid t0
	rm -rf "$tmp/home"
	WEIGHTSYNC_HOME=$tmp/home "$1" keygen --no-password >/dev/null 2>&1
	t0=$(now_ns)
	HF_ENDPOINT=$hub WEIGHTSYNC_HOME=$tmp/home timed ${NOSYNC:-} "$1" mirror hf://bench/big --name big \
		--connections "$NFILES" >/dev/null 2>"$tmp/mirror.err" &
	mpid=$!
	T_DL=
	while kill -0 $mpid 2>/dev/null; do
		[ -z "$T_DL" ] && [ -d "$tmp/home/tmp/mirror-bench--big@$COMMIT/release" ] &&
			T_DL=$(secs $(( $(now_ns) - t0 )))
		sleep 0.01
	done
	wait $mpid || { cat "$tmp/mirror.err" >&2; die "mirror with $1 failed"; }
	T_ALL=$(secs $(( $(now_ns) - t0 )))
	C_ALL=$(cpu_secs)
	# not seen: the publish phase was shorter than one look
	T_DL=${T_DL:-$T_ALL}
	rm -rf "$tmp/home"
}

declare -a T_CURL T_CSYNC T_MIRROR T_MDL T_MPUB T_BASE T_BDL T_BPUB T_NOSYNC C_CURL C_MIRROR C_BASE
for r in $(seq 1 "$RUNS"); do
	rm -rf "$tmp/out" && mkdir -p "$tmp/out"
	args=()
	for f in "$repo"/*.safetensors; do
		b=$(basename "$f")
		args+=(-o "$tmp/out/$b" "$cdn/$b")
	done
	t0=$(now_ns)
	timed curl -sSf --no-progress-meter --parallel --parallel-max "$NFILES" "${args[@]}"
	T_CURL+=($(secs $(( $(now_ns) - t0 ))))
	C_CURL+=($(cpu_secs))
	sync "$tmp"/out/*
	T_CSYNC+=($(secs $(( $(now_ns) - t0 ))))
	rm -rf "$tmp/out"

	if [ -n "$BASE_WS" ]; then
		mirror_once "$BASE_WS"
		T_BASE+=($T_ALL) T_BDL+=($T_DL) C_BASE+=($C_ALL)
		T_BPUB+=($(awk -v a="$T_ALL" -v d="$T_DL" 'BEGIN { printf "%.3f", a - d }'))
	fi
	mirror_once "$WS"
	T_MIRROR+=($T_ALL) T_MDL+=($T_DL) C_MIRROR+=($C_ALL)
	T_MPUB+=($(awk -v a="$T_ALL" -v d="$T_DL" 'BEGIN { printf "%.3f", a - d }'))
	if [ -n "$EATMYDATA" ]; then
		NOSYNC=$EATMYDATA mirror_once "$WS"
		T_NOSYNC+=($T_ALL)
	fi
done
mbs() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.0f", (t > 0 ? b / t / 1e6 : 0) }'; }
row() { printf '%-44s %-26s %9s %8s\n' "$1" "$2" "$3" "$4"; }
mc=$(median "${T_CURL[@]}")
row "contender" "runs (s)" "median s" "MB/s"
row "curl --parallel from nginx (no check)" "${T_CURL[*]}" "$mc" "$(mbs "$mc")"
ms=$(median "${T_CSYNC[@]}")
row "  the same, then its files fsynced" "${T_CSYNC[*]}" "$ms" "$(mbs "$ms")"
if [ -n "$BASE_WS" ]; then
	bm=$(median "${T_BASE[@]}") bd=$(median "${T_BDL[@]}") bp=$(median "${T_BPUB[@]}")
	row "baseline mirror (WS_BENCH_HF_BASE), all" "${T_BASE[*]}" "$bm" "$(mbs "$bm")"
	row "  download phase" "${T_BDL[*]}" "$bd" "$(mbs "$bd")"
	row "  publish phase" "${T_BPUB[*]}" "$bp" ""
fi
mm=$(median "${T_MIRROR[@]}") md=$(median "${T_MDL[@]}") mp=$(median "${T_MPUB[@]}")
row "weightsync mirror (verify + publish), all" "${T_MIRROR[*]}" "$mm" "$(mbs "$mm")"
row "  download phase (hashed as it streams)" "${T_MDL[*]}" "$md" "$(mbs "$md")"
row "  publish phase" "${T_MPUB[*]}" "$mp" ""
if [ -n "$EATMYDATA" ]; then
	mn=$(median "${T_NOSYNC[@]}")
	row "weightsync mirror, no fsync (eatmydata)" "${T_NOSYNC[*]}" "$mn" "$(mbs "$mn")"
fi
if [ -n "$TIMEBIN" ]; then
	echo "CPU seconds (user + system) of the process, median: curl $(median "${C_CURL[@]}")${BASE_WS:+, baseline mirror $(median "${C_BASE[@]}")}, mirror $(median "${C_MIRROR[@]}")"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
if [ -n "$BASE_WS" ]; then
	echo "baseline mirror / curl throughput: $(ratio "$mc" "$bm") (download phase $(ratio "$mc" "$bd"))"
	echo "mirror / baseline mirror throughput: $(ratio "$bm" "$mm")"
fi
ratio=$(ratio "$mc" "$mm")
echo "download phase / curl throughput: $(ratio "$mc" "$md")"
echo "mirror / (curl, then fsync) throughput: $(ratio "$ms" "$mm")"
[ -z "$EATMYDATA" ] || echo "mirror without fsync / curl throughput: $(ratio "$mc" "$mn")"
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.8 ? "PASS" : "MISS") }')
echo "mirror / curl throughput: $ratio (target >= 0.8: $verdict)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
