#!/usr/bin/env python3
"""forge_seed.py SAVE_PATH NAME ADDR PORT TORRENT_OUT SECONDS

Build a hybrid torrent of SAVE_PATH/NAME with python3-libtorrent (whatever
files are there: a test puts a signed manifest beside files it does not
list) and seed it on ADDR:PORT for at most SECONDS, loopback only, no DHT,
no UPnP/NAT-PMP/LSD.  Writes the .torrent to TORRENT_OUT once seeding.
"""
import os, sys, time
import libtorrent as lt

save, name, addr, port, out, secs = sys.argv[1:7]
fs = lt.file_storage()
lt.add_files(fs, os.path.join(save, name))
ct = lt.create_torrent(fs, 4 << 20)
lt.set_piece_hashes(ct, save)
data = lt.bencode(ct.generate())
ses = lt.session({
    "listen_interfaces": f"{addr}:{port}", "enable_dht": False,
    "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True, "dht_bootstrap_nodes": ""})
ti = lt.torrent_info(lt.bdecode(data))
h = ses.add_torrent({"ti": ti, "save_path": save,
                     "flags": lt.torrent_flags.seed_mode})
with open(out + ".tmp", "wb") as f:
    f.write(data)
os.rename(out + ".tmp", out)
end = time.time() + float(secs)
while time.time() < end:
    time.sleep(0.5)
