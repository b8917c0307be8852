"""Each state change of a Xero access request, who may make it, and what it leaves behind
(state, timestamps, audit rows, notifications). Invalid ones are refused with a message."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from tests.xero_access.conftest import (
    audit_actions,
    grant_access_to,
    guide_url,
    notifications,
    support_url,
)
from wizard.models.xero_access import (
    STATE_LABELS,
    TRANSITIONS,
    TransitionRefused,
    XeroAccessRequest,
)

# Written out by hand, independently of wizard.models.xero_access.TRANSITIONS:
# (from state, action, actor) -> new state. Everything else must be refused.
ALLOWED = {
    ("requested", "accept", "admin"): "accepted",
    ("requested", "decline", "admin"): "declined",
    ("accepted", "decline", "admin"): "declined",
    ("accepted", "invite", "admin"): "invited",
    ("invited", "finish", "support"): "done",
    ("invited", "remove", "admin"): "removed",
    ("done", "remove", "admin"): "removed",
    ("expired_not_removed", "remove", "admin"): "removed",
    ("accepted", "expire", "system"): "expired_not_removed",
    ("invited", "expire", "system"): "expired_not_removed",
    ("done", "expire", "system"): "expired_not_removed",
}
ACTIONS = ("accept", "decline", "invite", "finish", "remove", "expire")
ACTORS = ("admin", "support", "system", "nobody")


@pytest.mark.parametrize(("state", "action", "actor"), list(product(STATE_LABELS, ACTIONS, ACTORS)))
def test_transition_table_allows_exactly_the_listed_moves(world, state, action, actor):
    request = XeroAccessRequest(state=state, days=2)
    now = world.now
    want = ALLOWED.get((state, action, actor))
    if want is None:
        with pytest.raises(TransitionRefused) as refused:
            request.apply(action, actor, now)
        assert request.state == state and str(refused.value)  # unchanged, and says why
    else:
        request.apply(action, actor, now)
        assert (request.state, request.state_changed_at) == (want, now)


def test_every_transition_in_the_code_is_one_we_expect():
    """The inverse check: nothing in the code's table that the hand-written one lacks."""
    from_code = {(source, action, t.actor): t.target for action, t in TRANSITIONS.items() for source in t.sources}
    assert from_code == ALLOWED


def test_support_asks_under_an_active_grant_and_every_admin_is_told(app, world, flow):
    response = flow.ask()
    assert response.status_code == 303
    assert response.headers["Location"].endswith(support_url(world))
    request = flow.request
    assert (request.state, request.role, request.days) == ("requested", "standard", 3)
    assert request.grant_id == world.grants["active"]
    assert request.support_email == "support@planwise.example"
    assert request.expires_at is None  # the clock starts when access can exist
    assert audit_actions(app, world.connections["active"]) == [("xero_access.requested", True, "support")]
    [note] = notifications(app, world.user_ids["admin"])
    assert "Acme Active Ltd" in note.title and note.read_at is None
    assert notifications(app, world.user_ids["other_admin"]) == []  # workspace B
    assert notifications(app, world.user_ids["viewer"]) == []


def test_round_trip_each_step_by_its_actor(app, world, flow, frozen_clock):
    t0 = world.now
    frozen_clock.set(t0)
    flow.ask()
    frozen_clock.set(t0 + timedelta(hours=1))
    assert flow.admin_does("accept", "Fine, ticket 7001 only").status_code == 303
    accepted = flow.request
    assert accepted.state == "accepted" and accepted.answered_by_id == world.user_ids["admin"]
    assert accepted.customer_message == "Fine, ticket 7001 only"
    frozen_clock.set(t0 + timedelta(hours=2))
    flow.admin_does("invited")
    invited = flow.request
    assert invited.state == "invited"
    assert invited.expires_at == t0 + timedelta(hours=2, days=3)  # from the invitation
    frozen_clock.set(t0 + timedelta(hours=5))
    assert flow.support_done().status_code == 303
    assert flow.request.state == "done" and flow.request.done_at == t0 + timedelta(hours=5)
    frozen_clock.set(t0 + timedelta(hours=6))
    flow.admin_does("removed")
    assert flow.request.state == "removed"
    assert flow.request.removed_at == t0 + timedelta(hours=6)
    assert audit_actions(app, world.connections["active"]) == [
        ("xero_access.requested", True, "support"),
        ("xero_access.accepted", True, "admin"),
        ("xero_access.invited", True, "admin"),
        ("xero_access.done", True, "support"),
        ("xero_access.removed", True, "admin"),
    ]
    kinds = [n.kind for n in notifications(app, world.user_ids["admin"])]
    assert kinds == ["xero_access.requested", "xero_access.done"]
    # Support sees the outcome in the history; nothing is open any more.
    page = flow.support.get(support_url(world)).get_data(as_text=True)
    assert "Ask the customer for access" in page and "Support user removed from Xero" in page


def test_admin_declines_with_a_message_and_support_can_ask_again(app, world, flow):
    flow.ask()
    first = flow.request.id
    flow.admin_does("decline", "Please use the diagnostics first")
    page = flow.support.get(support_url(world)).get_data(as_text=True)
    assert "Declined" in page and "Ask the customer for access" in page
    with app.app_context():
        from wizard.extensions import db

        declined = db.session.get(XeroAccessRequest, first)
        assert declined.customer_message == "Please use the diagnostics first"
    assert flow.ask(reason="Second try").status_code == 303
    assert flow.request.id != first and flow.request.state == "requested"


def test_admin_can_still_decline_after_accepting_but_not_after_inviting(flow):
    flow.ask()
    flow.admin_does("accept")
    flow.admin_does("decline")
    assert flow.request.state == "declined"
    flow.ask()
    flow.admin_does("accept")
    flow.admin_does("invited")
    response = flow.admin_does("decline")
    assert response.status_code == 303 and flow.request.state == "invited"


def test_admin_may_remove_the_user_before_support_has_finished(flow):
    flow.ask()
    flow.admin_does("accept")
    flow.admin_does("invited")
    flow.admin_does("removed")
    assert flow.request.state == "removed"
    assert flow.support_done().status_code == 303  # refused: nothing open any more
    assert flow.request.state == "removed"


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        (
            (),
            "invited",
            "Cannot mark this request as invited in Xero: it is now “Requested by support”.",
        ),
        (
            (),
            "removed",
            "Cannot mark the support user as removed in Xero: it is now “Requested by support”.",
        ),
        (
            ("accept",),
            "accept",
            "Cannot accept this request: it is now “Accepted, support user not invited yet”.",
        ),
        (
            ("accept",),
            "removed",
            "Cannot mark the support user as removed in Xero: it is now “Accepted, support user not invited yet”.",
        ),
    ],
)
def test_admin_steps_out_of_order_are_refused_with_a_clear_message(app, world, flow, steps, action, message):
    flow.ask()
    for step in steps:
        flow.admin_does(step)
    before = flow.request.state
    response = flow.admin_does(action)
    assert response.status_code == 303
    assert flow.request.state == before
    page = flow.admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not done: " + message in page
    assert audit_actions(app, world.connections["active"])[-1][1] is False


def test_support_cannot_mark_done_before_the_user_is_invited(app, world, flow):
    flow.ask()
    flow.admin_does("accept")
    response = flow.support_done()
    assert response.status_code == 303 and flow.request.state == "accepted"
    assert audit_actions(app, world.connections["active"])[-1] == (
        "xero_access.done",
        False,
        "support",
    )
    page = flow.support.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cannot mark this request as done" in page


def test_a_form_about_another_request_is_refused(flow):
    flow.ask()
    stale = flow.request.id
    flow.admin_does("decline")
    flow.ask(reason="A new question")
    response = flow.admin_does("accept", request_id=stale)
    assert flow.request.state == "requested"
    page = flow.admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "This request has changed since you opened the page" in page


def test_each_side_only_reaches_its_own_routes(world, flow, as_persona):
    flow.ask()
    assert flow.support.post(guide_url(world, action="/accept")).status_code == 403
    assert as_persona("viewer").post(guide_url(world, action="/accept")).status_code == 403
    assert as_persona("viewer").get(guide_url(world)).status_code == 403
    assert as_persona("other_admin").get(guide_url(world)).status_code == 404
    assert flow.admin.post(support_url(world, action="/done")).status_code == 403
    assert flow.request.state == "requested"


def test_the_service_refuses_a_transition_made_by_the_wrong_actor(app, world, flow):
    """Server-side, beyond the routes: the actor comes from the signed-in user's role."""
    from flask_login import login_user

    from wizard.extensions import db
    from wizard.models import Connection, User
    from wizard.support import xero_access

    flow.ask()
    rid = str(flow.request.id)
    with app.test_request_context():
        connection = db.session.get(Connection, world.connections["active"])
        login_user(db.session.get(User, world.user_ids["support"]))
        with pytest.raises(TransitionRefused, match="Only a workspace admin can accept"):
            xero_access.transition(connection, "accept", rid)
        login_user(db.session.get(User, world.user_ids["other_admin"]))
        with pytest.raises(TransitionRefused, match="Only a workspace admin"):
            xero_access.transition(connection, "accept", rid)
    assert flow.request.state == "requested"


def test_requests_need_an_active_grant_on_that_connection(app, world, as_persona):
    support = as_persona("support")
    for state in ("none", "expired", "revoked"):
        assert support.get(support_url(world, state)).status_code == 404
        response = support.post(
            support_url(world, state),
            data={"reason": "x", "days": "2", "role": "standard"},
        )
        assert response.status_code == 404
        assert audit_actions(app, world.connections[state])[-1][1] is False
    with app.app_context():
        from sqlalchemy import func, select

        from wizard.extensions import db

        assert db.session.scalar(select(func.count()).select_from(XeroAccessRequest)) == 0


def test_each_organisation_has_its_own_request(app, world, as_persona, flow):
    from tests.xero_access.conftest import Flow

    grant_access_to(app, world, "none")
    other = Flow(app, world, as_persona, state="none")
    flow.ask()
    other.ask(reason="Bank feed question", role="read_only")
    flow.admin_does("accept")
    assert (flow.request.state, other.request.state) == ("accepted", "requested")
    assert other.request.connection_name == "Acme None Ltd"
    # A second request on the same organisation waits for the first to finish.
    again = flow.ask(reason="Another one")
    assert again.status_code == 200
    assert "already has an open request" in again.get_data(as_text=True)
    page = flow.admin.get("/data").get_data(as_text=True)
    assert page.count("data-xero-access-notice=") == 2
    assert "Acme None Ltd" in page and "Acme Active Ltd" in page


def test_the_admins_see_every_transition_in_the_audit_log(app, world, flow):
    flow.ask()
    flow.admin_does("accept")
    flow.admin_does("invited")
    flow.support_done()
    guide = flow.admin.get(guide_url(world)).get_data(as_text=True)
    for action in ("requested", "accepted", "invited", "done"):
        assert guide.count(f'data-audit-action="xero_access.{action}"') == 1
    assert "Asked for temporary access to Xero" in guide and "support@planwise.test" in guide
    # ... and under the diagnostics grant the request was asked under.
    grant_page = flow.admin.get(f"/settings/support-access/{world.grants['active']}").get_data(as_text=True)
    assert 'data-audit-action="xero_access.invited"' in grant_page
    assert "Support finished in Xero" in grant_page
