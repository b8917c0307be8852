"""In Chromium: times are shown in the browser's own zone (Playwright's timezone_id), UTC on hover;
without JavaScript, in the workspace's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.flows import sign_in

pytestmark = [pytest.mark.browser]


def _world_in_auckland(app):
    from tests.support_access.world import build_world
    from wizard.extensions import db
    from wizard.models import Workspace

    with app.app_context():
        world = build_world()
        db.session.get(Workspace, world.workspace_a).time_zone = "Pacific/Auckland"
        db.session.commit()
    return world


def _times(page) -> list[dict]:
    return page.locator("time").evaluate_all(
        "els => els.map(el => ({datetime: el.getAttribute('datetime'), title: el.title, text: el.textContent}))"
    )


def _instant(time: dict) -> datetime:
    return datetime.strptime(time["datetime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_times_follow_the_browser_zone_with_utc_on_hover(app, live_server, browser):
    world = _world_in_auckland(app)
    context = browser.new_context(timezone_id="Asia/Kolkata", locale="en-GB")
    page = context.new_page()
    sign_in(page, live_server.url, world.emails["admin"])
    kolkata = ZoneInfo("Asia/Kolkata")
    for path in (f"/data/connections/{world.connections['active']}", "/settings/support-access", "/settings/workspace"):
        page.goto(live_server.url + path)
        times = _times(page)
        assert times, path
        for time in times:
            local = _instant(time).astimezone(kolkata)
            assert local.strftime("%H:%M") in time["text"], (path, time)
            assert "NZ" not in time["text"] and "UTC" not in time["text"], (path, time)
            utc = _instant(time).strftime("%H:%M")
            assert time["title"].endswith(" UTC") and utc in time["title"], (path, time)
    context.close()


def test_without_javascript_times_are_in_the_workspace_zone(app, live_server, browser):
    world = _world_in_auckland(app)
    context = browser.new_context(timezone_id="Asia/Kolkata", java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server.url, world.emails["admin"])
    page.goto(f"{live_server.url}/data/connections/{world.connections['active']}")
    times = _times(page)
    assert times
    for time in times:
        auckland = _instant(time).astimezone(ZoneInfo("Pacific/Auckland"))
        assert time["text"].endswith(auckland.tzname()) and auckland.strftime("%H:%M") in time["text"], time
        assert time["title"].endswith(" UTC") and _instant(time).strftime("%H:%M") in time["title"], time
    context.close()
