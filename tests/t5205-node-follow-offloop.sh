#!/bin/sh
# A followed name is mirrored by a transfer beside the node's loop: while a
# long (rate-limited) follow-fetch runs, the node keeps re-putting its
# pointers, rewriting its status and answering clients.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 3000000
A=127.0.0.2 C=127.0.0.4 D=127.0.0.5

# the follow transfer's field KEY (empty while there is none)
follow_field() {
	WEIGHTSYNC_HOME=$TMP/C "$WS_BIN" transfers --json | python3 -c 'import json, sys
t = [t for t in json.load(sys.stdin) if t["origin"] == "follow"]
print(t[-1][sys.argv[1]] if t else "")' "$1"
}
updated() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["updated"])' $TMP/C/node.json
}
# (0, not a failure, before the node's first put: a fetch by name can
# reach "downloading" before the node's tick has seen the DHT come up)
puts() { grep -c "put [0-9]* signed name pointers" $TMP/C.log || true; }
boot() { echo "--bootstrap $A:$(port_of A) --bootstrap $D:$(port_of D)"; }

test_expect_success 'a three-node DHT: A (the publisher, seeding at 150 kB/s), D, and C' '
	free_port $A >$TMP/A.port && free_port $D >$TMP/D.port && free_port $C >$TMP/C.port &&
	publish_on A "$TMP/model" follow-demo >/dev/null &&
	NODE_PORT=$(port_of A) start_node A $A --bootstrap $D:$(port_of D) \
		--bootstrap $C:$(port_of C) --upload-limit 150k --reput-interval 2 &&
	NODE_PORT=$(port_of D) start_node D $D --bootstrap $A:$(port_of A) &&
	wait_for 30 "grep -q \"put 2 signed name pointers\" $TMP/A.log"
'

test_expect_success 'C follows the name; its node starts mirroring it' '
	WEIGHTSYNC_HOME=$TMP/C ws trust add follow-demo $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/C ws follow follow-demo >$TMP/out && grep_q "following" $TMP/out &&
	NODE_PORT=$(port_of C) start_node C $C $(boot) --follow-interval 1 --reput-interval 1 &&
	wait_for 60 "test \"\$(follow_field phase)\" = downloading"
'

test_expect_success 'while it downloads: pointers re-put, status rewritten, clients answered' '
	puts >$TMP/p0 && updated >$TMP/u0 &&
	wait_for 30 "test \$(puts) -ge \$((\$(cat $TMP/p0) + 2)) && test \$(updated) -gt \$(cat $TMP/u0)" &&
	WEIGHTSYNC_HOME=$TMP/C ws status --json >$TMP/st.json &&
	json_check $TMP/st.json "[t[\"state\"] for t in j[\"transfers\"] if t[\"origin\"] == \"follow\"] == [\"running\"]" &&
	test "$(follow_field state)" = running
'

test_expect_success 'the mirror completes and is seeded' '
	wait_for 120 "node_seeds C follow-demo@1" &&
	grep_q "mirrored follow-demo@1" $TMP/C.log &&
	WEIGHTSYNC_HOME=$TMP/C ws audit follow-demo@1 >/dev/null &&
	test "$(follow_field state)" = done
'

test_expect_success 'unfollow goes through the node' '
	WEIGHTSYNC_HOME=$TMP/C ws unfollow follow-demo >$TMP/out &&
	grep_q "no longer following" $TMP/out &&
	grep_q "no longer following follow-demo" $TMP/C.log
'

test_expect_success 'resolve and fetch by name go through the node (its DHT)' '
	WEIGHTSYNC_HOME=$TMP/C ws resolve follow-demo --json >$TMP/r.json &&
	json_check $TMP/r.json "j[\"version\"] == 1 and len(j[\"manifest_sha256\"]) == 64" &&
	WEIGHTSYNC_HOME=$TMP/C ws fetch follow-demo --json >$TMP/f.json &&
	json_check $TMP/f.json "j[\"ok\"] and j[\"version\"] == 1 and j[\"already_complete\"]" &&
	grep_q "transfer [0-9]*: fetch follow-demo for a client" $TMP/C.log
'

test_done
