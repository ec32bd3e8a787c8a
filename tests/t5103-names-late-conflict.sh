#!/bin/sh
# A fetch by name starts on the first valid pointer it hears and goes on
# listening in the DHT while the release downloads (docs/names.md,
# "Resolving"): a second pointer the publisher signed for the same version,
# heard only once the download has begun, still ends the fetch before the
# commit with exit 1, nothing in releases/, nothing left under tmp/, and
# both pointers kept as evidence.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 1000000
A=127.0.0.150 A2=127.0.0.151 S=127.0.0.152 F=127.0.0.153

boot() { echo "--bootstrap 127.0.0.140:$(port_of D0) --bootstrap 127.0.0.141:$(port_of D1)"; }

test_expect_success 'a DHT holds the pointer of late-demo@1; a mirror without DHT seeds it slowly' '
	start_dht D 127.0.0.14 3 &&
	WEIGHTSYNC_HOME=$TMP/A ws keygen --no-password >/dev/null 2>&1 &&
	cp -a $TMP/A $TMP/A2 &&
	WEIGHTSYNC_HOME=$TMP/A ws publish $TMP/model --name late-demo $(boot) --listen $A:0 \
		>/dev/null 2>$TMP/pub.err &&
	grep_q "put the signed pointer of .late-demo. into the DHT" $TMP/pub.err &&
	cp -a $TMP/A $TMP/S &&
	start_node S $S --no-dht --upload-limit 50k &&
	wait_for 20 "node_seeds S late-demo@1" &&
	WEIGHTSYNC_HOME=$TMP/F ws trust add late-demo $TMP/A/keys/publisher.key.pub >/dev/null
'

test_expect_success 'the DHT changes its answer while F downloads: refused before the commit' '
	# (an if: the test body runs under set -e)
	{ if WEIGHTSYNC_HOME=$TMP/F "$WS_BIN" fetch late-demo $(boot) --peer $S:$(port_of S) \
		--listen $F:0 --timeout 60 >$TMP/f.out 2>$TMP/f.err; then echo 0; else echo $?; fi \
		>$TMP/f.rc.new; mv $TMP/f.rc.new $TMP/f.rc; } &
	echo $! >>$TMP/.pids &&
	wait_for 30 "ls $TMP/F/tmp/fetch-*/late-demo@1/*.safetensors" &&
	test ! -s $TMP/f.rc &&
	# the nodes that held the first pointer go; fresh ones on the same
	# addresses get another version 1 the same key signed
	for i in 0 1 2; do stop_node D$i || return 1; done &&
	start_dht D 127.0.0.14 3 &&
	cp -r $TMP/model $TMP/modelb && echo "{\"v\": \"1b\"}" >$TMP/modelb/config.json &&
	WEIGHTSYNC_HOME=$TMP/A2 ws publish $TMP/modelb --name late-demo $(boot) --listen $A2:0 \
		>/dev/null 2>$TMP/pub2.err &&
	grep_q "put the signed pointer of .late-demo. into the DHT" $TMP/pub2.err &&
	{ wait_for 60 "test -s $TMP/f.rc" || { cat $TMP/f.err; false; }; } &&
	{ test "$(cat $TMP/f.rc)" = 1 || { cat $TMP/f.err; false; }; } &&
	grep_q "equivocation: the publisher of .late-demo. signed two different pointers" $TMP/f.err &&
	test -z "$(ls $TMP/F/releases 2>/dev/null)" &&
	test -z "$(ls -d $TMP/F/tmp/fetch-* 2>/dev/null)" &&
	WEIGHTSYNC_HOME=$TMP/F ws log late-demo >$TMP/log 2>/dev/null &&
	grep_q "pointer-equivocation" $TMP/log
'

test_done
