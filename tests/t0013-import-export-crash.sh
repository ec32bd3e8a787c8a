#!/bin/sh
# Import and export under kill -9 (store/recover.h): an import killed at
# any step is undone (before its journal) or finished (after it) by the
# next command that opens the home, whatever the command; an export killed
# at any step leaves no bundle or a whole one, and the next export of that
# path removes what the dead one left.  After each: the index opens, audit
# is clean and names nothing stray, and the re-run completes with no
# version lost, duplicated or skipped.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 300000
export WEIGHTSYNC_HOME=$TMP/A

# versions [HOME] - "VERSION STATE" of every release of "crash", one a line
versions() {
	ws --home "${1:-$WEIGHTSYNC_HOME}" list --json | python3 -c 'import json, sys
for r in json.load(sys.stdin):
    if r["name"] == "crash": print(r["version"], r["state"])'
}

# clean HOME - the index opens, audit passes and names nothing stray, stale
# or unfinished, and tmp/ keeps no staging folder, journal or lock
clean() {
	ws --home "$1" list >/dev/null &&
	ws --home "$1" audit >$TMP/audit.out &&
	! grep -E "^(stray|stale|unfinished) " $TMP/audit.out &&
	test -z "$(ls $1/tmp | grep -E "^(stage|fetch)|\.(journal|lock)$")"
}

# crashed CMD... - CMD dies by SIGKILL (exit 137)
crashed() {
	rc=0
	"$@" >$TMP/crash.out 2>&1 || rc=$?
	test $rc = 137 || { echo "exit $rc, not 137: $*"; cat $TMP/crash.out; return 1; }
}

test_expect_success 'setup: crash@1 and crash@2 published and exported' '
	ws keygen --no-password >/dev/null 2>&1 &&
	ws publish $TMP/model --name crash >/dev/null &&
	echo "{\"v\": 2}" >$TMP/model/extra.json &&
	ws publish $TMP/model --name crash >/dev/null &&
	ws export crash@1 -o $TMP/b1.tar 2>/dev/null &&
	ws export crash@2 -o $TMP/b2.tar 2>/dev/null &&
	printf "1 complete\n2 complete\n" >$TMP/want12 &&
	printf "1 complete\n" >$TMP/want1
'

# a fresh home that trusts the publisher
home() {
	ws --home "$1" trust add crash $TMP/A/keys/publisher.key.pub >/dev/null
}

# killed before the journal: nothing stays, the re-run imports
for point in partial staged; do
	test_expect_success "kill -9 at import:$point: undone by the next command" '
		h=$TMP/I-'$point' && home $h &&
		WS_CRASH_AT=import:'$point' crashed ws --home $h import $TMP/b1.tar &&
		test -n "$(ls $h/tmp | grep "^stage\.")" &&
		! ls $h/tmp | grep -q "\.journal$" &&
		ws --home $h list >/dev/null &&
		test -z "$(versions $h)" && test ! -e $h/releases && clean $h &&
		ws --home $h import $TMP/b1.tar 2>$TMP/err &&
		grep_q "crash@1 imported" $TMP/err &&
		versions $h >$TMP/v && test_cmp $TMP/want1 $TMP/v &&
		ws --home $h audit crash@1 >/dev/null && clean $h
	'
done

# killed after the journal: finished by the next command, whatever it is
for point in after-journal after-rename after-index after-torrent after-pointers; do
	test_expect_success "kill -9 at import:$point: finished by the next command" '
		h=$TMP/I-'$point' && home $h &&
		WS_CRASH_AT=import:'$point' crashed ws --home $h import $TMP/b1.tar &&
		ls $h/tmp | grep -q "^stage\..*\.journal$" &&
		ws --home $h trust list >/dev/null &&
		versions $h >$TMP/v && test_cmp $TMP/want1 $TMP/v &&
		ws --home $h audit crash@1 >/dev/null && clean $h &&
		ws --home $h import $TMP/b1.tar 2>$TMP/err &&
		grep_q "crash@1 is already in the store" $TMP/err &&
		ws --home $h import $TMP/b2.tar 2>$TMP/err &&
		versions $h >$TMP/v && test_cmp $TMP/want12 $TMP/v &&
		ws --home $h audit >/dev/null && clean $h
	'
done

test_expect_success 'recovery killed part way is finished by the command after' '
	h=$TMP/I-recover && home $h &&
	WS_CRASH_AT=import:after-journal crashed ws --home $h import $TMP/b1.tar &&
	WS_CRASH_AT=recover:after-rename crashed ws --home $h list &&
	ls $h/tmp | grep -q "^stage\..*\.journal$" && test -d $h/releases/*/crash@1 &&
	ws --home $h audit >$TMP/audit.out &&
	! grep -E "^(stray|unfinished) " $TMP/audit.out &&
	versions $h >$TMP/v && test_cmp $TMP/want1 $TMP/v && clean $h
'

test_expect_success 'a crash of a later version keeps the chain: 1 then 2' '
	h=$TMP/I-chain && home $h &&
	ws --home $h import $TMP/b1.tar 2>/dev/null &&
	WS_CRASH_AT=import:after-rename crashed ws --home $h import $TMP/b2.tar &&
	ws --home $h log crash --json >$TMP/log.json &&
	json_check $TMP/log.json "[v[\"version\"] for v in j[\"versions\"]] == [1, 2]" &&
	versions $h >$TMP/v && test_cmp $TMP/want12 $TMP/v && clean $h
'

test_expect_success 'two imports of one bundle at once: both succeed, one release' '
	h=$TMP/I-twice
	home $h
	ws --home $h import $TMP/b1.tar >$TMP/o1 2>&1 &
	p1=$!
	ws --home $h import $TMP/b1.tar >$TMP/o2 2>&1 &
	p2=$!
	r1=0 && wait $p1 || r1=$?
	r2=0 && wait $p2 || r2=$?
	test "$r1$r2" = "00" || { cat $TMP/o1 $TMP/o2; exit 1; }
	versions $h >$TMP/v && test_cmp $TMP/want1 $TMP/v &&
	ws --home $h audit crash@1 >/dev/null && clean $h
'

test_expect_success 'a clean export, for comparison' '
	ws export crash@2 -o $TMP/e0.tar 2>/dev/null
'

# killed at any step: no bundle or the whole one; nothing left after the
# next export to that path, which gives the same bytes
for point in partial written after-rename; do
	test_expect_success "kill -9 at export:$point: no half bundle, re-run identical" '
		mkdir $TMP/E-'$point' && out=$TMP/E-'$point'/out.tar &&
		WS_CRASH_AT=export:'$point' crashed ws export crash@2 -o $out &&
		if test -e $out; then cmp $out $TMP/e0.tar; fi &&
		case '$point' in
		after-rename) test -e $out && test "$(ls $TMP/E-'$point')" = out.tar ;;
		*) test ! -e $out && ls $TMP/E-'$point' | grep -q "^out.tar.tmp." ;;
		esac &&
		versions >$TMP/v && test_cmp $TMP/want12 $TMP/v && clean $WEIGHTSYNC_HOME &&
		ws export crash@2 -o $out 2>/dev/null &&
		cmp $out $TMP/e0.tar && test "$(ls $TMP/E-'$point')" = out.tar
	'
done

test_done
