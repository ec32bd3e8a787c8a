#!/bin/bash
# bench/hash.sh - hashing throughput of weightsync audit and publish against
# sha256sum and `openssl dgst -sha256`, side by side on the same files read
# from the page cache.
#
#   WS_BIN            the weightsync binary (bench/run sets it)
#   WS_BENCH_GIB      size of each data set in GiB (default 2; fractions ok)
#   WS_BENCH_FILES    files in the multi-file release (default 4)
#   WS_BENCH_RUNS     runs per contender; the median is reported (default 3)
#   WS_BENCH_DIR      where the temporary folder goes (default $TMPDIR or /tmp)
#
# Two data sets of WS_BENCH_GIB each: a release of WS_BENCH_FILES
# safetensors-shaped files of random data, and a single file in a folder of
# its own.  Targets (informational, the exit status ignores them):
#   audit, multi-file:  >= 1.7x the throughput of openssl dgst
#   audit, one file:    >= 1.6x the throughput of openssl dgst
#   publish, multi-file: <= 1.5x the time of one openssl dgst pass
# Exit status: 0 unless a command failed or the setup is impossible.
# Only local files are used (no network).
set -euo pipefail

: "${WS_BIN:?set WS_BIN to the weightsync binary (bench/run does)}"
GIB=${WS_BENCH_GIB:-2}
NFILES=${WS_BENCH_FILES:-4}
RUNS=${WS_BENCH_RUNS:-3}
BASE=${WS_BENCH_DIR:-${TMPDIR:-/tmp}}

die() { echo "bench/hash: $*" >&2; exit 1; }

for tool in openssl sha256sum awk df; do
	command -v "$tool" >/dev/null || die "'$tool' is needed"
done
[ -x "$WS_BIN" ] || die "WS_BIN '$WS_BIN' is not executable"
[[ $NFILES =~ ^[1-9][0-9]*$ ]] || die "WS_BENCH_FILES must be a positive integer"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "WS_BENCH_RUNS must be a positive integer"
SET_BYTES=$(awk -v g="$GIB" 'BEGIN { if (g + 0 <= 0) exit 1; printf "%.0f", g * 1073741824 }') ||
	die "WS_BENCH_GIB must be a positive number"
PER_FILE=$(( SET_BYTES / NFILES ))
(( PER_FILE >= 4096 )) || die "files would be too small"
TOTAL=$(( 2 * SET_BYTES ))

# /usr/bin/time gives peak RSS; without it RSS is not reported
TIMEBIN=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	TIMEBIN=/usr/bin/time
fi

# --- space and memory ------------------------------------------------------
mkdir -p "$BASE"
avail_kb=$(df -Pk "$BASE" | awk 'NR == 2 { print $4 }')
need_kb=$(( 3 * TOTAL / 1024 ))
if (( avail_kb < need_kb )); then
	die "$BASE has $(( avail_kb / 1048576 )) GiB free; this benchmark writes $(( TOTAL >> 30 )) GiB and wants 3x that ($(( need_kb / 1048576 )) GiB) free. Set WS_BENCH_DIR or a smaller WS_BENCH_GIB."
fi
mem_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null || echo 0)
if (( mem_kb > 0 && mem_kb < TOTAL / 1024 * 5 / 4 )); then
	echo "bench/hash: warning: $(( mem_kb / 1048576 )) GiB of memory available for" \
	     "$(( TOTAL >> 30 )) GiB of data: files may not stay in the page cache," \
	     "figures will include disk reads" >&2
fi

tmp=$(mktemp -d "$BASE/ws-bench-hash.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- data ------------------------------------------------------------------
# random bytes, fast: AES-128-CTR keystream (several GB/s) rather than
# /dev/urandom; openssl dies of SIGPIPE when head has enough
random_bytes() { # SEED BYTES
	local key
	key=$(printf '%s' "$1" | openssl dgst -md5 -r | cut -c1-32)
	set +o pipefail
	openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000 \
		</dev/zero 2>/dev/null | head -c "$2"
	set -o pipefail
}

# a safetensors file: 8-byte little-endian header length, JSON header padded
# with spaces to a multiple of 8, then the tensor data (random); FILE BYTES SEED
make_safetensors() {
	local file=$1 bytes=$2 seed=$3 hdr data new esc='' i
	data=$(( bytes - 8 - 128 ))
	for i in 1 2 3 4; do
		hdr="{\"__metadata__\":{\"format\":\"pt\"},\"w$seed\":{\"dtype\":\"BF16\",\"shape\":[$(( data / 2 ))],\"data_offsets\":[0,$data]}}"
		while (( ${#hdr} % 8 )); do hdr="$hdr "; done
		new=$(( bytes - 8 - ${#hdr} ))
		(( new == data )) && break
		data=$new
	done
	for (( i = 0; i < 8; i++ )); do
		esc="$esc$(printf '\\x%02x' $(( (${#hdr} >> (8 * i)) & 255 )))"
	done
	{
		printf "$esc"
		printf '%s' "$hdr"
		random_bytes "$seed" "$data"
	} >"$file"
}

echo "weightsync hash benchmark: $NFILES x $(( PER_FILE >> 20 )) MiB release and a" \
     "$(( SET_BYTES >> 20 )) MiB single file, $RUNS runs each (median), in $tmp"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
     "$(openssl version | cut -d' ' -f1-2), $(sha256sum --version | head -n1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if awk '{ exit !($1 > 0.5) }' /proc/loadavg; then
	echo "note: other work is running on this machine; figures will be noisy, and the"
	echo "      two-threaded weightsync loses more to it than one-threaded sha256sum/openssl"
fi

mkdir -p "$tmp/model" "$tmp/single"
t0=$(date +%s%N)
pids=()
for (( i = 1; i <= NFILES; i++ )); do
	make_safetensors "$(printf '%s/model-%05d-of-%05d.safetensors' "$tmp/model" "$i" "$NFILES")" \
		"$PER_FILE" "ws-bench-$i" &
	pids+=($!)
done
make_safetensors "$tmp/single/model.safetensors" "$SET_BYTES" ws-bench-single &
pids+=($!)
for p in "${pids[@]}"; do
	wait "$p" || die "generating the data failed"
done
t1=$(date +%s%N)
MULTI=("$tmp"/model/*.safetensors)
SINGLE=("$tmp/single/model.safetensors")
size_of() { local s=0 f; for f; do s=$(( s + $(stat -c %s "$f") )); done; echo "$s"; }
MULTI_BYTES=$(size_of "${MULTI[@]}")
SINGLE_BYTES=$(size_of "${SINGLE[@]}")
(( MULTI_BYTES >= SET_BYTES - 16 * NFILES && SINGLE_BYTES >= SET_BYTES - 16 )) ||
	die "generated files are short (disk full?)"
echo "generated $(( (MULTI_BYTES + SINGLE_BYTES) >> 20 )) MiB in" \
     "$(awk -v n=$(( t1 - t0 )) 'BEGIN { printf "%.1f", n / 1e9 }') s"
# write the data out now: the kernel's writeback of gigabytes of dirty
# pages would otherwise run during the timings and take CPU from them
t0=$(date +%s%N)
sync "${MULTI[@]}" "${SINGLE[@]}" 2>/dev/null || sync
t1=$(date +%s%N)
echo "synced to disk in $(awk -v n=$(( t1 - t0 )) 'BEGIN { printf "%.1f", n / 1e9 }') s"

# --- releases to audit -----------------------------------------------------
ws() { # HOME ARGS...
	local home=$1; shift
	WEIGHTSYNC_HOME=$home "$WS_BIN" "$@" </dev/null
}
run_or_die() { # LOG CMD...
	local log=$1; shift
	if ! "$@" >"$log" 2>&1; then
		echo "bench/hash: command failed: $*" >&2
		cat "$log" >&2
		exit 1
	fi
}
HOME_A=$tmp/home
run_or_die "$tmp/setup.log" ws "$HOME_A" keygen --no-password
run_or_die "$tmp/setup.log" ws "$HOME_A" publish "$tmp/model" --name bench-multi
run_or_die "$tmp/setup.log" ws "$HOME_A" publish "$tmp/single" --name bench-single

# --- timing ----------------------------------------------------------------
# Contenders are run in rounds (each contender once per round, RUNS rounds)
# so a burst of other load on the machine hits them all alike rather than
# all runs of one.  Every run goes under /usr/bin/time (when there) for its
# peak RSS; the wall time is date +%s%N around it.
declare -A MED RSS BYTES LABEL CMD PRE TIMES
ORDER=()
contender() { # KEY LABEL BYTES PRE-HOOK CMD...
	local key=$1
	LABEL[$key]=$2
	BYTES[$key]=$3
	PRE[$key]=$4
	shift 4
	CMD[$key]=$(printf '%q ' "$@")
	TIMES[$key]=
	RSS[$key]=0
	ORDER+=("$key")
}
run_once() { # KEY
	local key=$1 t0 t1 m
	local -a cmd
	eval "cmd=(${CMD[$key]})"
	[ -n "${PRE[$key]}" ] && "${PRE[$key]}"
	if [ -n "$TIMEBIN" ]; then
		cmd=("$TIMEBIN" -f %M -o "$tmp/rss" "${cmd[@]}")
	fi
	t0=$(date +%s%N)
	if ! "${cmd[@]}" </dev/null >"$tmp/out.log" 2>"$tmp/err.log"; then
		echo "bench/hash: ${LABEL[$key]} failed: ${CMD[$key]}" >&2
		cat "$tmp/err.log" "$tmp/out.log" >&2
		exit 1
	fi
	t1=$(date +%s%N)
	TIMES[$key]="${TIMES[$key]} $(( t1 - t0 ))"
	if [ -n "$TIMEBIN" ]; then
		m=$(tail -n1 "$tmp/rss")
		if (( m > RSS[$key] )); then RSS[$key]=$m; fi
	fi
	cp "$tmp/out.log" "$tmp/last-$key.out"
}

HOME_P=$tmp/pubhome
fresh_publish_home() {
	rm -rf "$HOME_P"
	run_or_die "$tmp/setup.log" ws "$HOME_P" keygen --no-password
}

contender sha_m   "sha256sum, $NFILES files"            "$MULTI_BYTES"  "" sha256sum "${MULTI[@]}"
contender ossl_m  "openssl dgst -sha256, $NFILES files" "$MULTI_BYTES"  "" openssl dgst -sha256 "${MULTI[@]}"
contender audit_m "weightsync audit, $NFILES files"     "$MULTI_BYTES"  "" \
	env WEIGHTSYNC_HOME="$HOME_A" "$WS_BIN" audit bench-multi
contender pub_m   "weightsync publish, $NFILES files"   "$MULTI_BYTES"  fresh_publish_home \
	env WEIGHTSYNC_HOME="$HOME_P" "$WS_BIN" publish "$tmp/model" --name bench-pub
contender sha_s   "sha256sum, 1 file"                   "$SINGLE_BYTES" "" sha256sum "${SINGLE[@]}"
contender ossl_s  "openssl dgst -sha256, 1 file"        "$SINGLE_BYTES" "" openssl dgst -sha256 "${SINGLE[@]}"
contender audit_s "weightsync audit, 1 file"            "$SINGLE_BYTES" "" \
	env WEIGHTSYNC_HOME="$HOME_A" "$WS_BIN" audit bench-single

echo "warming the page cache"
cat "${MULTI[@]}" "${SINGLE[@]}" >/dev/null
cat "${MULTI[@]}" "${SINGLE[@]}" >/dev/null

for (( r = 1; r <= RUNS; r++ )); do
	echo "round $r of $RUNS" >&2
	for k in "${ORDER[@]}"; do
		run_once "$k"
	done
done
rm -rf "$HOME_P"
echo "runs (wall seconds):"
for k in "${ORDER[@]}"; do
	# shellcheck disable=SC2086
	MED[$k]=$(printf '%s\n' ${TIMES[$k]} | sort -n |
		awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1e9 }')
	# shellcheck disable=SC2086
	printf '  %-36s %s\n' "${LABEL[$k]}" "$(printf '%s\n' ${TIMES[$k]} | awk '{ printf "%.2fs ", $1 / 1e9 }')"
done

# sanity: the two reference tools agree
a=$(awk '{ print $1 }' "$tmp/last-sha_s.out")
b=$(awk '{ print $NF }' "$tmp/last-ossl_s.out")
[ "$a" = "$b" ] || die "sha256sum and openssl disagree on the single file ($a vs $b)"

# --- report ----------------------------------------------------------------
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-36s %12s %9s %9s %10s\n' contender bytes "median s" "MB/s" "peak RSS"
for k in "${ORDER[@]}"; do
	if [ -n "$TIMEBIN" ]; then
		rss="$(( ${RSS[$k]} / 1024 )) MiB"
	else
		rss=n/a
	fi
	printf '%-36s %12s %9s %9s %10s\n' "${LABEL[$k]}" "${BYTES[$k]}" "${MED[$k]}" \
		"$(awk -v b="${BYTES[$k]}" -v t="${MED[$k]}" 'BEGIN { printf "%.0f", (t > 0 ? b / t / 1e6 : 0) }')" \
		"$rss"
done
[ -n "$TIMEBIN" ] || echo "(peak RSS not measured: /usr/bin/time is missing; apt-get install time)"
echo "MB = 10^6 bytes.  publish MB/s counts the release bytes once, though publish hashes"
echo "them several times (plain SHA-256, v2 merkle tree, v1 SHA-1 pieces) and hard-links them"
echo

# ratio NUM DEN; the ratio of two medians
ratio() { awk -v a="${MED[$1]}" -v b="${MED[$2]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { # VALUE OP TARGET
	if awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? v >= t : v <= t) }'; then
		echo PASS
	else
		echo MISS
	fi
}
row() { # LABEL VALUE OP TARGET
	if [ -n "${3:-}" ]; then
		printf '%-58s %6sx  (target %s %sx)  %s\n' "$1" "$2" "$3" "$4" "$(verdict "$2" "$3" "$4")"
	else
		printf '%-58s %6sx\n' "$1" "$2"
	fi
}
echo "ratios (throughput ratios are time ratios: same bytes):"
row "audit $NFILES files throughput / openssl dgst"       "$(ratio ossl_m audit_m)" ">=" 1.7
row "audit 1 file throughput / openssl dgst"              "$(ratio ossl_s audit_s)" ">=" 1.6
row "publish $NFILES files time / openssl dgst time"      "$(ratio pub_m ossl_m)"   "<=" 1.5
row "audit $NFILES files throughput / sha256sum"          "$(ratio sha_m audit_m)"
row "audit 1 file throughput / sha256sum"                 "$(ratio sha_s audit_s)"
row "publish $NFILES files time / sha256sum time"         "$(ratio pub_m sha_m)"
row "openssl dgst throughput / sha256sum ($NFILES files)" "$(ratio sha_m ossl_m)"
echo "note: $(nproc) cores shared with whatever else runs; figures vary ~15% run to run"
