#!/bin/sh
# The status page in a real headless browser (Debian's chromium): it shows
# the releases the node seeds and a transfer in progress (a followed name
# being mirrored from a slow publisher).
cd "$(dirname "$0")" && . ./test-lib.sh && . ./http-lib.sh

"$(dirname "$0")/../scripts/deps.sh" chromium >/dev/null 2>&1
command -v chromium >/dev/null 2>&1 && test_set_prereq CHROMIUM

make_model "$TMP/model" 4000000
make_model "$TMP/small" 100000
A=127.0.0.2 C=127.0.0.4

# dom URL - the page as chromium renders it (no JavaScript is needed)
dom() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$TMP/chromium" --dump-dom "$1" 2>>"$TMP/chromium.log"
}

transfer_running() {
	curl -sf "$(url_of C)/api/status" | python3 -c 'import json, sys
t = json.load(sys.stdin).get("transfers", [])
sys.exit(0 if t and t[0]["phase"] == "downloading" and 0 < t[0]["done"] < t[0]["total"] else 1)'
}

test_expect_success CURL,CHROMIUM 'C seeds a release and mirrors a followed name from a slow A' '
	free_port $A >$TMP/A.port && free_port $C >$TMP/C.port &&
	publish_on A "$TMP/model" browse-demo >/dev/null &&
	publish_on C "$TMP/small" local-demo >/dev/null &&
	WEIGHTSYNC_HOME=$TMP/C ws trust add browse-demo $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/C ws follow browse-demo >/dev/null &&
	NODE_PORT=$(port_of A) start_node A $A --bootstrap $C:$(port_of C) --upload-limit 100k &&
	NODE_PORT=$(port_of C) start_http_node C $C --bootstrap $A:$(port_of A) \
		--peer $A:$(port_of A) --follow-interval 1 &&
	wait_for 60 transfer_running
'

test_expect_success CURL,CHROMIUM 'chromium shows the releases and the transfer in progress' '
	dom "$(url_of C)/" >$TMP/dom &&
	grep_q "<h1>weightsync node</h1>" $TMP/dom &&
	grep_q ">local-demo@1</a>" $TMP/dom &&
	grep_q "<tr class=\"transfer\"><td>browse-demo</td><td>downloading</td>" $TMP/dom &&
	grep_q "class=\"bar\"><i style=\"width:" $TMP/dom
'

test_expect_success CURL,CHROMIUM 'chromium shows a release folder with its files' '
	dom "$(url_of C)/local-demo@1/" >$TMP/dom &&
	grep_q ">model-00001-of-00002.safetensors</a>" $TMP/dom
'

test_done
