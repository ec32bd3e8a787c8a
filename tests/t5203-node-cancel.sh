#!/bin/sh
# cancel: a queued transfer never starts; a running one stops and leaves
# nothing half-committed (no release folder, not complete in the index),
# only resumable partial data under tmp/, which the next fetch resumes.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/m1" 3000000
make_model "$TMP/m2" 1000000
echo '{"model": "two"}' >$TMP/m2/config.json
A=127.0.0.2 B=127.0.0.3

# state ID: the transfer's state, as `transfers --json` says
state() {
	WEIGHTSYNC_HOME=$TMP/B "$WS_BIN" transfers --json | python3 -c 'import json, sys
print([t for t in json.load(sys.stdin) if t["id"] == int(sys.argv[1])][0]["state"])' "$1"
}
# done_bytes ID: bytes of the current phase the transfer has
done_bytes() {
	WEIGHTSYNC_HOME=$TMP/B "$WS_BIN" transfers --json | python3 -c 'import json, sys
t = [t for t in json.load(sys.stdin) if t["id"] == int(sys.argv[1])][0]
print(t["done"] if t["phase"] == "downloading" else 0)' "$1"
}

test_expect_success 'A seeds two releases slowly; B runs one transfer at a time' '
	publish_on A "$TMP/m1" slow-demo >$TMP/link1 &&
	publish_on A "$TMP/m2" other-demo >$TMP/link2 &&
	start_node A $A --no-dht --upload-limit 300k &&
	wait_for 10 "node_seeds A slow-demo@1 && node_seeds A other-demo@1" &&
	for n in slow-demo other-demo; do
		WEIGHTSYNC_HOME=$TMP/B ws trust add $n $TMP/A/keys/publisher.key.pub || return 1
	done &&
	start_node B $B --no-dht --max-transfers 1
'

test_expect_success 'fetch --detach prints the id and returns; a second one waits in the queue' '
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link1)" --peer $A:$(port_of A) --detach \
		>$TMP/id1 2>$TMP/err && test "$(cat $TMP/id1)" = 1 &&
	grep_q "transfer 1 runs on the node" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link2)" --peer $A:$(port_of A) --detach \
		--json >$TMP/id2.json &&
	json_check $TMP/id2.json "j[\"ok\"] and j[\"id\"] == 2 and j[\"detached\"]" &&
	test "$(state 2)" = queued
'

test_expect_success 'cancel of the queued one: it never starts' '
	WEIGHTSYNC_HOME=$TMP/B ws cancel 2 >$TMP/out && grep_q "transfer 2: cancelled" $TMP/out &&
	wait_for 10 "test \$(state 2) = cancelled" &&
	WEIGHTSYNC_HOME=$TMP/B ws transfers --json >$TMP/tr.json &&
	json_check $TMP/tr.json "[t for t in j if t[\"id\"] == 2][0][\"error\"] == \"cancelled before it started\""
'

test_expect_success 'cancel of the running one, half-way' '
	wait_for 60 "test \$(done_bytes 1) -gt 1000000" &&
	WEIGHTSYNC_HOME=$TMP/B ws cancel 1 >$TMP/out && grep_q "transfer 1: cancelled" $TMP/out &&
	wait_for 20 "test \$(state 1) = cancelled" &&
	grep_q "transfer 1: cancelling" $TMP/B.log &&
	WEIGHTSYNC_HOME=$TMP/B ws transfers >$TMP/tr &&
	grep_q "cancelled: what was verified is kept" $TMP/tr
'

test_expect_success 'nothing half-committed: no release folder, nothing complete, partial data in tmp/' '
	WEIGHTSYNC_HOME=$TMP/B ws list --json >$TMP/list.json &&
	json_check $TMP/list.json "not any(r[\"state\"] == \"complete\" for r in j)" &&
	test -z "$(find $TMP/B/releases -mindepth 1 -type f 2>/dev/null)" &&
	ls -d $TMP/B/tmp/fetch-* >$TMP/staging && test $(wc -l <$TMP/staging) = 1 &&
	test -f "$(cat $TMP/staging)/.torrent" &&
	! ls $TMP/B/tmp/*.lock 2>/dev/null &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws cancel 1 2>$TMP/err &&
	grep_q "transfer 1 has already finished" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws cancel 99 2>$TMP/err &&
	grep_q "no transfer 99 on this node" $TMP/err
'

test_expect_success 'fetching it again resumes from the partial data, byte-identical' '
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link1)" --peer $A:$(port_of A) \
		--timeout 30 -o $TMP/out1 --json >$TMP/f.json &&
	json_check $TMP/f.json "j[\"ok\"] and j[\"resumed\"] > 0 and j[\"downloaded\"] < j[\"bytes\"]" &&
	for f in $(cd $TMP/m1 && ls); do cmp $TMP/m1/$f $TMP/out1/$f || return 1; done &&
	test -z "$(ls $TMP/B/tmp/ 2>/dev/null)"
'

test_done
