#!/bin/sh
# Big files are fetched a few at a time (node/fetch_order.c): libtorrent
# 2.0.8 holds a file's whole merkle tree in memory while the file is partly
# in, so a fetch that touched every shard of a big model at once would
# hold every tree.  Watched on disk: the shards' files are sparse, and a
# shard is "partly in" while it holds some of its blocks but not all.
cd "$(dirname "$0")" && . ./test-lib.sh

A=127.0.0.2 B=127.0.0.3

# 7 shards of 17 MB (over fetch_order.c's 16 MiB), one small file
python3 - "$TMP/model" <<'EOF'
import os, random, sys
root = sys.argv[1]
os.makedirs(root)
rnd = random.Random(5012)
for i in range(7):
    with open(os.path.join(root, "shard-%d.safetensors" % i), "wb") as f:
        f.write(rnd.randbytes(17_000_000))
with open(os.path.join(root, "config.json"), "w") as f:
    f.write('{"shards": 7}\n')
EOF

test_expect_success 'A publishes 7 shards of 17 MB and seeds them at 12 MB/s' '
	publish_on A "$TMP/model" order >$TMP/link &&
	start_node A $A --no-dht --upload-limit 12M &&
	wait_for 10 "node_seeds A order@1" &&
	WEIGHTSYNC_HOME=$TMP/B ws trust add order $TMP/A/keys/publisher.key.pub
'

# watch DIR OUT - every 0.1 s until DIR is gone (60 s at most), append the
# number of shards partly in to OUT.  A shard counts when two samples in a
# row see it partly in, so one odd reading of a file's allocated size (what
# the watch reads; CI once failed this test in make asan, with the cause
# cut from its log) is not taken for a fetch; a shard really fetched
# alongside others stays partly in for seconds.  When more than 5 count,
# OUT.why gets their names and allocated bytes.
cat >$TMP/watch.py <<'EOF'
import glob, os, sys, time
pattern, out = sys.argv[1], sys.argv[2]
seen = False
before = set()
with open(out, "w") as o, open(out + ".why", "w") as why:
    for _ in range(600):
        files = glob.glob(pattern)
        if files:
            seen = True
        elif seen:
            break
        now, held_of = set(), {}
        for p in files:
            try:
                st = os.stat(p)
            except FileNotFoundError:
                continue
            held = min(st.st_blocks * 512, st.st_size)
            if 0 < held < st.st_size:
                now.add(p)
                held_of[p] = held
        both = now & before
        before = now
        o.write("%d\n" % len(both))
        o.flush()
        if len(both) > 5:
            why.write(" ".join("%s:%d" % (os.path.basename(p), held_of[p])
                               for p in sorted(both)) + "\n")
        time.sleep(0.1)
EOF

# fetch_order.c gives 4 shards the top priority and the others the lowest;
# libtorrent's priorities are preferences, and it may start one more shard
# before the 4 are all asked for: 5 at most, not all 7 (as before).
test_expect_success 'B fetches them byte-identical, never more than 5 shards partly in' '
	python3 $TMP/watch.py "$TMP/B/tmp/fetch-*/order@1/shard-*.safetensors" $TMP/partly &
	watch_pid=$! && echo $watch_pid >>$TMP/.pids &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 30 -o $TMP/outB --json >$TMP/fetchB.json &&
	wait_for 10 "! kill -0 $watch_pid" &&
	json_check $TMP/fetchB.json "j[\"ok\"]" &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $TMP/outB/$f || return 1; done &&
	say "shards partly in, most at once: $(sort -n $TMP/partly | tail -n 1), samples: $(wc -l <$TMP/partly)" &&
	# the watch saw the download (at 12 MB/s about 10 s)
	test $(grep -c "^[1-9]" $TMP/partly) -ge 20 &&
	{ test $(sort -n $TMP/partly | tail -n 1) -le 5 || { head -n 3 $TMP/partly.why; false; }; }
'

# Version 2 changes one shard: B links the other 6 in from its store and
# libtorrent checks them, then fetches only what changed.  A file of
# priority 0 is read from libtorrent's part file, not from the file linked
# in, so the window waits for that check (the 6 shards must not be fetched
# again).
test_expect_success 'version 2 with one shard changed: B fetches that shard only' '
	python3 -c "import sys; f = open(sys.argv[1], \"r+b\"); f.seek(1000); f.write(b\"changed\")" \
		$TMP/model/shard-6.safetensors &&
	publish_on A "$TMP/model" order >$TMP/link2 &&
	wait_for 20 "node_seeds A order@2" &&
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link2)" --peer $A:$(port_of A) \
		--listen $B:0 --no-dht --timeout 30 --json >$TMP/fetch2.json &&
	say "$(python3 -c "import json; j = json.load(open(\"$TMP/fetch2.json\")); print(\"reused\", j[\"reused\"], \"downloaded\", j[\"downloaded\"])")" &&
	json_check $TMP/fetch2.json "j[\"ok\"] and j[\"reused\"] >= 6 * 17000000 and j[\"downloaded\"] < 2 * 17000000"
'

test_expect_success 'A stops cleanly' '
	stop_node A
'

test_done
