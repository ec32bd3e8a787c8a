#!/bin/sh
# HOME/node.conf holds the node's options; flags override it; `status`
# shows what is in effect; a file the node does not understand stops it
# before it starts, naming the line.
cd "$(dirname "$0")" && . ./test-lib.sh

B=127.0.0.3
H=$TMP/B

# run_seed [FLAGS] - `seed` on home B in the background (its PID in
# $TMP/B.pid), waiting until it answers
run_seed() {
	WEIGHTSYNC_HOME=$H "$WS_BIN" seed "$@" >>$TMP/B.log 2>&1 &
	echo $! >>$TMP/.pids && echo $! >$TMP/B.pid
	wait_for 60 "WEIGHTSYNC_HOME=$H \"$WS_BIN\" status"
}
# cfg KEY: one option in effect, as `status --json` says
cfg() {
	WEIGHTSYNC_HOME=$H "$WS_BIN" status --json | python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)["config"][sys.argv[1]]))' "$1"
}

test_expect_success 'a node started with no flags takes its options from node.conf' '
	p1=$(free_port $B) && echo $p1 >$TMP/p1 &&
	# a free port, not a fixed one: another test may hold 8080 on $B
	ph=$(free_port $B) && echo $ph >$TMP/ph &&
	mkdir -p $H && cat >$H/node.conf <<-EOF &&
	# a test node
	listen = $B:$p1
	dht = no          # loopback only
	peer = 127.0.0.9:7000, 127.0.0.9:7001
	peer = 127.0.0.9:7002
	upload_limit = 2M
	follow_interval = 7
	reput_interval = 90
	max_transfers = 3
	http = $B:$ph
	EOF
	run_seed &&
	test "$(cfg listen)" = "\"$B:$p1\"" && test "$(cfg dht)" = false &&
	test "$(cfg peers)" = "[\"127.0.0.9:7000\", \"127.0.0.9:7001\", \"127.0.0.9:7002\"]" &&
	test "$(cfg upload_limit)" = 2000000 && test "$(cfg follow_interval)" = 7 &&
	test "$(cfg reput_interval)" = 90 && test "$(cfg max_transfers)" = 3 &&
	test "$(cfg http)" = "\"$B:$ph\"" && test "$(cfg file)" = "\"$H/node.conf\"" &&
	grep_q "listening on port $p1, DHT off" $TMP/B.log &&
	grep_q "options from .$H/node.conf." $TMP/B.log
'

test_expect_success 'status says it in words too' '
	WEIGHTSYNC_HOME=$H ws status >$TMP/st &&
	grep_q "listening  $B:$(cat $TMP/p1)" $TMP/st &&
	grep_q "config     $H/node.conf" $TMP/st &&
	grep_q "intervals  follow 7s, re-put 90s; 3 transfers at once" $TMP/st &&
	grep_q "limits     2000000 B/s up, 0 B/s down" $TMP/st &&
	grep_q "http       $B:$(cat $TMP/ph)" $TMP/st
'

test_expect_success 'flags override the file; --peer replaces its list' '
	kill -TERM $(cat $TMP/B.pid) && wait_for 30 "! kill -0 $(cat $TMP/B.pid)" &&
	p2=$(free_port $B) && echo $p2 >$TMP/p2 &&
	run_seed --listen $B:$p2 --max-transfers 2 --upload-limit 0 --peer 127.0.0.8:9000 &&
	test "$(cfg listen)" = "\"$B:$p2\"" && test "$(cfg max_transfers)" = 2 &&
	test "$(cfg upload_limit)" = 0 && test "$(cfg peers)" = "[\"127.0.0.8:9000\"]" &&
	test "$(cfg follow_interval)" = 7 && test "$(cfg dht)" = false &&
	kill -TERM $(cat $TMP/B.pid) && wait_for 30 "! kill -0 $(cat $TMP/B.pid)"
'

test_expect_success 'an unknown key: exit 2 naming the file and line, no node' '
	printf "listen = $B:0\ncolour = blue\n" >$H/node.conf &&
	WEIGHTSYNC_HOME=$H test_must_fail 2 ws seed 2>$TMP/err &&
	grep_q "$H/node.conf. line 2: unknown key .colour." $TMP/err &&
	test ! -e $H/node.sock
'

test_expect_success 'a bad value or address: exit 2 and why' '
	printf "dht = maybe\n" >$H/node.conf &&
	WEIGHTSYNC_HOME=$H test_must_fail 2 ws seed 2>$TMP/err &&
	grep_q "line 1: bad value for .dht." $TMP/err &&
	printf "follow_interval = 0\n" >$H/node.conf &&
	WEIGHTSYNC_HOME=$H test_must_fail 2 ws seed 2>$TMP/err &&
	grep_q "line 1: bad value for .follow_interval." $TMP/err &&
	printf "listen = nowhere\n" >$H/node.conf &&
	WEIGHTSYNC_HOME=$H test_must_fail 2 ws seed 2>$TMP/err &&
	grep_q "invalid listen address .nowhere." $TMP/err &&
	printf "just words\n" >$H/node.conf &&
	WEIGHTSYNC_HOME=$H test_must_fail 2 ws seed 2>$TMP/err &&
	grep_q "line 1: expected key = value" $TMP/err
'

test_expect_success 'without node.conf the defaults hold (no file in status)' '
	rm $H/node.conf &&
	run_seed --listen $B:0 --no-dht &&
	test "$(cfg file)" = null && test "$(cfg follow_interval)" = 300 &&
	test "$(cfg max_transfers)" = 4 &&
	kill -TERM $(cat $TMP/B.pid) && wait_for 30 "! kill -0 $(cat $TMP/B.pid)"
'

# Under make asan a node takes seconds to start: status, asked in that
# time, used to show the status file the node before it left ("stopped",
# with that node's options) and exit 0, so a test went on as if the new
# node ran.
test_expect_success 'a node that holds the lock but has not answered yet: status says it is starting' '
	json_check $H/node.json "j[\"state\"] == \"stopped\"" &&
	flock $H/node.lock sleep 30 &
	lock_pid=$! && echo $lock_pid >>$TMP/.pids &&
	wait_for 10 "! flock -n $H/node.lock true" &&
	WEIGHTSYNC_HOME=$H test_must_fail 2 ws status 2>$TMP/err &&
	grep_q "the node on .$H. is starting and does not answer yet" $TMP/err &&
	WEIGHTSYNC_HOME=$H test_must_fail 2 ws status --json >$TMP/st.json 2>/dev/null &&
	json_check $TMP/st.json "j[\"state\"] == \"starting\"" &&
	kill $lock_pid
'

test_done
