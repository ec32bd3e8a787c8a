#!/bin/sh
# trust: which publisher key a name means; ambiguity, removal, the log.
cd "$(dirname "$0")" && . ./test-lib.sh

KEY=$WEIGHTSYNC_HOME/keys/publisher.key

test_expect_success 'setup: two keys and a model' '
	ws keygen --no-password >$TMP/k1 2>/dev/null &&
	ws keygen --no-password -o $TMP/k2.key >$TMP/k2 2>/dev/null &&
	! test_cmp $TMP/k1 $TMP/k2 >/dev/null &&
	make_model $TMP/model
'

test_expect_success 'trust add NAME PUBKEY (base64)' '
	ws trust add alpha "$(cat $TMP/k1)" >$TMP/out &&
	grep_q "^trusted $(cat $TMP/k1) for .alpha.$" $TMP/out &&
	ws trust list >$TMP/out &&
	grep_q "^alpha  *$(cat $TMP/k1)  added " $TMP/out &&
	ws trust list --json >$TMP/j &&
	json_check $TMP/j "j == [dict(name=\"alpha\", publisher=\"$(cat $TMP/k1)\", added=j[0][\"added\"], removed=None)]"
'

test_expect_success 'trust add NAME PUBFILE' '
	ws trust add beta $TMP/k2.key.pub >$TMP/out &&
	grep_q "^trusted $(cat $TMP/k2) for .beta.$" $TMP/out &&
	ws trust list >$TMP/out && grep_q "^beta  *$(cat $TMP/k2)  added " $TMP/out
'

test_expect_success 'trusting the same key again changes nothing' '
	store_state >$TMP/before &&
	ws trust add alpha $KEY.pub >$TMP/out &&
	grep_q "already trusts $(cat $TMP/k1)" $TMP/out &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'trust add refuses bad keys and names' '
	store_state >$TMP/before &&
	test_must_fail 2 ws trust add alpha not-a-key 2>$TMP/err &&
	grep_q "neither a minisign public key nor a readable file" $TMP/err &&
	test_must_fail 2 ws trust add alpha $TMP/model/config.json 2>$TMP/err &&
	grep_q "is not a minisign public key" $TMP/err &&
	test_must_fail 2 ws trust add Alpha "$(cat $TMP/k1)" 2>$TMP/err &&
	grep_q "invalid release name .Alpha." $TMP/err &&
	test_must_fail 2 ws trust add alpha 2>$TMP/err &&
	grep_q "usage: weightsync trust add NAME" $TMP/err &&
	test_must_fail 2 ws trust frobnicate 2>$TMP/err &&
	grep_q "unknown subcommand .frobnicate." $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'publish under a name trusted with another key is refused' '
	store_state >$TMP/before &&
	test_must_fail 2 ws publish $TMP/model --name beta >$TMP/out 2>$TMP/err &&
	grep_q ".beta. is trusted with another publisher key here" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'publish under the trusted key works' '
	ws publish $TMP/model --name alpha >$TMP/out &&
	grep_q "^published alpha@1$" $TMP/out &&
	ws audit alpha >$TMP/out && grep_q "6 files: 6 ok" $TMP/out &&
	release_dir alpha 1 >$TMP/alpha.dir
'

test_expect_success 'a second key makes the name ambiguous' '
	ws trust add alpha "$(cat $TMP/k2)" >$TMP/out 2>$TMP/err &&
	grep_q "now trusted with two keys and is ambiguous until one is removed" $TMP/err &&
	ws trust list >$TMP/out && test $(grep -c "^alpha " $TMP/out) = 2
'

test_expect_success 'audit NAME and show NAME of an ambiguous name say how to fix it' '
	store_state >$TMP/before &&
	test_must_fail 2 ws audit alpha >$TMP/out 2>$TMP/err &&
	grep_q "trusted with several publisher keys; remove all but one with .weightsync trust remove alpha KEY." $TMP/err &&
	test_must_fail 2 ws show alpha >$TMP/out 2>$TMP/err &&
	grep_q "trusted with several publisher keys" $TMP/err &&
	test_must_fail 2 ws audit $TMP/model --release alpha@1 2>$TMP/err &&
	grep_q "weightsync trust remove alpha" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'audit DIR of an ambiguous name still checks the folder' '
	ws audit "$(cat $TMP/alpha.dir)" >$TMP/out 2>$TMP/err &&
	grep_q "6 files: 6 ok" $TMP/out
'

test_expect_success 'trust remove NAME KEY records the removal' '
	ws trust remove alpha $TMP/k2.key.pub >$TMP/out &&
	grep_q "no longer trusted (the removal is recorded)" $TMP/out &&
	ws trust list >$TMP/out &&
	grep_q "^alpha  *$(cat $TMP/k2)  added .*, removed " $TMP/out &&
	grep_q "^alpha  *$(cat $TMP/k1)  added [^,]*$" $TMP/out &&
	ws trust list --json >$TMP/j &&
	json_check $TMP/j "[e[\"removed\"] is None for e in j if e[\"name\"] == \"alpha\" and e[\"publisher\"] == \"$(cat $TMP/k2)\"] == [False]" &&
	ws audit alpha >$TMP/out && grep_q "6 files: 6 ok" $TMP/out &&
	ws show alpha >$TMP/out && grep_q "^alpha@1$" $TMP/out
'

test_expect_success 'removing a key that is not in force fails' '
	store_state >$TMP/before &&
	test_must_fail 2 ws trust remove alpha $TMP/k2.key.pub 2>$TMP/err &&
	grep_q ".alpha. has no trusted key like that" $TMP/err &&
	test_must_fail 2 ws trust remove gamma 2>$TMP/err &&
	grep_q ".gamma. has no trusted key$" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'log NAME shows the trust events' '
	ws log alpha >$TMP/out &&
	grep_q "^  1  " $TMP/out &&
	test $(grep -c " trust-add " $TMP/out) = 2 &&
	test $(grep -c " trust-remove " $TMP/out) = 1 &&
	grep_q " accepted  *v1 " $TMP/out &&
	ws log alpha --json >$TMP/j &&
	json_check $TMP/j "[e[\"event\"] for e in j[\"events\"] if e[\"event\"].startswith(\"trust\")] == [\"trust-add\", \"trust-add\", \"trust-remove\"]"
'

test_expect_success 'log of a name known only from trust' '
	ws log beta --json >$TMP/j &&
	json_check $TMP/j "j[\"versions\"] == [] and [e[\"event\"] for e in j[\"events\"]] == [\"trust-add\"]" &&
	test_must_fail 2 ws log nosuch 2>$TMP/err &&
	grep_q "no history of .nosuch. in this store" $TMP/err
'

test_expect_success 'with every key removed, the publisher the store knows is used' '
	ws trust remove alpha >$TMP/out &&
	ws trust list --json >$TMP/j &&
	json_check $TMP/j "all(e[\"removed\"] for e in j if e[\"name\"] == \"alpha\")" &&
	ws audit alpha >$TMP/out 2>$TMP/err && grep_q "6 files: 6 ok" $TMP/out &&
	grep_q "signed by a key that is not trusted for .alpha. here" $TMP/err
'

test_expect_success 'publish trusts its key for a new name' '
	ws publish $TMP/model --name delta --key $TMP/k2.key >/dev/null &&
	ws trust list >$TMP/out && grep_q "^delta  *$(cat $TMP/k2)  added " $TMP/out &&
	ws log delta --json >$TMP/j &&
	json_check $TMP/j "\"trust-add\" in [e[\"event\"] for e in j[\"events\"]]"
'

test_done
