#!/bin/bash
# soak.sh - crash campaigns against the weightsync binary $WS_BIN (make soak).
#
# Campaigns (SOAK_CAMPAIGNS, default all of them, in this order):
#   publish  kill -9 at a random time during `publish`
#   fetch    kill -9 at a random time during a fetch from a loopback seed
#   import   kill -9 at a random time during `import` of a bundle
#   export   kill -9 at a random time during `export`
#   seed     SIGTERM at a random time while `seed` starts and saves
#   corrupt  data.mdb truncated to several sizes and with bytes flipped,
#            every command run against it
# After each crash: the index opens (`list` exits 0), `audit` is clean (0)
# or names what is wrong (1, with output), `log NAME --json` lists each
# version once, none skipped and none lost, and the re-run completes.
#
# Environment: WS_BIN (required), SOAK_ROUNDS (rounds per campaign, 5),
# SOAK_SEED (random seed, printed so a run can be repeated), SOAK_MB (model
# size, 24), SOAK_LOG (keep the per-check records in this file).
# Loopback only (127.0.0.4 and 127.0.0.5); every process is stopped by its
# PID; every wait is bounded; the temporary folder is removed at exit.
# It need not pass: the last lines are a summary of runs and failures by
# campaign and kind, and the exit status is 1 when anything failed.
set -u
: "${WS_BIN:?set WS_BIN to the weightsync binary (make soak does)}"
ROUNDS=${SOAK_ROUNDS:-5}
SEED=${SOAK_SEED:-$(( $(date +%s) % 32768 ))}
MB=${SOAK_MB:-24}
CAMPAIGNS=${SOAK_CAMPAIGNS:-publish fetch import export seed corrupt}
CMD_TIMEOUT=${SOAK_TIMEOUT:-120}
TESTS=$(cd "$(dirname "$0")/../tests" && pwd)
RANDOM=$SEED
A=127.0.0.4 B=127.0.0.5

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ws-soak.XXXXXX")
REC=$TMP/records
: >"$REC"
PIDS=

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${SOAK_LOG:-}" ] && cp "$REC" "$SOAK_LOG"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "soak: $*" >&2; }

# record CAMPAIGN ROUND KIND ok|FAIL|note DETAIL
record() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$REC"
	[ "$4" = FAIL ] && say "$1 round $2: FAIL $3: $5"
	return 0
}

# ws HOME ARGS... - run the binary on HOME, bounded; output in $TMP/out
ws() {
	local home=$1; shift
	timeout -k 5 "$CMD_TIMEOUT" "$WS_BIN" --home "$home" "$@" >"$TMP/out" 2>&1
}

# rc_kind RC - "signal" for a death by signal, "hang" for a timeout
rc_kind() {
	case $1 in
	124|137) echo hang ;;
	13[0-9]|1[4-9][0-9]|2[0-9][0-9]) echo signal ;;
	*) echo exit ;;
	esac
}

# rand N - 0 .. N-1
rand() { echo $(( (RANDOM * 32768 + RANDOM) % $1 )); }

# ms_sleep MS
ms_sleep() { sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"; }

now_ms() { date +%s%3N; }

# start CMD... - in the background, recorded; sets BGPID
start() {
	"$@" >>"$TMP/bg.log" 2>&1 &
	BGPID=$!
	PIDS="$PIDS $BGPID"
}

# stop_pid PID SIG - send SIG and wait (10 s at most); the exit code goes to
# STOP_RC (124 when it had to be killed).  Not in $(...): only this shell
# can wait for its children.
stop_pid() {
	local i=0
	kill -"$2" "$1" 2>/dev/null
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		STOP_RC=124
		return
	fi
	wait "$1" 2>/dev/null
	STOP_RC=$?
}

# wait_until SECONDS CMD - CMD every 0.1 s until it succeeds
wait_until() {
	local lim=$(( $1 * 10 )) n=0
	while ! eval "$2" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -ge $lim ] && return 1
		sleep 0.1
	done
}

# versions HOME NAME - the versions `log NAME --json` lists, one a line
versions() {
	ws "$1" log "$2" --json || return 1
	python3 -c 'import json, sys
for v in json.load(open(sys.argv[1]))["versions"]:
    print(v["version"], v["state"])' "$TMP/out"
}

# check CAMPAIGN ROUND HOME NAME BEFORE [CHAIN] - after a crash: the index
# opens, audit is clean or says what is wrong, no version lost or
# duplicated (BEFORE: versions file from before the crash, may be empty),
# and with CHAIN=1 (the publisher's home) none skipped: 1..max all there
check() {
	local c=$1 r=$2 h=$3 name=$4 before=$5 chain=${6:-0} rc verdict
	ws "$h"  list; rc=$?
	if [ $rc = 0 ]; then
		record "$c" "$r" index-opens ok ""
	else
		record "$c" "$r" index-opens FAIL "list exit $rc ($(rc_kind $rc)): $(head -c 200 "$TMP/out" | tr '\n' ' ')"
		return
	fi
	ws "$h" audit; rc=$?
	if [ $rc = 0 ]; then
		record "$c" "$r" audit ok ""
	elif [ $rc = 1 ] && [ -s "$TMP/out" ]; then
		record "$c" "$r" audit note "audit names damage: $(grep -v intact "$TMP/out" | head -3 | tr '\n' ' ')"
	else
		record "$c" "$r" audit FAIL "audit exit $rc ($(rc_kind $rc)): $(head -c 200 "$TMP/out" | tr '\n' ' ')"
	fi
	if [ -s "$before" ] || ws "$h" log "$name" >/dev/null 2>&1; then
		if ! versions "$h" "$name" >"$TMP/after"; then
			record "$c" "$r" versions FAIL "log --json failed: $(head -c 200 "$TMP/out" | tr '\n' ' ')"
			return
		fi
		verdict=$(python3 - "$before" "$TMP/after" "$chain" <<'PY'
import sys
def load(p):
    return [int(l.split()[0]) for l in open(p) if l.strip()]
b, a = load(sys.argv[1]), load(sys.argv[2])
bad = []
if len(set(a)) != len(a): bad.append("duplicated %s" % sorted(v for v in set(a) if a.count(v) > 1))
lost = sorted(set(b) - set(a))
if lost: bad.append("lost %s" % lost)
if sys.argv[3] == "1" and a and sorted(set(a)) != list(range(1, max(a) + 1)): bad.append("skipped: have %s" % sorted(set(a)))
print("; ".join(bad))
PY
)
		if [ -z "$verdict" ]; then
			record "$c" "$r" versions ok ""
		else
			record "$c" "$r" versions FAIL "$verdict"
		fi
	fi
	if [ -d "$h/tmp" ] && [ -n "$(ls -A "$h/tmp" 2>/dev/null)" ]; then
		record "$c" "$r" leftovers note "tmp/ holds: $(ls "$h/tmp" | head -3 | tr '\n' ' ')"
	fi
}

# rerun CAMPAIGN ROUND KIND CMD... - the re-run after a crash must exit 0
rerun() {
	local c=$1 r=$2 rc; shift 2
	"$@"; rc=$?
	if [ $rc = 0 ]; then
		record "$c" "$r" rerun ok ""
	else
		record "$c" "$r" rerun FAIL "exit $rc ($(rc_kind $rc)): $(head -c 300 "$TMP/out" | tr '\n' ' ')"
	fi
}

# kill_during CAMPAIGN ROUND CMD... - start CMD, SIGKILL it after a random
# 0..RUN_MS ms (unless it is over by then; then the window shrinks to that
# time for the next round, as the command runs faster than measured);
# records what happened
kill_during() {
	local c=$1 r=$2 pid t rc; shift 2
	start "$@"
	pid=$BGPID
	t=$(rand $(( RUN_MS + 1 )))
	ms_sleep "$t"
	if kill -0 "$pid" 2>/dev/null; then
		stop_pid "$pid" 9
		record "$c" "$r" killed note "after ${t} ms"
	else
		wait "$pid" 2>/dev/null; rc=$?
		record "$c" "$r" finished-first note "exit $rc before ${t} ms"
		RUN_MS=$t
		[ "$(rc_kind $rc)" = exit ] || record "$c" "$r" crash FAIL "exit $rc ($(rc_kind $rc)) without a kill"
	fi
}

# time_ms CMD... - how long CMD takes, in ms (at least 100)
time_ms() {
	local t0 t
	t0=$(now_ms)
	"$@" >/dev/null 2>&1
	t=$(( $(now_ms) - t0 ))
	[ $t -lt 100 ] && t=100
	echo $t
}

# ---- the shared set-up: a model, a publisher home P with version 1 ----
say "seed $SEED, $ROUNDS rounds, model $MB MB, home $TMP"
python3 "$TESTS/gen_model.py" "$TMP/model" $(( MB * 1048576 / 2 )) >/dev/null ||
	{ say "cannot make the model"; exit 2; }
P=$TMP/P
ws "$P" keygen --no-password || { say "keygen failed: $(cat "$TMP/out")"; exit 2; }
PUBKEY=$P/keys/publisher.key.pub
RUN_MS=$(time_ms ws "$P" publish "$TMP/model" --name soak)
ws "$P" list || { say "the first publish failed"; exit 2; }
say "publish takes ${RUN_MS} ms"

# ---- campaigns ----

campaign_publish() {
	for r in $(seq 1 "$ROUNDS"); do
		# a new file, not a rewrite: the store may hard-link the old one
		rm -f "$TMP/model/config.json"
		echo "{\"round\": $r, \"seed\": $SEED}" >"$TMP/model/config.json"
		versions "$P" soak >"$TMP/before" 2>/dev/null || : >"$TMP/before"
		kill_during publish "$r" \
			"$WS_BIN" --home "$P" publish "$TMP/model" --name soak
		check publish "$r" "$P" soak "$TMP/before" 1
		versions "$P" soak >"$TMP/before" 2>/dev/null || : >"$TMP/before"
		rerun publish "$r" ws "$P" publish "$TMP/model" --name soak
		check publish "$r" "$P" soak "$TMP/before" 1
	done
}

campaign_fetch() {
	local port link seeder h r rc
	port=$(python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' $A)
	ws "$P" show soak --json || { record fetch 0 setup FAIL "show: $(cat "$TMP/out")"; return; }
	link=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["link"])' "$TMP/out") ||
		{ record fetch 0 setup FAIL "no link in show --json"; return; }
	start "$WS_BIN" --home "$P" seed --listen "$A:$port" --no-dht --upload-limit 8M
	seeder=$BGPID
	if ! wait_until 20 "\"$WS_BIN\" --home \"$P\" status"; then
		record fetch 0 setup FAIL "the seed did not start"
		stop_pid "$seeder" TERM
		return
	fi
	sleep 2
	for r in $(seq 1 "$ROUNDS"); do
		h=$TMP/F$r
		ws "$h" trust add soak "$PUBKEY"
		# at 8 MB/s the fetch takes about MB/8 s; kill inside that
		RUN_MS=$(( MB * 1000 / 8 + 500 ))
		kill_during fetch "$r" \
			"$WS_BIN" --home "$h" fetch "$link" --peer "$A:$port" --listen "$B:0" \
			--no-dht --timeout 30
		check fetch "$r" "$h" soak /dev/null
		rerun fetch "$r" ws "$h" fetch "$link" --peer "$A:$port" --listen "$B:0" \
			--no-dht --timeout 30
		ws "$h" audit soak; rc=$?
		[ $rc = 0 ] && record fetch "$r" audit-after-rerun ok "" ||
			record fetch "$r" audit-after-rerun FAIL "exit $rc: $(head -c 200 "$TMP/out" | tr '\n' ' ')"
		check fetch "$r" "$h" soak /dev/null
		rm -rf "$h"
	done
	stop_pid "$seeder" TERM
	[ "$STOP_RC" = 0 ] || record fetch 0 seed-stop FAIL "seed exit $STOP_RC ($(rc_kind "$STOP_RC")) on SIGTERM"
}

campaign_import() {
	local h r rc
	ws "$P" export soak@1 -o "$TMP/b.tar" || { record import 0 setup FAIL "export: $(cat "$TMP/out")"; return; }
	RUN_MS=$(time_ms ws "$TMP/I0" import "$TMP/b.tar" --publisher "$PUBKEY")
	for r in $(seq 1 "$ROUNDS"); do
		h=$TMP/I$r
		ws "$h" trust add soak "$PUBKEY"
		kill_during import "$r" \
			"$WS_BIN" --home "$h" import "$TMP/b.tar"
		check import "$r" "$h" soak /dev/null
		rerun import "$r" ws "$h" import "$TMP/b.tar"
		ws "$h" audit soak@1; rc=$?
		[ $rc = 0 ] && record import "$r" audit-after-rerun ok "" ||
			record import "$r" audit-after-rerun FAIL "exit $rc: $(head -c 200 "$TMP/out" | tr '\n' ' ')"
		check import "$r" "$h" soak /dev/null
		rm -rf "$h"
	done
}

campaign_export() {
	local r others
	RUN_MS=$(time_ms ws "$P" export soak@1 -o "$TMP/e0.tar")
	for r in $(seq 1 "$ROUNDS"); do
		mkdir -p "$TMP/E$r"
		versions "$P" soak >"$TMP/before" 2>/dev/null || : >"$TMP/before"
		kill_during export "$r" \
			"$WS_BIN" --home "$P" export soak@1 -o "$TMP/E$r/out.tar"
		check export "$r" "$P" soak "$TMP/before" 1
		# a killed export leaves nothing, or a whole bundle
		if [ -e "$TMP/E$r/out.tar" ] && ! cmp -s "$TMP/E$r/out.tar" "$TMP/e0.tar"; then
			record export "$r" partial-bundle FAIL "out.tar is there and is not the whole bundle"
		fi
		others=$(ls -A "$TMP/E$r" | grep -v '^out.tar$' | head -3 | tr '\n' ' ')
		[ -n "$others" ] && record export "$r" leftovers note "beside the bundle: $others"
		rerun export "$r" ws "$P" export soak@1 -o "$TMP/E$r/out.tar"
		cmp -s "$TMP/E$r/out.tar" "$TMP/e0.tar" && record export "$r" same-bundle ok "" ||
			record export "$r" same-bundle FAIL "the re-run's bundle differs from a clean export"
		rm -rf "$TMP/E$r"
	done
}

campaign_seed() {
	local port pid t r
	for r in $(seq 1 "$ROUNDS"); do
		port=$(python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' $A)
		versions "$P" soak >"$TMP/before" 2>/dev/null || : >"$TMP/before"
		start "$WS_BIN" --home "$P" seed --listen "$A:$port" --no-dht
		pid=$BGPID
		t=$(rand 3000)
		ms_sleep "$t"
		stop_pid "$pid" TERM
		case $STOP_RC in
		0) record seed "$r" sigterm ok "exit 0 after ${t} ms" ;;
		*) record seed "$r" sigterm FAIL "exit $STOP_RC ($(rc_kind "$STOP_RC")) on SIGTERM after ${t} ms" ;;
		esac
		check seed "$r" "$P" soak "$TMP/before" 1
		start "$WS_BIN" --home "$P" seed --listen "$A:$port" --no-dht
		pid=$BGPID
		if wait_until 20 "\"$WS_BIN\" --home \"$P\" status"; then
			record seed "$r" rerun ok ""
		else
			record seed "$r" rerun FAIL "the node did not come up again"
		fi
		stop_pid "$pid" TERM
	done
}

# corrupt_run ROUND WHAT HOME - every command against a damaged home
corrupt_run() {
	local r=$1 what=$2 h=$3 cmd rc k
	set -- "list" "list --json" "log soak" "log soak --json" "show soak" \
		"show soak@1 --json" "audit" "audit soak" "status" "trust list" \
		"trust add soak $PUBKEY" "follow soak" "unfollow soak" \
		"export soak@1 -o $TMP/c.tar" "import $TMP/b.tar" \
		"publish $TMP/model --name soak" \
		"fetch soak --no-dht --listen $B:0 --timeout 3" \
		"resolve soak --no-dht --listen $B:0 --timeout 3"
	for cmd in "$@"; do
		cp -a "$h" "$TMP/cwork"
		# shellcheck disable=SC2086
		ws "$TMP/cwork" $cmd; rc=$?
		k=$(rc_kind $rc)
		if [ "$k" != exit ]; then
			record corrupt "$r" "$k" FAIL "$what: '$cmd' exit $rc"
		elif [ $rc = 0 ] && [ "$what" = "truncated to 0 bytes" ] &&
		     case $cmd in list*|audit*|log*|show*) true ;; *) false ;; esac; then
			record corrupt "$r" silent-empty FAIL "$what: '$cmd' exit 0: $(head -c 120 "$TMP/out" | tr '\n' ' ')"
		else
			record corrupt "$r" exit note "$what: '$cmd' exit $rc"
		fi
		rm -rf "$TMP/cwork"
	done
}

campaign_corrupt() {
	local src size r cut i what
	[ -e "$TMP/b.tar" ] || ws "$P" export soak@1 -o "$TMP/b.tar"
	src=$TMP/P/index/data.mdb
	size=$(stat -c %s "$src")
	r=0
	for cut in 0 4096 8192 16384 32768 $(( size / 2 )) $(( size - 4096 )); do
		[ "$cut" -lt "$size" ] || continue
		r=$((r + 1))
		rm -rf "$TMP/C"
		cp -a "$P" "$TMP/C"
		truncate -s "$cut" "$TMP/C/index/data.mdb"
		corrupt_run "$r" "truncated to $cut bytes" "$TMP/C"
	done
	for i in $(seq 1 "$ROUNDS"); do
		r=$((r + 1))
		rm -rf "$TMP/C"
		cp -a "$P" "$TMP/C"
		# one byte of a B-tree page: in odd rounds in its header (lower,
		# upper, first node offset), in even rounds anywhere in the page
		what=$(python3 - "$TMP/C/index/data.mdb" "$i" "$(rand 1000000)" <<'PY'
import random, struct, sys
p, i, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
data = bytearray(open(p, "rb").read())
ps = 4096
# LMDB page header: pgno (8), pad (2), flags (2), lower (2), upper (2);
# 1 = branch, 2 = leaf
pages = [n for n in range(2, len(data) // ps)
         if struct.unpack_from("<H", data, n * ps + 10)[0] & 3]
n = rng.choice(pages)
off = n * ps + (rng.randrange(12, 18) if i % 2 else rng.randrange(16, ps))
data[off] ^= 1 << rng.randrange(8)
open(p, "wb").write(data)
kind = "leaf" if struct.unpack_from("<H", data, n * ps + 10)[0] & 2 else "branch"
print("%s page %d byte %d flipped" % (kind, n, off - n * ps))
PY
)
		corrupt_run "$r" "$what" "$TMP/C"
	done
	rm -rf "$TMP/C"
}

for c in $CAMPAIGNS; do
	say "campaign $c"
	"campaign_$c"
done

# ---- summary ----
echo "soak summary (seed $SEED, $ROUNDS rounds, model $MB MB)"
awk -F '\t' '
	{ camp[$1] = 1; if ($3 == "killed" || $3 == "finished-first" || ($1 == "seed" && $3 == "sigterm")) runs[$1]++ }
	$1 == "corrupt" && ($3 == "exit" || $4 == "FAIL") { runs[$1]++ }
	$4 == "FAIL" { fails[$1 "\t" $3]++; nf[$1]++; total++ }
	$4 == "note" && $3 == "audit" { dmg[$1]++ }
	$4 == "note" && $3 == "leftovers" { left[$1]++ }
	END {
		for (c in camp)
			printf "  %-8s %3d runs, %3d failures, audit named damage %d times, leftovers %d times\n",
				c, runs[c], nf[c], dmg[c], left[c]
		for (k in fails) { split(k, a, "\t"); printf "  FAIL %-8s %-18s %d\n", a[1], a[2], fails[k] }
		printf "  total failures: %d\n", total
		exit total > 0
	}' "$REC"
