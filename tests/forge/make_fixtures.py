#!/usr/bin/env python3
"""tests/forge/make_fixtures.py: writes tests/forge/fixtures/, the recorded
GitLab and GitHub REST responses the fixture server (server.py) answers
with, shaped as the two forges' REST documentation gives them.

Each set is a directory with routes.json and bodies/.  A "-v1" set is a
forge at the first ingest; "-v2" and the others are overlays (what changed,
or what breaks).  The output is deterministic: run it after editing, then
regenerate the expected trees with make_expected.sh and review the diff.
"""
import base64
import io
import json
import os
import shutil
import zipfile

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

class FX:
    def __init__(self, name):
        self.dir = os.path.join(TOP, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "bodies"))
        self.routes = []
        self.n = 0
    def body(self, fname, data):
        p = os.path.join(self.dir, "bodies", fname)
        with open(p, "w") as f:
            if isinstance(data, str):
                f.write(data)
            else:
                json.dump(data, f, indent=1)
                f.write("\n")
        return "bodies/" + fname
    def route(self, path, data=None, fname=None, query=None, status=200, headers=None, listener=None, sequence=None):
        r = {"path": path}
        if query: r["query"] = query
        if listener: r["listener"] = listener
        if sequence is not None:
            r["sequence"] = sequence
        else:
            if status != 200: r["status"] = status
            if headers: r["headers"] = headers
            if data is not None:
                r["body"] = self.body(fname, data)
        self.routes.append(r)
    def save(self):
        with open(os.path.join(self.dir, "routes.json"), "w") as f:
            json.dump({"routes": self.routes}, f, indent=1)
            f.write("\n")

# ---------------------------------------------------------------- GitLab
GP = "/api/v4/projects/grp%2Fapp"
user = {"id": 1, "username": "root", "name": "Administrator", "state": "active",
        "avatar_url": "https://gitlab.example.com/uploads/user/avatar/1/a.png",
        "web_url": "https://gitlab.example.com/root"}

def gl_pipeline(pid, status, sha, created, finished=None):
    return {"id": pid, "iid": pid - 990, "project_id": 42, "name": None,
            "status": status, "ref": "main", "sha": sha,
            "before_sha": "0000000000000000000000000000000000000000",
            "tag": False, "yaml_errors": None, "user": user,
            "created_at": created, "updated_at": finished or created,
            "started_at": created, "finished_at": finished,
            "committed_at": None, "duration": 61 if finished else None,
            "queued_duration": 0.5, "coverage": None,
            "web_url": "https://gitlab.example.com/grp/app/-/pipelines/%d" % pid,
            "source": "push", "detailed_status": {"icon": "status_" + status,
            "text": status, "label": status, "group": status}}

def gl_list_item(p):
    return {k: p[k] for k in ("id", "iid", "project_id", "sha", "ref", "status",
                             "source", "created_at", "updated_at", "web_url", "name")}

def gl_job(jid, pid, name, stage, status, sha, started):
    return {"id": jid, "name": name, "stage": stage, "status": status,
            "ref": "main", "tag": False, "coverage": None,
            "allow_failure": False, "archived": False,
            "created_at": started, "started_at": started if status != "created" else None,
            "finished_at": None if status in ("running", "created") else started.replace(":00Z", ":45Z"),
            "erased_at": None, "duration": None if status in ("running", "created") else 45.0,
            "queued_duration": 0.2, "user": user,
            "commit": {"id": sha, "short_id": sha[:8], "title": "Fix the build",
                       "author_name": "Ada", "author_email": "ada@example.com",
                       "created_at": "2026-11-20T10:00:00.000Z"},
            "pipeline": {"id": pid, "project_id": 42, "ref": "main", "sha": sha, "status": status},
            "web_url": "https://gitlab.example.com/grp/app/-/jobs/%d" % jid,
            "artifacts": [{"file_type": "trace", "size": 1200, "filename": "job.log", "file_format": None}],
            "artifacts_expire_at": None, "tag_list": ["docker"],
            "runner": {"id": 3, "description": "shared-runner-1", "active": True,
                       "paused": False, "is_shared": True, "runner_type": "instance_type",
                       "name": "gitlab-runner", "online": True, "status": "online"},
            "failure_reason": "script_failure" if status == "failed" else None,
            "project": {"ci_job_token_scope_enabled": False}}

SHA1 = "a91957a858320c0e17f3a0eca7cfacbff50ea29a"
SHA2 = "eb94b618fb5865b26e80fdd8ae531b7a63ad851a"
SHA3 = "1c3b5e7d9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c"

ci_yml = """stages: [build, test, deploy]

include:
  - local: 'ci/build.yml'
  - '/ci/deploy.yml'
  - remote: 'https://example.com/ci/lint.yml'
  - template: 'Security/SAST.gitlab-ci.yml'

variables:
  GIT_DEPTH: "10"

test:
  stage: test
  script:
    - make check
"""
build_yml = """build:
  stage: build
  script:
    - make
  artifacts:
    paths: [build/]
"""
deploy_yml = """deploy:
  stage: deploy
  environment: production
  script:
    - ./deploy.sh
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
"""

def gitlab_v1():
    fx = FX("gitlab-v1")
    fx.route(GP, {"id": 42, "description": "The app", "name": "app",
                  "name_with_namespace": "grp / app", "path": "app",
                  "path_with_namespace": "grp/app",
                  "created_at": "2025-01-02T03:04:05.000Z", "default_branch": "main",
                  "ci_config_path": "", "visibility": "private",
                  "web_url": "https://gitlab.example.com/grp/app",
                  "http_url_to_repo": "https://gitlab.example.com/grp/app.git",
                  "ssh_url_to_repo": "git@gitlab.example.com:grp/app.git",
                  "namespace": {"id": 7, "name": "grp", "path": "grp", "kind": "group", "full_path": "grp"},
                  "jobs_enabled": True, "builds_access_level": "enabled",
                  "shared_runners_enabled": True, "archived": False}, "project.json")
    fx.route(GP + "/repository/files/.gitlab-ci.yml/raw", ci_yml, "gitlab-ci.yml", query={"ref": "main"})
    fx.route(GP + "/repository/files/ci%2Fbuild.yml/raw", build_yml, "build.yml", query={"ref": "main"})
    fx.route(GP + "/repository/files/ci%2Fdeploy.yml/raw", deploy_yml, "deploy.yml", query={"ref": "main"})
    p1000 = gl_pipeline(1000, "success", SHA1, "2026-11-25T08:00:00.000Z", "2026-11-25T08:01:01.000Z")
    p1001 = gl_pipeline(1001, "failed", SHA1, "2026-11-26T08:00:00.000Z", "2026-11-26T08:01:01.000Z")
    p1002 = gl_pipeline(1002, "running", SHA2, "2026-11-27T08:00:00.000Z")
    # Page 1 links to page 2 (Link header, as GitLab sends with X-Next-Page).
    fx.route(GP + "/pipelines", [gl_list_item(p1002), gl_list_item(p1001)], "pipelines-1.json",
             query={"order_by": "id", "sort": "desc"},
             headers={"Link": '<{api}' + GP + '/pipelines?order_by=id&page=2&per_page=2&sort=desc>; rel="next", <{api}' + GP + '/pipelines?order_by=id&page=2&per_page=2&sort=desc>; rel="last"',
                      "X-Next-Page": "2", "X-Page": "1", "X-Per-Page": "2", "X-Total": "3"})
    fx.route(GP + "/pipelines", [gl_list_item(p1000)], "pipelines-2.json",
             query={"order_by": "id", "sort": "desc", "page": "2"},
             headers={"X-Next-Page": "", "X-Page": "2", "X-Per-Page": "2", "X-Total": "3"})
    for p in (p1000, p1001, p1002):
        fx.route(GP + "/pipelines/%d" % p["id"], p, "pipeline-%d.json" % p["id"])
    j = {
        1000: [gl_job(5000, 1000, "build", "build", "success", SHA1, "2026-11-25T08:00:00Z")],
        1001: [gl_job(5010, 1001, "build", "build", "success", SHA1, "2026-11-26T08:00:00Z"),
               gl_job(5011, 1001, "test", "test", "failed", SHA1, "2026-11-26T08:01:00Z")],
        1002: [gl_job(5020, 1002, "build", "build", "success", SHA2, "2026-11-27T08:00:00Z"),
               gl_job(5021, 1002, "test", "test", "running", SHA2, "2026-11-27T08:01:00Z"),
               gl_job(5022, 1002, "deploy", "deploy", "created", SHA2, "2026-11-27T08:02:00Z")],
    }
    for pid in (1000, 1001):
        fx.route(GP + "/pipelines/%d/jobs" % pid, j[pid], "jobs-%d.json" % pid,
                 headers={"X-Next-Page": "", "X-Page": "1"})
    # 1002's jobs come in two pages, linked only by X-Next-Page.
    fx.route(GP + "/pipelines/1002/jobs", j[1002][:2], "jobs-1002-1.json",
             headers={"X-Next-Page": "2", "X-Page": "1", "X-Per-Page": "2"})
    fx.route(GP + "/pipelines/1002/jobs", j[1002][2:], "jobs-1002-2.json", query={"page": "2"},
             headers={"X-Next-Page": "", "X-Page": "2", "X-Per-Page": "2"})
    logs = {5000: "Running with gitlab-runner 17.5.0\n$ make\ncc -o app app.c\nJob succeeded\n",
            5010: "Running with gitlab-runner 17.5.0\n$ make\nJob succeeded\n",
            5011: "Running with gitlab-runner 17.5.0\n$ make check\nFAIL: test_parse\nERROR: Job failed: exit code 2\n",
            5020: "Running with gitlab-runner 17.5.0\n$ make\nJob succeeded\n",
            5021: "Running with gitlab-runner 17.5.0\n$ make check\n"}
    for jid, t in logs.items():
        fx.route(GP + "/jobs/%d/trace" % jid, t, "trace-%d.txt" % jid)
    fx.route(GP + "/pipeline_schedules", [{"id": 7, "description": "Nightly build", "ref": "refs/heads/main",
             "cron": "0 2 * * *", "cron_timezone": "UTC", "next_run_at": "2026-11-28T02:00:00.000Z",
             "active": True, "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
             "owner": user}], "schedules.json")
    fx.route(GP + "/pipeline_schedules/7", {"id": 7, "description": "Nightly build", "ref": "refs/heads/main",
             "cron": "0 2 * * *", "cron_timezone": "UTC", "next_run_at": "2026-11-28T02:00:00.000Z",
             "active": True, "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
             "last_pipeline": {"id": 990, "sha": SHA1, "ref": "refs/heads/main", "status": "success"},
             "owner": user, "variables": [{"key": "NIGHTLY", "variable_type": "env_var", "value": "1", "raw": False}]},
             "schedule-7.json")
    variables = [{"variable_type": "env_var", "key": "DEPLOY_TOKEN", "value": "glpat-s3cr3t-value",
                  "protected": True, "masked": True, "hidden": False, "raw": False,
                  "environment_scope": "production", "description": "deploys"},
                 {"variable_type": "file", "key": "KUBECONFIG", "value": "apiVersion: v1\nkind: Config\n",
                  "protected": False, "masked": False, "hidden": False, "raw": True,
                  "environment_scope": "*", "description": None}]
    # The first answer is a rate limit: 429 with Retry-After.
    fx.route(GP + "/variables", sequence=[
        {"status": 429, "headers": {"Retry-After": "1", "RateLimit-Remaining": "0",
                                    "RateLimit-Reset": "{now+1}"},
         "body": fx.body("ratelimit.txt", "Retry later\n")},
        {"status": 200, "body": fx.body("variables.json", variables)}])
    fx.route(GP + "/environments", [{"id": 1, "name": "production", "slug": "production",
             "external_url": "https://app.example.com", "state": "available", "tier": "production",
             "created_at": "2025-02-01T00:00:00.000Z", "updated_at": "2026-11-25T08:02:00.000Z",
             "description": None, "auto_stop_at": None, "auto_stop_setting": "always"}], "environments.json")
    fx.route(GP + "/deployments", [{"id": 300, "iid": 3, "ref": "main", "sha": SHA1,
             "created_at": "2026-11-25T08:02:00.000Z", "updated_at": "2026-11-25T08:03:00.000Z",
             "status": "success", "user": user,
             "environment": {"id": 1, "name": "production", "external_url": "https://app.example.com"},
             "deployable": {"id": 5001, "name": "deploy", "stage": "deploy", "status": "success"}}],
             "deployments.json", query={"order_by": "id", "sort": "desc"})
    fx.route(GP + "/protected_branches", [{"id": 1, "name": "main",
             "push_access_levels": [{"id": 1, "access_level": 40, "access_level_description": "Maintainers",
                                     "deploy_key_id": None, "user_id": None, "group_id": None}],
             "merge_access_levels": [{"id": 1, "access_level": 30, "access_level_description": "Developers + Maintainers",
                                      "user_id": None, "group_id": None}],
             "allow_force_push": False, "code_owner_approval_required": False}], "protected_branches.json")
    fx.route(GP + "/hooks", [{"id": 1, "url": "https://hooks.example.com/gitlab", "name": "chat",
             "description": None, "project_id": 42, "push_events": True, "pipeline_events": True,
             "job_events": False, "enable_ssl_verification": True, "created_at": "2025-03-01T00:00:00.000Z",
             "alert_status": "executable", "disabled_until": None,
             "url_variables": [{"key": "chat_secret"}], "custom_webhook_template": None}], "hooks.json")
    fx.route(GP + "/releases", [{"tag_name": "v1.0.0", "name": "v1.0.0", "description": "First release",
             "created_at": "2026-10-01T00:00:00.000Z", "released_at": "2026-10-01T00:00:00.000Z",
             "upcoming_release": False, "author": user,
             "commit": {"id": SHA1, "short_id": SHA1[:8], "title": "Release 1.0"},
             "assets": {"count": 4, "sources": [{"format": "zip",
                        "url": "https://gitlab.example.com/grp/app/-/archive/v1.0.0/app-v1.0.0.zip"}],
                        "links": []}}], "releases.json")
    fx.save()

def gitlab_v2():
    # What changed on the forge before the second ingest.
    fx = FX("gitlab-v2")
    p1002 = gl_pipeline(1002, "success", SHA2, "2026-11-27T08:00:00.000Z", "2026-11-27T08:03:01.000Z")
    p1003 = gl_pipeline(1003, "success", SHA3, "2026-11-27T12:00:00.000Z", "2026-11-27T12:01:01.000Z")
    fx.route(GP + "/pipelines", [gl_list_item(p1003), gl_list_item(p1002)], "pipelines-1.json",
             query={"order_by": "id", "sort": "desc"},
             headers={"Link": '<{api}' + GP + '/pipelines?order_by=id&page=2&per_page=2&sort=desc>; rel="next"',
                      "X-Next-Page": "2"})
    fx.route(GP + "/pipelines/1002", p1002, "pipeline-1002.json")
    fx.route(GP + "/pipelines/1003", p1003, "pipeline-1003.json")
    # Runs already stored must not be fetched again: make them fail if they are.
    for pid in (1000, 1001):
        fx.route(GP + "/pipelines/%d" % pid, {"message": "500 Internal Server Error"}, "error.json", status=500)
    jobs = [gl_job(5020, 1002, "build", "build", "success", SHA2, "2026-11-27T08:00:00Z"),
            gl_job(5021, 1002, "test", "test", "success", SHA2, "2026-11-27T08:01:00Z"),
            gl_job(5022, 1002, "deploy", "deploy", "success", SHA2, "2026-11-27T08:02:00Z")]
    fx.route(GP + "/pipelines/1002/jobs", jobs[:2], "jobs-1002-1.json", headers={"X-Next-Page": "2"})
    fx.route(GP + "/pipelines/1002/jobs", jobs[2:], "jobs-1002-2.json", query={"page": "2"}, headers={"X-Next-Page": ""})
    fx.route(GP + "/pipelines/1003/jobs", [gl_job(5030, 1003, "build", "build", "success", SHA3, "2026-11-27T12:00:00Z")],
             "jobs-1003.json")
    # A trigger job, listed apart from the jobs (GitLab "bridges").
    fx.route(GP + "/pipelines/1003/bridges", [{
        "id": 5031, "name": "docs", "stage": "deploy", "status": "success", "ref": "main",
        "tag": False, "coverage": None, "allow_failure": False,
        "created_at": "2026-11-27T12:00:30.000Z", "started_at": "2026-11-27T12:00:31.000Z",
        "finished_at": "2026-11-27T12:01:00.000Z", "erased_at": None, "duration": 29.0,
        "queued_duration": 0.1, "user": user,
        "commit": {"id": SHA3, "short_id": SHA3[:8], "title": "Docs"},
        "pipeline": {"id": 1003, "project_id": 42, "ref": "main", "sha": SHA3, "status": "success"},
        "web_url": "https://gitlab.example.com/grp/app/-/pipelines/1003",
        "downstream_pipeline": {"id": 2001, "sha": SHA3, "ref": "main", "status": "success",
                                "created_at": "2026-11-27T12:00:31.000Z", "updated_at": "2026-11-27T12:01:00.000Z",
                                "web_url": "https://gitlab.example.com/grp/docs/-/pipelines/2001"}}],
        "bridges-1003.json")
    fx.route(GP + "/jobs/5021/trace", "Running with gitlab-runner 17.5.0\n$ make check\nall tests passed\nJob succeeded\n", "trace-5021.txt")
    fx.route(GP + "/jobs/5022/trace", "Running with gitlab-runner 17.5.0\n$ ./deploy.sh\ndeployed\nJob succeeded\n", "trace-5022.txt")
    fx.route(GP + "/jobs/5030/trace", "Running with gitlab-runner 17.5.0\n$ make\nJob succeeded\n", "trace-5030.txt")
    fx.route(GP + "/variables", [{"variable_type": "env_var", "key": "DEPLOY_TOKEN", "value": "glpat-s3cr3t-value",
              "protected": True, "masked": True, "hidden": False, "raw": False,
              "environment_scope": "production", "description": "deploys"},
             {"variable_type": "file", "key": "KUBECONFIG", "value": "apiVersion: v1\nkind: Config\n",
              "protected": False, "masked": False, "hidden": False, "raw": True,
              "environment_scope": "*", "description": None},
             {"variable_type": "env_var", "key": "REGION", "value": "eu-west-1",
              "protected": False, "masked": False, "hidden": False, "raw": False,
              "environment_scope": "*", "description": None}], "variables.json")
    fx.save()

def gitlab_errors():
    fx = FX("gitlab-errors")
    fx.route(GP + "/releases", {"message": "500 Internal Server Error"}, "error-500.json", status=500)
    fx.route(GP + "/hooks", {"message": "403 Forbidden"}, "error-403.json", status=403)
    fx.save()

# ---------------------------------------------------------------- GitHub
RP = "/repos/octo/app"
octo = {"login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": False,
        "html_url": "https://github.com/octocat"}

def gh_run(rid, status, conclusion, sha, created, num):
    return {"id": rid, "name": "CI", "node_id": "WFR_%d" % rid, "head_branch": "main", "head_sha": sha,
            "path": ".github/workflows/ci.yml", "display_title": "Fix the build", "run_number": num,
            "event": "push", "status": status, "conclusion": conclusion, "workflow_id": 161335,
            "check_suite_id": 42 + rid, "url": "https://api.github.com/repos/octo/app/actions/runs/%d" % rid,
            "html_url": "https://github.com/octo/app/actions/runs/%d" % rid, "pull_requests": [],
            "created_at": created, "updated_at": created, "run_attempt": 1, "run_started_at": created,
            "actor": octo, "triggering_actor": octo,
            "jobs_url": "https://api.github.com/repos/octo/app/actions/runs/%d/jobs" % rid,
            "logs_url": "https://api.github.com/repos/octo/app/actions/runs/%d/logs" % rid,
            "head_commit": {"id": sha, "tree_id": sha[::-1], "message": "Fix the build",
                            "timestamp": created, "author": {"name": "Ada", "email": "ada@example.com"}}}

def gh_job(jid, rid, name, status, conclusion, sha, started):
    return {"id": jid, "run_id": rid, "run_url": "https://api.github.com/repos/octo/app/actions/runs/%d" % rid,
            "node_id": "CR_%d" % jid, "head_sha": sha, "head_branch": "main",
            "url": "https://api.github.com/repos/octo/app/actions/jobs/%d" % jid,
            "html_url": "https://github.com/octo/app/actions/runs/%d/job/%d" % (rid, jid),
            "status": status, "conclusion": conclusion, "created_at": started, "started_at": started,
            "completed_at": started.replace(":00Z", ":50Z") if status == "completed" else None,
            "name": name, "workflow_name": "CI", "run_attempt": 1,
            "steps": [{"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1,
                       "started_at": started, "completed_at": started},
                      {"name": "Run make check", "status": status, "conclusion": conclusion, "number": 2,
                       "started_at": started, "completed_at": None}],
            "check_run_url": "https://api.github.com/repos/octo/app/check-runs/%d" % jid,
            "labels": ["ubuntu-latest"], "runner_id": 1, "runner_name": "GitHub Actions 1",
            "runner_group_id": 2, "runner_group_name": "GitHub Actions"}

ci_workflow = """name: CI
on:
  push:
    branches: [main]
  schedule:
    - cron: '0 3 * * 1'
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make check
"""

def b64lines(s):
    b = base64.b64encode(s.encode()).decode()
    return "\n".join(b[i:i + 60] for i in range(0, len(b), 60)) + "\n"

def github_v1():
    fx = FX("github-v1")
    fx.route(RP, {"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "app", "full_name": "octo/app",
                  "owner": octo, "private": True, "html_url": "https://github.com/octo/app",
                  "description": "The app", "fork": False, "default_branch": "main",
                  "visibility": "private", "archived": False, "disabled": False,
                  "created_at": "2025-01-26T19:01:12Z", "pushed_at": "2026-11-27T07:59:00Z",
                  "permissions": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True}},
             "repository.json")
    fx.route(RP + "/contents/.github/workflows", [
        {"type": "file", "size": len(ci_workflow), "name": "ci.yml", "path": ".github/workflows/ci.yml",
         "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
         "url": "https://api.github.com/repos/octo/app/contents/.github/workflows/ci.yml?ref=main",
         "git_url": "https://api.github.com/repos/octo/app/git/blobs/3d21ec53a331a6f037a91c368710b99387d012c1",
         "html_url": "https://github.com/octo/app/blob/main/.github/workflows/ci.yml",
         "download_url": "https://raw.githubusercontent.com/octo/app/main/.github/workflows/ci.yml",
         "_links": {}},
        {"type": "file", "size": 12, "name": "README.md", "path": ".github/workflows/README.md",
         "sha": "0000000000000000000000000000000000000001", "url": "", "git_url": "", "html_url": "",
         "download_url": "", "_links": {}}], "workflows-dir.json", query={"ref": "main"})
    fx.route(RP + "/contents/.github/workflows/ci.yml", {"type": "file", "encoding": "base64",
             "size": len(ci_workflow), "name": "ci.yml", "path": ".github/workflows/ci.yml",
             "content": b64lines(ci_workflow), "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
             "url": "", "git_url": "", "html_url": "", "download_url": "", "_links": {}},
             "ci.yml.json", query={"ref": "main"})
    wf = {"total_count": 1, "workflows": [{"id": 161335, "node_id": "MDg6V29ya2Zsb3cxNjEzMzU=", "name": "CI",
          "path": ".github/workflows/ci.yml", "state": "active", "created_at": "2025-02-01T00:00:00.000Z",
          "updated_at": "2025-02-01T00:00:00.000Z",
          "url": "https://api.github.com/repos/octo/app/actions/workflows/161335",
          "html_url": "https://github.com/octo/app/blob/main/.github/workflows/ci.yml",
          "badge_url": "https://github.com/octo/app/workflows/CI/badge.svg"}]}
    # A primary rate limit first: 403, x-ratelimit-remaining 0, reset soon.
    fx.route(RP + "/actions/workflows", sequence=[
        {"status": 403, "headers": {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                                    "x-ratelimit-used": "5000", "x-ratelimit-reset": "{now+1}",
                                    "x-ratelimit-resource": "core"},
         "body": fx.body("ratelimit.json", {"message": "API rate limit exceeded for user ID 1.",
                                            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})},
        {"status": 200, "body": fx.body("workflows.json", wf)}])
    r30000 = gh_run(30000, "completed", "success", SHA1, "2026-11-25T08:00:00Z", 1)
    r30001 = gh_run(30001, "completed", "failure", SHA1, "2026-11-26T08:00:00Z", 2)
    r30002 = gh_run(30002, "in_progress", None, SHA2, "2026-11-27T08:00:00Z", 3)
    fx.route(RP + "/actions/runs", {"total_count": 3, "workflow_runs": [r30002, r30001]}, "runs-1.json",
             headers={"Link": '<{api}' + RP + '/actions/runs?per_page=100&page=2>; rel="next", <{api}' + RP + '/actions/runs?per_page=100&page=2>; rel="last"'})
    fx.route(RP + "/actions/runs", {"total_count": 3, "workflow_runs": [r30000]}, "runs-2.json", query={"page": "2"},
             headers={"Link": '<{api}' + RP + '/actions/runs?per_page=100&page=1>; rel="prev", <{api}' + RP + '/actions/runs?per_page=100&page=1>; rel="first"'})
    jobs = {30000: [gh_job(40000, 30000, "check", "completed", "success", SHA1, "2026-11-25T08:00:00Z")],
            30001: [gh_job(40010, 30001, "check", "completed", "failure", SHA1, "2026-11-26T08:00:00Z")],
            30002: [gh_job(40020, 30002, "check", "in_progress", None, SHA2, "2026-11-27T08:00:00Z")]}
    for rid, js in jobs.items():
        fx.route(RP + "/actions/runs/%d/jobs" % rid, {"total_count": len(js), "jobs": js}, "jobs-%d.json" % rid)
        fx.route(RP + "/actions/runs/%d/artifacts" % rid, {"total_count": 1 if rid == 30000 else 0,
                 "artifacts": [{"id": 11, "node_id": "MDg6QXJ0aWZhY3QxMQ==", "name": "build", "size_in_bytes": 556,
                                "url": "https://api.github.com/repos/octo/app/actions/artifacts/11",
                                "archive_download_url": "https://api.github.com/repos/octo/app/actions/artifacts/11/zip",
                                "expired": False, "created_at": "2026-11-25T08:00:50Z",
                                "expires_at": "2027-02-23T08:00:50Z", "updated_at": "2026-11-25T08:00:50Z",
                                "digest": "sha256:cfc3236bdad15b5898bca8408945c9e19e1917da8704adc20eaa618444290a8c",
                                "workflow_run": {"id": 30000, "repository_id": 1296269, "head_branch": "main",
                                                 "head_sha": SHA1}}] if rid == 30000 else []},
                 "artifacts-%d.json" % rid)
    logs = {40000: "2026-11-25T08:00:01Z make check\n2026-11-25T08:00:40Z ok\n",
            40010: "2026-11-26T08:00:01Z make check\n2026-11-26T08:00:40Z FAIL test_parse\n",
            40020: "2026-11-27T08:00:01Z make check\n"}
    for jid, t in logs.items():
        # Logs answer 302 to another origin; it must not see the token.
        fx.route(RP + "/actions/jobs/%d/logs" % jid, status=302,
                 headers={"Location": "{blob}/logs/%d.txt?sig=e2e&se=2026-11-27" % jid})
        fx.route("/logs/%d.txt" % jid, t, "log-%d.txt" % jid, listener="blob")
    fx.route(RP + "/actions/secrets", {"total_count": 1, "secrets": [
             {"name": "NPM_TOKEN", "created_at": "2025-01-10T10:10:10Z", "updated_at": "2025-01-11T11:11:11Z"}]},
             "secrets.json")
    fx.route(RP + "/actions/variables", {"total_count": 1, "variables": [
             {"name": "REGION", "value": "eu-west-1", "created_at": "2025-01-10T10:10:10Z",
              "updated_at": "2025-01-11T11:11:11Z"}]}, "variables.json")
    fx.route(RP + "/environments", {"total_count": 1, "environments": [
             {"id": 161088068, "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4", "name": "production",
              "url": "https://api.github.com/repos/octo/app/environments/production",
              "html_url": "https://github.com/octo/app/deployments/activity_log?environments_filter=production",
              "created_at": "2025-02-01T00:00:00Z", "updated_at": "2025-02-01T00:00:00Z",
              "protection_rules": [{"id": 3736, "node_id": "MDQ6R2F0ZTM3MzY=", "type": "wait_timer", "wait_timer": 30}],
              "deployment_branch_policy": {"protected_branches": True, "custom_branch_policies": False}}]},
             "environments.json")
    fx.route(RP + "/environments/production/secrets", {"total_count": 1, "secrets": [
             {"name": "DEPLOY_KEY", "created_at": "2025-02-01T00:00:00Z", "updated_at": "2025-02-01T00:00:00Z"}]},
             "env-secrets.json")
    fx.route(RP + "/environments/production/variables", {"total_count": 1, "variables": [
             {"name": "URL", "value": "https://app.example.com", "created_at": "2025-02-01T00:00:00Z",
              "updated_at": "2025-02-01T00:00:00Z"}]}, "env-variables.json")
    fx.route(RP + "/deployments", [{"url": "https://api.github.com/repos/octo/app/deployments/500", "id": 500,
             "node_id": "MDEwOkRlcGxveW1lbnQ1MDA=", "sha": SHA1, "ref": "main", "task": "deploy",
             "payload": {}, "original_environment": "production", "environment": "production",
             "description": "Deploy request from CI", "creator": octo,
             "created_at": "2026-11-25T08:01:00Z", "updated_at": "2026-11-25T08:02:00Z",
             "statuses_url": "https://api.github.com/repos/octo/app/deployments/500/statuses",
             "transient_environment": False, "production_environment": True}], "deployments.json")
    fx.route(RP + "/deployments/500/statuses", [{"id": 1, "state": "success", "creator": octo,
             "description": "Deployment finished successfully.", "environment": "production",
             "target_url": "https://app.example.com", "created_at": "2026-11-25T08:02:00Z",
             "updated_at": "2026-11-25T08:02:00Z", "environment_url": "https://app.example.com",
             "log_url": "https://github.com/octo/app/actions/runs/30000"}], "deployment-500-statuses.json")
    fx.route(RP + "/branches", [{"name": "main", "commit": {"sha": SHA2,
             "url": "https://api.github.com/repos/octo/app/commits/" + SHA2}, "protected": True}],
             "branches.json", query={"protected": "true"})
    fx.route(RP + "/branches/main/protection", {"url": "https://api.github.com/repos/octo/app/branches/main/protection",
             "required_status_checks": {"strict": True, "contexts": ["check"], "checks": [{"context": "check", "app_id": None}]},
             "enforce_admins": {"enabled": True}, "required_pull_request_reviews": {"dismiss_stale_reviews": True,
             "require_code_owner_reviews": False, "required_approving_review_count": 1},
             "required_linear_history": {"enabled": False}, "allow_force_pushes": {"enabled": False},
             "allow_deletions": {"enabled": False}}, "protection-main.json")
    fx.route(RP + "/hooks", [{"type": "Repository", "id": 12345678, "name": "web", "active": True,
             "events": ["push", "workflow_run"], "config": {"content_type": "json", "insecure_ssl": "0",
             "url": "https://hooks.example.com/github", "secret": "********"},
             "updated_at": "2025-09-06T20:39:23Z", "created_at": "2025-09-06T17:26:27Z",
             "url": "https://api.github.com/repos/octo/app/hooks/12345678",
             "last_response": {"code": 200, "status": "active", "message": "OK"}}], "hooks.json")
    fx.route(RP + "/releases", [{"id": 1, "tag_name": "v1.0.0", "target_commitish": "main", "name": "v1.0.0",
             "body": "First release", "draft": False, "prerelease": False,
             "created_at": "2026-10-01T00:00:00Z", "published_at": "2026-10-01T00:00:00Z",
             "author": octo, "assets": []}], "releases.json")
    fx.save()

def github_v2():
    fx = FX("github-v2")
    r30002 = gh_run(30002, "completed", "success", SHA2, "2026-11-27T08:00:00Z", 3)
    r30003 = gh_run(30003, "completed", "success", SHA3, "2026-11-27T12:00:00Z", 4)
    fx.route(RP + "/actions/runs", {"total_count": 4, "workflow_runs": [r30003, r30002]}, "runs-1.json",
             headers={"Link": '<{api}' + RP + '/actions/runs?per_page=100&page=2>; rel="next"'})
    fx.route(RP + "/actions/runs/30002", r30002, "run-30002.json")
    fx.route(RP + "/actions/runs/30002/jobs", {"total_count": 1, "jobs": [
             gh_job(40020, 30002, "check", "completed", "success", SHA2, "2026-11-27T08:00:00Z")]}, "jobs-30002.json")
    fx.route(RP + "/actions/runs/30003/jobs", {"total_count": 1, "jobs": [
             gh_job(40030, 30003, "check", "completed", "success", SHA3, "2026-11-27T12:00:00Z")]}, "jobs-30003.json")
    fx.route(RP + "/actions/runs/30003/artifacts", {"total_count": 0, "artifacts": []}, "artifacts-30003.json")
    for jid, t in {40020: "2026-11-27T08:00:01Z make check\n2026-11-27T08:00:40Z ok\n",
                   40030: "2026-11-27T12:00:01Z make check\n2026-11-27T12:00:40Z ok\n"}.items():
        fx.route(RP + "/actions/jobs/%d/logs" % jid, status=302,
                 headers={"Location": "{blob}/logs/%d.txt?sig=e2e" % jid})
        fx.route("/logs/%d.txt" % jid, t, "log-%d.txt" % jid, listener="blob")
    for rid in (30000, 30001):
        fx.route(RP + "/actions/runs/%d/jobs" % rid, {"message": "Server Error"}, "error.json", status=500)
    fx.route(RP + "/actions/variables", {"total_count": 1, "variables": [
             {"name": "REGION", "value": "us-east-1", "created_at": "2025-01-10T10:10:10Z",
              "updated_at": "2026-11-27T11:11:11Z"}]}, "variables.json")
    fx.save()

gitlab_v1(); gitlab_v2(); gitlab_errors(); github_v1(); github_v2()

def gitlab_limits():
    fx = FX("gitlab-limits")
    # Slower than AMBER_FORGE_TIMEOUT: a transport timeout.
    fx.routes.append({"path": GP + "/releases", "delay": 8, "body": fx.body("releases.json", [])})
    # A rate limit that resets in an hour: beyond AMBER_FORGE_MAX_WAIT.
    fx.route(GP + "/environments", {"message": "403 Forbidden - rate limited"}, "limited.json", status=403,
             headers={"RateLimit-Limit": "600", "RateLimit-Remaining": "0",
                      "RateLimit-Reset": "{now+3600}"})
    fx.save()

gitlab_limits()

def small_zip(name, text):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        zi = zipfile.ZipInfo(name, date_time=(2026, 11, 25, 8, 0, 50))
        z.writestr(zi, text)
    return b.getvalue()

def add_bin(fx, fname, data):
    with open(os.path.join(fx.dir, "bodies", fname), "wb") as f:
        f.write(data)
    return "bodies/" + fname

def github_artifacts():
    fx = FX("github-artifacts")
    fx.route(RP + "/actions/artifacts/11/zip", status=302,
             headers={"Location": "{blob}/artifacts/11.zip?sig=e2e"})
    fx.routes.append({"path": "/artifacts/11.zip", "listener": "blob",
                      "headers": {"Content-Type": "application/zip"},
                      "body": add_bin(fx, "artifact-11.zip", small_zip("build/app", "binary\n"))})
    fx.save()

def gitlab_artifacts():
    fx = FX("gitlab-artifacts")
    job = gl_job(5000, 1000, "build", "build", "success", SHA1, "2026-11-25T08:00:00Z")
    job["artifacts"].append({"file_type": "archive", "size": 160, "filename": "artifacts.zip", "file_format": "zip"})
    job["artifacts_file"] = {"filename": "artifacts.zip", "size": 160}
    fx.route(GP + "/pipelines/1000/jobs", [job], "jobs-1000.json", headers={"X-Next-Page": ""})
    fx.route(GP + "/jobs/5000/artifacts", status=302,
             headers={"Location": "{blob}/gitlab-artifacts/5000.zip?X-Amz-Signature=e2e"})
    fx.routes.append({"path": "/gitlab-artifacts/5000.zip", "listener": "blob",
                      "headers": {"Content-Type": "application/zip"},
                      "body": add_bin(fx, "artifacts-5000.zip", small_zip("build/app", "gitlab binary\n"))})
    fx.save()

github_artifacts(); gitlab_artifacts()

def gitlab_gone():
    # Pipeline 1002, unfinished at the first ingest, was deleted since.
    fx = FX("gitlab-gone")
    fx.route(GP + "/pipelines", [], "pipelines-empty.json",
             query={"order_by": "id", "sort": "desc"}, headers={"X-Next-Page": ""})
    fx.route(GP + "/pipelines/1002", {"message": "404 Not found"}, "not-found.json", status=404)
    fx.save()

gitlab_gone()

def github_hostile():
    fx = FX("github-hostile")
    fx.route(RP + "/actions/workflows", "<html>Service Unavailable</html>\n", "html.txt")
    # A run listing whose next page is itself.
    fx.route(RP + "/actions/runs", {"total_count": 1, "workflow_runs": [{"id": "30009"}]}, "runs-loop.json",
             headers={"Link": '<{api}' + RP + '/actions/runs?per_page=100>; rel="next"'})
    # A next page on another origin: the token must not follow it.
    fx.route(RP + "/releases", [], "releases-empty.json",
             headers={"Link": '<{blob}/steal?page=2>; rel="next"'})
    fx.route(RP + "/hooks", {"not": "a list"}, "hooks-object.json")
    fx.route(RP + "/contents/.github/workflows", [
        {"type": "file", "name": "evil.yml", "path": "../../evil.yml"},
        {"type": "file", "name": "ci.yml", "path": ".github/workflows/ci.yml"},
        {"type": "file", "name": "a.yml", "path": ".github/workflows/a.yml"},
        {"type": "file", "name": "b.yml", "path": ".github/workflows/a.yml/b.yml"}],
        "workflows-dir.json", query={"ref": "main"})
    # A file, then a file below a directory of the same name.
    for p in ("a.yml", "a.yml/b.yml"):
        fx.route(RP + "/contents/.github/workflows/" + p, {"type": "file", "encoding": "base64",
                 "content": b64lines("on: push\n")}, "wf-%s.json" % p.replace("/", "-"),
                 query={"ref": "main"})
    fx.route(RP + "/contents/.github/workflows/ci.yml", {"type": "file", "encoding": "base64",
             "content": "!!not base64!!"}, "ci-bad.json", query={"ref": "main"})
    fx.save()

github_hostile()
