#!/bin/sh
# demo.sh - the local swarm demo, on loopback only.
#
# A private swarm of three nodes that bootstrap their DHT from each other:
# the publisher A (127.0.0.2) signs a generated model, seeds it and puts its
# signed name pointer into the DHT; B (127.0.0.3) runs `weightsync fetch
# demo-model` by name, verifies it, and its node seeds it and keeps the
# pointer alive; the publisher goes offline for good; C (127.0.0.4) fetches
# demo-model by name from what is left, verifies, audits, and catches one
# changed byte.  B is also a curator (a signed name list saying which key
# demo-model means) and keeps A's signed catalog: a newcomer D holding only
# B's curator key fetches demo-model by name and finds it with `search`.
# Every process is stopped by PID and the temporary folder removed at the
# end.
set -eu
WS=${WS_BIN:-$(dirname "$0")/../build/weightsync}
HERE=$(cd "$(dirname "$0")" && pwd)
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/weightsync-demo.XXXXXX")
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null || true
	done
	rm -rf "$DEMO"
}
trap cleanup EXIT INT TERM
step() { printf '\n== %s\n' "$*"; }
port() { python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"; }
ws() { h=$1; shift; WEIGHTSYNC_HOME="$DEMO/$h" "$WS" "$@"; }
# start_node HOME ADDR PORT [OPTIONS]: a node, waited for (10 s at most)
start_node() {
	h=$1 a=$2 p=$3; shift 3
	WEIGHTSYNC_HOME="$DEMO/$h" "$WS" seed --listen "$a:$p" "$@" 2>"$DEMO/$h.log" &
	PIDS="$PIDS $!"
	eval "PID_$h=$!"
	i=0
	until ws "$h" status >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: node $h did not start" >&2; exit 1; }
		sleep 0.1
	done
}
# wait_until SECONDS WHAT CMD...: poll CMD every 0.2 s
wait_until() {
	n=$(($1 * 5)) what=$2; shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt $n ] || { echo "demo: timed out waiting for $what" >&2; exit 1; }
		sleep 0.2
	done
}
dht_ready() { ws "$1" status --json | python3 -c 'import json, sys
sys.exit(0 if json.load(sys.stdin)["dht_nodes"] >= 1 else 1)'; }
seeds() { ws "$1" status | grep -q "$2 *seeding"; }
# resolves HOME NAME KEY: HOME's node finds NAME's signed pointer under KEY
# in the DHT
resolves() { ws "$1" resolve "$2" --publisher "$3" --timeout 2; }

step "generating a model folder (safetensors shards, config, tokenizer)"
python3 "$HERE/../tests/gen_model.py" "$DEMO/demo-model" 8388608
ls -l "$DEMO/demo-model"

step "publisher A: a key (minisign format) and a signed release of demo-model"
ws A keygen --no-password
ws A publish "$DEMO/demo-model" --name demo-model --copy --origin "hf://demo/demo-model@0000000" \
	--license apache-2.0 --description "a generated demo model (safetensors shards)"
REL_A=$(ws A show demo-model --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["path"])')

step "minisign itself verifies the manifest"
minisign -V -p "$DEMO/A/keys/publisher.key.pub" -m "$REL_A/.weightsync/manifest.json"

PA=$(port 127.0.0.2) PB=$(port 127.0.0.3) PC=$(port 127.0.0.4)
BOOT="--bootstrap 127.0.0.3:$PB --bootstrap 127.0.0.4:$PC"
step "three nodes: A (publisher) on 127.0.0.2:$PA, B on 127.0.0.3:$PB, C on 127.0.0.4:$PC, DHT bootstrapped from each other"
start_node B 127.0.0.3 "$PB" --bootstrap "127.0.0.4:$PC" --bootstrap "127.0.0.2:$PA" --reput-interval 5
start_node C 127.0.0.4 "$PC" --bootstrap "127.0.0.3:$PB" --bootstrap "127.0.0.2:$PA"
start_node A 127.0.0.2 "$PA" $BOOT
wait_until 30 "A's DHT" dht_ready A
wait_until 30 "A's name pointer in the DHT" grep -q "put [0-9]* signed name pointers" "$DEMO/A.log"
ws A status

step "B trusts the publisher's key for demo-model, then: weightsync fetch demo-model"
ws B trust add demo-model "$DEMO/A/keys/publisher.key.pub"
wait_until 30 "demo-model to resolve" ws B resolve demo-model $BOOT --listen 127.0.0.3:0 --timeout 5
WEIGHTSYNC_HOME="$DEMO/B" "$WS" fetch demo-model $BOOT --listen 127.0.0.3:0 --timeout 30

step "B's node picks up the release by itself, seeds it and re-puts its pointer"
wait_until 30 "B to seed" seeds B demo-model@1
ws B status

step "B is also a curator: it signs a name list (demo-model means A's key) and keeps A's signed catalog"
ws B keygen --no-password
ws B curate add demo-model "$DEMO/A/keys/publisher.key.pub"
WEIGHTSYNC_HOME="$DEMO/B" "$WS" catalog "$DEMO/A/keys/publisher.key.pub" $BOOT --listen 127.0.0.3:0
wait_until 30 "B to seed its curator list" seeds B curator@1
wait_until 30 "B to seed A's catalog" seeds B catalog@1

wait_until 60 "B's curator list to be found in the DHT" \
	resolves C curator "$DEMO/B/keys/publisher.key.pub"
wait_until 60 "A's catalog to be found in the DHT" \
	resolves C catalog "$DEMO/A/keys/publisher.key.pub"

step "newcomer D (127.0.0.5) holds only B's curator key: subscribe, fetch demo-model by name, search"
ws D trust subscribe "$DEMO/B/keys/publisher.key.pub"
WEIGHTSYNC_HOME="$DEMO/D" "$WS" fetch demo-model --bootstrap "127.0.0.3:$PB" \
	--listen 127.0.0.5:0 --timeout 30
WEIGHTSYNC_HOME="$DEMO/D" "$WS" search safetensors --bootstrap "127.0.0.3:$PB" \
	--listen 127.0.0.5:0 --timeout 5 | tee "$DEMO/search.out"
grep -q "^demo-model@1 " "$DEMO/search.out"

step "the publisher goes offline for good"
kill "$PID_A"
i=0
while kill -0 "$PID_A" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
rm -rf "$DEMO/A/releases"
echo "A is stopped and its copy of the release is deleted"

step "C trusts the key and runs: weightsync fetch demo-model -o C-demo-model"
ws C trust add demo-model "$DEMO/A/keys/publisher.key.pub"
WEIGHTSYNC_HOME="$DEMO/C" "$WS" fetch demo-model --bootstrap "127.0.0.3:$PB" \
	--listen 127.0.0.4:0 --timeout 30 -o "$DEMO/C-demo-model"
for f in $(cd "$DEMO/demo-model" && ls); do
	cmp "$DEMO/demo-model/$f" "$DEMO/C-demo-model/$f"
done
echo "every file C received is byte-identical to what A published"

step "C audits its store"
ws C audit demo-model

step "changing one byte in the middle of one of C's shards"
REL_C=$(ws C show demo-model --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["path"])')
# break the link to the -o folder first, so only the store's copy changes
cp "$REL_C/model-00001-of-00002.safetensors" "$DEMO/shard" && mv "$DEMO/shard" "$REL_C/model-00001-of-00002.safetensors"
printf 'X' | dd of="$REL_C/model-00001-of-00002.safetensors" bs=1 seek=1000000 conv=notrunc 2>/dev/null
set +e
ws C audit demo-model
rc=$?
set -e
if [ "$rc" -ne 1 ]; then
	echo "demo: the audit did not catch the change (exit $rc)" >&2
	exit 1
fi
step "the audit caught it (exit status 1); the demo is over, cleaning up"
