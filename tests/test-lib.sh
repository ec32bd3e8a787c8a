# test-lib.sh - shared helpers for the CLI tests (sourced; TAP output).
#
#   . ./test-lib.sh
#   test_expect_success 'what it shows' 'commands'
#   test_done
#
# Each test script gets a fresh temporary directory $TMP (removed at exit,
# with every process started through start_bg stopped by its PID) and a
# home $WEIGHTSYNC_HOME inside it.  `ws` runs the binary under test.

set -u
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ws-$TEST_NAME.XXXXXX")
export WEIGHTSYNC_HOME="$TMP/home"
unset WEIGHTSYNC_PASSWORD XDG_DATA_HOME
test_count=0
test_failed=0
BG_PIDS=

cleanup() {
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

ws() { "$WS_BIN" "$@"; }

# start_bg CMD... - run in the background; stopped at exit.  Sets BG_PID.
start_bg() {
	"$@" &
	BG_PID=$!
	BG_PIDS="$BG_PIDS $BG_PID"
}

say() { echo "# $*"; }

test_expect_success() {
	test_count=$((test_count + 1))
	if (set -e; eval "$2") >"$TMP/.out" 2>&1; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$TMP/.out"
		test_failed=$((test_failed + 1))
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

# index_dump - the index's releases, for "unchanged" checks.
index_dump() { ws list --json; }

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
}
