#!/bin/sh
# names.sh - time from `weightsync fetch NAME` to the first byte of model
# data, on a 20-node loopback DHT, median of several runs.
#
# Nodes 127.0.0.30..49 run `weightsync seed` with the DHT on, bootstrapping
# from the first two; the publisher (127.0.0.2, also in the DHT) seeds a
# small release and puts its signed pointer.  Each run is a fresh home that
# trusts the key and fetches by name (only bootstrap nodes are given: the
# pointer and the peers both come from the DHT).  The fetch's own report
# (--json) gives resolve_seconds and first_data_seconds, measured from the
# command's start.  Target: median first byte under 2 s.
set -u
RUNS=${WS_BENCH_NAME_RUNS:-7}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/dht.lib"
bench_init names
start_dht 30 || exit 1
python3 "$here/../tests/gen_model.py" $D/model 8388608
WEIGHTSYNC_HOME=$D/pub "$WS" keygen --no-password >/dev/null 2>&1
WEIGHTSYNC_HOME=$D/pub "$WS" publish $D/model --name bench-name >/dev/null
WEIGHTSYNC_HOME=$D/pub "$WS" seed --listen 127.0.0.2:$(port 127.0.0.2) $BOOT 2>>$D/pub.log &
PIDS="$PIDS $!"
wait_ok 30 grep -q "put 2 signed name pointers" $D/pub.log || { echo "names.sh: no put" >&2; exit 1; }
sleep 5   # let the second put settle and the routing tables fill

echo "$NODES-node DHT on 127.0.0.30..$((29 + NODES)), publisher on 127.0.0.2, $RUNS runs"
printf '%-4s %10s %12s %10s\n' run resolve_s first_byte_s total_s
r=0
while [ $r -lt "$RUNS" ]; do
	h=$D/f$r
	WEIGHTSYNC_HOME=$h "$WS" trust add bench-name $D/pub/keys/publisher.key.pub >/dev/null
	WEIGHTSYNC_HOME=$h "$WS" fetch bench-name $BOOT --listen 127.0.0.3:0 --timeout 30 \
		--json >$D/r$r.json 2>$D/r$r.err || { cat $D/r$r.err; }
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print("%-4s %10.3f %12.3f %10.3f" % (sys.argv[2], j["resolve_seconds"], j["first_data_seconds"], j["seconds"]))' $D/r$r.json $r
	r=$((r + 1))
done | tee $D/table
python3 - $D/table <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0].isdigit()]
first = [float(r[2]) for r in rows if float(r[2]) > 0]
res = [float(r[1]) for r in rows]
if not first:
    sys.exit("no run received model data")
m = statistics.median(first)
print("median resolve %.3f s, median first byte %.3f s (target < 2 s): %s"
      % (statistics.median(res), m, "PASS" if m < 2 else "MISS"))
PY
