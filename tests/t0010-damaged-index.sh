#!/bin/sh
# a damaged index/data.mdb (cut to 0 bytes, to 8, 16 or 32 KiB, or one byte
# flipped in a leaf page): every command that reads it exits 2 with a
# message that names the file and says what to do; no crash, never taken
# for an empty index, and nothing under releases/ touched.
cd "$(dirname "$0")" && . ./test-lib.sh

SRC=$TMP/model
IX=$WEIGHTSYNC_HOME/index/data.mdb

# releases_state - every entry under releases/ (path, type, size).
releases_state() {
	(cd "$WEIGHTSYNC_HOME/releases" && find . -printf '%p %y %s\n' | LC_ALL=C sort)
}

# flip_leaf FILE OFFSET - flip one byte of the page that is the root of
# LMDB's main database (a leaf page in an index this small), as the newest
# meta page names it.  Prints the page number.
flip_leaf() {
	python3 -c 'import struct, sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    d = f.read()
    # each meta page: 16-byte header, then magic, version, address, mapsize,
    # two 48-byte MDB_db records (the main one second, its root last), last
    # page, txn id
    psize = struct.unpack_from("<I", d, 16 + 24)[0]
    metas = [struct.unpack_from("<Q", d, p * psize + 16 + 128)[0] for p in (0, 1)]
    meta = (1 if metas[1] > metas[0] else 0) * psize
    root = struct.unpack_from("<Q", d, meta + 16 + 24 + 48 + 40)[0]
    assert d[root * psize + 10] & 2, "the root is not a leaf page"
    f.seek(root * psize + off)
    f.write(bytes([d[root * psize + off] ^ 0x55]))
    print(root)' "$1" "$2"
}

# damaged_by CMD... - CMD exits 2 (a signal is > 128 and fails this) and
# says the index is damaged, naming the file and what to do; nothing under
# releases/ changed.
damaged_by() {
	{ test_must_fail 2 ws "$@" >$TMP/out 2>$TMP/err ||
	  { echo "weightsync $*:" >&2; cat $TMP/err >&2; return 1; }; } &&
	grep_q "^weightsync: the index '$IX' is damaged (" $TMP/err &&
	grep_q "restore it from a backup" $TMP/err &&
	releases_state >$TMP/rel.after && test_cmp $TMP/rel.before $TMP/rel.after
}

# all_refuse - list, audit, publish, log and show all refuse the index.
all_refuse() {
	damaged_by list &&
	damaged_by list --json &&
	damaged_by audit &&
	damaged_by audit llama@2 &&
	damaged_by publish $SRC --name llama &&
	damaged_by log llama &&
	damaged_by show llama@3 &&
	damaged_by trust list
}

restore_index() { cp $TMP/data.mdb.good "$IX"; }

test_expect_success 'setup: four releases of one name, and a copy of the index' '
	ws keygen --no-password >/dev/null 2>&1 &&
	make_model $SRC 65536 &&
	for i in 1 2 3 4; do ws publish $SRC --name llama >/dev/null || exit 1; done &&
	ws audit >/dev/null &&
	test $(stat -c %s "$IX") -gt 32768 &&
	cp "$IX" $TMP/data.mdb.good &&
	releases_state >$TMP/rel.before &&
	test $(grep -c " d " $TMP/rel.before) -ge 5 &&
	ws list >$TMP/list.before
'

test_expect_success 'cut to 0 bytes: damaged, not a new empty index' '
	: >"$IX" &&
	all_refuse &&
	grep_q "(the file is empty)" $TMP/err &&
	test $(stat -c %s "$IX") = 0 &&
	restore_index
'

for kib in 8 16 32; do
	test_expect_success "cut to $kib KiB: damaged" "
		truncate -s ${kib}K \"\$IX\" &&
		all_refuse &&
		grep_q \"the file is $((kib * 1024)) bytes long, its pages reach\" \$TMP/err &&
		restore_index
	"
done

test_expect_success 'one byte flipped in a leaf page: damaged' '
	for off in 10 13 16 17 20; do
		restore_index && flip_leaf "$IX" $off >/dev/null &&
		all_refuse || exit 1
	done &&
	grep_q "page [0-9]*: " $TMP/err &&
	restore_index
'

# a manifest record changed in place, its size and the pages intact: only
# its hash, the key it is kept under, no longer matches
test_expect_success 'a manifest changed in its record: every reader refuses, exit 2' '
	restore_index &&
	python3 -c "import sys
p = sys.argv[1]; d = open(p, \"rb\").read()
assert b\"tokenizer_config.json\" in d
open(p, \"wb\").write(d.replace(b\"tokenizer_config.json\", b\"tokenizer_cOnfig.json\"))" "$IX" &&
	damaged_by list &&
	damaged_by list --json &&
	test ! -s $TMP/out &&
	damaged_by audit &&
	damaged_by audit llama@2 &&
	damaged_by show llama@3 &&
	damaged_by export llama@3 -o $TMP/x.tar &&
	test ! -e $TMP/x.tar &&
	grep_q "(a record fails its checks)" $TMP/err &&
	restore_index
'

test_expect_success 'restored from the copy, everything is as it was' '
	restore_index &&
	ws list >$TMP/list.after && test_cmp $TMP/list.before $TMP/list.after &&
	ws audit >/dev/null &&
	ws show llama@4 >/dev/null &&
	releases_state >$TMP/rel.after && test_cmp $TMP/rel.before $TMP/rel.after
'

# LMDB creates data.mdb, empty, then writes its meta pages, holding a lock
# in lock.mdb: a command starting beside it on a new home (`seed` and the
# `status` that waits for it) saw the empty file and called the index
# damaged, about 1 start in 30 (t5101 failed so in CI).  The size is read
# again once no process is creating the file (store/index_env.c).
test_expect_success 'four commands starting at once on new homes: no index is called damaged' '
	for i in $(seq 1 60); do
		for j in 1 2 3 4; do
			WEIGHTSYNC_HOME=$TMP/new$i ws status >/dev/null 2>$TMP/race.$i.$j &
		done
		wait
	done &&
	! grep -l "is damaged (" $TMP/race.* &&
	test $(ls $TMP/race.* | wc -l) = 240
'

test_done
