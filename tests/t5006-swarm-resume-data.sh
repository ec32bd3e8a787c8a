#!/bin/sh
# Resume without re-hashing: a fetch saves resume data while it runs, so a
# restart after kill -9 starts from it without checking the files on disk
# (what arrived after the last save comes again); a partial file changed
# while the fetch was stopped is noticed and downloaded again, never
# trusted; a complete release is fsynced (files, then folders) before it is
# moved into place and before the index says so.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 40000000
A=127.0.0.2 B=127.0.0.3 C=127.0.0.4 D=127.0.0.5 E=127.0.0.6

test_expect_success 'A publishes and seeds at 3 MB/s' '
	publish_on A "$TMP/model" resume-data >$TMP/link &&
	start_node A $A --no-dht --upload-limit 3M &&
	wait_for 10 "node_seeds A resume-data@1" &&
	for h in B C D E; do
		WEIGHTSYNC_HOME=$TMP/$h ws trust add resume-data $TMP/A/keys/publisher.key.pub || return 1
	done
'

# partial_bytes HOME - bytes of model data HOME holds in its partial fetch
partial_bytes() {
	du -s --block-size=1 $TMP/$1/tmp/fetch-*/resume-data@1 2>/dev/null | cut -f1
}

# fetch_and_kill HOME ADDR - start a fetch, let it save resume data that
# covers more than 15 MB, kill -9 it.  The seeder is held still (SIGSTOP)
# once 20 MB are on disk (blocks of pieces still in flight count there but
# not in the resume data, hence the margin: 15 MB on disk once resumed
# 14.94 MB), so the fetch cannot end before its next save: a save
# waits up to 20 times what the last one cost (node/fetch_resume.c), which
# under make asan on a busy machine outlasted the rest of the transfer.
# The fetch's stall limit is above the wait's.
fetch_and_kill() {
	WEIGHTSYNC_HOME=$TMP/$1 "$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $2:0 --no-dht --timeout 120 >/dev/null 2>&1 &
	fk_pid=$! && echo $fk_pid >>$TMP/.pids &&
	wait_for 60 "test \$(partial_bytes $1) -gt 20000000" || return 1
	kill -STOP "$(pid_of A)" && touch $TMP/$1.mark && sleep 1 &&
	wait_for 90 "test $TMP/$1/tmp/fetch-*/.resume -nt $TMP/$1.mark" &&
	kill -9 $fk_pid && wait_for 5 "! kill -0 $fk_pid" &&
	cp $TMP/$1/tmp/fetch-*/.resume $TMP/$1.resume
	fk_ret=$?
	kill -CONT "$(pid_of A)"
	return $fk_ret
}

fetch_again() {
	WEIGHTSYNC_HOME=$TMP/$1 ws fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $2:0 --no-dht --timeout 30 --json >$TMP/$1.json
}

same_as_model() {
	dir=$(python3 -c "import json; print(json.load(open(\"$1\"))[\"path\"])") &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $dir/$f || return 1; done
}

test_expect_success 'kill -9 after a resume save; the restart checks nothing on disk before it goes on' '
	fetch_and_kill B $B &&
	fetch_again B $B &&
	say "restart: $(python3 -c "import json; j = json.load(open(\"$TMP/B.json\")); print(\"resumed\", j[\"resumed\"], \"rechecked\", j[\"rechecked\"], \"downloaded\", j[\"downloaded\"], \"of\", j[\"bytes\"], \"whole_file_check\", j[\"whole_file_check\"])")" &&
	json_check $TMP/B.json "j[\"ok\"] and j[\"resumed\"] > 15000000" &&
	# nothing is read back to resume: what came after the last save is
	# downloaded again
	json_check $TMP/B.json "j[\"rechecked\"] == 0 and j[\"distrusted_files\"] == 0" &&
	# what came after the last save (the kill lands within about a second
	# of it, at 3 MB/s) and the pieces unfinished then (4 MiB each, one per
	# file at most) come again
	json_check $TMP/B.json "j[\"downloaded\"] <= j[\"bytes\"] - j[\"resumed\"] + 6000000 + 2 * 4194304" &&
	same_as_model $TMP/B.json &&
	WEIGHTSYNC_HOME=$TMP/B ws audit resume-data
'

# The resume data holds each file's piece layer at most, not libtorrent
# 2.0.8's 16 KiB block hashes (4 MB per GiB, docs/datapath.md): the 40 MB
# shard has one hash per piece (153 of 256 KiB), not 2442.
test_expect_success 'the saved resume data has piece layers, not block hashes' '
	python3 - $TMP/B.resume <<-\PY
	import sys
	def dec(b, i=0):
	    c = b[i:i+1]
	    if c == b"i":
	        e = b.index(b"e", i); return int(b[i+1:e]), e + 1
	    if c in (b"l", b"d"):
	        i += 1; out = []
	        while b[i:i+1] != b"e":
	            v, i = dec(b, i); out.append(v)
	        return (dict(zip(out[::2], out[1::2])) if c == b"d" else out), i + 1
	    n = b.index(b":", i); ln = int(b[i:n])
	    return b[n+1:n+1+ln], n + 1 + ln
	r, _ = dec(open(sys.argv[1], "rb").read())
	hashes = [len(t.get(b"hashes", b"")) // 32 for t in r[b"trees"]]
	print("hashes per file:", hashes, "pieces had:", bin(int.from_bytes(r[b"pieces"], "big")).count("1"))
	info = r[b"info"]
	pl = info[b"piece length"]
	sizes = [f[b"length"] for f in info[b"files"] if b"attr" not in f]
	# one hash per piece of the largest file: its piece layer
	assert max(hashes) == -(-max(sizes) // pl) and pl > 16384, (hashes, pl, sizes)
	assert all(b"verified" not in t for t in r[b"trees"])
	assert any(r[b"pieces"])
	PY
'

test_expect_success 'a partial file altered while stopped is caught and downloaded again' '
	fetch_and_kill C $C &&
	# a change within half a second of the kill cannot be told from the
	# fetch'"'"'s own last writes (docs/datapath.md)
	sleep 1 &&
	shard=$(ls $TMP/C/tmp/fetch-*/resume-data@1/model-00001-of-00002.safetensors) &&
	python3 -c "
import sys
with open(sys.argv[1], \"r+b\") as f:
    for off in range(0, 40000000, 1000000):
        f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xff]) if b else b\"x\")
" "$shard" &&
	fetch_again C $C &&
	json_check $TMP/C.json "j[\"ok\"] and j[\"distrusted_files\"] >= 1" &&
	same_as_model $TMP/C.json &&
	WEIGHTSYNC_HOME=$TMP/C ws audit resume-data
'

test_expect_success 'two fetches of one release on one home: the second waits, both succeed' '
	for i in 1 2; do
		WEIGHTSYNC_HOME=$TMP/E "$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
			--listen $E:0 --no-dht --timeout 60 --json >$TMP/E$i.json 2>$TMP/E$i.err &
		echo $! >$TMP/E$i.pid && echo $! >>$TMP/.pids
	done &&
	wait $(cat $TMP/E1.pid) && wait $(cat $TMP/E2.pid) &&
	json_check $TMP/E1.json "j[\"ok\"]" && json_check $TMP/E2.json "j[\"ok\"]" &&
	# one of them downloaded it; the other found it complete
	python3 -c "import json; a, b = (json.load(open(\"$TMP/E%d.json\" % i)) for i in (1, 2)); assert a[\"path\"] == b[\"path\"]; assert a[\"already_complete\"] != b[\"already_complete\"], (a, b)" &&
	same_as_model $TMP/E1.json &&
	WEIGHTSYNC_HOME=$TMP/E ws audit resume-data &&
	test -z "$(ls $TMP/E/tmp)"
'

if command -v strace >/dev/null 2>&1; then test_set_prereq STRACE
else say "strace not installed: the fsync order is not checked"; fi

test_expect_success STRACE 'files, then folders, then the rename, then the index' '
	# LeakSanitizer cannot run under ptrace (make asan): leave it out here
	ASAN_OPTIONS=detect_leaks=0 WEIGHTSYNC_HOME=$TMP/D strace -f -y -qq -o $TMP/trace \
		-e trace=fsync,fdatasync,msync,rename,renameat,renameat2 \
		"$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) \
		--listen $D:0 --no-dht --timeout 60 >/dev/null &&
	python3 - "$TMP/trace" "$TMP/D" <<-\PY
	import re, sys
	lines = open(sys.argv[1]).read().splitlines()
	def first(pred):
	    for i, l in enumerate(lines):
	        if pred(l): return i
	    return None
	ren = first(lambda l: "rename" in l and "/tmp/fetch-" in l and "/releases/" in l)
	assert ren is not None, "no rename into releases/"
	for f in ("model-00001-of-00002.safetensors", "config.json", "manifest.json"):
	    i = first(lambda l, f=f: l.split("(")[0].endswith("fsync") and f + ">" in l)
	    assert i is not None and i < ren, "%s not fsynced before the rename" % f
	d = first(lambda l: "fsync" in l and re.search(r"/resume-data@1>", l))
	assert d is not None and d < ren, "the release folder is not fsynced before the rename"
	idx = [i for i, l in enumerate(lines) if "data.mdb" in l and ("sync" in l)]
	assert idx and max(idx) > ren, "the index is not synced after the rename"
	print("# order ok: %d fsyncs before the rename at line %d, index sync at %d"
	      % (sum(1 for l in lines[:ren] if "fsync" in l), ren, max(idx)))
	PY
'

test_done
