#!/usr/bin/env python3
"""tests/forge/recover_server.py: a fixture forge that accepts writes,
for `amber recover` tests.

Serves, on 127.0.0.1 only, a GitLab-like API (/api/v4) and a
GitHub-like API (at the root) over one in-memory state, and the
repositories over git's smart HTTP protocol (`git http-backend` as a
CGI, receive-pack on) from DIR/git/<path>.git.  It stops by itself after
--timeout seconds.

    recover_server.py --root DIR --port-file F [--token T] [--timeout S]

DIR/init.json (read once, optional):
    {"groups": ["grp"], "orgs": ["org"], "projects": {"grp/x": {...}},
     "per_page": 20}
    A project may have "clone_url", the git URL its API gives.
    "lazy_state": true writes state.json only at the start (benchmarks:
    the whole state written at every write would be what is measured).
    Listings are paginated (Link rel="next"; X-Next-Page on /api/v4).
DIR/state.json: written after every write, the whole state:
    {"projects": {"grp/app": {"visibility": ..., "variables": [...],
     "pipeline_schedules": [...], "protected_branches": [...],
     "environments": [...], "hooks": [...], ...}}}
DIR/faults.json (re-read on every request, optional): a list of
    {"method": "POST", "path": "/variables", "status": 500,
     "count": 1, "retry_after": 0}
    the next `count` requests whose path contains `path` answer
    `status` (with Retry-After when given); counts are kept in memory.
DIR/req.log: "METHOD PATH" per request, " auth=bad" when the token was
    wrong or missing.
With --token, API requests need "Authorization: Bearer T" and git
pushes Basic auth with the password T (401 otherwise).
"""
import base64
import json
import os
import subprocess
import threading
import urllib.parse

import forgehttp

# git http-backend takes pushes only when told.
RECEIVE_PACK = {"GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.receivepack",
                "GIT_CONFIG_VALUE_0": "true"}

KINDS = ("variables", "pipeline_schedules", "protected_branches",
         "environments", "hooks")


class Forge:
    def __init__(self, root, base):
        self.root = root
        self.base = base
        self.lock = threading.Lock()
        self.next_id = 100
        self.fault_used = {}
        init = {}
        p = os.path.join(root, "init.json")
        if os.path.exists(p):
            with open(p) as f:
                init = json.load(f)
        self.groups = init.get("groups", [])
        self.per_page = init.get("per_page", 20)
        self.is_lazy = False

        self.orgs = init.get("orgs", [])
        self.projects = {}
        for path, proj in init.get("projects", {}).items():
            self.create(path, proj)
        self.save()
        self.is_lazy = init.get("lazy_state", False)

    def nid(self):
        self.next_id += 1
        return self.next_id

    def create(self, path, fields):
        proj = {"id": self.nid(), "path_with_namespace": path,
                "name": path.rsplit("/", 1)[1],
                "path": path.rsplit("/", 1)[1],
                "visibility": "private", "description": "",
                "default_branch": None, "archived": False}
        for k in KINDS:
            proj[k] = []
        proj.update(fields)
        d = os.path.join(self.root, "git", path + ".git")
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if not os.path.exists(d):
            subprocess.run(["git", "init", "-q", "--bare", "-b", "main", d],
                           check=True)
        self.projects[path] = proj
        return proj

    def save(self):
        if self.is_lazy:
            return
        tmp = os.path.join(self.root, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump({"projects": self.projects}, f, indent=1,
                      sort_keys=True)
        os.rename(tmp, os.path.join(self.root, "state.json"))

    def gl_view(self, p):
        v = {k: p[k] for k in p if k not in KINDS}
        v["http_url_to_repo"] = p.get("clone_url", "%s/git/%s.git" % (
            self.base["url"], p["path_with_namespace"]))
        return v

    def gh_view(self, p):
        name = p["path_with_namespace"].split("/", 1)[1]
        return {"id": p["id"], "name": name,
                "full_name": p["path_with_namespace"],
                "private": p["visibility"] != "public",
                "description": p["description"],
                "default_branch": p["default_branch"],
                "archived": p["archived"],
                "clone_url": p.get("clone_url", "%s/git/%s.git" % (
                    self.base["url"], p["path_with_namespace"]))}


def make_handler(args, forge):
    class Handler(forgehttp.Handler):
        def do_PUT(self):
            self.handle_any("PUT")

        def do_PATCH(self):
            self.handle_any("PATCH")

        def do_DELETE(self):
            self.handle_any("DELETE")

        def fault(self, method, path):
            p = os.path.join(args.root, "faults.json")
            if not os.path.exists(p):
                return None
            with open(p) as f:
                faults = json.load(f)
            with forge.lock:
                for i, flt in enumerate(faults):
                    if flt.get("method", method) != method or \
                            flt["path"] not in path:
                        continue
                    used = forge.fault_used.get(i, 0)
                    if used >= flt.get("count", 1):
                        continue
                    forge.fault_used[i] = used + 1
                    return flt
            return None

        def handle_any(self, method):
            path, _, query = self.path.partition("?")
            body = self.read_body()
            is_git = path.startswith("/git/")
            auth_ok = True
            if args.token:
                if is_git:
                    a = self.headers.get("Authorization", "")
                    auth_ok = a.startswith("Basic ") and \
                        base64.b64decode(a[6:]).decode().partition(
                            ":")[2] == args.token
                else:
                    auth_ok = self.headers.get("Authorization") == \
                        "Bearer " + args.token
            with open(os.path.join(args.root, "req.log"), "a") as f:
                f.write("%s %s%s\n" % (method, self.path,
                                       "" if auth_ok else " auth=bad"))
            flt = self.fault(method, self.path)
            if flt is not None:
                h = {}
                if flt.get("retry_after") is not None:
                    h["Retry-After"] = str(flt["retry_after"])
                return self.send(flt["status"], {"message": "injected"}, h)
            if is_git:
                if not auth_ok and ("receive-pack" in path or
                                    "receive-pack" in query):
                    return self.send(401, b"auth needed\n", {
                        "WWW-Authenticate": 'Basic realm="git"'},
                        ctype="text/plain")
                return self.git_backend(args.root, method, path, query,
                                        body, RECEIVE_PACK)
            if not auth_ok:
                return self.send(401, {"message": "401 Unauthorized"})
            try:
                data = json.loads(body) if body else {}
            except ValueError:
                return self.send(400, {"message": "bad JSON"})
            q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            with forge.lock:
                st, out = self.route(method, path, q, data)
                if method != "GET" and 200 <= st < 300:
                    forge.save()
                out = json.loads(json.dumps(out)) \
                    if not isinstance(out, bytes) else out
            headers = {}
            if method == "GET" and st == 200:
                out, headers = self.paginate(path, q, out)
            self.send(st, out, headers)

        def paginate(self, path, q, out):
            """Listings come per_page items at a time (init.json's
            "per_page", default 20), with Link rel="next" and, on
            /api/v4, X-Next-Page; GitHub's {"total_count", KEY: [...]}
            is cut the same way."""
            per = int(forge.per_page)
            page = int(q.get("page", "1"))
            key = None
            items = out
            if isinstance(out, dict) and "total_count" in out:
                key = [k for k in out if k != "total_count"][0]
                items = out[key]
            if not isinstance(items, list):
                return out, {}
            chunk = items[(page - 1) * per:page * per]
            headers = {}
            if page * per < len(items):
                nq = dict(q)
                nq["page"] = str(page + 1)
                headers["Link"] = '<%s%s?%s>; rel="next"' % (
                    forge.base["url"], path, urllib.parse.urlencode(nq))
                if path.startswith("/api/v4/"):
                    headers["X-Next-Page"] = str(page + 1)
            elif path.startswith("/api/v4/"):
                headers["X-Next-Page"] = ""
            if key is not None:
                return {"total_count": len(items), key: chunk}, headers
            return chunk, headers

        def route(self, method, path, q, data):
            parts = [urllib.parse.unquote(x) for x in path.split("/")[1:]]
            if parts[:2] == ["api", "v4"]:
                return self.gitlab(method, parts[2:], q, data)
            return self.github(method, parts, q, data)

        # ---- GitLab ----
        def gitlab(self, method, parts, q, data):
            if parts[0] == "groups" and len(parts) == 2 and method == "GET":
                if parts[1] in forge.groups:
                    return 200, {"id": 7 + forge.groups.index(parts[1]),
                                 "full_path": parts[1]}
                return 404, {"message": "404 Group Not Found"}
            if parts == ["projects"] and method == "POST":
                gid = data.get("namespace_id")
                groups = {7 + i: g for i, g in enumerate(forge.groups)}
                if gid not in groups:
                    return 400, {"message": "bad namespace"}
                full = groups[gid] + "/" + data.get("path", "")
                if full in forge.projects:
                    return 400, {"message": "has already been taken"}
                fields = {k: data[k] for k in ("visibility", "description")
                          if k in data}
                return 201, forge.gl_view(forge.create(full, fields))
            if parts[0] != "projects" or len(parts) < 2:
                return 404, {"message": "404 Not Found"}
            p = forge.projects.get(parts[1])
            if p is None:
                return 404, {"message": "404 Project Not Found"}
            rest = parts[2:]
            if not rest:
                if method == "GET":
                    return 200, forge.gl_view(p)
                if method == "PUT":
                    for k in ("visibility", "description", "default_branch"):
                        if k in data:
                            p[k] = data[k]
                    if "default_branch" in data:
                        self.set_head(p, data["default_branch"])
                    return 200, forge.gl_view(p)
            if rest == ["archive"] and method == "POST":
                p["archived"] = True
                return 201, forge.gl_view(p)
            if p["archived"] and method != "GET":
                return 403, {"message": "project is archived"}
            kind = rest[0]
            # What amber ingest reads besides the recovered kinds: this
            # fixture runs no pipelines and holds no deployments or
            # releases, so a project read back has none.
            if kind in ("pipelines", "deployments", "releases") and \
                    len(rest) == 1 and method == "GET":
                return 200, []
            if kind not in KINDS:
                return 404, {"message": "404 Not Found"}
            items = p[kind]
            if len(rest) == 1:
                if method == "GET":
                    return 200, items
                if method == "POST":
                    return self.gl_create(kind, items, data)
            if len(rest) >= 2:
                it = self.gl_find(kind, items, rest[1], q)
                if it is None:
                    return 404, {"message": "404 Not found"}
                if len(rest) == 3 and rest[2] == "variables" and \
                        kind == "pipeline_schedules" and method == "POST":
                    it.setdefault("variables", []).append(data)
                    return 201, data
                if len(rest) == 2:
                    if method == "GET":
                        return 200, it
                    if method == "PUT":
                        it.update(data)
                        return 200, it
                    if method == "DELETE":
                        items.remove(it)
                        return 204, b""
            return 404, {"message": "404 Not Found"}

        def gl_find(self, kind, items, key, q):
            for it in items:
                if kind == "variables":
                    if it["key"] == key and it.get(
                            "environment_scope", "*") == q.get(
                            "filter[environment_scope]", "*"):
                        return it
                elif kind == "protected_branches":
                    if it["name"] == key:
                        return it
                elif str(it.get("id")) == key:
                    return it
            return None

        def gl_create(self, kind, items, data):
            it = dict(data)
            if kind == "variables":
                it.setdefault("environment_scope", "*")
                it.setdefault("variable_type", "env_var")
                it.setdefault("protected", False)
                it.setdefault("masked", False)
                for o in items:
                    if o["key"] == it["key"] and \
                            o["environment_scope"] == it["environment_scope"]:
                        return 400, {"message": "has already been taken"}
            elif kind == "protected_branches":
                for o in items:
                    if o["name"] == it["name"]:
                        return 409, {"message": "already protected"}
                it = {"id": forge.nid(), "name": data["name"],
                      "allow_force_push": data.get("allow_force_push",
                                                   False)}
                for lv in ("push", "merge", "unprotect"):
                    if lv + "_access_level" in data:
                        it[lv + "_access_levels"] = [{
                            "access_level": data[lv + "_access_level"]}]
            else:
                it["id"] = forge.nid()
                if kind == "pipeline_schedules":
                    it.setdefault("active", True)
            items.append(it)
            return 201, it

        def set_head(self, p, branch):
            d = os.path.join(args.root, "git",
                             p["path_with_namespace"] + ".git")
            subprocess.run(["git", "-C", d, "symbolic-ref", "HEAD",
                            "refs/heads/" + branch], check=False)

        # ---- GitHub ----
        def github(self, method, parts, q, data):
            if parts[0] == "orgs" and len(parts) == 2 and method == "GET":
                if parts[1] in forge.orgs:
                    return 200, {"login": parts[1]}
                return 404, {"message": "Not Found"}
            if parts[0] == "orgs" and len(parts) == 3 and \
                    parts[2] == "repos" and method == "POST":
                if parts[1] not in forge.orgs:
                    return 404, {"message": "Not Found"}
                full = parts[1] + "/" + data.get("name", "")
                if full in forge.projects:
                    return 422, {"message": "name already exists"}
                p = forge.create(full, {
                    "visibility": "private" if data.get("private", True)
                    else "public",
                    "description": data.get("description", "")})
                return 201, forge.gh_view(p)
            if parts[0] != "repos" or len(parts) < 3:
                return 404, {"message": "Not Found"}
            p = forge.projects.get(parts[1] + "/" + parts[2])
            if p is None:
                return 404, {"message": "Not Found"}
            rest = parts[3:]
            if not rest:
                if method == "GET":
                    return 200, forge.gh_view(p)
                if method == "PATCH":
                    if p["archived"]:
                        return 403, {"message": "archived"}
                    if "private" in data:
                        p["visibility"] = "private" if data["private"] \
                            else "public"
                    for k in ("description", "default_branch", "archived"):
                        if k in data:
                            p[k] = data[k]
                    if "default_branch" in data:
                        self.set_head(p, data["default_branch"])
                    return 200, forge.gh_view(p)
            if p["archived"] and method != "GET":
                return 403, {"message": "archived"}
            if rest[:2] == ["actions", "variables"]:
                items = p["variables"]
                if len(rest) == 2 and method == "GET":
                    return 200, {"total_count": len(items),
                                 "variables": items}
                if len(rest) == 2 and method == "POST":
                    if any(v["name"] == data["name"] for v in items):
                        return 409, {"message": "exists"}
                    items.append({"name": data["name"],
                                  "value": data["value"]})
                    return 201, {}
                for v in items:
                    if len(rest) == 3 and v["name"] == rest[2] and \
                            method == "PATCH":
                        v.update(data)
                        return 204, b""
                return 404, {"message": "Not Found"}
            if rest[0] == "environments":
                items = p["environments"]
                if len(rest) == 1 and method == "GET":
                    return 200, {"total_count": len(items),
                                 "environments": items}
                if len(rest) == 2 and method == "PUT":
                    for e in items:
                        if e["name"] == rest[1]:
                            return 200, e
                    e = {"id": forge.nid(), "name": rest[1]}
                    items.append(e)
                    return 200, e
            if rest[0] == "branches":
                return self.gh_protection(method, p, rest, q, data)
            if rest[0] == "hooks":
                items = p["hooks"]
                if len(rest) == 1 and method == "GET":
                    return 200, items
                if len(rest) == 1 and method == "POST":
                    h = dict(data)
                    h["id"] = forge.nid()
                    items.append(h)
                    return 201, h
                for h in items:
                    if len(rest) == 2 and str(h["id"]) == rest[1] and \
                            method == "PATCH":
                        h.update(data)
                        return 200, h
            return 404, {"message": "Not Found"}

        def gh_protection(self, method, p, rest, q, data):
            """Branch protection: PUT takes booleans, GET answers
            {"enabled": ...} objects; the branch must exist."""
            items = p["protected_branches"]
            if len(rest) == 1 and method == "GET":
                return 200, [{"name": b["name"], "protected": True}
                             for b in items]
            if len(rest) != 3 or rest[2] != "protection":
                return 404, {"message": "Not Found"}
            name = rest[1]
            found = [b for b in items if b["name"] == name]
            if method == "GET":
                if not found:
                    return 404, {"message": "Branch not protected"}
                return 200, found[0]["protection"]
            if method != "PUT":
                return 404, {"message": "Not Found"}
            d = os.path.join(args.root, "git",
                             p["path_with_namespace"] + ".git")
            if subprocess.run(["git", "-C", d, "rev-parse", "-q",
                               "--verify", "refs/heads/" + name],
                              capture_output=True).returncode != 0:
                return 404, {"message": "Branch not found"}
            for k in ("required_status_checks", "enforce_admins",
                      "required_pull_request_reviews", "restrictions"):
                if k not in data:
                    return 422, {"message": "missing " + k}
            prot = {"url": "x", "enforce_admins": {
                "enabled": bool(data["enforce_admins"])}}
            if data["required_status_checks"] is not None:
                prot["required_status_checks"] = dict(
                    data["required_status_checks"], url="x")
            if data["required_pull_request_reviews"] is not None:
                prot["required_pull_request_reviews"] = dict(
                    data["required_pull_request_reviews"], url="x")
            for k in ("required_linear_history", "allow_force_pushes",
                      "allow_deletions"):
                prot[k] = {"enabled": bool(data.get(k, False))}
            if found:
                found[0]["protection"] = prot
            else:
                items.append({"name": name, "protection": prot})
            return 200, prot

    return Handler


def main():
    args = forgehttp.parse_args("--token")
    base = {}
    srv, base["url"] = forgehttp.listen()
    forge = Forge(args.root, base)
    srv.RequestHandlerClass = make_handler(args, forge)
    forgehttp.serve(srv, args.port_file, args.timeout)


if __name__ == "__main__":
    main()
