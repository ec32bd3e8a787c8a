#!/bin/sh
# keygen: key files, overwrite protection, password-encrypted keys, and
# interchange with minisign's own key and signature files.
cd "$(dirname "$0")" && . ./test-lib.sh

KEY=$WEIGHTSYNC_HOME/keys/publisher.key

test_expect_success 'keygen --no-password writes the key pair' '
	ws keygen --no-password >$TMP/pk 2>$TMP/err &&
	test -f "$KEY" && test -f "$KEY.pub" &&
	test "$(stat -c %a "$KEY")" = 600 &&
	grep_q "secret key: $KEY" $TMP/err &&
	head -1 "$KEY" >$TMP/comment &&
	grep_q "^untrusted comment: " $TMP/comment &&
	! grep -q encrypted $TMP/comment
'

test_expect_success 'the printed public key is line 2 of the .pub' '
	test $(wc -l <$TMP/pk) = 1 &&
	test $(wc -c <$TMP/pk) = 57 &&
	sed -n 2p "$KEY.pub" >$TMP/publine &&
	test_cmp $TMP/publine $TMP/pk &&
	grep_q "^untrusted comment: minisign public key" "$KEY.pub"
'

test_expect_success 'keygen refuses to overwrite a key without -f' '
	cp "$KEY" $TMP/key.before && cp "$KEY.pub" $TMP/pub.before &&
	test_must_fail 2 ws keygen --no-password >$TMP/out 2>$TMP/err &&
	grep_q "already exists; use -f to replace it" $TMP/err &&
	test ! -s $TMP/out &&
	test_cmp $TMP/key.before "$KEY" && test_cmp $TMP/pub.before "$KEY.pub"
'

test_expect_success 'keygen -f replaces the key pair' '
	ws keygen --no-password -f >$TMP/pk2 2>/dev/null &&
	! test_cmp $TMP/pk $TMP/pk2 >/dev/null &&
	sed -n 2p "$KEY.pub" >$TMP/publine2 && test_cmp $TMP/publine2 $TMP/pk2 &&
	test "$(stat -c %a "$KEY")" = 600
'

test_expect_success 'keygen -o PATH, creating its folder' '
	ws keygen --no-password -o $TMP/keys/a/b.key >$TMP/pk3 2>/dev/null &&
	test -f $TMP/keys/a/b.key && test -f $TMP/keys/a/b.key.pub &&
	sed -n 2p $TMP/keys/a/b.key.pub >$TMP/publine3 && test_cmp $TMP/publine3 $TMP/pk3
'

test_expect_success 'keygen without a password source refuses, writing nothing' '
	test_must_fail 2 ws keygen -o $TMP/nopw.key </dev/null >$TMP/out 2>$TMP/err &&
	grep_q "a password is needed: set WEIGHTSYNC_PASSWORD" $TMP/err &&
	test ! -e $TMP/nopw.key && test ! -e $TMP/nopw.key.pub
'

test_expect_success 'keygen rejects stray arguments' '
	test_must_fail 2 ws keygen --no-password extra 2>$TMP/err &&
	grep_q "unexpected argument .extra." $TMP/err
'

# Password tests: scrypt at minisign's cost takes seconds and ~1 GiB, so
# one key serves all of them.
test_expect_success 'setup: a model, and a password-encrypted key' '
	make_model $TMP/model &&
	WEIGHTSYNC_PASSWORD=right-horse ws keygen -o $TMP/enc.key >$TMP/encpk 2>/dev/null &&
	head -1 $TMP/enc.key >$TMP/comment &&
	grep_q "encrypted" $TMP/comment &&
	test "$(stat -c %a $TMP/enc.key)" = 600
'

test_expect_success 'publish with the wrong password fails, index unchanged' '
	store_state >$TMP/before &&
	WEIGHTSYNC_PASSWORD=wrong-horse test_must_fail 2 \
		ws publish $TMP/model --name enc --key $TMP/enc.key >$TMP/out 2>$TMP/err &&
	grep_q "wrong password" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'an encrypted key without WEIGHTSYNC_PASSWORD and no tty fails clearly' '
	store_state >$TMP/before &&
	test_must_fail 2 ws publish $TMP/model --name enc --key $TMP/enc.key \
		</dev/null >$TMP/out 2>$TMP/err &&
	grep_q "a password is needed: set WEIGHTSYNC_PASSWORD or run on a terminal" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'publish with the right password works' '
	WEIGHTSYNC_PASSWORD=right-horse ws publish $TMP/model --name enc \
		--key $TMP/enc.key >$TMP/out 2>$TMP/err &&
	grep_q "published enc@1" $TMP/out &&
	grep_q "publisher  $(cat $TMP/encpk)" $TMP/out &&
	ws audit enc >$TMP/out && grep_q "6 files: 6 ok" $TMP/out
'

test_expect_success MINISIGN 'minisign verifies what a weightsync key signed' '
	dir=$(release_dir enc 1) &&
	minisign -V -p $TMP/enc.key.pub -m "$dir/.weightsync/manifest.json" >$TMP/out &&
	grep_q "Trusted comment: weightsync release enc@1 manifest sha256:" $TMP/out
'

test_expect_success MINISIGN 'minisign signs with a weightsync key' '
	echo hello >$TMP/msg &&
	minisign -S -s "$KEY" -m $TMP/msg -t "from weightsync key" </dev/null >/dev/null &&
	minisign -V -p "$KEY.pub" -m $TMP/msg >$TMP/out &&
	grep_q "Trusted comment: from weightsync key" $TMP/out
'

test_expect_success MINISIGN 'setup: a key pair made by minisign -G -W' '
	minisign -G -W -p $TMP/x.pub -s $TMP/x.key >/dev/null </dev/null &&
	test -f $TMP/x.key && test -f $TMP/x.pub
'

test_expect_success 'a minisign -G -W key publishes, and minisign verifies it' '
	ws publish $TMP/model --name mini --key $TMP/x.key >$TMP/out &&
	grep_q "publisher  $(sed -n 2p $TMP/x.pub)" $TMP/out &&
	minisign -V -p $TMP/x.pub -m "$(release_dir mini 1)/.weightsync/manifest.json"
'

test_expect_success 'a file that is not a secret key is refused' '
	store_state >$TMP/before &&
	test_must_fail 2 ws publish $TMP/model --name bad --key "$KEY.pub" 2>$TMP/err &&
	grep_q "is not a minisign secret key" $TMP/err &&
	test_must_fail 2 ws publish $TMP/model --name bad --key $TMP/nonexistent.key 2>$TMP/err &&
	grep_q "cannot read secret key" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_done
