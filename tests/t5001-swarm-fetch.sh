#!/bin/sh
# A release published on A reaches B and C over BitTorrent on loopback:
# bytes identical, audits clean, and a running node seeds what a fetch on
# its home brought in, without a restart.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 6000000
A=127.0.0.2 B=127.0.0.3 C=127.0.0.4

test_expect_success 'A publishes and seeds' '
	LINK=$(publish_on A "$TMP/model" swarm-demo) &&
	echo "$LINK" >$TMP/link &&
	case "$LINK" in magnet:\?xt=urn:btih:*xt=urn:btmh:1220*x.pk=*x.mh=*) ;; *) false;; esac &&
	start_node A $A &&
	wait_for 10 "node_seeds A swarm-demo@1"
'

test_expect_success 'B and C trust the publisher; B runs a node' '
	for h in B C; do
		WEIGHTSYNC_HOME=$TMP/$h ws trust add swarm-demo $TMP/A/keys/publisher.key.pub || return 1
	done &&
	start_node B $B
'

test_expect_success 'B fetches from A into an ordinary folder' '
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 20 -o $TMP/outB --json >$TMP/fetchB.json &&
	json_check $TMP/fetchB.json "j[\"ok\"] and j[\"version\"] == 1 and j[\"downloaded\"] >= j[\"bytes\"]" &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $TMP/outB/$f || return 1; done &&
	test -f $TMP/outB/.weightsync/manifest.json &&
	test -f $TMP/outB/.weightsync/manifest.json.minisig &&
	WEIGHTSYNC_HOME=$TMP/B ws audit swarm-demo >$TMP/out && grep_q "6 ok" $TMP/out &&
	WEIGHTSYNC_HOME=$TMP/B ws audit $TMP/outB
'

# docs/datapath.md, "Disk I/O": a node reads the releases it seeds with
# pread (libtorrent's posix back end), not through mappings, which cost it
# twice the CPU; libtorrent's mmap back end keeps a served file mapped
test_expect_success 'A served the release by reading its files, not by mapping them' '
	grep -q libtorrent /proc/$(pid_of A)/maps &&
	! grep "$TMP/A/releases/" /proc/$(pid_of A)/maps
'

test_expect_success 'B'"'"'s running node seeds the fetched release without a restart' '
	wait_for 15 "node_seeds B swarm-demo@1"
'

test_expect_success 'with A gone, C fetches from B alone' '
	stop_node A &&
	grep_q "stopping: saving resume data" $TMP/A.log &&
	WEIGHTSYNC_HOME=$TMP/C ws fetch "$(cat $TMP/link)" --peer $B:$(port_of B) \
		--listen $C:0 --no-dht --timeout 20 --hf-cache=$TMP/hubC >$TMP/pathC &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f "$(cat $TMP/pathC | head -1)/$f" || return 1; done &&
	snap=$(sed -n 2p $TMP/pathC) && case $snap in $TMP/hubC/models--weightsync--swarm-demo/snapshots/*) ;; *) false;; esac &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f "$snap/$f" || return 1; done &&
	WEIGHTSYNC_HOME=$TMP/C ws audit
'

test_expect_success 'status reports the node in words and JSON' '
	WEIGHTSYNC_HOME=$TMP/B ws status >$TMP/st &&
	grep_q "listening  $B:$(port_of B)" $TMP/st && grep_q "swarm-demo@1" $TMP/st &&
	WEIGHTSYNC_HOME=$TMP/B ws status --json >$TMP/st.json &&
	json_check $TMP/st.json "j[\"state\"] == \"running\" and j[\"bytes_up\"] > 0"
'

test_expect_success 'A restarts from its resume data and serves again' '
	test -n "$(ls $TMP/A/resume/*.resume)" &&
	start_node A $A && wait_for 30 "node_seeds A swarm-demo@1" &&
	rm -rf $TMP/D && WEIGHTSYNC_HOME=$TMP/D ws fetch "$(cat $TMP/link)" \
		--publisher $TMP/A/keys/publisher.key.pub --peer $A:$(port_of A) --listen 127.0.0.6:0 \
		--no-dht >/dev/null &&
	WEIGHTSYNC_HOME=$TMP/D ws audit swarm-demo
'

test_expect_success 'a second fetch of a complete release downloads nothing' '
	WEIGHTSYNC_HOME=$TMP/C ws fetch "$(cat $TMP/link)" --no-dht --json >$TMP/again.json &&
	json_check $TMP/again.json "j[\"already_complete\"] and j[\"downloaded\"] == 0"
'

test_expect_success 'SIGTERM stops a node cleanly' '
	stop_node B && grep_q "stopped" $TMP/B.log &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws status 2>$TMP/err &&
	grep_q "no node is running" $TMP/err
'

test_done
