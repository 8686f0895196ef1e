#!/usr/bin/env python3
"""tests/forge/server.py: a fixture HTTP server for the forge tests.

Serves recorded GitLab and GitHub REST responses from fixture directories,
on 127.0.0.1 only, and stops by itself after --timeout seconds.

    server.py --fixtures DIR [--fixtures DIR...] --port-file F
              [--token T] [--log F] [--timeout SECS]

Each fixture DIR holds routes.json:

    {"routes": [
      {"path": "/api/v4/projects/grp%2Fapp",     # raw path, as sent
       "query": {"page": "2"},                    # must all match (optional)
       "listener": "api" | "blob",                # default "api"
       "status": 200, "headers": {"Link": "..."},
       "body": "bodies/project.json"              # file under DIR, or none
      },
      {"path": "...", "sequence": [ {...}, {...} ]}  # nth request, nth answer
      {"path": "...", "delay": 3, ...}               # answer 3 s late
    ]}

A route of a later DIR replaces one of an earlier DIR with the same path,
query and listener, so a second DIR describes how the forge changed.
Among the routes matching a request, the one with the most query keys wins.
Header values and bodies may say {api} and {blob} (the two listeners'
base URLs) and {now+N} (the epoch time N seconds from now).

Two listeners: "api" (the forge's API; with --token, a request without
"Authorization: Bearer T" gets 401 as GitHub and GitLab answer it) and
"blob" (another origin, as GitHub's log storage is).  The port file gets
"API_PORT BLOB_PORT".  --log appends one line per request:
"LISTENER METHOD PATH?QUERY auth=yes|no".
"""
import argparse
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse


def load_routes(dirs):
    routes = {}
    for d in dirs:
        with open(os.path.join(d, "routes.json"), encoding="utf-8") as f:
            spec = json.load(f)
        for r in spec["routes"]:
            r = dict(r)
            r["_dir"] = d
            key = (r.get("listener", "api"), r["path"],
                   tuple(sorted(r.get("query", {}).items())))
            routes[key] = r
    return list(routes.values())


class State:
    def __init__(self, args):
        self.routes = load_routes(args.fixtures)
        self.token = args.token
        self.log = args.log
        self.lock = threading.Lock()
        self.counts = {}
        self.base = {}


def make_handler(state, listener):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def expand(self, s):
            s = s.replace("{api}", state.base["api"])
            s = s.replace("{blob}", state.base["blob"])
            while "{now+" in s:
                i = s.index("{now+")
                j = s.index("}", i)
                n = int(s[i + 5:j])
                s = s[:i] + str(int(time.time()) + n) + s[j + 1:]
            return s

        def send(self, status, headers, body):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, self.expand(v))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            raw_path, _, raw_query = self.path.partition("?")
            query = dict(urllib.parse.parse_qsl(raw_query,
                                                keep_blank_values=True))
            auth = self.headers.get("Authorization")
            if state.log:
                with state.lock, open(state.log, "a") as f:
                    f.write("%s GET %s auth=%s\n" % (
                        listener, self.path, "yes" if auth else "no"))
            if (listener == "api" and state.token is not None and
                    auth != "Bearer " + state.token):
                body = json.dumps({"message": "401 Unauthorized"}).encode()
                if raw_path.startswith("/repos/"):
                    body = json.dumps({
                        "message": "Bad credentials",
                        "documentation_url": "https://docs.github.com/rest"
                    }).encode()
                self.send(401, {"Content-Type": "application/json"}, body)
                return
            best = None
            for r in state.routes:
                if r.get("listener", "api") != listener:
                    continue
                if r["path"] != raw_path:
                    continue
                q = r.get("query", {})
                if any(query.get(k) != v for k, v in q.items()):
                    continue
                if best is None or len(q) > len(best.get("query", {})):
                    best = r
            if best is None:
                body = json.dumps({"message": "404 Not Found"}).encode()
                self.send(404, {"Content-Type": "application/json"}, body)
                return
            answer = best
            if "sequence" in best:
                key = id(best)
                with state.lock:
                    n = state.counts.get(key, 0)
                    state.counts[key] = n + 1
                seq = best["sequence"]
                answer = dict(seq[min(n, len(seq) - 1)])
            if answer.get("delay"):
                time.sleep(float(answer["delay"]))
            body = b""
            if answer.get("body"):
                with open(os.path.join(best["_dir"], answer["body"]),
                          "rb") as f:
                    body = f.read()
                if b"{api}" in body or b"{blob}" in body:
                    body = self.expand(body.decode()).encode()
            headers = dict(answer.get("headers", {}))
            if "Content-Type" not in headers:
                ctype = "application/json"
                if answer.get("body", "").endswith((".txt", ".yml")):
                    ctype = "text/plain; charset=utf-8"
                headers["Content-Type"] = ctype
            self.send(answer.get("status", 200), headers, body)

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", action="append", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--token")
    ap.add_argument("--log")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    state = State(args)
    servers = {}
    for name in ("api", "blob"):
        servers[name] = Server(("127.0.0.1", 0), make_handler(state, name))
        state.base[name] = "http://127.0.0.1:%d" % servers[name].server_port
    for s in servers.values():
        threading.Thread(target=s.serve_forever, daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (servers["api"].server_port,
                             servers["blob"].server_port))
    os.rename(tmp, args.port_file)
    time.sleep(args.timeout)
    for s in servers.values():
        s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
