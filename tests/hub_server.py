#!/usr/bin/env python3
"""hub_server.py - a loopback stand-in for the Hugging Face hub and its CDN.

    hub_server.py --dir DIR --repo ORG/NAME --commit HEX40 --ports FILE
                  [--hub 127.0.0.1] [--cdn 127.0.0.2] [--token T]
                  [--mode MODE] [--target PATH] [--rate BYTES_PER_S]
                  [--log FILE] [--cdn-url URL]

Serves the files of DIR as repository ORG/NAME at commit HEX40 (also
under the revisions "main" and "v1"), answering as the hub documents:

  GET /api/models/ORG/NAME/revision/REV[?blobs=true]
      {"id", "sha", "siblings": [{"rfilename", "size", "blobId",
       "lfs": {"sha256", "size", "pointerSize"}}], ...}
  GET|HEAD /ORG/NAME/resolve/REV/PATH
      small files: 200 with the content, ETag "<git blob id>",
      X-Repo-Commit, Range honoured (206 + Content-Range);
      LFS files (*.safetensors, *.bin, 1 MiB and more): 302 to the CDN
      address with X-Repo-Commit, X-Linked-Etag "<sha256>", X-Linked-Size,
      ETag.
  GET|HEAD (CDN) /lfs/<sha256>?sig=... - the content, with Range; refuses
      a request carrying an Authorization header (400), as a pre-signed
      object store does.

--token T makes the repository gated: the API and resolve answer 401 with
{"error": ...} and X-Error-Code: GatedRepo unless "Authorization: Bearer T"
is sent.  --rate throttles every body.  --mode makes the server hostile for
--target (default: the first LFS file by name):
  wrong-bytes   one byte flipped, same size
  short         100 bytes missing (Content-Length says so)
  long          1000 bytes too many
  endless       no Content-Length, zeros after the content until the
                client hangs up
  redirect-file the hub redirects to file:///etc/passwd
  stall         headers and 1000 bytes, then nothing
  bad-path      the API record lists "../escape.json" among the files
--cdn-url URL sends LFS files to URL/PATH instead (another server, e.g.
nginx serving DIR, as bench/hf.sh does).
--log FILE gets a line per request: "SERVER METHOD PATH RANGE AUTH".
The chosen ports are written to --ports as "HUBPORT CDNPORT" once both
listen.  For tests on loopback only.
"""
import argparse, hashlib, json, os, re, sys, threading, time
import http.server, socketserver
from urllib.parse import urlsplit, unquote

a = argparse.ArgumentParser()
a.add_argument("--dir", required=True)
a.add_argument("--repo", required=True)
a.add_argument("--commit", required=True)
a.add_argument("--ports", required=True)
a.add_argument("--hub", default="127.0.0.1")
a.add_argument("--cdn", default="127.0.0.2")
a.add_argument("--token")
a.add_argument("--mode", default="ok")
a.add_argument("--target")
a.add_argument("--rate", type=int, default=0)
a.add_argument("--log")
a.add_argument("--cdn-url")
args = a.parse_args()

LFS_EXT = (".safetensors", ".bin", ".gguf")
FILES = {}
for root, dirs, names in os.walk(args.dir):
    for n in names:
        full = os.path.join(root, n)
        rel = os.path.relpath(full, args.dir).replace(os.sep, "/")
        data = open(full, "rb").read()
        lfs = rel.endswith(LFS_EXT) or len(data) >= (1 << 20)
        pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                   % (hashlib.sha256(data).hexdigest(), len(data))).encode()
        blob_src = pointer if lfs else data
        FILES[rel] = {
            "path": full, "size": len(data), "lfs": lfs,
            "sha256": hashlib.sha256(data).hexdigest(),
            "blob": hashlib.sha1(b"blob %d\0" % len(blob_src) + blob_src).hexdigest(),
            "pointer_size": len(pointer),
        }
BY_SHA = {f["sha256"]: rel for rel, f in FILES.items()}
TARGET = args.target or sorted([r for r, f in FILES.items() if f["lfs"]] or list(FILES))[0]
REVS = {"main", "v1", args.commit}
LOCK = threading.Lock()
PORTS = {}


def log(server, h):
    if args.log:
        with LOCK, open(args.log, "a") as f:
            f.write("%s %s %s %s %s\n" % (server, h.command, h.path, h.headers.get("Range", "-"),
                                          "auth" if h.headers.get("Authorization") else "-"))


class Base(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def json_answer(self, code, obj, extra=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_body(self, rel, extra_headers):
        """the file's bytes (hostile for the target), Range honoured"""
        f = FILES[rel]
        data = open(f["path"], "rb").read()
        hostile = rel == TARGET and args.mode
        if hostile == "wrong-bytes":
            i = len(data) // 2
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        elif hostile == "short":
            data = data[:-100]
        elif hostile == "long":
            data = data + b"\0" * 1000
        start, end, code = 0, len(data) - 1, 200
        rng = self.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip()) if rng else None
        if m:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
            if start > end:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            code = 206
        self.send_response(code)
        for k, v in extra_headers:
            self.send_header(k, v)
        self.send_header("Accept-Ranges", "bytes")
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        if hostile in ("endless", "stall"):
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if self.command == "HEAD":
            return
        body = data[start:end + 1]
        try:
            if hostile == "stall":
                self.wfile.write(body[:1000])
                self.wfile.flush()
                time.sleep(3600)
                return
            self.write_throttled(body)
            if hostile == "endless":
                while True:
                    self.write_throttled(b"\0" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def write_throttled(self, body):
        step = 65536
        t0 = time.monotonic()
        for i in range(0, len(body), step):
            self.wfile.write(body[i:i + step])
            if args.rate:
                ahead = (i + step) / args.rate - (time.monotonic() - t0)
                if ahead > 0:
                    self.wfile.flush()
                    time.sleep(ahead)


class Hub(Base):
    def authorized(self):
        if not args.token or self.headers.get("Authorization") == "Bearer " + args.token:
            return True
        self.json_answer(401, {"error": "Access to model %s is restricted. You must have "
                               "access to it and be authenticated to access it. Please log in."
                               % args.repo}, [("X-Error-Code", "GatedRepo")])
        return False

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        log("hub", self)
        path = unquote(urlsplit(self.path).path)
        api = "/api/models/%s/revision/" % args.repo
        res = "/%s/resolve/" % args.repo
        if path.startswith(api):
            if not self.authorized():
                return
            rev = path[len(api):]
            if rev not in REVS:
                return self.json_answer(404, {"error": "Invalid rev id: %s" % rev},
                                        [("X-Error-Code", "RevisionNotFound")])
            sib = []
            for rel in sorted(FILES):
                f = FILES[rel]
                s = {"rfilename": rel, "size": f["size"], "blobId": f["blob"]}
                if f["lfs"]:
                    s["lfs"] = {"sha256": f["sha256"], "size": f["size"],
                                "pointerSize": f["pointer_size"]}
                sib.append(s)
            if args.mode == "bad-path":
                sib.append({"rfilename": "../escape.json", "size": 2, "blobId": "0" * 40})
            return self.json_answer(200, {
                "_id": "0" * 24, "id": args.repo, "modelId": args.repo, "sha": args.commit,
                "private": False, "gated": "manual" if args.token else False,
                "disabled": False, "lastModified": "2026-01-01T00:00:00.000Z",
                "tags": [], "siblings": sib})
        if path.startswith(res):
            if not self.authorized():
                return
            rev, _, rel = path[len(res):].partition("/")
            if rev not in REVS:
                return self.json_answer(404, {"error": "Invalid rev id: %s" % rev},
                                        [("X-Error-Code", "RevisionNotFound")])
            if rel not in FILES:
                return self.json_answer(404, {"error": "Entry not found"},
                                        [("X-Error-Code", "EntryNotFound")])
            f = FILES[rel]
            common = [("X-Repo-Commit", args.commit), ("ETag", '"%s"' % f["blob"])]
            if f["lfs"]:
                loc = "http://%s:%d/lfs/%s?sig=x" % (args.cdn, PORTS["cdn"], f["sha256"])
                if args.cdn_url:
                    loc = "%s/%s" % (args.cdn_url.rstrip("/"), rel)
                if rel == TARGET and args.mode == "redirect-file":
                    loc = "file:///etc/passwd"
                self.send_response(302)
                for k, v in common:
                    self.send_header(k, v)
                self.send_header("X-Linked-Etag", '"%s"' % f["sha256"])
                self.send_header("X-Linked-Size", str(f["size"]))
                self.send_header("Location", loc)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            return self.send_body(rel, common)
        self.json_answer(404, {"error": "Repository not found"},
                         [("X-Error-Code", "RepoNotFound")])


class Cdn(Base):
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        log("cdn", self)
        if self.headers.get("Authorization"):
            return self.json_answer(400, {"error": "Only one auth mechanism allowed"})
        m = re.fullmatch(r"/lfs/([0-9a-f]{64})", urlsplit(self.path).path)
        if not m or m.group(1) not in BY_SHA:
            return self.json_answer(404, {"error": "NoSuchKey"})
        self.send_body(BY_SHA[m.group(1)], [("ETag", '"%s"' % m.group(1))])


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


hub = Server((args.hub, 0), Hub)
cdn = Server((args.cdn, 0), Cdn)
PORTS["hub"], PORTS["cdn"] = hub.server_address[1], cdn.server_address[1]
threading.Thread(target=cdn.serve_forever, daemon=True).start()
with open(args.ports + ".tmp", "w") as f:
    f.write("%d %d\n" % (PORTS["hub"], PORTS["cdn"]))
os.rename(args.ports + ".tmp", args.ports)
hub.serve_forever()
