"""The app loads at / with its security headers, and a person who is signed out reaches the sign-up screen."""

import re

from playwright.sync_api import expect


def test_root_serves_the_app_with_a_content_security_policy(server):
    status, headers, _ = server.request("GET", "/")
    assert status == 200
    assert headers.get("Content-Type", "").startswith("text/html")
    policy = headers.get("Content-Security-Policy")
    assert policy, "GET / has no Content-Security-Policy header"
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_sign_up_screen_renders_without_console_errors(people):
    page = people.open("visitor").page
    page.goto("/")
    expect(page.locator("main#main")).to_be_visible()
    expect(page).to_have_title(re.compile(r"Reelbase"))
    page.goto("/#/signup")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("sign up|create account", re.I))).to_be_visible()
