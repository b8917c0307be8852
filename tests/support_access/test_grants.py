"""The customer's side: a workspace admin grants, reviews and revokes support access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from wizard.extensions import db
from wizard.models import AuditEvent, SupportGrant

GRANTS_URL = "/settings/support-access"


def _grants(app, workspace_id):
    with app.app_context():
        return db.session.scalars(
            select(SupportGrant).where(SupportGrant.workspace_id == workspace_id).order_by(SupportGrant.id)
        ).all()


def test_support_access_page_is_a_full_page_and_an_htmx_fragment(as_persona):
    admin = as_persona("admin")
    page = admin.get(GRANTS_URL)
    assert page.status_code == 200 and b"<html" in page.data
    assert b"Grant support access" in page.data and b"Acme Active Ltd" in page.data
    assert page.headers["Cache-Control"] == "no-store"
    fragment = admin.get(GRANTS_URL, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and b"<html" not in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]


def test_admin_grants_one_connection_for_the_default_24_hours(app, as_persona, world, frozen_clock):
    frozen_clock.set(world.now)
    admin = as_persona("admin")
    response = admin.post(
        GRANTS_URL,
        data={
            "scope": str(world.connections["none"]),
            "hours": "24",
            "reason": "Ticket #4411: invoices missing",
        },
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(GRANTS_URL)
    grant = _grants(app, world.workspace_a)[-1]
    assert grant.connection_id == world.connections["none"] and not grant.all_connections
    assert grant.expires_at == world.now + timedelta(hours=24)
    assert grant.reason == "Ticket #4411: invoices missing"
    assert grant.granted_by_id == world.user_ids["admin"]
    page = admin.get(GRANTS_URL).get_data(as_text=True)
    assert "Ticket #4411: invoices missing" in page and "Access granted" in page
    assert f'data-grant-id="{grant.id}" data-grant-status="active"' in page


def test_the_form_offers_24_hours_and_all_connections_by_default(as_persona):
    page = as_persona("admin").get(GRANTS_URL).get_data(as_text=True)
    assert 'name="hours" min="1" max="168" step="1" list="durations" value="24"' in page
    assert '<option value="all" selected>' in page


def test_an_all_connections_grant_covers_connections_added_later(app, as_persona, world):
    admin = as_persona("admin")
    admin.post(GRANTS_URL, data={"scope": "all", "hours": "1"})
    grant = _grants(app, world.workspace_a)[-1]
    assert grant.all_connections and grant.connection_id is None
    support = as_persona("support")
    assert support.get(f"/support/connections/{world.connections['none']}").status_code == 200
    assert support.get(f"/support/connections/{world.connection_b}").status_code == 404


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("0", "from 1 hour to 7 days"),
        ("169", "from 1 hour to 7 days"),
        ("abc", "from 1 hour to 7 days"),
        ("", "from 1 hour to 7 days"),
        ("-3", "from 1 hour to 7 days"),
        ("²", "from 1 hour to 7 days"),
        ("9" * 30, "from 1 hour to 7 days"),
    ],
)
def test_a_bad_duration_is_explained_next_to_the_field_and_nothing_is_lost(app, as_persona, world, hours, message):
    admin = as_persona("admin")
    response = admin.post(
        GRANTS_URL,
        data={
            "scope": str(world.connections["none"]),
            "hours": hours,
            "reason": "Ticket #77 keep me",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<p class="error" id="hours-error">Choose a duration {message}' in page
    assert 'aria-describedby="hours-help hours-error" aria-invalid="true"' in page
    assert "Ticket #77 keep me</textarea>" in page
    assert f'<option value="{world.connections["none"]}" selected>' in page
    assert len(_grants(app, world.workspace_a)) == 3  # only the world's grants


def test_another_workspaces_connection_cannot_be_granted(app, as_persona, world):
    response = as_persona("admin").post(GRANTS_URL, data={"scope": str(world.connection_b), "hours": "4"})
    assert response.status_code == 200
    assert 'id="scope-error">Choose one of your connections, or all of them.' in response.get_data(as_text=True)
    assert len(_grants(app, world.workspace_a)) == 3 and _grants(app, world.workspace_b) == []


@pytest.mark.parametrize("scope", ["²", "9" * 30, "0"])
def test_a_scope_that_is_no_id_is_explained_and_grants_nothing(app, as_persona, world, scope):
    response = as_persona("admin").post(GRANTS_URL, data={"scope": scope, "hours": "4"})
    assert response.status_code == 200
    assert 'id="scope-error">Choose one of your connections, or all of them.' in response.get_data(as_text=True)
    assert len(_grants(app, world.workspace_a)) == 3


def test_a_reason_over_500_characters_is_refused_and_kept(as_persona):
    response = as_persona("admin").post(GRANTS_URL, data={"scope": "all", "hours": "24", "reason": "x" * 501})
    page = response.get_data(as_text=True)
    assert 'id="reason-error">Keep the reason under 500 characters (it has 501).' in page
    assert "x" * 501 + "</textarea>" in page


def test_revoking_ends_access_at_the_next_request(app, as_persona, world):
    support = as_persona("support")
    doctor_url = f"/support/connections/{world.connections['active']}"
    assert support.get(doctor_url).status_code == 200
    admin = as_persona("admin")
    response = admin.post(f"{GRANTS_URL}/{world.grants['active']}/revoke")
    assert response.status_code == 303
    assert support.get(doctor_url).status_code == 404
    page = admin.get(f"{GRANTS_URL}/{world.grants['active']}").get_data(as_text=True)
    assert "Access revoked" in page and "Denied" in page and "Revoked" in page


def test_revoking_twice_keeps_the_first_revocation(app, as_persona, world):
    admin = as_persona("admin")
    admin.post(f"{GRANTS_URL}/{world.grants['active']}/revoke")
    with app.app_context():
        first = db.session.get(SupportGrant, world.grants["active"]).revoked_at
    admin.post(f"{GRANTS_URL}/{world.grants['active']}/revoke")
    with app.app_context():
        assert db.session.get(SupportGrant, world.grants["active"]).revoked_at == first
        assert (
            db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "grant.revoked"))
            == 1
        )


def test_another_workspaces_admin_can_neither_see_nor_revoke_a_grant(app, as_persona, world):
    other = as_persona("other_admin")
    assert other.get(f"{GRANTS_URL}/{world.grants['active']}").status_code == 404
    assert other.post(f"{GRANTS_URL}/{world.grants['active']}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(SupportGrant, world.grants["active"]).revoked_at is None
    assert b"ticket active" not in other.get(GRANTS_URL).data


def test_viewers_and_support_cannot_grant(app, as_persona, world):
    for persona in ("viewer", "support"):
        client = as_persona(persona)
        assert client.get(GRANTS_URL).status_code == 403
        assert client.post(GRANTS_URL, data={"scope": "all", "hours": "24"}).status_code == 403
    assert len(_grants(app, world.workspace_a)) == 3


def test_admin_sees_attempts_no_grant_covered(as_persona, world):
    as_persona("support").get(f"/support/connections/{world.connections['none']}")
    page = as_persona("admin").get(GRANTS_URL).get_data(as_text=True)
    assert "Attempts without access" in page and "support@planwise.test" in page
