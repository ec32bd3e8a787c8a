#!/bin/sh
# With a node running on the home, `fetch` goes through it: the node
# fetches in its own session (the fetching process opens no listen port),
# the result and --json look as they do in-process, `transfers` shows it,
# and the control socket is the owner's alone.
cd "$(dirname "$0")" && . ./test-lib.sh

make_model "$TMP/model" 3000000
A=127.0.0.2 B=127.0.0.3 C=127.0.0.4

command -v strace >/dev/null 2>&1 && test_set_prereq STRACE
command -v setpriv >/dev/null 2>&1 && test -x /usr/bin/python3 && test_set_prereq SETPRIV

# a raw control-socket client: the request on stdin, the first line back
cat >$TMP/ctl.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(sys.stdin.buffer.read())
except OSError:
    pass  # refused: the node said why and closed before reading
print(s.makefile().readline().strip())
PY

test_expect_success 'A publishes and seeds; B trusts it and runs a node' '
	publish_on A "$TMP/model" node-demo >$TMP/link &&
	start_node A $A --no-dht &&
	wait_for 10 "node_seeds A node-demo@1" &&
	for h in B C; do
		WEIGHTSYNC_HOME=$TMP/$h ws trust add node-demo $TMP/A/keys/publisher.key.pub || return 1
	done &&
	start_node B $B --no-dht &&
	grep_q "control socket $TMP/B/node.sock" $TMP/B.log
'

test_expect_success 'the control socket is a socket of mode 0600' '
	test -S $TMP/B/node.sock &&
	test "$(stat -c %a $TMP/B/node.sock)" = 600
'

test_expect_success STRACE 'an in-process fetch (no node on C) opens a listen socket' '
	ASAN_OPTIONS=detect_leaks=0 WEIGHTSYNC_HOME=$TMP/C strace -f -qq -e trace=listen -o $TMP/strace.C \
		"$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) --listen $C:0 \
		--no-dht --timeout 20 >/dev/null &&
	grep_q "listen(" $TMP/strace.C
'

test_expect_success STRACE 'on B the fetch goes through the node: the fetching process listens on nothing' '
	ASAN_OPTIONS=detect_leaks=0 WEIGHTSYNC_HOME=$TMP/B strace -f -qq -e trace=listen -o $TMP/strace.B \
		"$WS_BIN" fetch "$(cat $TMP/link)" --peer $A:$(port_of A) --listen $B:0 \
		--no-dht --timeout 20 -o $TMP/outB --json >$TMP/fetchB.json &&
	! grep "listen(" $TMP/strace.B &&
	grep_q "transfer 1: fetch node-demo@1 for a client" $TMP/B.log &&
	grep_q "fetched node-demo@1" $TMP/B.log
'

test_expect_success 'its --json and its files are those of an in-process fetch' '
	json_check $TMP/fetchB.json "j[\"ok\"] and j[\"name\"] == \"node-demo\" and j[\"version\"] == 1 \
		and j[\"downloaded\"] >= j[\"bytes\"] and j[\"path\"].startswith(\"$TMP/B/\") \
		and j[\"already_complete\"] is False and j[\"output\"] == \"$TMP/outB\" \
		and set([\"resumed\", \"rechecked\", \"first_data_seconds\", \"seconds\"]) <= set(j)" &&
	for f in $(cd $TMP/model && ls); do cmp $TMP/model/$f $TMP/outB/$f || return 1; done &&
	WEIGHTSYNC_HOME=$TMP/B ws audit node-demo >$TMP/audit &&
	wait_for 15 "node_seeds B node-demo@1"
'

test_expect_success 'transfers lists it, done, in words and JSON' '
	WEIGHTSYNC_HOME=$TMP/B ws transfers >$TMP/tr &&
	grep_q "^   1  done .*node-demo@1" $TMP/tr &&
	WEIGHTSYNC_HOME=$TMP/B ws transfers --json >$TMP/tr.json &&
	json_check $TMP/tr.json "len(j) == 1 and j[0][\"id\"] == 1 and j[0][\"state\"] == \"done\" \
		and j[0][\"ok\"] and j[0][\"origin\"] == \"client\" \
		and j[0][\"result\"][\"name\"] == \"node-demo\""
'

test_expect_success 'a second fetch through the node finds the release complete' '
	WEIGHTSYNC_HOME=$TMP/B ws fetch "$(cat $TMP/link)" --json >$TMP/again.json &&
	json_check $TMP/again.json "j[\"ok\"] and j[\"already_complete\"] and j[\"downloaded\"] == 0" &&
	grep_q "transfer 2: fetch node-demo@1" $TMP/B.log
'

test_expect_success 'by name through a node without DHT: exit 2 and why' '
	WEIGHTSYNC_HOME=$TMP/B test_must_fail 2 ws fetch node-demo 2>$TMP/err &&
	grep_q "fetching by name needs the DHT: the node on this home runs with --no-dht" $TMP/err
'

test_expect_success 'status through the node shows the options in effect and the transfers' '
	WEIGHTSYNC_HOME=$TMP/B ws status --json >$TMP/st.json &&
	json_check $TMP/st.json "j[\"state\"] == \"running\" and j[\"config\"][\"dht\"] is False \
		and j[\"config\"][\"listen\"] == \"$B:$(port_of B)\" and len(j[\"transfers\"]) == 2" &&
	WEIGHTSYNC_HOME=$TMP/B ws status >$TMP/st &&
	grep_q "listening  $B:$(port_of B)" $TMP/st && grep_q "transfers  0 running, 2 finished" $TMP/st
'

test_expect_success SETPRIV 'another user is refused even when the socket lets them in' '
	chmod 711 $TMP $TMP/B && chmod 666 $TMP/B/node.sock && chmod 644 $TMP/ctl.py &&
	echo "{\"cmd\": \"status\"}" |
	setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 $TMP/ctl.py $TMP/B/node.sock \
		>$TMP/refused &&
	chmod 600 $TMP/B/node.sock && chmod 700 $TMP $TMP/B &&
	grep_q "refused: only the owner of this home" $TMP/refused &&
	! grep "\"status\"" $TMP/refused &&
	grep_q "refused a control connection from another user" $TMP/B.log
'

test_expect_success 'the owner gets an answer from the same client' '
	echo "{\"cmd\": \"transfers\"}" | python3 $TMP/ctl.py $TMP/B/node.sock >$TMP/raw &&
	json_check $TMP/raw "j[\"ok\"] and len(j[\"transfers\"]) == 2" &&
	echo "{\"cmd\": \"nonsense\"}" | python3 $TMP/ctl.py $TMP/B/node.sock >$TMP/raw &&
	json_check $TMP/raw "j[\"ok\"] is False and \"unknown request\" in j[\"error\"]"
'

test_expect_success 'without a node, transfers says so (exit 2); --detach needs a node' '
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 2 ws transfers 2>$TMP/err &&
	grep_q "no node is running on .$TMP/C." $TMP/err &&
	WEIGHTSYNC_HOME=$TMP/C test_must_fail 2 ws fetch "$(cat $TMP/link)" --detach 2>$TMP/err &&
	grep_q "detach needs a node running" $TMP/err
'

test_expect_success 'SIGTERM: the node removes its socket' '
	stop_node B && test ! -e $TMP/B/node.sock
'

test_done
