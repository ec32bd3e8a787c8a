#!/bin/sh
# A release of hundreds of small files in nested folders gets small pieces
# (every file is padded to a whole piece in a hybrid torrent), and a second
# node fetches it over loopback byte for byte; both sides audit clean.
cd "$(dirname "$0")" && . ./test-lib.sh

A=127.0.0.2 B=127.0.0.3

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

test_expect_success 'A stops cleanly' '
	stop_node A
'

test_done
