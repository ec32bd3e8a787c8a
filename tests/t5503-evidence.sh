#!/bin/sh
# Evidence travels between peers, in the extension handshake of a
# release's swarm: a fresh node shown an old pointer by a frozen DHT learns
# of the newer signed version from a mirror it connects to, says so and
# fetches that one; equivocation evidence planted on one mirror reaches a
# node that fetches the name from another, and its log shows it.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 400000
A=127.0.0.131 B=127.0.0.132 R=127.0.0.133 F=127.0.0.134 M1=127.0.0.136 F2=127.0.0.137

boot() { echo "--bootstrap 127.0.0.110:$(port_of D0) --bootstrap 127.0.0.111:$(port_of D1)"; }
xboot() { echo "--bootstrap 127.0.0.120:$(port_of X0) --bootstrap 127.0.0.121:$(port_of X1)"; }
trust_a() { WEIGHTSYNC_HOME=$TMP/$1 ws trust add ev-demo $TMP/A/keys/publisher.key.pub >/dev/null; }

test_expect_success 'a mirror B holds versions 1 and 2; a stale node R only version 1' '
	start_dht D 127.0.0.11 3 &&
	publish_on A "$TMP/model" ev-demo >/dev/null &&
	rm -rf $TMP/A2 && cp -a $TMP/A $TMP/A2 &&
	start_node A $A $(boot) &&
	wait_for 20 "grep -q \"put 2 signed name pointers\" $TMP/A.log" &&
	trust_a B && trust_a F && trust_a F2 &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch ev-demo $(boot) --listen $B:0 --timeout 30 >/dev/null 2>&1 &&
	rm -rf $TMP/R && cp -a $TMP/B $TMP/R &&
	echo "{\"v\": 2}" >$TMP/model/config.json &&
	WEIGHTSYNC_HOME=$TMP/A ws publish $TMP/model --name ev-demo >/dev/null &&
	wait_for 20 "grep -q \"put 3 signed name pointers\" $TMP/A.log" &&
	wait_for 30 "WEIGHTSYNC_HOME=$TMP/B ws fetch ev-demo $(boot) --listen $B:0 --timeout 30 --json | grep -q \"\\\"version\\\": 2\"" &&
	stop_node A
'

test_expect_success 'a frozen DHT offers version 1; the mirror shows version 2; version 2 is fetched' '
	start_dht X 127.0.0.12 3 &&
	start_node R $R $(xboot) &&
	wait_for 20 "grep -q \"put 2 signed name pointers\" $TMP/R.log" &&
	start_node B $B --no-dht &&
	wait_for 20 "node_seeds B ev-demo@2" &&
	WEIGHTSYNC_HOME=$TMP/F ws fetch ev-demo $(xboot) --peer $B:$(port_of B) --listen $F:0 \
		--timeout 30 --json >$TMP/f.json 2>$TMP/err &&
	json_check $TMP/f.json "j[\"ok\"] and j[\"version\"] == 2" &&
	grep_q "the DHT offered .ev-demo. version 1, but a peer showed version 2 signed by the publisher (a freeze attempt?): fetched version 2" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/F ws log ev-demo >$TMP/log &&
	grep_q "newer-seen .*a peer showed version 2 signed by the publisher while the DHT offered version 1" $TMP/log &&
	WEIGHTSYNC_HOME=$TMP/F ws audit ev-demo >/dev/null
'

test_expect_success 'equivocation planted on mirror M1 reaches F2, which fetches from mirror B' '
	# the publisher signs another version 2 (A2 is a copy of its home)
	echo "{\"v\": \"2b\"}" >$TMP/model/config.json &&
	WEIGHTSYNC_HOME=$TMP/A2 ws publish $TMP/model --name ev-demo >/dev/null &&
	start_node A2 127.0.0.135 $(xboot) &&
	wait_for 20 "grep -q \"put 3 signed name pointers\" $TMP/A2.log" &&
	rm -rf $TMP/M1 && cp -a $TMP/R $TMP/M1 && rm -f $TMP/M1/node.lock $TMP/M1/node.json &&
	WEIGHTSYNC_HOME=$TMP/M1 ws fetch ev-demo@2 --publisher $TMP/A/keys/publisher.key.pub \
		--peer $B:$(port_of B) --listen $M1:0 $(boot) --timeout 30 >/dev/null 2>&1 &&
	wait_for 40 "WEIGHTSYNC_HOME=$TMP/M1 ws resolve ev-demo $(xboot) --listen $M1:0 --timeout 5 2>&1 |
		grep -q \"equivocation: the publisher of .ev-demo. signed two different pointers\"" &&
	WEIGHTSYNC_HOME=$TMP/M1 ws log ev-demo >$TMP/log && grep_q "pointer-equivocation" $TMP/log &&
	WEIGHTSYNC_HOME=$TMP/B ws log ev-demo >$TMP/log && ! grep -q "pointer-equivocation" $TMP/log &&
	start_node M1 $M1 --no-dht --peer $B:$(port_of B) &&
	wait_for 30 "WEIGHTSYNC_HOME=$TMP/B ws log ev-demo | grep -q pointer-equivocation" &&
	WEIGHTSYNC_HOME=$TMP/F2 test_must_fail 1 ws fetch ev-demo $(boot) --peer $B:$(port_of B) \
		--listen $F2:0 --timeout 30 2>$TMP/err &&
	grep_q "equivocation: a peer showed two different pointers the publisher of .ev-demo. signed for version 2" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/F2 ws log ev-demo >$TMP/log 2>$TMP/logerr &&
	grep_q "pointer-equivocation" $TMP/log &&
	test ! -e $TMP/F2/releases
'

test_done
