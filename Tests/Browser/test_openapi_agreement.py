"""The OpenAPI document and the app agree: every endpoint the app's JavaScript calls (`api(…)`, `EventSource`) is in
the server's `GET /openapi.json`, with its method. No browser needed.

WEB_APP_JS names another folder to read (default Web/app/js), e.g. a copy with a made-up call, to see this fail.
"""

import os
from pathlib import Path

from app_calls import Call, calls_in_source, calls_in_tree, missing_from
from conftest import ROOT

APP_JS = Path(os.environ.get("WEB_APP_JS", ROOT / "Web" / "app" / "js"))


def test_every_endpoint_the_app_calls_is_in_the_openapi_document(server):
    document = server.api("GET", "/openapi.json")
    calls, unreadable = calls_in_tree(APP_JS, ROOT)
    assert calls, f"no api(…) call found under {APP_JS}"
    assert not unreadable, "calls whose path or method is not a literal (write them so that they can be checked):\n" + "\n".join(
        f"  {u.where}: {u.text}" for u in unreadable)
    missing = missing_from(document, calls)
    assert not missing, "the app calls endpoints that GET /openapi.json does not list:\n" + "\n".join(
        f"  {c.method} {c.path}   ({c.where})" for c in missing)


def test_the_reader_finds_templates_methods_and_made_up_paths():
    source = '''
      import { api } from "./api.js";
      export async function api(path, { method = "GET" } = {}) {}
      const feed = () => api("/v1/videos/", { query: { cursor } });
      const like = (id, liked) => api(`/v1/likes/videos/${encodeURIComponent(id)}`, { method: liked ? "DELETE" : "POST" });
      const tab = (id, t) => api(`/v1/users/${id}/${t === "a" ? "followers" : "following"}`);
      const path = `/v1/effects/${effect.id}/jobs`;
      api(path, { method: "POST", body: { video_id: id }, idempotencyKey: key });
      new EventSource(`/v1/events?ticket=${encodeURIComponent(t)}&last_event_id=${last}`);
      api("/v1/made-up/${id}/thing", { method: "PATCH" });
      api(`/v1/made-up/${id}`, { method: "GET" });
      api(somewhere);
      api(cancel ? "/v1/subscriptions/current/cancel" : `/v1/subscriptions/current/resume`, { method: "POST" });
      const response = await fetch("/v1/auth/refresh", { method: "POST", body });
      return await fetch(url, init);
    '''
    calls, unreadable = calls_in_source(source, "x.js")
    found = {(c.method, c.path) for c in calls}
    assert found == {
        ("GET", "/v1/videos/"),
        ("DELETE", "/v1/likes/videos/{}"), ("POST", "/v1/likes/videos/{}"),
        ("GET", "/v1/users/{}/followers"), ("GET", "/v1/users/{}/following"),
        ("POST", "/v1/effects/{}/jobs"),
        ("GET", "/v1/events"),
        ("PATCH", "/v1/made-up/${id}/thing"),
        ("GET", "/v1/made-up/{}"),
        ("POST", "/v1/auth/refresh"),
        ("POST", "/v1/subscriptions/current/cancel"), ("POST", "/v1/subscriptions/current/resume"),
    }
    assert [u.text for u in unreadable] == ["api(somewhere)"]
    document = {"paths": {
        "/v1/videos": {"get": {}}, "/v1/likes/videos/{video_id}": {"post": {}, "delete": {}},
        "/v1/users/{user_id}/followers": {"get": {}}, "/v1/users/{user_id}/following": {"get": {}},
        "/v1/effects/{effect_id}/jobs": {"post": {}}, "/v1/events": {"get": {}}, "/v1/auth/refresh/": {"post": {}},
    }}
    assert {(c.method, c.path) for c in missing_from(document, calls)} == {
        ("PATCH", "/v1/made-up/${id}/thing"), ("GET", "/v1/made-up/{}"),
        ("POST", "/v1/subscriptions/current/cancel"), ("POST", "/v1/subscriptions/current/resume")}
    assert missing_from(document, [Call("DELETE", "/v1/effects/{}/jobs", "x.js:1")]), "a method the path lacks"
