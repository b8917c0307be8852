"""Admins' in-app notifications: the nav badge counts unread ones; reading clears it."""

from __future__ import annotations

import re


def _badge(page: str) -> str | None:
    match = re.search(r'<span class="badge" data-unread>(\d+)</span>', page)
    return match.group(1) if match else None


def test_badge_counts_unread_notifications_until_marked_read(world, flow):
    assert _badge(flow.admin.get("/data").get_data(as_text=True)) is None
    flow.ask()
    data = flow.admin.get("/data").get_data(as_text=True)
    assert _badge(data) == "1"
    inbox = flow.admin.get("/notifications").get_data(as_text=True)
    assert "Support asks for temporary access to your Xero organisation" in inbox
    assert f"/data/connections/{world.connections['active']}/xero-access" in inbox
    response = flow.admin.post("/notifications/read")
    assert response.status_code == 303 and response.headers["Location"].endswith("/notifications")
    assert _badge(flow.admin.get("/data").get_data(as_text=True)) is None
    assert "New:" not in flow.admin.get("/notifications").get_data(as_text=True)


def test_only_admins_have_notifications(world, flow, as_persona):
    flow.ask()
    viewer = as_persona("viewer")
    assert "Notifications" not in viewer.get("/data").get_data(as_text=True)
    assert viewer.get("/notifications").status_code == 403
    assert flow.support.get("/notifications").status_code == 403
    other = as_persona("other_admin")
    assert _badge(other.get("/data").get_data(as_text=True)) is None
    assert b"No notifications." in other.get("/notifications").data


def test_notifications_page_is_a_full_page_and_a_fragment(flow):
    page = flow.admin.get("/notifications")
    assert page.status_code == 200 and b"<html" in page.data
    fragment = flow.admin.get("/notifications", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and "HX-Request" in fragment.headers["Vary"]
