#!/bin/sh
# weightsync mirror hf://ORG/NAME against a loopback hub (hub_server.py):
# the API's record, resolve URLs redirecting LFS files to a second "CDN"
# address, every file verified as it streams, the release signed with its
# hf:// origin, then fetched by a second node, audited, exported as a
# Hugging Face cache.  Revisions, --include/--exclude, a gated repository.
# (Resuming: t5405.)
cd "$(dirname "$0")" && . ./test-lib.sh

COMMIT=4f2a9c0e1b3d5f7a9c0e1b3d5f7a9c0e1b3d5f7a
A=127.0.0.3 B=127.0.0.4
make_model "$TMP/model" 1500000
HUBARGS="--repo acme/tiny-llm --commit $COMMIT"

test_expect_success 'mirror downloads, verifies and signs the repository' '
	start_hub hub $TMP/model $HUBARGS &&
	WEIGHTSYNC_HOME=$TMP/A ws keygen --no-password >/dev/null 2>&1 &&
	HF_ENDPOINT=$(hub_url hub) WEIGHTSYNC_HOME=$TMP/A \
		ws mirror hf://acme/tiny-llm --name tiny-llm --json >$TMP/m.json 2>$TMP/err &&
	grep_q "mirroring acme/tiny-llm at $COMMIT: 6 files" $TMP/err &&
	json_check $TMP/m.json "j[\"name\"] == \"tiny-llm\" and j[\"version\"] == 1 and j[\"files\"] == 6" &&
	WEIGHTSYNC_HOME=$TMP/A ws show tiny-llm >$TMP/show &&
	grep_q "origin     hf://acme/tiny-llm@$COMMIT" $TMP/show &&
	dir=$(WEIGHTSYNC_HOME=$TMP/A release_dir tiny-llm 1) &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	grep_q "^cdn GET /lfs/" $TMP/hub.log &&
	grep_q "^hub GET /api/models/acme/tiny-llm/revision/main?blobs=true" $TMP/hub.log &&
	test ! -e $TMP/A/tmp/mirror-acme--tiny-llm@$COMMIT
'

test_expect_success 'a second node fetches the mirrored release from the first' '
	start_node A $A && wait_for 15 "node_seeds A tiny-llm@1" &&
	WEIGHTSYNC_HOME=$TMP/B ws trust add tiny-llm $TMP/A/keys/publisher.key.pub &&
	link=$(WEIGHTSYNC_HOME=$TMP/A ws show tiny-llm --json | python3 -c "import json, sys; print(json.load(sys.stdin)[\"link\"])") &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$link" --peer $A:$(port_of A) --listen $B:0 \
		--no-dht --timeout 30 --json >$TMP/f.json &&
	json_check $TMP/f.json "j[\"ok\"] and j[\"version\"] == 1" &&
	WEIGHTSYNC_HOME=$TMP/B ws audit tiny-llm >$TMP/out && grep_q "6 ok" $TMP/out &&
	WEIGHTSYNC_HOME=$TMP/B ws show tiny-llm >$TMP/show &&
	grep_q "origin     hf://acme/tiny-llm@$COMMIT" $TMP/show &&
	stop_node A
'

test_expect_success 'exported as a Hugging Face cache, it audits clean by blob names' '
	WEIGHTSYNC_HOME=$TMP/B ws export tiny-llm --hf-cache $TMP/hfc >$TMP/snap 2>/dev/null &&
	test "$(cat $TMP/snap)" = "$TMP/hfc/models--acme--tiny-llm/snapshots/$COMMIT" &&
	ws audit $TMP/hfc >$TMP/out &&
	grep_q "^6 files in 1 repositories (.*): 6 ok, 0 modified, 0 dangling" $TMP/out &&
	for f in $(cd $TMP/model && ls); do
		cmp $TMP/model/$f $TMP/hfc/models--acme--tiny-llm/snapshots/$COMMIT/$f || return 1
	done
'

test_expect_success 'a revision resolves to its commit; an unknown one is refused' '
	HF_ENDPOINT=$(hub_url hub) WEIGHTSYNC_HOME=$TMP/A \
		ws mirror hf://acme/tiny-llm@v1 --name tiny-v1 >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/A ws show tiny-v1 >$TMP/show &&
	grep_q "origin     hf://acme/tiny-llm@$COMMIT" $TMP/show &&
	HF_ENDPOINT=$(hub_url hub) WEIGHTSYNC_HOME=$TMP/A \
		test_must_fail 2 ws mirror hf://acme/tiny-llm@nope --name tiny-nope 2>$TMP/err &&
	grep_q "the hub has no revision .nope. of .acme/tiny-llm. (HTTP 404: Invalid rev id: nope)" $TMP/err
'

test_expect_success '--include and --exclude pick files as hf download does' '
	HF_ENDPOINT=$(hub_url hub) WEIGHTSYNC_HOME=$TMP/A ws mirror hf://acme/tiny-llm \
		--name tiny-cfg --include "*.json" --exclude "tokenizer*" --json >$TMP/i.json 2>/dev/null &&
	json_check $TMP/i.json "j[\"files\"] == 2" &&
	dir=$(WEIGHTSYNC_HOME=$TMP/A release_dir tiny-cfg 1) &&
	test -f $dir/config.json && test -f $dir/generation_config.json &&
	test ! -e $dir/tokenizer.json &&
	HF_ENDPOINT=$(hub_url hub) WEIGHTSYNC_HOME=$TMP/A \
		test_must_fail 2 ws mirror hf://acme/tiny-llm --name tiny-none --include "*.gguf" 2>$TMP/err &&
	grep_q "no file of .acme/tiny-llm. at $COMMIT matches the patterns given" $TMP/err
'

test_expect_success 'a gated repository: refused without a token, mirrored with it' '
	stop_hub hub && : >$TMP/gated.log &&
	start_hub gated $TMP/model $HUBARGS --token hf_s3cret &&
	WEIGHTSYNC_HOME=$TMP/G ws keygen --no-password >/dev/null 2>&1 &&
	HF_ENDPOINT=$(hub_url gated) WEIGHTSYNC_HOME=$TMP/G \
		test_must_fail 2 ws mirror hf://acme/tiny-llm --name g 2>$TMP/err &&
	grep_q "the hub refused revision .main. of .acme/tiny-llm. (HTTP 401: Access to model acme/tiny-llm is restricted.*a gated or private repository needs HF_TOKEN" $TMP/err &&
	HF_TOKEN=hf_wrong HF_ENDPOINT=$(hub_url gated) WEIGHTSYNC_HOME=$TMP/G \
		test_must_fail 2 ws mirror hf://acme/tiny-llm --name g 2>$TMP/err &&
	grep_q "HF_TOKEN does not grant access to it" $TMP/err &&
	test ! -e $TMP/G/releases &&
	HF_TOKEN=hf_s3cret HF_ENDPOINT=$(hub_url gated) WEIGHTSYNC_HOME=$TMP/G \
		ws mirror hf://acme/tiny-llm --name g >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/G ws audit g >$TMP/out && grep_q "6 ok" $TMP/out &&
	grep_q "^hub GET /acme/tiny-llm/resolve/$COMMIT/config.json - auth" $TMP/gated.log &&
	! grep "^cdn .* auth" $TMP/gated.log &&
	stop_hub gated
'

test_done
