#!/bin/sh
# A release with an HTTP mirror (BEP 19 web seed) is fetched with no peer
# online at all, from a .torrent file and from the mirror alone.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 3000000
W=127.0.0.5 B=127.0.0.6

test_expect_success 'publish with a web seed, serve the release folder over HTTP' '
	port=$(free_port $W) && echo $port >$TMP/http.port &&
	publish_on A "$TMP/model" web-demo --web-seed "http://$W:$port/" >$TMP/link &&
	WEIGHTSYNC_HOME=$TMP/A ws show web-demo --torrent $TMP/web-demo.torrent >$TMP/show &&
	grep_q "link       magnet:" $TMP/show && test -s $TMP/web-demo.torrent &&
	grep -q "url-list" $TMP/web-demo.torrent &&
	dir=$(dirname "$(WEIGHTSYNC_HOME=$TMP/A release_dir web-demo 1)") &&
	start_bg python3 ./http_range.py $W $port "$dir" &&
	echo $BG_PID >$TMP/http.pid &&
	wait_for 10 "python3 -c \"import urllib.request; urllib.request.urlopen(\\\"http://$W:$port/\\\")\""
'

test_expect_success 'fetch from the .torrent with no peer: the web seed serves it all' '
	WEIGHTSYNC_HOME=$TMP/B ws trust add web-demo $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch $TMP/web-demo.torrent --listen $B:0 --no-dht \
		--timeout 20 --json >$TMP/f.json &&
	json_check $TMP/f.json "j[\"ok\"] and j[\"version\"] == 1" &&
	dir=$(python3 -c "import json; print(json.load(open(\"$TMP/f.json\"))[\"path\"])") &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	WEIGHTSYNC_HOME=$TMP/B ws audit web-demo
'

test_expect_success 'a mirror serving a damaged file cannot complete the release' '
	kill $(cat $TMP/http.pid) &&
	mkdir -p $TMP/bad && cp -r "$(WEIGHTSYNC_HOME=$TMP/A release_dir web-demo 1)" $TMP/bad/ &&
	printf X | dd of="$TMP/bad/web-demo@1/model-00001-of-00002.safetensors" bs=1 seek=5000 \
		conv=notrunc 2>/dev/null &&
	start_bg python3 ./http_range.py $W $(cat $TMP/http.port) $TMP/bad &&
	wait_for 10 "python3 -c \"import urllib.request; urllib.request.urlopen(\\\"http://$W:$(cat $TMP/http.port)/\\\")\"" &&
	WEIGHTSYNC_HOME=$TMP/C ws trust add web-demo $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 1 ws fetch $TMP/web-demo.torrent --listen $B:0 \
		--no-dht --timeout 8 2>$TMP/err &&
	grep_q "failed their hash check" $TMP/err &&
	test ! -e $TMP/C/releases
'

test_done
