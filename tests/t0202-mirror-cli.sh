#!/bin/sh
# weightsync mirror's command line, offline: references, flags and
# endpoints it refuses before any download.
cd "$(dirname "$0")" && . ./test-lib.sh

test_expect_success 'mirror is listed in --help with its flags' '
	ws --help >$TMP/h && grep_q "^  mirror " $TMP/h &&
	ws mirror --help >$TMP/h &&
	grep_q "usage: weightsync mirror hf://ORG/NAME\[@REVISION\] --name NAME" $TMP/h &&
	grep_q "\-\-include GLOB" $TMP/h && grep_q "\-\-exclude GLOB" $TMP/h &&
	grep_q "\-\-stall-timeout S" $TMP/h
'

test_expect_success 'an operand and --name are required' '
	test_must_fail 2 ws mirror --name x 2>$TMP/err &&
	grep_q "expected one hf://ORG/NAME\[@REVISION\]" $TMP/err &&
	test_must_fail 2 ws mirror hf://acme/tiny 2>$TMP/err &&
	grep_q "\-\-name NAME is required" $TMP/err
'

test_expect_success 'references that are not hf://ORG/NAME[@REVISION] are refused' '
	for ref in hf://acme https://huggingface.co/acme/tiny hf://acme/../etc hf://acme/a--b \
		hf://-acme/tiny hf://acme/tiny@ "hf://acme/ti ny" hf://acme/tiny/extra; do
		test_must_fail 2 ws mirror "$ref" --name x 2>$TMP/err || return 1
		grep_q "is not an hf://ORG/NAME\[@REVISION\] reference\|the revision after .@. is empty" $TMP/err || return 1
	done &&
	test ! -e $WEIGHTSYNC_HOME/releases
'

test_expect_success 'flag values are checked' '
	test_must_fail 2 ws mirror hf://acme/tiny --name x --connections 0 2>$TMP/err &&
	grep_q "invalid value .0. for --connections" $TMP/err &&
	test_must_fail 2 ws mirror hf://acme/tiny --name x --connections 17 2>$TMP/err &&
	test_must_fail 2 ws mirror hf://acme/tiny --name x --include "" 2>$TMP/err &&
	grep_q "\-\-include takes a non-empty pattern" $TMP/err
'

test_expect_success 'an endpoint that is not http(s), or does not answer, is an error' '
	ws keygen --no-password >/dev/null 2>&1 &&
	test_must_fail 2 ws mirror hf://acme/tiny --name x --endpoint file:///etc 2>$TMP/err &&
	grep_q "the hub endpoint .file:///etc. is not an http(s) URL" $TMP/err &&
	port=$(free_port 127.0.0.1) &&
	HF_ENDPOINT=http://127.0.0.1:$port test_must_fail 2 ws mirror hf://acme/tiny --name x 2>$TMP/err &&
	grep_q "cannot reach the hub at .http://127.0.0.1:$port." $TMP/err &&
	test ! -e $WEIGHTSYNC_HOME/releases
'

test_done
