#!/bin/sh
# A fetch onto a disk that fills up says "No space left on device" (not
# libtorrent's "Bad address" from its memory-mapped writes), exits 2, keeps
# what it verified, and completes once there is room.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 20000000
A=127.0.0.2 B=127.0.0.3
SMALL=$TMP/small

if mkdir -p "$SMALL" && mount -t tmpfs -o size=20m tmpfs "$SMALL" 2>/dev/null; then
	test_set_prereq TMPFS
	# cleanup() removes $TMP: unmount first
	trap 'umount "$SMALL" 2>/dev/null; cleanup' EXIT
else
	say "cannot mount a small tmpfs (not root?): the disk-full test is skipped"
fi

test_expect_success TMPFS 'A publishes and seeds' '
	publish_on A "$TMP/model" full-demo >$TMP/link &&
	start_node A $A --no-dht &&
	wait_for 10 "node_seeds A full-demo@1" &&
	WEIGHTSYNC_HOME=$SMALL/B ws trust add full-demo $TMP/A/keys/publisher.key.pub
'

test_expect_success TMPFS 'the disk fills: exit 2, "No space left on device"' '
	test_must_fail 2 env WEIGHTSYNC_HOME=$SMALL/B "$WS_BIN" fetch "$(cat $TMP/link)" \
		--peer $A:$(port_of A) --listen $B:0 --no-dht --timeout 5 2>$TMP/err &&
	cat $TMP/err && grep_q "No space left on device" $TMP/err &&
	! grep_q "Bad address" $TMP/err &&
	WEIGHTSYNC_HOME=$SMALL/B ws list --json >$TMP/list.json &&
	json_check $TMP/list.json "not any(r[\"state\"] == \"complete\" for r in j)"
'

test_expect_success TMPFS 'with room again, the same fetch completes' '
	mount -o remount,size=200m "$SMALL" &&
	WEIGHTSYNC_HOME=$SMALL/B ws fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 30 --json >$TMP/f.json &&
	dir=$(python3 -c "import json; print(json.load(open(\"$TMP/f.json\"))[\"path\"])") &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	WEIGHTSYNC_HOME=$SMALL/B ws audit full-demo
'

test_done
