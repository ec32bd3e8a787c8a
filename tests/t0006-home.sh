#!/bin/sh
# Which home is used, and publish into a home that is read-only or full.
cd "$(dirname "$0")" && . ./test-lib.sh

# ws_env VAR=VALUE... -- ARGS... - the binary under exactly this home
# environment (WEIGHTSYNC_HOME, XDG_DATA_HOME and HOME cleared first).
ws_env() {
	set -- env -u WEIGHTSYNC_HOME -u XDG_DATA_HOME -u HOME "$@"
	"$@"
}

test_expect_success '--home DIR overrides WEIGHTSYNC_HOME' '
	WEIGHTSYNC_HOME=$TMP/env ws --home $TMP/opt list >$TMP/out &&
	grep_q "no releases in the store" $TMP/out &&
	test -d $TMP/opt/index && test ! -e $TMP/env &&
	WEIGHTSYNC_HOME=$TMP/env ws --home=$TMP/opt2 keygen --no-password 2>/dev/null >/dev/null &&
	test -f $TMP/opt2/keys/publisher.key && test ! -e $TMP/env
'

test_expect_success 'WEIGHTSYNC_HOME overrides XDG_DATA_HOME' '
	ws_env WEIGHTSYNC_HOME=$TMP/env XDG_DATA_HOME=$TMP/xdg "$WS_BIN" list >/dev/null &&
	test -d $TMP/env/index && test ! -e $TMP/xdg
'

test_expect_success 'XDG_DATA_HOME/weightsync when WEIGHTSYNC_HOME is unset' '
	ws_env XDG_DATA_HOME=$TMP/xdg HOME=$TMP/fakehome "$WS_BIN" list >/dev/null &&
	test -d $TMP/xdg/weightsync/index && test ! -e $TMP/fakehome &&
	ws_env WEIGHTSYNC_HOME= XDG_DATA_HOME=$TMP/xdg2 "$WS_BIN" list >/dev/null &&
	test -d $TMP/xdg2/weightsync/index
'

test_expect_success 'HOME/.local/share/weightsync last; a relative XDG_DATA_HOME is ignored' '
	ws_env HOME=$TMP/fakehome XDG_DATA_HOME=rel "$WS_BIN" list >/dev/null &&
	test -d $TMP/fakehome/.local/share/weightsync/index && test ! -e rel
'

test_expect_success 'no home at all is an error' '
	test_must_fail 2 ws_env "$WS_BIN" list 2>$TMP/err &&
	grep_q "no home directory: set WEIGHTSYNC_HOME or use --home DIR" $TMP/err
'

test_expect_success 'setup: a key and a model' '
	ws keygen --no-password -o $TMP/pub.key >/dev/null 2>&1 &&
	make_model $TMP/model &&
	make_model $TMP/big 2097152
'

mkdir -p "$TMP/probe" &&
	mount -t tmpfs -o size=1m tmpfs "$TMP/probe" 2>/dev/null &&
	umount "$TMP/probe" && test_set_prereq MOUNT

test_expect_success MOUNT 'setup: a home on a tmpfs, with one release' '
	mkdir $TMP/ro && mount -t tmpfs -o size=16m tmpfs $TMP/ro &&
	ws --home $TMP/ro/home publish $TMP/model --name one --key $TMP/pub.key >/dev/null &&
	store_state $TMP/ro/home >$TMP/ro.before
'

test_expect_success MOUNT 'publish into a read-only home fails and changes nothing' '
	mount -o remount,ro $TMP/ro &&
	test_must_fail 2 ws --home $TMP/ro/home publish $TMP/model --name two \
		--key $TMP/pub.key >$TMP/out 2>$TMP/err &&
	grep_q "Read-only file system" $TMP/err &&
	grep_q "$TMP/ro/home" $TMP/err &&
	mount -o remount,rw $TMP/ro &&
	store_state $TMP/ro/home >$TMP/ro.after && test_cmp $TMP/ro.before $TMP/ro.after &&
	ws --home $TMP/ro/home audit one >$TMP/out && grep_q "6 files: 6 ok" $TMP/out
'

test_expect_success MOUNT 'setup: a home on a 2 MiB tmpfs' '
	mkdir $TMP/full && mount -t tmpfs -o size=2m tmpfs $TMP/full &&
	mkdir $TMP/tiny && echo "{}" >$TMP/tiny/config.json &&
	ws --home $TMP/full/home publish --copy $TMP/tiny --name tiny \
		--key $TMP/pub.key >/dev/null &&
	store_state $TMP/full/home >$TMP/full.before &&
	test $(du -sb $TMP/big | cut -f1) -gt $((2 << 20))
'

test_expect_success MOUNT 'publish --copy into a full home fails and leaves no trace' '
	test_must_fail 2 ws --home $TMP/full/home publish --copy $TMP/big --name big \
		--key $TMP/pub.key >$TMP/out 2>$TMP/err &&
	grep_q "No space left on device" $TMP/err &&
	grep_q "cannot place .*in the store" $TMP/err &&
	store_state $TMP/full/home >$TMP/full.after &&
	test_cmp $TMP/full.before $TMP/full.after &&
	test -z "$(ls -A $TMP/full/home/tmp)" &&
	test ! -e $TMP/full/home/releases/*/big*
'

test_expect_success MOUNT 'the full home still works once there is room' '
	ws --home $TMP/full/home publish --copy $TMP/model --name small \
		--key $TMP/pub.key >$TMP/out &&
	grep_q "^published small@1$" $TMP/out &&
	ws --home $TMP/full/home audit small >$TMP/out && grep_q "6 files: 6 ok" $TMP/out
'

test_done
