# bench/lib/procs.sh - sourced by the benchmarks that start background
# processes (not a benchmark itself: bench/run runs only bench/*.sh).
#
# Source it once $tmp (the benchmark's temporary folder) exists.  It sets
# PIDS=() - append the PID of every background process the script starts -
# and traps EXIT (and INT, TERM) to run cleanup: every PID in PIDS gets
# TERM, up to 5 s to end, then KILL; then $tmp is removed.
PIDS=()
cleanup() {
	local p i
	set +e
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		i=0
		while kill -0 "$p" 2>/dev/null && (( i < 50 )); do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
