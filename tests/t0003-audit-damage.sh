#!/bin/sh
# audit of damaged folders: modified, missing, extra and truncated files,
# in a copy audited with --release and in the store's own release folder.
cd "$(dirname "$0")" && . ./test-lib.sh

SRC=$TMP/model
BIG=model-00001-of-00002.safetensors

# flip_byte FILE OFFSET - change one byte in place (size unchanged).
flip_byte() {
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0x55]))' "$1" "$2"
}

# fresh_copy - $TMP/copy, a new plain copy of the model folder.
fresh_copy() { rm -rf $TMP/copy && cp -r $SRC $TMP/copy; }

test_expect_success 'setup: a release published with --copy, and a copy of it' '
	ws keygen --no-password >/dev/null 2>&1 &&
	make_model $SRC &&
	ws publish --copy $SRC --name llama >/dev/null &&
	dir=$(release_dir llama 1) &&
	test "$(stat -c %i $dir/$BIG)" != "$(stat -c %i $SRC/$BIG)" &&
	fresh_copy && ws audit $TMP/copy --release llama >/dev/null &&
	store_state >$TMP/state.before
'

test_expect_success 'copy: one byte modified' '
	fresh_copy && flip_byte $TMP/copy/$BIG 700000 &&
	test_must_fail 1 ws audit $TMP/copy --release llama >$TMP/out &&
	grep_q "^  modified  *$BIG$" $TMP/out &&
	grep_q "6 files: 5 ok, 1 modified, 0 missing, 0 wrong size, 0 extra" $TMP/out
'

test_expect_success 'copy: one byte modified in the first block' '
	fresh_copy && flip_byte $TMP/copy/config.json 0 &&
	test_must_fail 1 ws audit $TMP/copy --release llama >$TMP/out &&
	grep_q "^  modified  *config.json$" $TMP/out
'

test_expect_success 'copy: a file missing' '
	fresh_copy && rm $TMP/copy/tokenizer.json &&
	test_must_fail 1 ws audit $TMP/copy --release llama >$TMP/out &&
	grep_q "^  missing  *tokenizer.json$" $TMP/out &&
	grep_q "6 files: 5 ok, 0 modified, 1 missing, 0 wrong size, 0 extra" $TMP/out
'

test_expect_success 'copy: an extra file, also in a subfolder' '
	fresh_copy && echo extra >$TMP/copy/notes.txt &&
	mkdir $TMP/copy/sub && echo more >$TMP/copy/sub/x.bin &&
	test_must_fail 1 ws audit $TMP/copy --release llama >$TMP/out &&
	grep_q "^  extra  *notes.txt$" $TMP/out &&
	grep_q "^  extra  *sub/x.bin$" $TMP/out &&
	grep_q "8 files: 6 ok, 0 modified, 0 missing, 0 wrong size, 2 extra" $TMP/out
'

test_expect_success 'copy: a truncated file' '
	fresh_copy && truncate -s 1000 $TMP/copy/$BIG &&
	test_must_fail 1 ws audit $TMP/copy --release llama >$TMP/out &&
	grep_q "^  wrong size  *$BIG (expected 1.0 MiB, found 1000 B)$" $TMP/out
'

test_expect_success 'copy: a grown file' '
	fresh_copy && echo more >>$TMP/copy/config.json &&
	test_must_fail 1 ws audit $TMP/copy --release llama >$TMP/out &&
	grep_q "^  wrong size  *config.json" $TMP/out
'

test_expect_success 'copy: a folder where a file should be' '
	fresh_copy && rm $TMP/copy/tokenizer.json && mkdir $TMP/copy/tokenizer.json &&
	test_must_fail 1 ws audit $TMP/copy --release llama >$TMP/out &&
	grep_q "^  unreadable  *tokenizer.json" $TMP/out
'

test_expect_success 'copy: all of it at once, --json' '
	fresh_copy && flip_byte $TMP/copy/$BIG 12345 &&
	rm $TMP/copy/tokenizer.json && echo extra >$TMP/copy/notes.txt &&
	truncate -s 10 $TMP/copy/config.json &&
	test_must_fail 1 ws audit $TMP/copy --release llama --json >$TMP/j &&
	json_check $TMP/j "j[\"intact\"] is False" &&
	json_check $TMP/j "{f[\"path\"]: f[\"status\"] for f in j[\"releases\"][0][\"files\"]} == {
		\"$BIG\": \"modified\", \"tokenizer.json\": \"missing\",
		\"notes.txt\": \"extra\", \"config.json\": \"wrong size\",
		\"model-00002-of-00002.safetensors\": \"ok\",
		\"generation_config.json\": \"ok\", \"tokenizer_config.json\": \"ok\"}" &&
	json_check $TMP/j "j[\"releases\"][0][\"summary\"] == {\"ok\": 3, \"modified\": 1,
		\"missing\": 1, \"wrong size\": 1, \"extra\": 1, \"unreadable\": 0}" &&
	json_check $TMP/j "[f for f in j[\"releases\"][0][\"files\"] if f[\"path\"] == \"config.json\"][0][\"actual_size\"] == 10"
'

test_expect_success 'the copy damage changed nothing in the store' '
	ws audit llama >$TMP/out &&
	store_state >$TMP/state.after && test_cmp $TMP/state.before $TMP/state.after
'

# The store's folder: damage, audit, then restore from the source (the
# release was published with --copy, so the source is not linked to it).
restore() {
	dir=$(release_dir llama 1) &&
	rm -f $dir/notes.txt &&
	for f in $(cd $SRC && ls); do cp $SRC/$f $dir/$f || return 1; done &&
	ws audit llama >/dev/null
}

test_expect_success 'store: one byte modified' '
	dir=$(release_dir llama 1) && flip_byte $dir/$BIG 4242 &&
	test_must_fail 1 ws audit llama >$TMP/out &&
	grep_q "^  modified  *$BIG$" $TMP/out &&
	test_must_fail 1 ws audit >$TMP/out && grep_q "^  modified  *$BIG$" $TMP/out &&
	test_must_fail 1 ws audit $dir >$TMP/out && grep_q "^  modified  *$BIG$" $TMP/out &&
	restore
'

test_expect_success 'store: a file missing' '
	dir=$(release_dir llama 1) && rm $dir/config.json &&
	test_must_fail 1 ws audit llama >$TMP/out &&
	grep_q "^  missing  *config.json$" $TMP/out &&
	restore
'

test_expect_success 'store: an extra file' '
	dir=$(release_dir llama 1) && echo extra >$dir/notes.txt &&
	test_must_fail 1 ws audit llama >$TMP/out &&
	grep_q "^  extra  *notes.txt$" $TMP/out &&
	restore
'

test_expect_success 'store: a truncated file' '
	dir=$(release_dir llama 1) && truncate -s 0 $dir/tokenizer.json &&
	test_must_fail 1 ws audit llama >$TMP/out &&
	grep_q "^  wrong size  *tokenizer.json (expected .*, found 0 B)$" $TMP/out &&
	restore
'

test_expect_success 'store: all at once, --json' '
	dir=$(release_dir llama 1) && flip_byte $dir/$BIG 1 && rm $dir/config.json &&
	echo extra >$dir/notes.txt && truncate -s 5 $dir/tokenizer.json &&
	test_must_fail 1 ws audit llama --json >$TMP/j &&
	json_check $TMP/j "j[\"intact\"] is False" &&
	json_check $TMP/j "{f[\"path\"]: f[\"status\"] for f in j[\"releases\"][0][\"files\"] if f[\"status\"] != \"ok\"} == {
		\"$BIG\": \"modified\", \"config.json\": \"missing\",
		\"notes.txt\": \"extra\", \"tokenizer.json\": \"wrong size\"}" &&
	restore
'

test_expect_success 'audit of a folder that does not exist' '
	store_state >$TMP/before &&
	test_must_fail 2 ws audit $TMP/nonexistent >$TMP/out 2>$TMP/err &&
	grep_q "cannot read .*$TMP/nonexistent/.weightsync/manifest.json.: No such file or directory" $TMP/err &&
	test_must_fail 2 ws audit $TMP/nonexistent --release llama >$TMP/out 2>$TMP/err &&
	grep_q "release needs a folder to audit" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'audit of a folder without a manifest says to name the release' '
	fresh_copy &&
	test_must_fail 2 ws audit $TMP/copy >$TMP/out 2>$TMP/err &&
	grep_q "weightsync audit $TMP/copy --release NAME" $TMP/err
'

test_expect_success 'audit of an unknown name' '
	store_state >$TMP/before &&
	test_must_fail 2 ws audit nosuch >$TMP/out 2>$TMP/err &&
	grep_q "unknown name .nosuch." $TMP/err &&
	grep_q "weightsync trust add nosuch" $TMP/err &&
	test_must_fail 2 ws audit $TMP/copy --release nosuch@1 2>$TMP/err &&
	grep_q "unknown name .nosuch." $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'audit of a version that does not exist, or a bad reference' '
	test_must_fail 2 ws audit llama@7 2>$TMP/err &&
	grep_q "no version 7 of .llama. in this store" $TMP/err &&
	test_must_fail 2 ws audit llama@x 2>$TMP/err &&
	grep_q "invalid version in .llama@x." $TMP/err &&
	test_must_fail 2 ws audit a b 2>$TMP/err &&
	grep_q "expected at most one" $TMP/err
'

test_done
