"""The browser tests' harness: a real Reelbase on a fresh SQLite file, an effects worker beside it, a static server
for fixture media at http://media.test:PORT/, and Debian's Chromium driven by Playwright.

Everything here is started once per test session and stopped at its end, also when a test fails. Each test opens
its own browser contexts (one per person) through the `people` fixture; every console error and uncaught page
error in any of them fails that test.

Environment: CHROMIUM (default /usr/bin/chromium); WEB_APP_DIRECTORY is passed through to the server (unset: the
files shipped in the build's resource bundle, i.e. what `swift build` copied from Web/app).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".build" / "debug" / "reelbase"
MEDIA_DIRECTORY = Path(__file__).resolve().parent / "media"
SCREENSHOTS = ROOT / ".build" / "browser-screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# The two sizes every screenshot is taken at: a phone and a desktop.
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

SERVICE_KEY = "browser-tests-service-key-0123456789abcdef"
JWT_SECRET = "browser-tests-jwt-secret-0123456789abcdef"
PASSWORD = "correct horse battery"

# The built-in effects plus one that scripts/effect-example.sh fails (ids starting with "broken"), so that a test
# sees a failed job and its refund. EFFECTS_FILE replaces the built-in list, hence the three copied here.
EFFECTS = {
    "effects": [
        {"id": "glitch_animate", "name": "AI Glitch: Animate", "credits": 10},
        {"id": "anime_style", "name": "AI Anime Style", "credits": 20},
        {"id": "slow_motion", "name": "AI Slow Motion", "credits": 15},
        {"id": "broken_upscale", "name": "Broken Upscale", "credits": 25},
    ]
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen, name: str) -> None:
    """SIGTERM (both commands shut down gracefully), then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        print(f"browser tests: {name} ignored SIGTERM for 10 s; killing it")
        process.kill()
        process.wait()


@dataclass
class Server:
    """The Reelbase under test and a small JSON client for setting things up outside the browser."""

    base_url: str
    database_url: str
    log: Path
    process: subprocess.Popen

    def request(self, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None):
        """(status, headers, parsed JSON body or None); never raises on an HTTP status."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw, status, response_headers = response.read(), response.status, response.headers
        except urllib.error.HTTPError as error:
            raw, status, response_headers = error.read(), error.code, error.headers
        kind = response_headers.get("Content-Type", "")
        parsed = json.loads(raw) if raw and "json" in kind else None
        return status, response_headers, parsed

    def api(self, method: str, path: str, body=None, token: str | None = None, expect: int = 200):
        status, _, parsed = self.request(method, path, body, token)
        assert status == expect, f"{method} {path}: {status} (expected {expect}): {parsed}"
        return parsed

    def register(self, username: str, *, email: str | None = None, display_name: str | None = None) -> dict:
        """A new account over the API: the register answer ({user, access_token, …}) plus its email and password."""
        email = email or f"{username}@example.com"
        body = {"email": email, "password": PASSWORD, "username": username}
        if display_name:
            body["display_name"] = display_name
        answer = self.api("POST", "/v1/auth/register", body, expect=201)
        return {**answer, "email": email, "password": PASSWORD}

    def set_role(self, email: str, role: str) -> None:
        """`reelbase users set-role` against the server's database, as an operator does (works while it runs)."""
        env = {**os.environ, "DATABASE_URL": self.database_url, "LOG_LEVEL": "warning"}
        result = subprocess.run(
            [str(BINARY), "users", "set-role", "--email", email, "--role", role],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, f"users set-role {email} {role}: exit {result.returncode}: {result.stderr}"

    def log_errors(self) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if '"level":"error"' in line]


@pytest.fixture(scope="session")
def workdir():
    """The session's database, effects file and logs; kept (and named) when BROWSER_TEST_KEEP is set."""
    directory = Path(tempfile.mkdtemp(prefix="reelbase-browser-"))
    yield directory
    if os.environ.get("BROWSER_TEST_KEEP"):
        print(f"browser tests: kept {directory}")
    else:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so that fixtures can tell a failed test at teardown."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def server(workdir):
    assert BINARY.is_file(), f"{BINARY} is missing: run swift build (scripts/browser-test.sh does)"
    effects_file = workdir / "effects.json"
    effects_file.write_text(json.dumps(EFFECTS))
    port = free_port()
    database_url = f"sqlite://{workdir / 'reelbase.sqlite'}"
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "RATE_LIMITS": "off",
        "BCRYPT_COST": "4",
        "JWT_SECRET": JWT_SECRET,
        "SERVICE_KEY": SERVICE_KEY,
        "EFFECTS_FILE": str(effects_file),
        "PAYMENT_GATEWAY": "mock",
        "LOG_LEVEL": "info",
    }
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(BINARY), "serve"], env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", database_url, log, process)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"reelbase serve exited with {process.returncode}:\n{tail(log)}")
            try:
                if server.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"reelbase serve was not ready on /readyz within 60 s:\n{tail(log)}")
            time.sleep(0.1)  # polling a process that is starting: the one wait that has no event to wait on
        yield server
    finally:
        stop(process, "reelbase serve")
    # As scripts/schemathesis.sh: a server that logged an error failed, whatever the pages showed.
    errors = server.log_errors()
    assert not errors, "the server logged errors:\n" + "\n".join(errors[:20])


@pytest.fixture(scope="session")
def worker(server, workdir):
    """`reelbase worker` with the example renderer, running beside the server for the whole session."""
    log = workdir / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BINARY), "worker", "--server", server.base_url, "--service-key", SERVICE_KEY,
             "--exec", str(ROOT / "scripts" / "effect-example.sh"), "--log-level", "info"],
            env={k: v for k, v in os.environ.items() if k != "SERVICE_KEY"}, cwd=workdir, stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
        assert process.poll() is None, f"reelbase worker exited with {process.returncode}:\n{tail(log)}"
    finally:
        stop(process, "reelbase worker")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".webm": "video/webm", ".png": "image/png"}

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def media():
    """The base URL of the fixture media (Tests/Browser/media), e.g. http://media.test:PORT/thumb.png.

    media.test is a DNS name (API.md refuses IP literals and localhost in media URLs); Chromium maps it to 127.0.0.1
    with --host-resolver-rules, and the server never fetches it.
    """
    handler = functools.partial(QuietHandler, directory=str(MEDIA_DIRECTORY))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="media-server", daemon=True)
    thread.start()
    try:
        yield f"http://media.test:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian's packages. A browser that cannot start fails the run (an error, never a skip)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing (apt-get install -y chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Root needs --no-sandbox; media.test is this machine; every request of the tests is local, so no proxy
            # from the environment may see one (it could not resolve media.test).
            args=["--no-sandbox", "--host-resolver-rules=MAP media.test 127.0.0.1", "--no-proxy-server"],
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Person:
    """One browser context (its own storage, so its own session) and its page."""

    name: str
    context: object
    page: object
    errors: list[str] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)

    def wait_for_event_stream(self, timeout: float) -> None:
        """Until this page's EventSource has been answered (`GET /v1/events?ticket=` → 200), so that an event sent
        after this reaches it live rather than through a later re-read."""
        if not self.streams:
            self.page.wait_for_event("response", lambda r: is_event_stream(r), timeout=timeout)


def is_event_stream(response) -> bool:
    return "/v1/events?" in response.url and response.status == 200


class People:
    """Opens a browser context per person and collects every console error and page error they see."""

    def __init__(self, browser, server: Server):
        self.browser = browser
        self.server = server
        self.people: list[Person] = []
        self.allowed: list[re.Pattern] = []

    def open(self, name: str, *, viewport: dict = DESKTOP) -> Person:
        context = self.browser.new_context(base_url=self.server.base_url, viewport=viewport)
        context.set_default_timeout(10_000)
        page = context.new_page()
        person = Person(name, context, page)

        def on_console(message):
            if message.type == "error":
                where = message.location or {}
                person.errors.append(f"[{name}] console error: {message.text} ({where.get('url', '?')}:{where.get('lineNumber', '?')})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: person.errors.append(f"[{name}] page error: {error}"))
        page.on("response", lambda response: person.streams.append(response.url) if is_event_stream(response) else None)
        self.people.append(person)
        return person

    def allow_console_error(self, pattern: str) -> None:
        """Lets console errors matching pattern pass, for a test that provokes one on purpose (say why where used)."""
        self.allowed.append(re.compile(pattern))

    def errors(self) -> list[str]:
        return [e for p in self.people for e in p.errors if not any(a.search(e) for a in self.allowed)]

    def close(self) -> None:
        for person in self.people:
            person.context.close()


@pytest.fixture
def people(request, browser, server, worker, media, workdir):
    crowd = People(browser, server)
    try:
        yield crowd
    finally:
        errors = crowd.errors()
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            # What each person saw when the test failed, and what the server and worker said.
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for person in crowd.people:
                try:
                    person.page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}-{person.name}.png"))
                except Exception as error:  # noqa: BLE001 - a page that crashed has no picture; say so and go on
                    print(f"browser tests: no failure screenshot of {person.name}: {error}")
            print(f"--- server log (last lines) ---\n{tail(server.log)}")
            print(f"--- worker log (last lines) ---\n{tail(workdir / 'worker.log')}")
        crowd.close()
        assert not errors, "the browser reported errors:\n" + "\n".join(errors)


# Toasts are transient (5 s) and would cover what a screenshot is for: they are hidden while it is taken, through
# the CSSOM (Playwright's own `style=` option injects a <style> element, which the page's CSP refuses, loudly).
TOASTS = "(hidden) => { const t = document.getElementById('toasts'); if (t) t.style.visibility = hidden ? 'hidden' : ''; }"


def screenshot(page, name: str, *, at=None) -> list[Path]:
    """Screenshots of what page shows now at 390x844 and 1280x800 (.build/browser-screenshots/NAME-WxH.png), from
    the top of the page, or with the locator `at` scrolled into view; the page's own viewport is restored after."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    paths = []
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        if at is None:
            page.evaluate("() => window.scrollTo(0, 0)")
        else:
            at.scroll_into_view_if_needed()
        path = SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"
        page.evaluate(TOASTS, True)
        try:
            page.screenshot(path=str(path), animations="disabled", caret="hide")
        finally:
            page.evaluate(TOASTS, False)
        paths.append(path)
    if original:
        page.set_viewport_size(original)
    return paths
