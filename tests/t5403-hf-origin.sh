#!/bin/sh
# Back to the source: a fetch of a release whose manifest names an hf://
# origin takes from the hub, by range, the pieces no peer supplies, and
# libtorrent checks them like any piece against the signed manifest's v2
# hashes.  The only peer, A, has one shard damaged on disk: it verifies a
# piece before serving it, so it supplies everything but that shard (until
# it takes the shard back from a fetcher, as any swarm heals: so the fetch
# with no origin comes first).  --origin-only takes every piece from the
# hub, also when the fetch goes through a running node; --no-origin never
# asks it; a hub sending bad bytes gets nothing in.
cd "$(dirname "$0")" && . ./test-lib.sh

COMMIT=5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
A=127.0.0.3 B=127.0.0.4
make_model "$TMP/model" 1500000
HUBARGS="--repo acme/tiny-llm --commit $COMMIT"

# fetch_from HOME [OPTIONS] - fetch tiny-llm from A into home HOME
fetch_from() {
	ff_home=$1; shift
	WEIGHTSYNC_HOME=$TMP/$ff_home "$WS_BIN" trust add tiny-llm $TMP/A/keys/publisher.key.pub \
		>/dev/null 2>&1
	WEIGHTSYNC_HOME=$TMP/$ff_home "$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht "$@"
}

test_expect_success 'A mirrors the repository; one shard is damaged on its disk' '
	start_hub hub $TMP/model $HUBARGS &&
	WEIGHTSYNC_HOME=$TMP/A ws keygen --no-password >/dev/null 2>&1 &&
	HF_ENDPOINT=$(hub_url hub) WEIGHTSYNC_HOME=$TMP/A \
		ws mirror hf://acme/tiny-llm --name tiny-llm >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/A ws show tiny-llm --json |
		python3 -c "import json, sys; print(json.load(sys.stdin)[\"link\"])" >$TMP/link &&
	shard=$(WEIGHTSYNC_HOME=$TMP/A release_dir tiny-llm 1)/model-00002-of-00002.safetensors &&
	size=$(stat -c %s $shard) && rm $shard && head -c $size /dev/zero >$shard &&
	start_node A $A && wait_for 15 "node_seeds A tiny-llm@1"
'

test_expect_success '--no-origin: the hub is never asked; the fetch stalls on the shard' '
	: >$TMP/hub.log &&
	HF_ENDPOINT=$(hub_url hub) test_must_fail 2 fetch_from D --no-origin --timeout 6 \
		2>$TMP/err &&
	grep_q "no progress for 6 s while downloading" $TMP/err &&
	! grep -q resolve $TMP/hub.log &&
	test ! -e $TMP/D/releases
'

test_expect_success 'the pieces no peer supplies come from the origin' '
	: >$TMP/hub.log &&
	HF_ENDPOINT=$(hub_url hub) fetch_from B --timeout 30 --json >$TMP/b.json &&
	json_check $TMP/b.json "j[\"ok\"] and 0 < j[\"from_origin\"] < j[\"bytes\"]" &&
	json_check $TMP/b.json "j[\"downloaded\"] > 0" &&
	grep_q "^cdn GET /lfs/.* bytes=[0-9]*-[0-9]*" $TMP/hub.log &&
	dir=$(WEIGHTSYNC_HOME=$TMP/B release_dir tiny-llm 1) &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	WEIGHTSYNC_HOME=$TMP/B ws audit tiny-llm >$TMP/out && grep_q "6 ok" $TMP/out
'

test_expect_success '--origin-only: every piece from the hub, checked like any piece' '
	: >$TMP/hub.log &&
	HF_ENDPOINT=$(hub_url hub) fetch_from C --origin-only --timeout 30 --json >$TMP/c.json &&
	json_check $TMP/c.json "j[\"ok\"] and j[\"from_origin\"] == j[\"bytes\"]" &&
	dir=$(WEIGHTSYNC_HOME=$TMP/C release_dir tiny-llm 1) &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	grep_q "resolve/$COMMIT/tokenizer.json bytes=0-" $TMP/hub.log
'

test_expect_success '--origin-only through a running node: the node reads the hub' '
	: >$TMP/hub.log &&
	WEIGHTSYNC_HOME=$TMP/N ws trust add tiny-llm $TMP/A/keys/publisher.key.pub >/dev/null &&
	HF_ENDPOINT=$(hub_url hub) start_node N 127.0.0.5 --no-dht &&
	WEIGHTSYNC_HOME=$TMP/N ws fetch "$(cat $TMP/link)" --peer $A:$(port_of A) --origin-only \
		--timeout 30 --json >$TMP/n.json &&
	json_check $TMP/n.json "j[\"ok\"] and j[\"from_origin\"] == j[\"bytes\"]" &&
	grep_q "transfer 1: fetch tiny-llm" $TMP/N.log &&
	grep_q "resolve/$COMMIT/tokenizer.json bytes=0-" $TMP/hub.log &&
	dir=$(WEIGHTSYNC_HOME=$TMP/N release_dir tiny-llm 1) &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	stop_node N
'

test_expect_success 'an origin sending bad bytes gets nothing in: exit 1' '
	start_hub bad $TMP/model $HUBARGS --mode wrong-bytes &&
	HF_ENDPOINT=$(hub_url bad) test_must_fail 1 fetch_from E --origin-only --timeout 30 \
		2>$TMP/err &&
	grep_q "the origin hf://acme/tiny-llm could not supply 1 pieces: a piece it sent failed its hash check" $TMP/err &&
	test ! -e $TMP/E/releases
'

test_expect_success '--no-origin and --origin-only exclude each other' '
	test_must_fail 2 ws fetch "$(cat $TMP/link)" --no-origin --origin-only 2>$TMP/err &&
	grep_q "exclude each other" $TMP/err
'

test_done
