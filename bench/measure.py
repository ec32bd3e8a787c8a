#!/usr/bin/env python3
"""bench/measure.py - run one download command and measure it (bench/datapath.sh).

usage: measure.py [--stdout FILE] [--deadline S] [--watch DIR --total BYTES] [--server PID]... [--kill-at FRAC
                  [--after-file NAME]] [--poll S] -- CMD...

Prints one JSON object:
  wall         seconds from start to exit of CMD
  user, sys    CPU seconds of CMD and its children (wait4 rusage, the figures
               /usr/bin/time prints as %U %S); maxrss_kb: its peak VmRSS
  anon_kb      its peak RssAnon (/proc/PID/status, sampled every --poll):
               resident memory beyond the page cache.  VmRSS also counts
               the page-cache pages a process maps (libtorrent's mmap disk
               I/O maps the release files, so its VmRSS grows with them)
  server_cpu   CPU seconds (utime+stime from /proc/PID/stat) the --server
               processes used between start and exit of CMD (a seeder, nginx)
  first_data, last_data
               with --watch: seconds from start until the release files under
               DIR first hold any data, and until they hold --total bytes.
               "Hold" is allocated blocks (st_blocks, capped at st_size):
               files are sparse, ext4 counts a block as soon as a write (or a
               write fault on a mapping) dirties it, so the moment the sum
               reaches the release size is the moment the last byte landed in
               the file.  Only files named like release files count
               (shard-*, f-*, config.json, tiny.bin), not resume data.
  tail         wall - last_data: from the last byte received to exit
  killed       with --kill-at: CMD got SIGKILL once FRAC of --total was held
               (and, with --after-file, once a file of that name existed
               under DIR: e.g. .resume, the first resume save)
  held_at_kill bytes held when the kill was sent
  rc           exit status (negative: signal); with --deadline S, CMD is
               killed after S seconds and "timed_out" is true
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

args = sys.argv[1:]
watch = None
total = 0
servers = []
kill_at = None
after_file = None
poll = 0.02
deadline = None
stdout_path = None
while args and args[0] != "--":
    a = args.pop(0)
    if a == "--watch":
        watch = args.pop(0)
    elif a == "--total":
        total = int(args.pop(0))
    elif a == "--server":
        servers.append(int(args.pop(0)))
    elif a == "--kill-at":
        kill_at = float(args.pop(0))
    elif a == "--after-file":
        after_file = args.pop(0)
    elif a == "--deadline":
        deadline = float(args.pop(0))
    elif a == "--stdout":
        stdout_path = args.pop(0)
    elif a == "--poll":
        poll = float(args.pop(0))
    else:
        sys.exit("measure.py: unknown option " + a)
if not args:
    sys.exit("measure.py: no command")
cmd = args[1:]
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def release_file(name):
    return (name.startswith("shard-") or name.startswith("f-") or
            name == "config.json" or name == "tiny.bin")


def held():
    n = 0
    seen = False
    for root, dirs, files in os.walk(watch):
        for name in files:
            if after_file and name == after_file:
                seen = True
            if not release_file(name):
                continue
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            n += min(st.st_blocks * 512, st.st_size)
    return n, seen


before = {p: proc_cpu(p) for p in servers}
t0 = time.monotonic()
# subprocess uses vfork/posix_spawn: a plain fork of this interpreter adds
# tens of milliseconds to a short command on a loaded machine
out_f = open(stdout_path, "wb") if stdout_path else None
pid = subprocess.Popen(cmd, stdout=out_f).pid
first = last = None
killed = False
timed_out = False
held_at_kill = None
anon_kb = 0
done = threading.Event()


def rss_anon():
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def watcher():
    # a thread, so that the exit is seen at once (wait4 below) and not at
    # the next poll
    global first, last, killed, timed_out, held_at_kill, anon_kb
    while not done.is_set():
        anon_kb = max(anon_kb, rss_anon())
        if watch:
            h, seen = held()
            now = time.monotonic() - t0
            if first is None and h > 0:
                first = now
            if last is None and total and h >= total:
                last = now
            if (kill_at is not None and not killed and total and h >= kill_at * total
                    and (after_file is None or seen)):
                os.kill(pid, signal.SIGKILL)
                killed = True
                held_at_kill = h
        if deadline is not None and not timed_out and time.monotonic() - t0 > deadline:
            os.kill(pid, signal.SIGKILL)
            timed_out = True
        done.wait(poll)


th = threading.Thread(target=watcher, daemon=True)
th.start()
wpid, status, rusage = os.wait4(pid, 0)
wall = time.monotonic() - t0
after = {p: proc_cpu(p) for p in servers}
server_cpu = 0.0
for p in servers:
    if before[p] is None or after[p] is None:
        server_cpu = None
        break
    server_cpu += after[p] - before[p]
done.set()
th.join()
rc = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
out = {
    "wall": round(wall, 4),
    "user": round(rusage.ru_utime, 3),
    "sys": round(rusage.ru_stime, 3),
    "maxrss_kb": rusage.ru_maxrss,
    "anon_kb": anon_kb,
    "server_cpu": None if server_cpu is None else round(server_cpu, 3),
    "first_data": None if first is None else round(first, 4),
    "last_data": None if last is None else round(last, 4),
    "tail": None if last is None else round(wall - last, 4),
    "killed": killed,
    "held_at_kill": held_at_kill,
    "timed_out": timed_out,
    "rc": rc,
}
print(json.dumps(out))
