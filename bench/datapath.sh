#!/bin/bash
# bench/datapath.sh - the data path's costs against the tools a user would
# otherwise run (issue 8), side by side in one run, ratios printed.  One
# seeder and one fetcher on loopback; the fetcher is run and measured by
# bench/measure.py (wall time, CPU of the fetcher from wait4 - what
# /usr/bin/time prints as %U %S -, CPU of the seeder from /proc/PID/stat
# utime+stime before and after, peak VmRSS, and when the last byte landed).
#
# Parts (WS_BENCH_PARTS, comma-separated; default cpu,tail,fixed,resume,
# small,diskio):
#  cpu     CPU seconds per GiB of fetcher + seeder against curl + nginx, on a
#          WS_BENCH_DP_MIB release in WS_BENCH_DP_FILES files (target <= 2x)
#  tail    time from the last byte received to exit, against the transfer
#          time (first byte to last byte landed in the staging files)
#          (target <= 2%).  The last byte is timed by watching the
#          allocated blocks of the release files in the fetcher's staging
#          folder (sparse files on ext4: a block counts as soon as a write or
#          a write fault on a mapping dirties it); see measure.py.
#  fixed   a 1 MiB release fetched start to exit, median of
#          WS_BENCH_FIXED_RUNS runs (target <= 0.3 s)
#  resume  a WS_BENCH_RESUME_MIB release in 4 files fetched at
#          WS_BENCH_RESUME_LIMIT (--download-limit) and killed with -9 once
#          half of it is on disk and (when the binary saves resume data) the
#          first resume save is there; the restart's first_data_seconds
#          (target <= 1 s) and rechecked / (resumed + rechecked) (target <=
#          5%).  Binaries without those --json keys print n/a.
#  small   WS_BENCH_SMALL_FILES files of 1 B - 64 KiB (random sizes, fixed
#          seed): weightsync fetch against one curl fetching them one after
#          another from nginx (one process, one kept-alive connection), and
#          weightsync publish against sha256sum over the same files
#          (targets <= 2x)
#  diskio  the cpu release fetched with WS_DISK_IO=mmap and with
#          WS_DISK_IO=posix (seeder and fetcher both) against the default
#          (the seeder reads with pread, the fetcher maps; docs/datapath.md):
#          MB/s, CPU/GiB, peak VmRSS of the fetcher (info)
#  scale   (default off) cpu, tail, diskio and resume on WS_BENCH_SCALE_GIB
#          (default 20) GiB in WS_BENCH_SCALE_FILES (default 40) shards;
#          runs only when the disk has more than 3x that free
#
# Knobs: WS_BIN, WS_BENCH_PARTS, WS_BENCH_RUNS (default 3),
# WS_BENCH_DP_MIB (1024), WS_BENCH_DP_FILES (4), WS_BENCH_FIXED_RUNS (5),
# WS_BENCH_RESUME_MIB (4096), WS_BENCH_RESUME_LIMIT (150M),
# WS_BENCH_RESUME_RUNS (2), WS_BENCH_SMALL_FILES (3000), WS_BENCH_SCALE_GIB,
# WS_BENCH_SCALE_FILES, WS_BENCH_DIR (default $TMPDIR or /tmp).
# Exit status: 0 unless a command failed or the setup is impossible; targets
# are informational.  Needs python3, curl, openssl; nginx (else busybox
# httpd) for the curl columns.
set -euo pipefail

: "${WS_BIN:?set WS_BIN to the weightsync binary (bench/run does)}"
PARTS=${WS_BENCH_PARTS:-cpu,tail,fixed,resume,small,diskio}
RUNS=${WS_BENCH_RUNS:-3}
DP_MIB=${WS_BENCH_DP_MIB:-1024}
DP_FILES=${WS_BENCH_DP_FILES:-4}
FIXED_RUNS=${WS_BENCH_FIXED_RUNS:-5}
RESUME_MIB=${WS_BENCH_RESUME_MIB:-4096}
RESUME_LIMIT=${WS_BENCH_RESUME_LIMIT:-150M}
RESUME_RUNS=${WS_BENCH_RESUME_RUNS:-2}
SMALL_FILES=${WS_BENCH_SMALL_FILES:-3000}
SCALE_GIB=${WS_BENCH_SCALE_GIB:-20}
SCALE_FILES=${WS_BENCH_SCALE_FILES:-40}
BASE=${WS_BENCH_DIR:-${TMPDIR:-/tmp}}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
MEASURE=$HERE/measure.py
. "$HERE/lib/nginx.sh"

die() { echo "bench/datapath: $*" >&2; exit 1; }
note() { echo "note: $*"; }
posint() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer (got '$2')"; }
for v in RUNS DP_MIB DP_FILES FIXED_RUNS RESUME_MIB RESUME_RUNS SMALL_FILES SCALE_GIB SCALE_FILES; do
	posint "$v" "${!v}"
done
[[ $RESUME_LIMIT =~ ^[1-9][0-9]*[kKmM]?$ ]] || die "WS_BENCH_RESUME_LIMIT is bytes/s, e.g. 150M"
[ -x "$WS_BIN" ] || die "WS_BIN '$WS_BIN' is not executable"
[ -f "$MEASURE" ] || die "no $MEASURE"
for tool in openssl awk df python3 curl sha256sum; do
	command -v "$tool" >/dev/null || die "'$tool' is needed"
done
part() { [[ ,$PARTS, == *,$1,* ]]; }

mkdir -p "$BASE"
tmp=$(mktemp -d "$BASE/ws-bench-datapath.XXXXXX")
. "$HERE/lib/procs.sh"   # PIDS, cleanup on exit
mkdir -p "$tmp/bin"
cp "$WS_BIN" "$tmp/bin/weightsync"
WS_BIN_ORIG=$WS_BIN
WS_BIN=$tmp/bin/weightsync
# what this binary can report / do
HAS_RESUME_KEYS=; grep -q resume_saves "$WS_BIN" && HAS_RESUME_KEYS=1
HAS_DISK_IO=; grep -q WS_DISK_IO "$WS_BIN" && HAS_DISK_IO=1

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
		(( SECONDS < deadline )) || { echo "bench/datapath: timed out after $1 s waiting for: $2" >&2; return 1; }
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
		echo "bench/datapath: command failed: $*" >&2
		tail -n 30 "$log" >&2
		exit 1
	fi
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
json_get() { # FILE KEY -> the value, or n/a when the file or key is missing
	$PY -c 'import json, sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2])
except Exception:
    v = None
print("n/a" if v is None else v)' "$1" "$2"
}
# start_seeder HOME ADDR [SEED-OPTIONS] - sets SEED_PID SEED_PORT; the
# seeder gets WS_DISK_IO=$SEED_DIO when that is set
start_seeder() {
	local home=$1 addr=$2; shift 2
	SEED_PORT=$(free_port "$addr")
	bg "$home.seed.log" env WEIGHTSYNC_HOME="$home" ${SEED_DIO:+WS_DISK_IO=$SEED_DIO} "$WS_BIN" seed \
		--listen "$addr:$SEED_PORT" --no-dht "$@"
	SEED_PID=$BG
	wait_for 30 "ws '$home' status" || { tail "$home.seed.log" >&2; exit 1; }
}
# start_http ROOT - nginx (else busybox httpd) on 127.0.0.4 serving ROOT;
# sets HTTP_PID HTTP_PORT HTTP_LABEL (HTTP_PID empty when none started)
start_http() {
	local root=$1 probe=$2
	HTTP_PORT=$(free_port 127.0.0.4); HTTP_PID=; HTTP_LABEL=
	if command -v nginx >/dev/null; then
		rm -rf "$tmp/nginx"
		nginx_conf "$tmp/nginx" 127.0.0.4:$HTTP_PORT "$root"
		bg "$tmp/nginx/stderr.log" nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
		HTTP_PID=$BG
		if wait_for 10 "curl -sf -o /dev/null http://127.0.0.4:$HTTP_PORT/$probe"; then
			HTTP_LABEL="curl + nginx $(nginx -v 2>&1 | sed 's/.*\///')"
		else
			note "nginx did not start: $(tail -n 3 "$tmp/nginx/error.log" 2>/dev/null | tr '\n' ' ')"
			stop_pid "$HTTP_PID"; HTTP_PID=
		fi
	fi
	if [ -z "$HTTP_PID" ] && command -v busybox >/dev/null; then
		bg "$tmp/httpd.log" busybox httpd -f -p "127.0.0.4:$HTTP_PORT" -h "$root"
		HTTP_PID=$BG
		if wait_for 10 "curl -sf -o /dev/null http://127.0.0.4:$HTTP_PORT/$probe"; then
			HTTP_LABEL="curl + busybox httpd"
		else
			stop_pid "$HTTP_PID"; HTTP_PID=
		fi
	fi
	[ -n "$HTTP_PID" ] || note "no HTTP server could be started: the curl columns are skipped"
}
# meas OUT CMD... - run CMD under measure.py with the options in MEAS_OPTS;
# its JSON report goes to OUT.  Fails (and shows the logs) when CMD failed,
# unless MEAS_MAYFAIL is set.
MEAS_OPTS=()
meas() {
	local out=$1; shift
	if ! $PY "$MEASURE" "${MEAS_OPTS[@]}" -- "$@" >"$out" 2>"$out.err" </dev/null; then
		cat "$out.err" >&2; die "measure.py failed: $*"
	fi
	if [ -z "${MEAS_MAYFAIL:-}" ] && [ "$(json_get "$out" rc)" != 0 ]; then
		echo "bench/datapath: command failed (rc $(json_get "$out" rc)): $*" >&2
		tail -n 20 "$out.err" >&2
		exit 1
	fi
}
# fetch_failed M WHAT - true (and the failure is noted and counted) when the
# fetch measured in M exited non-zero or did not report ok; a failed fetch is
# left out of the medians, and the summary counts it
FETCH_FAILS=0 FETCH_TRIES=0
fetch_failed() {
	FETCH_TRIES=$(( FETCH_TRIES + 1 ))
	if [ "$(json_get "$1" rc)" = 0 ] && [ "$(json_get "$1.out" ok)" = True ]; then
		return 1
	fi
	FETCH_FAILS=$(( FETCH_FAILS + 1 ))
	note "$2 FAILED (rc $(json_get "$1" rc), load $(load)): $(grep -v '^ *$' "$1.err" | tail -n 2 | tr '\n' ' ') $(json_get "$1.out" error)"
	return 0
}
fetch_cmd() { # HOME LINK ADDR PORT [OPTIONS] -> sets FCMD
	local home=$1 link=$2 addr=$3 port=$4; shift 4
	FCMD=(env WEIGHTSYNC_HOME="$home" "$WS_BIN" fetch "$link" --peer "$addr:$port"
	      --listen 127.0.0.3:0 --no-dht --timeout 60 --json "$@")
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

# stats KEY=FILES... - medians of a contender's runs (measure.py JSON files,
# each with the fetch's own --json in FILE.out when there is one); BYTES is
# the payload.  Prints a table line per contender and sets shell variables
# through the file it writes ($tmp/stats.sh): S_<KEY>_<FIELD>.
stats() {
	$PY - "$BYTES" "$@" >"$tmp/stats.txt" 3>"$tmp/stats.sh" <<'PYEOF'
import json, os, statistics, sys
nbytes = int(sys.argv[1])
gib = nbytes / 2**30
env = os.fdopen(3, "w")
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
def fmt(v, p=3):
    return "n/a" if v is None else ("%.*f" % (p, v))
print("%-10s %5s %9s %8s %10s %10s %10s %9s %9s %8s %9s %7s" % (
    "contender", "runs", "median s", "MB/s", "cpu/GiB", "client/GiB", "server/GiB",
    "peak RSS", "peak anon", "tail s", "transfer", "tail %"))
for arg in sys.argv[2:]:
    key, files = arg.split("=", 1)
    runs = [json.load(open(f)) for f in files.split(",") if f]
    if not runs:
        print("%-10s     0  (no successful run)" % key)
        for k in ("wall", "mbps", "cpu", "cli", "srv", "user", "sys", "rss", "anon", "tail", "xfer",
                  "tailpct", "own_seconds", "own_first", "walls", "cpus", "tails"):
            env.write("S_%s_%s=n/a\n" % (key, k))
        continue
    own = []
    for f in [f for f in files.split(",") if f]:
        try:
            own.append(json.load(open(f + ".out")))
        except Exception:
            own.append({})
    wall = med([r["wall"] for r in runs])
    cli = [(r["user"] + r["sys"]) / gib for r in runs]
    srv = [(r["server_cpu"] / gib) if r["server_cpu"] is not None else None for r in runs]
    tot = [c + s if s is not None else None for c, s in zip(cli, srv)]
    tails = [r["tail"] for r in runs]
    xfer = [(r["last_data"] - r["first_data"]) if r["last_data"] is not None and r["first_data"] is not None else None for r in runs]
    pct = [100 * t / x if t is not None and x else None for t, x in zip(tails, xfer)]
    rss = max(r["maxrss_kb"] for r in runs) / 1024
    anon = max(r.get("anon_kb", 0) for r in runs) / 1024
    v = {
        "wall": wall, "mbps": nbytes / wall / 1e6 if wall else None,
        "cpu": med(tot), "cli": med(cli), "srv": med(srv),
        "user": med([r["user"] / gib for r in runs]), "sys": med([r["sys"] / gib for r in runs]),
        "rss": rss, "anon": anon, "tail": med(tails), "xfer": med(xfer), "tailpct": med(pct),
        "own_seconds": med([o.get("seconds") for o in own]),
        "own_first": med([o.get("first_data_seconds") for o in own]),
        "walls": " ".join("%.2f" % r["wall"] for r in runs),
        "cpus": " ".join(fmt(t, 2) for t in tot),
        "tails": " ".join(fmt(t, 3) for t in tails),
    }
    print("%-10s %5d %9s %8s %10s %10s %10s %8.0fM %8.0fM %8s %9s %7s" % (
        key, len(runs), fmt(v["wall"]), fmt(v["mbps"], 0), fmt(v["cpu"], 2), fmt(v["cli"], 2),
        fmt(v["srv"], 2), rss, anon, fmt(v["tail"]), fmt(v["xfer"], 2), fmt(v["tailpct"], 2)))
    print("%-10s       walls: %s; cpu/GiB: %s; tails: %s" % ("", v["walls"], v["cpus"], v["tails"]))
    for k, x in v.items():
        if isinstance(x, str):
            env.write("S_%s_%s='%s'\n" % (key, k, x))
        else:
            env.write("S_%s_%s=%s\n" % (key, k, fmt(x, 3) if x is not None else "n/a"))
PYEOF
	cat "$tmp/stats.txt"
	# shellcheck disable=SC1091
	. "$tmp/stats.sh"
}

echo "weightsync data-path benchmark (parts: $PARTS) in $tmp"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
     "$(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)," \
     "$("$WS_BIN" --version 2>/dev/null | head -n1)"
echo "binary: $WS_BIN_ORIG ($(stat -c '%y' "$WS_BIN_ORIG" | cut -d. -f1), sha256 $(sha256sum "$WS_BIN" | cut -c1-16)), run from a copy;" \
     "resume --json keys: $( [ -n "$HAS_RESUME_KEYS" ] && echo yes || echo no), WS_DISK_IO: $( [ -n "$HAS_DISK_IO" ] && echo yes || echo no)"
echo "load average before: $(load)"
awk '{ exit !($1 > 0.5) }' /proc/loadavg && note "other work is running on this machine; figures will be noisy"

# ============================================================================
# cpu, tail, diskio, fixed: one release of MIB in FILES files
# ============================================================================
bench_big() { # MIB FILES TAG
	local mib=$1 nf=$2 tag=$3 d=$tmp/$3 model=$tmp/$3/model pub=$tmp/$3/pub
	local P=; [ "$tag" = dp ] || P="$tag: "
	local link tiny_link="" dios="" dio sp sport r k t0
	declare -A dlink=() dpid=() dport=() daddr=()
	echo
	echo "--- $tag: $nf x $(( mib / nf )) MiB; $RUNS rounds of: weightsync$( { part diskio || [ "$tag" != dp ]; } && echo ", weightsync (WS_DISK_IO=mmap), weightsync (WS_DISK_IO=posix)"), curl + nginx ---"
	mkdir -p "$d"
	t0=$(now_ns)
	make_release_dir "$model" $(( mib * 1048576 )) "$nf" "$tag"
	BYTES=$(dir_bytes "$model")
	echo "generated $(( BYTES >> 20 )) MiB in $(secs $(( $(now_ns) - t0 ))) s"
	if part fixed && [ "$tag" = dp ]; then
		mkdir -p "$d/tiny"
		random_file "$d/tiny/tiny.bin" 1048576 tiny
		tiny_link=$(publish "$pub" "$d/tiny" bench-tiny)
	fi
	t0=$(now_ns)
	link=$(publish "$pub" "$model" bench-dp)
	echo "published in $(secs $(( $(now_ns) - t0 ))) s, piece size $(json_get "$pub.pub.json" piece_size)"
	if part diskio || [ "$tag" != dp ]; then
		if [ -n "$HAS_DISK_IO" ]; then
			dios="mmap posix"
			for dio in $dios; do
				mkdir -p "$pub-$dio/keys"
				cp -p "$pub/keys/"* "$pub-$dio/keys/"
				dlink[$dio]=$(publish "$pub-$dio" "$model" bench-dp)
			done
		else
			note "diskio: this binary does not read WS_DISK_IO; the mmap and posix columns are skipped"
		fi
	fi
	sync
	SEED_DIO= start_seeder "$pub" 127.0.0.2
	sp=$SEED_PID sport=$SEED_PORT
	local addr=10
	for dio in $dios; do
		SEED_DIO=$dio start_seeder "$pub-$dio" 127.0.0.$addr
		dpid[$dio]=$SEED_PID dport[$dio]=$SEED_PORT daddr[$dio]=127.0.0.$addr
		addr=$(( addr + 1 ))
	done
	wait_for 120 "node_seeds '$pub' bench-dp@1" || die "the seeder never seeded bench-dp@1"
	for dio in $dios; do
		wait_for 120 "node_seeds '$pub-$dio' bench-dp@1" || die "the $dio seeder never seeded bench-dp@1"
	done
	start_http "$model" config.json
	local -a keys=(ws) urls=()
	for dio in $dios; do keys+=("$dio"); done
	[ -n "$HTTP_PID" ] && keys+=(curl)
	local f
	for f in "$model"/*; do
		urls+=(-o "$d/out-curl/$(basename "$f")" "http://127.0.0.4:$HTTP_PORT/$(basename "$f")")
	done
	declare -A files=()
	for k in "${keys[@]}"; do files[$k]=""; done
	for (( r = 1; r <= RUNS; r++ )); do
		for k in "${keys[@]}"; do
			warm "$model"
			local m=$d/m.$k.$r
			case $k in
			ws|mmap|posix)
				new_fetch_home "$d/fh" "$pub" bench-dp
				if [ $k = ws ]; then
					fetch_cmd "$d/fh" "$link" 127.0.0.2 "$sport"
					MEAS_OPTS=(--watch "$d/fh/tmp" --total "$BYTES" --server "$sp" --deadline 900 --stdout "$m.out")
					MEAS_MAYFAIL=1 meas "$m" "${FCMD[@]}"
				else
					fetch_cmd "$d/fh" "${dlink[$k]}" "${daddr[$k]}" "${dport[$k]}"
					MEAS_OPTS=(--watch "$d/fh/tmp" --total "$BYTES" --server "${dpid[$k]}" --deadline 900 --stdout "$m.out")
					MEAS_MAYFAIL=1 meas "$m" env WS_DISK_IO=$k "${FCMD[@]}"
				fi
				if fetch_failed "$m" "$k fetch, round $r"; then rm -rf "$d/fh"; sync; continue; fi
				[ "$(dir_bytes "$(json_get "$m.out" path)")" -ge "$BYTES" ] || die "$k fetch left less data than the release"
				[ "$(json_get "$m" last_data)" != n/a ] || note "$k run $r: the last byte was not seen landing (tail n/a)"
				rm -rf "$d/fh" ;;
			curl)
				rm -rf "$d/out-curl"; mkdir -p "$d/out-curl"
				MEAS_OPTS=(--server "$HTTP_PID" --deadline 900 --stdout /dev/null)
				meas "$m" curl -s --fail "${urls[@]}"
				[ "$(dir_bytes "$d/out-curl")" = "$BYTES" ] || die "curl fetched $(dir_bytes "$d/out-curl") bytes, not $BYTES"
				rm -rf "$d/out-curl" ;;
			esac
			files[$k]="${files[$k]:+${files[$k]},}$m"
			echo "  round $r: $k $(json_get "$m" wall) s, fetcher cpu $(json_get "$m" user)+$(json_get "$m" sys) s, server cpu $(json_get "$m" server_cpu) s, tail $(json_get "$m" tail) s (load $(load))"
			sync
		done
	done
	echo "weightsync's own report of its last fetch: $(tr -d '\n ' <"$d/m.ws.$RUNS.out" | cut -c1-400)"
	echo
	local -a sargs=()
	for k in "${keys[@]}"; do sargs+=("$k=${files[$k]}"); done
	stats "${sargs[@]}"
	echo "(cpu/GiB = (client user+sys + server utime+stime) / GiB; client = fetcher or curl, server = seeder or nginx;"
	echo " tail = last byte landed in the staging files -> exit; transfer = first byte -> last byte; MB = 10^6 bytes)"
	echo "weightsync's own --json, median: seconds $S_ws_own_seconds, first_data_seconds $S_ws_own_first"
	local sz="$(( BYTES >> 20 )) MiB"
	if part cpu || [ "$tag" != dp ]; then
		local rc; rc=$(ratio "$S_ws_cpu" "${S_curl_cpu:-}")
		sumrow "${P}cpu/GiB, fetcher+seeder ($sz)" "$S_ws_cpu s" "(info)" "fetcher $S_ws_cli + seeder $S_ws_srv"
		sumrow "${P}cpu/GiB, curl+nginx ($sz)" "${S_curl_cpu:-n/a} s" "(info)" "curl ${S_curl_cli:-n/a} + nginx ${S_curl_srv:-n/a}"
		sumrow "${P}cpu/GiB: weightsync / curl+nginx" "${rc}x" "<= 2x" "$(verdict "$rc" "<=" 2)"
		sumrow "${P}throughput: weightsync MB/s ($sz)" "$S_ws_mbps" "(info)" "curl ${S_curl_mbps:-n/a} MB/s"
		local rt; rt=$(ratio "${S_curl_wall:-}" "$S_ws_wall")
		sumrow "${P}throughput: weightsync / curl" "${rt}x" ">= 0.8x" "$(verdict "$rt" ">=" 0.8)"
	fi
	if part tail || [ "$tag" != dp ]; then
		sumrow "${P}tail: last byte -> exit (s, $sz)" "$S_ws_tail" "(info)" "transfer $S_ws_xfer s"
		sumrow "${P}tail / transfer time" "${S_ws_tailpct}%" "<= 2%" "$(verdict "$S_ws_tailpct" "<=" 2)"
	fi
	sumrow "${P}fetcher memory beyond the page cache (peak RssAnon)" "$S_ws_anon MiB" "<= 200 MiB" "$(verdict "$S_ws_anon" "<=" 200)"
	if [ -n "$dios" ]; then
		sumrow "${P}diskio: default MB/s / cpu/GiB / peak RSS" "$S_ws_mbps" "(info)" "$S_ws_cpu s/GiB (seeder $S_ws_srv), $S_ws_rss MiB, anon $S_ws_anon MiB"
		for dio in $dios; do
			local v_mbps=S_${dio}_mbps v_cpu=S_${dio}_cpu v_srv=S_${dio}_srv v_rss=S_${dio}_rss v_anon=S_${dio}_anon v_wall=S_${dio}_wall
			sumrow "${P}diskio: $dio MB/s / cpu/GiB / peak RSS" "${!v_mbps}" "(info)" "${!v_cpu} s/GiB (seeder ${!v_srv}), ${!v_rss} MiB, anon ${!v_anon} MiB"
			sumrow "${P}diskio: default / $dio throughput" "$(ratio "${!v_wall}" "$S_ws_wall")x" "(info)" "cpu $(ratio "$S_ws_cpu" "${!v_cpu}")x, rss $(ratio "$S_ws_rss" "${!v_rss}")x"
		done
	elif part diskio || [ "$tag" != dp ]; then
		sumrow "${P}diskio: default MB/s / cpu/GiB / peak RSS" "$S_ws_mbps" "(info)" "$S_ws_cpu s/GiB, $S_ws_rss MiB, anon $S_ws_anon MiB"
		sumrow "${P}diskio: mmap, posix" "n/a" "(info)" "binary ignores WS_DISK_IO"
	fi

	if [ -n "$tiny_link" ]; then
		echo
		echo "fixed cost: a 1 MiB release, $FIXED_RUNS fetches start to exit"
		local tf=""
		for (( r = 1; r <= FIXED_RUNS; r++ )); do
			new_fetch_home "$d/fh" "$pub" bench-tiny
			fetch_cmd "$d/fh" "$tiny_link" 127.0.0.2 "$sport"
			MEAS_OPTS=(--server "$sp" --deadline 120 --stdout "$d/m.tiny.$r.out")
			MEAS_MAYFAIL=1 meas "$d/m.tiny.$r" "${FCMD[@]}"
			if fetch_failed "$d/m.tiny.$r" "1 MiB fetch, run $r"; then rm -rf "$d/fh"; continue; fi
			tf="${tf:+$tf,}$d/m.tiny.$r"
			echo "  run $r: $(json_get "$d/m.tiny.$r" wall) s (its --json: seconds $(json_get "$d/m.tiny.$r.out" seconds), first_data_seconds $(json_get "$d/m.tiny.$r.out" first_data_seconds)) (load $(load))"
			rm -rf "$d/fh"
		done
		local save=$BYTES; BYTES=1048576
		stats "tiny=$tf" >/dev/null
		BYTES=$save
		sumrow "${P}fixed cost: 1 MiB fetch, median s" "$S_tiny_wall" "<= 0.3 s" "$(verdict "$S_tiny_wall" "<=" 0.3) ($(ratio "$S_tiny_wall" 0.3)x target)"
	fi
	[ -n "$HTTP_PID" ] && stop_pid "$HTTP_PID"
	stop_pid "$sp"
	for dio in $dios; do stop_pid "${dpid[$dio]}"; done
	rm -rf "$d"
	sync
}

# ============================================================================
# resume: kill -9 at about half, restart
# ============================================================================
bench_resume() { # MIB FILES TAG
	local mib=$1 nf=$2 tag=$3 d=$tmp/$3 model=$tmp/$3/model pub=$tmp/$3/pub link sp sport r t0
	local P=; [ "$tag" = resume ] || P="$tag: "
	echo
	echo "--- resume ($tag): $nf x $(( mib / nf )) MiB, first fetch at --download-limit $RESUME_LIMIT," \
	     "kill -9 at half$( [ -n "$HAS_RESUME_KEYS" ] && echo " and after the first resume save (.resume)"), restart unlimited; $RESUME_RUNS runs ---"
	mkdir -p "$d"
	t0=$(now_ns)
	make_release_dir "$model" $(( mib * 1048576 )) "$nf" "$tag"
	BYTES=$(dir_bytes "$model")
	echo "generated $(( BYTES >> 20 )) MiB in $(secs $(( $(now_ns) - t0 ))) s"
	link=$(publish "$pub" "$model" bench-resume)
	sync
	SEED_DIO= start_seeder "$pub" 127.0.0.9
	sp=$SEED_PID sport=$SEED_PORT
	wait_for 300 "node_seeds '$pub' bench-resume@1" || die "the seeder never seeded bench-resume@1"
	local firsts="" fracs="" frachs=""
	for (( r = 1; r <= RESUME_RUNS; r++ )); do
		warm "$model"
		new_fetch_home "$d/fh" "$pub" bench-resume
		fetch_cmd "$d/fh" "$link" 127.0.0.9 "$sport" --download-limit "$RESUME_LIMIT"
		MEAS_OPTS=(--watch "$d/fh/tmp" --total "$BYTES" --kill-at 0.5 --deadline 900 --stdout "$d/k1.$r.out")
		[ -n "$HAS_RESUME_KEYS" ] && MEAS_OPTS+=(--after-file .resume)
		MEAS_MAYFAIL=1 meas "$d/k1.$r" "${FCMD[@]}"
		if [ "$(json_get "$d/k1.$r" killed)" != True ]; then
			note "run $r: the first fetch ended before the kill (rc $(json_get "$d/k1.$r" rc)); run skipped"
			fetch_failed "$d/k1.$r" "first (to be killed) fetch, run $r" || true
			rm -rf "$d/fh"; continue
		fi
		local held; held=$(json_get "$d/k1.$r" held_at_kill)
		local saved=no; [ -n "$(find "$d/fh/tmp" -name .resume 2>/dev/null)" ] && saved=yes
		echo "  run $r: killed after $(json_get "$d/k1.$r" wall) s with $(( held >> 20 )) MiB of $(( BYTES >> 20 )) MiB on disk" \
		     "($(awk -v h="$held" -v b="$BYTES" 'BEGIN { printf "%.0f", 100 * h / b }')%), resume data on disk: $saved"
		fetch_cmd "$d/fh" "$link" 127.0.0.9 "$sport"
		MEAS_OPTS=(--watch "$d/fh/tmp" --total "$BYTES" --server "$sp" --deadline 900 --stdout "$d/k2.$r.out")
		MEAS_MAYFAIL=1 meas "$d/k2.$r" "${FCMD[@]}"
		local o=$d/k2.$r.out
		if fetch_failed "$d/k2.$r" "restarted fetch, run $r"; then rm -rf "$d/fh"; sync; continue; fi
		local fd rs rc dl
		fd=$(json_get "$o" first_data_seconds); rs=$(json_get "$o" resumed); rc=$(json_get "$o" rechecked); dl=$(json_get "$o" downloaded)
		# two denominators: resumed + rechecked (what the fetch says it
		# had; "resumed" appears to count the rechecked bytes too, so
		# this flatters), and the bytes the watcher saw on disk at the kill
		local had=n/a frac=n/a frach=n/a
		if [ "$rs" != n/a ] && [ "$rc" != n/a ]; then
			had=$(( rs + rc ))
			frac=$(awk -v c="$rc" -v h="$had" 'BEGIN { if (h > 0) printf "%.2f", 100 * c / h; else print "n/a" }')
			frach=$(awk -v c="$rc" -v h="$held" 'BEGIN { if (h > 0) printf "%.2f", 100 * c / h; else print "n/a" }')
		fi
		echo "  restart: first_data_seconds $fd, seconds $(json_get "$o" seconds), downloaded $(( dl >> 20 )) MiB," \
		     "resumed $rs, rechecked $rc (= ${frac}% of resumed + rechecked = $had; ${frach}% of the $held bytes on disk at the kill)," \
		     "distrusted_files $(json_get "$o" distrusted_files), resume_saves $(json_get "$o" resume_saves);" \
		     "cpu $(json_get "$d/k2.$r" user)+$(json_get "$d/k2.$r" sys) s (load $(load))"
		firsts="$firsts $fd"
		[ "$frac" != n/a ] && fracs="$fracs $frac"
		[ "$frach" != n/a ] && frachs="$frachs $frach"
		rm -rf "$d/fh"
		sync
	done
	local mf mr
	local mh=n/a
	# shellcheck disable=SC2086
	[ -n "$frachs" ] && mh=$(median $frachs)
	mf=n/a mr=n/a
	# shellcheck disable=SC2086
	[ -n "$firsts" ] && mf=$(median $firsts)
	# shellcheck disable=SC2086
	[ -n "$fracs" ] && mr=$(median $fracs)
	sumrow "${P}resume: restart to first new byte (s, $(( BYTES >> 20 )) MiB)" "$mf" "<= 1 s" "$(verdict "$mf" "<=" 1) (runs:$firsts)"
	sumrow "${P}resume: rechecked / (resumed+rechecked) %" "$mr" "<= 5%" "$(verdict "$mr" "<=" 5)$( [ -n "$fracs" ] && echo " (runs:$fracs)" || echo " (binary reports no rechecked/resumed)")"
	sumrow "${P}resume: rechecked / bytes on disk at kill %" "$mh" "<= 5%" "$(verdict "$mh" "<=" 5)$( [ -n "$frachs" ] && echo " (runs:$frachs)")"
	stop_pid "$sp"
	rm -rf "$d"
	sync
}

# ============================================================================
# small: many small files
# ============================================================================
bench_small() {
	local d=$tmp/small model=$tmp/small/model r k link sp sport
	echo
	echo "--- small: $SMALL_FILES files of 1 B - 64 KiB; $RUNS rounds ---"
	mkdir -p "$model"
	$PY - "$model" "$SMALL_FILES" <<'PYEOF'
import random, sys
d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(8)
for i in range(n):
    with open("%s/f-%05d.bin" % (d, i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1, 65536)))
PYEOF
	BYTES=$(dir_bytes "$model")
	echo "generated $SMALL_FILES files, $BYTES bytes ($(mbps "$BYTES" 1) MB)"
	sync
	warm "$model"
	# publish against sha256sum
	local pf="" hf=""
	for (( r = 1; r <= RUNS; r++ )); do
		local ph=$d/ph$r
		rm -rf "$ph"
		must "$ph.keygen.log" ws "$ph" keygen --no-password
		warm "$model"
		MEAS_OPTS=(--deadline 900 --stdout "$d/m.pub.$r.out")
		meas "$d/m.pub.$r" env WEIGHTSYNC_HOME="$ph" "$WS_BIN" publish "$model" --name bench-small --json
		pf="${pf:+$pf,}$d/m.pub.$r"
		MEAS_OPTS=(--deadline 900 --stdout /dev/null)
		meas "$d/m.sha.$r" sha256sum "$model"/*
		hf="${hf:+$hf,}$d/m.sha.$r"
		echo "  round $r: publish $(json_get "$d/m.pub.$r" wall) s (cpu $(json_get "$d/m.pub.$r" user)+$(json_get "$d/m.pub.$r" sys))," \
		     "sha256sum $(json_get "$d/m.sha.$r" wall) s (cpu $(json_get "$d/m.sha.$r" user)+$(json_get "$d/m.sha.$r" sys)) (load $(load))"
		(( r == 1 )) || rm -rf "$ph"
		sync
	done
	echo "piece size $(json_get "$d/m.pub.1.out" piece_size)"
	stats "publish=$pf" "sha256sum=$hf"
	local rp; rp=$(ratio "$S_publish_wall" "$S_sha256sum_wall")
	sumrow "small: publish s" "$S_publish_wall" "(info)" "sha256sum $S_sha256sum_wall s"
	sumrow "small: publish / sha256sum" "${rp}x" "<= 2x" "$(verdict "$rp" "<=" 2)"

	# fetch against curl, one file after another
	link=$(json_get "$d/m.pub.1.out" link)
	SEED_DIO= start_seeder "$d/ph1" 127.0.0.2
	sp=$SEED_PID sport=$SEED_PORT
	wait_for 120 "node_seeds '$d/ph1' bench-small@1" || die "the seeder never seeded bench-small@1"
	start_http "$model" f-00000.bin
	local -a keys=(ws)
	[ -n "$HTTP_PID" ] && keys+=(curl)
	local f
	: >"$d/curl.cfg"
	for f in "$model"/*; do
		printf 'url = "http://127.0.0.4:%s/%s"\noutput = "%s/out-curl/%s"\n' "$HTTP_PORT" "${f##*/}" "$d" "${f##*/}" >>"$d/curl.cfg"
	done
	local wf="" cf=""
	for (( r = 1; r <= RUNS; r++ )); do
		for k in "${keys[@]}"; do
			warm "$model"
			local m=$d/m.$k.$r
			case $k in
			ws)
				new_fetch_home "$d/fh" "$d/ph1" bench-small
				fetch_cmd "$d/fh" "$link" 127.0.0.2 "$sport"
				MEAS_OPTS=(--server "$sp" --deadline 900 --stdout "$m.out")
				MEAS_MAYFAIL=1 meas "$m" "${FCMD[@]}"
				if fetch_failed "$m" "small fetch, round $r"; then rm -rf "$d/fh"; sync; continue; fi
				[ "$(dir_bytes "$(json_get "$m.out" path)")" -ge "$BYTES" ] || die "small fetch left less data than the release"
				rm -rf "$d/fh"
				wf="${wf:+$wf,}$m" ;;
			curl)
				rm -rf "$d/out-curl"; mkdir -p "$d/out-curl"
				MEAS_OPTS=(--server "$HTTP_PID" --deadline 900 --stdout /dev/null)
				meas "$m" curl -s --fail -K "$d/curl.cfg"
				[ "$(dir_bytes "$d/out-curl")" = "$BYTES" ] || die "curl fetched $(dir_bytes "$d/out-curl") bytes, not $BYTES"
				rm -rf "$d/out-curl"
				cf="${cf:+$cf,}$m" ;;
			esac
			echo "  round $r: $k $(json_get "$m" wall) s (cpu $(json_get "$m" user)+$(json_get "$m" sys), server $(json_get "$m" server_cpu)) (load $(load))"
			sync
		done
	done
	stats "ws=$wf" ${cf:+"curl=$cf"}
	local rf; rf=$(ratio "$S_ws_wall" "${S_curl_wall:-}")
	sumrow "small: fetch s" "$S_ws_wall" "(info)" "curl ${S_curl_wall:-n/a} s"
	sumrow "small: fetch / curl one after another" "${rf}x" "<= 2x" "$(verdict "$rf" "<=" 2)"
	[ -n "$HTTP_PID" ] && stop_pid "$HTTP_PID"
	stop_pid "$sp"
	rm -rf "$d"
	sync
}

if part cpu || part tail || part diskio || part fixed; then
	bench_big "$DP_MIB" "$DP_FILES" dp
fi
part resume && bench_resume "$RESUME_MIB" 4 resume
part small && bench_small
if part scale; then
	avail_gib=$(df -Pk "$tmp" | awk 'NR == 2 { printf "%d", $4 / 1048576 }')
	if (( avail_gib > 3 * SCALE_GIB )); then
		echo
		echo "=== scale: $SCALE_GIB GiB in $SCALE_FILES shards ($avail_gib GiB free) ==="
		bench_big $(( SCALE_GIB * 1024 )) "$SCALE_FILES" scale
		bench_resume $(( SCALE_GIB * 1024 )) "$SCALE_FILES" scale-resume
	else
		note "scale part skipped: $avail_gib GiB free, it needs more than $(( 3 * SCALE_GIB ))"
		sumrow "scale: $SCALE_GIB GiB in $SCALE_FILES shards" "skipped" "" "disk"
	fi
fi

sumrow "weightsync fetches that failed" "$FETCH_FAILS of $FETCH_TRIES" "0" "$( [ "$FETCH_FAILS" = 0 ] && echo PASS || echo MISS) (left out of the medians)"
echo
echo "load average after: $(load)"
echo
echo "=== summary (MB = 10^6 bytes; targets informational) ==="
printf '%-44s %12s  %-14s %s\n' measure value target verdict/ratio
for row in "${SUMMARY[@]}"; do echo "$row"; done
echo "note: $(nproc) cores shared by seeder, fetcher and whatever else runs; figures vary ~15% run to run"
