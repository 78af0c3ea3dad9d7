"""Error states show the API's own words: a taken username on sign-up (its `errors[]` message, under its field), a
declined card in the wallet (its `detail`). These answers are 4xx on purpose, and Chromium logs every 4xx answer to fetch() as a console error: each
test lets exactly the one it provokes pass (URL and status), every other console error still fails it."""

import re

from playwright.sync_api import expect

from ui import settled, sign_up


def network_error(status: int, reason: str, path: str) -> str:
    return (rf"console error: Failed to load resource: the server responded with a status of {status} "
            rf"\({re.escape(reason)}\) \(http://127\.0\.0\.1:\d+{re.escape(path)}:0\)$")


def test_a_taken_username_is_named_under_its_field(people, server):
    server.register("taken_name")
    people.allow_console_error(network_error(409, "Conflict", "/v1/auth/register"))
    page = people.open("newcomer").page
    page.goto("/#/signup")
    settled(page)
    page.get_by_label("Email", exact=True).fill("someone-new@example.com")
    page.get_by_label("Username", exact=True).fill("taken_name")
    page.get_by_label("Password", exact=True).fill("long enough password")
    page.get_by_role("button", name="Sign up", exact=True).click()
    username = page.get_by_label("Username", exact=True)
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(username).to_be_focused()
    status, _, problem = server.request("POST", "/v1/auth/register", {
        "email": "someone-else@example.com", "password": "long enough password", "username": "taken_name"})
    assert status == 409 and problem["code"] == "username_taken"
    # The API names the field in `errors[]`: its message is what the field says.
    message = next(e["message"] for e in problem["errors"] if e["field"] == "username")
    expect(username).to_have_accessible_description(message)
    expect(page.get_by_role("button", name="Account menu")).to_have_count(0)


def test_a_declined_card_shows_the_gateways_detail_and_charges_nothing(people, server):
    people.allow_console_error(network_error(402, "Payment Required", "/v1/credits/purchase"))
    page = people.open("dee").page
    sign_up(page, "dee")
    page.goto("/#/wallet")
    settled(page)
    package = server.api("GET", "/v1/credits/packages")["packages"][0]
    page.get_by_label("Card token").fill("tok_fail_card_declined")
    page.get_by_role("button", name=f"Buy {package['name']}", exact=True).click()

    other = server.register("dee_twin")
    status, _, problem = server.request("POST", "/v1/credits/purchase", {
        "package_id": package["id"], "payment_method": "card", "payment_token": "tok_fail_card_declined"},
        token=other["access_token"])
    assert status == 402 and problem["code"] == "payment_failed"
    alert = page.get_by_role("main").get_by_role("alert")
    expect(alert).to_contain_text(problem["detail"])
    expect(page.get_by_role("banner").get_by_role("link", name=re.compile(r"^Balance:"))).to_have_text(
        re.compile(r"\b0 credits"))
    expect(page.get_by_text("No transactions yet.")).to_be_visible()
