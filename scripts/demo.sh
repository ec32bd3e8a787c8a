#!/bin/sh
# demo.sh - the local swarm demo, on loopback only.
#
# A publisher (node A, 127.0.0.2) signs and seeds a generated model; node B
# (127.0.0.3) fetches it, verifies it and seeds it too; the publisher goes
# offline; node C (127.0.0.4) fetches the release from B alone and audits
# it; one byte of one shard is changed and the audit catches it.  Every
# process is stopped by PID and the temporary folder removed at the end.
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
# start_node HOME ADDR PORT: a seeding node, waited for (10 s at most)
start_node() {
	WEIGHTSYNC_HOME="$DEMO/$1" "$WS" seed --listen "$2:$3" --no-dht \
		2>"$DEMO/$1.log" &
	PIDS="$PIDS $!"
	eval "PID_$1=$!"
	i=0
	until ws "$1" status >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: node $1 did not start" >&2; exit 1; }
		sleep 0.1
	done
}

step "generating a model folder (safetensors shards, config, tokenizer)"
python3 "$HERE/../tests/gen_model.py" "$DEMO/demo-model" 8388608
ls -l "$DEMO/demo-model"

step "publisher A: a key (minisign format) and a signed release of demo-model"
ws A keygen --no-password
ws A publish "$DEMO/demo-model" --name demo-model --copy --origin "hf://demo/demo-model@0000000"
LINK=$(ws A show demo-model --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["link"])')
REL_A=$(ws A show demo-model --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["path"])')

step "minisign itself verifies the manifest"
minisign -V -p "$DEMO/A/keys/publisher.key.pub" -m "$REL_A/.weightsync/manifest.json"

PA=$(port 127.0.0.2) PB=$(port 127.0.0.3)
step "A seeds on 127.0.0.2:$PA; B runs a node on 127.0.0.3:$PB"
start_node A 127.0.0.2 "$PA"
start_node B 127.0.0.3 "$PB"

step "B trusts the publisher's key for demo-model and fetches it from A"
ws B trust add demo-model "$DEMO/A/keys/publisher.key.pub"
ws B fetch "$LINK" --peer "127.0.0.2:$PA" --listen 127.0.0.3:0 --no-dht --timeout 30

step "B's node picks up the new release by itself and seeds it"
i=0
until ws B status | grep -q 'demo-model@1 *seeding'; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: B did not seed" >&2; exit 1; }
	sleep 0.1
done
ws B status

step "the publisher goes offline"
kill "$PID_A"
i=0
while kill -0 "$PID_A" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

step "C fetches demo-model from B alone, into an ordinary folder"
ws C trust add demo-model "$DEMO/A/keys/publisher.key.pub"
ws C fetch "$LINK" --peer "127.0.0.3:$PB" --listen 127.0.0.4:0 --no-dht --timeout 30 -o "$DEMO/C-demo-model"
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
