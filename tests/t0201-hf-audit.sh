#!/bin/sh
# audit of what the Hugging Face hub's own client left: a cache folder, one
# models--ORG--NAME folder or one snapshot, with no weightsync release.
# Every blob is checked against its own name (SHA-256 for LFS blobs, git
# blob SHA-1 for the others), offline; snapshot links are resolved.
cd "$(dirname "$0")" && . ./test-lib.sh

C1=0123456789abcdef0123456789abcdef01234567
C2=89abcdef0123456789abcdef0123456789abcdef
HUB=$TMP/hub
REPO=$HUB/models--acme--tiny-llm

test_expect_success 'an intact cache audits clean, by cache, repo and snapshot' '
	make_model $TMP/src 300000 && make_hf_cache $TMP/src $REPO $C1 &&
	make_model $TMP/src2 1000 && make_hf_cache $TMP/src2 $HUB/models--acme--other $C2 &&
	ws audit $HUB >$TMP/out &&
	grep_q "^acme/tiny-llm  (Hugging Face cache" $TMP/out &&
	grep_q "^acme/other  (Hugging Face cache" $TMP/out &&
	grep_q "^12 files in 2 repositories (.*): 12 ok, 0 modified, 0 dangling" $TMP/out &&
	grep_q "  ok          snapshots/$C1/model-00001-of-00002.safetensors" $TMP/out &&
	ws audit $REPO >$TMP/out && grep_q "^6 files in 1 repositories" $TMP/out &&
	ws audit $REPO/snapshots/$C1 >$TMP/out && grep_q "^6 files in 1 repositories" $TMP/out
'

test_expect_success 'a flipped byte in a blob and a dangling link are named, exit 1' '
	blob=$(readlink $REPO/snapshots/$C1/model-00002-of-00002.safetensors) &&
	id=$(basename $blob) &&
	printf X | dd of=$REPO/blobs/$id bs=1 seek=500 conv=notrunc 2>/dev/null &&
	tok=$(basename $(readlink $REPO/snapshots/$C1/tokenizer.json)) &&
	rm $REPO/blobs/$tok &&
	test_must_fail 1 ws audit $HUB >$TMP/out &&
	grep_q "  modified    snapshots/$C1/model-00002-of-00002.safetensors (content does not match blob name $id)" $TMP/out &&
	grep_q "  dangling    snapshots/$C1/tokenizer.json (blob $tok is missing)" $TMP/out &&
	grep_q ": 10 ok, 1 modified, 1 dangling" $TMP/out &&
	grep_q "  ok          snapshots/$C1/config.json" $TMP/out &&
	test_must_fail 1 ws audit $REPO/snapshots/$C1 >$TMP/out &&
	grep_q ": 4 ok, 1 modified, 1 dangling" $TMP/out
'

test_expect_success 'a small file is checked by its git blob id' '
	cfg=$(basename $(readlink $HUB/models--acme--other/snapshots/$C2/config.json)) &&
	echo " " >>$HUB/models--acme--other/blobs/$cfg &&
	test_must_fail 1 ws audit $HUB/models--acme--other >$TMP/out &&
	grep_q "  modified    snapshots/$C2/config.json (content does not match blob name $cfg)" $TMP/out
'

test_expect_success '--json lists every file with its blob and state' '
	test_must_fail 1 ws audit $REPO --json >$TMP/j &&
	json_check $TMP/j "j[\"intact\"] is False and j[\"kind\"] == \"huggingface\"" &&
	json_check $TMP/j "j[\"summary\"][\"modified\"] == 1 and j[\"summary\"][\"dangling\"] == 1 and j[\"summary\"][\"ok\"] == 4" &&
	json_check $TMP/j "[f[\"status\"] for f in j[\"files\"] if f[\"path\"].endswith(\"tokenizer.json\")] == [\"dangling\"]" &&
	json_check $TMP/j "all(f[\"repo\"] == \"acme/tiny-llm\" for f in j[\"files\"])"
'

test_expect_success 'an interrupted download and an unlinked blob are listed, not failed' '
	rm -rf $HUB && make_hf_cache $TMP/src $REPO $C1 &&
	printf partial >$REPO/blobs/$(printf %064d 7).incomplete &&
	echo hello >$TMP/old && old=$(git_blob_id $TMP/old) && cp $TMP/old $REPO/blobs/$old &&
	ws audit $REPO >$TMP/out &&
	grep_q "  incomplete  blobs/$(printf %064d 7).incomplete" $TMP/out &&
	grep_q "  ok          blobs/$old" $TMP/out &&
	grep_q ": 7 ok, 0 modified, 0 dangling, 1 incomplete" $TMP/out
'

test_expect_success 'an unlinked blob whose content is not its name fails' '
	id=$(printf %064d 9) && printf junk >$REPO/blobs/$id &&
	test_must_fail 1 ws audit $REPO >$TMP/out &&
	grep_q "  modified    blobs/$id (content does not match blob name $id)" $TMP/out &&
	rm $REPO/blobs/$id
'

test_expect_success 'the audit wrote nothing: the cache is left as it was' '
	dir_state $HUB >$TMP/before && ws audit $HUB >/dev/null &&
	dir_state $HUB >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'a plain folder is not taken for a cache' '
	mkdir -p $TMP/plain && echo x >$TMP/plain/a &&
	test_must_fail 2 ws audit $TMP/plain 2>$TMP/err &&
	grep_q "to audit a folder without its own manifest" $TMP/err
'

test_done
