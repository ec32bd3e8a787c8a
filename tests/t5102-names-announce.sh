#!/bin/sh
# publish puts its signed pointer into the DHT by itself when given DHT
# nodes; BEP 46 name links fetch; a name link by an untrusted key is refused.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 1000000
A=127.0.0.2 B=127.0.0.3 C=127.0.0.4

dht_has_nodes() {
	WEIGHTSYNC_HOME=$TMP/$1 "$WS_BIN" status --json | python3 -c 'import json, sys
sys.exit(0 if json.load(sys.stdin)["dht_nodes"] >= 1 else 1)'
}
boot() { echo "--bootstrap 127.0.0.50:$(port_of D0) --bootstrap 127.0.0.51:$(port_of D1)"; }

test_expect_success 'a three-node DHT' '
	for i in 0 1 2; do free_port 127.0.0.5$i >$TMP/D$i.port || return 1; done &&
	for i in 0 1 2; do
		NODE_PORT=$(port_of D$i) start_node D$i 127.0.0.5$i \
			--bootstrap 127.0.0.50:$(port_of D0) --bootstrap 127.0.0.51:$(port_of D1) || return 1
	done &&
	for i in 0 1 2; do wait_for 30 "dht_has_nodes D$i" || return 1; done
'

test_expect_success 'publish --bootstrap puts the pointer with no node running' '
	WEIGHTSYNC_HOME=$TMP/A ws keygen --no-password >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/A ws publish $TMP/model --name announce-demo --json $(boot) \
		--listen $A:0 >$TMP/pub.json 2>$TMP/err &&
	grep_q "put the signed pointer of .announce-demo. into the DHT" $TMP/err &&
	python3 -c "import json; print(json.load(open(\"$TMP/pub.json\"))[\"name_link\"])" >$TMP/namelink &&
	grep -q "^magnet:?xs=urn:btpk:[0-9a-f]\{64\}&s=announce-demo$" $TMP/namelink &&
	WEIGHTSYNC_HOME=$TMP/B ws trust add announce-demo $TMP/A/keys/publisher.key.pub &&
	wait_for 30 "WEIGHTSYNC_HOME=$TMP/B ws resolve announce-demo $(boot) --listen $B:0 --timeout 5 --json >$TMP/res.json" &&
	json_check $TMP/res.json "j[\"version\"] == 1 and j[\"name\"] == \"announce-demo\""
'

test_expect_success 'a BEP 46 name link fetches the release' '
	start_node A $A $(boot) && wait_for 10 "node_seeds A announce-demo@1" &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/namelink)" $(boot) --listen $B:0 \
		--timeout 30 --json >$TMP/f.json &&
	json_check $TMP/f.json "j[\"ok\"] and j[\"version\"] == 1" &&
	WEIGHTSYNC_HOME=$TMP/B ws audit announce-demo
'

test_expect_success 'a name link whose key is not the trusted one is refused' '
	WEIGHTSYNC_HOME=$TMP/M ws keygen --no-password >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/C ws trust add announce-demo $TMP/M/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 1 ws fetch "$(cat $TMP/namelink)" $(boot) \
		--listen $C:0 --timeout 10 2>$TMP/err &&
	grep_q "not the key trusted for .announce-demo." $TMP/err &&
	test ! -e $TMP/C/releases
'

test_done
