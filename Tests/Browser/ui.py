"""What a person does in the app, written once: sign up, sign in, move through the navigation, wait for a screen.

Controls are found as a person finds them, by role and accessible name or by label, never by CSS class. Every wait
is Playwright's auto-waiting `expect(…)` with an explicit bound.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from conftest import PASSWORD

LOADING = re.compile(r"^Loading")


def settled(page: Page, timeout: float = 10_000) -> None:
    """The screen has its <h1> and nothing on it is still loading (no "Loading…" status line left)."""
    expect(page.locator("main h1").first).to_be_attached(timeout=timeout)
    expect(page.get_by_role("status").filter(has_text=LOADING)).to_have_count(0, timeout=timeout)


def go(page: Page, hash_route: str) -> None:
    """Navigates inside the app by its fragment (no page load when the app is already open)."""
    if page.url.startswith("about:"):
        page.goto("/" + hash_route)
    else:
        page.evaluate("(hash) => { location.hash = hash; }", hash_route)
    settled(page)


def nav(page: Page, name: str) -> None:
    """Follows a link of the main navigation, opening the phone's Menu first when the navigation is folded."""
    navigation = page.get_by_role("navigation", name="Main")
    link = navigation.get_by_role("link", name=re.compile(rf"^{re.escape(name)}\b"))
    toggle = page.get_by_role("button", name=re.compile(r"^Menu\b"))
    if not link.is_visible() and toggle.is_visible():
        toggle.click()
    link.click()
    settled(page)


def sign_up(page: Page, username: str, *, display_name: str | None = None, email: str | None = None) -> str:
    """Creates an account through the sign-up screen; returns its email."""
    email = email or f"{username}@example.com"
    page.goto("/#/signup")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Username", exact=True).fill(username)
    if display_name:
        page.get_by_label("Display name", exact=True).fill(display_name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    settled(page)
    return email


def sign_in(page: Page, email: str) -> None:
    page.goto("/#/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    settled(page)


def video_card(page: Page, title: str):
    """The feed card (an <article> named by its title) of the video called title."""
    return page.get_by_role("article", name=title, exact=True)


def fits_width(page: Page) -> tuple[int, int]:
    """(scrollWidth, innerWidth) of the page: a page fits when the first is not above the second."""
    return tuple(page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]"))


def mark_page_load(page: Page) -> None:
    """Leaves a mark in the page's window; `assert_no_reload` fails if the page was loaded again since."""
    page.evaluate("() => { window.__browserTestMark = true; }")


def assert_no_reload(page: Page) -> None:
    assert page.evaluate("() => window.__browserTestMark === true"), "the page was reloaded"
