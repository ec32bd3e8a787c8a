#!/bin/sh
# Publish is one transaction (store/recover.h): two publishes of one name
# at once get consecutive versions, never a false equivocation; a kill -9
# at every step of a publish is finished or undone by the next command;
# stale staging folders are removed; audit names what nothing accounts for.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 200000

# versions NAME - the versions of NAME in the index, one a line
versions() {
	ws list --json | python3 -c 'import json, sys
for r in json.load(sys.stdin):
    if r["name"] == sys.argv[1]: print(r["version"], r["state"])' "$1"
}

# kept NAME@V - the release's torrent and both its signed pointers are kept
# (resolve falls back on the index's own pointers; nothing answers on
# 127.0.0.1:9)
kept() {
	ws show "$1" --json >$TMP/show.json &&
	json_check $TMP/show.json '"link" in j and j["complete"]' &&
	for salt in "$1" "${1%@*}"; do
		ws resolve "$salt" --bootstrap 127.0.0.1:9 --listen 127.0.0.1:0 \
			--timeout 1 --json >$TMP/res.json &&
		json_check $TMP/res.json "j[\"manifest_sha256\"] and j[\"version\"] >= ${1#*@}" ||
		return 1
	done
}

# clean - audit passes and names nothing stray, stale or unfinished, and
# no staging folder or journal is left in tmp/
clean() {
	ws audit >$TMP/audit.out &&
	! grep -E "^(stray|stale|unfinished) " $TMP/audit.out &&
	test -z "$(ls $WEIGHTSYNC_HOME/tmp | grep -E "^stage\.|\.lock$")"
}

test_expect_success 'setup: a key' '
	ws keygen --no-password >/dev/null 2>&1
'

test_expect_success 'two publishes at once, ten times: versions 1..20, no equivocation' '
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ws publish $TMP/model --name race >$TMP/o1 2>&1 &
		p1=$!
		ws publish $TMP/model --name race >$TMP/o2 2>&1 &
		p2=$!
		r1=0 && wait $p1 || r1=$?
		r2=0 && wait $p2 || r2=$?
		test $r1 = 0 && test $r2 = 0 || { cat $TMP/o1 $TMP/o2; exit 1; }
	done &&
	versions race >$TMP/v &&
	seq 1 20 | sed "s/$/ complete/" >$TMP/want &&
	test_cmp $TMP/want $TMP/v &&
	ws log race >$TMP/log 2>&1 &&
	! grep -i equivocat $TMP/log &&
	clean
'

test_expect_success 'two publishes at once with one --version: one clear refusal' '
	ws publish $TMP/model --name race --version 21 >$TMP/o1 2>&1 &
	p1=$!
	ws publish $TMP/model --name race --version 21 >$TMP/o2 2>&1 &
	p2=$!
	r1=0 && wait $p1 || r1=$?
	r2=0 && wait $p2 || r2=$?
	test "$r1$r2" = "01" || test "$r1$r2" = "10" &&
	cat $TMP/o1 $TMP/o2 >$TMP/o &&
	grep_q "version 21 is already published; the next version is 22" $TMP/o &&
	! ws log race 2>&1 | grep -i equivocat &&
	test "$(versions race | tail -1)" = "21 complete"
'

# crash POINT - publish "crash" with a kill -9 at POINT: the process dies
# by SIGKILL (exit 137) and nothing has printed "published"
crash() {
	rc=0
	WS_CRASH_AT=publish:$1 ws publish $TMP/model --name crash >$TMP/crash.out 2>&1 || rc=$?
	test $rc = 137 || { echo "publish exited $rc at $1"; cat $TMP/crash.out; return 1; }
	! grep -q "^published" $TMP/crash.out
}

test_expect_success 'setup: crash@1' '
	ws publish $TMP/model --name crash >/dev/null
'

# killed before the journal: undone (the version is free again)
for point in staged; do
	test_expect_success "kill -9 at publish:$point: undone by the next command" '
		crash '$point' &&
		test -n "$(ls $WEIGHTSYNC_HOME/tmp | grep "^stage\.")" &&
		ws list >/dev/null &&
		clean &&
		test "$(versions crash | tail -1)" = "1 complete" &&
		ws publish $TMP/model --name crash >/dev/null &&
		test "$(versions crash | tail -1)" = "2 complete" && kept crash@2 && clean
	'
done

# killed after the journal: finished by the next command, whatever it is
v=2
for point in after-journal after-rename after-index after-torrent after-pointers; do
	v=$((v + 1))
	test_expect_success "kill -9 at publish:$point: finished by the next command" '
		crash '$point' &&
		ws list >/dev/null &&
		clean &&
		test "$(versions crash | tail -1)" = "'$v' complete" &&
		kept crash@'$v' &&
		ws publish $TMP/model --name crash >/dev/null &&
		test "$(versions crash | tail -1)" = "'$((v + 1))' complete" &&
		kept crash@'$((v + 1))' && clean
	'
	v=$((v + 1))
done

test_expect_success 'a crash finished by the next publish of the name itself' '
	crash after-rename &&
	ws publish $TMP/model --name crash >/dev/null &&
	versions crash | tail -2 >$TMP/v &&
	printf "%s complete\n" 13 14 >$TMP/want && test_cmp $TMP/want $TMP/v &&
	kept crash@13 && kept crash@14 &&
	! ws log crash 2>&1 | grep -i equivocat && clean
'

test_expect_success 'stale staging folders are removed, a live one is kept' '
	mkdir -p $WEIGHTSYNC_HOME/tmp/stage.99999999.dead01/sub $WEIGHTSYNC_HOME/tmp/stage.old123 \
		$WEIGHTSYNC_HOME/tmp/stage.$$.live01 &&
	echo x >$WEIGHTSYNC_HOME/tmp/stage.99999999.dead01/sub/f &&
	ws list >/dev/null &&
	test ! -e $WEIGHTSYNC_HOME/tmp/stage.99999999.dead01 &&
	test ! -e $WEIGHTSYNC_HOME/tmp/stage.old123 &&
	test -d $WEIGHTSYNC_HOME/tmp/stage.$$.live01 &&
	ws audit >$TMP/audit.out && ! grep -E "^(stale|stray) " $TMP/audit.out &&
	rmdir $WEIGHTSYNC_HOME/tmp/stage.$$.live01
'

test_expect_success 'a damaged journal is left alone and reported, exit 0' '
	printf "weightsync-journal 1\n\377\377" >$WEIGHTSYNC_HOME/tmp/stage.99999999.bad001.journal &&
	ws list >/dev/null &&
	ws audit >$TMP/audit.out &&
	grep_q "^unfinished .*tmp/stage.99999999.bad001.journal (commit not yet finished" $TMP/audit.out &&
	ws publish $TMP/model --name crash >/dev/null &&
	test "$(versions crash | tail -1)" = "15 complete" &&
	rm $WEIGHTSYNC_HOME/tmp/stage.99999999.bad001.journal && clean
'

test_expect_success 'audit reports a stray release folder, exit 0, and --json lists it' '
	pk=$(ls $WEIGHTSYNC_HOME/releases) &&
	mkdir $WEIGHTSYNC_HOME/releases/$pk/bogus@1 &&
	ws audit >$TMP/audit.out &&
	grep_q "^stray .*releases/$pk/bogus@1 (no index entry names it)" $TMP/audit.out &&
	ws audit --json >$TMP/audit.json &&
	json_check $TMP/audit.json "j[\"intact\"] and j[\"strays\"] == [{\"path\": \"releases/$pk/bogus@1\", \"kind\": \"stray\"}]" &&
	rmdir $WEIGHTSYNC_HOME/releases/$pk/bogus@1 && clean
'

test_done
