#!/bin/sh
# A manifest by an untrusted key, and a torrent whose files disagree with
# its signed manifest, are refused before any model data flows.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 8000000
A=127.0.0.2 M=127.0.0.3 B=127.0.0.4 X=127.0.0.7

test_expect_success 'A publishes and seeds; M, another key, publishes the same name' '
	publish_on A "$TMP/model" refuse-demo >$TMP/link &&
	publish_on M "$TMP/model" refuse-demo >$TMP/mlink &&
	start_node A $A --no-dht && start_node M $M --no-dht &&
	wait_for 10 "node_seeds A refuse-demo@1" && wait_for 10 "node_seeds M refuse-demo@1" &&
	WEIGHTSYNC_HOME=$TMP/B ws trust add refuse-demo $TMP/A/keys/publisher.key.pub
'

# refused_before_data CODE MESSAGE FETCH-ARGS... - the fetch exits CODE with
# MESSAGE, received less than 1 MiB (the manifest's pieces at most), and B
# has no release and no partial data left.
refused_before_data() {
	rb_code=$1 rb_msg=$2; shift 2
	WEIGHTSYNC_HOME=$TMP/B test_must_fail $rb_code ws fetch "$@" --listen $B:0 --no-dht \
		--timeout 15 --json >$TMP/r.json 2>$TMP/err &&
	grep_q "$rb_msg" $TMP/err &&
	json_check $TMP/r.json "not j[\"ok\"] and j[\"downloaded\"] < 1048576" &&
	test ! -e $TMP/B/releases && test -z "$(ls $TMP/B/tmp 2>/dev/null)"
}

test_expect_success 'a release signed by a key not trusted for the name is refused' '
	refused_before_data 1 "is not trusted for .refuse-demo." \
		"$(cat $TMP/mlink)" --peer $M:$(port_of M)
'

test_expect_success '--publisher naming another key than the link is refused' '
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 1 ws fetch "$(cat $TMP/link)" \
		--publisher $TMP/M/keys/publisher.key.pub --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 15 2>$TMP/err &&
	grep_q "another publisher than --publisher" $TMP/err &&
	test ! -e $TMP/B/releases
'

test_expect_success 'a link whose manifest hash does not match is refused' '
	sed "s/x.mh=[0-9a-f]*/x.mh=$(printf %064d 0)/" $TMP/link >$TMP/badlink &&
	refused_before_data 1 "not the one the link names" "$(cat $TMP/badlink)" --peer $A:$(port_of A)
'

test_expect_success PYLT 'a torrent with a file the manifest does not list is refused' '
	dir="$(WEIGHTSYNC_HOME=$TMP/A release_dir refuse-demo 1)" &&
	mkdir -p $TMP/X && cp -r "$dir" $TMP/X/ &&
	head -c 3000000 /dev/urandom >"$TMP/X/refuse-demo@1/extra.bin" &&
	port=$(free_port $X) &&
	start_bg /usr/bin/python3 ./forge_seed.py "$TMP/X" "refuse-demo@1" $X $port $TMP/X.torrent 120 &&
	wait_for 20 "test -s $TMP/X.torrent" &&
	refused_before_data 1 "a file the manifest does not list: .extra.bin." \
		$TMP/X.torrent --peer $X:$port
'

test_expect_success PYLT 'a torrent whose file differs in size from the manifest is refused' '
	rm -f "$TMP/X/refuse-demo@1/extra.bin" $TMP/X.torrent &&
	head -c 100 /dev/urandom >>"$TMP/X/refuse-demo@1/config.json" &&
	port=$(free_port $X) &&
	start_bg /usr/bin/python3 ./forge_seed.py "$TMP/X" "refuse-demo@1" $X $port $TMP/X.torrent 120 &&
	wait_for 20 "test -s $TMP/X.torrent" &&
	refused_before_data 1 "differs from the manifest" $TMP/X.torrent --peer $X:$port
'

test_expect_success PYLT 'a malformed signature file: exit 1 from fetch and from import alike' '
	rm -rf $TMP/X $TMP/X.torrent && mkdir -p $TMP/X &&
	cp -r "$(WEIGHTSYNC_HOME=$TMP/A release_dir refuse-demo 1)" $TMP/X/ &&
	echo "not a minisign signature" >"$TMP/X/refuse-demo@1/.weightsync/manifest.json.minisig" &&
	port=$(free_port $X) &&
	start_bg /usr/bin/python3 ./forge_seed.py "$TMP/X" "refuse-demo@1" $X $port $TMP/X.torrent 120 &&
	wait_for 20 "test -s $TMP/X.torrent" &&
	refused_before_data 1 "manifest is refused" $TMP/X.torrent --peer $X:$port &&
	# a bundle starts with the manifest and its signature (docs/bundles)
	(cd $TMP/X && tar -cf $TMP/X.tar "refuse-demo@1/.weightsync/manifest.json" \
		"refuse-demo@1/.weightsync/manifest.json.minisig" \
		$(find "refuse-demo@1" -type f ! -path "*/.weightsync/*")) &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 1 ws import $TMP/X.tar 2>$TMP/err &&
	grep_q "manifest is refused" $TMP/err
'

test_done
