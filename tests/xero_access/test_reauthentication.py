"""Issue 11 item 10 (second half): before an admin lets support in (grants support access, or
accepts a request for temporary access to the Xero organisation) the password must have been
typed within REAUTH_MINUTES (5 by default). The form asks for it only when it is older; a
missing or wrong password is explained by the field and loses nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.support_access.world import PASSWORD
from tests.xero_access.conftest import guide_url
from wizard.extensions import db
from wizard.models import SupportGrant

GRANTS_URL = "/settings/support-access"
FIELD_LABEL = "Your Planwise password"


def _grant_count(app, workspace_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(SupportGrant.workspace_id == workspace_id))


def _form_with(page: str, button: str) -> str:
    return next(f for f in re.findall(r"<form[^>]*>.*?</form>", page, re.S) if f">{button}</button>" in f)


def _error(page: str) -> str:
    return re.search(r'<p class="error" id="current_password-error">([^<]*)</p>', page).group(1)


def test_granting_support_access_asks_for_the_password_once_it_is_five_minutes_old(
    app, world, as_persona, frozen_clock
):
    frozen_clock.set(world.now)
    admin = as_persona("admin")
    fresh = _form_with(admin.get(GRANTS_URL).get_data(as_text=True), "Grant support access")
    assert FIELD_LABEL not in fresh  # just signed in: not asked
    frozen_clock.set(world.now + timedelta(minutes=5, seconds=1))
    form = _form_with(admin.get(GRANTS_URL).get_data(as_text=True), "Grant support access")
    assert FIELD_LABEL in form and 'type="password" id="current_password" name="current_password"' in form
    typed = {"scope": str(world.connections["none"]), "hours": "8", "reason": "Ticket #4411"}
    before = _grant_count(app, world.workspace_a)

    missing = admin.post(GRANTS_URL, data=typed).get_data(as_text=True)
    assert _error(missing).startswith("Enter your Planwise password to confirm it is you")
    assert "Ticket #4411</textarea>" in missing and 'value="8"' in missing  # nothing typed is lost
    wrong = admin.post(GRANTS_URL, data={**typed, "current_password": "guess"}).get_data(as_text=True)
    assert _error(wrong) == "That is not your Planwise password. Enter it again to confirm it is you."
    assert _grant_count(app, world.workspace_a) == before

    granted = admin.post(GRANTS_URL, data={**typed, "current_password": PASSWORD})
    assert granted.status_code == 303
    assert _grant_count(app, world.workspace_a) == before + 1
    page = admin.get(GRANTS_URL).get_data(as_text=True)
    assert "Support can look at your diagnostics until" in page
    # Typed just now: the next grant within five minutes is not asked again.
    assert FIELD_LABEL not in _form_with(page, "Grant support access")
    assert admin.post(GRANTS_URL, data={"scope": "all", "hours": "1"}).status_code == 303


def test_accepting_a_xero_access_request_asks_for_the_password_and_keeps_the_message(app, world, flow, frozen_clock):
    frozen_clock.set(world.now)
    flow.ask()
    frozen_clock.set(world.now + timedelta(minutes=10))
    admin = flow.admin  # signed in ten minutes after support asked; the clock then moves on
    frozen_clock.set(world.now + timedelta(minutes=16))
    page = admin.get(guide_url(world)).get_data(as_text=True)
    form = _form_with(page, "Accept")
    assert FIELD_LABEL in form
    action = re.search(r'formaction="([^"]+/accept)"', form).group(1)
    answer = {"request_id": str(flow.request.id), "message": "Only ticket 7001, please"}

    refused = admin.post(action, data=answer)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert _error(text).startswith("Enter your Planwise password to confirm it is you")
    assert "Only ticket 7001, please</textarea>" in text
    assert flow.request.state == "requested"

    accepted = admin.post(action, data={**answer, "current_password": PASSWORD})
    assert accepted.status_code == 303 and flow.request.state == "accepted"
    assert "Accepted. Now invite the support user in Xero" in admin.get(accepted.headers["Location"]).get_data(
        as_text=True
    )
    assert flow.request.customer_message == "Only ticket 7001, please"


def test_declining_never_asks_for_the_password(app, world, flow, frozen_clock):
    frozen_clock.set(world.now)
    flow.ask()
    admin = flow.admin
    frozen_clock.set(world.now + timedelta(minutes=20))
    response = admin.post(guide_url(world, action="/decline"), data={"request_id": str(flow.request.id)})
    assert response.status_code == 303 and flow.request.state == "declined"


def test_how_recent_the_password_must_be_is_configurable(app, world, as_persona, frozen_clock):
    app.config["REAUTH_MINUTES"] = 1
    frozen_clock.set(world.now)
    admin = as_persona("admin")
    frozen_clock.set(world.now + timedelta(seconds=61))
    assert FIELD_LABEL in admin.get(GRANTS_URL).get_data(as_text=True)


def test_wrong_passwords_here_are_throttled_like_sign_ins(world, frozen_clock):
    from wizard import create_app
    from wizard.extensions import limiter

    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
        }
    )
    limiter.reset()
    frozen_clock.set(world.now)
    admin = app.test_client()
    assert admin.post("/login", data={"email": world.emails["admin"], "password": PASSWORD}).status_code == 303
    frozen_clock.set(world.now + timedelta(minutes=6))
    before = _grant_count(app, world.workspace_a)
    for _ in range(3):
        page = admin.post(GRANTS_URL, data={"scope": "all", "hours": "1", "current_password": "guess"})
        assert _error(page.get_data(as_text=True)).startswith("That is not your Planwise password")
    right = admin.post(GRANTS_URL, data={"scope": "all", "hours": "1", "current_password": PASSWORD})
    assert _error(right.get_data(as_text=True)) == "Too many wrong passwords. Wait a few minutes, then enter it again."
    assert _grant_count(app, world.workspace_a) == before
