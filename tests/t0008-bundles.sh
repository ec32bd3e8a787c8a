#!/bin/sh
# Offline bundles: export and import (tar, tar.zst) between homes, and
# hostile archives refused with the store and index left as they were.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 2000000
export WEIGHTSYNC_HOME=$TMP/A

test_expect_success 'setup: a published release, exported as tar and tar.zst' '
	ws keygen --no-password >/dev/null 2>&1 &&
	ws publish $TMP/model --name bundle-demo >/dev/null &&
	ws export bundle-demo -o $TMP/b.tar 2>$TMP/err && grep_q "exported bundle-demo@1" $TMP/err &&
	ws export bundle-demo@1 -o $TMP/b.tar.zst &&
	test "$(head -c 4 $TMP/b.tar.zst | od -An -tx1 | tr -d " ")" = "28b52ffd" &&
	tar tf $TMP/b.tar >$TMP/list &&
	test "$(head -1 $TMP/list)" = "bundle-demo@1/.weightsync/manifest.json" &&
	grep_q "bundle-demo@1/model-00001-of-00002.safetensors" $TMP/list
'

test_expect_success 'import into another home: verified, identical, audited' '
	WEIGHTSYNC_HOME=$TMP/B ws trust add bundle-demo $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/B ws import $TMP/b.tar.zst --json >$TMP/imp.json &&
	json_check $TMP/imp.json "j[\"version\"] == 1 and not j[\"already_complete\"]" &&
	dir=$(python3 -c "import json; print(json.load(open(\"$TMP/imp.json\"))[\"path\"])") &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done &&
	WEIGHTSYNC_HOME=$TMP/B ws audit bundle-demo >/dev/null
'

test_expect_success 'importing what the store has costs no disk' '
	store_state $TMP/B >$TMP/before &&
	WEIGHTSYNC_HOME=$TMP/B ws import $TMP/b.tar 2>$TMP/err && grep_q "already in the store" $TMP/err &&
	store_state $TMP/B >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'an untrusted publisher is refused, nothing written' '
	WEIGHTSYNC_HOME=$TMP/C ws list >/dev/null && store_state $TMP/C >$TMP/before &&
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 1 ws import $TMP/b.tar 2>$TMP/err &&
	grep_q "is not trusted for .bundle-demo." $TMP/err &&
	store_state $TMP/C >$TMP/after && test_cmp $TMP/before $TMP/after
'

# hostile CASE - write $TMP/h.tar: the good bundle changed as CASE says
hostile() {
	python3 - "$TMP/b.tar" "$TMP/h.tar" "$1" <<'PY'
import io, sys, tarfile
src, dst, case = sys.argv[1:4]
ins = tarfile.open(src)
out = tarfile.open(dst, "w", format=tarfile.PAX_FORMAT)
shard = "bundle-demo@1/model-00001-of-00002.safetensors"
def add(name, data, **kw):
    ti = tarfile.TarInfo(name); ti.size = len(data)
    for k, v in kw.items(): setattr(ti, k, v)
    out.addfile(ti, io.BytesIO(data))
for m in ins.getmembers():
    data = ins.extractfile(m).read()
    if m.name == shard:
        if case == "flip":
            data = data[:1000] + bytes([data[1000] ^ 1]) + data[1001:]
        elif case == "missing":
            continue
        elif case == "short":
            data = data[:-10]
        elif case == "dup":
            add(m.name, data)
        elif case == "symlink":
            ti = tarfile.TarInfo(m.name); ti.type = tarfile.SYMTYPE; ti.linkname = "/etc/passwd"
            out.addfile(ti); continue
        elif case == "hardlink":
            ti = tarfile.TarInfo(m.name); ti.type = tarfile.LNKTYPE; ti.linkname = "bundle-demo@1/config.json"
            out.addfile(ti); continue
        elif case == "device":
            ti = tarfile.TarInfo(m.name); ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3
            out.addfile(ti); continue
    if case == "sigapart" and m.name.endswith(".minisig"):
        add("other@1/" + m.name.split("/", 1)[1], data); continue
    add(m.name, data)
if case == "extra":
    add("bundle-demo@1/extra.bin", b"x" * 100)
elif case == "dotdot":
    add("bundle-demo@1/../../evil.txt", b"evil")
elif case == "absolute":
    add("/tmp/ws-evil-absolute.txt", b"evil")
out.close()
PY
}

# refused CASE MESSAGE - B imports the hostile bundle: exit 1, MESSAGE, and
# B's store, index and tmp/ exactly as before
refused() {
	hostile "$1" && store_state $TMP/B >$TMP/before &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 1 ws import $TMP/h.tar 2>$TMP/err &&
	grep_q "$2" $TMP/err &&
	store_state $TMP/B >$TMP/after && test_cmp $TMP/before $TMP/after &&
	test -z "$(ls $TMP/B/tmp)" && test ! -e $TMP/evil.txt && test ! -e /tmp/ws-evil-absolute.txt
}

test_expect_success 'hostile bundles are refused before anything lands' '
	rm -rf $TMP/B && WEIGHTSYNC_HOME=$TMP/B ws trust add bundle-demo $TMP/A/keys/publisher.key.pub &&
	refused flip "failed its SHA-256 check" &&
	refused missing "is missing from the bundle" &&
	refused short "has .* bytes in the bundle, the manifest says" &&
	refused dup "appears twice" &&
	refused symlink "is not a regular file" &&
	refused hardlink "is not a regular file" &&
	refused device "is not a regular file" &&
	refused extra "a file the manifest does not list" &&
	refused dotdot "a file the manifest does not list" &&
	refused absolute "a file the manifest does not list"
'

# once this one imported nothing and exited 0 with "@0 imported"
test_expect_success 'a signature outside the manifest folder is refused, exit 1' '
	refused sigapart "the manifest and its signature are in different folders" &&
	! grep_q "imported" $TMP/err
'

# once this imported nothing, left the release incomplete and exited 0
test_expect_success 'a stray folder in the way: import fails, exit 2, and audit names it' '
	WEIGHTSYNC_HOME=$TMP/D ws trust add bundle-demo $TMP/A/keys/publisher.key.pub &&
	pk=$(ls $TMP/A/releases) &&
	mkdir -p $TMP/D/releases/$pk/bundle-demo@1 &&
	echo left >$TMP/D/releases/$pk/bundle-demo@1/left-over &&
	WEIGHTSYNC_HOME=$TMP/D test_must_fail 2 ws import $TMP/b.tar 2>$TMP/err &&
	grep_q "bundle-demo@1. is in the way: no index entry names it" $TMP/err &&
	! grep -q imported $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/D ws audit >$TMP/audit.out &&
	grep_q "^stray .*releases/$pk/bundle-demo@1 " $TMP/audit.out &&
	rm -r $TMP/D/releases/$pk/bundle-demo@1 &&
	WEIGHTSYNC_HOME=$TMP/D ws import $TMP/b.tar 2>$TMP/err && grep_q "imported" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/D ws audit bundle-demo >/dev/null
'

test_expect_success 'a tar that is not a bundle, and a missing file' '
	tar cf $TMP/plain.tar -C $TMP model &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 1 ws import $TMP/plain.tar 2>$TMP/err &&
	grep_q "not a weightsync bundle" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws import $TMP/nope.tar 2>$TMP/err &&
	grep_q "cannot open" $TMP/err
'

# refused input is 1, never 0 ("@0 imported") and not 2 (that is for a
# file that cannot be read); the store is left as it was
test_expect_success 'an empty file, an empty tar, junk: refused, exit 1, nothing written' '
	store_state $TMP/B >$TMP/before &&
	: >$TMP/empty.tar &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 1 ws import $TMP/empty.tar 2>$TMP/err &&
	grep_q "^weightsync: not a weightsync bundle: .*empty.tar. is empty" $TMP/err &&
	tar cf $TMP/none.tar -T /dev/null &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 1 ws import $TMP/none.tar 2>$TMP/err &&
	grep_q "^weightsync: not a weightsync bundle: no signed manifest" $TMP/err &&
	yes "not an archive" | head -c 3000 >$TMP/junk.tar &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 1 ws import $TMP/junk.tar 2>$TMP/err &&
	grep_q "^weightsync: not a weightsync bundle" $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws import $TMP 2>$TMP/err &&
	grep_q "cannot open .*: not a file" $TMP/err &&
	! grep -q imported $TMP/err &&
	store_state $TMP/B >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_expect_success 'a bundle an export killed with -9 left half-written is removed by the next export' '
	dead=$(sh -c "echo \$\$") &&
	echo partial >$TMP/k.tar.tmp.$dead &&
	{ sleep 30 & echo $! >$TMP/live.pid; } &&
	live=$(cat $TMP/live.pid) && echo $live >>$TMP/.pids &&
	echo partial >$TMP/k.tar.tmp.$live &&
	ws export bundle-demo -o $TMP/k.tar &&
	test ! -e $TMP/k.tar.tmp.$dead && test -e $TMP/k.tar.tmp.$live &&
	kill $live
'

test_done
