"""Expiry with a frozen clock: admins are reminded 24 h before and at the end of the access,
each exactly once; an ended access stays highlighted on the Data page until it is marked
removed in Xero."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.xero_access.conftest import audit_actions, notifications
from wizard.support.xero_access import send_reminders


def _run(app) -> tuple[int, int]:
    with app.app_context():
        sent = send_reminders()
        return sent.before_expiry, sent.at_expiry


def _invited(flow, frozen_clock, t0, days: str = "3"):
    frozen_clock.set(t0)
    flow.ask(days=days)
    flow.admin_does("accept")
    flow.admin_does("invited")
    return flow.request.expires_at


def _reminders(app, world) -> list[str]:
    return [n.kind for n in notifications(app, world.user_ids["admin"]) if "reminder" in n.kind]


@pytest.fixture
def second_admin(app, world):
    from tests.support_access.world import _user
    from wizard.extensions import db

    with app.app_context():
        user = _user(db, "admin2@acme.test", "admin", world.workspace_a)
        db.session.commit()
        return user.id


def test_24h_and_expiry_reminders_are_each_sent_once(app, world, flow, frozen_clock, second_admin):
    expires = _invited(flow, frozen_clock, world.now)
    assert expires == world.now + timedelta(days=3)
    frozen_clock.set(expires - timedelta(hours=24, seconds=1))
    assert _run(app) == (0, 0)
    frozen_clock.set(expires - timedelta(hours=24))
    assert _run(app) == (1, 0)
    assert _run(app) == (0, 0)
    frozen_clock.set(expires - timedelta(seconds=1))
    assert _run(app) == (0, 0)
    assert flow.request.state == "invited"
    frozen_clock.set(expires)
    assert _run(app) == (0, 1)
    assert flow.request.state == "expired_not_removed"
    frozen_clock.set(expires + timedelta(days=2))
    assert _run(app) == (0, 0)
    assert _reminders(app, world) == [
        "xero_access.reminder_24h",
        "xero_access.reminder_expiry",
    ]
    # Every admin of the workspace, once each.
    assert [n.kind for n in notifications(app, second_admin) if "reminder" in n.kind] == [
        "xero_access.reminder_24h",
        "xero_access.reminder_expiry",
    ]
    assert audit_actions(app, world.connections["active"])[-4:] == [
        ("xero_access.invited", True, "admin"),
        ("xero_access.reminder_24h", True, "system"),
        ("xero_access.expired", True, "system"),
        ("xero_access.reminder_expiry", True, "system"),
    ]


def test_reminders_carry_the_exact_removal_steps(app, world, flow, frozen_clock):
    expires = _invited(flow, frozen_clock, world.now)
    frozen_clock.set(expires)
    _run(app)
    [reminder] = [n for n in notifications(app, world.user_ids["admin"]) if "reminder" in n.kind]
    assert "Acme Active Ltd" in reminder.title and "remove the support user" in reminder.title
    steps = reminder.step_list
    assert steps[1] == "Go to Settings > Users."
    assert "support@planwise.example" in steps[2]
    assert steps[3].startswith("Click “Remove”")
    page = flow.admin.get("/notifications").get_data(as_text=True)
    assert "Go to Settings &gt; Users." in page and "Click “Remove”" in page


def test_a_late_run_sends_only_the_expiry_reminder(app, world, flow, frozen_clock):
    expires = _invited(flow, frozen_clock, world.now)
    frozen_clock.set(expires + timedelta(hours=3))
    assert _run(app) == (0, 1)
    assert _run(app) == (0, 0)
    assert _reminders(app, world) == ["xero_access.reminder_expiry"]


def test_expired_not_removed_is_highlighted_on_the_data_page_until_removed(app, world, flow, frozen_clock, as_persona):
    expires = _invited(flow, frozen_clock, world.now)
    data = flow.admin.get("/data").get_data(as_text=True)
    assert 'data-xero-access-notice="invited"' in data and 'role="alert"' not in data
    frozen_clock.set(expires)
    _run(app)
    data = flow.admin.get("/data").get_data(as_text=True)
    assert 'class="hint" data-xero-access-notice="expired_not_removed" role="alert"' in data
    assert "has not been marked as removed" in data and "Remove the support user" in data
    fragment = flow.admin.get("/data", headers={"HX-Request": "true"})
    assert b'data-xero-access-notice="expired_not_removed"' in fragment.data
    viewer = as_persona("viewer").get("/data").get_data(as_text=True)
    assert "data-xero-access-notice" not in viewer
    # Support cannot clear it (here its diagnostics grant has ended too); only the admin can.
    assert flow.support_done().status_code == 404
    assert flow.request.state == "expired_not_removed"
    flow.admin_does("removed")
    assert flow.request.state == "removed"
    assert "data-xero-access-notice" not in flow.admin.get("/data").get_data(as_text=True)
    frozen_clock.set(expires + timedelta(days=5))
    assert _run(app) == (0, 0)


def test_removed_before_expiry_means_no_reminders(app, world, flow, frozen_clock):
    expires = _invited(flow, frozen_clock, world.now)
    flow.admin_does("removed")
    for moment in (expires - timedelta(hours=24), expires, expires + timedelta(days=1)):
        frozen_clock.set(moment)
        assert _run(app) == (0, 0)
    assert _reminders(app, world) == []


def test_accepted_but_never_marked_invited_still_expires_and_reminds(app, world, flow, frozen_clock):
    frozen_clock.set(world.now)
    flow.ask(days="2")
    flow.admin_does("accept")
    expires = flow.request.expires_at
    assert expires == world.now + timedelta(days=2)
    frozen_clock.set(expires - timedelta(hours=12))
    assert _run(app) == (0, 0)  # nothing is in Xero yet, as far as we know
    frozen_clock.set(expires)
    assert _run(app) == (0, 1)
    assert flow.request.state == "expired_not_removed"


def test_cli_commands_send_reminders_idempotently(app, world, flow, frozen_clock):
    expires = _invited(flow, frozen_clock, world.now)
    runner = app.test_cli_runner()
    frozen_clock.set(expires - timedelta(hours=1))
    result = runner.invoke(args=["xero-access-reminders"])
    assert result.exit_code == 0
    assert "1 24-hour and 0 expiry reminder(s) sent" in result.output
    frozen_clock.set(expires)
    output = runner.invoke(args=["expire-grants"]).output
    assert "1 Xero access reminder(s) sent" in output
    assert "0 24-hour and 0 expiry" in runner.invoke(args=["xero-access-reminders"]).output


def test_the_workers_duty_sends_due_reminders_once_without_any_cli(app, world, flow, frozen_clock):
    from workers.tasks import support_duties

    expires = _invited(flow, frozen_clock, world.now)
    frozen_clock.set(expires)
    with app.app_context():
        assert support_duties()["reminders"] == 1
        assert support_duties()["reminders"] == 0
    assert _reminders(app, world) == ["xero_access.reminder_expiry"]
