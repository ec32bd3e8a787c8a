#!/bin/sh
# Names through a loopback DHT of five nodes: fetch by name, a mirror that
# keeps the pointer alive after the publisher is gone, a retraction that
# keeps old versions fetchable, an old pointer replayed, equivocation, and
# names that resolve to nothing.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 3000000
A=127.0.0.2 B=127.0.0.3 C=127.0.0.4 R=127.0.0.5

boot() { echo "--bootstrap 127.0.0.10:$(port_of D0) --bootstrap 127.0.0.12:$(port_of D2)"; }

test_expect_success 'a five-node DHT on loopback' '
	start_dht D 127.0.0.1 5
'

test_expect_success 'A publishes names-demo and its node puts the signed pointers' '
	publish_on A "$TMP/model" names-demo >/dev/null &&
	start_node A $A $(boot) --reput-interval 2 &&
	wait_for 30 "grep -q \"put 2 signed name pointers\" $TMP/A.log" &&
	for h in B C R; do
		WEIGHTSYNC_HOME=$TMP/$h ws trust add names-demo $TMP/A/keys/publisher.key.pub || return 1
	done
'

test_expect_success 'B fetches by name: resolved through the DHT, peers from the DHT' '
	WEIGHTSYNC_HOME=$TMP/B ws fetch names-demo $(boot) --listen $B:0 --timeout 30 \
		--json >$TMP/b.json &&
	json_check $TMP/b.json "j[\"ok\"] and j[\"version\"] == 1 and j[\"resolve_seconds\"] < 15" &&
	dir=$(python3 -c "import json; print(json.load(open(\"$TMP/b.json\"))[\"path\"])") &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	rm -rf $TMP/R && cp -a $TMP/B $TMP/R
'

test_expect_success 'the publisher goes away; the DHT forgets; a mirror brings the name back' '
	start_node B $B $(boot) --reput-interval 2 &&
	wait_for 30 "node_seeds B names-demo@1" &&
	stop_node A &&
	for i in 0 1 2 3 4; do stop_node D$i || return 1; done &&
	start_dht D 127.0.0.1 5 &&
	# the pointer of the name, and the per-version one when the fetch by
	# name of B found it within its 5 s bound (under make asan it may not
	# have: C needs only the pointer of the name)
	wait_for 20 "grep -Eq \"put [12] signed name pointers\" $TMP/B.log" && sleep 3 &&
	WEIGHTSYNC_HOME=$TMP/C ws fetch names-demo $(boot) --listen $C:0 --timeout 30 \
		--json >$TMP/c.json &&
	json_check $TMP/c.json "j[\"ok\"] and j[\"version\"] == 1" &&
	WEIGHTSYNC_HOME=$TMP/C ws audit names-demo
'

test_expect_success 'a retracted version 2 that drops a file leaves version 1 fetchable' '
	cp -r $TMP/model $TMP/model2 && rm $TMP/model2/model-00002-of-00002.safetensors &&
	start_node A $A $(boot) --reput-interval 2 &&
	WEIGHTSYNC_HOME=$TMP/A ws publish $TMP/model2 --name names-demo --retracted >/dev/null &&
	wait_for 30 "node_seeds A names-demo@2" &&
	wait_for 30 "grep -q \"put 3 signed name pointers\" $TMP/A.log" &&
	wait_for 60 "WEIGHTSYNC_HOME=$TMP/C ws resolve names-demo $(boot) --listen $C:0 --timeout 5 | grep -q names-demo@2" &&
	WEIGHTSYNC_HOME=$TMP/C ws fetch names-demo $(boot) --listen $C:0 --timeout 30 \
		--json >$TMP/c2.json &&
	json_check $TMP/c2.json "j[\"ok\"] and j[\"version\"] == 2" &&
	WEIGHTSYNC_HOME=$TMP/C ws show names-demo >$TMP/show && grep_q "(retracted)" $TMP/show &&
	WEIGHTSYNC_HOME=$TMP/C ws list >$TMP/list && grep_q "names-demo@1 .*complete" $TMP/list &&
	stop_node A &&
	rm -rf $TMP/E && WEIGHTSYNC_HOME=$TMP/E ws trust add names-demo $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/E ws fetch names-demo@1 $(boot) --listen 127.0.0.6:0 --timeout 30 \
		--json >$TMP/e.json &&
	json_check $TMP/e.json "j[\"ok\"] and j[\"version\"] == 1" &&
	wait_for 30 "node_seeds B names-demo@1"
'

test_expect_success 'an old signed pointer replayed to a node that knows version 2 is refused' '
	# R saw only version 1; its node, in a DHT of its own, replays that
	# pointer, and the per-version one when the fetch by name of B found it
	# within its 5 s bound (on a loaded machine it may not have: the replay
	# needs only the pointer of the name)
	start_dht X 127.0.0.2 3 &&
	start_node R $R --bootstrap 127.0.0.20:$(port_of X0) --reput-interval 2 &&
	{ wait_for 20 "grep -Eq \"put [12] signed name pointers\" $TMP/R.log" ||
	  { cat $TMP/R.log; WEIGHTSYNC_HOME=$TMP/R ws status --json; WEIGHTSYNC_HOME=$TMP/R ws list; ls -la $TMP/R; false; }; } && sleep 1 &&
	port=$(port_of X0) && X=127.0.0.20 &&
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 1 ws fetch names-demo --bootstrap $X:$port \
		--listen $C:0 --timeout 30 --resolve-timeout 15 2>$TMP/err &&
	grep_q "version 1, but version 2 is already known here" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/C ws list >$TMP/list && grep_q "names-demo@2 .*complete" $TMP/list
'

test_expect_success 'two manifests signed for one version: equivocation kept and shown' '
	cp -a $TMP/A $TMP/A2 && rm -f $TMP/A2/node.lock &&
	cp -r $TMP/model2 $TMP/model3 && cp -r $TMP/model2 $TMP/model3b &&
	echo "{\"v\": 3}" >$TMP/model3/config.json.new && mv $TMP/model3/config.json.new $TMP/model3/config.json &&
	echo "{\"v\": \"3b\"}" >$TMP/model3b/config.json.new && mv $TMP/model3b/config.json.new $TMP/model3b/config.json &&
	WEIGHTSYNC_HOME=$TMP/A ws publish $TMP/model3 --name names-demo --json >$TMP/a3.json &&
	WEIGHTSYNC_HOME=$TMP/A2 ws publish $TMP/model3b --name names-demo --json >$TMP/a3b.json &&
	start_node A $A $(boot) && start_node A2 127.0.0.7 $(boot) &&
	wait_for 30 "node_seeds A names-demo@3" && wait_for 30 "node_seeds A2 names-demo@3" &&
	{ WEIGHTSYNC_HOME=$TMP/C ws fetch "$(python3 -c "import json; print(json.load(open(\"$TMP/a3.json\"))[\"link\"])")" \
		--peer $A:$(port_of A) --listen $C:0 --no-dht --timeout 20 >/dev/null || { cat $TMP/A.log; WEIGHTSYNC_HOME=$TMP/A ws status; false; }; } &&
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 1 ws fetch \
		"$(python3 -c "import json; print(json.load(open(\"$TMP/a3b.json\"))[\"link\"])")" \
		--peer 127.0.0.7:$(port_of A2) --listen $C:0 --no-dht --timeout 20 2>$TMP/err &&
	grep_q "equivocation" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/C ws log names-demo >$TMP/log 2>$TMP/logerr &&
	grep_q "evidence" $TMP/log && grep_q "equivocation" $TMP/log &&
	grep_q "warning: the publisher of .names-demo. signed two different manifests" $TMP/logerr &&
	WEIGHTSYNC_HOME=$TMP/C ws audit names-demo@1 >/dev/null 2>$TMP/warn &&
	grep_q "equivocation" $TMP/warn
'

test_expect_success 'a node that follows a name mirrors a new version by itself' '
	WEIGHTSYNC_HOME=$TMP/C ws follow names-demo >$TMP/out && grep_q "following" $TMP/out &&
	start_node C $C $(boot) --follow-interval 2 &&
	cp -r $TMP/model3 $TMP/model4 && echo "{\"v\": 4}" >$TMP/model4/c.new &&
	mv $TMP/model4/c.new $TMP/model4/config.json &&
	WEIGHTSYNC_HOME=$TMP/A ws publish $TMP/model4 --name names-demo >/dev/null &&
	wait_for 60 "node_seeds C names-demo@4" &&
	grep_q "mirrored names-demo@4" $TMP/C.log &&
	WEIGHTSYNC_HOME=$TMP/C ws audit names-demo@4 >/dev/null &&
	WEIGHTSYNC_HOME=$TMP/C ws unfollow names-demo >$TMP/out && grep_q "no longer following" $TMP/out &&
	stop_node C
'

test_expect_success 'an unknown name: exit 2 and how to fix it' '
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 2 ws fetch no-such-model $(boot) --listen $C:0 \
		2>$TMP/err &&
	grep_q "unknown name .no-such-model." $TMP/err && grep_q "weightsync trust add" $TMP/err
'

test_expect_success 'a trusted name with no pointer anywhere: exit 2 within the bound' '
	WEIGHTSYNC_HOME=$TMP/C ws trust add ghost-model $TMP/A/keys/publisher.key.pub &&
	start=$(date +%s) &&
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 2 ws fetch ghost-model $(boot) --listen $C:0 \
		--resolve-timeout 5 2>$TMP/err &&
	grep_q "no signed pointer for .ghost-model. found in the DHT" $TMP/err &&
	test $(( $(date +%s) - start )) -lt 60
'

test_done
