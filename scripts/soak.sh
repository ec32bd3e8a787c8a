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
#   pub_step, fetch_step, imp_step, exp_step, rec_step
#            kill -9 at every step boundary (WS_CRASH_AT=OP:POINT, the
#            points of store/recover.h) of publish, fetch, import, export,
#            and of recovery itself finishing an import's journal; each
#            round loops over all the points.  Beyond the checks below: a
#            point never reached is a failure, and after the re-run tmp/
#            must hold no journal, staging folder, partial fetch or lock
#   seed_save  a second signal while `seed` saves its resume data on
#            SIGTERM: SIGTERM in odd rounds (it must still exit 0), SIGKILL
#            in even ones (the next seed must come up)
# After each crash: the index opens (`list` exits 0), `audit` is clean (0)
# or names what is wrong (1, with output), `log NAME --json` lists each
# version once, none skipped and none lost, and the re-run completes.
#
# Environment: WS_BIN (required), SOAK_ROUNDS (rounds per campaign, 5),
# SOAK_SEED (random seed, printed so a run can be repeated), SOAK_MB (model
# size, 24), SOAK_LOG (keep the per-check records in this file),
# SOAK_POINTS_{PUBLISH,FETCH,IMPORT,EXPORT,RECOVER} (the step campaigns'
# points, all by default).
# Loopback only (127.0.0.4 and 127.0.0.5); every process is stopped by its
# PID; every wait is bounded; the temporary folder is removed at exit.
# It need not pass: the last lines are a summary of runs and failures by
# campaign and kind, and the exit status is 1 when anything failed.
set -u
: "${WS_BIN:?set WS_BIN to the weightsync binary (make soak does)}"
ROUNDS=${SOAK_ROUNDS:-5}
SEED=${SOAK_SEED:-$(( $(date +%s) % 32768 ))}
MB=${SOAK_MB:-24}
CAMPAIGNS=${SOAK_CAMPAIGNS:-publish fetch import export seed corrupt pub_step fetch_step imp_step exp_step rec_step seed_save}
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

# ---- step boundaries: WS_CRASH_AT=OP:POINT (store/recover.h) ----

# SOAK_POINTS_FETCH and the like narrow a campaign to some points (to loop
# one point many times)
PUBLISH_POINTS=${SOAK_POINTS_PUBLISH:-staged after-journal after-rename after-index after-torrent after-pointers}
FETCH_POINTS=${SOAK_POINTS_FETCH:-after-manifest staged after-journal after-rename after-index after-torrent after-pointers}
IMPORT_POINTS=${SOAK_POINTS_IMPORT:-partial staged after-journal after-rename after-index after-torrent after-pointers}
EXPORT_POINTS=${SOAK_POINTS_EXPORT:-partial written after-rename}
RECOVER_POINTS=${SOAK_POINTS_RECOVER:-after-rename after-index after-torrent after-pointers}

# kill_at CAMPAIGN ROUND POINT CMD... - run CMD with WS_CRASH_AT=POINT: it
# must die there by SIGKILL (137); anything else is a point not reached
kill_at() {
	local c=$1 r=$2 point=$3 rc; shift 3
	# (in braces with stderr away: the shell's own "Killed" line)
	{ WS_CRASH_AT=$point timeout -k 5 "$CMD_TIMEOUT" "$@" >"$TMP/out" 2>&1; } 2>/dev/null
	rc=$?
	if [ $rc = 137 ]; then
		record "$c" "$r" killed note "at $point"
	else
		record "$c" "$r" point-missed FAIL "$point: exit $rc ($(rc_kind $rc)): $(head -c 200 "$TMP/out" | tr '\n' ' ')"
	fi
}

# tmp_clean CAMPAIGN ROUND HOME POINT - after the re-run, tmp/ of HOME keeps
# no journal, staging folder, partial fetch or lock
tmp_clean() {
	local left
	left=$(ls -A "$3/tmp" 2>/dev/null | grep -E '\.journal$|\.lock$|^stage\.|^fetch-' | head -3 | tr '\n' ' ')
	if [ -z "$left" ]; then
		record "$1" "$2" tmp-clean ok ""
	else
		record "$1" "$2" tmp-clean FAIL "after $4 and the re-run, tmp/ holds: $left"
	fi
}

campaign_pub_step() {
	local r point
	for r in $(seq 1 "$ROUNDS"); do
		for point in $PUBLISH_POINTS; do
			rm -f "$TMP/model/config.json"
			echo "{\"step\": \"$point\", \"round\": $r, \"seed\": $SEED}" >"$TMP/model/config.json"
			versions "$P" soak >"$TMP/before" 2>/dev/null || : >"$TMP/before"
			kill_at pub_step "$r" "publish:$point" "$WS_BIN" --home "$P" publish "$TMP/model" --name soak
			check pub_step "$r" "$P" soak "$TMP/before" 1
			versions "$P" soak >"$TMP/before" 2>/dev/null || : >"$TMP/before"
			rerun pub_step "$r" ws "$P" publish "$TMP/model" --name soak
			check pub_step "$r" "$P" soak "$TMP/before" 1
			tmp_clean pub_step "$r" "$P" "publish:$point"
		done
	done
}

# start_seeder - seed P on A; sets SEEDER (PID), SPORT, LINK (soak@1)
start_seeder() {
	SPORT=$(python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' $A)
	ws "$P" show soak@1 --json || return 1
	LINK=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["link"])' "$TMP/out") || return 1
	start "$WS_BIN" --home "$P" seed --listen "$A:$SPORT" --no-dht
	SEEDER=$BGPID
	wait_until 20 "\"$WS_BIN\" --home \"$P\" status" || return 1
	sleep 2
}

campaign_fetch_step() {
	local r point h rc
	if ! start_seeder; then
		record fetch_step 0 setup FAIL "the seed did not start: $(head -c 200 "$TMP/out" | tr '\n' ' ')"
		return
	fi
	for r in $(seq 1 "$ROUNDS"); do
		for point in $FETCH_POINTS; do
			h=$TMP/FS
			rm -rf "$h"
			ws "$h" trust add soak "$PUBKEY"
			kill_at fetch_step "$r" "fetch:$point" "$WS_BIN" --home "$h" fetch "$LINK" \
				--peer "$A:$SPORT" --listen "$B:0" --no-dht --timeout 30
			check fetch_step "$r" "$h" soak /dev/null
			rerun fetch_step "$r" ws "$h" fetch "$LINK" --peer "$A:$SPORT" --listen "$B:0" \
				--no-dht --timeout 30
			ws "$h" audit soak@1; rc=$?
			[ $rc = 0 ] && record fetch_step "$r" audit-after-rerun ok "" ||
				record fetch_step "$r" audit-after-rerun FAIL "fetch:$point: exit $rc: $(head -c 200 "$TMP/out" | tr '\n' ' ')"
			check fetch_step "$r" "$h" soak /dev/null
			tmp_clean fetch_step "$r" "$h" "fetch:$point"
		done
	done
	rm -rf "$TMP/FS"
	stop_pid "$SEEDER" TERM
}

campaign_imp_step() {
	local r point h rc
	[ -e "$TMP/b.tar" ] || ws "$P" export soak@1 -o "$TMP/b.tar"
	for r in $(seq 1 "$ROUNDS"); do
		for point in $IMPORT_POINTS; do
			h=$TMP/IS
			rm -rf "$h"
			ws "$h" trust add soak "$PUBKEY"
			kill_at imp_step "$r" "import:$point" "$WS_BIN" --home "$h" import "$TMP/b.tar"
			check imp_step "$r" "$h" soak /dev/null
			rerun imp_step "$r" ws "$h" import "$TMP/b.tar"
			ws "$h" audit soak@1; rc=$?
			[ $rc = 0 ] && record imp_step "$r" audit-after-rerun ok "" ||
				record imp_step "$r" audit-after-rerun FAIL "import:$point: exit $rc: $(head -c 200 "$TMP/out" | tr '\n' ' ')"
			check imp_step "$r" "$h" soak /dev/null
			tmp_clean imp_step "$r" "$h" "import:$point"
		done
	done
	rm -rf "$TMP/IS"
}

campaign_rec_step() {
	local r point h rc
	[ -e "$TMP/b.tar" ] || ws "$P" export soak@1 -o "$TMP/b.tar"
	for r in $(seq 1 "$ROUNDS"); do
		for point in $RECOVER_POINTS; do
			h=$TMP/RS
			rm -rf "$h"
			ws "$h" trust add soak "$PUBKEY"
			kill_at rec_step "$r" "import:after-journal" "$WS_BIN" --home "$h" import "$TMP/b.tar"
			# the next command's recovery is itself killed part way
			kill_at rec_step "$r" "recover:$point" "$WS_BIN" --home "$h" list
			check rec_step "$r" "$h" soak /dev/null
			rerun rec_step "$r" ws "$h" import "$TMP/b.tar"
			ws "$h" audit soak@1; rc=$?
			[ $rc = 0 ] && record rec_step "$r" audit-after-rerun ok "" ||
				record rec_step "$r" audit-after-rerun FAIL "recover:$point: exit $rc: $(head -c 200 "$TMP/out" | tr '\n' ' ')"
			tmp_clean rec_step "$r" "$h" "recover:$point"
		done
	done
	rm -rf "$TMP/RS"
}

campaign_exp_step() {
	local r point out others
	[ -e "$TMP/e0.tar" ] || ws "$P" export soak@1 -o "$TMP/e0.tar"
	for r in $(seq 1 "$ROUNDS"); do
		for point in $EXPORT_POINTS; do
			rm -rf "$TMP/ES"
			mkdir -p "$TMP/ES"
			out=$TMP/ES/out.tar
			versions "$P" soak >"$TMP/before" 2>/dev/null || : >"$TMP/before"
			kill_at exp_step "$r" "export:$point" "$WS_BIN" --home "$P" export soak@1 -o "$out"
			check exp_step "$r" "$P" soak "$TMP/before" 1
			if [ -e "$out" ] && ! cmp -s "$out" "$TMP/e0.tar"; then
				record exp_step "$r" partial-bundle FAIL "export:$point: out.tar is there and is not the whole bundle"
			fi
			rerun exp_step "$r" ws "$P" export soak@1 -o "$out"
			cmp -s "$out" "$TMP/e0.tar" && record exp_step "$r" same-bundle ok "" ||
				record exp_step "$r" same-bundle FAIL "export:$point: the re-run's bundle differs from a clean export"
			others=$(ls -A "$TMP/ES" | grep -v '^out.tar$' | head -3 | tr '\n' ' ')
			[ -z "$others" ] && record exp_step "$r" no-partials ok "" ||
				record exp_step "$r" no-partials FAIL "export:$point: after the re-run, beside the bundle: $others"
		done
	done
	rm -rf "$TMP/ES"
}

# SIGTERM, then a second signal while the node saves its resume data (it
# logs "stopping: saving resume data" as it starts)
campaign_seed_save() {
	local port pid r i sig log
	for r in $(seq 1 "$ROUNDS"); do
		port=$(python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' $A)
		versions "$P" soak >"$TMP/before" 2>/dev/null || : >"$TMP/before"
		log=$TMP/seed_save.$r.log
		"$WS_BIN" --home "$P" seed --listen "$A:$port" --no-dht >"$log" 2>&1 &
		pid=$!
		PIDS="$PIDS $pid"
		if ! wait_until 20 "\"$WS_BIN\" --home \"$P\" status"; then
			record seed_save "$r" start FAIL "the node did not come up"
			stop_pid "$pid" 9
			continue
		fi
		sig=TERM
		[ $((r % 2)) = 0 ] && sig=KILL
		kill -TERM "$pid" 2>/dev/null
		i=0
		while ! grep -q "saving resume data" "$log" && kill -0 "$pid" 2>/dev/null &&
		      [ $i -lt 500 ]; do
			sleep 0.01; i=$((i + 1))
		done
		stop_pid "$pid" "$sig"
		case $sig:$STOP_RC in
		TERM:0) record seed_save "$r" sigterm ok "a second SIGTERM while saving: exit 0" ;;
		TERM:*) record seed_save "$r" sigterm FAIL "a second SIGTERM while saving: exit $STOP_RC ($(rc_kind "$STOP_RC"))" ;;
		KILL:*) record seed_save "$r" sigterm note "SIGKILL while saving: exit $STOP_RC" ;;
		esac
		check seed_save "$r" "$P" soak "$TMP/before" 1
		start "$WS_BIN" --home "$P" seed --listen "$A:$port" --no-dht
		pid=$BGPID
		if wait_until 20 "\"$WS_BIN\" --home \"$P\" status"; then
			record seed_save "$r" rerun ok ""
		else
			record seed_save "$r" rerun FAIL "the node did not come up again after a $sig while saving"
		fi
		stop_pid "$pid" TERM
		[ "$STOP_RC" = 0 ] || record seed_save "$r" stop FAIL "exit $STOP_RC on SIGTERM after the restart"
	done
}

for c in $CAMPAIGNS; do
	say "campaign $c"
	"campaign_$c"
done

# ---- summary ----
echo "soak summary (seed $SEED, $ROUNDS rounds, model $MB MB)"
awk -F '\t' '
	{ camp[$1] = 1; if ($3 == "killed" || $3 == "finished-first" || (($1 == "seed" || $1 == "seed_save") && $3 == "sigterm")) runs[$1]++ }
	$1 == "corrupt" && ($3 == "exit" || $4 == "FAIL") { runs[$1]++ }
	$4 == "FAIL" { fails[$1 "\t" $3]++; nf[$1]++; total++ }
	$4 == "note" && $3 == "audit" { dmg[$1]++ }
	$4 == "note" && $3 == "leftovers" { left[$1]++ }
	END {
		for (c in camp)
			printf "  %-8s %3d runs, %3d failures, audit named damage %d times, leftovers %d times\n",
				c, runs[c], nf[c], dmg[c], left[c]
		for (k in fails) { split(k, a, "\t"); printf "  FAIL %-8s %-18s %d\n", a[1], a[2], fails[k] }
		printf "  total failures: %d\n", total + 0
		exit total > 0
	}' "$REC"
