#!/bin/sh
# A node's HTTP server serves complete releases: whole files, single ranges
# and resumed downloads byte-identical, HEAD with Content-Length and the
# file's SHA-256 as ETag, 416 for a range past the end.
cd "$(dirname "$0")" && . ./test-lib.sh && . ./http-lib.sh

make_model "$TMP/model" 3000000
A=127.0.0.2
F=model-00001-of-00002.safetensors

test_expect_success CURL 'a node with --http serves what it seeds' '
	publish_on A "$TMP/model" http-demo >/dev/null &&
	start_http_node A $A --no-dht &&
	grep_q "serving HTTP on port" $TMP/A.log &&
	for f in $(cd $TMP/model && ls); do
		curl -sf -o $TMP/got "$(url_of A)/http-demo@1/$f" &&
		cmp $TMP/model/$f $TMP/got || return 1
	done
'

test_expect_success CURL 'HEAD: Content-Length, ETag = the SHA-256 of the signed manifest' '
	curl -sf -I -D $TMP/h -o /dev/null "$(url_of A)/http-demo@1/$F" &&
	test "$(header content-length $TMP/h)" = "$(stat -c %s $TMP/model/$F)" &&
	sha=$(sha256sum $TMP/model/$F | cut -d" " -f1) &&
	test "$(header etag $TMP/h)" = "\"$sha\"" &&
	grep -q "\"sha256\": *\"$sha\"" "$(WEIGHTSYNC_HOME=$TMP/A release_dir http-demo 1)/.weightsync/manifest.json" &&
	test "$(header accept-ranges $TMP/h)" = bytes
'

test_expect_success CURL 'single ranges are 206 and byte-identical' '
	size=$(stat -c %s $TMP/model/$F) &&
	for r in 0-0 0-99 1000-1999 123456-2000000 $((size - 10))-$((size - 1)) $((size - 5))-$((size + 100)); do
		s=${r%-*} e=${r#*-} && [ $e -lt $size ] || e=$((size - 1)) &&
		curl -sf -D $TMP/h -r $r -o $TMP/got "$(url_of A)/http-demo@1/$F" &&
		tr -d "\r" <$TMP/h | head -1 | grep -q " 206" &&
		test "$(header content-range $TMP/h)" = "bytes $s-$e/$size" &&
		bytes $TMP/model/$F $s $e >$TMP/want && cmp $TMP/want $TMP/got || return 1
	done &&
	curl -sf -r 2000000- -o $TMP/got "$(url_of A)/http-demo@1/$F" &&
	bytes $TMP/model/$F 2000000 $((size - 1)) >$TMP/want && cmp $TMP/want $TMP/got &&
	curl -sf -r -500 -o $TMP/got "$(url_of A)/http-demo@1/$F" &&
	bytes $TMP/model/$F $((size - 500)) $((size - 1)) >$TMP/want && cmp $TMP/want $TMP/got
'

test_expect_success CURL 'curl -C - resumes a cut download to the identical file' '
	for cut in 1 65536 1000000 2999999; do
		head -c $cut $TMP/model/$F >$TMP/part &&
		curl -sf -C - -o $TMP/part "$(url_of A)/http-demo@1/$F" &&
		cmp $TMP/model/$F $TMP/part || return 1
	done
'

test_expect_success CURL 'a range past the end: 416 with the size, and no body' '
	size=$(stat -c %s $TMP/model/$F) &&
	for r in $size- $((size + 1))-$((size + 10)) 99999999999-; do
		test "$(http_code -D $TMP/h -r $r "$(url_of A)/http-demo@1/$F")" = 416 &&
		test "$(header content-range $TMP/h)" = "bytes */$size" &&
		test "$(header content-length $TMP/h)" = 0 || return 1
	done
'

test_expect_success CURL 'several ranges or a malformed one: the whole file (200)' '
	for r in "bytes=0-1,5-6" "bytes=abc" "items=0-5" "bytes=9-3"; do
		test "$(curl -s -w "%{http_code}" -H "Range: $r" -o $TMP/got \
			"$(url_of A)/http-demo@1/$F")" = 200 || return 1
		cmp $TMP/model/$F $TMP/got || return 1
	done
'

test_expect_success CURL 'If-None-Match with the ETag: 304; an If-Range for other content: 200' '
	sha=$(sha256sum $TMP/model/$F | cut -d" " -f1) &&
	test "$(http_code -H "If-None-Match: \"$sha\"" "$(url_of A)/http-demo@1/$F")" = 304 &&
	test "$(http_code -r 0-9 -H "If-Range: \"0000\"" "$(url_of A)/http-demo@1/$F")" = 200 &&
	test "$(http_code -r 0-9 -H "If-Range: \"$sha\"" "$(url_of A)/http-demo@1/$F")" = 206
'

test_expect_success CURL 'the signed manifest and its signature come as the store keeps them' '
	dir=$(WEIGHTSYNC_HOME=$TMP/A release_dir http-demo 1) &&
	for f in manifest.json manifest.json.minisig; do
		curl -sf -D $TMP/h -o $TMP/got "$(url_of A)/http-demo@1/.weightsync/$f" &&
		cmp $dir/.weightsync/$f $TMP/got &&
		test "$(header etag $TMP/h)" = "\"$(sha256sum $TMP/got | cut -d" " -f1)\"" || return 1
	done
'

test_expect_success CURL 'the release folder lists its files with links' '
	test "$(http_code -D $TMP/h "$(url_of A)/http-demo@1")" = 301 &&
	test "$(header location $TMP/h)" = /http-demo@1/ &&
	curl -sfL -o $TMP/page "$(url_of A)/http-demo@1" &&
	for f in $(cd $TMP/model && ls); do grep_q "href=\"/http-demo@1/$f\"" $TMP/page || return 1; done &&
	grep_q "$(sha256sum $TMP/model/$F | cut -d" " -f1)" $TMP/page
'

test_expect_success CURL 'the node stops cleanly with its HTTP server' '
	stop_node A && grep_q "stopped" $TMP/A.log &&
	test "$(http_code "$(url_of A)/")" = 000
'

test_done
