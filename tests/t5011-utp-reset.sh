#!/bin/sh
# A node in a private swarm refuses uTP (docs/datapath.md): a client that
# tries uTP first, as qBittorrent does by default, must hear a reset at once
# (node/utp_reset.c) and not wait for its uTP timeout before it tries TCP.
# The DHT on the same UDP socket keeps working.
cd "$(dirname "$0")" && . ./test-lib.sh

A=127.0.0.2 C=127.0.0.3

# Its DHT bootstraps from a loopback address where nothing answers: every
# node a test starts names its bootstrap nodes.
test_expect_success 'a node runs on loopback with the DHT on' '
	WEIGHTSYNC_HOME=$TMP/A ws keygen --no-password >/dev/null 2>&1 &&
	start_node A $A --bootstrap 127.0.0.4:$(free_port 127.0.0.4)
'

# utp.py ADDR PORT MODE: send one datagram from 127.0.0.3, print what comes
# back within 5 s (or "nothing")
cat >$TMP/utp.py <<'PY'
import os, socket, struct, sys
addr, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.3", 0))
s.settimeout(5)
if mode == "syn":
    # BEP 29 header: type ST_SYN (4) << 4 | version 1, extension 0,
    # connection_id, timestamp, timestamp difference, window, seq_nr, ack_nr
    pkt = struct.pack(">BBHIIIHH", 0x41, 0, 0x1234, 1, 0, 1 << 20, 4242, 0)
else:
    pkt = b"d1:ad2:id20:" + os.urandom(20) + b"e1:q4:ping1:t2:aa1:y1:qe"
s.sendto(pkt, (addr, port))
try:
    data, src = s.recvfrom(2048)
except socket.timeout:
    print("nothing"); sys.exit(0)
if mode == "syn":
    t, ext, cid, ts, tsd, wnd, seq, ack = struct.unpack(">BBHIIIHH", data[:20])
    print("type=%d version=%d id=%d ack=%d len=%d from=%s" % (t >> 4, t & 15, cid, ack, len(data), src[1]))
else:
    print("dht-reply" if b"1:y1:r" in data else "other")
PY

test_expect_success 'a uTP SYN gets an ST_RESET for its connection, acknowledging its seq_nr' '
	python3 $TMP/utp.py $A $(port_of A) syn >$TMP/syn.out &&
	cat $TMP/syn.out &&
	test "$(cat $TMP/syn.out)" = "type=3 version=1 id=4660 ack=4242 len=20 from=$(port_of A)"
'

test_expect_success 'the DHT on the same socket still answers a ping' '
	python3 $TMP/utp.py $A $(port_of A) ping >$TMP/ping.out &&
	test "$(cat $TMP/ping.out)" = dht-reply
'

test_expect_success 'the node is still up and stops cleanly' '
	WEIGHTSYNC_HOME=$TMP/A ws status >/dev/null &&
	stop_node A
'

test_done
