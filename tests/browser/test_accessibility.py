"""Accessibility: axe-core on every wizard step and the Data page, keyboard-only, focus, 320 px."""

from __future__ import annotations

import pytest

from tests.browser.flows import axe_violations, sign_in, xero_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def context(browser):
    # axe is injected as a script tag; our CSP (script-src 'self') would rightly block it.
    ctx = browser.new_context(bypass_csp=True)
    yield ctx
    ctx.close()


def _tab_until(page, predicate: str, arg: str, what: str, limit: int = 40) -> None:
    """Press Tab (a real key press, as a keyboard user would) until `predicate(activeElement, arg)`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(arg) => ({predicate})(document.activeElement, arg)", arg):
            return
    raise AssertionError(f"could not reach {what} with Tab")


def _tab_to(page, name: str) -> None:
    """Press Tab until the focused element's accessible text contains `name`."""
    text = "(el.getAttribute('aria-label') || el.innerText || el.value || '').toLowerCase()"
    _tab_until(page, f"(el, name) => {text}.includes(name)", name.lower(), repr(name))


def _tab_to_selector(page, selector: str) -> None:
    """Press Tab until the focused element matches the CSS `selector`."""
    _tab_until(page, "(el, selector) => el.matches(selector)", selector, selector)


def _focus_ring(page) -> dict:
    """What a sighted keyboard user sees around the focused element."""
    return page.evaluate(
        "() => { const el = document.activeElement, s = getComputedStyle(el);"
        " return {tag: el.tagName, focusVisible: el.matches(':focus-visible'),"
        " style: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0}; }"
    )


def test_every_step_and_the_data_page_have_no_serious_axe_violations(auth, live_server, context, shots):
    auth.make_user()
    base = live_server.url
    page = context.new_page()
    found: dict[str, list] = {}
    page.goto(f"{base}/login")
    found["login"] = axe_violations(page)
    sign_in(page, base)
    found["data-empty"] = axe_violations(page)
    page.goto(f"{base}/data/new")
    found["picker"] = axe_violations(page)
    page.goto(f"{base}/connect/xero")
    found["step1-start"] = axe_violations(page)
    page.goto(f"{base}/connect/xero/login")
    found["step2-waiting"] = axe_violations(page)
    page.goto(f"{base}/connect/xero/login?problem=popup_blocked")
    found["step2-hint"] = axe_violations(page)
    page.goto(f"{base}/connect/xero/authorize?mode=redirect")
    xero_login(page, "xero.adviser@demo.test")
    page.wait_for_url(f"{base}/connect/xero/organisations")
    found["step3-organisations"] = axe_violations(page)
    page.locator("input[name=tenant_id]").first.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Connect organisation").wait_for()
    found["step3-confirm"] = axe_violations(page)
    page.get_by_role("button", name="Connect organisation").click()
    page.get_by_role("heading", name="is connected").wait_for()
    found["step4-complete"] = axe_violations(page)
    page.goto(f"{base}/data")
    found["data-with-connection"] = axe_violations(page)
    page.goto(f"{base}/help/xero")
    found["help"] = axe_violations(page)
    page.screenshot(path=str(shots / "help.png"))
    assert {name: v for name, v in found.items() if v} == {}


def test_keyboard_only_completion_with_focus_on_each_new_step(auth, live_server, browser, shots):
    auth.make_user()
    base = live_server.url
    page = browser.new_page()
    sign_in(page, base)
    _tab_to(page, "Connect a data source")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/data/new")
    _tab_to(page, "Xero")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/connect/xero")
    _tab_to(page, "Login to connect")
    with page.expect_popup() as popup_info:
        page.keyboard.press("Enter")
    xero_login(popup_info.value, "xero.adviser@demo.test")
    page.wait_for_url(f"{base}/connect/xero/organisations")
    _tab_to_selector(page, "input[name=tenant_id]")
    page.keyboard.press("Space")
    assert page.locator("input[name=tenant_id]:checked").count() == 1
    _tab_to(page, "Continue")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Connect organisation").wait_for()
    # htmx swapped the step in place: focus is on the new step's heading, not lost on <body>.
    assert page.evaluate("() => document.activeElement.tagName") == "H1"
    assert "Confirm the organisation" in page.evaluate("() => document.activeElement.innerText")
    _tab_to(page, "Connect organisation")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="is connected").wait_for()
    # The next Tab lands on a control with a visible focus ring (not the browser's hidden default).
    _tab_until(page, "(el) => el.matches('a, button, input, select, textarea')", "", "a control")
    ring = _focus_ring(page)
    page.screenshot(path=str(shots / "keyboard-complete.png"))
    assert ring["focusVisible"] and ring["style"] not in ("none", "hidden") and ring["width"] >= 2, ring


@pytest.mark.parametrize(
    "path", ["/data", "/data/new", "/connect/xero", "/connect/xero/login?problem=access_denied", "/help/xero"]
)
def test_pages_fit_a_320px_screen(auth, live_server, browser, shots, path):
    auth.make_user()
    page = browser.new_page(viewport={"width": 320, "height": 640})
    sign_in(page, live_server.url)
    page.goto(live_server.url + path)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    page.screenshot(path=str(shots / "narrow.png"), full_page=True)
    assert overflow <= 320, f"{path} is {overflow}px wide at a 320px viewport"
