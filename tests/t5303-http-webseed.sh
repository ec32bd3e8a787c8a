#!/bin/sh
# A weightsync node's HTTP server is a BEP 19 web seed: a release published
# with --web-seed http://NODE:PORT/ is fetched with no BitTorrent peer at
# all, from that node's HTTP alone, names needing escapes included.
cd "$(dirname "$0")" && . ./test-lib.sh && . ./http-lib.sh

make_model "$TMP/model" 3000000
mkdir -p "$TMP/model/sub dir" &&
	printf '{"odd": "name"}\n' >"$TMP/model/sub dir/tok +%é#1.json"
A=127.0.0.2 B=127.0.0.3

test_expect_success CURL 'publish with the node as web seed and serve it over HTTP' '
	port=$(free_port $A) &&
	publish_on A "$TMP/model" seed-demo --web-seed "http://$A:$port/" >/dev/null &&
	WEIGHTSYNC_HOME=$TMP/A ws show seed-demo --torrent $TMP/seed-demo.torrent >/dev/null &&
	grep -q "url-list" $TMP/seed-demo.torrent &&
	start_node A $A --no-dht --http $A:$port
'

test_expect_success CURL 'a fetch with no peer and no DHT completes from the node over HTTP' '
	WEIGHTSYNC_HOME=$TMP/B ws trust add seed-demo $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch $TMP/seed-demo.torrent --listen $B:0 --no-dht \
		--timeout 30 --json >$TMP/f.json &&
	json_check $TMP/f.json "j[\"ok\"] and j[\"version\"] == 1 and j[\"downloaded\"] > 4000000" &&
	dir=$(python3 -c "import json; print(json.load(open(\"$TMP/f.json\"))[\"path\"])") &&
	(cd $TMP/model && find . -type f) >$TMP/files &&
	while read -r f; do cmp "$TMP/model/$f" "$dir/$f" || exit 1; done <$TMP/files &&
	WEIGHTSYNC_HOME=$TMP/B ws audit seed-demo
'

test_expect_success CURL 'the BitTorrent side of the node sent nothing: it all came over HTTP' '
	WEIGHTSYNC_HOME=$TMP/A ws status --json >$TMP/s.json &&
	json_check $TMP/s.json "j[\"bytes_up\"] == 0"
'

test_done
