#!/bin/sh
# audit DIR --against hf://ORG/NAME@REV: any local folder (an `hf download
# --local-dir` folder, say) against the hub's record of that commit: sizes,
# LFS SHA-256s and git blob ids, file by file; extra files named.
cd "$(dirname "$0")" && . ./test-lib.sh

COMMIT=6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7
make_model "$TMP/model" 1000000
REF=hf://acme/tiny-llm@$COMMIT

test_expect_success 'a folder identical to the record audits clean' '
	start_hub hub $TMP/model --repo acme/tiny-llm --commit $COMMIT &&
	cp -r $TMP/model $TMP/local &&
	mkdir -p $TMP/local/.cache/huggingface/download && echo x >$TMP/local/.cache/huggingface/download/a &&
	HF_ENDPOINT=$(hub_url hub) ws audit $TMP/local --against $REF >$TMP/out &&
	grep_q "^hf://acme/tiny-llm@$COMMIT  $TMP/local" $TMP/out &&
	grep_q "6 files: 6 ok, 0 modified, 0 missing, 0 wrong size, 0 extra" $TMP/out &&
	HF_ENDPOINT=$(hub_url hub) ws audit $TMP/local --against hf://acme/tiny-llm@main --json >$TMP/j &&
	json_check $TMP/j "j[\"intact\"] and j[\"releases\"][0][\"commit\"] == \"$COMMIT\""
'

test_expect_success 'a changed byte, a missing file, a truncated one and an extra one: exit 1' '
	printf X | dd of=$TMP/local/model-00001-of-00002.safetensors bs=1 seek=4000 conv=notrunc 2>/dev/null &&
	echo " " >>$TMP/local/config.json &&
	rm $TMP/local/tokenizer.json &&
	truncate -s 100 $TMP/local/model-00002-of-00002.safetensors &&
	echo new >$TMP/local/notes.txt &&
	HF_ENDPOINT=$(hub_url hub) test_must_fail 1 ws audit $TMP/local --against $REF >$TMP/out &&
	grep_q "  modified    model-00001-of-00002.safetensors" $TMP/out &&
	grep_q "  wrong size  model-00002-of-00002.safetensors" $TMP/out &&
	grep_q "  missing     tokenizer.json" $TMP/out &&
	grep_q "  extra       notes.txt" $TMP/out &&
	grep_q "  wrong size  config.json (expected 123 B, found 125 B)" $TMP/out &&
	grep_q "7 files: 2 ok, 1 modified, 1 missing, 2 wrong size, 1 extra" $TMP/out
'

test_expect_success 'a small file is checked by its git blob id (size unchanged)' '
	rm -rf $TMP/local && cp -r $TMP/model $TMP/local &&
	sed -i "s/{/[/" $TMP/local/config.json &&
	HF_ENDPOINT=$(hub_url hub) test_must_fail 1 ws audit $TMP/local --against $REF >$TMP/out &&
	grep_q "  modified    config.json" $TMP/out
'

test_expect_success 'an unknown revision or a bad reference is an error, exit 2' '
	HF_ENDPOINT=$(hub_url hub) test_must_fail 2 ws audit $TMP/local --against hf://acme/tiny-llm@nope 2>$TMP/err &&
	grep_q "the hub has no revision .nope." $TMP/err &&
	test_must_fail 2 ws audit $TMP/local --against https://example.com/x 2>$TMP/err &&
	test_must_fail 2 ws audit --against $REF 2>$TMP/err &&
	grep_q "\-\-against takes one folder" $TMP/err
'

test_done
