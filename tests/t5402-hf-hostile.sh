#!/bin/sh
# A hostile origin gets nothing in: content that does not match the hub's
# record, a wrong size (short, long, endless), a redirect to file://, a
# stalled server.  Each ends with a clear error and exit 1 or 2; no
# release, nothing of the bad file kept.
cd "$(dirname "$0")" && . ./test-lib.sh

COMMIT=0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d
BAD=model-00001-of-00002.safetensors
WORK=$TMP/home/tmp/mirror-acme--tiny-llm@$COMMIT
make_model "$TMP/model" 1000000
ws keygen --no-password >/dev/null 2>&1

# hostile MODE CODE MESSAGE - a mirror from a hub in MODE fails with CODE
# and MESSAGE, and leaves no release and nothing unverified of $BAD
hostile() {
	start_hub "$1" $TMP/model --repo acme/tiny-llm --commit $COMMIT --mode "$1" &&
	HF_ENDPOINT=$(hub_url "$1") test_must_fail "$2" ws mirror hf://acme/tiny-llm --name t \
		--stall-timeout 2 2>$TMP/err &&
	grep_q "$3" $TMP/err &&
	ws list --json >$TMP/list && json_check $TMP/list "j == [] or j.get(\"releases\") == []" &&
	test ! -e $TMP/home/releases/*/t@1 &&
	test ! -e $WORK/files/$BAD &&
	stop_hub "$1"
}

test_expect_success 'content that does not match the LFS SHA-256: exit 1, partial removed' '
	hostile wrong-bytes 1 "weightsync: .$BAD.: the content does not match the hub.s SHA-256 " &&
	test ! -e $WORK/partial/$BAD
'

test_expect_success 'a body shorter than the record: exit 1' '
	hostile short 1 "weightsync: .$BAD.: the origin sent 1000300 bytes, the hub records 1000400" &&
	test ! -e $WORK/partial/$BAD
'

test_expect_success 'a body longer than the record: cut off, exit 1' '
	hostile long 1 "weightsync: .$BAD.: the origin sent more than the 1000400 bytes the hub records" &&
	test ! -e $WORK/partial/$BAD
'

test_expect_success 'an endless body: cut off at the recorded size, exit 1' '
	hostile endless 1 "weightsync: .$BAD.: the origin sent more than the 1000400 bytes the hub records" &&
	test ! -e $WORK/partial/$BAD
'

test_expect_success 'a redirect to file:// is not followed: exit 2' '
	hostile redirect-file 2 "weightsync: .$BAD.: the origin redirected to a URL that is not http(s)" &&
	test ! -e $WORK/partial/$BAD
'

test_expect_success 'a stalled server is given up: exit 2, the bytes so far only a resume point' '
	hostile stall 2 "weightsync: .$BAD.: the origin sent nothing for 2 s; given up (run again to resume)" &&
	test "$(stat -c %s $WORK/partial/$BAD)" -le 1000
'

test_expect_success 'a record naming a path outside the repository: exit 2, nothing fetched' '
	hostile bad-path 2 "weightsync: the hub.s record of .acme/tiny-llm. lists a file name that is not a safe relative path" &&
	! grep -q "resolve" $TMP/bad-path.log
'

test_expect_success 'after the hostile runs, an honest origin completes the release' '
	start_hub honest $TMP/model --repo acme/tiny-llm --commit $COMMIT &&
	HF_ENDPOINT=$(hub_url honest) ws mirror hf://acme/tiny-llm --name t >/dev/null 2>&1 &&
	dir=$(release_dir t 1) &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	ws audit t >$TMP/out && grep_q "6 ok" $TMP/out
'

test_done
