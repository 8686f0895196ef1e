"""tests/forge/forgehttp.py: what the writable fixture forges share.

org_server.py and recover_server.py each answer a forge's API on
127.0.0.1; both serve repositories over git's smart HTTP protocol
(`git http-backend` as a CGI), stop by themselves after --timeout
seconds, and tell their port through a file.  This module holds those
parts: the threaded server, a request handler base with the answer and
body helpers and the CGI bridge, and the start-up.
"""
import argparse
import http.server
import json
import os
import socketserver
import subprocess
import sys
import threading


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that stops reading an answer over its cap is no error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError,
                                          ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One answer is two writes (head, body): without this, Nagle and
    # delayed ACKs add 40 ms to every request.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):
        pass

    # A subclass answers in handle_any(method).
    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def send(self, status, body, headers=None, ctype="application/json"):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n:
            return self.rfile.read(n)
        if self.headers.get("Transfer-Encoding") == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def git_backend(self, root, method, path, query, body, extra_env=None):
        """Answer a request below /git with `git http-backend` serving
        ROOT/git; EXTRA_ENV is added to its environment."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": os.path.join(root, "git"),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": method,
            "PATH_INFO": path[len("/git"):],
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": root,
        }
        env.update(extra_env or {})
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        env["CONTENT_LENGTH"] = str(len(body))
        p = subprocess.run(["git", "http-backend"], input=body, env=env,
                           capture_output=True)
        out = p.stdout
        head, sep, rest = out.partition(b"\r\n\r\n")
        if not sep:
            head, _, rest = out.partition(b"\n\n")
        status = 200
        headers = {}
        for line in head.decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            elif k:
                headers[k.strip()] = v.strip()
        ctype = headers.pop("Content-Type", "text/plain")
        self.send(status, rest, headers, ctype)


def parse_args(*extra):
    """The command line of a server: --root DIR, --port-file F and
    --timeout SECONDS (default 300), and each option named in EXTRA
    (one value each, optional)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    for name in extra:
        ap.add_argument(name)
    ap.add_argument("--timeout", type=float, default=300)
    return ap.parse_args()


def listen():
    """A Server on a free port of 127.0.0.1, its handler to be set, and
    its base URL."""
    srv = Server(("127.0.0.1", 0), None)
    return srv, "http://127.0.0.1:%d" % srv.server_address[1]


def serve(srv, port_file, timeout):
    """Write the port to PORT_FILE (atomically) and serve until TIMEOUT
    seconds have passed."""
    t = threading.Timer(timeout, srv.shutdown)
    t.daemon = True
    t.start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, port_file)
    srv.serve_forever()
