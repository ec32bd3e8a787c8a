#!/bin/sh
# A fetch killed with SIGKILL half-way resumes: the second run downloads
# only what the first did not finish, and the result is byte-identical.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 40000000
A=127.0.0.2 B=127.0.0.3

test_expect_success 'A publishes and seeds at 5 MB/s' '
	publish_on A "$TMP/model" resume-demo >$TMP/link &&
	start_node A $A --no-dht --upload-limit 5M &&
	wait_for 10 "node_seeds A resume-demo@1" &&
	WEIGHTSYNC_HOME=$TMP/B ws trust add resume-demo $TMP/A/keys/publisher.key.pub
'

# bytes of model data B holds in its partial fetch
partial_bytes() {
	du -s --block-size=1 $TMP/B/tmp/fetch-*/resume-demo@1 2>/dev/null | cut -f1
}

test_expect_success 'kill -9 in the middle of a fetch' '
	WEIGHTSYNC_HOME=$TMP/B "$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 30 >/dev/null 2>&1 &
	pid=$! && echo $pid >>$TMP/.pids &&
	wait_for 60 "test \$(partial_bytes) -gt 25000000" &&
	kill -9 $pid && wait_for 5 "! kill -0 $pid" &&
	partial_bytes >$TMP/had &&
	say "partial data at the kill: $(cat $TMP/had) bytes" &&
	WEIGHTSYNC_HOME=$TMP/B ws list --json >$TMP/list.json &&
	json_check $TMP/list.json "not any(r[\"state\"] == \"complete\" for r in j)"
'

test_expect_success 'the second run downloads only what was missing' '
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 30 --json >$TMP/f.json &&
	say "second run: $(python3 -c "import json; j = json.load(open(\"$TMP/f.json\")); print(j[\"downloaded\"], \"of\", j[\"bytes\"])")" &&
	# what it started with (vouched for by its resume data) is not
	# downloaded again (less partial pieces: 4 MiB
	# each, one per file at most); t5006 checks what is read back
	json_check $TMP/f.json "j[\"ok\"] and j[\"downloaded\"] <= j[\"bytes\"] - j[\"resumed\"] + 2 * 4194304 + 1048576" &&
	dir=$(python3 -c "import json; print(json.load(open(\"$TMP/f.json\"))[\"path\"])") &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	WEIGHTSYNC_HOME=$TMP/B ws audit resume-demo &&
	test -z "$(ls $TMP/B/tmp)"
'

test_expect_success 'a file already in the store is linked, not downloaded' '
	cp -r $TMP/model $TMP/model2 && echo "{\"v\": 2}" >$TMP/model2/config.json &&
	WEIGHTSYNC_HOME=$TMP/A ws publish $TMP/model2 --name resume-demo --json >$TMP/p2.json &&
	python3 -c "import json; print(json.load(open(\"$TMP/p2.json\"))[\"link\"])" >$TMP/link2 &&
	wait_for 10 "node_seeds A resume-demo@2" &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link2)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 30 --json >$TMP/f2.json &&
	json_check $TMP/f2.json "j[\"ok\"] and j[\"reused\"] >= 50000000 and j[\"downloaded\"] < 2 * 4194304" &&
	WEIGHTSYNC_HOME=$TMP/B ws audit resume-demo@2 &&
	WEIGHTSYNC_HOME=$TMP/B ws log resume-demo >$TMP/log && grep_q "complete" $TMP/log
'

test_done
