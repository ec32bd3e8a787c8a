#!/bin/sh
# demo.sh - the local demo: publish a generated model, audit it, damage one
# byte of one shard and watch the audit catch it.  Everything lives in a
# temporary folder that is removed at the end.
set -eu
WS=${WS_BIN:-$(dirname "$0")/../build/weightsync}
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/weightsync-demo.XXXXXX")
trap 'rm -rf "$DEMO"' EXIT
export WEIGHTSYNC_HOME="$DEMO/home"
step() { printf '\n== %s\n' "$*"; }

step "generating a small model folder (safetensors shards, config, tokenizer)"
python3 "$(dirname "$0")/../tests/gen_model.py" "$DEMO/demo-model" 4194304
ls -l "$DEMO/demo-model"

step "making a publisher key (minisign format, no password for the demo)"
"$WS" keygen --no-password

step "publishing it as demo-model"
"$WS" publish "$DEMO/demo-model" --name demo-model --copy --origin "hf://demo/demo-model@0000000"

step "checking the signature with minisign itself"
REL=$("$WS" show demo-model --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])')
minisign -V -p "$WEIGHTSYNC_HOME/keys/publisher.key.pub" -m "$REL/.weightsync/manifest.json"

step "auditing the store: every file should be intact"
"$WS" audit demo-model

step "changing one byte in the middle of one shard"
printf 'X' | dd of="$REL/model-00001-of-00002.safetensors" bs=1 seek=1000000 conv=notrunc 2>/dev/null
set +e
"$WS" audit demo-model
rc=$?
set -e
if [ "$rc" -eq 1 ]; then
	step "the audit caught it (exit status 1)"
else
	echo "demo: the audit did not catch the change (exit $rc)" >&2
	exit 1
fi
