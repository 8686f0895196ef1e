#!/usr/bin/env python3
"""tests/forge/org_server.py: a fixture forge for whole-organisation tests.

Serves, on 127.0.0.1 only, a GitLab-like API for groups (subgroups
included) and a GitHub-like organisation listing, answered from a state
file the test may rewrite between runs, and the repositories themselves
over git's smart HTTP protocol (`git http-backend` as a CGI).  It stops
by itself after --timeout seconds.

    org_server.py --root DIR --port-file F [--log F] [--timeout SECS]

DIR/forge.json (re-read on every request):

    {"projects": [
       {"path": "grp/sub/app",       # path_with_namespace
        "archived": false, "wiki": true,
        "pipelines": [101, 102],     # pipeline ids, listed newest first
        "fail": 500,                 # optional: every API call of this
                                     #   project answers this status
        "clone_url": "file:///x"}    # optional: the clone URL listed
     ],                              #   ("{base}" is the server's URL)
     "fail_listing": 500,            # optional: group listings fail
     "pad": 0,                       # optional: bytes of padding added
                                     #   to every listing page
     "git_auth": {"grp/a": "u:p"},   # optional: git requests for these
                                     #   repositories need Basic u:p
     "redirect": {"grp/b": "URL"},   # optional: git requests for these
                                     #   are redirected to URL/...
     "per_page": 20,                 # listing page size
     "api_delay": 0.05,              # optional: seconds each project API
                                     #   call takes
     "rate_limit": {"after": 10,     # optional: the 10th project API call
                    "reset_in": 1},  #   answers RateLimit-Remaining: 0
                                     #   and a RateLimit-Reset 1 s on;
                                     #   calls that arrive from 0.2 s
                                     #   after that answer left (time to
                                     #   read it) until then get 429
     "stats": "F"}                   # optional: after each project API
                                     #   call, F holds {"max_inflight",
                                     #   "calls", "limited"} (429s)

Repositories live in DIR/git/<path>.git (and <path>.wiki.git) and are
served as http://127.0.0.1:PORT/git/<path>.git; a project's
http_url_to_repo says so.  GitHub: GET /orgs/ORG/repos lists the
projects whose path is ORG/NAME, with clone_url and has_wiki.
--log appends "METHOD PATH?QUERY" per request, and " auth=ok" or
" auth=bad" for a repository of git_auth.
"""
import base64
import json
import math
import os
import threading
import time
import urllib.parse

import forgehttp


def load(root):
    with open(os.path.join(root, "forge.json"), encoding="utf-8") as f:
        return json.load(f)


class Counters:
    """Project API calls: how many at once, and the rate limit's state."""
    lock = threading.Lock()
    inflight = 0
    max_inflight = 0
    calls = 0
    limited = 0
    reset = 0           # epoch second the limit is spent until
    spent_at = None     # when the client was told so, plus 0.2 s

    @classmethod
    def enter(cls, state):
        """Count a call in; returns the extra headers of its answer, or
        None if it is to be answered 429."""
        rl = state.get("rate_limit")
        now = time.time()
        with cls.lock:
            cls.calls += 1
            if rl and cls.spent_at is not None and \
                    cls.spent_at <= now < cls.reset:
                cls.limited += 1
                return None
            cls.inflight += 1
            cls.max_inflight = max(cls.max_inflight, cls.inflight)
            if rl and cls.calls == int(rl["after"]):
                cls.reset = math.ceil(now + float(state.get(
                    "api_delay", 0)) + float(rl["reset_in"]))
                return {"RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(cls.reset)}
            return {}

    @classmethod
    def leave(cls, state, extra):
        with cls.lock:
            if extra is not None:
                cls.inflight -= 1
            if extra:
                # Calls on their way, or sent before the client could
                # read this answer, pass.
                cls.spent_at = time.time() + 0.2
            if state.get("stats"):
                with open(state["stats"] + ".tmp", "w") as f:
                    json.dump({"max_inflight": cls.max_inflight,
                               "calls": cls.calls,
                               "limited": cls.limited}, f)
                os.rename(state["stats"] + ".tmp", state["stats"])


def make_handler(args, base):
    class Handler(forgehttp.Handler):
        def handle_any(self, method):
            path, _, query = self.path.partition("?")
            state = load(args.root)
            auth = self.auth_check(state, path)
            if args.log:
                with open(args.log, "a") as f:
                    f.write("%s %s%s\n" % (method, self.path, {
                        None: "", True: " auth=ok", False: " auth=bad"}[
                            auth]))
            if path.startswith("/git/"):
                for repo, to in state.get("redirect", {}).items():
                    pre = "/git/%s.git/" % repo
                    if path.startswith(pre):
                        loc = to + "/" + path[len(pre):]
                        if query:
                            loc += "?" + query
                        return self.send(302, b"", {"Location": loc},
                                         ctype="text/plain")
                if auth is False:
                    return self.send(401, b"auth needed\n", {
                        "WWW-Authenticate": 'Basic realm="git"'},
                        ctype="text/plain")
                return self.git_backend(args.root, method, path, query,
                                        self.read_body())
            q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            parts = path.split("/")
            try:
                if path.startswith("/api/v4/groups/") and \
                        parts[-1] == "projects" and len(parts) == 6:
                    return self.listing(state, urllib.parse.unquote(
                        parts[4]), q, gitlab=True, path=path)
                if path.startswith("/orgs/") and len(parts) == 4 and \
                        parts[3] == "repos":
                    return self.listing(state, parts[2], q, gitlab=False,
                                        path=path)
                if path.startswith("/api/v4/projects/"):
                    return self.counted(state, parts[4:], q)
            except BrokenPipeError:
                return
            self.send(404, {"message": "404 Not Found"})

        def auth_check(self, state, path):
            """True: the right credentials; False: needed and missing or
            wrong; None: none needed."""
            for repo, cred in state.get("git_auth", {}).items():
                if path.startswith("/git/%s.git/" % repo) or \
                        path.startswith("/git/%s.wiki.git/" % repo):
                    want = "Basic " + base64.b64encode(
                        cred.encode()).decode()
                    return self.headers.get("Authorization") == want
            return None

        def listing(self, state, group, q, gitlab, path):
            if state.get("fail_listing"):
                return self.send(state["fail_listing"],
                                 {"message": "listing broken"})
            prefix = group + "/"
            items = []
            for i, p in enumerate(state["projects"]):
                if not p["path"].startswith(prefix):
                    continue
                if not gitlab and "/" in p["path"][len(prefix):]:
                    continue
                url = "%s/git/%s.git" % (base["url"], p["path"])
                if "clone_url" in p:
                    url = p["clone_url"].replace("{base}", base["url"])
                if gitlab:
                    items.append({
                        "id": 1000 + i,
                        "path_with_namespace": p["path"],
                        "http_url_to_repo": url,
                        "archived": p.get("archived", False),
                        "wiki_enabled": p.get("wiki", False),
                        "default_branch": "main"})
                else:
                    items.append({
                        "id": 1000 + i,
                        "name": p["path"][len(prefix):],
                        "full_name": p["path"],
                        "clone_url": url,
                        "archived": p.get("archived", False),
                        "has_wiki": p.get("wiki", False)})
            if gitlab and not any(p["path"].startswith(prefix)
                                  for p in state["projects"]):
                return self.send(404, {"message": "404 Group Not Found"})
            per = int(state.get("per_page", 20))
            page = int(q.get("page", "1"))
            chunk = items[(page - 1) * per:page * per]
            if state.get("pad") and chunk:
                chunk[0]["description"] = "x" * int(state["pad"])
            headers = {}
            if page * per < len(items):
                nq = dict(q)
                nq["page"] = str(page + 1)
                nxt = "%s%s?%s" % (base["url"], path,
                                   urllib.parse.urlencode(nq))
                headers["Link"] = '<%s>; rel="next"' % nxt
                if gitlab:
                    headers["X-Next-Page"] = str(page + 1)
            elif gitlab:
                headers["X-Next-Page"] = ""
            self.send(200, chunk, headers)

        def counted(self, state, parts, q):
            extra = Counters.enter(state)
            try:
                if extra is None:
                    return self.send(429, {"message": "429 Too Many "
                                           "Requests"}, {
                        "RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(Counters.reset)})
                time.sleep(float(state.get("api_delay", 0)))
                self.extra = extra
                return self.project(state, parts, q)
            finally:
                Counters.leave(state, extra)

        def send(self, status, body, headers=None, ctype="application/json"):
            headers = dict(headers or {})
            headers.update(getattr(self, "extra", None) or {})
            self.extra = None
            super().send(status, body, headers, ctype)

        def project(self, state, parts, q):
            name = urllib.parse.unquote(parts[0])
            proj = None
            for i, p in enumerate(state["projects"]):
                if p["path"] == name:
                    proj, pid = p, 1000 + i
            if proj is None:
                return self.send(404, {"message": "404 Project Not Found"})
            if proj.get("fail"):
                return self.send(proj["fail"], {"message": "boom"})
            rest = parts[1:]
            runs = sorted(proj.get("pipelines", []), reverse=True)
            if not rest:
                return self.send(200, {
                    "id": pid, "path_with_namespace": name,
                    "default_branch": "main", "ci_config_path": None})
            if rest[:2] == ["repository", "files"]:
                if rest[2] == ".gitlab-ci.yml":
                    return self.send(200, b"test:\n  script: make check\n",
                                     ctype="text/plain")
                return self.send(404, {"message": "404 File Not Found"})
            if rest == ["pipelines"]:
                return self.send(200, [{"id": r, "status": "success",
                                        "ref": "main"} for r in runs],
                                 {"X-Next-Page": ""})
            if len(rest) == 2 and rest[0] == "pipelines" and \
                    int(rest[1]) in runs:
                return self.send(200, {"id": int(rest[1]),
                                       "status": "success", "ref": "main",
                                       "project_id": pid})
            if len(rest) == 3 and rest[0] == "pipelines" and \
                    rest[2] in ("jobs", "bridges"):
                return self.send(200, [], {"X-Next-Page": ""})
            if len(rest) == 1 and rest[0] in (
                    "pipeline_schedules", "variables", "environments",
                    "deployments", "protected_branches", "hooks",
                    "releases"):
                return self.send(200, [], {"X-Next-Page": ""})
            return self.send(404, {"message": "404 Not Found"})

    return Handler


def main():
    args = forgehttp.parse_args("--log")
    base = {}
    srv, base["url"] = forgehttp.listen()
    srv.RequestHandlerClass = make_handler(args, base)
    forgehttp.serve(srv, args.port_file, args.timeout)


if __name__ == "__main__":
    main()
