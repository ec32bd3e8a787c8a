#!/bin/sh
# Two imports of one bundle into one home at the same time: both succeed,
# one says "imported", and the other says exactly what a second import
# run after the first says ("is already in the store", nothing verified,
# already_complete in --json), whichever of them gets to the commit first.
cd "$(dirname "$0")" && . ./test-lib.sh

# large enough that both imports are still reading when the other starts
make_model "$TMP/model" 8000000

test_expect_success 'setup: race@1 published and exported' '
	ws keygen --no-password >/dev/null 2>&1 &&
	ws publish $TMP/model --name race >/dev/null &&
	ws export race@1 -o $TMP/b.tar >/dev/null &&
	cp $WEIGHTSYNC_HOME/keys/publisher.key.pub $TMP/pub
'

# import HOME OUT [ARGS] - import the bundle into HOME, bounded; stdout in
# OUT, stderr in OUT.err, the exit code in OUT.rc
import() {
	i_rc=0
	timeout -k 5 120 "$WS_BIN" --home "$1" import $TMP/b.tar --publisher $TMP/pub \
		${3:+"$3"} >"$2" 2>"$2.err" || i_rc=$?
	echo $i_rc >"$2.rc"
}

test_expect_success 'what a second import after the first says' '
	h=$TMP/seq &&
	import $h $TMP/s1 "" && import $h $TMP/s2 "" &&
	test "$(cat $TMP/s1.rc) $(cat $TMP/s2.rc)" = "0 0" &&
	grep -q "^weightsync: race@1 imported" $TMP/s1.err &&
	echo "weightsync: race@1 is already in the store (0 B verified)" >$TMP/second.err &&
	test_cmp $TMP/second.err $TMP/s2.err &&
	test_cmp $TMP/s1 $TMP/s2 &&
	sed "s|$h|HOME|" $TMP/s2 >$TMP/second.out
'

# race HOME ARG - two imports into HOME started together; both waited for
race() {
	import "$1" $TMP/r1 "$2" &
	p1=$!
	import "$1" $TMP/r2 "$2" &
	p2=$!
	wait $p1 $p2
}

for i in 1 2 3 4; do
	test_expect_success "two imports at once: one imported, one already there ($i)" '
		h=$TMP/race'$i' &&
		race $h "" &&
		test "$(cat $TMP/r1.rc) $(cat $TMP/r2.rc)" = "0 0" &&
		cat $TMP/r1.err $TMP/r2.err >$TMP/both.err &&
		test "$(grep -c "^weightsync: race@1 imported (" $TMP/both.err)" = 1 &&
		grep -qx "weightsync: race@1 is already in the store (0 B verified)" $TMP/both.err &&
		test "$(wc -l <$TMP/both.err)" = 2 &&
		sed "s|$h|HOME|" $TMP/r1 >$TMP/r1.out && test_cmp $TMP/second.out $TMP/r1.out &&
		sed "s|$h|HOME|" $TMP/r2 >$TMP/r2.out && test_cmp $TMP/second.out $TMP/r2.out &&
		ws --home $h audit race@1 >/dev/null &&
		test "$(ws --home $h list --json | python3 -c "import json, sys; print(len(json.load(sys.stdin)))")" = 1 &&
		test -z "$(ls $h/tmp)"
	'
done

test_expect_success 'with --json: exactly one of the two is already_complete, with 0 bytes' '
	h=$TMP/racej &&
	race $h --json &&
	test "$(cat $TMP/r1.rc) $(cat $TMP/r2.rc)" = "0 0" &&
	python3 - $TMP/r1 $TMP/r2 <<-\EOF
	import json, sys
	a, b = (json.load(open(p)) for p in sys.argv[1:3])
	first, second = (a, b) if b["already_complete"] else (b, a)
	assert not first["already_complete"] and first["bytes"] > 0, (a, b)
	assert second["already_complete"] and second["bytes"] == 0, (a, b)
	assert first["path"] == second["path"], (a, b)
	EOF
'

test_done
