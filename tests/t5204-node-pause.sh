#!/bin/sh
# pause stops a transfer's data (it keeps what it has, and no stall
# timeout fires however long it waits), resume carries on to a complete,
# byte-identical release; a client that waits for its fetch sees "paused".
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 3000000
A=127.0.0.2 B=127.0.0.3

# field ID KEY: one field of transfer ID, as `transfers --json` says
field() {
	WEIGHTSYNC_HOME=$TMP/B "$WS_BIN" transfers --json | python3 -c 'import json, sys
t = [t for t in json.load(sys.stdin) if t["id"] == int(sys.argv[1])][0]
print(t[sys.argv[2]])' "$1" "$2"
}

test_expect_success 'A seeds slowly; B runs a node' '
	publish_on A "$TMP/model" pause-demo >$TMP/link &&
	start_node A $A --no-dht --upload-limit 500k &&
	wait_for 10 "node_seeds A pause-demo@1" &&
	WEIGHTSYNC_HOME=$TMP/B ws trust add pause-demo $TMP/A/keys/publisher.key.pub &&
	start_node B $B --no-dht
'

test_expect_success 'a waiting fetch; pause it once data flows' '
	WEIGHTSYNC_HOME=$TMP/B "$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--timeout 3 -o $TMP/outdir --json >$TMP/f.json 2>$TMP/f.err &
	echo $! >$TMP/fpid && echo $! >>$TMP/.pids &&
	wait_for 60 "test \$(field 1 phase) = downloading && test \$(field 1 done) -gt 500000" &&
	WEIGHTSYNC_HOME=$TMP/B ws pause 1 >$TMP/out && grep_q "transfer 1: paused" $TMP/out &&
	wait_for 10 "test \$(field 1 phase) = paused" &&
	test "$(field 1 state)" = paused && test "$(field 1 rate_down)" = 0
'

test_expect_success 'while paused nothing arrives, and the 3 s stall timeout does not fire' '
	field 1 done >$TMP/d1 &&
	sleep 5 &&
	test "$(field 1 done)" = "$(cat $TMP/d1)" &&
	test "$(field 1 state)" = paused &&
	kill -0 $(cat $TMP/fpid) &&
	WEIGHTSYNC_HOME=$TMP/B ws transfers >$TMP/tr && grep_q "^   1  paused *paused" $TMP/tr &&
	WEIGHTSYNC_HOME=$TMP/B ws status --json >$TMP/st.json &&
	json_check $TMP/st.json "j[\"transfers\"][0][\"state\"] == \"paused\""
'

test_expect_success 'resume: the same fetch completes, byte-identical' '
	WEIGHTSYNC_HOME=$TMP/B ws resume 1 >$TMP/out && grep_q "transfer 1: resumed" $TMP/out &&
	wait_for 60 "! kill -0 $(cat $TMP/fpid)" &&
	json_check $TMP/f.json "j[\"ok\"] and j[\"downloaded\"] >= j[\"bytes\"]" &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $TMP/outdir/$f || return 1; done &&
	test "$(field 1 state)" = done &&
	grep_q "transfer 1: paused" $TMP/B.log && grep_q "transfer 1: resumed" $TMP/B.log
'

test_expect_success 'pause and resume of a finished or unknown transfer: exit 2 and why' '
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws pause 1 2>$TMP/err &&
	grep_q "transfer 1 has already finished" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws resume 7 2>$TMP/err &&
	grep_q "no transfer 7 on this node" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws pause x 2>$TMP/err &&
	grep_q "invalid value .x. for ID" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws pause 2>$TMP/err &&
	grep_q "expected one transfer ID" $TMP/err
'

test_expect_success 'a client killed while it waits: the node cancels its fetch' '
	make_model "$TMP/model2" 3100000 && echo "{\"v\": 2}" >$TMP/model2/config.json &&
	publish_on A "$TMP/model2" pause-demo >$TMP/link2 &&
	wait_for 10 "node_seeds A pause-demo@2" &&
	WEIGHTSYNC_HOME=$TMP/B "$WS_BIN" fetch "$(cat $TMP/link2)" --peer $A:$(port_of A) \
		--timeout 30 >/dev/null 2>&1 &
	pid=$! && echo $pid >>$TMP/.pids &&
	wait_for 60 "test \$(field 2 state) = running" &&
	kill -9 $pid &&
	wait_for 20 "test \$(field 2 state) = cancelled" &&
	grep_q "transfer 2: its client went away: cancelling" $TMP/B.log &&
	WEIGHTSYNC_HOME=$TMP/B ws list --json >$TMP/list.json &&
	json_check $TMP/list.json "not any(r[\"version\"] == 2 and r[\"state\"] == \"complete\" for r in j)"
'

test_expect_success 'a fetch paused while it waits behind another of the same release stays put' '
	# a name of its own: whether B knows pause-demo@2 depends on when the
	# cancel above landed, and version 3 without 2 skips the chain
	make_model "$TMP/model3" 3200000 &&
	publish_on A "$TMP/model3" pause-wait >$TMP/link3 &&
	WEIGHTSYNC_HOME=$TMP/B ws trust add pause-wait $TMP/A/keys/publisher.key.pub &&
	wait_for 10 "node_seeds A pause-wait@1" &&
	for i in 3 4; do
		WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link3)" --peer $A:$(port_of A) \
			--timeout 30 --detach >/dev/null || return 1
	done &&
	wait_for 30 "test \$(field 3 phase) = waiting || test \$(field 4 phase) = waiting" &&
	{ test "$(field 3 phase)" = waiting && w=3 r=4 || w=4 r=3; } &&
	WEIGHTSYNC_HOME=$TMP/B ws pause $w >/dev/null &&
	wait_for 10 "test \$(field $w phase) = paused" &&
	wait_for 60 "test \$(field $r state) = done" &&
	sleep 2 &&
	test "$(field $w state)" = paused && test "$(field $w phase)" = paused &&
	WEIGHTSYNC_HOME=$TMP/B ws resume $w >/dev/null &&
	wait_for 30 "test \$(field $w state) = done" &&
	WEIGHTSYNC_HOME=$TMP/B "$WS_BIN" transfers --json | python3 -c "import json, sys
t = [t for t in json.load(sys.stdin) if t[\"id\"] == $w][0]
sys.exit(0 if t[\"result\"][\"already_complete\"] else 1)"
'

test_done
