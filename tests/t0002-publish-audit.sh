#!/bin/sh
# publish and audit of an intact release: signatures minisign accepts,
# hashes anyone can recompute, the version chain, list/show/log.
cd "$(dirname "$0")" && . ./test-lib.sh

SRC=$TMP/model
KEY=$WEIGHTSYNC_HOME/keys/publisher.key
SUMMARY="6 files: 6 ok, 0 modified, 0 missing, 0 wrong size, 0 extra"

# An independent BEP 52 pieces root: SHA-256 of 16 KiB blocks, zero leaves
# up to a power of two, pairs hashed up to the root.
cat >$TMP/merkle.py <<'EOF'
import hashlib, sys
data = open(sys.argv[1], "rb").read()
leaves = [hashlib.sha256(data[i:i + 16384]).digest()
          for i in range(0, len(data), 16384)]
n = 1
while n < len(leaves):
    n *= 2
leaves += [bytes(32)] * (n - len(leaves))
while len(leaves) > 1:
    leaves = [hashlib.sha256(leaves[i] + leaves[i + 1]).digest()
              for i in range(0, len(leaves), 2)]
print(leaves[0].hex())
EOF

# manifest_field DIR PATH KEY - a file entry's field from DIR's manifest.
manifest_field() {
	python3 -c 'import json, sys
m = json.load(open(sys.argv[1] + "/.weightsync/manifest.json"))
print([f for f in m["files"] if f["path"] == sys.argv[2]][0][sys.argv[3]])' "$@"
}

test_expect_success 'setup: a key and a model with a shard over 4 MiB' '
	ws keygen --no-password >/dev/null 2>&1 &&
	make_model $SRC 5000000 &&
	test $(stat -c %s $SRC/model-00001-of-00002.safetensors) -gt 4194304 &&
	test $(stat -c %s $SRC/config.json) -lt 16384 &&
	dir_state $SRC >$TMP/src.before
'

test_expect_success 'publish makes version 1' '
	ws publish $SRC --name llama --origin "hf://org/llama@abc" --license mit \
		>$TMP/out 2>$TMP/err &&
	grep_q "^published llama@1$" $TMP/out &&
	grep_q "publisher  $(sed -n 2p $KEY.pub)" $TMP/out &&
	grep_q "files      6 " $TMP/out &&
	dir=$(release_dir llama 1) && grep_q "folder     $dir" $TMP/out
'

test_expect_success 'the release folder has the manifest and its signature' '
	dir=$(release_dir llama 1) &&
	test -f $dir/.weightsync/manifest.json &&
	test -f $dir/.weightsync/manifest.json.minisig &&
	ls -A $dir/.weightsync >$TMP/meta &&
	printf "manifest.json\nmanifest.json.minisig\n" >$TMP/meta.want &&
	test_cmp $TMP/meta.want $TMP/meta
'

test_expect_success MINISIGN 'minisign verifies the manifest' '
	dir=$(release_dir llama 1) &&
	minisign -V -p $KEY.pub -m $dir/.weightsync/manifest.json >$TMP/out &&
	h=$(sha256sum <$dir/.weightsync/manifest.json | cut -c1-64) &&
	grep_q "Trusted comment: weightsync release llama@1 manifest sha256:$h" $TMP/out
'

test_expect_success MINISIGN 'minisign rejects the manifest with one byte changed' '
	dir=$(release_dir llama 1) && mkdir $TMP/mcopy &&
	cp $dir/.weightsync/manifest.json $dir/.weightsync/manifest.json.minisig $TMP/mcopy/ &&
	minisign -V -q -p $KEY.pub -m $TMP/mcopy/manifest.json &&
	python3 -c "import sys; p = sys.argv[1]; b = bytearray(open(p, \"rb\").read())
b[100] ^= 1; open(p, \"wb\").write(b)" $TMP/mcopy/manifest.json &&
	! minisign -V -p $KEY.pub -m $TMP/mcopy/manifest.json 2>$TMP/err &&
	grep_q "Signature verification failed" $TMP/err
'

test_expect_success 'the source folder is left as it was' '
	dir_state $SRC >$TMP/src.after &&
	test_cmp $TMP/src.before $TMP/src.after &&
	test ! -e $SRC/.weightsync
'

test_expect_success 'the store holds the same files, byte for byte' '
	dir=$(release_dir llama 1) &&
	(cd $SRC && find . -type f | LC_ALL=C sort) >$TMP/src.files &&
	(cd $dir && find . -path ./.weightsync -prune -o -type f -print | LC_ALL=C sort) >$TMP/store.files &&
	test_cmp $TMP/src.files $TMP/store.files &&
	while read f; do cmp $SRC/$f $dir/$f || exit 1; done <$TMP/src.files
'

test_expect_success 'manifest sizes and sha256 values are what sha256sum says' '
	dir=$(release_dir llama 1) &&
	python3 -c "import json, sys
for f in json.load(open(sys.argv[1]))[\"files\"]:
    print(f[\"sha256\"] + \"  \" + f[\"path\"])" $dir/.weightsync/manifest.json >$TMP/msums &&
	(cd $SRC && find . -type f | sed "s|^\./||" | LC_ALL=C sort | xargs sha256sum) >$TMP/sums &&
	test_cmp $TMP/sums $TMP/msums &&
	for f in $(cat $TMP/src.files); do
		f=${f#./}
		test "$(manifest_field $dir $f size)" = "$(stat -c %s $SRC/$f)" || exit 1
	done
'

test_expect_success 'pieces_root is the BEP 52 merkle root (file over 4 MiB)' '
	dir=$(release_dir llama 1) && f=model-00001-of-00002.safetensors &&
	want=$(python3 $TMP/merkle.py $SRC/$f) &&
	test "$(manifest_field $dir $f pieces_root)" = "$want" &&
	test "$want" != "$(manifest_field $dir $f sha256)"
'

test_expect_success 'pieces_root of a file under 16 KiB is its sha256' '
	dir=$(release_dir llama 1) &&
	want=$(python3 $TMP/merkle.py $SRC/config.json) &&
	test "$(manifest_field $dir config.json pieces_root)" = "$want" &&
	test "$want" = "$(sha256sum <$SRC/config.json | cut -c1-64)"
'

# audit_ok OUT - an intact audit's report of the six files.
audit_ok() {
	for f in config.json generation_config.json model-00001-of-00002.safetensors \
		model-00002-of-00002.safetensors tokenizer.json tokenizer_config.json; do
		grep_q "^  ok  *$f$" "$1" || return 1
	done
	grep_q "^  $SUMMARY$" "$1"
}

test_expect_success 'audit (every release) passes' '
	ws audit >$TMP/out && audit_ok $TMP/out &&
	grep_q "^llama@1  $(release_dir llama 1)$" $TMP/out
'

test_expect_success 'audit NAME and NAME@1 pass' '
	ws audit llama >$TMP/out && audit_ok $TMP/out &&
	ws audit llama@1 >$TMP/out && audit_ok $TMP/out
'

test_expect_success 'audit DIR (the release folder) passes' '
	ws audit "$(release_dir llama 1)" >$TMP/out && audit_ok $TMP/out
'

test_expect_success 'audit DIR --release NAME (a plain copy) passes' '
	cp -r $SRC $TMP/copy &&
	ws audit $TMP/copy --release llama >$TMP/out && audit_ok $TMP/out &&
	grep_q "^llama@1  $TMP/copy$" $TMP/out &&
	ws audit $TMP/copy --release llama@1 >$TMP/out && audit_ok $TMP/out
'

test_expect_success 'audit --json parses and says intact' '
	ws audit --json >$TMP/j1 &&
	json_check $TMP/j1 "j[\"intact\"] is True and len(j[\"releases\"]) == 1" &&
	json_check $TMP/j1 "all(f[\"status\"] == \"ok\" for f in j[\"releases\"][0][\"files\"])" &&
	json_check $TMP/j1 "j[\"releases\"][0][\"summary\"][\"ok\"] == 6" &&
	ws audit llama --json >$TMP/j2 && json_check $TMP/j2 "j[\"intact\"] is True" &&
	ws audit "$(release_dir llama 1)" --json >$TMP/j3 &&
	json_check $TMP/j3 "j[\"intact\"] is True and j[\"releases\"][0][\"signature\"] == \"ok\"" &&
	ws audit $TMP/copy --release llama --json >$TMP/j4 &&
	json_check $TMP/j4 "j[\"intact\"] is True and j[\"releases\"][0][\"name\"] == \"llama\""
'

test_expect_success 'list, show and log work, as text and JSON' '
	ws list >$TMP/out && grep_q "^llama@1  *complete  *6 files" $TMP/out &&
	ws list --json >$TMP/j &&
	json_check $TMP/j "len(j) == 1 and j[0][\"name\"] == \"llama\" and j[0][\"version\"] == 1" &&
	ws show llama >$TMP/out && grep_q "^llama@1$" $TMP/out &&
	grep_q "origin     hf://org/llama@abc" $TMP/out && grep_q "license    mit" $TMP/out &&
	grep_q "model-00001-of-00002.safetensors" $TMP/out &&
	ws show llama@1 --json >$TMP/j &&
	json_check $TMP/j "j[\"manifest\"][\"name\"] == \"llama\" and j[\"complete\"] is True" &&
	ws log llama >$TMP/out && grep_q "^versions of .llama.:" $TMP/out &&
	grep_q "accepted" $TMP/out &&
	ws log llama --json >$TMP/j &&
	json_check $TMP/j "[v[\"version\"] for v in j[\"versions\"]] == [1] and j[\"versions\"][0][\"previous\"] is None"
'

test_expect_success 'publishing again makes version 2, chained to version 1' '
	ws publish $SRC --name llama >$TMP/out &&
	grep_q "^published llama@2$" $TMP/out &&
	v1=$(sha256sum <"$(release_dir llama 1)/.weightsync/manifest.json" | cut -c1-64) &&
	python3 -c "import json, sys
m = json.load(open(sys.argv[1]))
assert m[\"version\"] == 2 and m[\"previous\"] == sys.argv[2], m.get(\"previous\")" \
		"$(release_dir llama 2)/.weightsync/manifest.json" $v1 &&
	ws show llama >$TMP/out && grep_q "^llama@2$" $TMP/out &&
	grep_q "previous   sha256:$v1" $TMP/out &&
	ws log llama --json >$TMP/j &&
	json_check $TMP/j "[v[\"version\"] for v in j[\"versions\"]] == [1, 2] and j[\"versions\"][1][\"previous\"] == \"$v1\""
'

test_expect_success 'audit NAME audits the latest version, NAME@1 the first' '
	ws audit llama >$TMP/out && grep_q "^llama@2 " $TMP/out && audit_ok $TMP/out &&
	ws audit llama@1 >$TMP/out && grep_q "^llama@1 " $TMP/out && audit_ok $TMP/out &&
	ws audit >$TMP/out && test $(grep -c "^  $SUMMARY$" $TMP/out) = 2
'

test_expect_success 'publish --version of a published version is refused' '
	store_state >$TMP/before &&
	test_must_fail 1 ws publish $SRC --name llama --version 1 >$TMP/out 2>$TMP/err &&
	grep_q "version 1 is already published; the next version is 3" $TMP/err &&
	test_must_fail 1 ws publish $SRC --name llama --version 2 2>$TMP/err &&
	grep_q "already published" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'publish --version past the next one is refused' '
	store_state >$TMP/before &&
	test_must_fail 1 ws publish $SRC --name llama --version 5 >$TMP/out 2>$TMP/err &&
	grep_q "version 5 would skip the chain; the next version is 3" $TMP/err &&
	test_must_fail 1 ws publish $SRC --name fresh --version 2 2>$TMP/err &&
	grep_q "has no version 1 in this store to follow" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'publish refuses bad arguments, changing nothing' '
	store_state >$TMP/before &&
	test_must_fail 2 ws publish $SRC 2>$TMP/err &&
	grep_q "name NAME is required" $TMP/err &&
	test_must_fail 2 ws publish $SRC --name llama --version 0 2>$TMP/err &&
	grep_q "invalid value .0. for --version: out of range (1 to 9007199254740991)" $TMP/err &&
	test_must_fail 2 ws publish $TMP/nonexistent --name llama 2>$TMP/err &&
	grep_q "cannot publish .*No such file or directory" $TMP/err &&
	test_must_fail 2 ws publish $SRC --name Bad_Name 2>$TMP/err &&
	grep_q "invalid release name .Bad_Name." $TMP/err &&
	mkdir $TMP/empty &&
	test_must_fail 2 ws publish $TMP/empty --name empty 2>$TMP/err &&
	grep_q "has no files to publish" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'publish refuses a file name a manifest cannot hold' '
	store_state >$TMP/before &&
	cp -r $SRC $TMP/odd && echo x >"$TMP/odd/back\\slash" &&
	test_must_fail 2 ws publish $TMP/odd --name odd 2>$TMP/err &&
	grep_q "is not a valid file name for a release" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after &&
	test -z "$(ls -A $WEIGHTSYNC_HOME/tmp)"
'

test_done
