#!/bin/sh
# Two fetches at once through one node: both run side by side in the
# node's session and both complete, byte-identical.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/m1" 2000000
make_model "$TMP/m2" 2000000
echo '{"model": "two"}' >$TMP/m2/config.json
A=127.0.0.2 B=127.0.0.3

test_expect_success 'A publishes two releases and seeds them slowly (1 MB/s)' '
	publish_on A "$TMP/m1" first-demo >$TMP/link1 &&
	publish_on A "$TMP/m2" second-demo >$TMP/link2 &&
	start_node A $A --no-dht --upload-limit 1M &&
	wait_for 10 "node_seeds A first-demo@1 && node_seeds A second-demo@1" &&
	for n in first-demo second-demo; do
		WEIGHTSYNC_HOME=$TMP/B ws trust add $n $TMP/A/keys/publisher.key.pub || return 1
	done &&
	start_node B $B --no-dht
'

test_expect_success 'two fetches started together both complete' '
	for i in 1 2; do
		WEIGHTSYNC_HOME=$TMP/B "$WS_BIN" fetch "$(cat $TMP/link$i)" --peer $A:$(port_of A) \
			--timeout 30 -o $TMP/out$i --json >$TMP/f$i.json 2>$TMP/f$i.err &
		echo $! >$TMP/pid$i && echo $! >>$TMP/.pids
	done &&
	wait $(cat $TMP/pid1) && wait $(cat $TMP/pid2) &&
	json_check $TMP/f1.json "j[\"ok\"] and j[\"name\"] == \"first-demo\"" &&
	json_check $TMP/f2.json "j[\"ok\"] and j[\"name\"] == \"second-demo\""
'

test_expect_success 'they ran side by side: both had started before either finished' '
	grep -n "transfer [12]: fetch\|fetched" $TMP/B.log >$TMP/order &&
	head -2 $TMP/order | grep -c "transfer [12]: fetch" >$TMP/n &&
	test "$(cat $TMP/n)" = 2
'

test_expect_success 'both are byte-identical and audit clean' '
	for i in 1 2; do
		for f in $(cd $TMP/m$i && ls); do cmp $TMP/m$i/$f $TMP/out$i/$f || return 1; done
	done &&
	WEIGHTSYNC_HOME=$TMP/B ws audit >$TMP/audit &&
	WEIGHTSYNC_HOME=$TMP/B ws transfers --json >$TMP/tr.json &&
	json_check $TMP/tr.json "len(j) == 2 and all(t[\"state\"] == \"done\" for t in j)"
'

test_done
