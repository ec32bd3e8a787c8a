#!/bin/bash
# bench/qbittorrent.sh - how soon an independent client with its default
# settings gets data from a weightsync node (issue 8, "internet defaults"),
# side by side with the same client getting it from another copy of itself.
#
# qBittorrent-nox (Debian's, libtorrent 2.0.8) tries uTP first.  A
# weightsync node in a private swarm refuses uTP and answers the SYN with a
# reset (node/utp_reset.c), so the client should go over TCP at once.
#
# Set-up, all on loopback: a release of WS_BENCH_QBT_MIB MiB (a model
# folder of two safetensors shards) published in a weightsync home and
# seeded by `weightsync seed` on 127.0.0.2 (DHT on, no bootstrap, as a node
# runs); a qBittorrent "seeder" that gets the magnet's metadata from the node
# and checks the files in the store; a qBittorrent "client" with default
# transfer settings (TCP and uTP, encryption allowed), DHT, LSD, PeX and
# UPnP off.  Each run removes the client's copy, adds the magnet with a new
# save path and gives it one peer through the Web API: the node, or the
# qBittorrent seeder.  Times are from the add: first payload byte, complete
# (the client's /api/v2/torrents/info polled every 50 ms).
# Knobs: WS_BENCH_QBT_MIB (256), WS_BENCH_RUNS (3), WS_BENCH_DIR.
# Target (informational): first byte from the node <= 1.2x the first byte
# from qBittorrent itself (no stall of its own).
set -euo pipefail

: "${WS_BIN:?set WS_BIN to the weightsync binary (bench/run does)}"
MIB=${WS_BENCH_QBT_MIB:-256}
RUNS=${WS_BENCH_RUNS:-3}
BASE=${WS_BENCH_DIR:-${TMPDIR:-/tmp}}
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "bench/qbittorrent: $*" >&2; exit 1; }
[[ $MIB =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] ||
	die "WS_BENCH_QBT_MIB and WS_BENCH_RUNS are positive integers"
for tool in qbittorrent-nox curl; do
	command -v "$tool" >/dev/null || die "'$tool' is needed (make bench installs it)"
done

mkdir -p "$BASE"
tmp=$(mktemp -d "$BASE/ws-bench-qbt.XXXXXX")
. "$here/lib/procs.sh"
cp "$WS_BIN" "$tmp/weightsync"
WS=$tmp/weightsync

free_port() { $PY -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"; }

# qbt NAME LISTEN_PORT WEBUI_PORT - start a qBittorrent-nox with its own profile
qbt() {
	local d=$tmp/$1
	mkdir -p "$d/qBittorrent/config"
	cat >"$d/qBittorrent/config/qBittorrent.conf" <<CONF
[LegalNotice]
Accepted=true

[BitTorrent]
Session\DHTEnabled=false
Session\LSDEnabled=false
Session\PeXEnabled=false
Session\Port=$2
Session\DefaultSavePath=$d/dl

[Network]
PortForwardingEnabled=false

[Preferences]
WebUI\Port=$3
WebUI\Address=127.0.0.1
WebUI\LocalHostAuth=false
WebUI\CSRFProtection=false
WebUI\HostHeaderValidation=false
Connection\UPnP=false
CONF
	qbittorrent-nox --profile="$d" >"$d.log" 2>&1 &
	PIDS+=($!)
	local i
	for (( i = 0; i < 100; i++ )); do
		curl -sf "http://127.0.0.1:$3/api/v2/app/version" >/dev/null && return 0
		sleep 0.1
	done
	die "qBittorrent $1 did not start (see $d.log)"
}

echo "qBittorrent against a weightsync node: $MIB MiB, $RUNS runs each, in $tmp"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY "$here/../tests/gen_model.py" "$tmp/model" $(( MIB * 1024 * 1024 / 2 ))
WEIGHTSYNC_HOME=$tmp/home "$WS" keygen --no-password >/dev/null 2>&1
WEIGHTSYNC_HOME=$tmp/home "$WS" publish "$tmp/model" --name qbt-bench --json >"$tmp/pub.json"
# the magnet without weightsync's own parameters: what a user would paste
magnet=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["link"].split("&x.")[0])' "$tmp/pub.json")
store=$(dirname "$(ls -d "$tmp"/home/releases/*/qbt-bench@1)")

nport=$(free_port 127.0.0.2)
WEIGHTSYNC_HOME=$tmp/home "$WS" seed --listen "127.0.0.2:$nport" >"$tmp/node.log" 2>&1 &
PIDS+=($!)
sport=$(free_port 127.0.0.1) sweb=$(free_port 127.0.0.1)
cport=$(free_port 127.0.0.1) cweb=$(free_port 127.0.0.1)
qbt seeder "$sport" "$sweb"
qbt client "$cport" "$cweb"

cat >"$tmp/drive.py" <<'PYEOF'
import json, sys, time, urllib.parse, urllib.request
api, mode, magnet, arg = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def call(path, **form):
    data = urllib.parse.urlencode(form).encode() if form else None
    with urllib.request.urlopen(api + path, data, timeout=10) as r:
        return r.read()
def info():
    d = json.loads(call("/torrents/info"))
    return d[0] if d else None
if mode == "seed":  # arg: save path holding the files; wait until seeding
    call("/torrents/add", urls=magnet, savepath=arg)
    peer_given = False
    for _ in range(1200):
        t = info()
        if t and not peer_given:
            call("/torrents/addPeers", hashes="all", peers=sys.argv[5]); peer_given = True
        if t and t["progress"] == 1 and t["state"] in ("uploading", "stalledUP"):
            print("ok"); sys.exit(0)
        time.sleep(0.1)
    print("seeder never seeded: %s" % (t and t["state"])); sys.exit(1)
# mode "get": arg is the one peer; print first-byte and complete seconds
call("/torrents/delete", hashes="all", deleteFiles="true")
time.sleep(1)
t0 = time.monotonic()
call("/torrents/add", urls=magnet, savepath=sys.argv[5])
first = None; peer_given = False
while time.monotonic() - t0 < 300:
    t = info()
    if t and not peer_given:
        call("/torrents/addPeers", hashes="all", peers=arg); peer_given = True
    if t and first is None and t["downloaded"] > 0:
        first = time.monotonic() - t0
    if t and t["progress"] == 1:
        print("%.3f %.3f" % (first if first is not None else -1, time.monotonic() - t0)); sys.exit(0)
    time.sleep(0.05)
print("timeout"); sys.exit(1)
PYEOF

$PY "$tmp/drive.py" "http://127.0.0.1:$sweb/api/v2" seed "$magnet" "$store" "127.0.0.2:$nport" >/dev/null ||
	die "the qBittorrent seeder did not take the release from the store (see $tmp/seeder.log)"

declare -A FIRST DONE
for (( r = 1; r <= RUNS; r++ )); do
	for src in node qbittorrent; do
		case $src in
		node) peer=127.0.0.2:$nport ;;
		qbittorrent) peer=127.0.0.1:$sport ;;
		esac
		out=$($PY "$tmp/drive.py" "http://127.0.0.1:$cweb/api/v2" get "$magnet" "$peer" \
			"$tmp/client/dl/$src-$r") || die "run $r from $src: $out"
		set -- $out
		echo "  run $r from $src: first byte $1 s, complete $2 s (load $(cut -d' ' -f1 /proc/loadavg))"
		FIRST[$src]+="$1 " DONE[$src]+="$2 "
	done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
fn=$(median ${FIRST[node]}) fq=$(median ${FIRST[qbittorrent]})
dn=$(median ${DONE[node]}) dq=$(median ${DONE[qbittorrent]})
echo
echo "=== summary (qBittorrent $(qbittorrent-nox --version | awk '{print $2}'), $MIB MiB, medians of $RUNS) ==="
printf '%-36s %10s %10s %8s\n' "source" "first s" "complete s" "ratio"
printf '%-36s %10s %10s %8s\n' "weightsync node" "$fn" "$dn" \
	"$(awk -v a="$fn" -v b="$fq" 'BEGIN { printf "%.2fx", a / b }')"
printf '%-36s %10s %10s %8s\n' "qBittorrent seeding the same files" "$fq" "$dq" "1.00x"
echo "target: first byte from the node <= 1.2x qBittorrent's own: $(awk -v a="$fn" -v b="$fq" 'BEGIN { print (a <= 1.2 * b ? "PASS" : "MISS") }')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
