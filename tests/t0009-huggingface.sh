#!/bin/sh
# Hugging Face folders: a cache snapshot (files are links into blobs/) and
# a `hf download --local-dir` folder publish with their origin recorded and
# every blob name or etag checked against the content; audit works through
# the links.
cd "$(dirname "$0")" && . ./test-lib.sh

COMMIT=0123456789abcdef0123456789abcdef01234567
CACHE=$TMP/hub/models--acme--tiny-llm

# a fake cache: LFS files named by SHA-256, small files by git blob SHA-1
make_cache() {
	make_model "$TMP/src" 1000000 && make_hf_cache $TMP/src $CACHE $COMMIT
}

test_expect_success 'a cache snapshot publishes with its origin' '
	make_cache && ws keygen --no-password >/dev/null 2>&1 &&
	ws publish $CACHE/snapshots/$COMMIT --name tiny-llm --copy --json >$TMP/p.json &&
	ws show tiny-llm >$TMP/show &&
	grep_q "origin     hf://acme/tiny-llm@$COMMIT" $TMP/show &&
	dir=$(release_dir tiny-llm 1) && test ! -L $dir/config.json &&
	for f in $(cd $TMP/src && ls); do cmp $TMP/src/$f $dir/$f || return 1; done
'

test_expect_success 'audit --release works through the snapshot links' '
	ws audit $CACHE/snapshots/$COMMIT --release tiny-llm >$TMP/out &&
	grep_q "6 ok" $TMP/out
'

test_expect_success 'a blob whose name is not its content is refused before signing' '
	blob=$(readlink $CACHE/snapshots/$COMMIT/model-00002-of-00002.safetensors) &&
	printf X | dd of=$CACHE/snapshots/$COMMIT/$blob bs=1 seek=500 conv=notrunc 2>/dev/null &&
	store_state >$TMP/before &&
	test_must_fail 1 ws publish $CACHE/snapshots/$COMMIT --name tiny-llm 2>$TMP/err &&
	grep_q "model-00002-of-00002.safetensors.: its blob name names SHA-256" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'a small file whose git blob id is wrong is refused' '
	rm -rf $TMP/hub $TMP/src && make_cache &&
	blob=$(readlink $CACHE/snapshots/$COMMIT/config.json) &&
	echo " " >>$CACHE/snapshots/$COMMIT/$blob &&
	test_must_fail 1 ws publish $CACHE/snapshots/$COMMIT --name tiny-llm 2>$TMP/err &&
	grep_q "config.json.: its blob name names git blob" $TMP/err
'

test_expect_success 'a local-dir download: etags checked, .cache not published' '
	mkdir -p $TMP/local/.cache/huggingface/download &&
	cp $TMP/src/* $TMP/local/ &&
	for f in $(cd $TMP/src && ls); do
		printf "%s\n%s\n1700000000.0\n" $COMMIT "$(sha256sum <$TMP/src/$f | cut -c1-64)" \
			>$TMP/local/.cache/huggingface/download/$f.metadata || return 1
	done &&
	ws publish $TMP/local --name local-llm --json >$TMP/l.json &&
	json_check $TMP/l.json "j[\"files\"] == 6" &&
	printf X | dd of=$TMP/local/config.json bs=1 seek=3 conv=notrunc 2>/dev/null &&
	test_must_fail 1 ws publish $TMP/local --name local-llm 2>$TMP/err &&
	grep_q "config.json.: its download etag names SHA-256" $TMP/err
'

test_expect_success 'export --hf-cache lays a release out as the hub does' '
	ws export tiny-llm --hf-cache $TMP/out-hub >$TMP/snap 2>$TMP/err &&
	grep_q "HF_HUB_OFFLINE=1" $TMP/err &&
	repo=$TMP/out-hub/models--acme--tiny-llm &&
	test "$(cat $TMP/snap)" = "$repo/snapshots/$COMMIT" &&
	test "$(cat $repo/refs/main)" = "$COMMIT" &&
	for f in $(cd $TMP/src && ls); do
		test -L $repo/snapshots/$COMMIT/$f &&
		cmp $TMP/src/$f $repo/snapshots/$COMMIT/$f || return 1
	done &&
	test "$(basename $(readlink $repo/snapshots/$COMMIT/model-00001-of-00002.safetensors))" = \
		"$(sha256sum <$TMP/src/model-00001-of-00002.safetensors | cut -c1-64)" &&
	want=$(git_blob_id $TMP/src/config.json) &&
	test "$(readlink $repo/snapshots/$COMMIT/config.json)" = "../../blobs/$want"
'

test_done
