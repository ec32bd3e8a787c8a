#!/bin/sh
# Curators through a loopback DHT: a newcomer holding only a curator key
# fetches a model by name; a local trust decision wins over the curator;
# two curators who disagree are both named and nothing is picked; a name
# the curator drops keeps its history in `log`; an old curator list
# replayed is refused like any rolled-back release.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 1000000
P=127.0.0.61 C=127.0.0.62 N=127.0.0.63 M=127.0.0.64 C2=127.0.0.65 R=127.0.0.66

boot() { echo "--bootstrap 127.0.0.70:$(port_of D0) --bootstrap 127.0.0.71:$(port_of D1)"; }
pubkey() { tail -1 $TMP/$1/keys/publisher.key.pub; }

test_expect_success 'a three-node DHT; a publisher P and a curator C who names its model' '
	start_dht D 127.0.0.7 3 &&
	publish_on P "$TMP/model" cur-demo >/dev/null &&
	start_node P $P $(boot) &&
	WEIGHTSYNC_HOME=$TMP/C ws keygen --no-password >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/C ws curate add cur-demo $TMP/P/keys/publisher.key.pub >$TMP/out &&
	grep_q "curator list version 1: .cur-demo. means $(pubkey P)" $TMP/out &&
	WEIGHTSYNC_HOME=$TMP/C ws curate list >$TMP/out &&
	grep_q "^cur-demo  *$(pubkey P)$" $TMP/out &&
	start_node C $C $(boot) &&
	wait_for 20 "grep -q \"put 2 signed name pointers\" $TMP/C.log" &&
	wait_for 20 "grep -q \"put 2 signed name pointers\" $TMP/P.log"
'

test_expect_success 'a newcomer with only the curator key fetches the model by name' '
	WEIGHTSYNC_HOME=$TMP/N ws trust subscribe $TMP/C/keys/publisher.key.pub >$TMP/out &&
	grep_q "subscribed to curator $(pubkey C)" $TMP/out &&
	WEIGHTSYNC_HOME=$TMP/N ws trust list >$TMP/out && grep_q "(curator) *$(pubkey C)" $TMP/out &&
	WEIGHTSYNC_HOME=$TMP/N ws fetch cur-demo $(boot) --listen $N:0 --timeout 30 \
		--json >$TMP/n.json 2>$TMP/err &&
	grep_q "cur-demo. is $(pubkey P), as curator $(pubkey C) says (list version 1)" $TMP/err &&
	json_check $TMP/n.json "j[\"ok\"] and j[\"version\"] == 1" &&
	dir=$(python3 -c "import json; print(json.load(open(\"$TMP/n.json\"))[\"path\"])") &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	WEIGHTSYNC_HOME=$TMP/N ws log cur-demo >$TMP/log &&
	grep_q "curated .*curator $(pubkey C) (list version 1) maps it to $(pubkey P)" $TMP/log &&
	rm -rf $TMP/R && cp -a $TMP/N $TMP/R
'

test_expect_success 'a local trust decision wins over the curator' '
	make_model "$TMP/other" 500000 && echo "{\"other\": 1}" >$TMP/other/config.json &&
	WEIGHTSYNC_HOME=$TMP/M ws keygen --no-password >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/M ws publish $TMP/other --name cur-demo --json >$TMP/m.json &&
	start_node M $M $(boot) &&
	wait_for 20 "grep -q \"put 2 signed name pointers\" $TMP/M.log" &&
	WEIGHTSYNC_HOME=$TMP/L ws trust subscribe $TMP/C/keys/publisher.key.pub >/dev/null &&
	WEIGHTSYNC_HOME=$TMP/L ws trust add cur-demo $TMP/M/keys/publisher.key.pub >/dev/null &&
	mh=$(python3 -c "import json; print(json.load(open(\"$TMP/m.json\"))[\"manifest_sha256\"])") &&
	wait_for 30 "WEIGHTSYNC_HOME=$TMP/L ws resolve cur-demo $(boot) --listen 127.0.0.67:0 \
		--timeout 5 --json >$TMP/l.json 2>$TMP/err" &&
	json_check $TMP/l.json "j[\"manifest_sha256\"] == \"$mh\"" &&
	! grep -q "as curator" $TMP/err
'

test_expect_success 'two curators who disagree: exit 1, both named, nothing picked' '
	WEIGHTSYNC_HOME=$TMP/C2 ws keygen --no-password >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/C2 ws curate add cur-demo $TMP/M/keys/publisher.key.pub >/dev/null &&
	start_node C2 $C2 $(boot) &&
	wait_for 20 "grep -q \"put 2 signed name pointers\" $TMP/C2.log" &&
	wait_for 40 "WEIGHTSYNC_HOME=$TMP/N ws trust subscribe $TMP/C2/keys/publisher.key.pub \
		$(boot) --listen $N:0 | grep -q \"curator list version 1: 1 names\"" &&
	WEIGHTSYNC_HOME=$TMP/N test_must_fail 1 ws fetch cur-demo $(boot) --listen $N:0 \
		--timeout 20 2>$TMP/err &&
	grep_q "curators disagree on .cur-demo." $TMP/err && grep_q "publisher KEY" $TMP/err &&
	grep_q "curator $(pubkey C) (list version 1) says $(pubkey P)" $TMP/err &&
	grep_q "curator $(pubkey C2) (list version 1) says $(pubkey M)" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/N ws fetch cur-demo --publisher $TMP/P/keys/publisher.key.pub \
		$(boot) --listen $N:0 --timeout 20 >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/N ws trust unsubscribe $TMP/C2/keys/publisher.key.pub >$TMP/out &&
	grep_q "unsubscribed from curator $(pubkey C2)" $TMP/out &&
	stop_node C2
'

test_expect_success 'a name the curator drops no longer resolves; its history stays in log' '
	WEIGHTSYNC_HOME=$TMP/C ws curate remove cur-demo >$TMP/out &&
	grep_q "curator list version 2: .cur-demo. dropped" $TMP/out &&
	wait_for 20 "grep -q \"put 3 signed name pointers\" $TMP/C.log" &&
	wait_for 40 "WEIGHTSYNC_HOME=$TMP/N ws curate list $(pubkey C) | grep -q \"version 2\" ||
		{ WEIGHTSYNC_HOME=$TMP/N ws resolve cur-demo $(boot) --listen $N:0 --timeout 5 2>&1; false; }" &&
	WEIGHTSYNC_HOME=$TMP/N test_must_fail 2 ws resolve cur-demo $(boot) --listen $N:0 \
		--timeout 5 2>$TMP/err &&
	grep_q "unknown name .cur-demo." $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/N ws log cur-demo >$TMP/log &&
	grep_q "curated .*(list version 1) maps it to $(pubkey P)" $TMP/log &&
	grep_q "uncurated .*(list version 2) no longer maps it to $(pubkey P)" $TMP/log
'

test_expect_success 'an old curator list replayed is refused like any rolled-back release' '
	# R holds only version 1 of the list; its node, in a DHT of its own,
	# replays that version pointer
	start_dht X 127.0.0.8 3 &&
	start_node R $R --bootstrap 127.0.0.80:$(port_of X0) &&
	wait_for 20 "grep -q \"signed name pointers\" $TMP/R.log" && sleep 1 &&
	wait_for 40 "! WEIGHTSYNC_HOME=$TMP/N ws trust subscribe $TMP/C/keys/publisher.key.pub \
		--bootstrap 127.0.0.80:$(port_of X0) --listen $N:0 >/dev/null 2>$TMP/err &&
		grep -q \"already known here\" $TMP/err" &&
	WEIGHTSYNC_HOME=$TMP/N test_must_fail 1 ws trust subscribe \
		$TMP/C/keys/publisher.key.pub --bootstrap 127.0.0.80:$(port_of X0) \
		--listen $N:0 >$TMP/out 2>$TMP/err &&
	grep_q "list of curator $(pubkey C) was not refreshed" $TMP/err &&
	grep_q "version 1, but version 2 is already known here" $TMP/err &&
	grep_q "curator list version 2: 0 names" $TMP/out &&
	WEIGHTSYNC_HOME=$TMP/N ws curate list $(pubkey C) >$TMP/out &&
	grep_q "curator list version 2, 0 names" $TMP/out
'

test_done
