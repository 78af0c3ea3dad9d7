"""The app works with the keyboard alone, with a visible focus: sign in by Tab and Enter, like a video with Space,
open a card's menu and leave it with Escape. Each focused control shows an outline (`:focus-visible`)."""

from playwright.sync_api import expect

from ui import settled


def focused(page) -> dict:
    """What has the focus: its role-ish tag, accessible text and outline."""
    return page.evaluate("""() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName.toLowerCase(), name: el.getAttribute("aria-label") || el.textContent.trim() || el.name || "",
               label: el.labels?.[0]?.textContent.trim() ?? null,
               outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0 };
    }""")


def tab_to(page, target, limit: int = 40) -> dict:
    """Presses Tab until the locator target has the focus; fails after limit presses."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if target.evaluate("(el) => el === document.activeElement"):
            return now
        seen.append(f"{now['tag']}:{now['label'] or now['name'][:30]}")
    raise AssertionError("never reached by Tab; focus went through: " + ", ".join(seen))


def test_sign_in_and_like_with_the_keyboard_alone(people, server, media):
    owner = server.register("kira")
    server.api("POST", "/v1/videos/", {"title": "Keyboard cat", "video_url": f"{media}/clip.webm",
                                       "thumbnail_url": f"{media}/thumb.png", "duration_seconds": 5},
               token=owner["access_token"], expect=201)
    viewer = server.register("kai")

    page = people.open("kai").page
    page.goto("/#/login")
    settled(page)
    # The router moves focus to the screen's heading, so the first Tab lands inside the screen.
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_focused()

    email = tab_to(page, page.get_by_label("Email", exact=True))
    assert email["outline"], "the focused Email field shows no outline"
    page.keyboard.type(viewer["email"])
    tab_to(page, page.get_by_label("Password", exact=True))
    page.keyboard.type(viewer["password"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    settled(page)

    card = page.get_by_role("article", name="Keyboard cat", exact=True)
    like = card.get_by_role("button", name="Like", exact=True)
    expect(like).to_have_attribute("aria-pressed", "false")
    reached = tab_to(page, like, limit=60)
    assert reached["outline"], "the focused Like button shows no outline"
    page.keyboard.press("Space")
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_text("1 like", exact=True)).to_be_visible()

    # The card's menu: Enter opens it with focus on its first item, Escape closes it and gives focus back.
    more = card.get_by_role("button", name="More", exact=True)
    more.focus()
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(card.get_by_role("button", name="Block user")).to_be_focused()
    page.keyboard.press("Escape")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_be_focused()
