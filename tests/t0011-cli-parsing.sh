#!/bin/sh
# One command-line parser: --flag=value everywhere, unknown flags refused,
# strict numbers and addresses, --home '' refused, outside text escaped
# before it reaches a terminal, export refusing names it would not write.
cd "$(dirname "$0")" && . ./test-lib.sh

# expect_usage 'MESSAGE' ARGS... - `ws ARGS` exits 2, prints nothing on
# stdout, and its first line on stderr is exactly "weightsync: MESSAGE".
expect_usage() {
	msg=$1; shift
	test_must_fail 2 ws "$@" >$TMP/u.out 2>$TMP/u.err || return 1
	printf 'weightsync: %s\n' "$msg" >$TMP/u.want
	head -n 1 $TMP/u.err >$TMP/u.got
	test_cmp $TMP/u.want $TMP/u.got && test ! -s $TMP/u.out
}

# no_raw_bytes FILE - FILE holds no ESC and nothing that is not UTF-8
no_raw_bytes() {
	if LC_ALL=C grep -q "$(printf '\033')" "$1" ||
	   ! python3 -c "open('$1', 'rb').read().decode('utf-8')" 2>/dev/null; then
		echo "raw bytes in $1:" >&2; od -c "$1" >&2
		return 1
	fi
}

make_model "$TMP/model"

test_expect_success 'setup: a key and a release' '
	ws keygen --no-password >/dev/null 2>&1 &&
	ws publish $TMP/model --name=demo >/dev/null &&
	store_state $WEIGHTSYNC_HOME >$TMP/state0
'

test_expect_success 'numbers: out of range, trailing junk, signs, empty' '
	expect_usage "invalid value '\''4294967297'\'' for --timeout: out of range (1 to 604800)" \
		fetch demo --timeout 4294967297 &&
	expect_usage "invalid value '\''3abc'\'' for --timeout: not a whole number" \
		fetch demo --timeout 3abc &&
	expect_usage "invalid value '\''3abc'\'' for --timeout: not a whole number" \
		fetch demo --timeout=3abc &&
	expect_usage "invalid value '\''-1'\'' for --timeout: no sign allowed" \
		fetch demo --timeout -1 &&
	expect_usage "invalid value '\''+5'\'' for --resolve-timeout: no sign allowed" \
		fetch demo --resolve-timeout=+5 &&
	expect_usage "invalid value '\'''\'' for --timeout: empty" \
		resolve demo --timeout= &&
	expect_usage "invalid value '\'' 5'\'' for --timeout: not a whole number" \
		resolve demo --timeout " 5" &&
	expect_usage "invalid value '\''0'\'' for --follow-interval: out of range (1 to 604800)" \
		seed --follow-interval 0 &&
	expect_usage "invalid value '\''99999999999999999999'\'' for --reput-interval: out of range (1 to 604800)" \
		seed --reput-interval=99999999999999999999 &&
	expect_usage "invalid value '\''9007199254740992'\'' for --version: out of range (1 to 9007199254740991)" \
		publish $TMP/model --name demo --version 9007199254740992 &&
	expect_usage "invalid value '\''0'\'' for --version: out of range (1 to 9007199254740991)" \
		publish $TMP/model --name demo --version=0
'

test_expect_success 'sizes take k, M and G, and nothing else' '
	expect_usage "invalid value '\''5X'\'' for --upload-limit: not a size (a whole number, then k, M or G)" \
		fetch demo --upload-limit 5X &&
	expect_usage "invalid value '\''5MB'\'' for --download-limit: not a size (a whole number, then k, M or G)" \
		fetch demo --download-limit=5MB &&
	expect_usage "invalid value '\''3G'\'' for --upload-limit: out of range (0 to 2147483647)" \
		seed --upload-limit 3G &&
	expect_usage "invalid value '\''18446744073709551615k'\'' for --upload-limit: out of range (0 to 2147483647)" \
		seed --upload-limit 18446744073709551615k &&
	expect_usage "unknown name '\''nobody'\'': no publisher key is trusted for it; add one with '\''weightsync trust add nobody PUBKEY'\'' or pass --publisher KEY" \
		fetch nobody --upload-limit=2G --download-limit 5M --timeout=1 --resolve-timeout 1
'

test_expect_success 'addresses are checked as addresses' '
	expect_usage "invalid address '\''999.0.0.1:80'\'' for --peer: not an IPv4 address" \
		fetch demo --peer 999.0.0.1:80 &&
	expect_usage "invalid address '\''127.0.0.1:0'\'' for --peer: the port is not a number from 1 to 65535" \
		fetch demo --peer=127.0.0.1:0 &&
	expect_usage "invalid address '\''127.0.0.1:65536'\'' for --peer: the port is not a number from 1 to 65535" \
		seed --peer 127.0.0.1:65536 &&
	expect_usage "invalid address '\''127.0.0.1'\'' for --peer: missing port (expected ADDR:PORT)" \
		fetch demo --peer 127.0.0.1 &&
	expect_usage "invalid address '\''127.0.0.1:'\'' for --peer: missing port" \
		fetch demo --peer 127.0.0.1: &&
	expect_usage "invalid address '\''::1:80'\'' for --peer: an IPv6 address goes in brackets: [ADDR]:PORT" \
		fetch demo --peer ::1:80 &&
	expect_usage "invalid address '\''[::g]:80'\'' for --peer: not an IPv6 address" \
		fetch demo --peer [::g]:80 &&
	expect_usage "invalid address '\''[::1]'\'' for --peer: missing port (expected [IPv6]:PORT)" \
		fetch demo --peer [::1] &&
	expect_usage "invalid address '\''example.org:80'\'' for --peer: not an IPv4 address" \
		fetch demo --peer example.org:80 &&
	expect_usage "invalid address '\''bad_host:80'\'' for --bootstrap: not an address or host name" \
		resolve demo --bootstrap bad_host:80 &&
	expect_usage "invalid address '\''10.0.0.1:0'\'' for --bootstrap: the port is not a number from 1 to 65535" \
		resolve demo --bootstrap=10.0.0.1:0 &&
	expect_usage "invalid address '\''10.0.0.1'\'' for --listen: missing port (expected ADDR:PORT)" \
		seed --listen 10.0.0.1 &&
	expect_usage "unknown name '\''nobody'\'': no publisher key is trusted for it; add one with '\''weightsync trust add nobody PUBKEY'\'' or pass --publisher KEY" \
		fetch nobody --peer [::1]:6881 --peer=127.0.0.1:1 --bootstrap router.example.org:6881 \
			--bootstrap [2001:db8::1]:6881 --listen 127.0.0.1:0
'

test_expect_success 'unknown flags: exit 2 and the flag named, for every command' '
	for c in keygen publish audit list log show fetch seed status resolve follow \
		 unfollow export import; do
		expect_usage "unknown option '\''--bogus'\''" $c --bogus x || return 1
	done &&
	expect_usage "unknown option '\''--bogus'\''" trust list --bogus &&
	expect_usage "unknown option '\''--bogus'\''" --bogus list &&
	expect_usage "unknown option '\''-z'\''" fetch -z demo &&
	expect_usage "unknown option '\''--time'\''" fetch demo --time 5 &&
	expect_usage "option '\''--json'\'' takes no value" list --json=yes &&
	expect_usage "option '\''--timeout'\'' needs a value" fetch demo --timeout &&
	expect_usage "option '\''-o'\'' needs a value" keygen -o &&
	store_state $WEIGHTSYNC_HOME >$TMP/state1 && test_cmp $TMP/state0 $TMP/state1
'

test_expect_success '--flag=value and --flag value work alike everywhere' '
	ws show demo --torrent=$TMP/a.torrent --json >/dev/null &&
	ws show --torrent $TMP/b.torrent demo >/dev/null &&
	cmp $TMP/a.torrent $TMP/b.torrent &&
	ws export demo --output=$TMP/a.tar 2>/dev/null && ws export -o$TMP/b.tar demo 2>/dev/null &&
	ws export demo --hf-cache=$TMP/hub >/dev/null 2>&1 && test -d $TMP/hub &&
	pub=$WEIGHTSYNC_HOME/keys/publisher.key.pub &&
	WEIGHTSYNC_HOME=$TMP/B ws import $TMP/a.tar --publisher=$pub --json >$TMP/imp.json &&
	json_check $TMP/imp.json "j[\"name\"] == \"demo\"" &&
	ws follow demo --publisher=$pub >/dev/null && ws unfollow --publisher $pub demo >/dev/null &&
	ws trust list --json >$TMP/t.json && json_check $TMP/t.json "j[0][\"name\"] == \"demo\"" &&
	expect_usage "unknown option '\''--json'\''" --json trust list &&
	ws trust --json list >$TMP/t2.json && test_cmp $TMP/t.json $TMP/t2.json &&
	ws log demo --json >/dev/null && ws audit --json demo >/dev/null &&
	ws audit --release=demo "$(release_dir demo 1)" >/dev/null
'

test_expect_success 'a help line per flag, from the table that parses' '
	ws fetch --help >$TMP/h &&
	grep_q "^usage: weightsync fetch NAME\[@V\]|LINK|FILE.torrent \[OPTIONS\]$" $TMP/h &&
	grep_q "^      --timeout S  *give up after S seconds without progress" $TMP/h &&
	grep_q "^  -o, --output DIR  *also make an ordinary model folder" $TMP/h &&
	grep_q "^      --hf-cache\[=DIR\]  *also lay the release out" $TMP/h &&
	grep_q "^      --peer ADDR:PORT  *a peer to connect to" $TMP/h &&
	ws help publish >$TMP/h &&
	for f in name key version origin license retracted copy web-seed announce json \
		 listen bootstrap peer no-dht upload-limit download-limit; do
		grep_q "^ .*--$f\b" $TMP/h || return 1
	done &&
	for c in keygen audit list log show seed status resolve follow unfollow export \
		 import trust; do
		ws $c --help >$TMP/h && grep_q "^options:$" $TMP/h || return 1
	done &&
	ws --help >$TMP/h && grep_q "^      --home DIR  *data directory" $TMP/h
'

test_expect_success '--home '\'''\'' is an error, not the default home' '
	expect_usage "invalid value '\'''\'' for --home: empty" --home "" list &&
	expect_usage "invalid value '\'''\'' for --home: empty" --home= keygen --no-password &&
	store_state $WEIGHTSYNC_HOME >$TMP/state1 && test_cmp $TMP/state0 $TMP/state1 &&
	test ! -e $WEIGHTSYNC_HOME/keys/publisher.key.new
'

test_expect_success 'names from the command line are escaped on the terminal' '
	test_must_fail 2 ws log "$(printf "\033[31mred")" 2>$TMP/err &&
	no_raw_bytes $TMP/err &&
	grep_q "^weightsync: invalid release name .\\\\x1b\[31mred.$" $TMP/err &&
	test_must_fail 2 ws show "$(printf "caf\377")" 2>$TMP/err &&
	no_raw_bytes $TMP/err &&
	grep_q "^weightsync: invalid release name .caf\\\\xff.$" $TMP/err &&
	test_must_fail 2 ws list "$(printf "\033]0;owned\007")" 2>$TMP/err &&
	no_raw_bytes $TMP/err &&
	test_must_fail 2 ws fetch demo --peer "$(printf "\033[2J:80")" 2>$TMP/err &&
	no_raw_bytes $TMP/err && grep_q "\\\\x1b\[2J:80" $TMP/err &&
	test_must_fail 2 ws --home "$TMP/h$(printf "\033")x" status 2>$TMP/err &&
	no_raw_bytes $TMP/err
'

test_expect_success 'NAME@VERSION must fit a 64-byte DHT salt; versions are digits only' '
	n48=$(printf "%048d" 0 | tr 0 a) &&
	expect_usage "'\''$n48@1000000000000000'\'' is longer than 64 bytes, the most a DHT salt holds" \
		resolve $n48@1000000000000000 &&
	expect_usage "'\''$n48@1000000000000000'\'' is longer than 64 bytes, the most a DHT salt holds" \
		fetch $n48@1000000000000000 &&
	expect_usage "invalid version in '\''demo@+1'\'': expected NAME@N with N from 1 to 9007199254740991" \
		show demo@+1 &&
	expect_usage "invalid version in '\''demo@01'\'': expected NAME@N with N from 1 to 9007199254740991" \
		show demo@01 &&
	expect_usage "invalid version in '\''demo@9007199254740992'\'': expected NAME@N with N from 1 to 9007199254740991" \
		show demo@9007199254740992 &&
	ws show demo@1 >$TMP/out && grep_q "^demo@1$" $TMP/out
'

test_expect_success 'export writes only the bundle formats its name says' '
	expect_usage "cannot write '\''$TMP/x.zip'\'': a bundle is FILE.tar, FILE.tar.zst or FILE.tzst" \
		export demo -o $TMP/x.zip &&
	expect_usage "cannot write '\''$TMP/x.zst'\'': a bundle is FILE.tar, FILE.tar.zst or FILE.tzst" \
		export demo -o $TMP/x.zst &&
	expect_usage "cannot write '\''$TMP/.tar'\'': a bundle is FILE.tar, FILE.tar.zst or FILE.tzst" \
		export demo -o $TMP/.tar &&
	test ! -e $TMP/x.zip && test ! -e $TMP/x.zst &&
	ws export demo -o $TMP/x.tzst 2>/dev/null &&
	test "$(head -c 4 $TMP/x.tzst | od -An -tx1 | tr -d " ")" = "28b52ffd" &&
	WEIGHTSYNC_HOME=$TMP/C ws import $TMP/x.tzst --publisher $WEIGHTSYNC_HOME/keys/publisher.key.pub \
		2>$TMP/err && grep_q "demo@1 imported" $TMP/err
'

test_done
