#!/bin/sh
# Curator lists and catalogs, offline: curate add/remove/list, trust
# subscribe, names resolved through curator lists carried in bundles
# (agreeing, disagreeing, overridden by local trust, dropped but kept in
# the log), publish --description and the catalog, search, and a catalog
# or curator list changed on disk refused.
cd "$(dirname "$0")" && . ./test-lib.sh

wsh() { h=$1; shift; WEIGHTSYNC_HOME=$TMP/$h "$WS_BIN" "$@"; }
pubkey() { tail -1 $TMP/$1/keys/publisher.key.pub; }
# export_list HOME NAME FILE - the home's newest NAME release as a bundle
export_list() { wsh $1 export $2 -o $3 >/dev/null; }

test_expect_success 'setup: keys of a publisher P, a publisher Q and curators C, C2' '
	for h in P Q C C2; do wsh $h keygen --no-password >/dev/null 2>&1 || return 1; done &&
	make_model $TMP/model 100000
'

test_expect_success 'curate add publishes the next list version; the same again changes nothing' '
	wsh C curate add llama $TMP/P/keys/publisher.key.pub >$TMP/out &&
	grep_q "^curator list version 1: .llama. means $(pubkey P)$" $TMP/out &&
	wsh C curate add llama "$(pubkey P)" >$TMP/out &&
	grep_q "already maps .llama. to $(pubkey P)" $TMP/out &&
	wsh C curate add qwen $TMP/Q/keys/publisher.key.pub >/dev/null &&
	wsh C curate list >$TMP/out &&
	grep_q "^curator list version 2, 2 names$" $TMP/out &&
	grep_q "^llama  *$(pubkey P)$" $TMP/out && grep_q "^qwen  *$(pubkey Q)$" $TMP/out &&
	wsh C curate list --json >$TMP/j &&
	json_check $TMP/j "j[\"version\"] == 2 and j[\"names\"] == {\"llama\": \"$(pubkey P)\", \"qwen\": \"$(pubkey Q)\"}" &&
	wsh C list >$TMP/out && grep_q "^curator@2 .*complete" $TMP/out &&
	wsh C trust list >$TMP/out && test ! -s $TMP/out
'

test_expect_success 'curate refuses bad names, keys and removals; nothing is published' '
	wsh C list --json >$TMP/before &&
	test_must_fail 2 wsh C curate add "../x" "$(pubkey P)" 2>$TMP/err &&
	grep_q "invalid release name" $TMP/err &&
	test_must_fail 2 wsh C curate add llama not-a-key 2>$TMP/err &&
	test_must_fail 2 wsh C curate remove nothing-here 2>$TMP/err &&
	grep_q ".nothing-here. is not in the curator list" $TMP/err &&
	test_must_fail 2 wsh C curate frobnicate 2>$TMP/err &&
	test_must_fail 2 wsh C curate add catalog "$(pubkey P)" 2>$TMP/err &&
	grep_q ".catalog. is a reserved name" $TMP/err &&
	test_must_fail 2 wsh P publish $TMP/model --name curator 2>$TMP/err &&
	grep_q ".curator. is a reserved name" $TMP/err &&
	wsh C list --json >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'trust subscribe, list and unsubscribe (recorded)' '
	wsh N trust subscribe $TMP/C/keys/publisher.key.pub >$TMP/out &&
	grep_q "^subscribed to curator $(pubkey C)$" $TMP/out &&
	wsh N trust subscribe "$(pubkey C)" >$TMP/out && grep_q "already subscribed" $TMP/out &&
	wsh N trust list >$TMP/out && grep_q "^(curator)  *$(pubkey C)  added " $TMP/out &&
	wsh N trust list --json >$TMP/j && json_check $TMP/j "j[0][\"curator\"] is True" &&
	wsh N trust subscribe $TMP/C2/keys/publisher.key.pub >/dev/null &&
	wsh N trust unsubscribe $TMP/C2/keys/publisher.key.pub >$TMP/out &&
	grep_q "unsubscribed from curator $(pubkey C2)" $TMP/out &&
	wsh N trust list >$TMP/out && grep_q "(curator)  *$(pubkey C2)  added .*, removed " $TMP/out &&
	test_must_fail 2 wsh N trust unsubscribe $TMP/C2/keys/publisher.key.pub 2>$TMP/err &&
	grep_q "not subscribed to curator" $TMP/err
'

test_expect_success 'a name resolves through a subscribed curator list (from a bundle)' '
	export_list C curator $TMP/c2.tar &&
	test_must_fail 1 wsh U import $TMP/c2.tar 2>/dev/null &&
	wsh N import $TMP/c2.tar >/dev/null &&
	test_must_fail 2 wsh N fetch llama --no-dht 2>$TMP/err &&
	grep_q ".llama. is $(pubkey P), as curator $(pubkey C) says (list version 2)" $TMP/err &&
	grep_q "fetching by name needs the DHT" $TMP/err &&
	wsh N log llama >$TMP/log &&
	grep_q "curated .*curator $(pubkey C) (list version 2) maps it to $(pubkey P)" $TMP/log &&
	test_must_fail 2 wsh N fetch mistral --no-dht 2>$TMP/err &&
	grep_q "unknown name .mistral.: no publisher key is trusted for it and none of the 1 curators" $TMP/err
'

test_expect_success 'local trust wins over the curator' '
	wsh N trust add llama $TMP/Q/keys/publisher.key.pub >/dev/null &&
	test_must_fail 2 wsh N fetch llama --no-dht 2>$TMP/err &&
	! grep -q "as curator" $TMP/err &&
	wsh N trust remove llama >/dev/null
'

test_expect_success 'two curators who disagree: exit 1, both named' '
	wsh C2 curate add llama $TMP/Q/keys/publisher.key.pub >/dev/null &&
	export_list C2 curator $TMP/c2b.tar &&
	wsh N trust subscribe $TMP/C2/keys/publisher.key.pub >/dev/null &&
	wsh N import $TMP/c2b.tar >/dev/null &&
	test_must_fail 1 wsh N fetch llama --no-dht 2>$TMP/err &&
	grep_q "curators disagree on .llama.; decide with --publisher KEY" $TMP/err &&
	grep_q "curator $(pubkey C) (list version 2) says $(pubkey P)" $TMP/err &&
	grep_q "curator $(pubkey C2) (list version 1) says $(pubkey Q)" $TMP/err &&
	test_must_fail 2 wsh N fetch llama --no-dht --publisher $TMP/P/keys/publisher.key.pub 2>$TMP/err &&
	grep_q "needs the DHT" $TMP/err &&
	wsh N trust unsubscribe $TMP/C2/keys/publisher.key.pub >/dev/null
'

test_expect_success 'a dropped name stops resolving; log keeps the old mapping' '
	wsh C curate remove llama >$TMP/out &&
	grep_q "^curator list version 3: .llama. dropped$" $TMP/out &&
	export_list C curator $TMP/c3.tar && wsh N import $TMP/c3.tar >/dev/null &&
	test_must_fail 2 wsh N fetch llama --no-dht 2>$TMP/err &&
	grep_q "unknown name .llama." $TMP/err &&
	wsh N log llama >$TMP/log &&
	grep_q "curated .*(list version 2) maps it to $(pubkey P)" $TMP/log &&
	grep_q "uncurated .*(list version 3) no longer maps it to $(pubkey P)" $TMP/log
'

test_expect_success 'an old curator list is refused like any rolled-back release' '
	wsh C export curator@1 -o $TMP/c1.tar >/dev/null &&
	wsh N2 trust subscribe $TMP/C/keys/publisher.key.pub >/dev/null &&
	wsh N2 import $TMP/c3.tar >/dev/null &&
	test_must_fail 1 wsh N2 import $TMP/c1.tar 2>$TMP/err &&
	grep_q "rollback" $TMP/err &&
	wsh N2 curate list $(pubkey C) >$TMP/out && grep_q "version 3, 1 names" $TMP/out
'

test_expect_success 'a curator list changed on disk is not believed' '
	dir=$(wsh N show curator --publisher $TMP/C/keys/publisher.key.pub --json 2>/dev/null |
		python3 -c "import json, sys; print(json.load(sys.stdin)[\"path\"])" ||
	      ls -d $TMP/N/releases/*/curator@3) &&
	chmod u+w $dir/names.json &&
	python3 -c "import sys; p = sys.argv[1]; d = open(p, \"rb\").read(); open(p, \"r+b\").write(d.replace(b\"qwen\", b\"qwem\"))" $dir/names.json &&
	test_must_fail 1 wsh N curate list $(pubkey C) 2>$TMP/err &&
	grep_q "names.json. of .curator@3. is not the signed file" $TMP/err
'

test_expect_success 'publish --description lists the release in the signed catalog' '
	wsh P publish $TMP/model --name cat-one --license mit --description "a tiny llama" \
		>/dev/null 2>$TMP/err &&
	grep_q "catalog version 1 lists .cat-one." $TMP/err &&
	wsh P publish $TMP/model --name cat-two --catalog >/dev/null 2>$TMP/err &&
	grep_q "catalog version 2 lists .cat-two." $TMP/err &&
	wsh P publish $TMP/model --name cat-three >/dev/null 2>$TMP/err &&
	! grep -q "catalog version" $TMP/err &&
	wsh P catalog $TMP/P/keys/publisher.key.pub >$TMP/out &&
	grep_q "^catalog of $(pubkey P), version 2: 2 releases$" $TMP/out &&
	grep_q "^cat-one@1 .* mit .*a tiny llama$" $TMP/out &&
	grep_q "^cat-two@1 " $TMP/out &&
	test_must_fail 2 wsh P publish $TMP/model --name cat-four \
		--description "$(printf "two\nlines")" 2>$TMP/err &&
	grep_q "a description is one printable line" $TMP/err &&
	test_must_fail 2 wsh N catalog $TMP/P/keys/publisher.key.pub 2>$TMP/err &&
	grep_q "no catalog of $(pubkey P) in this store" $TMP/err
'

test_expect_success 'search looks through the catalogs of the keys a node knows' '
	export_list P catalog $TMP/cat.tar &&
	wsh S trust add anything $TMP/P/keys/publisher.key.pub >/dev/null &&
	wsh S import $TMP/cat.tar --publisher $TMP/P/keys/publisher.key.pub >/dev/null &&
	wsh S search LLAMA >$TMP/out &&
	grep_q "^cat-one@1 .*$(pubkey P)  a tiny llama$" $TMP/out &&
	! grep -q cat-two $TMP/out &&
	wsh S search "" --json >$TMP/j &&
	json_check $TMP/j "sorted(e[\"name\"] for e in j) == [\"cat-one\", \"cat-two\"]" &&
	wsh S search nothing-like-it >$TMP/out 2>$TMP/err && test ! -s $TMP/out &&
	grep_q "no release in the catalogs of 1 publishers matches .nothing-like-it." $TMP/err &&
	test_must_fail 2 wsh S search 2>/dev/null &&
	test_must_fail 2 wsh S search a b 2>/dev/null
'

test_done
