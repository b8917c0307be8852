"""Steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

import re
from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def sign_in(page, base: str, email: str = "admin@example.test", password: str = "pw") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/data")


def xero_login(
    xero_page,
    email: str,
    shots: Path | None = None,
    *,
    organisations: list[str] | None = None,
    consent: str = "Allow access",
) -> None:
    """Log in on the sandbox's pages (in a pop-up or the same window) and answer consent."""
    xero_page.wait_for_load_state()
    if xero_page.locator("input[name=email]").count():  # Xero remembers a recent login
        xero_page.get_by_label("Email").fill(email)
        xero_page.get_by_label("Password").fill("xero")
        if shots:
            xero_page.screenshot(path=str(shots / "xero-login.png"))
        xero_page.get_by_role("button", name="Log in").click()
        xero_page.wait_for_load_state()
    if xero_page.locator("input[name=code]").count():
        code = re.search(r"\b(\d{6})\b", xero_page.locator("body").inner_text()).group(1)
        if shots:
            xero_page.screenshot(path=str(shots / "xero-mfa.png"))
        xero_page.locator("input[name=code]").fill(code)
        xero_page.get_by_role("button", name="Confirm").click()
        xero_page.wait_for_load_state()
    if shots:
        xero_page.screenshot(path=str(shots / "xero-consent.png"))
    if consent == "Allow access":
        boxes = xero_page.locator("input[name=tenant]")
        if organisations:
            for box in range(boxes.count()):
                boxes.nth(box).uncheck()
            for name in organisations:
                xero_page.get_by_label(name).check()
        elif boxes.count() and not xero_page.locator("input[name=tenant]:checked").count():
            boxes.first.check()
    xero_page.get_by_role("button", name=consent).click()


def start_popup_login(page, base: str):
    """Click "Login to connect" on step 1 and return the Xero pop-up."""
    page.goto(f"{base}/connect/xero")
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Login to connect").click()
    return popup_info.value


def hint_text(page) -> str:
    return page.locator("[data-hint]").first.inner_text()


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def collect_page_errors(*pages) -> list[str]:
    """Script and CSP errors the pages report (expected 404s such as the favicon are not counted)."""
    errors: list[str] = []
    for page in pages:
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
