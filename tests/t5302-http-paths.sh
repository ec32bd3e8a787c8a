#!/bin/sh
# The HTTP server serves only the files a release's signed manifest lists:
# "..", encoded "%2e%2e", absolute paths, symlinks planted in the store and
# unlisted files are 404; methods other than GET and HEAD are 405.
cd "$(dirname "$0")" && . ./test-lib.sh && . ./http-lib.sh

make_model "$TMP/model" 200000
mkdir -p "$TMP/model/sub" && echo '{"sub": 1}' >"$TMP/model/sub/extra.json"
A=127.0.0.2

test_expect_success CURL 'a node with --http and a release' '
	publish_on A "$TMP/model" paths-demo >/dev/null &&
	start_http_node A $A --no-dht &&
	test "$(http_code "$(url_of A)/paths-demo@1/sub/extra.json")" = 200 &&
	test "$(http_code "$(url_of A)/paths-demo%401/sub%2Fextra%2Ejson")" = 200
'

test_expect_success CURL 'paths out of the release: 404, never a file of the home' '
	for p in "/paths-demo@1/../../../keys/publisher.key" \
		 "/paths-demo@1/%2e%2e/%2e%2e/%2e%2e/keys/publisher.key" \
		 "/paths-demo@1/%2E%2E%2F%2E%2E%2F%2E%2E%2Fkeys%2Fpublisher.key" \
		 "/paths-demo@1/sub/../config.json" "/paths-demo@1/./config.json" \
		 "/paths-demo@1//etc/passwd" "/paths-demo@1/%2Fetc%2Fpasswd" \
		 "//etc/passwd" "/etc/passwd" "/%2e%2e/%2e%2e/etc/passwd" \
		 "/paths-demo@1/.weightsync/../keys/publisher.key" "/keys/publisher.key" \
		 "/index/data.mdb" "/releases/" "/paths-demo@1/sub" "/paths-demo@1/sub/"; do
		curl -s --path-as-is -o $TMP/got -w "%{http_code}" "$(url_of A)$p" >$TMP/code &&
		if [ "$(cat $TMP/code)" != 404 ] || grep -q "PRIVATE\|root:" $TMP/got; then
			echo "$p: $(cat $TMP/code)"; return 1
		fi
	done
'

test_expect_success CURL 'unknown releases and versions: 404' '
	for p in /nope@1/config.json /paths-demo@2/config.json /paths-demo@0/config.json \
		 /paths-demo@01/config.json /paths-demo/config.json /paths-demo@1x/config.json \
		 /Paths-Demo@1/config.json /paths-demo@2 \
		 "/0000000000000000000000000000000000000000000000000000000000000000/paths-demo@1/config.json"; do
		test "$(http_code --path-as-is "$(url_of A)$p")" = 404 || { echo "$p"; return 1; }
	done
'

test_expect_success CURL 'a file in the release folder the manifest does not list: 404' '
	dir=$(WEIGHTSYNC_HOME=$TMP/A release_dir paths-demo 1) &&
	chmod u+w $dir && echo secret >$dir/notes.txt && ln -s /etc/passwd $dir/passwd &&
	test "$(http_code "$(url_of A)/paths-demo@1/notes.txt")" = 404 &&
	test "$(http_code "$(url_of A)/paths-demo@1/passwd")" = 404
'

test_expect_success CURL 'a listed file or folder replaced by a symlink out of the store: 404' '
	dir=$(WEIGHTSYNC_HOME=$TMP/A release_dir paths-demo 1) &&
	mkdir -p $TMP/outside/sub && cp $dir/config.json $TMP/outside/config.json &&
	cp $dir/sub/extra.json $TMP/outside/sub/extra.json &&
	chmod -R u+w $dir && rm $dir/config.json && ln -s $TMP/outside/config.json $dir/config.json &&
	rm -r $dir/sub && ln -s $TMP/outside/sub $dir/sub &&
	test "$(http_code "$(url_of A)/paths-demo@1/config.json")" = 404 &&
	test "$(http_code "$(url_of A)/paths-demo@1/sub/extra.json")" = 404 &&
	test "$(http_code "$(url_of A)/paths-demo@1/tokenizer.json")" = 200
'

# pk_hex HOME - the hex Ed25519 key of HOME's publisher key (as /api/ shows it)
pk_hex() {
	python3 -c 'import base64, sys
print(base64.b64decode(open(sys.argv[1]).read().split("\n")[1])[10:42].hex())' \
		"$TMP/$1/keys/publisher.key.pub"
}

test_expect_success CURL 'one name, two publishers: the trusted one, PKHEX/ to choose, or none' '
	make_model $TMP/other 100000 &&
	publish_on Z $TMP/other paths-demo >/dev/null &&
	WEIGHTSYNC_HOME=$TMP/Z ws export paths-demo@1 -o $TMP/z.tar >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/A ws import $TMP/z.tar --publisher $TMP/Z/keys/publisher.key.pub \
		>/dev/null &&
	curl -sf -o $TMP/got "$(url_of A)/paths-demo@1/tokenizer.json" &&
	cmp $TMP/model/tokenizer.json $TMP/got &&
	curl -sf -o $TMP/got "$(url_of A)/$(pk_hex Z)/paths-demo@1/tokenizer.json" &&
	cmp $TMP/other/tokenizer.json $TMP/got &&
	curl -sf -o $TMP/got "$(url_of A)/$(pk_hex A)/paths-demo@1/tokenizer.json" &&
	cmp $TMP/model/tokenizer.json $TMP/got &&
	WEIGHTSYNC_HOME=$TMP/A ws trust remove paths-demo >/dev/null &&
	wait_for 10 "test \"\$(http_code $(url_of A)/paths-demo@1/tokenizer.json)\" = 404" &&
	test "$(http_code "$(url_of A)/$(pk_hex Z)/paths-demo@1/tokenizer.json")" = 200
'

test_expect_success CURL 'read-only: POST, PUT, DELETE and others get 405 and change nothing' '
	store_state $TMP/A >$TMP/before &&
	for m in POST PUT DELETE PATCH OPTIONS; do
		curl -s -D $TMP/h -o /dev/null -X $m -d "x=1" "$(url_of A)/paths-demo@1/config.json" &&
		tr -d "\r" <$TMP/h | head -1 | grep -q " 405" &&
		test "$(header allow $TMP/h)" = "GET, HEAD" || { echo $m; return 1; }
	done &&
	test "$(http_code -X POST --data-binary @$TMP/model/config.json "$(url_of A)/api/status")" = 405 &&
	store_state $TMP/A >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success CURL 'seed --http: a bad address is a usage error, a busy port an error' '
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws seed --no-dht --http nowhere 2>$TMP/err &&
	grep_q "invalid address .nowhere. for --http" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws seed --no-dht --listen 127.0.0.3:0 \
		--http "${A}:$(url_of A | sed "s/.*://")" 2>$TMP/err &&
	grep_q "cannot listen on .* for HTTP: Address already in use" $TMP/err
'

python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null &&
	test_set_prereq IPV6
test_expect_success CURL,IPV6 'an IPv6 address: --http [::1]:PORT' '
	port=$(python3 -c "import socket; s = socket.socket(socket.AF_INET6); s.bind((\"::1\", 0)); print(s.getsockname()[1])") &&
	start_node B 127.0.0.3 --no-dht --http "[::1]:$port" &&
	test "$(http_code "http://[::1]:$port/api/status")" = 200 &&
	WEIGHTSYNC_HOME=$TMP/B ws status --json >$TMP/s.json &&
	json_check $TMP/s.json "j[\"http\"] == \"[::1]:$port\"" &&
	WEIGHTSYNC_HOME=$TMP/B ws status >$TMP/out && grep_q "^  http       http://\[::1\]:$port/$" $TMP/out
'

test_done
