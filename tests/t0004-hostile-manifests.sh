#!/bin/sh
# audit DIR of release folders with forged, altered and hostile manifests.
# The hostile ones are signed correctly (minisign, with the publisher's
# own key), so the parser, not the signature, has to refuse them.
cd "$(dirname "$0")" && . ./test-lib.sh

KEY=$WEIGHTSYNC_HOME/keys/publisher.key
H=$TMP/h
M=$H/.weightsync/manifest.json

# fresh - $H, a new plain copy of the published release folder.
fresh() { rm -rf $H && cp -r $TMP/base $H; }

# mutate PYTHON - rewrite $M: PYTHON edits the parsed manifest m (files
# list sorted by path again afterwards, so only what PYTHON broke is wrong).
mutate() {
	python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[2])
m["files"].sort(key=lambda f: f["path"].encode())
open(sys.argv[1], "w").write(json.dumps(m, indent=2) + "\n")' $M "$1"
}

# resign [REF] - sign $M with the publisher key and the trusted comment
# weightsync expects ("weightsync release NAME@V manifest sha256:HEX").
resign() {
	h=$(sha256sum <$M | cut -c1-64) && rm -f $M.minisig &&
	minisign -S -s $KEY -m $M -t "weightsync release ${1:-llama@1} manifest sha256:$h" \
		</dev/null >/dev/null
}

# entry_of FILE PATH - a manifest file entry (Python dict literal) for
# FILE's contents under the name PATH, with an independent merkle root.
entry_of() {
	python3 -c 'import hashlib, sys
d = open(sys.argv[1], "rb").read()
l = [hashlib.sha256(d[i:i + 16384]).digest() for i in range(0, len(d), 16384)]
n = 1
while n < len(l): n *= 2
l += [bytes(32)] * (n - len(l))
while len(l) > 1:
    l = [hashlib.sha256(l[i] + l[i + 1]).digest() for i in range(0, len(l), 2)]
print(repr({"path": sys.argv[2], "size": len(d),
            "sha256": hashlib.sha256(d).hexdigest(), "pieces_root": l[0].hex()}))' "$1" "$2"
}

# refused CODE PATTERN - audit $H exits CODE, says PATTERN on stderr and
# reports the manifest refused on stdout; the store is not touched.
refused() {
	store_state >$TMP/before &&
	test_must_fail $1 ws audit $H >$TMP/out 2>$TMP/err &&
	grep_q "$2" $TMP/err &&
	grep_q "^$H: manifest refused: .*$2" $TMP/out &&
	! grep -q "^  ok " $TMP/out &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
}

# outside_untouched - when strace works, audit $H again under it: no file
# call may name anything under $TMP outside $H, nor /etc/passwd.
outside_untouched() {
	test_have_prereq STRACE || return 0
	strace -f -qq -e trace=%file -o $TMP/trace "$WS_BIN" audit $H >/dev/null 2>&1 || :
	test -s $TMP/trace && grep -q "$H/.weightsync/manifest.json" $TMP/trace
	if grep -e "$TMP/evil" -e "/etc/passwd" $TMP/trace; then
		echo "audit looked outside the folder" >&2
		return 1
	fi
}

strace -f -qq -e trace=%file -o /dev/null true 2>/dev/null && test_set_prereq STRACE

test_expect_success MINISIGN 'setup: a published release, a copy, another key' '
	ws keygen --no-password >/dev/null 2>&1 &&
	make_model $TMP/model &&
	ws publish $TMP/model --name llama >/dev/null &&
	cp -r "$(release_dir llama 1)" $TMP/base &&
	minisign -G -W -p $TMP/other.pub -s $TMP/other.key </dev/null >/dev/null &&
	fresh && ws audit $H >$TMP/out && grep_q "6 files: 6 ok" $TMP/out
'

test_expect_success MINISIGN 'control: a benign edit, re-signed here, is accepted' '
	fresh && mutate "m[\"license\"] = \"apache-2.0\"" && resign &&
	ws audit $H >$TMP/out 2>$TMP/err && grep_q "6 files: 6 ok" $TMP/out
'

# ---- signatures ----

test_expect_success 'a forged signature (one base64 character changed)' '
	fresh &&
	python3 -c "import sys
p = sys.argv[1]; l = open(p).read().split(\"\\n\")
c = l[1][40]; l[1] = l[1][:40] + (\"A\" if c != \"A\" else \"B\") + l[1][41:]
open(p, \"w\").write(\"\\n\".join(l))" $M.minisig &&
	refused 1 "signature verification failed"
'

test_expect_success 'the manifest changed by one byte under the original signature' '
	fresh &&
	python3 -c "import sys
p = sys.argv[1]; t = open(p).read(); i = t.index(\"\\\"sha256\\\": \\\"\") + 11
open(p, \"w\").write(t[:i] + (\"0\" if t[i] != \"0\" else \"1\") + t[i + 1:])" $M &&
	! cmp -s $M $TMP/base/.weightsync/manifest.json &&
	refused 1 "signature verification failed"
'

test_expect_success MINISIGN 'a signature by another key' '
	fresh && h=$(sha256sum <$M | cut -c1-64) && rm $M.minisig &&
	minisign -S -s $TMP/other.key -m $M -t "weightsync release llama@1 manifest sha256:$h" \
		</dev/null >/dev/null &&
	refused 1 "signature was made by a different key"
'

test_expect_success MINISIGN 'a valid signature with the wrong trusted comment' '
	fresh && resign llama@2 &&
	refused 1 "trusted comment does not match the manifest"
'

test_expect_success 'a trusted comment edited after signing' '
	fresh && sed -i "3s/llama@1/llama@9/" $M.minisig &&
	refused 1 "trusted comment signature verification failed"
'

test_expect_success 'a malformed signature file' '
	fresh && head -2 $M.minisig >$TMP/sig && mv $TMP/sig $M.minisig &&
	refused 1 "malformed signature file"
'

test_expect_success 'a missing signature file' '
	fresh && rm $M.minisig &&
	test_must_fail 1 ws audit $H >$TMP/out 2>$TMP/err &&
	grep_q "cannot read .*manifest.json.minisig.: No such file or directory" $TMP/err &&
	! grep -q "without its own manifest" $TMP/err
'

test_expect_success 'a truncated manifest' '
	fresh && head -c 300 $TMP/base/.weightsync/manifest.json >$M &&
	refused 1 "manifest is not valid JSON"
'

test_expect_success 'a manifest that is not an object, --json' '
	fresh && echo "[]" >$M &&
	test_must_fail 1 ws audit $H --json >$TMP/j 2>$TMP/err &&
	grep_q "manifest is not a JSON object" $TMP/err &&
	json_check $TMP/j "j[\"intact\"] is False and j[\"releases\"][0][\"signature\"] == \"bad\"" &&
	json_check $TMP/j "\"not a JSON object\" in j[\"releases\"][0][\"error\"]"
'

# ---- validly signed, hostile content: unsafe paths (exit 2, WS_EPATH) ----
# Each is built so that an audit that followed the path would find the
# bytes it promises and call the folder intact.

test_expect_success MINISIGN 'path "../evil"' '
	fresh && cp $H/config.json $TMP/evil && rm $H/config.json &&
	mutate "[f.update(path=\"../evil\") for f in m[\"files\"] if f[\"path\"] == \"config.json\"]" &&
	resign && refused 1 "unsafe path .\.\./evil." && outside_untouched
'

test_expect_success MINISIGN 'path "/etc/passwd"' '
	fresh && e=$(entry_of /etc/passwd /etc/passwd) &&
	mutate "m[\"files\"].append($e)" &&
	resign && refused 1 "unsafe path ./etc/passwd." && outside_untouched
'

test_expect_success MINISIGN 'path "a//b"' '
	fresh && mkdir $H/a && mv $H/config.json $H/a/b &&
	mutate "[f.update(path=\"a//b\") for f in m[\"files\"] if f[\"path\"] == \"config.json\"]" &&
	resign && refused 1 "unsafe path .a//b."
'

test_expect_success MINISIGN 'path "a/./b"' '
	fresh && mkdir $H/a && mv $H/config.json $H/a/b &&
	mutate "[f.update(path=\"a/./b\") for f in m[\"files\"] if f[\"path\"] == \"config.json\"]" &&
	resign && refused 1 "unsafe path .a/\./b."
'

test_expect_success MINISIGN 'path listed twice' '
	fresh &&
	mutate "m[\"files\"] += [dict(f) for f in m[\"files\"] if f[\"path\"] == \"config.json\"]" &&
	resign && refused 1 "path .config.json. appears twice"
'

test_expect_success MINISIGN 'path with a backslash' '
	fresh && mv $H/config.json "$H/a\\b" &&
	mutate "[f.update(path=\"a\\\\b\") for f in m[\"files\"] if f[\"path\"] == \"config.json\"]" &&
	grep -q "\"a\\\\\\\\b\"" $M &&
	resign && refused 1 "unsafe path .a\\\\b."
'

test_expect_success MINISIGN 'path with a control character' '
	fresh && mv $H/config.json "$H/a$(printf "\001")b" &&
	mutate "[f.update(path=\"a\\x01b\") for f in m[\"files\"] if f[\"path\"] == \"config.json\"]" &&
	grep -q "a\\\\u0001b" $M &&
	resign && refused 1 "unsafe path .(unprintable)."
'

test_expect_success MINISIGN 'path inside .weightsync/' '
	fresh && mv $H/config.json $H/.weightsync/x &&
	mutate "[f.update(path=\".weightsync/x\") for f in m[\"files\"] if f[\"path\"] == \"config.json\"]" &&
	resign && refused 1 "unsafe path .\.weightsync/x."
'

test_expect_success MINISIGN 'a path that is both a file and a folder' '
	fresh && mkdir $H/config.json.d &&
	e=$(entry_of $H/tokenizer_config.json config.json/x) &&
	mutate "m[\"files\"].append($e)" &&
	resign && refused 1 "path .config.json. is both a file and a folder"
'

test_expect_success MINISIGN 'files out of order' '
	fresh &&
	python3 -c "import json, sys
m = json.load(open(sys.argv[1])); m[\"files\"].reverse()
open(sys.argv[1], \"w\").write(json.dumps(m, indent=2))" $M &&
	resign && refused 1 "files are not sorted by path"
'

# ---- validly signed, malformed content (exit 1, WS_EFORMAT) ----

test_expect_success MINISIGN 'an unknown top-level key' '
	fresh && mutate "m[\"evil\"] = 1" && resign &&
	refused 1 "unknown field .evil. in manifest"
'

test_expect_success MINISIGN 'an unknown key in a file entry' '
	fresh && mutate "m[\"files\"][0][\"mode\"] = 420" && resign &&
	refused 1 "unknown field .mode. in file 1"
'

test_expect_success MINISIGN 'a duplicate JSON key' '
	fresh &&
	python3 -c "import sys
p = sys.argv[1]; t = open(p).read()
t = t.replace(\"\\\"name\\\": \\\"llama\\\",\", \"\\\"name\\\": \\\"llama\\\", \\\"name\\\": \\\"other\\\",\", 1)
open(p, \"w\").write(t)" $M &&
	grep -q "\"name\": \"other\"" $M &&
	resign && refused 1 "duplicate object key"
'

test_expect_success MINISIGN 'version 0' '
	fresh && mutate "m[\"version\"] = 0" && resign llama@0 &&
	refused 1 "version must be an integer from 1"
'

test_expect_success MINISIGN 'version 2 without a previous manifest' '
	fresh && mutate "m[\"version\"] = 2" && resign llama@2 &&
	refused 1 "version 2 must name its previous manifest"
'

test_expect_success MINISIGN 'a negative size, uppercase hex' '
	fresh && mutate "m[\"files\"][0][\"size\"] = -1" && resign &&
	refused 1 "file 1: .size. must be a non-negative integer" &&
	fresh && mutate "m[\"files\"][0][\"sha256\"] = m[\"files\"][0][\"sha256\"].upper()" &&
	resign && refused 1 "file 1: .sha256. must be lowercase hex"
'

# ---- validly signed, refused for other reasons (exit 2) ----

test_expect_success MINISIGN 'an unknown "format"' '
	fresh && mutate "m[\"format\"] = \"weightsync-manifest-2\"" && resign &&
	refused 1 "unknown manifest format .weightsync-manifest-2."
'

test_expect_success MINISIGN 'an invalid release name' '
	fresh && mutate "m[\"name\"] = \"../x\"" && resign ../x@1 &&
	refused 1 "manifest .name. is missing or invalid"
'

test_expect_success MINISIGN 'a 17 MiB manifest' '
	fresh && mutate "m[\"license\"] = \"x\" * (17 << 20)" && resign &&
	test $(stat -c %s $M) -gt $((17 << 20)) &&
	store_state >$TMP/before &&
	test_must_fail 1 ws audit $H >$TMP/out 2>$TMP/err &&
	grep_q "manifest.json.* larger than the limit of 16777216 bytes" $TMP/err &&
	! grep -q "without its own manifest" $TMP/err &&
	store_state >$TMP/after && test_cmp $TMP/before $TMP/after
'

test_done
