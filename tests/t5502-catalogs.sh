#!/bin/sh
# Publishers' catalogs through a loopback DHT: `catalog KEY` lists what a
# publisher published, `search TEXT` finds it; an old catalog replayed and
# a forged one (changed on disk, changed in a bundle) are refused.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/alpha" 300000
make_model "$TMP/beta" 200000 && echo '{"beta": 1}' >$TMP/beta/config.json
make_model "$TMP/gamma" 100000 && echo '{"gamma": 1}' >$TMP/gamma/config.json
P=127.0.0.93 N=127.0.0.94 R=127.0.0.95

boot() { echo "--bootstrap 127.0.0.90:$(port_of D0) --bootstrap 127.0.0.91:$(port_of D1)"; }
pubkey() { tail -1 $TMP/$1/keys/publisher.key.pub; }

test_expect_success 'a publisher lists two releases in its signed catalog' '
	start_dht D 127.0.0.9 3 &&
	publish_on P "$TMP/alpha" cat-alpha --license mit --origin hf://demo/alpha@1 \
		--description "a tiny test llama" >/dev/null 2>$TMP/err &&
	grep_q "catalog version 1 lists .cat-alpha." $TMP/err &&
	publish_on P "$TMP/beta" cat-beta --description "a small coder model" >/dev/null 2>$TMP/err &&
	grep_q "catalog version 2 lists .cat-beta." $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/P ws catalog $TMP/P/keys/publisher.key.pub >$TMP/out &&
	grep_q "catalog of $(pubkey P), version 2: 2 releases" $TMP/out &&
	grep_q "^cat-alpha@1 .* mit .*a tiny test llama$" $TMP/out &&
	grep_q "^cat-beta@1 .*a small coder model$" $TMP/out &&
	start_node P $P $(boot) &&
	wait_for 60 "grep -q \"put 7 signed name pointers\" $TMP/P.log"
'

test_expect_success 'a newcomer lists the catalog through the DHT, then searches it' '
	WEIGHTSYNC_HOME=$TMP/N ws catalog $(pubkey P) $(boot) --listen $N:0 --json >$TMP/c.json &&
	json_check $TMP/c.json "j[\"catalog_version\"] == 2 and [e[\"name\"] for e in j[\"releases\"]] == [\"cat-alpha\", \"cat-beta\"] and j[\"releases\"][0][\"origin\"] == \"hf://demo/alpha@1\" and j[\"releases\"][0][\"bytes\"] > 400000" &&
	WEIGHTSYNC_HOME=$TMP/N ws search LLAMA >$TMP/out &&
	grep_q "^cat-alpha@1 .*$(pubkey P)  a tiny test llama$" $TMP/out &&
	! grep -q cat-beta $TMP/out &&
	WEIGHTSYNC_HOME=$TMP/N ws search coder --json >$TMP/s.json &&
	json_check $TMP/s.json "[e[\"name\"] for e in j] == [\"cat-beta\"] and j[0][\"publisher\"] == \"$(pubkey P)\"" &&
	WEIGHTSYNC_HOME=$TMP/N ws search no-such-thing >$TMP/out 2>$TMP/err &&
	test ! -s $TMP/out && grep_q "no release in the catalogs of 1 publishers matches" $TMP/err &&
	rm -rf $TMP/R && cp -a $TMP/N $TMP/R
'

test_expect_success 'a new release reaches the catalog; an old catalog replayed is refused' '
	WEIGHTSYNC_HOME=$TMP/P ws publish $TMP/gamma --name cat-gamma --description "third one" \
		>/dev/null 2>&1 &&
	wait_for 60 "grep -q \"put 10 signed name pointers\" $TMP/P.log" &&
	wait_for 60 "WEIGHTSYNC_HOME=$TMP/N ws search third $(boot) --listen $N:0 | grep -q cat-gamma@1" &&
	start_dht X 127.0.0.10 3 &&
	start_node R $R --bootstrap 127.0.0.100:$(port_of X0) &&
	wait_for 60 "grep -q \"signed name pointers\" $TMP/R.log" && sleep 1 &&
	wait_for 60 "! WEIGHTSYNC_HOME=$TMP/N ws catalog $(pubkey P) --bootstrap 127.0.0.100:$(port_of X0) \
		--listen $N:0 --timeout 15 >/dev/null 2>$TMP/err &&
		grep -q \"version 2, but version 3 is already known here\" $TMP/err" &&
	WEIGHTSYNC_HOME=$TMP/N test_must_fail 1 ws catalog $(pubkey P) \
		--bootstrap 127.0.0.100:$(port_of X0) --listen $N:0 --timeout 15 2>$TMP/err &&
	grep_q "version 2, but version 3 is already known here" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/N test_must_fail 1 ws search third \
		--bootstrap 127.0.0.100:$(port_of X0) --listen $N:0 >$TMP/out 2>$TMP/err &&
	grep_q "the catalog of $(pubkey P) was refused" $TMP/err &&
	grep_q "^cat-gamma@1 " $TMP/out
'

test_expect_success 'a catalog changed on disk or in a bundle is refused' '
	WEIGHTSYNC_HOME=$TMP/P ws export catalog -o $TMP/cat.tar &&
	python3 - $TMP/cat.tar $TMP/forged.tar <<-\EOF_PY &&
	import io, sys, tarfile
	src, dst = tarfile.open(sys.argv[1]), tarfile.open(sys.argv[2], "w")
	for m in src.getmembers():
	    data = src.extractfile(m).read() if m.isfile() else None
	    if m.name.endswith("catalog.json"):
	        data = data.replace(b"third one", b"trust me!")
	        m.size = len(data)
	    dst.addfile(m, io.BytesIO(data) if data is not None else None)
	dst.close()
	EOF_PY
	WEIGHTSYNC_HOME=$TMP/F test_must_fail 1 ws import $TMP/forged.tar \
		--publisher $TMP/P/keys/publisher.key.pub 2>$TMP/err &&
	grep_q "catalog.json" $TMP/err && test ! -e $TMP/F/releases &&
	dir=$(WEIGHTSYNC_HOME=$TMP/N ws show catalog --json | python3 -c "import json, sys; print(json.load(sys.stdin)[\"path\"])") &&
	chmod u+w $dir/catalog.json &&
	python3 -c "import sys; p = sys.argv[1]; d = open(p, \"rb\").read(); open(p, \"r+b\").write(d.replace(b\"third one\", b\"trust me!\"))" $dir/catalog.json &&
	WEIGHTSYNC_HOME=$TMP/N test_must_fail 1 ws catalog $(pubkey P) 2>$TMP/err &&
	grep_q "catalog.json. of .catalog@3. is not the signed file" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/N ws search trust >$TMP/out 2>$TMP/err &&
	! grep -q "trust me" $TMP/out && grep_q "cannot be read" $TMP/err
'

test_done
