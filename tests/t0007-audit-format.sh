#!/bin/sh
# audit --format: structural checks of safetensors and GGUF files in a
# folder, without a manifest.
cd "$(dirname "$0")" && . ./test-lib.sh

SRC=$TMP/model
BIG=model-00001-of-00002.safetensors

# fresh_copy - $TMP/copy, a new plain copy of the model folder.
fresh_copy() { rm -rf $TMP/copy && cp -r $SRC $TMP/copy; }

# write_gguf FILE - a small valid GGUF v3 file: two metadata keys (a string
# and an array of strings), an F32 and a Q8_0 tensor, alignment 32.
write_gguf() {
	python3 -c 'import struct, sys
s = lambda t: struct.pack("<Q", len(t)) + t
h = b"GGUF" + struct.pack("<IQQ", 3, 2, 2)
h += s(b"general.architecture") + struct.pack("<I", 8) + s(b"llama")
h += s(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2) + s(b"a") + s(b"b")
h += s(b"w1") + struct.pack("<IQQIQ", 2, 4, 2, 0, 0)
h += s(b"w2") + struct.pack("<IQIQ", 1, 64, 8, 32)
h += b"\0" * (-len(h) % 32) + b"\0" * (32 + 68)
open(sys.argv[1], "wb").write(h)' "$1"
}

test_expect_success 'setup: a model folder with safetensors and GGUF files' '
	make_model $SRC 65536 &&
	mkdir $SRC/gguf && write_gguf $SRC/gguf/model-q8.gguf
'

test_expect_success 'a good folder: every model file ok, exit 0' '
	fresh_copy &&
	ws audit --format $TMP/copy >$TMP/out &&
	grep_q "^  ok  *$BIG (safetensors)$" $TMP/out &&
	grep_q "^  ok  *model-00002-of-00002.safetensors (safetensors)$" $TMP/out &&
	grep_q "^  ok  *gguf/model-q8.gguf (gguf)$" $TMP/out &&
	! grep -q "config.json" $TMP/out &&
	grep_q "^3 model files: 3 ok, 0 malformed$" $TMP/out
'

test_expect_success 'a good folder, --json' '
	fresh_copy &&
	ws audit --format $TMP/copy --json >$TMP/j &&
	json_check $TMP/j "j[\"intact\"] is True" &&
	json_check $TMP/j "{f[\"path\"]: (f[\"format\"], f[\"status\"], f[\"error\"]) for f in j[\"files\"]} == {
		\"$BIG\": (\"safetensors\", \"ok\", None),
		\"model-00002-of-00002.safetensors\": (\"safetensors\", \"ok\", None),
		\"gguf/model-q8.gguf\": (\"gguf\", \"ok\", None)}"
'

test_expect_success 'a truncated safetensors file: malformed, exit 1' '
	fresh_copy && size=$(stat -c %s $TMP/copy/$BIG) &&
	truncate -s $((size - 100)) $TMP/copy/$BIG &&
	test_must_fail 1 ws audit --format $TMP/copy >$TMP/out &&
	grep_q "^  malformed  *$BIG: file size $((size - 100)) is not .* = $size bytes (truncated)$" $TMP/out &&
	grep_q "^  ok  *model-00002-of-00002.safetensors (safetensors)$" $TMP/out &&
	grep_q "^3 model files: 2 ok, 1 malformed$" $TMP/out &&
	test_must_fail 1 ws audit $TMP/copy --format --json >$TMP/j &&
	json_check $TMP/j "j[\"intact\"] is False" &&
	json_check $TMP/j "[f for f in j[\"files\"] if f[\"path\"] == \"$BIG\"][0][\"status\"] == \"malformed\"" &&
	json_check $TMP/j "\"file size\" in [f for f in j[\"files\"] if f[\"path\"] == \"$BIG\"][0][\"error\"]"
'

test_expect_success 'a GGUF file with a bad version: malformed, exit 1' '
	fresh_copy &&
	printf "\\007" | dd of=$TMP/copy/gguf/model-q8.gguf bs=1 seek=4 conv=notrunc 2>/dev/null &&
	test_must_fail 1 ws audit --format $TMP/copy >$TMP/out &&
	grep_q "^  malformed  *gguf/model-q8.gguf: unsupported GGUF version 7 at byte 4" $TMP/out
'

test_expect_success 'a folder that does not exist: exit 2' '
	test_must_fail 2 ws audit --format $TMP/nonexistent >$TMP/out 2>$TMP/err &&
	grep_q "cannot read folder .*$TMP/nonexistent.: No such file or directory" $TMP/err
'

test_expect_success 'usage: --format needs a folder and no --release' '
	test_must_fail 2 ws audit --format 2>$TMP/err &&
	grep_q "format takes one folder" $TMP/err &&
	test_must_fail 2 ws audit --format $SRC --release x 2>$TMP/err &&
	grep_q "format takes one folder" $TMP/err
'

test_expect_success 'a signed release holding a malformed shard fails its audit' '
	make_model $TMP/signed-bad 200000 &&
	head -c 100000 $TMP/signed-bad/model-00001-of-00002.safetensors >$TMP/cut &&
	mv $TMP/cut $TMP/signed-bad/model-00001-of-00002.safetensors &&
	ws keygen --no-password >/dev/null 2>&1; ws publish $TMP/signed-bad --name signed-bad >/dev/null &&
	test_must_fail 1 ws audit signed-bad >$TMP/out &&
	grep_q "malformed   model-00001-of-00002.safetensors: " $TMP/out &&
	grep_q "ok          model-00002-of-00002.safetensors" $TMP/out
'

test_done
