#!/bin/sh
# A fetch killed with -9 at every step of its commit (store/recover.h):
# before the journal, the partial fetch is a resume point and the re-run
# completes; after it, the next command that opens the home, whatever it
# is, finishes the commit (release complete, torrent kept, nothing stray
# in releases/ or tmp/).  A second fetch waiting on the first one's lock
# when it dies finishes the dead one's commit and does not download again.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 300000
A=127.0.0.30 B=127.0.0.31

test_expect_success 'A publishes and seeds' '
	publish_on A "$TMP/model" fcrash >$TMP/link &&
	start_node A $A --no-dht &&
	wait_for 10 "node_seeds A fcrash@1"
'

# fetch HOME [ARGS] - fetch the release from A into HOME
fetch() {
	f_home=$1; shift
	ws --home "$f_home" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 30 "$@"
}

# state HOME - "VERSION STATE" of fcrash's releases in HOME
state() {
	ws --home "$1" list --json | python3 -c 'import json, sys
for r in json.load(sys.stdin):
    if r["name"] == "fcrash": print(r["version"], r["state"])'
}

# nothing_stray HOME - audit passes and names nothing stray or unfinished
nothing_stray() {
	ws --home "$1" audit >$TMP/audit.out &&
	! grep -E "^(stray|stale|unfinished) " $TMP/audit.out
}

# done_clean HOME - complete, identical, torrent kept, tmp/ empty
done_clean() {
	test "$(state $1)" = "1 complete" &&
	dir=$(ws --home $1 show fcrash@1 --json | python3 -c "import json, sys; print(json.load(sys.stdin)[\"path\"])") &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	ws --home $1 show fcrash@1 --json >$TMP/show.json &&
	json_check $TMP/show.json "\"link\" in j and j[\"complete\"]" &&
	ws --home $1 audit fcrash@1 >/dev/null && nothing_stray $1 &&
	test -z "$(ls $1/tmp)"
}

# crashed HOME POINT - a fetch into HOME dies by SIGKILL at POINT
crashed() {
	ws --home "$1" trust add fcrash $TMP/A/keys/publisher.key.pub >/dev/null &&
	rc=0 && WS_CRASH_AT=fetch:$2 fetch "$1" >$TMP/crash.out 2>&1 || rc=$?
	test $rc = 137 || { echo "fetch exited $rc at $2"; cat $TMP/crash.out; return 1; }
}

# before the journal: a resume point; the index has the release, not
# complete; the re-run completes
for point in after-manifest staged; do
	test_expect_success "kill -9 at fetch:$point: the re-run completes" '
		h=$TMP/B-'$point' && crashed $h '$point' &&
		test "$(state $h)" = "1 incomplete" &&
		ls $h/tmp | grep -q "^fetch-" && ! ls $h/tmp | grep -q "\.journal$" &&
		nothing_stray $h &&
		fetch $h --json >$TMP/f.json &&
		json_check $TMP/f.json "j[\"ok\"] and not j[\"already_complete\"]" &&
		done_clean $h
	'
done

# after the journal: the next command finishes it, and the re-run has
# nothing to do
for point in after-journal after-rename after-index after-torrent after-pointers; do
	test_expect_success "kill -9 at fetch:$point: finished by the next command" '
		h=$TMP/B-'$point' && crashed $h '$point' &&
		ls $h/tmp | grep -q "^fetch-.*\.journal$" &&
		ws --home $h trust list >/dev/null &&
		done_clean $h &&
		fetch $h --json >$TMP/f.json &&
		json_check $TMP/f.json "j[\"ok\"] and j[\"already_complete\"]" &&
		done_clean $h
	'
done

test_expect_success 'a fetch waiting on a dead fetch finishes its commit' '
	h=$TMP/B-wait
	ws --home $h trust add fcrash $TMP/A/keys/publisher.key.pub >/dev/null
	ws --home $h list >/dev/null
	# the first fetch holds the lock until it dies after its journal; the
	# second is started while it runs and waits for the lock
	WS_CRASH_AT=fetch:after-journal fetch $h >$TMP/o1 2>&1 &
	p1=$! && echo $p1 >>$TMP/.pids
	wait_for 20 "ls $h/tmp | grep -q \"^fetch-.*\\.lock\$\"" &&
	fetch $h --json >$TMP/f.json 2>$TMP/o2 &
	p2=$! && echo $p2 >>$TMP/.pids
	r1=0 && wait $p1 || r1=$?
	r2=0 && wait $p2 || r2=$?
	test $r1 = 137 || { echo "first fetch: $r1"; cat $TMP/o1; exit 1; }
	test $r2 = 0 || { echo "second fetch: $r2"; cat $TMP/o2; exit 1; }
	json_check $TMP/f.json "j[\"ok\"]" &&
	done_clean $h
'

test_expect_success 'A stops cleanly' '
	stop_node A
'

test_done
