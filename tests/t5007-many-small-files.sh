#!/bin/sh
# A release of hundreds of small files in nested folders gets small pieces
# (every file is padded to a whole piece in a hybrid torrent), and a second
# node fetches it over loopback byte for byte; both sides audit clean.
cd "$(dirname "$0")" && . ./test-lib.sh

A=127.0.0.2 B=127.0.0.3 C=127.0.0.4

# 600 files of 1 B - 6 KiB under three levels of folders, two empty files,
# and a few around and over one 32 KiB piece
python3 - "$TMP/model" <<'EOF'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(5007)
def put(rel, n):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rnd.randbytes(n))
for i in range(600):
    put("d%d/s%d/t%d/f%03d.bin" % (i % 7, i % 5, i % 3, i), rnd.randint(1, 6144))
for rel, n in (("empty", 0), ("d1/empty.txt", 0), ("piece-1", 32767),
               ("piece", 32768), ("piece+1", 32769), ("d2/three", 100000)):
    put(rel, n)
EOF

test_expect_success 'A publishes 606 small files with 32 KiB pieces' '
	WEIGHTSYNC_HOME=$TMP/A ws keygen --no-password >/dev/null 2>&1 &&
	WEIGHTSYNC_HOME=$TMP/A ws publish $TMP/model --name small-files --json >$TMP/pub.json &&
	json_check $TMP/pub.json "j[\"piece_size\"] == 32768" &&
	python3 -c "import json; print(json.load(open(\"$TMP/pub.json\"))[\"link\"])" >$TMP/link &&
	start_node A $A &&
	wait_for 10 "node_seeds A small-files@1"
'

test_expect_success 'B fetches them from A, byte-identical' '
	WEIGHTSYNC_HOME=$TMP/B ws trust add small-files $TMP/A/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 30 -o $TMP/outB --json >$TMP/fetchB.json &&
	json_check $TMP/fetchB.json "j[\"ok\"] and j[\"downloaded\"] >= j[\"bytes\"]" &&
	diff -r --exclude=.weightsync $TMP/model $TMP/outB
'

test_expect_success 'audit passes on both sides' '
	WEIGHTSYNC_HOME=$TMP/A ws audit small-files >$TMP/auditA &&
	grep_q "606 ok" $TMP/auditA &&
	WEIGHTSYNC_HOME=$TMP/B ws audit small-files >$TMP/auditB &&
	grep_q "606 ok" $TMP/auditB &&
	WEIGHTSYNC_HOME=$TMP/B ws audit $TMP/outB
'

if command -v strace >/dev/null 2>&1; then test_set_prereq STRACE
else say "strace not installed: the sync of many files is not checked"; fi

# store/durable.h: above WS_SYNCFS_FILES files, one syncfs instead of an
# fsync per file (each commits the ext4 journal), still before the rename
test_expect_success STRACE 'C fetches them: syncfs, not 606 fsyncs, before the rename' '
	WEIGHTSYNC_HOME=$TMP/C ws trust add small-files $TMP/A/keys/publisher.key.pub &&
	ASAN_OPTIONS=detect_leaks=0 WEIGHTSYNC_HOME=$TMP/C strace -f -y -qq -o $TMP/trace \
		-e trace=fsync,fdatasync,syncfs,rename,renameat,renameat2 \
		"$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $C:0 --no-dht --timeout 60 >/dev/null &&
	python3 - "$TMP/trace" <<-\PY
	import sys
	lines = open(sys.argv[1]).read().splitlines()
	ren = [i for i, l in enumerate(lines)
	       if "rename" in l and "/tmp/fetch-" in l and "/releases/" in l]
	assert ren, "no rename into releases/"
	before = lines[:ren[0]]
	syncfs = [l for l in before if "syncfs(" in l]
	fsyncs = [l for l in before if l.split("(")[0].endswith(" fsync")]
	assert syncfs, "no syncfs before the rename"
	# a resume save syncs at most WS_SYNCFS_FILES (16) files one by one
	assert len(fsyncs) < 120, "%d fsyncs before the rename" % len(fsyncs)
	print("# %d syncfs and %d fsyncs before the rename" % (len(syncfs), len(fsyncs)))
	PY
	diff -r --exclude=.weightsync $TMP/model $TMP/C/releases/*/small-files@1
'

test_expect_success 'A stops cleanly' '
	stop_node A
'

test_done
