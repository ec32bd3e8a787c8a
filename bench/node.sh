#!/bin/sh
# node.sh - time from `weightsync fetch NAME` to the first byte of model
# data through a warm node on the home, beside the same fetch in-process
# (a fresh session, cold DHT), on a 20-node loopback DHT; medians.
#
# Nodes 127.0.0.50..69 form the DHT; the publisher (127.0.0.6) publishes
# RUNS releases under distinct names and seeds them.  A node (127.0.0.7)
# runs on home W, which trusts every name, and has been up for a few
# seconds (its routing table is full).  Run r fetches name r twice: into a
# fresh home in-process (`--no-node`: its own session, bootstrapping), and
# through the warm node on W.  Both report first_data_seconds from the
# command's start (the node counts from the client's start time, same
# clock).  Target: median first byte through the node under 1 s.
set -u
RUNS=${WS_BENCH_NODE_RUNS:-7}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/dht.lib"
bench_init node
# seed HOME ADDR [FLAGS] - a node in the background, waited for
seed() {
	h=$1 a=$2; shift 2
	WEIGHTSYNC_HOME=$h "$WS" seed --listen $a:$(port $a) $BOOT "$@" 2>>$h.log &
	PIDS="$PIDS $!"
	wait_ok 20 status_ok $h || { echo "node.sh: the node on $h did not start" >&2; cat $h.log >&2; exit 1; }
}

start_dht 50 || exit 1
WEIGHTSYNC_HOME=$D/pub "$WS" keygen --no-password >/dev/null 2>&1
r=0
while [ $r -lt "$RUNS" ]; do
	python3 "$here/../tests/gen_model.py" $D/model$r 4194304
	WEIGHTSYNC_HOME=$D/pub "$WS" publish $D/model$r --name bench-node-$r >/dev/null
	WEIGHTSYNC_HOME=$D/W "$WS" trust add bench-node-$r $D/pub/keys/publisher.key.pub >/dev/null
	r=$((r + 1))
done
seed $D/pub 127.0.0.6
wait_ok 30 grep -q "put $((2 * RUNS)) signed name pointers" $D/pub.log ||
	{ echo "node.sh: no put" >&2; exit 1; }
seed $D/W 127.0.0.7
sleep 5   # the node's routing table fills; the publisher's second put settles

echo "$NODES-node DHT on 127.0.0.50..$((49 + NODES)), publisher on 127.0.0.6," \
	"warm node on 127.0.0.7, $RUNS runs (4 MiB releases)"
printf '%-4s %14s %14s %12s %12s %14s %14s\n' run inproc_first_s node_first_s inproc_tot_s \
	node_tot_s inproc_resolve node_resolve
r=0
while [ $r -lt "$RUNS" ]; do
	h=$D/f$r
	WEIGHTSYNC_HOME=$h "$WS" trust add bench-node-$r $D/pub/keys/publisher.key.pub >/dev/null
	WEIGHTSYNC_HOME=$h "$WS" fetch bench-node-$r $BOOT --listen 127.0.0.8:0 --timeout 30 \
		--no-node --json >$D/i$r.json 2>$D/i$r.err || cat $D/i$r.err
	WEIGHTSYNC_HOME=$D/W "$WS" fetch bench-node-$r --timeout 30 --json \
		>$D/n$r.json 2>$D/n$r.err || cat $D/n$r.err
	python3 -c 'import json, sys
i, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("%-4s %14.3f %14.3f %12.3f %12.3f %14.3f %14.3f" % (sys.argv[3],
      i["first_data_seconds"], n["first_data_seconds"], i["seconds"], n["seconds"],
      i["resolve_seconds"], n["resolve_seconds"]))' $D/i$r.json $D/n$r.json $r
	r=$((r + 1))
done | tee $D/table
python3 - $D/table <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0].isdigit()]
inproc = [float(r[1]) for r in rows if float(r[1]) > 0]
node = [float(r[2]) for r in rows if float(r[2]) > 0]
if not inproc or not node:
    sys.exit("no run received model data")
mi, mn = statistics.median(inproc), statistics.median(node)
print("median first byte: in-process %.3f s, through the warm node %.3f s (%.1fx); "
      "target < 1 s through the node: %s" % (mi, mn, mi / mn if mn else 0,
                                             "PASS" if mn < 1 else "MISS"))
PY
