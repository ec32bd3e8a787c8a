# test-lib.sh - shared helpers for the CLI tests (sourced; TAP output).
#
#   . ./test-lib.sh
#   test_expect_success 'what it shows' 'commands'
#   test_expect_success PREREQ 'what it shows' 'commands'  (skipped without PREREQ)
#   test_done
#
# Each test script gets a fresh temporary directory $TMP (removed at exit,
# with every process started through start_bg stopped by its PID) and a
# home $WEIGHTSYNC_HOME inside it.  `ws` runs the binary under test.
#
# A test body runs in a subshell with `set -e`: any failing command fails
# the test.  Variables set in one body do not reach the next; share state
# through files in $TMP.

set -u
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ws-$TEST_NAME.XXXXXX")
export WEIGHTSYNC_HOME="$TMP/home"
unset WEIGHTSYNC_PASSWORD XDG_DATA_HOME
test_count=0
test_failed=0
BG_PIDS=

# Background processes are recorded in $TMP/.pids, not a variable: tests run
# in subshells, and every process they start must be stopped at exit.
cleanup() {
	BG_PIDS="$BG_PIDS $(cat "$TMP/.pids" 2>/dev/null)"
	for p in $BG_PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $BG_PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
		kill -9 "$p" 2>/dev/null || true
	done
	for m in $(awk -v t="$TMP" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

# The tests run Debian's python3 (a dependency, with python3-libtorrent),
# not whatever a version manager puts first on PATH: a pyenv shim costs
# about 0.8 s of CPU per call, and the suite makes hundreds of calls.
if [ -x /usr/bin/python3 ]; then
	mkdir -p "$TMP/.bin"
	ln -s /usr/bin/python3 "$TMP/.bin/python3"
	PATH="$TMP/.bin:$PATH"
	export PATH
fi

ws() { "$WS_BIN" "$@"; }

# start_bg CMD... - run in the background; stopped at exit.  Sets BG_PID.
start_bg() {
	"$@" &
	BG_PID=$!
	echo "$BG_PID" >>"$TMP/.pids"
}

say() { echo "# $*"; }

# Prerequisites, as in git: test_set_prereq NAME once it is known to hold;
# test_have_prereq A,B succeeds when all of them hold.
test_prereqs=,
test_set_prereq() { test_prereqs="$test_prereqs$1,"; }
test_have_prereq() {
	for p in $(echo "$1" | tr ',' ' '); do
		case $test_prereqs in *",$p,"*) ;; *) return 1 ;; esac
	done
}

# test_skip DESCRIPTION REASON - count a test as skipped (TAP "# SKIP").
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# test_run_ BODY - run BODY in a subshell with errexit in force; output
# goes to $TMP/.out.  (Never inside an `if` condition: a shell ignores
# set -e there, even in a subshell, so only the last command would count.)
test_run_() {
	( set -e; eval "$1" ) >"$TMP/.out" 2>&1
}

# test_expect_success [PREREQ] DESCRIPTION BODY
test_expect_success() {
	if [ $# = 3 ]; then
		if ! test_have_prereq "$1"; then
			test_skip "$2" "missing $1"
			return 0
		fi
		shift
	fi
	test_count=$((test_count + 1))
	test_run_ "$2"
	if [ $? = 0 ]; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1"
		# on stderr too: prove shows a script's stderr without -v, so
		# a CI log names the cause, not only the failed test
		sed 's/^/#   /' "$TMP/.out"
		sed "s/^/# $TEST_NAME $test_count: /" "$TMP/.out" >&2
		test_failed=$((test_failed + 1))
	fi
}

# test_expect_failure DESCRIPTION BODY - a known breakage: the body says
# what should happen and fails today.  Reported as TAP TODO, so it does
# not fail the suite; prove lists it when it starts passing.
test_expect_failure() {
	test_count=$((test_count + 1))
	test_run_ "$2"
	if [ $? = 0 ]; then
		echo "ok $test_count - $1 # TODO known breakage vanished"
	else
		echo "not ok $test_count - $1 # TODO known breakage"
		sed 's/^/#   /' "$TMP/.out"
	fi
}

# test_must_fail CODE CMD... - CMD must exit with CODE (1 or 2).
test_must_fail() {
	want=$1; shift
	set +e
	"$@"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		echo "expected exit $want, got $got: $*" >&2
		return 1
	fi
}

# test_cmp EXPECTED ACTUAL - files equal, with a diff when not.
test_cmp() { diff -u "$1" "$2"; }

# grep_q PATTERN FILE - like grep -q but shows the file when it fails.
grep_q() {
	if ! grep -q -- "$1" "$2"; then
		echo "'$1' not found in $2:" >&2
		cat "$2" >&2
		return 1
	fi
}

# make_model DIR [SHARD_BYTES] - a small model-shaped folder: two
# safetensors shards with valid headers, config.json, tokenizer files.
make_model() {
	python3 "$(dirname "$0")/gen_model.py" "$1" "${2:-1048576}"
}

# git_blob_id FILE - the file's git blob id (SHA-1 of "blob SIZE\0" +
# content), the hub's name for a non-LFS file.
git_blob_id() {
	python3 -c 'import hashlib, sys; d = open(sys.argv[1], "rb").read()
print(hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest())' "$1"
}

# make_hf_cache SRC REPO COMMIT - lay the files of SRC out as the hub's
# client does in a cache repository folder REPO (models--ORG--NAME): LFS
# files (*.safetensors) in blobs/ by SHA-256, the others by git blob id,
# snapshots/COMMIT/FILE -> ../../blobs/ID, refs/main.
make_hf_cache() {
	mkdir -p "$2/blobs" "$2/snapshots/$3" "$2/refs" &&
	echo "$3" >"$2/refs/main" &&
	for f in $(cd "$1" && ls); do
		case $f in
		*.safetensors) id=$(sha256sum <"$1/$f" | cut -c1-64) ;;
		*) id=$(git_blob_id "$1/$f") ;;
		esac
		cp "$1/$f" "$2/blobs/$id" &&
		ln -s "../../blobs/$id" "$2/snapshots/$3/$f" || return 1
	done
}

# index_dump - the index's releases, for "unchanged" checks.
index_dump() { ws list --json; }

# store_state [HOME] - everything a command could change in a home
# (default $WEIGHTSYNC_HOME), for "nothing changed" checks: the releases,
# the trust store, and every entry outside index/ (path, type, file size).
store_state() {
	h=${1:-$WEIGHTSYNC_HOME}
	ws --home "$h" list --json && ws --home "$h" trust list --json &&
	(cd "$h" && find . -path ./index -prune -o -type f -printf '%p f %s\n' \
		-o -printf '%p %y\n' | LC_ALL=C sort)
}

# dir_state DIR - sha256 of every file under DIR and every entry's name,
# for "left as it was" checks of a folder.
dir_state() {
	(cd "$1" && find . -printf '%p %y\n' | LC_ALL=C sort &&
	 find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# release_dir NAME VERSION - the store's release folder, as `show` says.
release_dir() {
	ws show "$1@$2" --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["path"])'
}

# json_check FILE EXPR - FILE parses as JSON and the Python expression
# EXPR holds for it (bound to j), e.g. json_check out 'j["intact"] is True'.
# (the JSON on one line: a CI log shows the last lines of what failed, and
# a document one key per line hid the failures before it)
json_check() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("json_check failed: %s\n%s" % (sys.argv[2], json.dumps(j)[:4000]))' "$1" "$2"
}

command -v minisign >/dev/null 2>&1 && test_set_prereq MINISIGN
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null && test_set_prereq PYLT

# ---- swarm helpers: nodes on loopback addresses, each with its own home ----

# wait_for SECONDS CMD - run CMD (a string) every 0.1 s until it succeeds;
# fail after SECONDS.
wait_for() {
	wf_limit=$(( $1 * 10 )); wf_i=0
	while ! eval "$2" >/dev/null 2>&1; do
		wf_i=$((wf_i + 1))
		if [ $wf_i -ge $wf_limit ]; then
			echo "timed out after $1 s waiting for: $2" >&2
			return 1
		fi
		sleep 0.1
	done
}

# free_port ADDR - a TCP port nothing listens on at ADDR right now.
free_port() {
	python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

# start_node NAME ADDR [SEED-OPTIONS] - run `weightsync seed` with home
# $TMP/NAME on ADDR and a free port (or $NODE_PORT); waits until it reports
# running.  Its port and PID: port_of NAME, pid_of NAME; its log:
# $TMP/NAME.log.
start_node() {
	sn_name=$1 sn_addr=$2; shift 2
	sn_port=${NODE_PORT:-$(free_port "$sn_addr")}
	WEIGHTSYNC_HOME=$TMP/$sn_name "$WS_BIN" seed --listen "$sn_addr:$sn_port" "$@" \
		>>"$TMP/$sn_name.log" 2>&1 &
	echo $! >>"$TMP/.pids"
	echo $! >"$TMP/$sn_name.pid"
	echo "$sn_port" >"$TMP/$sn_name.port"
	wait_for 20 "WEIGHTSYNC_HOME=$TMP/$sn_name \"$WS_BIN\" status" && return 0
	echo "node $sn_name did not answer; its log:" >&2
	cat "$TMP/$sn_name.log" >&2
	kill -0 "$(pid_of "$sn_name")" 2>/dev/null && echo "(still running)" >&2
	return 1
}

port_of() { cat "$TMP/$1.port"; }
pid_of() { cat "$TMP/$1.pid"; }

# stop_node NAME - SIGTERM, then wait (30 s at most: LeakSanitizer makes
# the exit of a node slow under make asan) for a clean exit.
stop_node() {
	sn_pid=$(pid_of "$1")
	kill -TERM "$sn_pid" 2>/dev/null || return 0
	wait_for 30 "! kill -0 $sn_pid"
}

# node_seeds NAME REF - the node of home NAME reports REF (name@version)
# among the releases it seeds.
node_seeds() {
	WEIGHTSYNC_HOME=$TMP/$1 "$WS_BIN" status --json | python3 -c 'import json, sys
j = json.load(sys.stdin)
sys.exit(0 if any("%s@%d" % (r["name"], r["version"]) == sys.argv[1] and
                  r["state"] == "seeding" for r in j["releases"]) else 1)' "$2"
}

# publish_on NAME DIR RELEASE [OPTIONS] - keygen (once) and publish in home
# $TMP/NAME; prints the release link.
publish_on() {
	po_home=$TMP/$1 po_dir=$2 po_rel=$3; shift 3
	[ -f "$po_home/keys/publisher.key" ] ||
		WEIGHTSYNC_HOME=$po_home "$WS_BIN" keygen --no-password >/dev/null 2>&1
	WEIGHTSYNC_HOME=$po_home "$WS_BIN" publish "$po_dir" --name "$po_rel" --json "$@" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["link"])'
}

# ---- a loopback Hugging Face hub (hub_server.py) ----

# start_hub NAME DIR [hub_server.py OPTIONS] - serve DIR as the hub does
# (API on 127.0.0.1, "CDN" on 127.0.0.2, both on ports it picks); its
# requests are logged to $TMP/NAME.log.  hub_url NAME is its endpoint.
start_hub() {
	sh_name=$1 sh_dir=$2; shift 2
	rm -f "$TMP/$sh_name.ports"
	start_bg python3 ./hub_server.py --dir "$sh_dir" --ports "$TMP/$sh_name.ports" \
		--log "$TMP/$sh_name.log" "$@"
	echo "$BG_PID" >"$TMP/$sh_name.pid"
	wait_for 20 "test -s $TMP/$sh_name.ports"
}

hub_url() { echo "http://127.0.0.1:$(cut -d' ' -f1 "$TMP/$1.ports")"; }

# stop_hub NAME
stop_hub() {
	kill "$(cat "$TMP/$1.pid")" 2>/dev/null || true
	wait_for 30 "! kill -0 $(cat "$TMP/$1.pid")"
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
}

# ---- a loopback DHT (the t5NNN name tests) ----

# dht_has_nodes NAME - the node of home NAME has at least two DHT nodes
dht_has_nodes() {
	WEIGHTSYNC_HOME=$TMP/$1 "$WS_BIN" status --json | python3 -c 'import json, sys
sys.exit(0 if json.load(sys.stdin)["dht_nodes"] >= 2 else 1)'
}

# start_dht P BASE N - N DHT nodes P0..P(N-1) on BASE0..BASE(N-1) (BASE is
# "127.0.0.1" for 127.0.0.10...), bootstrapping from the first two, on the
# ports in $TMP/P*.port when known (a restart keeps its addresses)
start_dht() {
	sd_i=0
	while [ $sd_i -lt $3 ]; do
		[ -f $TMP/$1$sd_i.port ] || free_port $2$sd_i >$TMP/$1$sd_i.port
		sd_i=$((sd_i + 1))
	done
	sd_i=0
	while [ $sd_i -lt $3 ]; do
		NODE_PORT=$(port_of $1$sd_i) start_node $1$sd_i $2$sd_i \
			--bootstrap ${2}0:$(port_of ${1}0) --bootstrap ${2}1:$(port_of ${1}1) ||
			return 1
		sd_i=$((sd_i + 1))
	done
	sd_i=0
	while [ $sd_i -lt $3 ]; do
		wait_for 30 "dht_has_nodes $1$sd_i" || return 1
		sd_i=$((sd_i + 1))
	done
}
